"""layouts/assets/tables.js draws the access page's tables and the tablet's board from data:
every text stays text and only `class`, `title` and `data-*` attributes reach a row, a line or a
button, whatever the data says (a unit name, a feed's service code or a correction's key is not
markup); a table is drawn again when its data changes, and a focused button keeps the focus."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import chrome
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.browser

SCRIPT = (ROOT / "layouts" / "assets" / "tables.js").read_text(encoding="utf-8")
EVIL = '<img src=x onerror="window.owned=1">'


def drawn_from(driver, data: str) -> None:  # type: ignore[no-untyped-def]
    """A blank page with tables.js, as on a page before Dash draws anything, and a holder of `data`."""
    driver.get("about:blank")
    driver.execute_script(SCRIPT)
    driver.execute_script("document.body.innerHTML = '<div id=holder></div>';"
                          "document.getElementById('holder').setAttribute('data-table', arguments[0]);", data)


def spec(rows: list[dict[str, object]]) -> str:
    return json.dumps({"id": "t", "head": ["Yksikkö / palvelu", EVIL], "rows": rows})


def test_texts_stay_text_and_only_class_and_data_attributes_reach_a_row():
    driver = chrome(800, 600)
    try:
        drawn_from(driver, spec([{"attrs": {"class": "access-row", "data-unit": EVIL, "onclick": "window.owned=2",
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


def test_a_boards_lines_and_buttons_take_text_and_only_their_own_attributes():
    driver = chrome(800, 600)
    try:
        figure = "staff.present|vastaanotto|" + EVIL
        board = json.dumps({"id": "b", "class": "board-table", "head": ["Arvo"], "rows": [{"attrs": {}, "cells": [
            {"text": "✎ 3", "class": "val", "lines": [{"text": EVIL, "attrs": {"class": "muted", "title": EVIL,
                                                                               "onmouseover": "window.owned=3"}}],
             "button": {"text": EVIL, "attrs": {"class": "withdraw", "data-figure": figure,
                                                "onclick": "window.owned=4", "formaction": "javascript:1"}}}]}]},
                           ensure_ascii=False)
        drawn_from(driver, board)
        wait_for(lambda: driver.find_elements("css selector", "#b button"), what="the board drawn")
        cell = driver.execute_script(
            "const td = document.querySelector('#b tbody td'), s = td.querySelector('span'), b = td.querySelector('button');"
            "b.focus(); b.click(); return {cls: td.className, table: document.querySelector('#b').className,"
            "span: [s.textContent, Array.from(s.attributes).map(a => a.name).sort()],"
            "button: [b.textContent, b.type, Array.from(b.attributes).map(a => a.name).sort(), b.getAttribute('data-figure')],"
            "imgs: document.querySelectorAll('img').length, owned: window.owned || 0}")
        assert cell == {"cls": "val", "table": "board-table", "span": [EVIL, ["class", "title"]],
                        "button": [EVIL, "button", ["class", "data-figure", "type"], figure], "imgs": 0, "owned": 0}
        # drawn again with new figures: the button the keyboard was on keeps the focus
        driver.execute_script("document.getElementById('holder').setAttribute('data-table', arguments[0])",
                              board.replace("✎ 3", "✎ 2"))
        wait_for(lambda: driver.execute_script("return document.querySelector('#b td').firstChild.textContent") == "✎ 2",
                 what="the board drawn again")
        assert driver.execute_script("return document.activeElement.getAttribute('data-figure')") == figure
    finally:
        driver.quit()
