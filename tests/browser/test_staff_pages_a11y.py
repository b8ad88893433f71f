"""The staff pages as accessible as the walls (issue 16): axe-core finds no serious or
critical problem (WCAG 2.1 AA and best practice) on the sign-in page, the tablet, the
history pages and the admin page — as drawn, and with what opens on them (a drop-down's
option list, a date picker's calendar, a refused sign-in) — and a shift lead posts a notice
on the tablet with the keyboard alone, seeing where the focus is at every step.

They look at the pages, not at the store: they run on the embedded one only."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from dashboard.demo import PASSWORD
from tests.browser.conftest import Demo, chrome, embedded_only, sign_in
from tests.browser.test_screen_layout import AXE, run_axe
from tests.conftest import wait_for

pytestmark = pytest.mark.browser

# What Dash 4's own components render and nothing outside them can change (no prop reaches
# these attributes): each skipped for its one rule on its one kind of element, nothing else.
DASH_OWN = [
    # dcc.RadioItems, dcc.Checklist and an open dcc.Dropdown's list (OptionsList): each option
    # is a <label role="option"> around its own focusable <input>
    ("nested-interactive", ".dash-options-list > label.dash-options-list-option[role=option]"),
    # dcc.RadioItems, dcc.Checklist and an open dcc.Dropdown's list: the <div role="listbox">
    # around the options takes no aria-label or aria-labelledby (the components pass neither
    # on); the inputs inside are labelled, and each group is named by our legend or label
    ("aria-input-field-name", ".dash-options-list[role=listbox]"),
    # dcc.Dropdown: a hidden <input aria-hidden="true" tabindex="0"> that takes Tab focus
    # for Safari and hands it to the drop-down's own button at once
    ("aria-hidden-focus", "input.dash-dropdown-focus-target[aria-hidden=true]"),
    # dcc.Dropdown with several values: its button's name is "N valittu" and then the values,
    # the visible text the values and then "N valittu"
    ("label-content-name-mismatch", "button.dash-dropdown[aria-labelledby]"),
    # dcc.DatePickerRange: aria-expanded on its <div> wrapper, which has no role
    ("aria-allowed-attr", "div.dash-datepicker-input-wrapper[aria-expanded]"),
    # dcc.Dropdown's option list and dcc.DatePickerRange's calendar: each a Radix popover,
    # a <div role="dialog"> without a name
    ("aria-dialog-name", ".dash-dropdown-content[role=dialog], .dash-datepicker-content[role=dialog]"),
]

AXE_RUN = """
const known = arguments[0], done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
                   resultTypes: ['violations']}).then(r => done(r.violations.map(v => {
  const nodes = v.nodes.filter(n => {
    const el = n.target.length === 1 ? document.querySelector(n.target[0]) : null;
    return !(el && known.some(([rule, css]) => rule === v.id && el.matches(css)));
  });
  return {id: v.id, impact: v.impact, help: v.help, count: nodes.length,
          nodes: nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.html.slice(0, 120))};
}).filter(v => v.count > 0)), e => done([{id: 'error', impact: 'critical', help: String(e)}]));
"""


def serious_violations(driver: webdriver.Chrome) -> list[dict[str, object]]:
    """As `run_axe` of the walls' test, but with Dash's own faults above left out, each by
    its rule and element; the rest of a rule's elements still count."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    found: list[dict[str, object]] = driver.execute_async_script(AXE_RUN, DASH_OWN)
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def staff_browser() -> Iterator[webdriver.Chrome]:
    driver = chrome(1280, 1000)
    yield driver
    driver.quit()


def _opener(component: str, shown: str, what: str) -> Callable[[webdriver.Chrome], None]:
    """A step that clicks `component` and waits until `shown` (a CSS selector) is drawn."""
    def opened(driver: webdriver.Chrome) -> None:
        def tapped() -> list[object]:  # again if the page was drawn anew meanwhile (a loaded server)
            driver.find_element("id", component).click()
            return wait_for(lambda: driver.find_elements("css selector", shown), timeout=5, what=f"{component}'s {what}")
        wait_for(tapped, timeout=60, what=f"{component}'s {what}")
    opened.__name__ = f"{component}_{what}"
    return opened


def open_dropdown(component: str) -> Callable[[webdriver.Chrome], None]:
    return _opener(component, ".dash-dropdown-content [role=option]", "options")


def open_calendar(component: str) -> Callable[[webdriver.Chrome], None]:
    return _opener(component, ".dash-datepicker-content[role=dialog]", "calendar")


def wrong_password(driver: webdriver.Chrome) -> None:
    driver.find_element("id", "name").send_keys("ei-ketaan")
    driver.find_element("id", "password").send_keys("väärin")
    driver.find_element("css selector", "button[type=submit]").click()
    wait_for(lambda: driver.find_elements("css selector", ".login-error"), what="the refusal")


def refused_correction(driver: webdriver.Chrome) -> None:
    driver.find_element("id", "tablet-fix-value").send_keys("kolme")
    driver.find_element("id", "tablet-fix-save").click()
    wait_for(lambda: driver.find_elements("css selector", '#tablet-fix-result .msg[data-ok="false"]'),
             what="the refused correction")


def as_drawn(_driver: webdriver.Chrome) -> None:
    pass


# page: who signs in, its path, what shows it is drawn
PAGES = {
    "login": (None, "/login", "#name"),
    "tablet": ("vuorovastaava", "/tablet", "#tablet-board .board-row"),
    "history": ("esihenkilo", "/history", "#history-csv"),
    "access": ("esihenkilo", "/history/access", "#access-links a"),
    "admin": ("yllapito", "/admin", "#admin-content .source-row"),
}
STATES = [
    ("login", as_drawn), ("login", wrong_password),
    ("tablet", as_drawn), ("tablet", open_dropdown("tablet-fix-unit")), ("tablet", open_dropdown("tablet-fix-metric")),
    ("tablet", refused_correction),
    ("history", as_drawn), ("history", open_dropdown("history-units")), ("history", open_dropdown("history-metrics")),
    ("history", open_calendar("history-range")),
    ("access", as_drawn), ("access", open_dropdown("access-units")), ("access", open_calendar("access-range")),
    ("admin", as_drawn),
]


def open_page(driver: webdriver.Chrome, demo: Demo, page: str) -> None:
    who, path, drawn = PAGES[page]
    if who:
        sign_in(driver, demo.url, who)
    else:
        driver.get(f"{demo.url}/login")
        driver.delete_all_cookies()
    driver.get(demo.url + path)
    wait_for(lambda: driver.find_elements("css selector", drawn), timeout=40, what=f"the {page} page drawn")


@embedded_only
@pytest.mark.parametrize(("page", "state"), STATES, ids=[f"{p}-{s.__name__}" for p, s in STATES])
def test_axe_core_finds_no_serious_or_critical_violation_on_a_staff_page(staff_browser: webdriver.Chrome, demo: Demo, page: str,
                                                                         state: Callable[[webdriver.Chrome], None]) -> None:
    assert AXE.exists(), "axe-core missing: ./dev test installs it (npm ci in tests/browser)"
    open_page(staff_browser, demo, page)
    state(staff_browser)
    assert serious_violations(staff_browser) == []


@embedded_only
def test_the_sign_in_and_admin_pages_pass_without_any_exception(staff_browser: webdriver.Chrome, demo: Demo) -> None:
    """No Dash component of the kinds skipped above is on these two: the walls' own check."""
    for page in ("login", "admin"):
        open_page(staff_browser, demo, page)
        assert run_axe(staff_browser) == [], page


@embedded_only
def test_the_skipped_dash_faults_are_still_there_to_skip(staff_browser: webdriver.Chrome, demo: Demo) -> None:
    """A control: each exception above matches an element on the pages today; when Dash
    mends one, this fails and its exception goes."""
    seen: set[str] = set()
    for page, state in (("tablet", as_drawn), ("tablet", open_dropdown("tablet-fix-unit")), ("history", open_calendar("history-range")),
                        ("history", open_dropdown("history-metrics"))):
        open_page(staff_browser, demo, page)
        state(staff_browser)
        staff_browser.execute_script(AXE.read_text(encoding="utf-8"))
        staff_browser.set_script_timeout(60)
        found = staff_browser.execute_async_script(AXE_RUN, [])
        for rule, css in DASH_OWN:
            if any(v["id"] == rule for v in found) and staff_browser.find_elements("css selector", css):
                seen.add(rule)
    assert seen == {rule for rule, _ in DASH_OWN}


@embedded_only
def test_the_check_finds_a_fault_of_ours_on_a_staff_page(staff_browser: webdriver.Chrome, demo: Demo) -> None:
    """A control: an unnamed field of ours, put on the tablet, is found."""
    open_page(staff_browser, demo, "tablet")
    staff_browser.execute_script("document.querySelector('.tablet').appendChild(document.createElement('input'))")
    assert "label" in {v["id"] for v in serious_violations(staff_browser)}


@embedded_only
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_staff_pages_pass_in_the_other_languages(staff_browser: webdriver.Chrome, demo: Demo, lang: str) -> None:
    """As a person reads them in Swedish or English: the language chosen on the sign-in page
    (by its own button), then every page they may open (an admin's account: all of them)."""
    from tests.security.test_hostile_clients import add_user

    person = f"kielitesti-{lang}"
    add_user(demo, person, "admin")
    staff_browser.get(f"{demo.url}/login")
    staff_browser.delete_all_cookies()
    staff_browser.get(f"{demo.url}/login")
    staff_browser.find_element("css selector", f"button.lang-choice[value={lang}]").click()
    wait_for(lambda: staff_browser.find_element("tag name", "html").get_attribute("lang") == lang,
             what=f"the sign-in page in {lang}")
    assert serious_violations(staff_browser) == [], "login"
    staff_browser.find_element("id", "name").send_keys(person)
    staff_browser.find_element("id", "password").send_keys(PASSWORD)
    staff_browser.find_element("id", "login-submit").click()
    wait_for(lambda: "/login" not in staff_browser.current_url, what=f"{person} signed in")
    for page in PAGES:
        if page == "login":
            continue
        _who, path, drawn = PAGES[page]
        staff_browser.get(demo.url + path)
        wait_for(lambda drawn=drawn: staff_browser.find_elements("css selector", drawn), timeout=40,
                 what=f"the {page} page drawn")
        assert staff_browser.find_element("tag name", "html").get_attribute("lang") == lang, page
        assert serious_violations(staff_browser) == [], page


FOCUS_SHOWN = """
const el = document.activeElement, s = getComputedStyle(el);
const list = el.closest('.dash-options-list');
return {id: el.id, tag: el.tagName.toLowerCase(), type: el.type || '', value: el.value || '', within: list ? list.id : '',
        visible: el.matches(':focus-visible') && ((s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                 || s.boxShadow !== 'none')};
"""


def focused(driver: webdriver.Chrome) -> dict[str, object]:
    shown: dict[str, object] = driver.execute_script(FOCUS_SHOWN)
    return shown


def press(driver: webdriver.Chrome, *keys: str) -> dict[str, object]:
    ActionChains(driver).send_keys(*keys).perform()
    return focused(driver)


def press_back(driver: webdriver.Chrome) -> dict[str, object]:
    """Shift+Tab."""
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    return focused(driver)


def tab_to(driver: webdriver.Chrome, found: Callable[[dict[str, object]], bool], what: str,
           limit: int = 80) -> dict[str, object]:
    """Tab forward until the focus is on what is wanted; every stop shows where it is."""
    for _ in range(limit):
        now = press(driver, Keys.TAB)
        assert now["visible"], f"focus not shown on {now} on the way to {what}"
        if found(now):
            return now
    raise AssertionError(f"{what} not reached in {limit} presses of Tab")


@embedded_only
def test_a_shift_lead_posts_a_notice_with_the_keyboard_alone(demo: Demo) -> None:
    text = "Näppäimistöllä: aula siivotaan klo 12"
    tablet = chrome(800, 1280)
    try:
        sign_in(tablet, demo.url, "vuorovastaava")
        tablet.get(f"{demo.url}/tablet")
        wait_for(lambda: tablet.find_elements("css selector", "#tablet-board .board-row"), what="the tablet page")
        tablet.execute_script("document.activeElement && document.activeElement.blur()")
        # the notice's text field, reached from the top of the page by Tab
        tab_to(tablet, lambda f: f["id"] == "tablet-notice-text", "the notice's text")
        ActionChains(tablet).send_keys(text).perform()
        # its units: Tab to the first, Space ticks it
        unit = tab_to(tablet, lambda f: f["within"] == "tablet-notice-units", "the first unit")
        assert press(tablet, Keys.SPACE)["visible"]
        # importance: Tab into the group, an arrow key chooses the next ("tärkeä")
        assert tab_to(tablet, lambda f: f["type"] == "radio", "the importance")["within"] == "tablet-notice-importance"
        chosen = press(tablet, Keys.ARROW_RIGHT)
        assert (chosen["within"], chosen["value"], chosen["visible"]) == ("tablet-notice-importance", "tärkeä", True)
        # Shift+Tab goes back to the units, Tab forth again to the chosen importance
        back = press_back(tablet)
        assert back["within"] == "tablet-notice-units" and back["visible"]
        assert press(tablet, Keys.TAB)["value"] == "tärkeä"
        button = tab_to(tablet, lambda f: f["id"] == "tablet-notice-save", "the publish button")
        assert button["tag"] == "button"
        press(tablet, Keys.ENTER)
        said = wait_for(lambda: tablet.find_element("css selector", '#tablet-notice-result .msg[data-ok="true"]'),
                        what="the notice posted")
        assert "julkaistu" in said.text
        item = wait_for(lambda: next((e for e in tablet.find_elements("css selector", "#tablet-notices .notice-item")
                                      if text in e.text), None), what="the notice listed")
        assert "tärkeä" in item.text
        notice = next(n for n in demo.backend.store.notices() if n["text"] == text)
        assert (notice["importance"], notice["unit"]) == ("tärkeä", unit["value"])
    finally:
        for n in demo.backend.store.notices():
            if n.get("text") == text:
                from dashboard.config import load_config
                from dashboard.web.accounts import User
                from dashboard.web.shiftlead import ShiftLead

                ShiftLead(load_config(demo.config), demo.backend.store, demo.backend.history,
                          User("vuorovastaava", "shift_lead", ())).end_notice(n["id"])
        tablet.quit()
