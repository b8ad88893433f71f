"""Workbooks that cannot hurt (security issue 12): files crafted to exhaust or trick a reader
are refused before python-calamine sees them, each with a message that names the problem (and
the sheet and cell where there is one); what gets past the checks is read in a process of its
own, bounded in memory and time; and honest workbooks — the template filled in, a file
LibreOffice saved — still import."""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook, load_workbook

from collectors.base import InvalidData
from collectors.tabular import TabularCollector
from collectors.workbook import REFUSED, FolderWatcher
from dashboard.config import Config, Source
from dashboard.storage import audit
from dashboard.translate import gettext_in
from dashboard.workbook import guard, reader
from dashboard.workbook.importer import Report, import_bytes
from dashboard.workbook.messages import MESSAGES, msg
from dashboard.workbook.template import template
from tests.conftest import EXAMPLE_CONFIG, ROOT, Backend, cli

TZ = ZoneInfo("Europe/Helsinki")
MONDAY = datetime(2026, 11, 23, 11, 0, tzinfo=TZ)
FIXTURES = ROOT / "tests" / "fixtures" / "workbook"
STAFF_HEAD = ["Päivä", "Yksikkö", "Ammattiryhmä", "Suunniteltu", "Paikalla"]


@pytest.fixture(autouse=True)
def monday():  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        yield


# -- crafting files ---------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def sheet_xml(rows: str, dimension: str = "A1:E2", prolog: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}">'
            f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>')


def staffing_rows(unit: str = "vastaanotto", extra: str = "") -> str:
    """The header and one honest row, as inline strings and numbers."""
    def text(ref: str, value: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'

    head = "".join(text(f"{c}1", v) for c, v in zip("ABCDE", STAFF_HEAD, strict=True))
    row = (text("A2", "23.11.2026") + text("B2", unit) + text("C2", "lääkäri")
           + '<c r="D2"><v>8</v></c><c r="E2"><v>7</v></c>')
    return f'<row r="1">{head}</row><row r="2">{row}{extra}</row>'


def xlsx(sheets: dict[str, str], extra: dict[str, str | bytes] | None = None,
         names: list[str] | None = None) -> bytes:
    """An .xlsx written by hand: a sheet name -> its worksheet XML; `extra` parts besides."""
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                    f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    for i in range(1, len(sheets) + 1))
    listed = "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(sheets, 1))
    targets = "".join(f'<Relationship Id="rId{i}" Type="{OFFICE}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(sheets) + 1))
    parts: dict[str, str | bytes] = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
        'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        f'spreadsheetml.sheet.main+xml"/>{types}</Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
        f'<Relationship Id="rId1" Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
        f'xmlns:r="{OFFICE}"><sheets>{listed}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships '
        f'xmlns="{RELS}">{targets}</Relationships>',
    }
    parts |= {f"xl/worksheets/sheet{i}.xml": xml for i, xml in enumerate(sheets.values(), 1)}
    parts |= extra or {}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names or []:
            z.writestr(zipfile.ZipInfo(name), "<x/>")
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def ods(tables: str, prolog: str = "") -> bytes:
    """An .ods as LibreOffice lays one out: mimetype first and stored, manifest, content.xml."""
    content = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<office:document-content {ODS_NS} '
               f'office:version="1.3"><office:body><office:spreadsheet>{tables}'
               '</office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
                'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry '
                'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                   zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return out.getvalue()


def ods_cell(value: str | int, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if isinstance(value, int):
        return (f'<table:table-cell{rep} office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return f'<table:table-cell{rep} office:value-type="string"><text:p>{value}</text:p></table:table-cell>'


def ods_row(cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{rep}>{cells}</table:table-row>"


EMPTY_TO_THE_END = '<table:table-cell table:number-columns-repeated="{n}"/>'


def ods_staffing(tail: str = "") -> str:
    """Henkilöstö as LibreOffice saves it: every row padded with empty cells to column XFD, the
    sheet padded with empty rows to row 1048576, a value repeated over two cells."""
    head = ods_row("".join(ods_cell(v) for v in STAFF_HEAD) + EMPTY_TO_THE_END.format(n=16379))
    row = ods_row(ods_cell("23.11.2026") + ods_cell("vastaanotto") + ods_cell("lääkäri")
                  + ods_cell(8, repeat=2) + EMPTY_TO_THE_END.format(n=16379))
    end = ods_row(EMPTY_TO_THE_END.format(n=16384), repeat=1048573) + ods_row(EMPTY_TO_THE_END.format(n=16384))
    return (f'<table:table table:name="Henkilöstö"><table:table-column table:number-columns-repeated="16384"/>'
            f"{head}{row}{tail}{end}</table:table>")


def refused(data: bytes) -> guard.Unreadable:
    with pytest.raises(guard.Unreadable) as caught:
        reader.read(data)
    return caught.value


def said(err: guard.Unreadable, lang: str = "fi") -> str:
    return msg(lang, err.key, **err.kw)


def run(backend: Backend, config: Config, data: bytes, name: str = "tyokirja.xlsx", **kw) -> Report:  # type: ignore[no-untyped-def]
    return import_bytes(data, name, "vuorovastaava", config=config, store=backend.store,
                        history=backend.history, data_dir=backend.data_dir, **kw)


def live(backend: Backend) -> dict[tuple[str, str, str], object]:
    return {(r.metric, r.unit, r.key): r.value for rs in backend.store.all_readings().values() for r in rs}


def filled_template(config: Config, rows: list[list[object]]) -> bytes:
    """The template of template.py, filled in the way a shift lead fills it."""
    wb = load_workbook(io.BytesIO(template(config, "fi")))
    ws = wb["Henkilöstö"]
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row, start=1):
            ws.cell(i, j, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- the dimension bomb: 5 KB that asked python-calamine for 512 GiB -----------------------------

def test_a_lying_dimension_is_refused_before_any_reader():
    data = xlsx({"Henkilöstö": sheet_xml(staffing_rows(), dimension="A1:XFD1048576")})
    assert len(data) < 5 * 1024
    err = refused(data)
    assert (err.key, err.dangerous) == ("dimension", True)
    assert said(err) == ("Välilehti Henkilöstö ilmoittaa alueekseen A1:XFD1048576: enintään 20\u00a0000 "
                         "riviä ja 200 saraketta (A1:GR20000) sallitaan.")


def test_a_real_cell_at_xfd1048576_is_refused_naming_the_cell():
    data = xlsx({"Henkilöstö": sheet_xml(staffing_rows() + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')})
    assert len(data) < 5 * 1024
    err = refused(data)
    assert (err.key, err.kw["cell"]) == ("too_many_rows", "XFD1048576")
    assert said(err) == ("Välilehden Henkilöstö solu XFD1048576 on rivillä 1\u00a0048\u00a0576: enintään 20\u00a0000 "
                         "riviä sallitaan. Poista tai tyhjennä rivit sen alapuolelta ja tallenna uudelleen.")


def test_a_far_cell_inside_an_honest_row_is_refused_naming_it():
    err = refused(xlsx({"Henkilöstö": sheet_xml(staffing_rows(extra='<c r="XFD2"><v>1</v></c>'))}))
    assert (err.key, err.kw["cell"], err.kw["column"]) == ("too_many_columns", "XFD2", "XFD")
    assert said(err, "sv").startswith("Cellen XFD2 på fliken Henkilöstö är i kolumn XFD: högst 200 kolumner")


def test_cells_without_references_are_counted_where_the_reader_puts_them():
    # no `r` at all: each cell follows the previous one, each row the previous row
    wide = "<row>" + "<c><v>1</v></c>" * 201 + "</row>"
    assert refused(xlsx({"Henkilöstö": sheet_xml(wide, dimension="A1")})).kw["cell"] == "GS1"
    deep = '<row r="19999"><c><v>1</v></c></row><row/><row><c><v>2</v></c></row>'
    err = refused(xlsx({"Henkilöstö": sheet_xml(deep, dimension="A1")}))
    assert (err.key, err.kw["cell"]) == ("too_many_rows", "A20001")


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 13, 64])
def test_a_far_cell_is_found_wherever_the_chunks_cut_it(monkeypatch: pytest.MonkeyPatch, chunk: int):
    monkeypatch.setattr(guard, "CHUNK", chunk)  # the part read a few bytes at a time (in this process)
    far = """<c s="a>b" t='n' r="XFD2"><v>1</v></c>"""  # ">" inside a value, `r` not first
    with pytest.raises(guard.Unreadable) as caught:
        guard.check(xlsx({"Henkilöstö": sheet_xml(staffing_rows(extra=far))}))
    assert (caught.value.key, caught.value.kw["cell"]) == ("too_many_columns", "XFD2")


def test_a_far_cell_behind_a_long_attribute_is_refused():
    far = f"""<c r="XFD1048576" s='{"x" * 300_000}'><v>1</v></c>"""
    assert refused(xlsx({"Henkilöstö": sheet_xml(staffing_rows(extra=far))})).key == "bad_reference"


def test_a_listed_sheet_is_checked_whatever_its_name_and_root():
    # the sheet's root is <kuva>, its part media/kuva1.png; the workbook points at it
    far = sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>').replace("worksheet", "kuva")
    data = xlsx({"Henkilöstö": far})
    renamed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(renamed, "w") as dst:
        for info in src.infolist():
            body = src.read(info).replace(b"worksheets/sheet1.xml", b"media/kuva1.png")
            dst.writestr(info.filename.replace("worksheets/sheet1.xml", "media/kuva1.png"), body)
    err = refused(renamed.getvalue())
    assert (err.key, err.kw["sheet"], err.kw["cell"]) == ("too_many_rows", "Henkilöstö", "XFD1048576")


@pytest.mark.parametrize("hidden", ['<!-- <row r="1"> -->', '<?pi <row r="1"> ?>'])
def test_tags_hidden_in_comments_cannot_mislead_the_count(hidden: str):
    # calamine puts the last two rows at 20000 and 20001; a scan that took the hidden
    # <row r="1"> for a row would count them as rows 2 and 3
    rows = f'<row r="19999"><c><v>1</v></c></row><row>{hidden}<c><v>1</v></c></row><row><c><v>1</v></c></row>'
    err = refused(xlsx({"Henkilöstö": sheet_xml(rows, dimension="A1")}))
    assert (err.key, err.dangerous) == ("corrupt", False) and "sheet1.xml" in err.kw["detail"]
    cdata = '<row r="19999"><c t="str"><v><![CDATA[<row r="1">]]></v></c></row><row><c><v>1</v></c></row>'
    assert refused(xlsx({"Henkilöstö": sheet_xml(cdata, dimension="A1")})).key == "corrupt"


def test_sheets_and_cells_over_the_limits_are_refused():
    err = refused(xlsx({f"S{i}": sheet_xml(staffing_rows()) for i in range(guard.MAX_SHEETS + 1)}))
    assert err.key == "too_many_sheets" and "yli 50 välilehteä" in said(err)
    # each sheet within its limits, together past what the reader may lay out
    corner = sheet_xml('<row r="1"><c r="GR1"><v>1</v></c></row><row r="20000"><c r="A20000"><v>1</v></c></row>',
                       dimension="A1:GR20000")
    err = refused(xlsx({"Henkilöstö": corner}))
    assert err.key == "too_many_cells" and "4\u00a0000\u00a0000" in said(err)


# -- zips that unpack to too much, or lie about it -------------------------------------------

def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


def test_zip_bombs_are_refused():
    workbook = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in workbook.items():
            z.writestr(name, body)
        with z.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(300):
                member.write(b"\0" * 2**20)
    assert len(out.getvalue()) < 1024 * 1024
    assert refused(out.getvalue()).key == "bomb"
    # 12 MiB in one part, compressed 1000-fold
    err = refused(zipped(workbook | {"xl/sharedStrings.xml": b"<sst>" + b" " * 12 * 2**20 + b"</sst>"}))
    assert err.key == "bomb_ratio" and "pakkauspommi" in said(err)


def test_a_part_that_lies_about_its_size_is_not_read_past_it():
    data = bytearray(xlsx({"Henkilöstö": sheet_xml(staffing_rows())}))
    name = b"xl/worksheets/sheet1.xml"
    # the part's unpacked size, in its local header and in the central directory: "40 bytes"
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at:at + name_at + len(name)] == name:
                struct.pack_into("<I", data, at + size_at, 40)
            at = data.find(signature, at + 4)
    err = refused(bytes(data))
    assert err.key == "corrupt" and not err.dangerous  # Python read 40 bytes; their CRC failed


@pytest.mark.parametrize("name", ["../../x.xml", "/etc/x.xml", "xl\\..\\x.xml", "C:/x.xml", "xl/./x.xml"])
def test_odd_path_names_are_refused(name: str):
    err = refused(xlsx({"Henkilöstö": sheet_xml(staffing_rows())}, names=[name]))
    assert err.key == "member_name" and err.dangerous
    assert said(err) == f"Tiedoston sisällä on outo polkunimi ”{name}”: tiedostoa ei lueta."


def test_two_parts_of_one_name_are_refused():
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = xlsx({"Henkilöstö": sheet_xml(staffing_rows())}, names=["xl/styles.xml", "xl/styles.xml"])
    assert refused(data).key == "member_name"


# -- XML that reaches out or multiplies --------------------------------------------------------

XXE = '<!DOCTYPE t [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
LAUGHS = ('<!DOCTYPE t [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')


@pytest.mark.store
def test_an_external_entity_is_refused_and_nothing_is_read_from_the_disk(backend: Backend, config: Config):
    data = xlsx({"Henkilöstö": sheet_xml(staffing_rows().replace("lääkäri", "&e;"), prolog=XXE)})
    report = run(backend, config, data)
    (error,) = report.errors
    assert not report.ok and not report.applied and report.dangerous
    assert error["message"] == ("Tiedoston osassa xl/worksheets/sheet1.xml on DOCTYPE- tai ENTITY-määrittely: "
                                "tiedostoa ei lueta.")
    assert "root:" not in json.dumps(report.as_dict())


@pytest.mark.parametrize("where", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"])
def test_billion_laughs_are_refused(where: str):
    sst = f'<?xml version="1.0"?>{LAUGHS}<sst xmlns="{MAIN}"><si><t>&d;</t></si></sst>'
    sheet = sheet_xml(staffing_rows(), prolog=LAUGHS if where.endswith("sheet1.xml") else "")
    err = refused(xlsx({"Henkilöstö": sheet}, extra={"xl/sharedStrings.xml": sst}))
    assert (err.key, err.kw["part"]) == ("xml_entities", where)


def test_an_ods_with_entities_is_refused():
    assert refused(ods(ods_staffing(), prolog=XXE)).key == "xml_entities"


# -- .ods repeats: LibreOffice's empty ones are fine, expanding real cells is not ---------------

def test_a_libreoffice_like_ods_with_a_million_empty_rows_reads():
    sheets = reader.read(ods(ods_staffing())).sheets
    assert sheets["Henkilöstö"] == [STAFF_HEAD, ["23.11.2026", "vastaanotto", "lääkäri", 8.0, 8.0]]


@pytest.mark.parametrize("tail, key, cell", [
    (ods_row(ods_cell("x"), repeat=1048570), "too_many_rows", "A1048572"),  # a value repeated down
    (ods_row(ods_cell(1, repeat=16384)), "too_many_columns", "XFD3"),  # a value repeated across
    (ods_row(EMPTY_TO_THE_END.format(n=16384), repeat=1_000_000) + ods_row(ods_cell("x")),
     "too_many_rows", "A1000003"),  # a value after a million empty rows
    (ods_row(EMPTY_TO_THE_END.format(n=16000) + ods_cell("x")), "too_many_columns", "WQK3"),
    (ods_row('<table:table-cell office:value-type="string"><text:p>a<text:s text:c="1000000000"/>b'
             "</text:p></table:table-cell>"), "long_repeat", "A3"),  # a billion spaces
    (ods_row(ods_cell("x")).replace("<table:table-row>", '<table:table-row xmlns:x="urn:x" '
     'x:number-rows-repeated="1" table:number-rows-repeated="1048570">'), "too_many_rows", "A1048572"),
])
def test_an_ods_repeat_that_expands_real_cells_is_refused(tail: str, key: str, cell: str):
    err = refused(ods(ods_staffing(tail)))
    assert (err.key, err.kw["sheet"], err.kw["cell"]) == (key, "Henkilöstö", cell)


# -- what gets past the checks is read in a bounded process ------------------------------------

def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Run `body` as the reading process instead of native.py (it may import native)."""
    path = tmp_path / "native_stand_in.py"
    path.write_text(f"import sys, types\nsys.path.insert(0, {str(reader.NATIVE.parent)!r})\n{body}")
    monkeypatch.setattr(reader, "NATIVE", path)


# native.py itself, with a python-calamine that asks for 10 GB: its limit turns that into a
# MemoryError, and its exit status says so
GREEDY = """greedy = types.ModuleType("python_calamine")
greedy.CalamineWorkbook = types.SimpleNamespace(from_filelike=lambda f: b"x" * 10**10)
sys.modules["python_calamine"] = greedy
import native
native.main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
"""


def test_the_checks_run_in_the_reading_process_too(monkeypatch: pytest.MonkeyPatch):
    # their own time and memory are bounded with the reading's: this process only looks at
    # the size and kind
    monkeypatch.setattr(guard, "check", lambda data: pytest.fail("checked in the calling process"))
    assert refused(xlsx({"Henkilöstö": sheet_xml(staffing_rows(), dimension="A1:XFD1048576")})).key == "dimension"


def test_a_reader_that_runs_out_of_memory_is_an_unreadable_file_not_a_crash(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch):
    # native.py with the checks bypassed
    stand_in(tmp_path, monkeypatch, "import native\n"
             "native.guard_module = lambda: types.SimpleNamespace(Unreadable=Exception, "
             "check=lambda data: types.SimpleNamespace(data=data))\n"
             "native.main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])\n")
    bomb = xlsx({"Henkilöstö": sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')})
    with pytest.raises(guard.Unreadable) as caught:
        reader.read(bomb)  # straight to python-calamine: 512 GiB asked for
    # within READ_MEMORY calamine's allocation fails: it aborts, or panics on what it got
    assert caught.value.key in ("read_memory", "read_crashed"), caught.value.kw
    assert said(caught.value).startswith("Työkirjan lukeminen keskeytyi: ")


@pytest.mark.parametrize("script, key, detail", [
    (GREEDY, "read_memory", None),
    ("import os; os.abort()", "read_memory", None),  # as Rust does when an allocation fails
    ("import time; time.sleep(60)", "read_timeout", None),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "read_crashed", "SIGSEGV"),
    ("print('nonsense')", "read_crashed", "?"),
])
def test_a_reader_that_hangs_or_dies_is_stopped_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          script: str, key: str, detail: str | None):
    stand_in(tmp_path, monkeypatch, script)
    monkeypatch.setattr(reader, "READ_SECONDS", 1)
    started = time.monotonic()
    err = refused(xlsx({"Henkilöstö": sheet_xml(staffing_rows())}))
    assert time.monotonic() - started < 10
    assert (err.key, err.kw.get("detail")) == (key, detail)
    assert said(err).startswith("Työkirjan lukeminen keskeytyi: ")


# -- honest workbooks still import -------------------------------------------------------------

@pytest.mark.store
def test_the_filled_in_template_imports(backend: Backend, config: Config):
    data = filled_template(config, [["23.11.2026", "Vastaanotto", "lääkäri", 8, 7]])
    report = run(backend, config, data)
    assert report.ok and report.applied and report.counts["Henkilöstö"] == 1, report.errors
    assert live(backend)[("staff.present", "vastaanotto", "lääkäri")] == 7


@pytest.mark.store
@pytest.mark.parametrize("data", [lambda: (FIXTURES / "aamu-libreoffice.ods").read_bytes(), lambda: ods(ods_staffing())],
                         ids=["saved-by-libreoffice", "libreoffice-like"])
def test_a_libreoffice_ods_imports(backend: Backend, config: Config, data):  # type: ignore[no-untyped-def]
    report = run(backend, config, data(), "aamu.ods")
    assert report.ok and report.applied, report.errors


def test_a_workbook_at_the_limits_reads():
    wb = Workbook()
    deep, wide = wb.active, wb.create_sheet("Leveä")
    deep.cell(guard.MAX_ROWS, 5, "alin")
    wide.cell(10, guard.MAX_COLUMNS, "oikein")
    out = io.BytesIO()
    wb.save(out)
    sheets = reader.read(out.getvalue()).sheets
    assert (len(sheets[deep.title]), sheets[deep.title][-1][-1]) == (guard.MAX_ROWS, "alin")
    assert (len(sheets["Leveä"][-1]), sheets["Leveä"][-1][-1]) == (guard.MAX_COLUMNS, "oikein")


# -- the command line: a named refusal, not an abort -------------------------------------------

@pytest.mark.store
def test_import_command_names_the_bomb_and_exits_with_its_refusal(backend: Backend, tmp_path: Path):
    bomb = tmp_path / "pommi.xlsx"
    bomb.write_bytes(xlsx({"Henkilöstö": sheet_xml(staffing_rows() + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')}))
    result = cli("import", str(bomb), "--json", "--config", str(EXAMPLE_CONFIG), env=backend.cli_env())
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])  # refused, not 134
    (error,) = json.loads(result.stdout)["errors"]
    assert (error["sheet"], error["row"], error["column"]) == ("Henkilöstö", 1048576, "XFD")
    assert "Välilehden Henkilöstö solu XFD1048576 on rivillä 1\u00a0048\u00a0576" in error["message"]
    plain = cli("import", str(bomb), "--config", str(EXAMPLE_CONFIG), env=backend.cli_env())
    assert plain.returncode == 1
    assert "VIRHE Henkilöstö 1048576 XFD [pommi.xlsx]: Välilehden Henkilöstö solu XFD1048576" in plain.stdout
    assert [i.applied for i in backend.history.imports()] == [0, 0]


@pytest.mark.store
def test_import_command_still_imports_the_filled_in_template(backend: Backend, config: Config, tmp_path: Path):
    from tests.siteclock import pin_site_clock

    pin_site_clock(backend.store, MONDAY)  # the command's today is the workbook's day
    good = tmp_path / "aamu.xlsx"
    good.write_bytes(filled_template(config, [["23.11.2026", "Vastaanotto", "lääkäri", 8, 7]]))
    result = cli("import", str(good), "--json", "--config", str(EXAMPLE_CONFIG), env=backend.cli_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["applied"] is True


# -- the watched folder: set aside, said once, not read again ----------------------------------

def written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    old = time.time() - 10
    os.utime(path, (old, old))  # settled
    return path


@pytest.mark.store
def test_the_watched_folder_sets_a_dangerous_file_aside_once(backend: Backend, config: Config, tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    source = Source(name="jakokansio", kind="workbook", address=str(share), poll_seconds=30)
    w = FolderWatcher(source, config, backend.store, backend.history, backend.data_dir)
    bomb = xlsx({"Henkilöstö": sheet_xml(staffing_rows(), dimension="A1:XFD1048576")})
    written(share / "pommi.xlsx", bomb)
    written(share / "aamu.xlsx", filled_template(config, [["23.11.2026", "Vastaanotto", "lääkäri", 8, 7]]))
    reports = w.poll()
    assert sorted((r.applied, r.dangerous) for r in reports) == [(False, True), (True, False)]
    assert not (share / "pommi.xlsx").exists() and (share / REFUSED / "pommi.xlsx").read_bytes() == bomb
    status = backend.store.source_status("jakokansio")
    assert status.last_error and status.last_error.startswith("pommi.xlsx → hylätyt/pommi.xlsx: Välilehti Henkilöstö")
    (entry,) = audit.entries(backend.history, action="workbook-set-aside")
    assert entry["who"] == "kansio:jakokansio" and entry["details"]["moved_to"] == "hylätyt/pommi.xlsx"
    assert "A1:XFD1048576" in entry["details"]["reason"]
    imports = len(backend.history.imports())

    assert w.poll() == []  # nothing read again
    restarted = FolderWatcher(source, config, backend.store, backend.history, backend.data_dir)
    assert [r.dangerous for r in restarted.poll()] == [False]  # only the honest file: a repeat
    assert len(backend.history.imports()) == imports
    written(share / "pommi-kopio.xlsx", bomb)  # the same file dropped again: aside at once, unread
    assert w.poll() == []
    assert (share / REFUSED / "pommi-kopio.xlsx").exists()
    assert len(backend.history.imports()) == imports
    assert len(audit.entries(backend.history, action="workbook-set-aside")) == 2


@pytest.mark.store
def test_the_watched_folder_sets_aside_a_file_over_the_size_limit_unread(backend: Backend, config: Config,
                                                                         tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    huge = share / "iso.xlsx"
    with huge.open("wb") as f:  # a sparse file: 2 GB on paper
        f.write(b"PK\x03\x04")
        f.truncate(2 * 10**9)
    os.utime(huge, (time.time() - 10, time.time() - 10))
    source = Source(name="jakokansio", kind="workbook", address=str(share), poll_seconds=30)
    w = FolderWatcher(source, config, backend.store, backend.history, backend.data_dir)
    (report,) = w.poll()
    assert report.dangerous and "Tiedosto on 1907,3 Mt, suurin sallittu koko on 20,0 Mt." == report.errors[0]["message"]
    assert (share / REFUSED / "iso.xlsx").exists() and w.poll() == []
    assert "iso.xlsx → hylätyt/iso.xlsx" in (backend.store.source_status("jakokansio").last_error or "")


@pytest.mark.store
def test_the_watched_folder_leaves_a_wrong_kind_of_file_in_place(backend: Backend, config: Config, tmp_path: Path):
    share = tmp_path / "share"
    share.mkdir()
    written(share / "raportti.xlsx", b"%PDF-1.7 not a workbook")
    source = Source(name="jakokansio", kind="workbook", address=str(share), poll_seconds=30)
    w = FolderWatcher(source, config, backend.store, backend.history, backend.data_dir)
    (report,) = w.poll()
    assert not report.dangerous and (share / "raportti.xlsx").exists()  # the shift lead saves over it
    assert w.poll() == []  # read once by this watcher


# -- feeds never hand a spreadsheet to a parser ------------------------------------------------

def test_a_tabular_feed_refuses_a_spreadsheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(reader, "read", lambda *_: pytest.fail("a feed reached the workbook reader"))
    feed = tmp_path / "henkilosto.xlsx"
    feed.write_bytes(xlsx({"Henkilöstö": sheet_xml(staffing_rows(), dimension="A1:XFD1048576")}))
    source = Source(name="henkilosto", kind="staffing", address=str(feed), poll_seconds=60,
                    units=["vastaanotto"])
    collector = TabularCollector(source, TZ)
    for fmt in ("json", "csv"):
        with pytest.raises(InvalidData, match="spreadsheet"):
            collector.normalise((fmt, feed.read_bytes()), MONDAY)


# -- a shift lead's workbook is bounded by their units -----------------------------------------

def two_units() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Henkilöstö"
    for row in (STAFF_HEAD, ["23.11.2026", "Vastaanotto", "lääkäri", 8, 7],
                ["23.11.2026", "Laboratorio", "bioanalyytikko", 6, 6]):
        ws.append(row)
    notices = wb.create_sheet("Tiedotteet")
    notices.append(["Alkaa", "Päättyy", "Yksikkö", "Teksti", "Tärkeys"])
    notices.append(["23.11.2026 8.00", "23.11.2026 16.00", "kaikki", "Koko talon tiedote", "info"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.store
def test_a_shift_lead_cannot_report_for_another_unit(backend: Backend, config: Config):
    report = run(backend, config, two_units(), units=["vastaanotto"])
    assert not report.ok and not report.applied
    assert [(e["sheet"], e["row"], e["column"], e["value"]) for e in report.errors] == [
        ("Henkilöstö", 3, "Yksikkö", "Laboratorio"), ("Tiedotteet", 2, "Yksikkö", "kaikki")]
    assert report.errors[0]["message"] == "Yksikkö Laboratorio ei ole vastuullasi (omat yksikkösi: Vastaanotto)."
    assert live(backend) == {} and backend.store.notices() == []
    assert backend.history.audit()[-1].action == "import_rejected"
    sv = run(backend, config, two_units(), lang="sv", units=["vastaanotto"]).errors[0]["message"]
    en = run(backend, config, two_units(), lang="en", units=["vastaanotto"]).errors[1]["message"]
    assert sv == "Enheten Laboratorium är inte ditt ansvar (dina enheter: Mottagning)."
    assert en == "Unit all is not yours to report for (your units: Vastaanotto)."


@pytest.mark.store
def test_a_shift_lead_with_every_unit_and_an_admin_import_the_same_file(backend: Backend, config: Config):
    everyone = [u.code for u in config.units]
    assert run(backend, config, two_units(), units=everyone, dry_run=True).ok
    report = run(backend, config, two_units())  # units=None: the command line, an admin, the folder
    assert report.ok and report.applied


def test_the_messages_are_in_three_languages():
    new = ["too_many_members", "member_name", "xml_entities", "too_many_sheets", "too_many_rows",
           "too_many_columns", "dimension", "too_many_cells", "long_repeat", "bad_reference",
           "read_timeout", "read_memory", "read_crashed", "not_your_unit", "bomb_part", "bomb_ratio"]
    for key in new:  # each a Finnish text with a translation in both catalogues
        assert MESSAGES[key] and all(gettext_in(lang, MESSAGES[key]) != MESSAGES[key] for lang in ("sv", "en")), key
    assert sys.platform.startswith("linux")  # RLIMIT_AS is what bounds the reading process
