"""Access to care where people see it: the manager's /history/access in a real browser (its
figures are the database's, each beside its rule and law), its downloads and print view, a
shift lead and a screen kept out of it however they ask, and the staff display's access page
(never a public display's)."""

from __future__ import annotations

import csv
import io
import json
from contextlib import closing
from datetime import timedelta

import openpyxl
import pytest

from dashboard.config import load_config
from dashboard.domain import accessfigures
from layouts.accesspage import SHEETS, TABLES
from tests.browser.conftest import Demo, chrome, http_client, sign_in
from tests.browser.test_access import HTML, callback, router, screen
from tests.conftest import wait_for

pytestmark = pytest.mark.browser


def today_of(demo: Demo):  # type: ignore[no-untyped-def]
    config = load_config(demo.config)
    return demo.backend.store.clock(config.tz).now().date(), config


def cases_in(demo: Demo) -> int:
    from sqlalchemy import func, select

    from dashboard.storage.tables import AccessCase

    with demo.backend.history.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AccessCase)).scalar() or 0)


def content_body(units: list[str], start: str, end: str, period: str) -> dict[str, object]:
    """The access page's own callback, as its page sends it."""
    outs = ["access-content.children", "access-links.children", "access-error.children"]
    return {"output": ".." + "...".join(outs) + "..",
            "outputs": [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True)) for o in outs],
            "inputs": [{"id": "access-units", "property": "value", "value": units},
                       {"id": "access-range", "property": "start_date", "value": start},
                       {"id": "access-range", "property": "end_date", "value": end},
                       {"id": "access-period", "property": "value", "value": period}],
            "changedPropIds": ["access-units.value"], "state": []}


def test_the_manager_reads_each_figure_beside_its_rule_and_law(demo: Demo):
    wait_for(lambda: cases_in(demo) > 1000, timeout=90, interval=1, what="the demo's cases")
    today, config = today_of(demo)
    driver = chrome(1600, 1200)
    try:
        sign_in(driver, demo.url, "esihenkilo")
        driver.get(f"{demo.url}/history/access")
        explained: list[str] = []

        def read() -> dict | None:  # type: ignore[type-arg]
            rows, explain = driver.execute_script(  # in one call: the page as it stands at one moment
                "const e = document.getElementById('access-explain');"
                "return [Array.from(document.querySelectorAll('#access-summary tr.access-row')).map(r => ["
                "r.dataset.unit, r.dataset.service, r.dataset.age, r.dataset.measure, r.dataset.rule,"
                "r.dataset.started, r.dataset.within, r.innerText]), e ? e.innerText : null]")
            if rows and explain:
                explained.append(explain)
            return {tuple(r[:5]): (int(r[5]), int(r[6]), r[7]) for r in rows} if rows and explain else None

        shown = wait_for(read, timeout=90, what="the access table and its explanation")
        # the page's default: every unit, the last 26 weeks, by month — as the figures module gives them
        view = accessfigures.view(demo.backend.history, None, today - timedelta(weeks=26), today, "month", today,
                                  config.access.bins)
        assert len(shown) == len(view.summary) > 10
        rules = {r.id: r for r in config.access.rules}
        for g, f in view.summary.items():
            started, within, text = shown[(g.unit, g.service, g.age_group, g.measure, g.rule_id)]
            assert (started, within) == (f.started, f.within)
            assert g.rule_id in text and rules[g.rule_id or ""].law in text  # the rule and its law on the row
        # the services of the demo's four units are all there, social services too
        assert {s for _, s, *_ in shown} == {"perusterveydenhuolto", "suun_terveydenhuolto", "mielenterveys",
                                             "sosiaalipalvelut"}
        assert "Kiireelliset lasketaan erikseen" in explained[-1]  # read with the table, as drawn together
        # a wrong choice is named, and what was shown stays
        driver.find_element("css selector", "#access-period input[value='week']").click()
        wait_for(lambda: driver.find_elements("css selector", "#access-periods tr"), timeout=20, what="weekly rows")
    finally:
        driver.quit()


def test_every_table_downloads_and_prints_and_bad_choices_are_named(demo: Demo):
    today, config = today_of(demo)
    units = ",".join(u.code for u in config.units)
    good = {"units": units, "start": (today - timedelta(days=90)).isoformat(), "end": today.isoformat(), "period": "week"}
    with closing(http_client(demo.url, "esihenkilo")) as manager:
        for table in TABLES:
            got = manager.get("/history/access/export.csv", params={**good, "table": table})
            assert got.status_code == 200, (table, got.text)
            head = next(csv.reader(io.StringIO(got.content.decode("utf-8-sig")), delimiter=";"))
            assert head and all(head), table
        summary = list(csv.reader(io.StringIO(manager.get("/history/access/export.csv", params=good)
                                              .content.decode("utf-8-sig")), delimiter=";"))
        assert summary[0][:5] == ["Yksikkö", "Palvelu", "Ikäryhmä", "Mitattava väli", "Sääntö"] and len(summary) > 5
        xlsx = manager.get("/history/access/export.xlsx", params=good)
        assert xlsx.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
        assert book.sheetnames == [SHEETS[t] for t in TABLES]
        printed = manager.get("/history/access/print", params=good)
        assert printed.status_code == 200 and "Määräajassa" in printed.text and "Terveydenhuoltolaki" in printed.text
        bad = manager.get("/history/access/export.csv", params={**good, "units": "rontgen", "end": "2020-01-01"})
        assert bad.status_code == 400
        assert "Yksiköt" in bad.json()["error"] and "loppu on ennen alkua" in bad.json()["error"]
        assert manager.get("/history/access/export.csv", params={**good, "table": "../../etc"}).status_code == 400
        assert manager.get("/history/access/export.pdf", params=good).status_code == 404
        # the callback itself, sent raw with a unit list that is not a list of names
        raw = callback(manager, content_body([{"$ne": ""}], good["start"], good["end"], "week"))  # type: ignore[list-item]
        assert raw.status_code == 200 and "Yksik\u00f6t" in raw.json()["response"]["access-error"]["children"]["props"]["children"]


def test_a_shift_lead_and_a_screen_get_none_of_it_however_they_ask(demo: Demo):
    today, config = today_of(demo)
    params = {"units": "vastaanotto", "start": (today - timedelta(days=30)).isoformat(), "end": today.isoformat(),
              "period": "month"}
    body = content_body(["vastaanotto"], params["start"], params["end"], "month")
    with closing(http_client(demo.url, "vuorovastaava")) as lead:
        assert lead.get("/history/access", headers=HTML).status_code == 403
        assert callback(lead, router("/history/access")).status_code == 403
        assert callback(lead, body).status_code == 403  # the page's own callback, asked for directly
        for path in ("/history/access/export.csv", "/history/access/export.xlsx", "/history/access/print"):
            assert lead.get(path, params=params).status_code == 403, path
        # relabelled: the access page's inputs under the tablet's output names
        bent = json.loads(json.dumps(body))
        bent["output"] = "tablet-content.children"
        assert callback(lead, bent).status_code in (400, 403)
    with closing(screen(demo, "johto")) as wall:
        assert wall.get("/history/access/export.csv", params=params).status_code in (401, 403)
        assert callback(wall, body).status_code in (401, 403)


def test_the_staff_wall_has_an_access_page_and_the_waiting_room_none(browser, demo: Demo):
    wait_for(lambda: cases_in(demo) > 1000, timeout=90, interval=1, what="the demo's cases")
    driver = browser  # the folder's Chromium, 1920 × 1080
    driver.get(demo.display_url("johto"))
    page = wait_for(lambda: driver.find_element("css selector", ".page--access"), timeout=30, what="access page")
    cards = wait_for(lambda: page.find_elements("css selector", ".card--access") or None, timeout=30,
                     what="access cards")
    assert {c.get_attribute("data-card-unit") for c in cards} == {"vastaanotto", "suun_th", "mtpa", "sosiaali"}
    share = page.find_element("css selector", '[data-metric="access.within_week_pct"][data-unit="sosiaali"]')
    past = page.find_element("css selector", '[data-metric="access.open_past_limit"][data-unit="sosiaali"]')
    today, config = today_of(demo)
    figures = accessfigures.unit_now(demo.backend.history, ["sosiaali"], today)["sosiaali"]
    assert int(past.get_attribute("data-value")) == figures[2]
    if figures[0]:
        assert float(share.get_attribute("data-value")) == round(100 * figures[1] / figures[0], 1)
    aula = demo.cli("snapshot", "--display", "aula", "--json")
    assert aula.returncode == 0 and "access." not in aula.stdout
