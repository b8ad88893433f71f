"""A shift lead acknowledges a raised unit's actions on the tablet, the wall counts them, and
the escalation form starts from the unit's level (issue 18)."""

from datetime import datetime, timedelta

import pytest

from tests.browser.conftest import Demo, sign_in
from tests.conftest import wait_for

pytestmark = pytest.mark.browser


def test_a_shift_lead_acknowledges_actions_on_the_tablet_and_the_wall_shows_the_count(demo: Demo):
    from tests.browser.conftest import chrome

    store = demo.backend.store
    now = datetime.now().astimezone()
    store.set_escalation("vastaanotto", {"level": 3, "reason": "Kaksi lääkäriä pois", "by": "vuorovastaava",
                                         "at": now.isoformat(), "valid_until": (now + timedelta(hours=8)).isoformat()})
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
