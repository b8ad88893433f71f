"""A shift lead acknowledges a raised unit's actions on the tablet, the wall counts them, and
the escalation form starts from the unit's level (issue 18)."""

from datetime import datetime, timedelta

import pytest

from tests.browser.conftest import Demo, sign_in
from tests.conftest import wait_for

pytestmark = pytest.mark.browser


def raise_by_hand(demo: Demo) -> None:
    """The reception to 3 by a shift lead's hand for eight hours, as the tablet sets it."""
    now = datetime.now().astimezone()
    demo.backend.store.set_escalation("vastaanotto", {
        "level": 3, "reason": "Kaksi lääkäriä pois", "by": "vuorovastaava", "at": now.isoformat(),
        "valid_until": (now + timedelta(hours=8)).isoformat()})


def test_a_shift_lead_acknowledges_actions_on_the_tablet_and_the_wall_shows_the_count(demo: Demo):
    from tests.browser.conftest import chrome

    raise_by_hand(demo)
    tablet = chrome(800, 1280)
    wall = chrome()
    try:
        wall.get(demo.display_url("vastaanotto-kaytava"))
        acts = '.ulvl[data-unit="vastaanotto"] .acts'
        wait_for(lambda: "0/4" in wall.find_element("css selector", acts).text, timeout=30,
                 what="the wall's count of open actions")
        sign_in(tablet, demo.url, "vuorovastaava")
        tablet.get(f"{demo.url}/tablet")
        wait_for(lambda: tablet.find_element("css selector", ".action-item[data-unit=vastaanotto]"), what="the actions")
        # the form starts from where the unit is: level 3, set by hand
        assert tablet.find_element("css selector", "#tablet-esc-level input[value='3']").is_selected()
        item = tablet.find_element("css selector", ".action-item[data-unit=vastaanotto][data-action=tiedota-tiimi]")
        item.find_element("css selector", "input").send_keys("Kerrottu aamupalaverissa")
        item.find_element("css selector", "button").click()
        wait_for(lambda: tablet.find_element("css selector", '#tablet-action-result .msg[data-ok="true"]'),
                 what="the acknowledgement")
        wait_for(lambda: "toimenpiteet 1/4 kuitattu" in wall.find_element("css selector", acts).text, timeout=30,
                 what="the wall's count after the acknowledgement")
        assert ("vuorovastaava", "escalation-action") in [(e.who, e.action) for e in demo.backend.history.audit()]
    finally:
        tablet.quit()
        wall.quit()


def test_a_manager_acknowledges_their_action_on_the_history_page_and_the_wall_count_moves(demo: Demo):
    """The manager's own action (role "manager") is not on the shift lead's tablet but on
    /history: the manager writes a note, taps "Tehty", the row says who and when, the wall's
    count moves by one and the audit log has it under the manager's name."""
    import re

    from tests.browser.conftest import chrome

    raise_by_hand(demo)
    page = chrome(1280, 1000)
    wall = chrome()
    acts = '.ulvl[data-unit="vastaanotto"] .acts'
    try:
        wall.get(demo.display_url("vastaanotto-kaytava"))
        wait_for(lambda: re.search(r"(\d)/4", wall.find_element("css selector", acts).text), timeout=30,
                 what="the wall's count of open actions")
        before = int(re.search(r"(\d)/4", wall.find_element("css selector", acts).text).group(1))  # type: ignore[union-attr]
        sign_in(page, demo.url, "esihenkilo")
        page.get(f"{demo.url}/history")
        row_css = ".action-row[data-unit=vastaanotto][data-action=varahenkilosto-paatos]"
        row = wait_for(lambda: page.find_element("css selector", row_css), timeout=30, what="the manager's action")
        assert row.get_attribute("data-state") in ("open", "overdue")
        assert "Päätä varahenkilöstön käytöstä" in row.text
        # the shift lead's actions of the same unit are there too (the manager's role is above)
        assert page.find_elements("css selector", ".action-row[data-unit=vastaanotto][data-action=lisavahvuus]")
        row.find_element("css selector", "input").send_keys("Kaksi sijaista iltapäiväksi")
        row.find_element("css selector", "button.button.small:not(.secondary)").click()
        wait_for(lambda: page.find_element("css selector", '#history-action-result .msg[data-ok="true"]'),
                 what="the acknowledgement")
        wait_for(lambda: page.find_element("css selector", row_css).get_attribute("data-state") == "done",
                 timeout=20, what="the row marked done")
        done = page.find_element("css selector", row_css).text
        assert "esihenkilo" in done and "Kaksi sijaista iltapäiväksi" in done
        wait_for(lambda: f"toimenpiteet {before + 1}/4 kuitattu" in wall.find_element("css selector", acts).text,
                 timeout=30, what="the wall's count after the manager's acknowledgement")
        assert ("esihenkilo", "escalation-action") in [(e.who, e.action) for e in demo.backend.history.audit()]
        # the shift lead's tablet does not offer the manager's action
        sign_in(page, demo.url, "vuorovastaava")
        page.get(f"{demo.url}/tablet")
        wait_for(lambda: page.find_element("css selector", ".action-item[data-unit=vastaanotto]"), what="the tablet")
        assert not page.find_elements("css selector", ".action-item[data-action=varahenkilosto-paatos]")
    finally:
        page.quit()
        wall.quit()
