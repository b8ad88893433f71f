"""Real-browser tests: Debian's Chromium and ChromeDriver, headless, against a running
`ohjaustaulu demo` started as a user would start it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.conftest import (
    BACKENDS,
    EXAMPLE_CONFIG,
    Backend,
    close_backend,
    free_port,
    make_backend,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def fast_config(path: Path) -> Path:
    """The example site with quick polls, so staleness shows within seconds."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"poll_seconds = \d+", "poll_seconds = 2", text)
    # the access cases change by the day: their figures every 30 s are plenty (and cost a core less)
    text = text.replace('feed = "access"\npoll_seconds = 2', 'feed = "access"\npoll_seconds = 30')
    text = text.replace('feed = "queue"\npoll_seconds = 2', 'feed = "queue"\npoll_seconds = 1')
    text = text.replace("rotate_seconds = 20", "rotate_seconds = 5")
    path.write_text(text, encoding="utf-8")
    return path


class Demo:
    def __init__(self, backend: Backend, config: Path, port: int, proc: subprocess.Popen[str], log: Path):
        self.backend, self.config, self.port, self.proc, self.log = backend, config, port, proc, log
        self.url = f"http://127.0.0.1:{port}"
        self.tokens: dict[str, str] = {}
        self.printed_asked: set[str] = set()  # displays whose printed link was taken

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def history_in(self, timeout: float = 180) -> None:
        """Wait until the demo has seeded its past weeks (in the background after its start):
        for a test that reads past days. A loaded machine takes its time."""
        wait_for(lambda: "history: the past weeks are in" in self.output(), timeout=timeout,
                 what="the demo's past weeks")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        from tests.conftest import cli

        return cli(*args, "--config", str(self.config), env=self.backend.cli_env())

    def stop_sources(self, *names: str) -> None:
        """Stop polling these sources, as `ohjaustaulu source stop NAME` does (its own test is
        tests/test_cli.py): the same store call, without a command's start per source (1.4 s
        of a core each, ten of them in some tests)."""
        for name in names:
            self.backend.store.stop_source(name)

    def start_sources(self, *names: str) -> None:
        """Poll these sources again, as `ohjaustaulu source start NAME` does."""
        for name in names:
            self.backend.store.start_source(name)

    def token(self, display: str) -> str:
        """A display token: first the one in the link the demo printed at its start (as a
        person trying the demo opens it), then, once that was asked for, a new one as IT makes
        one: `ohjaustaulu display-token ID` (a command each was 1.4 s of a core; the command's
        own tests are in tests/browser/test_access.py and tests/test_cli.py)."""
        if display not in self.tokens:
            printed = None
            if display not in self.printed_asked:
                self.printed_asked.add(display)
                found = re.search(rf"/display/{re.escape(display)}\?token=(\S+)", self.output())
                printed = found.group(1) if found else None
            if printed:
                self.tokens[display] = printed
            else:
                result = self.cli("display-token", display)
                assert result.returncode == 0, result.stderr
                self.tokens[display] = result.stdout.strip()
        return self.tokens[display]

    def display_url(self, display: str, query: str = "") -> str:
        return f"{self.url}/display/{display}?token={self.token(display)}" + (f"&{query}" if query else "")


def http_client(base_url: str, name: str | None = None, password: str | None = None) -> httpx.Client:
    """An HTTP client, signed in through the login form when a name is given."""
    from dashboard.demo import PASSWORD

    client = httpx.Client(base_url=base_url, timeout=10)
    if name:
        client.get("/login")
        r = client.post("/login", data={"name": name, "password": password or PASSWORD,
                                        "csrf": client.cookies.get("ohjaustaulu_csrf") or "", "next": "/"})
        assert r.status_code == 303, r.text
    return client


def sign_in(driver: webdriver.Chrome, base_url: str, name: str, password: str | None = None) -> None:
    """Sign in through the login form, as a person would (the demo's accounts by default)."""
    from dashboard.demo import PASSWORD

    driver.get(f"{base_url}/login")
    driver.delete_all_cookies()  # whoever was signed in before, and any screen's token
    driver.get(f"{base_url}/login")
    driver.find_element("id", "name").send_keys(name)
    driver.find_element("id", "password").send_keys(password or PASSWORD)
    driver.find_element("css selector", "button[type=submit]").click()
    wait_for(lambda: "/login" not in driver.current_url, timeout=10, what=f"{name} signed in")


def start_demo(backend: Backend, config: Path, *extra: str) -> Demo:
    port = free_port()
    exe = str(Path(sys.executable).parent / "ohjaustaulu")
    # its output to a file: a pipe nobody reads fills up (64 KB) and stops the demo at its next
    # log line; beside its configuration when that is a test's copy, never in the checkout
    # (the screenshots start the demo on config/ohjaustaulu.toml itself)
    log = (config.parent if ROOT not in config.resolve().parents else Path(tempfile.gettempdir())) / f"demo-{port}.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            # the simulated day at 10.00 of the latest working day, whatever the hour the tests run
            # and five weeks of past days (the history page compares with four weeks before), not
            # the eight a manager trying it gets: each demo start seeds them beside the tests (8
            # weeks: about 10 s of a core, more on a loaded machine)
            [exe, "demo", "--port", str(port), "--config", str(config), "--clock-at", "10:00",
             *(() if "--history-weeks" in extra else ("--history-weeks", "5")), *extra],
            env=backend.cli_env(), stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    demo = Demo(backend, config, port, proc, log)

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"demo exited: {demo.output()}")
        with urllib.request.urlopen(demo.url + "/health", timeout=1) as r:
            return r.status == 200

    try:
        wait_for(healthy, timeout=60, what="the demo to answer /health")
    except BaseException:
        stop_demo(demo)  # never leave a half-started demo running (and writing) behind
        raise
    return demo


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """End a command as its operator would (SIGTERM); kill it if it has not ended in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_demo(demo: Demo) -> None:
    stop(demo.proc)


# package: ended once a test process is past this folder's tests (an idle demo polls on). Not
# shared with tests/security (tried): what the attacks leave behind (a workbook's manual
# values, sessions) changed what the walls here showed.
# a browser test of the page itself, not of the stores under it: the embedded demo only (the
# store tests run on both backends)
embedded_only = pytest.mark.parametrize("demo", ["embedded"], indirect=True)


@pytest.fixture(scope="package", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    backend = make_backend(request.param, root / "data")
    d = start_demo(backend, fast_config(root / "site.toml"))
    yield d
    stop_demo(d)
    close_backend(backend)


def chrome(width: int = 1920, height: int = 1080, network_log: bool = False,
           languages: str = "fi-FI,fi") -> webdriver.Chrome:
    """Debian's headless Chromium at exactly width × height CSS pixels, asking for pages in
    `languages` (as a Finnish person's browser does); `network_log` keeps DevTools' network
    events for reading with get_log("performance")."""
    opts = webdriver.ChromeOptions()
    opts.add_argument(f"--lang={languages.split(',')[0]}")
    opts.add_experimental_option("prefs", {"intl.accept_languages": languages})
    if network_log:
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-sync", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    # ChromeDriver on a port of this worker's own (tests/conftest.py free_port), not the kernel's pick
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, port=free_port()), options=opts)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return driver


@pytest.fixture(scope="package")  # ended with the demo: its last page would poll on
def browser() -> Iterator[webdriver.Chrome]:
    driver = chrome()
    yield driver
    driver.quit()


TILES_JS = """
return Array.from(document.querySelectorAll('[data-metric]')).map(e => ({
  metric: e.dataset.metric, unit: e.dataset.unit, key: e.dataset.key, value: e.dataset.value,
  status: e.dataset.status, updated: e.dataset.updated, source: e.dataset.source || '',
  text: e.innerText}));
"""


def tiles(driver: webdriver.Chrome) -> list[dict[str, str]]:
    return driver.execute_script(TILES_JS)


ROWS_JS = """
return Array.from(document.querySelectorAll('tr.' + arguments[0])).map(function (tr) {
  var attrs = {};
  Array.from(tr.attributes).forEach(function (a) { attrs[a.name] = a.value; });
  return {attrs: attrs, text: tr.innerText, cells: Array.from(tr.cells).map(function (c) { return c.innerText; })};
});
"""


def table_rows(driver: webdriver.Chrome, cls: str) -> list[dict[str, Any]]:
    """The page's table rows of class `cls`, read in one go: a table redrawn by its page's
    refresh (the admin page's every 10 s) can never leave the test holding stale rows."""
    return driver.execute_script(ROWS_JS, cls)
