"""layouts/assets/tables.js draws the access page's tables from data: every text stays text
and only `class` and `data-*` attributes reach a row, whatever the data says (a unit name or a
feed's service code is not markup); a table is drawn again when its data changes."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import chrome
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.browser

SCRIPT = (ROOT / "layouts" / "assets" / "tables.js").read_text(encoding="utf-8")
EVIL = '<img src=x onerror="window.owned=1">'


def spec(rows: list[dict[str, object]]) -> str:
    return json.dumps({"id": "t", "head": ["Yksikkö / palvelu", EVIL], "rows": rows})


def test_texts_stay_text_and_only_class_and_data_attributes_reach_a_row():
    driver = chrome(800, 600)
    try:
        driver.get("about:blank")
        driver.execute_script(SCRIPT)  # as on the page: before Dash draws anything
        driver.execute_script(
            "document.body.innerHTML = '<div id=holder></div>';"
            "document.getElementById('holder').setAttribute('data-table', arguments[0]);",
            spec([{"attrs": {"class": "access-row", "data-unit": EVIL, "onclick": "window.owned=2",
                             "style": "display:none"},
                   "cells": [{"text": EVIL, "small": "</small><b>x</b>"}, {"text": "12,5", "num": True}]}]))
        wait_for(lambda: driver.find_elements("css selector", "#t tbody tr"), what="the table drawn")
        row = driver.execute_script(
            "const r = document.querySelector('#t tbody tr'); return {"
            "attrs: Array.from(r.attributes).map(a => a.name).sort(), unit: r.getAttribute('data-unit'),"
            "first: r.cells[0].firstChild.textContent, small: r.cells[0].querySelector('small').textContent,"
            "num: r.cells[1].className, head: document.querySelectorAll('#t th')[1].textContent,"
            "imgs: document.querySelectorAll('img, b').length, owned: window.owned || 0}")
        assert row == {"attrs": ["class", "data-unit"], "unit": EVIL, "first": EVIL, "small": "</small><b>x</b>",
                       "num": "num", "head": EVIL, "imgs": 0, "owned": 0}

        # new data (another choice on the page): drawn again, the old rows gone
        driver.execute_script("document.getElementById('holder').setAttribute('data-table', arguments[0])",
                              spec([{"attrs": {}, "cells": [{"text": "a"}]}, {"attrs": {}, "cells": [{"text": "b"}]}]))
        wait_for(lambda: driver.execute_script(
            "return Array.from(document.querySelectorAll('#t tbody td')).map(c => c.textContent).join()") == "a,b",
            what="the table drawn again")
        assert len(driver.find_elements("css selector", "#holder table")) == 1
    finally:
        driver.quit()
