"""The reading process, run by reader.py as `python -I -S native.py MEMORY SECONDS LIBRARY`
(LIBRARY: the folder holding python-calamine, since `site` is not run). It limits its own
address space and CPU time, reads the workbook from standard input, checks it (guard.py)
and only then hands the checked parts to python-calamine. On standard output, as JSON:
{"sheets": {name: rows}} (dates and times tagged), {"unreadable": key, "kw": {...}} when the
checks refuse the file, {"corrupt": reason} when calamine does, {"crashed": reason} when
calamine panics. A MemoryError ends it with status OUT_OF_MEMORY. It imports nothing of the
project but guard.py, by its path."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import resource
import sys
from datetime import date, datetime, time, timedelta

TYPE_CHECKING = False  # this process starts for every workbook: no typing, no pathlib
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

OUT_OF_MEMORY = 3


def tagged(value: Any) -> Any:
    """JSON for the cell values calamine gives beside str, int, float and bool."""
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": value.total_seconds()}
    raise TypeError(type(value).__name__)


def untagged(obj: dict[str, Any]) -> Any:
    """The value of a tag; any other object as it is (a sheet named "$d" maps to its rows, a
    list, never to a string or a number)."""
    if len(obj) == 1:
        (tag, v), = obj.items()
        if isinstance(v, str):
            if tag == "$dt":
                return datetime.fromisoformat(v)
            if tag == "$d":
                return date.fromisoformat(v)
            if tag == "$t":
                return time.fromisoformat(v)
        if tag == "$td" and isinstance(v, float):
            return timedelta(seconds=v)
    return obj


def first_line(err: BaseException) -> str:
    return (str(err).splitlines() or [type(err).__name__])[0][:200]


def guard_module() -> ModuleType:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guard.py")
    spec = importlib.util.spec_from_file_location("workbook_guard", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def answer(data: bytes) -> dict[str, Any]:
    guard = guard_module()
    try:
        safe = guard.check(data)
    except guard.Unreadable as err:
        return {"unreadable": err.key, "kw": err.kw}
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(safe.data))
        return {"sheets": {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
                           for name in wb.sheet_names}}
    except MemoryError:
        raise
    except Exception as err:  # calamine raises its own error types for every kind of damage
        return {"corrupt": first_line(err)}
    except BaseException as err:  # pyo3's PanicException: a Rust panic (one follows a failed allocation)
        if isinstance(err, (SystemExit, KeyboardInterrupt)):
            raise
        return {"crashed": f"{type(err).__name__}: {first_line(err)}"}


def main(memory: int, seconds: int, library: str = "") -> None:
    if library:
        sys.path.append(library)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    try:
        out = answer(sys.stdin.buffer.read())
        sys.stdout.buffer.write(json.dumps(out, default=tagged, ensure_ascii=False).encode())
        sys.stdout.flush()
    except MemoryError:
        os._exit(OUT_OF_MEMORY)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:4])
