"""Reading a workbook safely, in a process of its own (native.py) with at most READ_MEMORY of
address space and READ_SECONDS of time: there guard.py checks the bytes (the zip, XML
declarations, how far the sheets reach) before python-calamine sees any of them, then
calamine reads every sheet as rows of values, row 1 first, so row numbers are the
spreadsheet's own. Whatever the checks did not foresee, and the checks' own cost, is then a
refused file, never the web server, the collector or the command line. The size and kind of
the file are told here first (guard.preflight), before a process is started.

The reading process is a fresh interpreter (fork and exec, safe from a multithreaded server;
about 40 ms), not a multiprocessing child: multiprocessing's spawn and forkserver import the
caller's main module again in every child. At most READERS run at once per process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.workbook.guard import MAX_BYTES, Unreadable, mb, preflight
from dashboard.workbook.native import OUT_OF_MEMORY, untagged

__all__ = ["MAX_BYTES", "RawWorkbook", "Unreadable", "read"]

READ_MEMORY = 1536 * 2**20  # address space of the reading process; the stress workbook takes ~300 MiB
READ_SECONDS = 30  # the stress workbook (5 sheets × 10,000 rows) reads in about a second
READERS = 2  # reading processes at once, per server or collector process
NATIVE = Path(__file__).with_name("native.py")
# python-calamine's folder: the reading process starts without `site` (-S), so with no .pth
# files to run (an editable install's finder alone cost ~30 ms a start), and is told this
_CALAMINE = importlib.util.find_spec("python_calamine")
LIBRARY = os.path.dirname(os.path.dirname(_CALAMINE.origin if _CALAMINE and _CALAMINE.origin else ""))
# Rust aborts when an allocation fails; the kernel's OOM killer sends SIGKILL
_MEMORY_SIGNALS = {signal.SIGABRT, signal.SIGKILL}

_slots = threading.BoundedSemaphore(READERS)


@dataclass
class RawWorkbook:
    sheets: dict[str, list[list[Any]]]  # sheet name -> rows (row 1 first)


def read(data: bytes) -> RawWorkbook:
    preflight(data)
    return RawWorkbook(_native(data))


def _native(data: bytes) -> dict[str, list[list[Any]]]:
    command = [sys.executable, "-I", "-S", str(NATIVE), str(READ_MEMORY), str(READ_SECONDS + 5), LIBRARY]
    with _slots:
        try:
            child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        except OSError as err:  # no memory or processes left to start the reader: a refusal too
            raise Unreadable("read_crashed", detail=f"ei käynnisty ({err.strerror or err})") from None
        try:
            out, _ = child.communicate(data, timeout=READ_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise Unreadable("read_timeout", seconds=READ_SECONDS) from None
    if child.returncode != 0:
        raise _died(child.returncode)
    try:
        answer = json.loads(out, object_hook=untagged)
    except (ValueError, TypeError, OverflowError):
        raise Unreadable("read_crashed", detail="?") from None
    if "unreadable" in answer:
        raise Unreadable(answer["unreadable"], **answer["kw"])
    if "corrupt" in answer:
        raise Unreadable("corrupt", detail=answer["corrupt"])
    if "crashed" in answer:
        raise Unreadable("read_crashed", detail=answer["crashed"])
    return answer["sheets"]  # type: ignore[no-any-return]


def _died(status: int) -> Unreadable:
    if status == OUT_OF_MEMORY or -status in _MEMORY_SIGNALS:
        return Unreadable("read_memory", limit=mb(READ_MEMORY))
    try:
        detail = signal.Signals(-status).name if status < 0 else f"exit {status}"
    except ValueError:
        detail = f"signal {-status}"
    return Unreadable("read_crashed", detail=detail)
