"""What operators watch: structured logs and Prometheus metrics.

Metrics come from two places, both on `/metrics`:
- counted where things happen (this process): request latency per route, and — where the
  collectors run in the same process (the demo, `collect --metrics-port`) — poll durations
  and failures per source and which leases this process holds;
- read from the live store when scraped (whichever process polls): each source's state,
  failures and last poll, each screen's heartbeat age, the history queue's length. So the
  web tier's `/metrics` tells the whole story even when the collectors run on other hosts.

Several web workers (`serve --workers N`) share one set of figures through
prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by `serve`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from dashboard.web.screens import SILENT_AFTER_SECONDS

log = logging.getLogger("ohjaustaulu.http")

REQUEST_SECONDS = Histogram(
    "ohjaustaulu_http_request_duration_seconds", "Time to answer an HTTP request, by route",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POLL_SECONDS = Histogram(
    "ohjaustaulu_poll_duration_seconds", "Time of one poll of a source (fetch, normalise, write)",
    ["source"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
POLL_FAILURES = Counter("ohjaustaulu_poll_failures_total",
                        "Polls of a source that failed (source unavailable or invalid data)", ["source"])
FAST_POLLS = Counter("ohjaustaulu_fast_polls_total",
                     "Wall display polls answered without Dash (layouts/fastpoll.py), by status",
                     ["status"])
LEASE_HELD = Gauge("ohjaustaulu_lease_held", "1 while this collector process holds the job's lease",
                   ["job", "holder"], multiprocess_mode="livemax")

SLOW_REQUEST_SECONDS = 1.0  # requests slower than this are logged, with their route


def configure_logging(fmt: str | None = None, level: int = logging.INFO) -> None:
    """Text lines for a person at a terminal, or one JSON object per line (`--log-format
    json` or OHJAUSTAULU_LOG_FORMAT=json) for a log shipper: time, level, logger, message and
    the fields a record carries (source, display, route, duration_ms, ...)."""
    fmt = fmt or os.environ.get("OHJAUSTAULU_LOG_FORMAT") or "text"
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
            datefmt="%Y-%m-%dT%H:%M:%S%z"))
    elif fmt == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        raise ValueError(f"log format {fmt!r}: expected 'text' or 'json'")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def first_line(err: BaseException) -> str:
    """An error in one line, for a log or a health answer (a driver's message can run on)."""
    text = str(err)
    return text.splitlines()[0] if text.strip() else type(err).__name__


class Episode:
    """Something that fails many times a second while it is down (every screen's request
    when the live store is away) is logged once when it goes and once when it is back."""

    def __init__(self, logger: logging.Logger, what: str):
        self.log, self.what = logger, what
        self.down = False
        self._lock = threading.Lock()

    def failed(self, err: BaseException) -> None:
        with self._lock:
            if not self.down:
                self.down = True
                self.log.warning("%s: unavailable (%s)", self.what, first_line(err),
                                 extra={"unavailable": self.what})

    def ok(self) -> None:
        if self.down:
            with self._lock:
                if self.down:
                    self.down = False
                    self.log.warning("%s: back", self.what)


# -- request latency -------------------------------------------------------------------------

_ROUTES = [
    (re.compile(r"^/display/[^/]+$"), "/display/{id}"),
    (re.compile(r"^/api/snapshot/[^/]+$"), "/api/snapshot/{id}"),
    (re.compile(r"^/api/screens/[^/]+$"), "/api/screens/{id}"),
    (re.compile(r"^/(assets|_dash-component-suites)/"), "/{static}"),
]
_KNOWN = {"/", "/health", "/ready", "/metrics", "/_dash-update-component", "/_dash-layout",
          "/_dash-dependencies", "/api/heartbeat", "/tablet", "/history", "/admin", "/login",
          "/logout", "/history/export.csv", "/history/export.xlsx", "/history/print",
          "/admin/audit.csv", "/tablet/template.xlsx", "/tablet/upload", "/login/oidc",
          "/login/oidc/callback"}


def route_of(path: str) -> str:
    """A route name with few values (ids left out), for the latency metric's label."""
    if path in _KNOWN:
        return path
    for pattern, name in _ROUTES:
        if pattern.match(path):
            return name
    return "other"


class RequestMetrics:
    """ASGI middleware: every HTTP request's time by route, method and status; slow ones
    and server errors also logged. Plain ASGI, so it costs microseconds, not a task."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            took = time.perf_counter() - start
            route = route_of(scope.get("path", ""))
            REQUEST_SECONDS.labels(route, scope.get("method", ""), str(status)).observe(took)
            if status >= 500 or took > SLOW_REQUEST_SECONDS:
                log.warning("%s %s answered %d in %.0f ms", scope.get("method"), route, status,
                            took * 1000, extra={"route": route, "status": status,
                                                "duration_ms": round(took * 1000, 1)})


# -- what the live store knows, read when scraped ----------------------------------------------

class StoreCollector:
    """Sources, screens and the history queue as the live store has them now."""

    def __init__(self, store: Any, config: Any):
        self.store, self.config = store, config

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("ohjaustaulu_live_store_up", "1 when the live store (Redis) answers")
        try:
            self.store.ping()
        except Exception:  # any failure to answer is 'down'
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = datetime.now(UTC)
        state = GaugeMetricFamily("ohjaustaulu_source_up", "1 when the source's last poll succeeded",
                                  labels=["source"])
        age = GaugeMetricFamily("ohjaustaulu_source_success_age_seconds",
                                "Seconds since the source's last successful poll", labels=["source"])
        took = GaugeMetricFamily("ohjaustaulu_source_last_poll_seconds",
                                 "How long the source's last poll took", labels=["source"])
        failures = CounterMetricFamily("ohjaustaulu_source_failures",
                                       "Failed polls of the source, counted in the live store",
                                       labels=["source"])
        for source in self.config.sources:
            st = self.store.source_status(source.name)
            state.add_metric([source.name], 1 if st.state == "ok" else 0)
            if st.last_success:
                when = datetime.fromisoformat(st.last_success)
                age.add_metric([source.name], max(0.0, (now - when).total_seconds()))
            counts = self.store.poll_counts(source.name)
            if counts.get("last_poll_seconds") is not None:
                took.add_metric([source.name], counts["last_poll_seconds"])
            failures.add_metric([source.name], counts.get("failures", 0))
        yield from (state, age, took, failures)
        beats = GaugeMetricFamily("ohjaustaulu_screen_heartbeat_age_seconds",
                                  "Seconds since the screen's last heartbeat", labels=["screen", "display"])
        alive = GaugeMetricFamily("ohjaustaulu_screens", "Screens by heartbeat state", labels=["state"])
        counts_by_state = {"alive": 0, "silent": 0}
        epoch = now.timestamp()
        for beat in self.store.screens():
            seconds = max(0.0, epoch - float(beat["seen_at_epoch"]))
            beats.add_metric([str(beat["screen"]), str(beat["display"])], seconds)
            counts_by_state["silent" if seconds > SILENT_AFTER_SECONDS else "alive"] += 1
        for name, n in counts_by_state.items():
            alive.add_metric([name], n)
        backlog = GaugeMetricFamily("ohjaustaulu_history_queue_length",
                                    "Changes waiting in the live store for the history database")
        backlog.add_metric([], self.store.history_backlog())
        yield from (beats, alive, backlog)


def metrics_allowed(config: Any, address: str | None, authorization: str | None) -> bool:
    """/metrics answers to the addresses `[site] metrics_allow` names, or to the bearer token
    in the variable `[site] metrics_token_env` names."""
    token_env = config.site.metrics_token_env
    token = os.environ.get(token_env) if token_env else None
    if token and authorization and secrets.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in config.site.metrics_allow)


def exposition(store: Any, config: Any) -> bytes:
    """The text a Prometheus scrape gets: this process's (or every worker's) figures, then
    the live store's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
        own = generate_latest(counted)
    else:
        own = generate_latest(REGISTRY)
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(StoreCollector(store, config))
    return own + generate_latest(scraped)
