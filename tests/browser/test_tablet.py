from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import Demo, http_client, sign_in, tiles
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
    """Pick an option of a dcc.Dropdown by its visible text, as a finger would."""
    from selenium.webdriver.common.keys import Keys

    box = browser.find_element("css selector", f"#{dropdown_id} input")
    box.send_keys(label)
    box.send_keys(Keys.ENTER)


def test_a_shift_lead_corrects_a_value_and_posts_a_notice_from_a_tablet(demo: Demo):
    from tests.browser.conftest import chrome

    tablet = chrome(800, 1280)  # a 10-inch tablet, portrait
    wall = chrome()
    try:
        sign_in(tablet, demo.url, "vuorovastaava")
        tablet.get(f"{demo.url}/tablet")
        wait_for(lambda: tablet.find_element("id", "tablet-fix-save"), what="the tablet page")
        # a bad value first: refused by name, nothing changes
        tablet.find_element("id", "tablet-fix-key").send_keys("Sairaanhoitaja")
        tablet.find_element("id", "tablet-fix-value").send_keys("kolme")
        tablet.find_element("id", "tablet-fix-save").click()
        refused = wait_for(lambda: tablet.find_element("css selector", '#tablet-fix-result .msg[data-ok="false"]'),
                           what="the refusal")
        assert "Arvo: anna luku" in refused.text
        from selenium.webdriver.common.keys import Keys

        value = tablet.find_element("id", "tablet-fix-value")
        value.send_keys(Keys.CONTROL, "a")  # select what was typed, and type over it
        value.send_keys("2")
        tablet.find_element("id", "tablet-fix-save").click()
        ok = wait_for(lambda: tablet.find_element("css selector", '#tablet-fix-result .msg[data-ok="true"]'),
                      what="the correction saved")
        assert "Henkilöstö paikalla sairaanhoitaja = 2" in ok.text

        tablet.find_element("id", "tablet-notice-text").send_keys("Laboratorio suljettu klo 14 alkaen")
        tablet.find_element("css selector", "#tablet-notice-units input[value=kaikki]").click()
        tablet.find_element("css selector", "#tablet-notice-importance input[value=tärkeä]").click()
        tablet.find_element("id", "tablet-notice-save").click()
        wait_for(lambda: tablet.find_element("css selector", '#tablet-notice-result .msg[data-ok="true"]'),
                 what="the notice posted")
        assert "Laboratorio suljettu klo 14 alkaen" in tablet.find_element("id", "tablet-notices").text

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
