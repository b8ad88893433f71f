"""kiosk/: the launcher's command line, and the watchdog against a running server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser.conftest import Demo
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.browser
embedded_only = pytest.mark.parametrize("demo", ["embedded"], indirect=True)
KIOSK = ROOT / "kiosk"


def launch(url: str, *args: str, tmp_path: Path) -> list[str]:
    """The browser command line the launcher would run (the browser replaced by a printer)."""
    printer = tmp_path / "browser"
    printer.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    printer.chmod(0o755)
    env = {**os.environ, "OHJAUSTAULU_KIOSK_BROWSER": str(printer),
           "OHJAUSTAULU_KIOSK_PROFILE": str(tmp_path / "profile"), "OHJAUSTAULU_SCREEN": "aula-1"}
    out = subprocess.run(["sh", str(KIOSK / "ohjaustaulu-kiosk"), url, *args], env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_the_launcher_starts_a_bare_kiosk_named_after_the_screen(tmp_path: Path):
    argv = launch("https://o.example/display/aula?token=abc", tmp_path=tmp_path)
    assert argv[-1] == "https://o.example/display/aula?token=abc&screen=aula-1"
    for flag in ("--kiosk", "--noerrdialogs", "--no-first-run", "--disable-translate",
                 "--disable-session-crashed-bubble", "--disable-background-networking",
                 "--disable-pinch", "--overscroll-history-navigation=0"):
        assert flag in argv
    assert launch("https://o.example/display/aula", "kaytava-2", tmp_path=tmp_path)[-1] == \
        "https://o.example/display/aula?screen=kaytava-2"


def test_the_launcher_clears_a_crash_so_no_restore_prompt_shows(tmp_path: Path):
    prefs = tmp_path / "profile" / "Default" / "Preferences"
    prefs.parent.mkdir(parents=True)
    prefs.write_text('{"profile":{"exited_cleanly":false,"exit_type":"Crashed"}}')
    launch("https://o.example/display/aula", tmp_path=tmp_path)
    assert prefs.read_text() == '{"profile":{"exited_cleanly":true,"exit_type":"Normal"}}'


def watchdog(server: str, screen: str, marker: Path) -> int:
    return subprocess.run(
        [sys.executable, str(KIOSK / "ohjaustaulu-watchdog"), "--server", server, "--screen", screen,
         "--once", "--timeout", "3", "--restart", f"touch {marker}"],
        capture_output=True, text=True, timeout=30).returncode


@embedded_only
def test_the_watchdog_restarts_the_browser_only_when_its_heartbeat_stopped(demo: Demo, tmp_path: Path):
    store = demo.backend.store
    now = time.time()
    for screen, ago in (("wd-alive", 10), ("wd-hung", 300)):
        store.record_heartbeat(screen, {"screen": screen, "display": "aula", "seen_at_epoch": now - ago,
                                        "seen_at": "2026-11-23T08:00:00+00:00"})
    marker = tmp_path / "restarted"
    assert watchdog(demo.url, "wd-alive", marker) == 0 and not marker.exists()
    assert watchdog(demo.url, "wd-hung", marker) == 1 and marker.exists()
    marker.unlink()
    assert watchdog(demo.url, "wd-never-seen", marker) == 1 and marker.exists()
    marker.unlink()
    # no server: leave the browser be (the page shows its last values and says so)
    assert watchdog(f"http://127.0.0.1:{free_port()}", "wd-hung", marker) == 2 and not marker.exists()
