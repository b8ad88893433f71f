"""Every download is formula-safe (OWASP "CSV injection", security issue 12): a user name, unit,
key or text value that a spreadsheet would run as a formula arrives in the audit CSV, the
history CSV and the history XLSX as the text it is, and numbers stay numbers. The files are
read back as a spreadsheet reads them: the CSV with the csv module, the XLSX with openpyxl
and from its XML."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from openpyxl import load_workbook

from dashboard.config import Config
from dashboard.domain.metrics import normalise_key
from dashboard.domain.readings import Reading
from dashboard.export import (
    Names,
    Part,
    compare_headers,
    compare_rows,
    formula_like,
    inert,
    report_headers,
    report_rows,
    table_csv,
    table_xlsx,
    to_csv,
    to_xlsx,
)
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.rollups import series
from tests.conftest import Backend

TZ = ZoneInfo("Europe/Helsinki")
MONDAY = date(2026, 11, 23)
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "＝1", "＋1",
           "－1", "＠SUM(A1)"]
KEYS = {normalise_key(h) for h in HOSTILE}  # a reading's key is kept trimmed and lower-case
# what a spreadsheet takes for the start of a formula (OWASP, and Excel's full-width forms)
STARTS_FORMULA = tuple("=+-@\t\r＝＋－＠")
# a cell that is a plain number in either decimal convention: a spreadsheet reads it as a number
NUMBER = re.compile(r"-?\d+([.,]\d+)?")


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def live_formulas(rows: list[list[str]]) -> list[str]:
    """The cells a spreadsheet would evaluate: beginning a formula and not a plain number."""
    return [c for row in rows for c in row
            if c.startswith(STARTS_FORMULA) and not NUMBER.fullmatch(c)]


def shown(text: str) -> str:
    """The CSV cell expected for a text: OWASP's apostrophe before a formula's start."""
    return "'" + text if text.startswith(STARTS_FORMULA) else text


def xlsx_sheet(data: bytes) -> Any:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(re.search(r"<f[ >/]", xml) for xml in sheets), "a formula in the XML"
    return load_workbook(io.BytesIO(data)).active


def at(hh: int, mm: int = 0) -> datetime:
    return datetime.combine(MONDAY, time(hh, mm), tzinfo=TZ)


def hostile_history(history: History) -> list[dict[str, Any]]:
    """Readings whose unit, key or (text) value is a formula, beside honest ones."""
    changes = [(f"key{i}", Reading("queue.waiting", "vo", h, 3, at(9), "test"))
               for i, h in enumerate(HOSTILE)]
    changes += [(f"unit{i}", Reading("queue.waiting", h, "", 2, at(9), "test"))
                for i, h in enumerate(HOSTILE)]
    changes += [("text", Reading("queue.waiting", "vo", "teksti", "=1+1", at(9), "test"))]
    assert history.record(changes) == len(changes)
    return series(history, TZ, ["queue.waiting"], ["vo", *HOSTILE], MONDAY, MONDAY, "hour")


# ---------------------------------------------------------------- the rule


@pytest.mark.parametrize("text", HOSTILE + ["=", "-", "@", "\t"])
def test_a_text_that_would_start_a_formula_gets_an_apostrophe(text: str):
    assert formula_like(text) and inert(text) == "'" + text


@pytest.mark.parametrize("text", ["", "hoitaja1", "Anna-Liisa", "lääkäri", "1-2", "'=1", "{\"08\":5}"])
def test_other_text_is_left_as_it_is(text: str):
    assert not formula_like(text) and inert(text) == text


# ---------------------------------------------------------------- the audit log's CSV


@pytest.mark.store
def test_a_hostile_user_name_in_the_audit_log_is_inert_text_in_its_csv(history: History):
    for name in HOSTILE:
        audit.record(history, name, "correction", {"metric": "staff.present", "key": name},
                     before=name, after=-2)
    rows = csv_rows(audit.to_csv(audit.entries(history)))
    assert rows[0] == ["id", "aika", "kuka", "tapahtuma", "ennen", "jälkeen", "tiedot"]
    assert live_formulas(rows) == []
    by_who = {row[2]: row for row in rows[1:]}
    assert set(by_who) == {"'" + name for name in HOSTILE}
    for row in by_who.values():
        assert len(row) == 7 and row[4].startswith('"') and row[5] == "-2"  # JSON text; a number


@pytest.mark.store
def test_an_honest_name_and_numbers_are_unchanged_in_the_audit_csv(history: History):
    audit.record(history, "Anna-Liisa", "correction", {"metric": "staff.present"}, before=-3, after=2.5)
    [row] = csv_rows(audit.to_csv(audit.entries(history)))[1:]
    assert row[2:6] == ["Anna-Liisa", "correction", "-3", "2.5"]


@pytest.mark.store
def test_a_separator_quote_or_line_break_cannot_start_a_cell_of_its_own(history: History):
    names = ["x;=1+1", '"=1+1', "ok\r\n=1+1", "ok\n-2+3", "ok;@SUM(A1);"]
    for name in names:
        audit.record(history, name, "login-failed", {"address": "127.0.0.1"})
    rows = csv_rows(audit.to_csv(audit.entries(history)))
    assert all(len(row) == 7 for row in rows) and live_formulas(rows) == []
    assert sorted(row[2] for row in rows[1:]) == sorted(names)


# ---------------------------------------------------------------- the history's CSV and XLSX


@pytest.mark.store
@pytest.mark.parametrize("lang", ["fi", "en"])
def test_hostile_units_keys_and_values_are_inert_text_in_the_history_csv(history: History, lang: str):
    rows = hostile_history(history)
    parsed = csv_rows(to_csv(rows, lang))
    assert live_formulas(parsed) == []
    assert len(parsed) == len(rows) + 1 and all(len(line) == 9 for line in parsed)
    for row, line in zip(rows, parsed[1:], strict=True):
        assert line[:3] == [row["metric"], shown(row["unit"]), shown(row["key"])]
    assert {line[2] for line in parsed[1:]} >= {"'" + k for k in KEYS}
    assert {line[1] for line in parsed[1:]} >= {"'" + h for h in HOSTILE}
    assert next(line for line in parsed if line[2] == "teksti")[7] == "'=1+1"


@pytest.mark.store
def test_hostile_units_keys_and_values_are_text_cells_in_the_history_xlsx(history: History):
    rows = hostile_history(history)
    data = to_xlsx(rows, "fi")
    ws = xlsx_sheet(data)
    cells = list(ws.iter_rows(min_row=2))
    assert len(cells) == len(rows)
    assert all(c.data_type != "f" for line in ws.iter_rows() for c in line)
    for row, line in zip(rows, cells, strict=True):
        for cell, text in ((line[1], row["unit"]), (line[2], row["key"])):
            # the text exactly (XML reads a carriage return as a line feed), as a string, and
            # kept text when edited in Excel (quotePrefix)
            assert (cell.value or "") == text.replace("\r", "\n")
            assert cell.quotePrefix is formula_like(text)
            assert cell.data_type == "s" or text == ""
    last = next(line[7] for line in cells if line[2].value == "teksti")
    assert (last.value, last.data_type, last.quotePrefix) == ("=1+1", "s", True)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert 'quotePrefix="1"' in z.read("xl/styles.xml").decode()


@pytest.mark.store
def test_numbers_stay_numbers_and_honest_text_stays_as_it_is_in_both_formats(history: History):
    values = [-0.5, -2, 2.5, 0, 7]
    history.record([(f"n{i}", Reading("queue.waiting", "vo", "kotihoito-ilta", v, at(9, 5 * i), "test"))
                    for i, v in enumerate(values)])
    rows = series(history, TZ, ["queue.waiting"], ["vo"], MONDAY, MONDAY, "hour")
    nine = next(r for r in rows if r["period"].startswith("2026-11-23T09"))
    assert (nine["min"], nine["last"]) == (-2, 7)

    line = next(line for line in csv_rows(to_csv(rows, "fi"))[1:] if line[3] == "23.11.2026 09.00")
    assert line[:3] == ["queue.waiting", "vo", "kotihoito-ilta"]
    assert all(NUMBER.fullmatch(c) for c in line[4:]) and line[5] == "-2"
    assert float(line[4].replace(",", ".")) == nine["mean"]
    negative = {**nine, "mean": -0.5, "min": -2.5, "max": -0.25}
    # numbers in the language's convention, without an apostrophe
    assert csv_rows(to_csv([negative], "fi"))[1][4:7] == ["-0,5", "-2,5", "-0,25"]
    assert csv_rows(to_csv([negative], "en"))[1][4:7] == ["-0.5", "-2.5", "-0.25"]

    ws = xlsx_sheet(to_xlsx([{**negative, "last": -2}], "fi"))
    cells = next(ws.iter_rows(min_row=2))
    assert [(c.value, c.data_type) for c in cells[4:9]] == [
        (-0.5, "n"), (-2.5, "n"), (-0.25, "n"), (-2, "n"), (nine["samples"], "n")]
    assert (cells[2].value, cells[2].data_type, cells[2].quotePrefix) == ("kotihoito-ilta", "s", False)


# ---------------------------------------------------------------- over HTTP, signed in


@pytest.mark.store
@time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=TZ), tick=True)  # a working morning
def test_the_downloads_a_person_gets_over_http_are_inert(backend: Backend, config: Config):
    from dashboard.demo import PASSWORD
    from dashboard.web.accounts import add_user
    from dashboard.web.app import asgi, create_app

    history, store = backend.history, backend.store
    add_user(history, "yllapito", "admin", [], PASSWORD)
    now = store.clock(config.tz).now()
    a_minute_ago = now - timedelta(minutes=1)
    history.record([(f"http{i}", Reading("queue.waiting", "vastaanotto", h, i - 3, a_minute_ago, "test"))
                    for i, h in enumerate(HOSTILE)])
    names = [h for h in HOSTILE if h.strip() == h]  # the form's name is stripped
    app = create_app(config, store, history, backend.data_dir)
    query = {"units": "vastaanotto", "metrics": "queue.waiting", "grain": "hour",
             "start": (now - timedelta(days=1)).date().isoformat(), "end": now.date().isoformat()}

    async def sign_in(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
        await client.get("/login")
        return await client.post("/login", data={"name": name, "password": password, "next": "/",
                                                 "csrf": client.cookies.get("ohjaustaulu_csrf") or ""})

    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi(app)), base_url="http://t")

    async def go() -> tuple[bytes, bytes, bytes]:
        for name in names:  # a wrong password: the typed name goes to the audit log
            async with client() as anyone:
                assert (await sign_in(anyone, name, "väärä-salasana-1")).status_code == 401
        async with client() as admin:
            assert (await sign_in(admin, "yllapito", PASSWORD)).status_code == 303
            log = await admin.get("/admin/audit.csv")
            table = await admin.get("/history/export.csv", params=query)
            book = await admin.get("/history/export.xlsx", params=query)
        assert [r.status_code for r in (log, table, book)] == [200, 200, 200]
        return log.content, table.content, book.content

    try:
        log, table, book = asyncio.run(go())
    finally:
        app.server.state.display_ctx.cache.watch.stop.set()
    audit_rows = csv_rows(log)
    assert live_formulas(audit_rows) == []
    assert {row[2] for row in audit_rows[1:]} >= {"'" + n for n in names}
    history_rows = csv_rows(table)
    assert live_formulas(history_rows) == []
    key = history_rows[0].index("Tarkenne")  # the page's download: names beside the codes
    assert {row[key] for row in history_rows[1:]} >= {"'" + k for k in KEYS}
    ws = xlsx_sheet(book)
    keys = [line[key] for line in ws.iter_rows(min_row=2)]
    assert {c.value for c in keys} >= KEYS and all(c.data_type == "s" for c in keys)
    assert all(c.quotePrefix for c in keys if c.value in KEYS)


# ---------------------------------------------------------------- the history page's report


def hostile_names() -> Names:
    """Names for people as hostile as the codes: a unit or metric named like a formula."""
    return Names(units={h: h for h in HOSTILE} | {"vo": "=vo"},
                 metrics={"queue.waiting": "@Jonossa"}, hours={h: "+8–16" for h in [*HOSTILE, "vo"]})


@pytest.mark.store
@pytest.mark.parametrize("grain", ["day", "hour"])
def test_the_report_csv_keeps_hostile_codes_and_names_inert(history: History, grain: str):
    hostile_history(history)
    rows = series(history, TZ, ["queue.waiting"], ["vo", *HOSTILE], MONDAY, MONDAY, grain)  # type: ignore[arg-type]
    parts = [Part("=valittu", rows), Part("-vertailu", rows)]
    now = at(12)
    cells = report_rows(parts, grain, hostile_names(), "fi", now)
    parsed = csv_rows(table_csv(report_headers(grain, "fi"), cells, "fi"))
    assert live_formulas(parsed) == []
    head = parsed[0]
    body = parsed[1:]
    assert len(body) == 2 * len(rows) and all(len(line) == len(head) for line in body)
    unit, name, key = head.index("Yksikkö"), head.index("Yksikön nimi"), head.index("Tarkenne")
    assert {line[key] for line in body} >= {"'" + k for k in KEYS}
    assert {line[unit] for line in body} >= {"'" + h for h in HOSTILE}
    assert {line[name] for line in body} >= {"'=vo"} | {"'" + h for h in HOSTILE}
    assert {line[head.index("Jakso")] for line in body} == {"'=valittu", "'-vertailu"}
    assert {line[head.index("Mittarin nimi")] for line in body} == {"'@Jonossa"}


@pytest.mark.store
def test_the_report_xlsx_keeps_hostile_codes_and_names_text(history: History):
    hostile_history(history)
    rows = series(history, TZ, ["queue.waiting"], ["vo", *HOSTILE], MONDAY, MONDAY, "day")
    names = hostile_names()
    cells = report_rows([Part("=valittu", rows)], "day", names, "fi", at(12))
    compare = [{"metric": "queue.waiting", "unit": h, "key": "-k", "a_mean": -1.25, "a_days": 2,
                "b_mean": 2.5, "b_days": 1, "change": 3.75, "change_pct": None} for h in HOSTILE]
    book = table_xlsx([("Historia", report_headers("day", "fi"), cells),
                       ("Vertailu", compare_headers("fi", (MONDAY, MONDAY), (MONDAY, MONDAY)),
                        compare_rows(compare, names))], "fi")
    data = load_workbook(io.BytesIO(book))
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        assert not any(re.search(r"<f[ >/]", z.read(n).decode()) for n in z.namelist() if n.startswith("xl/worksheets/"))
    texts = [c for ws in data for line in ws.iter_rows(min_row=2) for c in line if isinstance(c.value, str)]
    # (XML reads a carriage return back as a line feed: "\r=1" comes back "\n=1", still marked)
    for c in texts:
        written = "\r" + c.value[1:] if c.value.startswith("\n") else c.value
        assert c.data_type == "s" and c.quotePrefix is formula_like(written), c.value
    assert {c.value for c in texts} >= {"=valittu", "=vo", "@Jonossa", "-k", *HOSTILE[:4]}
    numbers = [line[5].value for line in data["Vertailu"].iter_rows(min_row=2)]
    assert numbers == [-1.2] * len(HOSTILE)  # a number stays a number (and is the one shown: -1,2)
