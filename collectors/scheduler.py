"""Runs the collectors: one APScheduler job per source (max_instances=1, coalesce, jittered),
and a job that drains the history queue into SQL."""

from __future__ import annotations

import logging
import random

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from collectors.base import poll
from collectors.historywriter import drain
from collectors.registry import collector_for
from dashboard.config import Config
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


def build_scheduler(
    config: Config, store: LiveStore, history: History, only: str | None = None
) -> BackgroundScheduler:
    sched = BackgroundScheduler(job_defaults={"max_instances": 1, "coalesce": True})
    for source in config.sources:
        if only and source.name != only:
            continue
        collector = collector_for(source, config)
        sched.add_job(
            _guarded(lambda c=collector: poll(c, store, config), f"poll {source.name}"),
            "interval",
            seconds=source.poll_seconds,
            jitter=min(source.poll_seconds * 0.1, 2),
            id=f"poll:{source.name}",
            next_run_time=None,
        )
    sched.add_job(_guarded(lambda: drain(store, history), "history writer"), "interval", seconds=2,
                  id="history")
    return sched


def start(sched: BackgroundScheduler) -> None:
    """Start the jobs, the first poll of each source at a random moment of its first second."""
    from datetime import datetime, timedelta

    sched.start()
    now = datetime.now(sched.timezone)
    for job in sched.get_jobs():
        if job.id.startswith("poll:"):
            job.modify(next_run_time=now + timedelta(seconds=random.uniform(0, 1)))


def poll_all_once(config: Config, store: LiveStore, history: History, only: str | None = None):
    results = {}
    for source in config.sources:
        if only and source.name != only:
            continue
        results[source.name] = poll(collector_for(source, config), store, config)
    drain(store, history)
    return results
