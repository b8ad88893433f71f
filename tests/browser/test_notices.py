"""Notices on the wall in both languages (issue 16): a waiting-room screen's Swedish turn shows
a notice's Swedish text; a notice without one shows its Finnish text there, marked as Finnish."""

import uuid
from datetime import timedelta

import pytest

from dashboard.config import load_config
from tests.browser.conftest import Demo, embedded_only
from tests.conftest import wait_for

pytestmark = pytest.mark.browser


@embedded_only  # the page's turns; notices in both stores: tests/test_shiftlead.py, tests/test_workbook.py
def test_a_waiting_rooms_swedish_turn_shows_a_notices_swedish_text(browser, demo: Demo):  # type: ignore[no-untyped-def]
    store = demo.backend.store
    now = store.clock(load_config(demo.config).tz).now()
    tag = uuid.uuid4().hex[:8]
    both = {"id": f"sv-{tag}", "unit": "kaikki", "importance": "tärkeä", "public": True,
            "text": f"Aula suljettu klo 14 alkaen ({tag}).", "text_sv": f"Aulan stängd från kl. 14 ({tag}).",
            "starts": (now - timedelta(minutes=1)).isoformat(), "ends": (now + timedelta(hours=2)).isoformat(),
            "entered_by": "testi"}
    finnish = {**both, "id": f"fi-{tag}", "text": f"Näytteenotto ruuhkautunut ({tag})."}
    del finnish["text_sv"]
    for n in (both, finnish):
        store.put_notice_now(n)
    try:
        browser.get(demo.display_url("aula"))

        def turn(lang: str) -> dict[str, str] | None:
            root = browser.find_element("css selector", ".display[data-display]")
            if root.get_attribute("data-lang-active") != lang:
                # the page's next turn now, not in 5 s (its timer turns: test_display.py)
                browser.execute_script("window.ohjaustaulu.turn()")
                return None
            shown = {n["id"]: browser.find_element("css selector", f"[data-notice='{n['id']}'] .ntext").text
                     for n in (both, finnish)}
            return shown if all(shown.values()) else None

        sv = wait_for(lambda: turn("sv"), timeout=40, interval=0.2, what="the Swedish turn")
        assert sv == {both["id"]: both["text_sv"], finnish["id"]: finnish["text"]}
        # the Finnish text in a Swedish turn says it is Finnish, for a screen reader
        langs = browser.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0])).filter(e => e.offsetParent)"
            ".map(e => e.getAttribute('lang'))", f"[data-notice='{finnish['id']}'] .ntext [lang]")
        assert langs == ["sv", "fi"]
        fi = wait_for(lambda: turn("fi"), timeout=40, interval=0.2, what="the Finnish turn")
        assert fi == {both["id"]: both["text"], finnish["id"]: finnish["text"]}
        assert demo.cli("snapshot", "--display", "aula", "--json").stdout.count("testi") == 0  # nobody named
    finally:
        for n in (both, finnish):
            store.put_notice_now({**n, "ends": now.isoformat()})
