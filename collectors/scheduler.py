"""Runs the collectors: one APScheduler job per source (max_instances=1, coalesce, jittered),
the escalation job (each unit's level, recorded as a history series), the notify job
(dashboard/notify/), a job that drains the history queue into SQL, and the daily retention job. Each job runs under a lease in the live
store, so two collector processes (hosts) never both run it."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from collectors.base import Collector, PollResult, poll
from collectors.historywriter import drain
from collectors.leases import Leases, lease_ms
from collectors.registry import collector_for
from collectors.workbook import FolderWatcher
from dashboard.config import Config, Display, Source
from dashboard.domain.readings import Reading
from dashboard.observability import POLL_FAILURES, POLL_SECONDS, first_line
from dashboard.storage.history import History
from dashboard.storage.livestore import LeaseLost, LiveStore

log = logging.getLogger(__name__)


class _Job:
    """One scheduled job: runs only while this process holds the job's lease, never kills
    the scheduler, and logs when what it needs goes away and when it comes back, not on
    every run."""

    def __init__(self, name: str, run: Callable[[], object], leases: Leases, ttl_ms: int,
                 store: LiveStore, source: str | None = None):
        self.name, self.run, self.leases, self.ttl_ms = name, run, leases, ttl_ms
        self.store, self.source = store, source
        self.down: str | None = None  # what is unavailable, while it is

    def __call__(self) -> None:
        try:
            if not self.leases.hold(self.name, self.ttl_ms):
                return  # another collector process runs this job now
        except redis.RedisError as err:
            self._gone("the live store", err)
            return
        started = time.perf_counter()
        failed = False
        try:
            result = self.run()
            failed = isinstance(result, PollResult) and not result.ok and not result.skipped
            self._up()
        except redis.RedisError as err:
            failed = True
            self._gone("the live store", err)
        except SQLAlchemyError as err:
            failed = True
            self._gone("the history database", err, "changes stay queued in the live store")
        except Exception:
            failed = True
            log.exception("%s failed unexpectedly", self.name)
        finally:
            if self.source is not None:
                took = time.perf_counter() - started
                POLL_SECONDS.labels(self.source).observe(took)
                if failed:
                    POLL_FAILURES.labels(self.source).inc()
                try:
                    self.store.record_poll(self.source, took, failed)
                except redis.RedisError:
                    pass  # said above

    def _gone(self, what: str, err: Exception, then: str = "retrying") -> None:
        if self.down != what:
            log.warning("%s: %s is unavailable (%s); %s", self.name, what, first_line(err), then,
                        extra={"job": self.name, "unavailable": what})
        self.down = what

    def _up(self) -> None:
        if self.down is not None:
            log.warning("%s: %s is back", self.name, self.down, extra={"job": self.name})
        self.down = None


def connected(collector: Collector, config: Config, history: History) -> Collector:
    """A collector of access-to-care cases writes them to the history database."""
    cases = getattr(collector, "cases", None)
    if cases is not None:
        from dashboard.domain.accessfigures import unit_now, write_cases

        rules = config.access.versions()
        name = collector.source.name
        cases.attach(lambda changed: write_cases(history, name, changed, rules),
                     lambda units, today: unit_now(history, units, today))
    return collector


def _poller(source: Source, config: Config, store: LiveStore, history: History,
            data_dir: Path, leases: Leases) -> Callable[[], object]:
    """One poll of a source: a watched workbook folder, or a feed through the collector
    contract, its write fenced by the source's lease."""
    if source.kind == "workbook":
        return FolderWatcher(source, config, store, history, data_dir).poll
    collector = connected(collector_for(source, config), config, history)
    job = f"poll:{source.name}"
    return lambda: poll(collector, store, config, lease=leases.fence(job))


HISTORY_LEASE_MS = 4000  # the history writer runs every 2 s

# The escalation level of each unit as a history series (metric escalation.level, key ""),
# kept in the live store under this source's name so that the history writer records its
# changes. It is not in the metric catalogue: the read model shows no tile of it.
ESCALATION_SOURCE = "escalation"
ESCALATION_METRIC = "escalation.level"
ESCALATION_SECONDS = 30


def record_escalation(config: Config, store: LiveStore,
                      lease: tuple[str, str] | None = None) -> list[Reading]:
    """Each unit's level in force now, built from the live store exactly as the screens
    build it (the read model over every unit), written as readings of ESCALATION_SOURCE;
    the live store queues the changed ones for the history. Returns the changed ones.

    A level set by a shift lead is a manual reading (who set it, until when); a ruled one is
    automatic. A change is dated when the level came to be as far as this job can tell: a
    shift lead's level at the moment it was set, the rules' level after a shift lead's ended
    at that end, otherwise now (at most one run late) — never before the previous change nor
    after now. An unchanged level keeps its reading, date and all."""
    from dashboard.domain.readmodel import build

    whole = Display(id="escalation", title="escalation", units=[u.code for u in config.units])
    model = build(config, whole, store, None)
    now = datetime.fromisoformat(model.data["generated_at"])
    before = {rd.unit: rd for rd in store.all_readings().get(ESCALATION_SOURCE, [])
              if rd.metric == ESCALATION_METRIC}
    readings = []
    for unit, u in model.data["escalation"]["units"].items():
        level = int(u["level"])
        manual = u["source"] == "manual"
        until = None
        if manual:
            # a shift lead's level lasts to the end of the day (shiftlead.set_escalation)
            entry = store.escalations().get(unit) or {}
            until = datetime.fromisoformat(entry["valid_until"]) if entry.get("valid_until") else None
        prev = before.get(unit)
        if prev is not None and prev.value == level and prev.manual == manual and prev.valid_until == until:
            readings.append(prev)
            continue
        began = now
        if manual:
            began = datetime.fromisoformat(u["at"])
        elif prev is not None and prev.manual and prev.valid_until is not None and prev.valid_until <= now:
            began = prev.valid_until
        if prev is not None:
            began = max(began, prev.observed_at)
        began = min(began, now)
        readings.append(Reading(ESCALATION_METRIC, unit, "", level, began, ESCALATION_SOURCE,
                                manual=manual, entered_by=u.get("by") if manual else None,
                                valid_until=until))
    status = {"last_attempt": now, "last_success": now, "state": "ok", "items": len(readings),
              "kind": "escalation", "poll_seconds": ESCALATION_SECONDS}
    return store.write_readings(ESCALATION_SOURCE, readings, status, lease=lease)


def _escalation_job(config: Config, store: LiveStore, leases: Leases) -> Callable[[], object]:
    def run() -> object:
        try:
            return record_escalation(config, store, lease=leases.fence("escalation"))
        except LeaseLost:
            log.info("escalation: another collector took over during this run")
            return None

    return run


def build_scheduler(
    config: Config, store: LiveStore, history: History, data_dir: Path, only: str | None = None,
    leases: Leases | None = None,
) -> BackgroundScheduler:
    """Every job of a collector process. Several processes (hosts) may run the same
    configuration: each job runs in one of them at a time (collectors/leases.py)."""
    leases = leases or Leases(store)
    sched = BackgroundScheduler(job_defaults={"max_instances": 1, "coalesce": True})
    sched.leases = leases  # type: ignore[attr-defined]
    Overruns().watch(sched)
    for source in config.sources:
        if only and source.name != only:
            continue
        name = f"poll:{source.name}"
        sched.add_job(
            _Job(name, _poller(source, config, store, history, data_dir, leases), leases,
                 lease_ms(source.poll_seconds), store, source.name),
            "interval",
            seconds=source.poll_seconds,
            jitter=min(source.poll_seconds * 0.1, 2),
            id=name,
            next_run_time=None,
        )
    # each unit's escalation level into the history; the first run after the sources' first
    # polls, so that a restarted collector does not record the level of an empty store
    if not only:
        sched.add_job(_Job("escalation", _escalation_job(config, store, leases), leases,
                           lease_ms(ESCALATION_SECONDS), store),
                      "interval", seconds=ESCALATION_SECONDS, jitter=2, id="escalation")
    # notifications: one process evaluates the rules and hands the messages to its own
    # threads (dashboard/notify/outbox.py), so a channel that hangs holds up no job
    if config.notify.rules and not only:
        from dashboard.notify.engine import NOTIFY_SECONDS, Notifier

        notifier = Notifier(config, store, history)
        sched.notifier = notifier  # type: ignore[attr-defined]
        sched.add_job(_Job("notify", notifier.run, leases, lease_ms(NOTIFY_SECONDS), store),
                      "interval", seconds=NOTIFY_SECONDS, jitter=1, id="notify")
    # the history writer starts at once: a restarted collector catches up with what waited
    sched.add_job(_Job("history-writer", lambda: drain(store, history), leases, HISTORY_LEASE_MS, store),
                  "interval", seconds=2, id="history", next_run_time=datetime.now(config.tz))
    # raw changes older than [history] raw_days go once a day, in the quiet hour; the hourly
    # and daily rollups that the history page reads stay
    sched.add_job(_Job("retention", lambda: prune_history(config, history), leases, 600_000, store),
                  "cron", hour=config.site.reload_hour, minute=17, timezone=config.tz, id="retention")
    if config.access.rules and not only:
        # the access page's forecasts: refitted nightly, and once soon after start so that a
        # new installation (or the demo) has them the same day
        sched.add_job(_Job("access-forecast", lambda: refit_access(config, store, history), leases, 600_000, store),
                      "cron", hour=config.site.reload_hour, minute=37, timezone=config.tz, id="access-forecast")
        sched.add_job(_Job("access-forecast", lambda: refit_access(config, store, history), leases, 600_000, store),
                      "date", run_date=datetime.now(config.tz) + timedelta(seconds=90), id="access-forecast-start")
    return sched


def refit_access(config: Config, store: LiveStore, history: History) -> int:
    """Refit every unit's access-to-care forecasts on the weeks up to the site's today (and sum
    the day's changes of the access page's counts first: the same figures, fewer rows)."""
    from dashboard.domain.accessfigures import compact_counts, refit_forecasts

    started = time.monotonic()
    removed = compact_counts(history)
    log.info("access counts: %d rows summed away in %.1f s", removed, time.monotonic() - started)
    started = time.monotonic()
    today = store.clock(config.tz).now().date()
    n = refit_forecasts(history, [u.code for u in config.units], today)
    log.info("access forecasts: %d series refitted in %.1f s", n, time.monotonic() - started)
    return n


class Overruns:
    """A job whose last run has not ended when the next is due is skipped (max_instances=1).
    APScheduler says so at every skipped run, every 2 s for the history writer; this says it
    once, when a run has held up `patience` runs after it (one slow run on a busy machine is
    nothing to report), and once when the job runs again, with how many runs it missed."""

    MESSAGE = "maximum number of running instances reached"

    def __init__(self, patience: int = 3) -> None:
        self.patience = patience
        self.skipped: dict[str, int] = {}
        self.since: dict[str, float] = {}

    def watch(self, sched: BackgroundScheduler) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES

        sched.add_listener(self.event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        quiet = logging.getLogger("apscheduler.scheduler")
        if not any(isinstance(f, _NoSkipNoise) for f in quiet.filters):
            quiet.addFilter(_NoSkipNoise())

    def event(self, ev: Any) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES

        job = ev.job_id
        if ev.code == EVENT_JOB_MAX_INSTANCES:
            self.since.setdefault(job, time.monotonic())
            self.skipped[job] = self.skipped.get(job, 0) + 1
            if self.skipped[job] == self.patience:
                log.warning("%s: its last run has not ended after %.0f s; later runs are skipped "
                            "until it does", job, time.monotonic() - self.since[job], extra={"job": job})
        elif job in self.skipped:
            missed, took = self.skipped.pop(job), time.monotonic() - self.since.pop(job)
            if missed >= self.patience:
                log.warning("%s: runs again (%d runs skipped in %.0f s)", job, missed, took,
                            extra={"job": job})


class _NoSkipNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return Overruns.MESSAGE not in record.getMessage()


def prune_history(config: Config, history: History) -> int:
    from dashboard.storage import rollups

    removed = rollups.prune(history, config.history.raw_days, datetime.now(config.tz))
    if removed:
        log.info("history: %d raw changes older than %d days removed (rollups kept)", removed,
                 config.history.raw_days)
    return removed


def stop(sched: BackgroundScheduler) -> None:
    """Stop the jobs and hand this process's leases to the other collectors at once."""
    sched.shutdown(wait=False)
    sched.leases.release_all()  # type: ignore[attr-defined]


def start(sched: BackgroundScheduler) -> None:
    """Start the jobs, the first poll of each source at a random moment of its first second."""
    from datetime import timedelta

    sched.start()
    now = datetime.now(sched.timezone)
    for job in sched.get_jobs():
        if job.id.startswith("poll:"):
            job.modify(next_run_time=now + timedelta(seconds=random.uniform(0, 1)))


def poll_all_once(config: Config, store: LiveStore, history: History, data_dir: Path,
                  only: str | None = None) -> dict[str, PollResult]:
    results = {}
    for source in config.sources:
        if only and source.name != only:
            continue
        if source.kind == "workbook":
            # once: a file is imported now, without waiting for it to settle
            watcher = FolderWatcher(source, config, store, history, data_dir)
            # the first look imports a file that has already settled, the second one seen just now
            reports = watcher.poll() + watcher.poll()
            bad = [r for r in reports if r.errors]
            results[source.name] = PollResult(ok=not bad, items=len(reports),
                                              changed=sum(r.applied for r in reports),
                                              error=f"{len(bad)} file(s) refused" if bad else None)
            continue
        results[source.name] = poll(connected(collector_for(source, config), config, history), store, config)
    if not only:
        record_escalation(config, store)
    drain(store, history)
    return results
