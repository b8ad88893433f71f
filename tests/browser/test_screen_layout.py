"""The wall display at the three screen sizes of the kiosk issue, in staff and public mode:
readable from across the room (numbers ≥ 64 px and words ≥ 28 px at 1080p, twice that at
4K), nothing scrolls, nothing overlaps, nothing is cut off, in every turn of the rotation;
and axe-core finds no serious or critical accessibility problem (WCAG 2.1 AA contrast
included). These look at the page, not at the store: they run on the embedded one only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from tests.browser.conftest import Demo, chrome
from tests.conftest import wait_for

pytestmark = pytest.mark.browser
embedded_only = pytest.mark.parametrize("demo", ["embedded"], indirect=True)

SIZES = [(1920, 1080, 1), (3840, 2160, 2), (1080, 1920, 1)]  # width, height, expected zoom
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"

# Every element that shows words or numbers to people, as leaves (no element here contains
# another one of them), so that any two of them overlapping is a fault.
LAYOUT_JS = """
const scale = arguments[0];
const TEXT = ['.head h1', '.demo-banner', '.page-indicator', '.clock', '.offline-banner',
  '.escalation .cap', '.lvl', '.lvlname', '.reasons li', '.card h3 .uname', '.card h3 .sname',
  '.row-label', '.cap', '.num', '.age', '.manual', '.sep', '.legend span', '.hours span',
  '.notice .sign', '.notice .ntext', '.asof', '.ulvl .uname', '.ulvl .n', '.ulvl .rules', '.ulvl .closedword', '.ulvl .acts',
  '.corrnote', '.cardnote', '.unitword', '.t3key', '.sitelvl > span:first-child', '.limit', '.staffnote', '.fctotal'];
const vw = innerWidth, vh = innerHeight, problems = [];
const shown = el => {
  if (el.closest('.earlier, .later, [hidden]')) return false;
  const s = getComputedStyle(el);
  if (s.visibility === 'hidden' || s.display === 'none') return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
};
const name = el => (el.className || el.tagName) + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
const els = [];
for (const sel of TEXT) for (const el of document.querySelectorAll(sel)) if (shown(el)) els.push(el);
const uniq = Array.from(new Set(els));
const se = document.scrollingElement;
if (se.scrollHeight > vh + 1 || se.scrollWidth > vw + 1) problems.push(`page scrolls: ${se.scrollWidth}x${se.scrollHeight}`);
let nums = 0;
for (const el of uniq) {
  const r = el.getBoundingClientRect();
  if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1) problems.push(`off screen: ${name(el)} ${JSON.stringify(r)}`);
  const px = parseFloat(getComputedStyle(el).fontSize) * (el.currentCSSZoom || 1);
  const min = el.matches('.num') ? 64 * scale : 28 * scale;
  if (el.matches('.num')) nums++;
  if (px < min - 0.5) problems.push(`too small: ${name(el)} ${px}px < ${min}px`);
}
for (let i = 0; i < uniq.length; i++) for (let j = i + 1; j < uniq.length; j++) {
  const a = uniq[i], b = uniq[j];
  if (a.contains(b) || b.contains(a)) continue;
  const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
  const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
  const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
  if (w > 1 && h > 1) problems.push(`overlap: ${name(a)} and ${name(b)} (${Math.round(w)}x${Math.round(h)})`);
}
return {problems: problems, checked: uniq.length, nums: nums};
"""


@pytest.fixture(scope="module", params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def screen(request: pytest.FixtureRequest) -> Iterator[tuple[webdriver.Chrome, int]]:
    width, height, scale = request.param
    driver = chrome(width, height)
    yield driver, scale
    driver.quit()


def open_screen(driver: webdriver.Chrome, demo: Demo, display: str) -> None:
    driver.get(demo.display_url(display))
    wait_for(lambda: driver.execute_script(
        "return document.querySelectorAll('[data-status=\"fresh\"]').length > 0 && window.ohjaustaulu"
        " && document.querySelector('.display').dataset.turns"), timeout=30, what="a laid-out display")


def check_every_turn(driver: webdriver.Chrome, scale: int) -> int:
    root = driver.find_element("css selector", ".display")
    turns = int(root.get_attribute("data-turns"))
    langs = len(driver.execute_script("return window.ohjaustaulu.state.meta.langs"))
    nums = 0
    for _ in range(turns * langs):
        result = driver.execute_script(LAYOUT_JS, scale)
        assert result["problems"] == [], (root.get_attribute("data-turn"), result["problems"])
        assert result["checked"] > 5
        nums += result["nums"]
        driver.execute_script("window.ohjaustaulu.turn()")
    return nums


@embedded_only
@pytest.mark.parametrize("display", ["vastaanotto-kaytava", "johto", "aula", "alue", "hoito"])
def test_readable_nothing_scrolls_nothing_overlaps(screen, demo: Demo, display: str):
    driver, scale = screen
    open_screen(driver, demo, display)
    zoom = driver.execute_script("return document.querySelector('.num').currentCSSZoom")
    assert zoom == scale
    assert check_every_turn(driver, scale) > 3


@embedded_only
def test_stale_tiles_still_fit(browser, demo: Demo):
    """A stale value grows a line ("päivitetty N min sitten"): the layout still holds."""
    driver = browser  # the folder's Chromium, 1920 × 1080 (a session of its own: 2 s of a core)
    try:
        demo.stop_sources("demo-henkilosto")
        open_screen(driver, demo, "vastaanotto-kaytava")
        wait_for(lambda: driver.find_elements("css selector", '[data-source="demo-henkilosto"][data-status="stale"]'),
                 timeout=20, what="stale staff tiles")
        driver.execute_script("window.ohjaustaulu.layout()")
        check_every_turn(driver, 1)
    finally:
        demo.start_sources("demo-henkilosto")


def run_axe(driver: webdriver.Chrome) -> list[dict[str, object]]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},"
        " resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))), e => done([{id: 'error', impact: 'critical', help: String(e)}]));")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@embedded_only
@pytest.mark.parametrize("display", ["vastaanotto-kaytava", "aula"])
def test_axe_core_finds_no_serious_or_critical_violation(browser, demo: Demo, display: str):
    assert AXE.exists(), "axe-core missing: ./dev test installs it (npm ci in tests/browser)"
    open_screen(browser, demo, display)
    root = browser.find_element("css selector", ".display")
    langs = len(browser.execute_script("return window.ohjaustaulu.state.meta.langs"))
    for _ in range(int(root.get_attribute("data-turns")) * langs):
        assert run_axe(browser) == [], root.get_attribute("data-turn")
        browser.execute_script("window.ohjaustaulu.turn()")


@embedded_only
def test_the_axe_check_can_fail(browser, demo: Demo):
    """A control: text of too little contrast, put on the page, is found."""
    open_screen(browser, demo, "aula")
    browser.execute_script(
        "const p = document.createElement('p'); p.textContent = 'huono kontrasti';"
        "p.style.color = '#2a3440'; document.querySelector('main').appendChild(p);")
    assert "color-contrast" in {v["id"] for v in run_axe(browser)}


@embedded_only
def test_a_raised_escalation_level_says_why_and_still_fits(browser, demo: Demo):
    from dashboard.config import load_config
    from dashboard.domain.readings import Reading

    store = demo.backend.store
    now = store.clock(load_config(demo.config).tz).now()
    store.write_readings("test-ruuhka", [
        Reading("queue.waiting", "vastaanotto", f"ruuhkajono {i}", 20 + i, now, "test-ruuhka") for i in range(4)
    ], {})
    driver = browser  # the folder's Chromium, 1920 × 1080 (a session of its own: 2 s of a core)
    try:
        open_screen(driver, demo, "vastaanotto-kaytava")
        bar = wait_for(lambda: driver.find_element("css selector", '.escalation[data-escalation="3"]'),
                       what="escalation level 3")
        text = bar.text
        assert "3" in text and "Korkea" in text
        # four reasons of ours and any the demo's own day adds at that moment: three shown, the
        # rest counted — as many as the store's level has reasons, recounted here from its data
        config = load_config(demo.config)

        def counted_right() -> bool:
            from dashboard.domain.readmodel import build
            from layouts.components import rules_beside

            shown = driver.find_element("css selector", ".escalation .reasons").text
            esc = build(config, config.display("vastaanotto-kaytava"), store, None).data["escalation"]
            reasons = 0
            for unit, u in esc["units"].items():
                if u["level"] == esc["level"]:
                    reasons += 1 if u.get("source") == "manual" else len(u.get("details", []))
                reasons += len(rules_beside(config, unit, u, "fi"))
            more = re.search(r"ja (\d+) muuta", shown)
            assert reasons >= 4 and more, (reasons, shown)
            return int(more.group(1)) == reasons - 3

        wait_for(counted_right, timeout=10, what="'ja N muuta' counting the rest of the level's reasons")
        assert "Vastaanotto, Ruuhkajono 0: jonossa 20 (raja > 15)" in text
        driver.execute_script("window.ohjaustaulu.layout()")
        check_every_turn(driver, 1)
    finally:
        store.write_readings("test-ruuhka", [], {})


@embedded_only
def test_a_bound_a_correction_and_a_shift_leads_level_read_and_fit(browser, demo: Demo):
    """T3 beyond the horizon reads "> 90 pv" with data-bound; a tablet correction says until
    when it stands; a shift lead's level 2 where the rules say 3 carries the page contract and
    shows "säännöt: 3"; the layout still holds."""
    from datetime import timedelta

    from dashboard.config import load_config
    from dashboard.domain.freshness import TABLET
    from dashboard.domain.readings import Reading
    from dashboard.web.accounts import User
    from dashboard.web.shiftlead import ShiftLead

    store = demo.backend.store
    config = load_config(demo.config)
    now = store.clock(config.tz).now()
    lead = ShiftLead(config, store, demo.backend.history, User("vuorovastaava", "shift_lead", ("vastaanotto",)))
    fixed = lead.correct("vastaanotto", "staff.present", "sairaanhoitaja", "10", "1h")
    until = fixed.valid_until.astimezone(config.tz) if fixed.valid_until else None
    store.write_readings("test-raja", [
        *(Reading("queue.waiting", "vastaanotto", f"ruuhkajono {i}", 20 + i, now, "test-raja") for i in range(2)),
        Reading("staff.planned", "vastaanotto", "psykologi", 2, now, "test-raja"),
        Reading("appointments.t3_days", "vastaanotto", "psykologi", 90, now, "test-raja", bound="above"),
    ], {})
    store.set_escalation("vastaanotto", {"level": 2, "reason": "Tilanne hallinnassa", "by": "vuorovastaava",
                                         "at": now.isoformat(), "valid_until": (now + timedelta(hours=2)).isoformat()})
    driver = browser  # the folder's Chromium, 1920 × 1080 (a session of its own: 2 s of a core)
    try:
        open_screen(driver, demo, "vastaanotto-kaytava")
        level = wait_for(lambda: driver.find_element(
            "css selector", '[data-metric="escalation.level"][data-unit="vastaanotto"][data-rules-level="3"]'),
            what="the shift lead's level with the rules' beside it")
        assert (level.get_attribute("data-value"), level.get_attribute("data-source"),
                level.get_attribute("data-status")) == ("2", "manual", "fresh")
        assert level.get_attribute("data-updated") and "säännöt: 3" in level.text
        assert "säännöt: 3" in driver.find_element("css selector", ".escalation .reasons").text
        t3 = driver.find_element("css selector", '[data-metric="appointments.t3_days"][data-key="psykologi"]')
        assert (t3.get_attribute("data-bound"), t3.get_attribute("data-value")) == ("above", "90")
        nurses = driver.find_element("css selector", '[data-metric="staff.present"][data-key="sairaanhoitaja"]')
        assert (nurses.get_attribute("data-value"), nurses.get_attribute("data-source")) == ("10", TABLET)
        row = driver.find_element("css selector", '.srow:has([data-metric="staff.present"][data-key="sairaanhoitaja"])')
        assert until is not None and row.find_element("css selector", ".corrnote").get_attribute(
            "textContent") == f"✎ korjattu klo {until:%H.%M} asti"
        driver.execute_script("window.ohjaustaulu.layout()")
        check_every_turn(driver, 1)
        assert t3.get_attribute("textContent") == ">90pv"  # ">", "90" and "pv", each its own element
    finally:
        lead.withdraw("vastaanotto", "staff.present", "sairaanhoitaja")
        store.set_escalation("vastaanotto", None)
        store.write_readings("test-raja", [], {})
