"""Scratch (being written)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import EXAMPLE_CONFIG, free_port  # noqa: E402

EXE = str(Path(sys.executable).parent / "ohjaustaulu")
TOKEN_LINE = re.compile(r"wall display \((\w+)\): (\S+)/display/([^?\s]+)\?token=(\S+)")


class System:
    """`ohjaustaulu demo` (simulated feeds, collectors, demo clock; its web port idle) and
    `ohjaustaulu serve --workers W` (the server under load) on one temporary data folder."""

    def __init__(self, workers: int):
        self.workers = workers
        self.tmp = Path(tempfile.mkdtemp(prefix="ot-displays-"))
        self.data = self.tmp / "data"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tokens: dict[str, str] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("OHJAUSTAULU_") and k not in ("REDIS_URL", "DATABASE_URL")}
        self.env["PYTHONUNBUFFERED"] = "1"

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the folder
        proc = subprocess.Popen([EXE, *args, "--config", str(EXAMPLE_CONFIG), "--data-dir", str(self.data)],
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        demo = self._start("demo", "demo", "--port", str(free_port()))
        deadline = time.monotonic() + 120
        while "data folder:" not in self.log("demo"):
            if demo.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the demo did not start:\n{self.log('demo')[-3000:]}")
            time.sleep(0.2)
        for m in TOKEN_LINE.finditer(self.log("demo")):
            self.tokens[m.group(3)] = m.group(4)
        self.serve = self._start("serve", "serve", "--workers", str(self.workers), "--port", str(self.port))
        deadline = time.monotonic() + 120
        while True:
            if self.serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{self.log('serve')[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200 and len(self.server_processes()) > self.workers:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        self.demo = demo

    def server_processes(self) -> list[psutil.Process]:
        """The serve process and its workers (and whatever else it started)."""
        try:
            main = psutil.Process(self.serve.pid)
            return [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def redis_process(self) -> psutil.Process | None:
        try:
            pid = int((self.data / "redis.pid").read_text().strip())
            proc = psutil.Process(pid)
            return proc if str(self.data) in " ".join(proc.cmdline()) else None
        except (OSError, ValueError, psutil.Error):
            return None

    def stop(self) -> None:
        """Stop everything this bench started, whatever state it is in, and remove the folder."""
        redis_proc = self.redis_process()
        for proc in reversed(self.procs):
            kids = []
            try:
                kids = psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                pass
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            for kid in kids:  # workers left behind by a killed parent
                try:
                    kid.kill()
                except psutil.Error:
                    pass
        from dashboard import embedded

        embedded.stop(self.data)  # the embedded live store of this data folder only
        if redis_proc is not None:
            try:
                redis_proc.wait(timeout=5)
            except psutil.TimeoutExpired:
                redis_proc.kill()
            except psutil.Error:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
