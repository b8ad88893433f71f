"""The fault-test utilities of tests/servers.py do what they say, and can fail.

Everything here runs on servers of the test's own (echo servers, a redis-server and a
sentinel on free ports); the machine's shared Redis and PostgreSQL are never touched.
"""

from __future__ import annotations

import os
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.conftest import free_port, wait_for
from tests.servers import RedisSentinel, RedisServer, TcpProxy


class _Echo(socketserver.BaseRequestHandler):
    """Echoes every byte back; closes its side once the client has half-closed."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        try:
            while data := sock.recv(65536):
                sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except ConnectionError:  # a cut() resets the server side too: not the echo's fault
            pass


class EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # many connections at once must not overflow the backlog

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server_address[:2]
        return (str(host), int(port))


def _start_echo() -> tuple[EchoServer, threading.Thread]:
    server = EchoServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return server, thread


def _stop_echo(server: EchoServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(5)


def _echo() -> Iterator[EchoServer]:
    server, thread = _start_echo()
    try:
        yield server
    finally:
        _stop_echo(server, thread)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    yield from _echo()


@pytest.fixture
def echo2() -> Iterator[EchoServer]:
    yield from _echo()


@pytest.fixture
def proxy(echo: EchoServer) -> Iterator[TcpProxy]:
    with TcpProxy([echo.address]) as p:
        yield p
        assert p.errors == []


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


def connect(proxy: TcpProxy, timeout: float = 5) -> socket.socket:
    return socket.create_connection(proxy.address, timeout=timeout)


def roundtrip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    got = b""
    while len(got) < n and (chunk := sock.recv(n - len(got))):
        got += chunk
    return got


def read_to_eof(sock: socket.socket) -> bytes:
    parts = []
    while chunk := sock.recv(65536):
        parts.append(chunk)
    return b"".join(parts)


def no_retry() -> Retry:
    """redis-py retries a failed command by default; these tests want to see the failure."""
    return Retry(NoBackoff(), 0)


def proxy_target(proxy: TcpProxy) -> tuple[str, int]:
    (target,) = proxy.forwarded
    return target


def proxy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("TcpProxy:")]


# ---- TcpProxy ----------------------------------------------------------------------------


def test_proxy_forwards_bytes_both_ways_and_passes_a_half_close(proxy: TcpProxy) -> None:
    """A megabyte goes through and back, and the client's FIN reaches the server (which then
    closes), so the client reads to EOF: request/response protocols depend on that."""
    payload = os.urandom(1 << 20)
    with connect(proxy) as sock:
        assert roundtrip(sock, b"hello") == b"hello"

        def send() -> None:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        got = read_to_eof(sock)
        sender.join(5)
    assert got == payload
    with connect(proxy) as sock:  # a FIN with no data, likely before the upstream is connected
        sock.shutdown(socket.SHUT_WR)
        assert read_to_eof(sock) == b""
    assert proxy.forwarded == {proxy_target(proxy): 2}


def test_cut_fails_fast_and_restore_forwards_again_on_the_same_port(proxy: TcpProxy) -> None:
    """cut(): an open connection reads EOF at once and a new one is refused, not left
    hanging; restore(): the same address works again."""
    port = proxy.port
    with connect(proxy) as sock:
        assert roundtrip(sock, b"before") == b"before"
        proxy.cut()
        assert proxy.mode == "cut"
        sock.settimeout(2)
        try:
            assert sock.recv(100) == b""
        except ConnectionResetError:
            pass
    with pytest.raises(ConnectionRefusedError):
        connect(proxy, timeout=2)

    proxy.restore()
    assert proxy.port == port
    with connect(proxy) as sock:
        assert roundtrip(sock, b"after") == b"after"


def test_cut_with_reset_makes_a_read_raise(proxy: TcpProxy) -> None:
    with connect(proxy) as sock:
        assert roundtrip(sock, b"x") == b"x"
        proxy.cut(reset=True)
        sock.settimeout(2)
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
    proxy.restore()
    with connect(proxy) as sock:
        assert roundtrip(sock, b"y") == b"y"


def test_blackhole_makes_reads_time_out_and_restore_delivers(proxy: TcpProxy) -> None:
    """A hung peer: connections stay open (old and new), nothing comes back; after
    restore() what was sent meanwhile is delivered."""
    with connect(proxy) as old:
        assert roundtrip(old, b"ping") == b"ping"
        proxy.blackhole()
        old.settimeout(0.5)
        old.sendall(b"lost?")
        with pytest.raises(TimeoutError):
            old.recv(100)
        with connect(proxy) as new:  # accepted, not refused
            new.settimeout(0.5)
            new.sendall(b"queued")
            with pytest.raises(TimeoutError):
                new.recv(100)
            proxy.restore()
            new.settimeout(5)
            assert recv_exactly(new, 6) == b"queued"
        old.settimeout(5)
        assert recv_exactly(old, 5) == b"lost?"


def test_round_robin_over_two_servers_skipping_a_dead_one(echo: EchoServer,
                                                          echo2: EchoServer) -> None:
    """A load balancer: connections alternate between targets; one that refuses is skipped."""
    dead = ("127.0.0.1", free_port())
    with TcpProxy([echo.address, dead, echo2.address]) as lb:
        for i in range(6):
            with connect(lb) as sock:
                assert roundtrip(sock, b"%d" % i) == b"%d" % i
        assert lb.forwarded[dead] == 0
        assert lb.forwarded[echo.address] >= 2 and lb.forwarded[echo2.address] >= 2
        assert sum(lb.forwarded.values()) == 6


def test_no_target_answering_resets_the_client() -> None:
    """The client is reset at once (at connect or first read, as the race goes), not hung."""
    with TcpProxy([("127.0.0.1", free_port())]) as lb:
        with pytest.raises(ConnectionResetError), connect(lb, timeout=2) as sock:
            roundtrip(sock, b"anyone?")
        assert lb.open_connections == 0


def test_hundreds_of_concurrent_connections_and_no_thread_left(echo: EchoServer) -> None:
    before = len(proxy_threads())
    lb = TcpProxy([echo.address]).start()
    try:
        socks = [connect(lb) for _ in range(300)]
        try:
            for i, s in enumerate(socks):
                s.sendall(b"message %03d" % i)
            for i, s in enumerate(socks):
                assert recv_exactly(s, 11) == b"message %03d" % i
            assert lb.open_connections == 300
        finally:
            for s in socks:
                s.close()
        wait_for(lambda: lb.open_connections == 0, timeout=5, what="connections to close")
        assert lb.errors == []
    finally:
        lb.close()
    assert len(proxy_threads()) == before
    with pytest.raises(ConnectionRefusedError):  # the port is free again: nothing listens
        connect(lb, timeout=2)


# ---- RedisServer -------------------------------------------------------------------------


def test_redis_kill_and_restart_keeps_an_acknowledged_write(redis_server: RedisServer) -> None:
    """appendfsync always: what was acknowledged before a SIGKILL is there after restart."""
    port, pid = redis_server.port, redis_server.pid
    with redis_server.client() as client:
        client.set("acknowledged", "yes")
        client.rpush("list", *range(100))
    redis_server.kill()
    assert not redis_server.running and pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(redis.ConnectionError), redis_server.client(retry=no_retry()) as c:
        c.ping()

    redis_server.restart()
    assert redis_server.port == port and redis_server.pid != pid
    with redis.Redis.from_url(redis_server.url(0)) as client:
        assert client.get("acknowledged") == b"yes"
        assert client.llen("list") == 100


def test_redis_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "bad", config=["no-such-directive yes"])
    with pytest.raises(RuntimeError, match="(?i)bad directive"):
        server.start(timeout=5)
    assert not server.running


def test_redis_client_through_a_cut_proxy_sees_connection_error(
        redis_server: RedisServer) -> None:
    """The Redis fault the app must survive, without killing Redis: the path to it breaks."""
    with TcpProxy([redis_server.address]) as path:
        client = redis.Redis(host=path.host, port=path.port, socket_timeout=2,
                             socket_connect_timeout=2, retry=no_retry())
        try:
            client.set("k", "v")
            path.cut()
            with pytest.raises(redis.ConnectionError):
                client.get("k")
            with pytest.raises(redis.ConnectionError):  # a new connection is refused too
                client.get("k")
            path.restore()
            assert client.get("k") == b"v"
        finally:
            client.close()


def test_redis_client_through_a_blackhole_times_out(redis_server: RedisServer) -> None:
    with TcpProxy([redis_server.address]) as path:
        client = redis.Redis(host=path.host, port=path.port, socket_timeout=0.5,
                             retry=no_retry())
        try:
            assert client.ping()
            path.blackhole()
            with pytest.raises(redis.TimeoutError):
                client.ping()
            path.restore()
            assert client.ping()
        finally:
            client.close()


# ---- RedisSentinel -----------------------------------------------------------------------


def test_sentinel_names_the_master_and_a_master_for_client_works(
        redis_server: RedisServer, tmp_path: Path) -> None:
    with RedisSentinel(redis_server, tmp_path / "sentinel", "ohjaustaulu") as sentinel:
        with sentinel.client() as c:
            host, port = c.sentinel_get_master_addr_by_name("ohjaustaulu")
        assert (host, int(port)) in {(b"127.0.0.1", redis_server.port),
                                     ("127.0.0.1", redis_server.port)}
        master = sentinel.sentinel().master_for("ohjaustaulu", socket_timeout=2)
        try:
            master.set("via-sentinel", "1")
            assert master.get("via-sentinel") == b"1"
        finally:
            master.close()
    with redis_server.client() as direct:
        assert direct.get("via-sentinel") == b"1"


def test_sentinel_promotes_the_replica_when_the_master_is_killed(tmp_path: Path) -> None:
    """quorum 1 and down-after 1 s make a real failover quick enough for a unit test."""
    with RedisServer(tmp_path / "master") as master:
        with RedisServer(tmp_path / "replica",
                         config=[f"replicaof {master.host} {master.port}"]) as replica:
            with master.client() as c:
                c.set("before-failover", "kept")
                c.wait(1, 5000)  # the replica has it
            with RedisSentinel(master, tmp_path / "sentinel") as sentinel, \
                    sentinel.client() as ask:
                wait_for(lambda: ask.sentinel_slaves("ohjaustaulu"),
                         timeout=15, what="the sentinel to find the replica")
                master.kill()
                # get-master-addr-by-name names the replica while the failover still runs;
                # redis-py's master_for waits for a master the sentinel no longer flags down
                ask_redis_py = sentinel.sentinel()
                wait_for(lambda: ask_redis_py.discover_master("ohjaustaulu") == replica.address,
                         timeout=20, what="failover to the replica")
                assert sentinel.master_addr() == replica.address
                client = ask_redis_py.master_for("ohjaustaulu", socket_timeout=2)
                try:
                    assert client.get("before-failover") == b"kept"
                    client.set("after-failover", "1")
                finally:
                    client.close()


def test_nothing_is_left_running(tmp_path: Path) -> None:
    """stop() ends the process it started, and a context manager always does."""
    server = RedisServer(tmp_path / "r")
    with pytest.raises(ZeroDivisionError), server:
        pid = server.pid
        _ = 1 / 0
    assert not server.running and pid is not None
    with pytest.raises(ProcessLookupError):  # stop() waited for it: it is gone
        os.kill(pid, 0)
