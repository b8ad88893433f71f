"""Runs the collectors: one APScheduler job per source (max_instances=1, coalesce, jittered),
and a job that drains the history queue into SQL."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from collectors.base import PollResult, poll
from collectors.historywriter import drain
from collectors.registry import collector_for
from collectors.workbook import FolderWatcher
from dashboard.config import Config, Source
from dashboard.history import History
from dashboard.livestore import LiveStore

log = logging.getLogger(__name__)


def _guarded(fn, what: str):  # type: ignore[no-untyped-def]
    """A job that never kills the scheduler: unexpected errors are logged, the next run
    comes as planned."""

    def job() -> None:
        try:
            fn()
        except SQLAlchemyError as err:
            log.warning("%s: history database unavailable (%s); changes stay queued", what, err)
        except Exception:
            log.exception("%s failed unexpectedly", what)

    return job


def _poller(source: Source, config: Config, store: LiveStore, history: History,
            data_dir: Path) -> Callable[[], object]:
    """One poll of a source: a watched workbook folder, or a feed through the collector contract."""
    if source.kind == "workbook":
        return FolderWatcher(source, config, store, history, data_dir).poll
    collector = collector_for(source, config)
    return lambda: poll(collector, store, config)


def build_scheduler(
    config: Config, store: LiveStore, history: History, data_dir: Path, only: str | None = None
) -> BackgroundScheduler:
    sched = BackgroundScheduler(job_defaults={"max_instances": 1, "coalesce": True})
    for source in config.sources:
        if only and source.name != only:
            continue
        sched.add_job(
            _guarded(_poller(source, config, store, history, data_dir), f"poll {source.name}"),
            "interval",
            seconds=source.poll_seconds,
            jitter=min(source.poll_seconds * 0.1, 2),
            id=f"poll:{source.name}",
            next_run_time=None,
        )
    sched.add_job(_guarded(lambda: drain(store, history), "history writer"), "interval", seconds=2,
                  id="history")
    # raw changes older than [history] raw_days go once a day, in the quiet hour; the hourly
    # and daily rollups that the history page reads stay
    sched.add_job(_guarded(lambda: prune_history(config, history), "history retention"), "cron",
                  hour=config.site.reload_hour, minute=17, timezone=config.tz, id="retention")
    return sched


def prune_history(config: Config, history: History) -> int:
    from datetime import datetime

    from dashboard import rollups

    removed = rollups.prune(history, config.history.raw_days, datetime.now(config.tz))
    if removed:
        log.info("history: %d raw changes older than %d days removed (rollups kept)", removed,
                 config.history.raw_days)
    return removed


def start(sched: BackgroundScheduler) -> None:
    """Start the jobs, the first poll of each source at a random moment of its first second."""
    from datetime import datetime, timedelta

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
            watcher.poll()
            reports = watcher.poll()
            bad = [r for r in reports if r.errors]
            results[source.name] = PollResult(ok=not bad, items=len(reports),
                                              changed=sum(r.applied for r in reports),
                                              error=f"{len(bad)} file(s) refused" if bad else None)
            continue
        results[source.name] = poll(collector_for(source, config), store, config)
    drain(store, history)
    return results
