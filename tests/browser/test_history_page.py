"""The manager's history page in a real browser: pick a range, export it, and the file's
figures are the database's."""

from __future__ import annotations

import csv
import io
import re
from contextlib import closing
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from tests.browser.conftest import Demo, chrome, http_client, sign_in
from tests.conftest import wait_for

pytestmark = pytest.mark.browser


def number(cell: str) -> float | None:
    return None if cell == "" else float(cell.replace(",", "."))


def test_a_manager_picks_a_range_and_exports_a_csv_matching_the_database(demo: Demo):
    demo.history_in()  # the past weeks, seeded in the background after the demo's start
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
        field.send_keys(Keys.CONTROL, "a", Keys.NULL)  # NULL lets go of Ctrl (else it stays down)
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
    head = rows[0]
    assert head[:9] == ["Jakso", "Päivä", "Yksikkö", "Yksikön nimi", "Mittari", "Mittarin nimi", "Tarkenne",
                        "Aukioloaika", "Päivän luku"]
    every = [dict(zip(head, line, strict=True)) for line in rows[1:]]
    # the page compares with the four weeks before: their rows come too, each saying so
    body = [line for line in every if line["Jakso"].startswith("valittu ")]
    assert body, "the export is empty"
    assert {line["Jakso"].split()[0] for line in every} == {"valittu", "vertailu"}
    # the same figures, read straight from the database's daily rollups
    with demo.backend.history.engine.connect() as conn:
        db = {(m, u, k, str(d)[:10]): (mean, mx) for m, u, k, d, mean, mx in conn.execute(text(
            "SELECT metric, unit, key, day, open_mean, open_max FROM daily_rollups WHERE unit = 'vastaanotto'"
            " AND metric IN ('queue.waiting', 'staff.present') AND day >= :a AND day <= :b"),
            {"a": start, "b": today})}
    assert len(body) == len(db)
    for line in body:
        assert (line["Yksikön nimi"], line["Aukioloaika"]) == ("Vastaanotto", "8–16")
        day = datetime.strptime(line["Päivä"], "%d.%m.%Y").date()
        assert line["Päivä"] == f"{day.day}.{day.month}.{day.year}"  # as on the screen: no 00.00
        want_mean, want_max = db[(line["Mittari"], line["Yksikkö"], line["Tarkenne"], day.isoformat())]
        if day == today:  # the demo's day goes on meanwhile: its figures move, and it says so
            assert line["Tila"] == "kesken" and line["Sulkemishetkellä"] == ""
            continue
        assert line["Tila"].startswith("valmis"), line
        assert number(line["Päivän luku"]) == pytest.approx(want_mean, abs=0.0006), line
        assert number(line["Suurin aukioloaikana"]) == pytest.approx(want_max, abs=0.0006), line
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
        today = demo.backend.store.clock(demo_tz(demo)).now().date().isoformat()  # the site's day
        good = {"units": "vastaanotto", "metrics": "queue.waiting", "start": today, "end": today, "grain": "hour"}
        xlsx = manager.get("/history/export.xlsx", params=good)
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        printed = manager.get("/history/print", params=good)
        assert printed.status_code == 200 and "Takaisinsoitot samana arkipäivänä" in printed.text
    with closing(http_client(demo.url, "vuorovastaava")) as lead:
        assert lead.get("/history/export.csv", params=good).status_code == 403


def test_the_charts_speak_finnish_and_a_single_queue_can_be_chosen(demo: Demo, tmp_path):  # type: ignore[no-untyped-def]
    demo.history_in()  # else the chart may hold only today's hours, and its axis says "3.12. klo 0"
    driver = chrome(1600, 1000)
    try:
        sign_in(driver, demo.url, "esihenkilo")
        driver.get(f"{demo.url}/history")
        wait_for(lambda: driver.find_elements("css selector", "#history-series-0 .xtick text"), timeout=30,
                 what="the first chart's axis")
        x_ticks = driver.execute_script(
            "return Array.from(document.querySelectorAll('#history-series-0 .xtick text')).map(e => e.textContent)")
        assert x_ticks and all(re.fullmatch(r"\d{1,2}\.\d{1,2}\.", t) for t in x_ticks), x_ticks  # 23.11.
        hover = driver.execute_script("""
            const gd = document.querySelector('#history-series-1 .js-plotly-plot');
            const n = gd.data[0].x.length;
            Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: n - 1}]);
            return Array.from(gd.querySelectorAll('.hoverlayer text')).map(e => e.textContent).join(' | ');""")
        # today, its weekday in Finnish, unfinished; the figure with a decimal comma and what it is
        today = demo.backend.store.clock(demo_tz(demo)).now().date()
        weekday = ["ma", "ti", "ke", "to", "pe", "la", "su"][today.weekday()]
        assert f"{weekday} {today.day}.{today.month}.{today.year} (kesken)" in hover, hover
        assert re.search(r"keskiarvo aukioloaikana 8–16: \d+(,\d)?(?![\d.,])", hover), hover
        assert not re.search(r"\d\.\d", hover.replace(f"{today.day}.{today.month}.{today.year}", "")), hover
        title = driver.find_element("css selector", "#history-series-1 .gtitle").text
        assert title == "Henkilöstö paikalla, keskiarvo aukioloaikana 8–16"
        driver.save_screenshot(str(tmp_path / "history.png"))
        # one queue on its own
        queues = driver.execute_script(
            "return document.querySelector('#history-series-0 .js-plotly-plot').data.map(t => t.meta.key)")
        assert len(queues) >= 2
        driver.find_element("id", "history-keys").click()  # open the list, tick the queue, as a hand would
        option = wait_for(lambda: driver.find_element(  # what the option says: the key and what it is
            "xpath", f"//span[contains(@class, 'dash-options-list-option-text')]/span[text()='{queues[0]} (jono)']"),
            what="the queue's option")
        option.click()
        wait_for(lambda: driver.execute_script(
            "const gd = document.querySelector('#history-series-0 .js-plotly-plot');"
            "return gd && gd.data.length === 1 && gd.data[0].meta.key"), timeout=15, what="one queue's line")
        assert driver.execute_script(
            "return document.querySelector('#history-series-0 .js-plotly-plot').data[0].meta.key") == queues[0]
        assert "keys=" in driver.find_element("id", "history-csv").get_attribute("href")
    finally:
        driver.quit()
