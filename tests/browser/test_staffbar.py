"""The bar on the staff pages in a real browser: a manager finds the history page from the start
page and signs out with its button (a form POST with the session's CSRF token)."""

import pytest

from tests.browser.conftest import Demo, embedded_only, sign_in
from tests.conftest import wait_for

pytestmark = pytest.mark.browser


@embedded_only
def test_a_manager_finds_the_history_page_and_signs_out(browser, demo: Demo):  # type: ignore[no-untyped-def]
    sign_in(browser, demo.url, "esihenkilo")
    browser.get(f"{demo.url}/")
    bar = wait_for(lambda: browser.find_elements("css selector", "nav.staffbar"), timeout=20, what="the bar")[0]
    assert [a.text for a in bar.find_elements("css selector", "a")] == ["Näytöt", "Historia", "Hoitoonpääsy"]
    assert "esihenkilo" in bar.text and "(esihenkilö)" in bar.text
    assert "odotustilan näyttö" in browser.find_element("css selector", ".index main").text
    bar.find_element("link text", "Historia").click()
    wait_for(lambda: browser.current_url.endswith("/history"), timeout=20, what="the history page")
    browser.get(f"{demo.url}/")
    wait_for(lambda: browser.find_elements("css selector", ".staffbar-out"), timeout=20, what="the button")[0].click()
    wait_for(lambda: "/login" in browser.current_url, timeout=20, what="signed out")
    browser.get(f"{demo.url}/")
    wait_for(lambda: "/login" in browser.current_url, timeout=20, what="the start page asks to sign in again")


@embedded_only
def test_the_history_pages_calendar_and_drop_downs_speak_finnish(browser, demo: Demo):  # type: ignore[no-untyped-def]
    """Dash's own parts: the calendar names months and weekdays in Finnish, Monday first (the
    browser here asks for English: Finnish is the site's), and a drop-down says "valittu"."""
    sign_in(browser, demo.url, "esihenkilo")
    browser.get(f"{demo.url}/history")
    wait_for(lambda: browser.find_elements("css selector", ".dash-datepicker-input-wrapper input"), timeout=20,
             what="the date fields")[0].click()
    calendar = wait_for(lambda: browser.execute_script(
        "var c = document.querySelector('[role=dialog]'); return c && c.innerText"), timeout=10, what="the calendar")
    months = ("tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu", "heinäkuu", "elokuu",
              "syyskuu", "lokakuu", "marraskuu", "joulukuu")
    assert any(m in calendar for m in months), calendar[:200]
    days = [d for d in calendar.split() if d in ("ma", "ti", "ke", "to", "pe", "la", "su")]
    assert days[:7] == ["ma", "ti", "ke", "to", "pe", "la", "su"], calendar[:200]
    assert "Mon" not in calendar and "Su" not in calendar.split()
    assert "valittu" in browser.find_element("id", "history-metrics").text
