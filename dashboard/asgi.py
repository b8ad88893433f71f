"""The web app for several worker processes: `ohjaustaulu serve --workers N` runs
`uvicorn dashboard.asgi:create --factory` with N workers on one port. Each worker builds
its own app from the same settings (the environment, set by `serve`); they share the live
store and the history database, and their metrics through PROMETHEUS_MULTIPROC_DIR.

Run by another process manager (gunicorn with uvicorn workers, systemd, a container per
worker), set OHJAUSTAULU_CONFIG, OHJAUSTAULU_DATA, REDIS_URL, DATABASE_URL and, for more than
one worker per host, PROMETHEUS_MULTIPROC_DIR (an empty folder) the same way.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from dashboard.settings import Settings


def prepare_workers(s: Settings, log_format: str | None) -> None:
    """What the workers read from the environment, set by the process that starts them."""
    os.environ["OHJAUSTAULU_DATA"] = str(s.data_dir)
    os.environ["OHJAUSTAULU_CONFIG"] = str(s.config.path)
    if log_format:
        os.environ["OHJAUSTAULU_LOG_FORMAT"] = log_format
    metrics_dir = s.data_dir / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # figures of workers that are gone
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)


def create() -> Any:
    """One worker's ASGI app."""
    from dashboard.app import asgi, create_app
    from dashboard.observability import configure_logging

    configure_logging()
    s = Settings.load(os.environ.get("OHJAUSTAULU_CONFIG"), os.environ.get("OHJAUSTAULU_DATA"))
    app = create_app(s.config, s.store(), s.history(), s.data_dir)
    return asgi(app)
