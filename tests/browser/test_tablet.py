from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import Demo, tiles
from tests.conftest import wait_for
from tests.test_workbook import workbook

pytestmark = pytest.mark.browser
TZ = ZoneInfo("Europe/Helsinki")


def save(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    path.write_bytes(workbook(sheets))
    return path


def upload(browser, demo: Demo, path: Path) -> str:  # type: ignore[no-untyped-def]
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
    browser.get(f"{demo.url}/display/vastaanotto-kaytava")

    def ultrasound() -> list[dict[str, str]]:
        return [t for t in tiles(browser) if t["key"] == "ultraääni"]

    shown = wait_for(ultrasound, timeout=20, what="the uploaded value on the wall")
    assert {(t["metric"], t["value"], t["status"], t["source"]) for t in shown} == {
        ("capacity.in_use", "1", "fresh", "tyokirja"), ("capacity.total", "2", "fresh", "tyokirja")}


def test_the_template_downloads(demo: Demo):
    import urllib.request

    from dashboard.workbook.reader import read

    with urllib.request.urlopen(f"{demo.url}/tablet/template.xlsx") as r:
        sheets = read(r.read()).sheets
    assert {"Henkilöstö", "Ajanvaraus", "Jonot", "Kapasiteetti", "Tiedotteet"} <= set(sheets)
