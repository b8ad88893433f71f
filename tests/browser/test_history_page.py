"""The manager's history page in a real browser: pick a range, export it, and the file's
figures are the database's."""

from __future__ import annotations

import csv
import io
from contextlib import closing
from datetime import date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from tests.browser.conftest import Demo, chrome, http_client, sign_in
from tests.conftest import wait_for

pytestmark = pytest.mark.browser


def number(cell: str) -> float | None:
    return None if cell == "" else float(cell.replace(",", "."))


def test_a_manager_picks_a_range_and_exports_a_csv_matching_the_database(demo: Demo):
    driver = chrome(1600, 1000)
    try:
        sign_in(driver, demo.url, "esihenkilo")
        driver.get(f"{demo.url}/history")
        link = wait_for(lambda: driver.find_element("id", "history-csv"), timeout=20, what="the export link")
        assert driver.find_element("id", "history-series")  # the chart is drawn
        # the manager narrows the range to the last week: type the start date
        today = demo.backend.store.clock(demo_tz(demo)).now().date()
        start = today - timedelta(days=6)
        from selenium.webdriver.common.keys import Keys

        field = driver.find_element("id", "history-range")  # the range's start field
        field.click()
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(f"{start.day}.{start.month}.{start.year}", Keys.TAB)
        wait_for(lambda: f"start={start.isoformat()}" in driver.find_element("id", "history-csv").get_attribute("href"),
                 timeout=15, what="the range in the export link")
        href = driver.find_element("id", "history-csv").get_attribute("href")
        cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
        assert link
    finally:
        driver.quit()
    with closing(httpx.Client(cookies=cookies, timeout=20)) as client:
        r = client.get(href)
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Mittari", "Yksikkö", "Tarkenne", "Alkaa", "Keskiarvo"]
    body = rows[1:]
    assert body, "the export is empty"
    # the same figures, read straight from the database's daily rollups
    with demo.backend.history.engine.connect() as conn:
        db = {(m, u, k, str(d)[:10]): (mean, mx) for m, u, k, d, mean, mx in conn.execute(text(
            "SELECT metric, unit, key, day, mean, max FROM daily_rollups WHERE unit = 'vastaanotto'"
            " AND metric IN ('queue.waiting', 'staff.present') AND day >= :a AND day <= :b"),
            {"a": start, "b": today})}
    assert len(body) == len(db)
    for metric, unit, key, starts, mean, _min, mx, *_ in body:
        day = datetime.strptime(starts, "%d.%m.%Y %H.%M").date().isoformat()
        want_mean, want_max = db[(metric, unit, key, day)]
        assert number(mean) == pytest.approx(want_mean, abs=0.05) and number(mx) == pytest.approx(want_max, abs=0.05)
    assert any(e.action == "export" and e.who == "esihenkilo" for e in demo.backend.history.audit())


def demo_tz(demo: Demo):  # type: ignore[no-untyped-def]
    from dashboard.config import load_config

    return load_config(demo.config).tz


def test_the_export_and_print_views_refuse_bad_choices_by_name(demo: Demo):
    with closing(http_client(demo.url, "esihenkilo")) as manager:
        bad = manager.get("/history/export.csv", params={"units": "rontgen", "metrics": "queue.waiting",
                                                          "start": "2026-11-10", "end": "2026-11-01"})
        assert bad.status_code == 400
        assert "Yksiköt" in bad.json()["error"] and "loppu on ennen alkua" in bad.json()["error"]
        good = {"units": "vastaanotto", "metrics": "queue.waiting", "start": date.today().isoformat(),
                "end": date.today().isoformat(), "grain": "hour"}
        xlsx = manager.get("/history/export.xlsx", params=good)
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        printed = manager.get("/history/print", params=good)
        assert printed.status_code == 200 and "Hoitoon pääsy" in printed.text
    with closing(http_client(demo.url, "vuorovastaava")) as lead:
        assert lead.get("/history/export.csv", params=good).status_code == 403
