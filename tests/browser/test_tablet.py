import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import Demo, embedded_only, http_client, sign_in, tiles
from tests.conftest import wait_for
from tests.test_workbook import workbook

pytestmark = pytest.mark.browser
TZ = ZoneInfo("Europe/Helsinki")


def save(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    path.write_bytes(workbook(sheets))
    return path


def upload(browser, demo: Demo, path: Path) -> str:  # type: ignore[no-untyped-def]
    if "/tablet" not in browser.current_url:
        sign_in(browser, demo.url, "vuorovastaava")
    browser.get(f"{demo.url}/tablet")
    field = wait_for(lambda: browser.find_element("css selector", "#wb-upload input[type=file]"),
                     what="the upload field")
    field.send_keys(str(path))
    report = wait_for(lambda: browser.find_element("css selector", ".report"), timeout=20, what="the report")
    return report.get_attribute("data-state")


def test_upload_shows_every_error_in_place_then_a_good_file_changes_the_wall(browser, demo: Demo, tmp_path: Path):
    today = demo.backend.store.clock(TZ).now().strftime("%d.%m.%Y")
    bad = save(tmp_path / "huono.xlsx", {
        "Kapasiteetti": [["Päivä", "Yksikkö", "Resurssi", "Käytössä", "Yhteensä"],
                         [today, "Röntgen", "Ultraääni", 1, 2],
                         [today, "vastaanotto", "Ultraääni", 3, 2]]})
    assert upload(browser, demo, bad) == "rejected"
    rows = browser.find_elements("css selector", ".errors .error-row")
    assert [(r.get_attribute("data-sheet"), r.get_attribute("data-row"), r.get_attribute("data-column"))
            for r in rows] == [("Kapasiteetti", "2", "Yksikkö"), ("Kapasiteetti", "3", "Käytössä")]
    assert "Tuntematon yksikkö" in rows[0].text and "Käytössä (3) on enemmän kuin yhteensä (2)" in rows[1].text

    good = save(tmp_path / "aamu.xlsx", {
        "Kapasiteetti": [["Päivä", "Yksikkö", "Resurssi", "Käytössä", "Yhteensä"],
                         [today, "Vastaanotto", "Ultraääni", 1, 2]]})
    assert upload(browser, demo, good) == "applied"
    browser.get(demo.display_url("vastaanotto-kaytava"))

    def ultrasound() -> list[dict[str, str]]:
        return [t for t in tiles(browser) if t["key"] == "ultraääni"]

    shown = wait_for(ultrasound, timeout=20, what="the uploaded value on the wall")
    assert {(t["metric"], t["value"], t["status"], t["source"]) for t in shown} == {
        ("capacity.in_use", "1", "fresh", "tyokirja"), ("capacity.total", "2", "fresh", "tyokirja")}


def test_the_template_downloads(demo: Demo):
    from dashboard.workbook.reader import read

    with closing(http_client(demo.url, "vuorovastaava")) as client:
        r = client.get("/tablet/template.xlsx")
        assert r.status_code == 200
        sheets = read(r.content).sheets
    assert {"Henkilöstö", "Ajanvaraus", "Jonot", "Kapasiteetti", "Tiedotteet"} <= set(sheets)


def choose(browser, dropdown_id: str, label: str) -> None:  # type: ignore[no-untyped-def]
    """Pick an option of a dcc.Dropdown by its visible text, as a finger would: open it, tap
    the option (Dash 4 draws the options in a list of its own when opened)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    def tapped() -> bool:  # the choices are redrawn when the form's unit or metric is set: tap again then
        try:
            if not browser.find_elements("css selector", ".dash-dropdown-content [role=option]"):
                browser.find_element("id", dropdown_id).click()
            option = next((o for o in browser.find_elements("css selector", ".dash-dropdown-content [role=option]")
                           if o.text.strip() == label), None)
            if option is None:
                return False
            option.click()
            return True
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    wait_for(tapped, timeout=15, interval=0.3, what=f"{label} in {dropdown_id}")


def test_a_shift_lead_corrects_a_value_and_posts_a_notice_from_a_tablet(demo: Demo):
    from tests.browser.conftest import chrome

    tablet = chrome(800, 1280)  # a 10-inch tablet, portrait
    wall = chrome()
    try:
        sign_in(tablet, demo.url, "vuorovastaava")
        tablet.get(f"{demo.url}/tablet")
        wait_for(lambda: tablet.find_element("id", "tablet-fix-save"), what="the tablet page")
        # a bad value first: refused by name, nothing changes
        choose(tablet, "tablet-fix-key", "sairaanhoitaja")  # a key the figure has: chosen, not typed
        tablet.find_element("id", "tablet-fix-value").send_keys("kolme")
        tablet.find_element("id", "tablet-fix-save").click()
        refused = wait_for(lambda: tablet.find_element("css selector", '#tablet-fix-result .msg[data-ok="false"]'),
                           what="the refusal")
        assert "Arvo: anna luku" in refused.text
        from selenium.webdriver.common.keys import Keys

        value = tablet.find_element("id", "tablet-fix-value")
        # select what was typed, and type over it (NULL lets go of Ctrl: ChromeDriver keeps a
        # modifier down until it is released)
        value.send_keys(Keys.CONTROL, "a", Keys.NULL)
        value.send_keys("2")
        tablet.find_element("id", "tablet-fix-save").click()
        ok = wait_for(lambda: tablet.find_element("css selector", '#tablet-fix-result .msg[data-ok="true"]'),
                      what="the correction saved")
        assert "Henkilöstö paikalla sairaanhoitaja = 2" in ok.text

        tablet.find_element("id", "tablet-notice-text").send_keys("Laboratorio suljettu klo 14 alkaen")
        tablet.find_element("id", "tablet-notice-text-sv").send_keys("Laboratoriet stängt från kl. 14")
        tablet.find_element("css selector", "#tablet-notice-units input[value=kaikki]").click()
        tablet.find_element("css selector", "#tablet-notice-importance input[value=tärkeä]").click()
        tablet.find_element("id", "tablet-notice-save").click()
        wait_for(lambda: tablet.find_element("css selector", '#tablet-notice-result .msg[data-ok="true"]'),
                 what="the notice posted")
        assert "Laboratorio suljettu klo 14 alkaen" in tablet.find_element("id", "tablet-notices").text
        posted = next(n for n in demo.backend.store.notices() if n["text"] == "Laboratorio suljettu klo 14 alkaen")
        assert posted["text_sv"] == "Laboratoriet stängt från kl. 14"  # for the Swedish turns
        assert tablet.find_element("id", "tablet-notice-text-sv").get_attribute("value") == ""  # the form is new again

        wall.get(demo.display_url("vastaanotto-kaytava"))

        def on_the_wall() -> bool:
            notices = [n.text for n in wall.find_elements("css selector", ".notice")]
            fixed = [t for t in tiles(wall) if t["metric"] == "staff.present" and t["key"] == "sairaanhoitaja"
                     and t["unit"] == "vastaanotto"]
            return "Laboratorio suljettu klo 14 alkaen" in " ".join(notices) and bool(fixed)

        wait_for(on_the_wall, timeout=20, what="the notice and the staff tile on the wall")
        audit = [(e.who, e.action) for e in demo.backend.history.audit()[-5:]]
        assert ("vuorovastaava", "correction") in audit and ("vuorovastaava", "notice") in audit
    finally:
        tablet.quit()
        wall.quit()


def wall_tile(demo: Demo, metric: str, unit: str, key: str) -> dict:  # type: ignore[type-arg]
    """The figure as the wall's display gets it (its snapshot, read with its own token), with
    the snapshot's time beside it as "generated_at"."""
    import httpx

    display = "vastaanotto-kaytava"
    with httpx.Client(base_url=demo.url, timeout=10) as screen:
        assert screen.get(f"/display/{display}?token={demo.token(display)}", headers={"Accept": "text/html"}).status_code == 200
        data = screen.get(f"/api/snapshot/{display}").json()
    tile = next(t for t in data["tiles"] if (t["metric"], t["unit"], t["key"]) == (metric, unit, key))
    return {**tile, "generated_at": data["generated_at"]}


def test_a_correction_shows_the_automatic_value_beside_it_and_is_withdrawn_from_the_tablet(demo: Demo):
    from tests.browser.conftest import chrome

    row_css = '.board-row[data-metric="staff.present"][data-unit="vastaanotto"][data-key="lääkäri"]'
    fed = wall_tile(demo, "staff.present", "vastaanotto", "lääkäri")
    assert fed["source"] == "demo-henkilosto"
    fixed = fed["value"] - 1 if fed["value"] > 0 else 1  # a doctor went home; the staffing system learns it tomorrow
    tablet = chrome(800, 1280)
    try:
        sign_in(tablet, demo.url, "vuorovastaava")
        tablet.get(f"{demo.url}/tablet")
        wait_for(lambda: tablet.find_element("id", "tablet-fix-save"), what="the tablet page")
        choose(tablet, "tablet-fix-key", "lääkäri")
        tablet.find_element("id", "tablet-fix-value").send_keys(str(fixed))
        tablet.find_element("css selector", "#tablet-fix-valid input[value='1h']").click()
        tablet.find_element("id", "tablet-fix-save").click()

        def corrected() -> tuple[str, str, str] | None:  # in one call: the board is redrawn every few seconds
            found = tablet.execute_script(
                "const r = document.querySelector(arguments[0]);"
                "return r ? [r.getAttribute('data-value'), r.getAttribute('data-corrects'), r.innerText] : null",
                row_css + '[data-source="tabletti"]')
            return tuple(found) if found else None  # type: ignore[return-value]

        saved = wait_for(lambda: tablet.find_element("css selector", '#tablet-fix-result .msg[data-ok="true"]'),
                         what="the correction saved")
        assert f"; korvaa automaattisen arvon {fed['value']} (demo-henkilosto)" in saved.text
        value, corrects, text = wait_for(corrected, timeout=60, what="the correction on the tablet's board")
        assert (value, corrects) == (str(fixed), str(fed["value"]))
        assert f"automaattinen: {fed['value']}, klo " in text and "korjattu klo" in text and "Peru korjaus" in text

        shown = wall_tile(demo, "staff.present", "vastaanotto", "lääkäri")
        assert (shown["value"], shown["source"], shown["status"]) == (fixed, "tabletti", "fresh")
        assert shown["corrects"]["value"] == fed["value"]
        assert shown["corrects"]["source"] == "demo-henkilosto"
        # the feed's own status, by its age: stale once two polls (2 s each here) have passed
        # without a reading (a loaded machine may delay a poll; the status must say so then)
        age = (datetime.fromisoformat(shown["generated_at"])
               - datetime.fromisoformat(shown["corrects"]["updated_at"])).total_seconds()
        assert shown["corrects"]["status"] == ("fresh" if age <= 4 else "stale"), age

        # The board is drawn anew every 15 s. Dash drops the answer of a callback that is
        # triggered again while it runs, so a redraw must not trigger the withdrawal's server
        # callback: else a tap just before a redraw withdraws the correction and says nothing.
        tablet.execute_script(
            "window.__asked = []; const f = window.fetch; window.fetch = function (u, o) {"
            "  try { window.__asked.push(JSON.parse(o.body).output) } catch (e) {} return f.apply(this, arguments) };"
            "window.dash_clientside.set_props('tablet-refresh', {n_intervals: 1000})")
        asked = wait_for(lambda: tablet.execute_script("return window.__asked.length && window.__asked"),
                         what="the board drawn anew")
        time.sleep(1)  # what the new board's buttons would set off
        asked = tablet.execute_script("return window.__asked")
        assert "tablet-board.children" in asked and not [a for a in asked if "withdraw" in a], asked

        tapped: list[float] = []

        def withdrawn() -> str:
            said = tablet.find_elements("css selector", "#tablet-withdraw-result .msg")
            if said:
                return str(said[0].text)
            # a tap that met a redraw of the board is lost: tap again only while the correction
            # is still in force (a loaded machine's slow first answer is not a lost tap)
            if not tapped or (time.monotonic() - tapped[-1] > 5
                              and wall_tile(demo, "staff.present", "vastaanotto", "lääkäri")["source"] == "tabletti"):
                tapped.append(time.monotonic())
                # the first tap just as the board is being drawn anew
                tablet.execute_script(
                    "if (arguments[1]) window.dash_clientside.set_props('tablet-refresh', {n_intervals: 1001});"
                    "document.querySelector(arguments[0]).click()", row_css + " button.withdraw", len(tapped) == 1)
            return ""

        # a loaded machine (CI, three workers, two demos starting) may take its time to answer
        said = wait_for(withdrawn, timeout=40, what="the withdrawal said")
        if len(tapped) == 1:
            assert said.startswith("Korjaus peruttu"), said
        else:  # the last tap's own answer: the first one had withdrawn it meanwhile
            assert said.startswith(("Korjaus peruttu", "Korjausta ei löydy (se on ehkä jo peruttu)")), said
        wait_for(lambda: tablet.find_element("css selector", row_css + '[data-source="demo-henkilosto"]'),
                 what="the feed's value back on the tablet")
        back = wall_tile(demo, "staff.present", "vastaanotto", "lääkäri")
        assert back["source"] == "demo-henkilosto" and "corrects" not in back
    finally:
        tablet.quit()


def withdraw_body(metric: str, unit: str, key: str, tap: Any = None) -> dict:  # type: ignore[type-arg]
    """What the tablet's page sends when "Peru korjaus" is tapped: the browser writes the
    tapped figure to a store (assets/tablet.js) and the server answers that store."""
    from layouts.tablet import TAP, WITHDRAWN, figure_id

    tap = {"figure": figure_id(metric, unit, key), "at": 1} if tap is None else tap
    return {"output": f"{WITHDRAWN}.children", "outputs": {"id": WITHDRAWN, "property": "children"},
            "inputs": [{"id": TAP, "property": "data", "value": tap}], "changedPropIds": [f"{TAP}.data"]}


def test_a_shift_lead_cannot_withdraw_another_units_correction(demo: Demo):
    from tests.security.test_hostile_clients import add_user, fix_body, post, said

    figure = ("queue.waiting", "vastaanotto", "hoitajan vastaanotto")

    def corrected() -> bool:
        return any(rd.ident == "|".join(figure) for rd in demo.backend.store.all_readings().get("tabletti", []))

    add_user(demo, "labra-vv", "shift_lead", "laboratorio")
    with closing(http_client(demo.url, "vuorovastaava")) as lead, closing(http_client(demo.url, "labra-vv")) as lab:
        assert "Tallennettu" in said(post(lead, fix_body("vastaanotto", "4")))
        assert corrected()
        # a tap that is no figure's text (a list, a nested object, a bare string): nothing happens
        for lie in ({"figure": ["vastaanotto"]}, {"figure": {"figure": "|".join(figure)}}, "|".join(figure)):
            r = post(lead, withdraw_body(*figure, tap=lie))
            assert r.status_code == 204 and corrected(), (lie, r.status_code, r.text[:200])
        r = post(lab, withdraw_body(*figure))  # a request that claims a unit that is not hers
        assert r.status_code == 200 and "Yksikkö: valitse jokin omista yksiköistäsi" in said(r)
        assert corrected()
        r = post(lead, withdraw_body(*figure))  # the control: her own unit
        assert r.status_code == 200 and "Korjaus peruttu" in said(r)
        assert not corrected()
        r = post(lead, withdraw_body(*figure))
        assert "Korjausta ei löydy" in said(r)


def test_the_upload_result_says_which_values_a_fresh_feed_keeps_off_the_wall(demo: Demo):
    import base64

    from tests.security.test_hostile_clients import post, said
    from tests.test_workbook import STAFF_HEAD

    present = wall_tile(demo, "staff.present", "vastaanotto", "terveydenhoitaja")
    planned = wall_tile(demo, "staff.planned", "vastaanotto", "terveydenhoitaja")
    assert present["source"] == planned["source"] == "demo-henkilosto"
    today = demo.backend.store.clock(TZ).now().strftime("%d.%m.%Y")
    book = workbook({"Henkilöstö": [STAFF_HEAD, [today, "Vastaanotto", "Terveydenhoitaja", planned["value"],
                                                 present["value"] + 2]]})
    contents = "data:application/octet-stream;base64," + base64.b64encode(book).decode()
    body = {"output": "wb-result.children", "outputs": {"id": "wb-result", "property": "children"},
            "inputs": [{"id": "wb-upload", "property": "contents", "value": contents}],
            "state": [{"id": "wb-upload", "property": "filename", "value": "aamu.xlsx"}],
            "changedPropIds": ["wb-upload.contents"]}
    with closing(http_client(demo.url, "vuorovastaava")) as lead:
        answer = said(post(lead, body))
    assert "Otettu käyttöön: aamu.xlsx" in answer
    # one warning: the planned figure is the feed's own, so nothing is hidden there
    assert answer.count("ei näy seinällä") == 1
    assert (f"Henkilöstö rivi 2: terveydenhoitaja paikalla {present['value'] + 2} ei näy seinällä: "
            f"henkilöstöjärjestelmän tuore arvo {present['value']}") in answer


# every control a finger taps, as the page draws it; a radio button or check box is tapped by
# its label, a drop-down by its control
TARGETS = """
const seen = new Set(), small = [];
const sel = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button], .dash-dropdown';
for (const el of document.querySelectorAll(sel)) {
  let t = el;
  if (el.matches('input[type=radio], input[type=checkbox]')) t = el.closest('label') || el;
  if (t.closest('.dash-dropdown') && t !== el.closest('.dash-dropdown')) t = t.closest('.dash-dropdown');
  if (seen.has(t)) continue;
  seen.add(t);
  const r = t.getBoundingClientRect(), style = getComputedStyle(t);
  if (!r.width || !r.height || style.visibility === 'hidden' || t.closest('[hidden], [aria-hidden=true]')) continue;
  if (r.height < 47.5 || r.width < 47.5)
    small.push(`${t.tagName.toLowerCase()}#${t.id}.${t.className} "${(t.textContent || t.value || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
}
return small;
"""
# today's board: every row whole, its source too, and nothing beyond the screen's edge
ROWS = """
const table = document.querySelector('#tablet-board table');
if (!table || !table.querySelector('tbody tr')) return null;
const cut = [];
for (const cell of table.querySelectorAll('th, td')) {
  if (cell.scrollWidth > cell.clientWidth + 1) cut.push(`${cell.tagName} "${cell.textContent.trim().slice(0, 30)}"`);
}
const r = table.getBoundingClientRect(), box = table.parentElement.getBoundingClientRect();
return {cut: cut, right: r.right, edge: Math.min(window.innerWidth, box.right + 1),
        page: document.documentElement.scrollWidth, width: window.innerWidth,
        headers: [...table.querySelectorAll('thead th')].map(th => th.textContent.trim())};
"""


@embedded_only  # the page's layout, not the stores under it
@pytest.mark.parametrize("size", [(800, 1280), (1280, 800)], ids=["portrait", "landscape"])
def test_the_tablet_fits_both_orientations_with_48_px_targets_and_says_the_day_and_time(demo: Demo, size):  # type: ignore[no-untyped-def]
    from tests.browser.conftest import chrome

    tablet = chrome(*size)
    try:
        sign_in(tablet, demo.url, "vuorovastaava")
        tablet.get(f"{demo.url}/tablet")
        rows = wait_for(lambda: tablet.execute_script(ROWS), timeout=30, what="today's board")
        assert rows["cut"] == [] and rows["right"] <= rows["edge"], rows
        assert rows["page"] <= rows["width"], rows  # no sideways scrolling
        assert rows["headers"][-1] == "Tila ja lähde", rows["headers"]  # the source is on the row too
        assert tablet.execute_script(TARGETS) == []
        # the day and time, kept by the page on the store's clock (the demo's simulated day):
        # as the server said it when drawing the page, or a minute or two on
        clock = tablet.find_element("id", "tablet-clock")
        tablet.execute_script("document.dispatchEvent(new Event('DOMContentLoaded'))")  # a tick now
        drawn = datetime.fromisoformat(clock.get_attribute("datetime"))
        said = [f"{WEEKDAYS[t.weekday()]} {t.day}.{t.month}.{t.year} klo {t.hour}.{t.minute:02d}"
                for t in (drawn + timedelta(minutes=m) for m in range(3))]
        assert clock.text in said, (clock.text, said)
        # a tap on a row of today's board fills the correction form with that figure
        row = tablet.find_elements("css selector", "#tablet-board tr.board-row[data-key]:not([data-key=''])")[0]
        tablet.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
        row.find_elements("tag name", "td")[0].click()
        wait_for(lambda: row.get_attribute("data-key") in tablet.find_element("id", "tablet-fix-key").text,
                 what="the form filled")
        assert tablet.find_element("id", "tablet-fix-value").get_attribute("value") == row.get_attribute("data-value")
        assert tablet.switch_to.active_element.get_attribute("id") == "tablet-fix-value"
    finally:
        tablet.quit()


WEEKDAYS = ["ma", "ti", "ke", "to", "pe", "la", "su"]
