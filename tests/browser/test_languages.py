"""A Swedish-speaking manager (issue 16): their browser asks for Swedish, so the sign-in page
and the history page speak Swedish, with Swedish names of days and Finland-Swedish dates and
numbers in the charts; they switch to English in the staff bar and the page, its numbers and
its download follow, and the choice stays with their account."""

from __future__ import annotations

import csv
import io
import re
from contextlib import closing

import pytest

from dashboard.demo import PASSWORD
from dashboard.export import report_headers
from dashboard.translate import gettext_in
from tests.browser.conftest import Demo, chrome, http_client
from tests.browser.test_history_page import demo_tz
from tests.conftest import wait_for
from tests.security.test_hostile_clients import add_user

pytestmark = pytest.mark.browser

HOVER_LAST_POINT = """
const gd = document.querySelector('#history-series-1 .js-plotly-plot');
const n = gd.data[0].x.length;
Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: n - 1}]);
return Array.from(gd.querySelectorAll('.hoverlayer text')).map(e => e.textContent).join(' | ');"""
# Monday first, as a Swede in Finland and a Briton abbreviate them
WEEKDAYS = {"sv": ["mån", "tis", "ons", "tors", "fre", "lör", "sön"], "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}


def test_a_swedish_speaking_manager_uses_the_history_page_in_swedish_then_english(demo: Demo):
    demo.history_in()
    add_user(demo, "chef-sv", "manager")
    driver = chrome(1600, 1000, languages="sv-FI,sv,en")
    today = demo.backend.store.clock(demo_tz(demo)).now().date()
    try:
        driver.get(f"{demo.url}/login")
        assert driver.find_element("tag name", "html").get_attribute("lang") == "sv"
        assert driver.find_element("id", "login-submit").text == "Logga in"
        driver.find_element("id", "name").send_keys("chef-sv")
        driver.find_element("id", "password").send_keys(PASSWORD)
        driver.find_element("id", "login-submit").click()
        wait_for(lambda: "/login" not in driver.current_url, what="signed in")
        driver.get(f"{demo.url}/history")
        wait_for(lambda: driver.find_elements("css selector", "#history-series-1 .xtick text"), timeout=30,
                 what="the charts")
        assert driver.find_element("tag name", "html").get_attribute("lang") == "sv"
        assert driver.find_element("tag name", "h1").text == "Historik"
        assert driver.find_element("id", "staffbar-lang-sv").get_attribute("aria-pressed") == "true"
        title = driver.find_element("css selector", "#history-series-1 .gtitle").text
        assert title == gettext_in("sv", "{metric}, keskiarvo aukioloaikana {hours}",
                                   metric=gettext_in("sv", "Henkilöstö paikalla"), hours="8–16")
        ticks = driver.execute_script(
            "return Array.from(document.querySelectorAll('#history-series-0 .xtick text')).map(e => e.textContent)")
        assert ticks and all(re.fullmatch(r"\d{1,2}\.\d{1,2}\.", t) for t in ticks), ticks  # 23.11.
        hover = driver.execute_script(HOVER_LAST_POINT)
        day = f"{today.day}.{today.month}.{today.year}"
        assert f"{WEEKDAYS['sv'][today.weekday()]} {day}" in hover, hover
        assert re.search(r": \d+(,\d)?(?![\d.,])", hover), hover  # a decimal comma
        assert not re.search(r"\d\.\d", hover.replace(day, "")), hover
        start = driver.find_element("id", "history-range").get_attribute("value")
        assert re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", start), start  # d.M.yyyy, as sv_FI writes dates

        driver.find_element("id", "staffbar-lang-en").click()  # the person's own choice
        wait_for(lambda: driver.find_element("tag name", "html").get_attribute("lang") == "en", what="English")
        wait_for(lambda: driver.find_elements("css selector", "#history-series-1 .xtick text"), timeout=30,
                 what="the charts in English")
        assert driver.find_element("tag name", "h1").text == "History"
        hover = driver.execute_script(HOVER_LAST_POINT)
        assert f"{WEEKDAYS['en'][today.weekday()]} {today.isoformat()}" in hover, hover  # ISO, as the downloads
        assert not re.search(r"\d,\d", hover), hover  # a decimal point, never a comma
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", driver.find_element("id", "history-range")
                            .get_attribute("value"))
        href = driver.find_element("id", "history-csv").get_attribute("href")
    finally:
        driver.quit()
    # the download in the person's language, from another session of theirs (kept with the account)
    with closing(http_client(demo.url, "chef-sv")) as client:
        r = client.get(href)
        assert r.status_code == 200
        first = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";" if ";" in r.text[:200] else ","))
        assert first == report_headers("day", "en")


CALENDAR_WEEKS_JS = """
return Array.from(document.querySelectorAll('table.dash-datepicker-calendar')).map(t => ({
  month: t.querySelector('.dash-datepicker-calendar-month-header').textContent,
  head: t.tHead.rows[1].cells[0].textContent,
  rows: Array.from(t.querySelectorAll('tr.dash-datepicker-calendar-week')).map(r => ({
    week: r.cells[0].textContent, label: r.cells[0].getAttribute('aria-label'),
    monday: r.querySelector('td').textContent,
    inside: r.querySelector('td').classList.contains('dash-datepicker-calendar-date-inside'),
    first: (r.querySelector('td.dash-datepicker-calendar-date-inside') || {}).textContent})),
}));"""
FI_MONTHS = ["tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu", "heinäkuu", "elokuu",
             "syyskuu", "lokakuu", "marraskuu", "joulukuu"]


def test_the_calendar_shows_iso_weeks_that_follow_the_month_shown(demo: Demo):
    """Finnish managers think in weeks: each row of the date picker's calendar carries its ISO
    week, worked out here from the row's own dates, also after the month is changed (Dash
    reuses the rows) and across a year's end; the month arrows are named in Finnish."""
    from datetime import date

    add_user(demo, "viikot-fi", "manager")
    driver = chrome(1400, 1000)
    try:
        driver.get(f"{demo.url}/login")
        driver.find_element("id", "name").send_keys("viikot-fi")
        driver.find_element("id", "password").send_keys(PASSWORD)
        driver.find_element("id", "login-submit").click()
        wait_for(lambda: "/login" not in driver.current_url, what="signed in")
        driver.get(f"{demo.url}/history")
        wait_for(lambda: driver.find_element("id", "history-range"), timeout=30, what="the range")
        driver.execute_script("document.getElementById('history-range').click()")

        def weeks() -> list[dict[str, object]]:
            shown = driver.execute_script(CALENDAR_WEEKS_JS)
            assert shown and all(bool(r["week"]) == bool(r["monday"]) for t in shown for r in t["rows"]), shown
            return shown  # type: ignore[no-any-return]

        seen: set[str] = set()
        for _ in range(14):  # a year and more, month by month: the year's end is among them
            for table in wait_for(weeks, what="the calendar's weeks"):
                name, year = str(table["month"]).rsplit(" ", 1)
                month = FI_MONTHS.index(name) + 1
                assert table["head"] == "vk"
                for i, row in enumerate(table["rows"]):  # type: ignore[attr-defined]
                    if not row["monday"]:  # a padding row Dash leaves empty: no number either
                        continue
                    if row["inside"]:  # Monday is of the month shown
                        day = date(int(year), month, int(row["monday"]))
                    elif i == 0:  # of the month before
                        day = date(int(year) - (month == 1), (month - 2) % 12 + 1, int(row["monday"]))
                    else:  # of the month after (a sixth row may hold only those)
                        day = date(int(year) + (month == 12), month % 12 + 1, int(row["monday"]))
                    week = day.isocalendar().week
                    assert (row["week"], row["label"]) == (str(week), f"viikko {week}"), (table["month"], row)
                seen.add(str(table["month"]))
            if len(seen) > 2 and {"tammikuu", "joulukuu"} <= {m.split()[0] for m in seen}:
                break  # rows reused once at least, and a year's end crossed
            arrows = driver.find_elements("css selector", "button.dash-datepicker-month-nav")
            assert [a.get_attribute("aria-label") for a in arrows] == ["Edellinen kuukausi", "Seuraava kuukausi"]
            before = driver.execute_script(CALENDAR_WEEKS_JS)[0]["month"]
            arrows[-1].click()
            wait_for(lambda b=before: driver.execute_script(CALENDAR_WEEKS_JS)[0]["month"] != b, what="the next month")
        assert any(m.startswith("tammikuu") for m in seen) and any(m.startswith("joulukuu") for m in seen), seen
    finally:
        driver.quit()
