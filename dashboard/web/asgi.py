"""The web app for several worker processes: `ohjaustaulu serve --workers N` runs
`uvicorn dashboard.web.asgi:create --factory` with N workers on one port. Each worker builds
its own app from the same settings (the environment, set by `serve`); they share the live
store and the history database, and their metrics through PROMETHEUS_MULTIPROC_DIR.

Run by another process manager (gunicorn with uvicorn workers, systemd, a container per
worker), set OHJAUSTAULU_CONFIG, OHJAUSTAULU_DATA, REDIS_URL, DATABASE_URL and, for more than
one worker per host, PROMETHEUS_MULTIPROC_DIR (an empty folder) the same way.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
from typing import Any

from dashboard.settings import Settings

log = logging.getLogger("ohjaustaulu.asgi")


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
    """One worker's ASGI app, which does before its first request what its first screens
    would otherwise wait for: the versioned scripts and styles every page loads are gzipped
    on the lifespan's start-up (WarmUp), and what the first page render imports is imported.
    After a deployment every screen reloads within a heartbeat, against new workers."""
    from dashboard.observability import configure_logging
    from dashboard.web.app import asgi, create_app
    from dashboard.web.staticcache import WarmUp

    configure_logging()
    exit_on_term()  # a worker stopped by uvicorn's manager runs its exit handlers
    s = Settings.load(os.environ.get("OHJAUSTAULU_CONFIG"), os.environ.get("OHJAUSTAULU_DATA"))
    app = create_app(s.config, s.store(supervise=True), s.history(), s.data_dir)
    first_render_imports()
    return WarmUp(asgi(app), page_resources(app))


def page_resources(app: Any) -> list[str]:
    """The versioned addresses (StaticCache's) of the scripts and stylesheets every page of
    the Dash app loads, as its HTML names them. Dash's own methods (Dash 4.4.1); none, and a
    warning, if they fail: the first requests then make and keep them."""
    from dashboard.web.staticcache import versioned

    try:
        html = app._generate_css_dist_html() + app._generate_scripts_html()
    except Exception as err:
        log.warning("no static files to warm up: %s", err)
        return []
    return [url for url in re.findall(r'(?:src|href)="([^"]+)"', html) if versioned(url)]


def first_render_imports() -> None:
    """What the first page a worker renders would import (0.2 s of that page's load): the
    holiday calendar its working days come from, Plotly's JSON encoder Dash answers with."""
    from datetime import date

    import plotly.io.json  # noqa: F401

    from dashboard.domain.clock import is_public_holiday

    is_public_holiday(date.today())


def exit_on_term() -> None:
    """SIGTERM ends this process as Ctrl-C does: cleanly, with its exit handlers run (the
    embedded live store stopped when nobody else uses it), and the screens' streams still
    open then end without a traceback. uvicorn shuts down gracefully on
    SIGTERM and then raises it again with the handler that was there before it started;
    left at the default, that would end the process with no clean-up at all."""
    from dashboard.web.app import STOPPING

    def stop(*_: object) -> None:
        STOPPING.set()  # the screens' streams end with the process, quietly (dashboard/web/app.py QuietStop)
        raise SystemExit(0)

    def interrupt(*_: object) -> None:
        STOPPING.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, interrupt)
