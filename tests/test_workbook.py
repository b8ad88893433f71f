"""The control-board workbook: hurried real-world files import exactly; every bad input is
refused with a message that names what and where, and changes nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook

from dashboard.config import Config
from dashboard.domain.readmodel import build
from dashboard.workbook.importer import Report, import_bytes
from dashboard.workbook.reader import MAX_BYTES
from dashboard.workbook.template import template
from tests.conftest import ROOT, Backend

TZ = ZoneInfo("Europe/Helsinki")
MONDAY = datetime(2026, 11, 23, 11, 0, tzinfo=TZ)
FIXTURES = ROOT / "tests" / "fixtures" / "workbook"
pytestmark = pytest.mark.store


@pytest.fixture(autouse=True)
def monday():  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        yield


def run(backend: Backend, config: Config, data: bytes, name: str = "aamu.xlsx", **kw) -> Report:  # type: ignore[no-untyped-def]
    return import_bytes(data, name, "vuorovastaava", config=config, store=backend.store,
                        history=backend.history, data_dir=backend.data_dir, **kw)


def live(backend: Backend) -> dict[tuple[str, str, str], object]:
    return {(r.metric, r.unit, r.key): r.value for rs in backend.store.all_readings().values() for r in rs}


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


STAFF_HEAD = ["Päivä", "Yksikkö", "Ammattiryhmä", "Suunniteltu", "Paikalla"]


@pytest.mark.parametrize("fixture", ["aamu-libreoffice.xlsx", "aamu-libreoffice.ods"])
def test_a_hurried_libreoffice_workbook_imports_exactly(backend: Backend, config: Config, fixture: str):
    report = run(backend, config, (FIXTURES / fixture).read_bytes(), fixture)
    assert report.errors == [] and report.ok and report.applied
    assert report.counts == {"Henkilöstö": 3, "Tidsbokning": 2, "Jonot": 3, "Kapasiteetti": 1, "Tiedotteet": 2}
    assert any("Muistiinpanot" in w for w in report.warnings)  # the extra sheet
    assert any("Kommentti" in w for w in report.warnings)  # the extra column
    values = live(backend)
    assert values[("staff.present", "vastaanotto", "lääkäri")] == 7  # "7" as text
    assert values[("staff.planned", "vastaanotto", "sairaanhoitaja")] == 11  # a formula's value
    assert values[("staff.planned", "laboratorio", "bioanalyytikko")] == 6  # trailing space
    assert values[("appointments.t3_days", "vastaanotto", "lääkäri")] == 2.5  # "2,5", Swedish sheet
    assert values[("queue.waiting", "vastaanotto", "päivystys")] == 7  # the later of two times
    assert values[("queue.longest_wait_min", "laboratorio", "näytteenotto")] == 18
    assert values[("capacity.in_use", "vastaanotto", "vastaanottohuoneet")] == 14
    notices = {n["text"]: n for n in backend.store.notices()}
    closed = notices["Laboratorio suljettu klo 14 alkaen."]
    assert (closed["unit"], closed["importance"], closed["public"]) == ("kaikki", "tärkeä", True)
    assert closed["ends"] == "2026-11-23T16:00:00+02:00"


def test_values_reach_the_wall_with_their_provenance(backend: Backend, config: Config):
    run(backend, config, (FIXTURES / "aamu-libreoffice.xlsx").read_bytes(), "aamu.xlsx")
    data = build(config, config.display("vastaanotto-kaytava"), backend.store, None).data
    tile = next(t for t in data["tiles"] if t["metric"] == "staff.present" and t["key"] == "lääkäri")
    assert (tile["value"], tile["status"], tile["source"]) == (7, "fresh", "tyokirja")
    sha = backend.history.imports()[-1].sha256
    assert tile["entered_by"] == f"vuorovastaava (aamu.xlsx, sha256:{sha[:12]})"
    assert tile["valid_until"] == "2026-11-24T00:00:00+02:00"  # end of the day
    queue = next(t for t in data["tiles"] if t["metric"] == "queue.waiting")
    assert queue["updated_at"] == "2026-11-23T10:05:00+02:00"


def test_an_expired_manual_value_turns_stale(backend: Backend, config: Config):
    run(backend, config, (FIXTURES / "aamu-libreoffice.xlsx").read_bytes())
    with time_machine.travel(datetime(2026, 11, 23, 11, 6, tzinfo=TZ), tick=False):  # 10.05 + 1 h
        data = build(config, config.display("vastaanotto-kaytava"), backend.store, None).data
    queue = next(t for t in data["tiles"] if t["metric"] == "queue.waiting" and t["unit"] == "vastaanotto")
    assert queue["status"] == "stale"


def test_the_same_file_twice_is_applied_once_and_says_so(backend: Backend, config: Config):
    data = (FIXTURES / "aamu-libreoffice.xlsx").read_bytes()
    assert run(backend, config, data).applied
    again = run(backend, config, data)
    assert again.ok and not again.applied
    assert any("Sama tiedosto on jo tuotu" in w for w in again.warnings)
    assert [i.applied for i in backend.history.imports()] == [1]
    archived = list((backend.data_dir / "archive").rglob("*.xlsx"))
    assert [p.name for p in archived] == [f"{again.sha256}.xlsx"]
    actions = [a.action for a in backend.history.audit()]
    assert actions == ["import", "import_repeat"]


def test_template_round_trips_in_every_language(backend: Backend, config: Config):
    for lang in ("fi", "sv", "en"):
        data = template(config, lang)
        report = run(backend, config, data, f"pohja-{lang}.xlsx", lang=lang)
        assert report.ok and report.errors == [] and report.warnings == [], (lang, report)
        assert len(report.counts) == 6  # the five tables and the example configuration's own metrics


def test_swedish_users_get_swedish_messages(backend: Backend, config: Config):
    bad = workbook({"Personal": [["Dag", "Enhet", "Yrkesgrupp", "Planerat", "På plats"],
                                 ["23.11.2026", "Mottagning", "läkare", "-1", 3]]})
    report = run(backend, config, bad, lang="sv")
    assert report.errors[0]["message"] == "Väntade ett heltal som är 0 eller större."


def test_every_problem_is_reported_at_once(backend: Backend, config: Config):
    bad = workbook({"Henkilöstö": [STAFF_HEAD,
                                   ["23.11.2026", "Röntgen", "lääkäri", 3, 3],
                                   ["31.11.2026", "vastaanotto", "lääkäri", "kolme", 3]]})
    report = run(backend, config, bad)
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "Yksikkö"), (3, "Päivä"), (3, "Suunniteltu")]


# -- bad input: each a clear message, nothing applied, earlier data untouched -------------------

def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * 2**20
            for _ in range(300):
                member.write(chunk)
    return out.getvalue()


def encrypted() -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with open(FIXTURES / "aamu-libreoffice.xlsx", "rb") as f:
        OOXMLFile(f).encrypt("salasana", out)
    return out.getvalue()


GOOD = (FIXTURES / "aamu-libreoffice.xlsx").read_bytes()
BAD_INPUTS = {
    "not a spreadsheet": (lambda: b"%PDF-1.7 this is a report", ("", "ei ole taulukko")),
    "truncated": (lambda: GOOD[: len(GOOD) // 2], ("", "vioittunut tai katkennut")),
    "password-protected": (encrypted, ("", "suojattu salasanalla")),
    "zip bomb": (zip_bomb, ("", "purkautuisi")),
    "far over the size limit": (lambda: b"PK\x03\x04" + b"\0" * (MAX_BYTES + 5 * 2**20), ("", "suurin sallittu koko on 20,0 Mt")),
    "missing required column": (
        lambda: workbook({"Henkilöstö": [STAFF_HEAD[:4], ["23.11.2026", "vastaanotto", "lääkäri", 3]]}),
        ("Henkilöstö 1 Paikalla", "Pakollinen sarake puuttuu")),
    "text in a number column": (
        lambda: workbook({"Henkilöstö": [STAFF_HEAD, ["23.11.2026", "vastaanotto", "lääkäri", "kahdeksan", 3]]}),
        ("Henkilöstö 2 Suunniteltu kahdeksan", "Odotettiin kokonaislukua")),
    "negative count": (
        lambda: workbook({"Henkilöstö": [STAFF_HEAD, ["23.11.2026", "vastaanotto", "lääkäri", 8, -2]]}),
        ("Henkilöstö 2 Paikalla -2", "Odotettiin kokonaislukua")),
    "in use over total": (
        lambda: workbook({"Kapasiteetti": [["Päivä", "Yksikkö", "Resurssi", "Käytössä", "Yhteensä"],
                                           ["23.11.2026", "vastaanotto", "Huoneet", 19, 18]]}),
        ("Kapasiteetti 2 Käytössä 19", "Käytössä (19) on enemmän kuin yhteensä (18)")),
    "unknown unit": (
        lambda: workbook({"Henkilöstö": [STAFF_HEAD, ["23.11.2026", "Röntgen", "lääkäri", 8, 3]]}),
        ("Henkilöstö 2 Yksikkö Röntgen", "Tuntematon yksikkö")),
    "a date that does not exist": (
        lambda: workbook({"Henkilöstö": [STAFF_HEAD, ["31.11.2026", "vastaanotto", "lääkäri", 8, 3]]}),
        ("Henkilöstö 2 Päivä 31.11.2026", "Päivämäärää ei ole olemassa")),
    "notice ending before it starts": (
        lambda: workbook({"Tiedotteet": [["Alkaa", "Päättyy", "Yksikkö", "Teksti", "Tärkeys"],
                                         ["23.11.2026 14.00", "23.11.2026 12.00", "kaikki", "x", "info"]]}),
        ("Tiedotteet 2 Päättyy 23.11.2026 12.00", "Päättyy ennen kuin alkaa")),
    "a Swedish notice text over 200 characters": (
        lambda: workbook({"Tiedotteet": [["Alkaa", "Päättyy", "Yksikkö", "Teksti", "Tärkeys", "Teksti ruotsiksi"],
                                         ["23.11.2026 8.00", "23.11.2026 12.00", "kaikki", "x", "info", "å" * 201]]}),
        ("Tiedotteet 2 Teksti ruotsiksi", "201")),
    "two rows for the same key": (
        lambda: workbook({"Henkilöstö": [STAFF_HEAD, ["23.11.2026", "vastaanotto", "lääkäri", 8, 3],
                                         ["23.11.2026", "Vastaanotto", "lääkäri", 8, 4]]}),
        ("Henkilöstö 3 Ammattiryhmä lääkäri", "Sama rivi on jo rivillä 2")),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_clearly_and_changes_nothing(backend: Backend, config: Config, case: str):
    from collectors.historywriter import drain

    assert run(backend, config, GOOD).applied  # the morning's good data
    drain(backend.store, backend.history)
    before = (live(backend), backend.store.notices(), len(backend.history.changes()))
    make, (where, message) = BAD_INPUTS[case]
    report = run(backend, config, make(), "huono.xlsx")
    assert not report.ok and not report.applied
    assert len(report.errors) == 1, report.errors
    e = report.errors[0]
    assert " ".join(str(x) for x in (e["sheet"], e["row"] or "", e["column"], e["value"]) if x != "").startswith(where) or not where
    assert message in e["message"], e["message"]
    drain(backend.store, backend.history)
    assert (live(backend), backend.store.notices(), len(backend.history.changes())) == before
    assert [i.applied for i in backend.history.imports()] == [1, 0]
    assert backend.history.audit()[-1].action == "import_rejected"


def test_present_far_over_planned_is_a_warning_not_an_error(backend: Backend, config: Config):
    report = run(backend, config, workbook({"Henkilöstö": [STAFF_HEAD, ["23.11.2026", "vastaanotto", "lääkäri", 2, 40]]}))
    assert report.applied and report.errors == []
    assert report.warnings == ["Henkilöstö rivi 2: paikalla 40, suunniteltu vain 2 – tarkista."]


def test_dry_run_checks_and_applies_nothing(backend: Backend, config: Config):
    report = run(backend, config, GOOD, dry_run=True)
    assert report.ok and not report.applied
    assert live(backend) == {} and backend.history.imports() == []


def feed_and_correction(backend: Backend, config: Config, now: datetime) -> None:
    """The staffing feed says 8 doctors and 4 public health nurses, fresh, and 5 nurses, an
    hour old (stale); the shift lead has corrected the laboratory's nurses to 2 on the tablet."""
    from dashboard.domain.readings import Reading
    from dashboard.web.accounts import User
    from dashboard.web.shiftlead import ShiftLead

    backend.store.write_readings("demo-henkilosto", [
        Reading("staff.present", "vastaanotto", "lääkäri", 8, now, "demo-henkilosto"),
        Reading("staff.present", "vastaanotto", "sairaanhoitaja", 5, now - timedelta(hours=1), "demo-henkilosto"),
        Reading("staff.present", "vastaanotto", "terveydenhoitaja", 4, now, "demo-henkilosto"),
    ], {"state": "ok"})
    ShiftLead(config, backend.store, backend.history, User("hoitaja1", "shift_lead", ()), "fi").correct(
        "laboratorio", "staff.present", "sairaanhoitaja", "2", "4h", new_key=True)


SHADOWED_BOOK = {"Henkilöstö": [STAFF_HEAD, ["23.11.2026", "vastaanotto", "lääkäri", 8, 7],
                                ["23.11.2026", "vastaanotto", "terveydenhoitaja", 4, 4],  # what the feed says too
                                ["23.11.2026", "vastaanotto", "sairaanhoitaja", 6, 6],
                                ["23.11.2026", "laboratorio", "sairaanhoitaja", 4, 3]]}


def test_a_workbook_says_which_values_will_not_show_and_why(backend: Backend, config: Config):
    feed_and_correction(backend, config, MONDAY)
    before = live(backend)
    checked = run(backend, config, workbook(SHADOWED_BOOK), dry_run=True)
    assert live(backend) == before and not checked.applied
    report = run(backend, config, workbook(SHADOWED_BOOK))
    assert report.ok and report.applied
    assert checked.warnings == report.warnings == [
        "Henkilöstö rivi 2: lääkäri paikalla 7 ei näy seinällä: henkilöstöjärjestelmän tuore arvo 8 (klo 11.00) "
        "on voimassa. Korjaa tabletilla, jos se on väärä.",
        "Henkilöstö rivi 5: sairaanhoitaja paikalla 3 ei näy seinällä: tabletilla tehty korjaus 2 (hoitaja1, klo 11.00) "
        "on voimassa klo 15.00 asti. Peru korjaus tabletilla, jos työkirjan arvo on oikea.",
    ]
    # independently: exactly the workbook's values that the wall does not show
    tiles = build(config, config.display("vastaanotto-kaytava"), backend.store, backend.history).data["tiles"]
    hidden = sorted((t["unit"], t["key"], t["value"]) for t in tiles
                    if t["metric"] == "staff.present" and t["source"] != "tyokirja")
    assert hidden == [("laboratorio", "sairaanhoitaja", 2), ("vastaanotto", "lääkäri", 8),
                      ("vastaanotto", "terveydenhoitaja", 4)]  # the last: the same figure as the workbook's
    shown = {(t["metric"], t["unit"], t["key"]): t["value"] for t in tiles if t["source"] == "tyokirja"}
    assert shown[("staff.present", "vastaanotto", "sairaanhoitaja")] == 6  # fills in for the stale feed


def test_the_shadow_warning_speaks_the_users_language(backend: Backend, config: Config):
    feed_and_correction(backend, config, MONDAY)
    report = run(backend, config, workbook(SHADOWED_BOOK), lang="sv")
    assert report.warnings[0] == (
        "Personal rad 2: lääkäri på plats 7 visas inte på väggen: personalsystemets färska värde 8 (kl. 11.00) "
        "gäller. Korrigera på surfplattan om det är fel.")


def test_import_json_warns_of_values_a_fresh_feed_shadows(backend: Backend, config: Config, tmp_path):  # type: ignore[no-untyped-def]
    import json

    from tests.conftest import EXAMPLE_CONFIG, cli
    from tests.siteclock import pin_site_clock

    pin_site_clock(backend.store, MONDAY, stopped=True)  # the command's clock: the feed stays fresh
    feed_and_correction(backend, config, MONDAY)
    path = tmp_path / "aamu.xlsx"
    path.write_bytes(workbook({"Henkilöstö": [STAFF_HEAD, ["23.11.2026", "vastaanotto", "lääkäri", 8, 7]]}))
    result = cli("import", str(path), "--json", "--user", "anna", "--config", str(EXAMPLE_CONFIG),
                 env=backend.cli_env())
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["applied"] and data["warnings"] == [
        "Henkilöstö rivi 2: lääkäri paikalla 7 ei näy seinällä: henkilöstöjärjestelmän tuore arvo 8 "
        "(klo 11.00) on voimassa. Korjaa tabletilla, jos se on väärä."]


def test_a_workbooks_t3_beyond_the_horizon_reaches_the_wall_and_the_history_as_a_bound(
        backend: Backend, config: Config):
    from collectors.historywriter import drain
    from dashboard.domain.readmodel import build
    from dashboard.storage import rollups

    data = workbook({"Ajanvaraus": [
        ["Päivä", "Yksikkö", "Ammattiryhmä", "Vapaat ajat tänään", "Vapaat ajat 3 arkipäivää", "T3 (päivää)"],
        ["23.11.2026", "vastaanotto", "lääkäri", 0, 1, "> 90"],
        ["23.11.2026", "vastaanotto", "hoitaja", 2, 5, 4]]})
    report = run(backend, config, data)
    assert report.ok, report.errors
    tiles = {t["key"]: t for t in build(config, config.display("vastaanotto-kaytava"), backend.store, None).data["tiles"]
             if t["metric"] == "appointments.t3_days"}
    assert (tiles["lääkäri"]["value"], tiles["lääkäri"].get("bound")) == (90, "above")
    assert "bound" not in tiles["hoitaja"]
    drain(backend.store, backend.history)
    days = {r["key"]: r for r in rollups.series(backend.history, TZ, ["appointments.t3_days"], ["vastaanotto"],
                                                MONDAY.date(), MONDAY.date())}
    assert (days["lääkäri"]["last"], days["lääkäri"]["bound"]) == (90, "above")
    assert days["hoitaja"]["bound"] is None


def test_a_notice_with_a_swedish_text_reaches_the_waiting_room_in_both_languages_and_nothing_of_who(
        backend: Backend, config: Config):
    """The notices sheet's optional column "Teksti ruotsiksi" ("Text på svenska"): the waiting
    room's Swedish turn shows it; a notice without one shows its Finnish text there, marked as
    Finnish; the public snapshot names nobody (not who imported or wrote the notice)."""
    from layouts.components import notices_strip

    sheet = [["Alkaa", "Päättyy", "Yksikkö", "Teksti", "Tärkeys", "Julkinen", "Teksti ruotsiksi"],
             ["23.11.2026 8.00", "23.11.2026 16.00", "kaikki", "Aula suljettu klo 14 alkaen.", "tärkeä", "kyllä",
              "Aulan stängd från kl. 14."],
             ["23.11.2026 8.00", "23.11.2026 16.00", "laboratorio", "Näytteenotto ruuhkautunut.", "info", "kyllä", ""]]
    report = run(backend, config, workbook({"Tiedotteet": sheet}), "tiedotteet.xlsx")
    assert report.ok and report.applied, report.errors
    with time_machine.travel(MONDAY, tick=False):
        public = build(config, config.display("aula"), backend.store, backend.history).data
        staff = build(config, config.display("vastaanotto-kaytava"), backend.store, backend.history).data
    by_text = {n["text"]: n for n in public["notices"]}
    assert by_text["Aula suljettu klo 14 alkaen."]["text_sv"] == "Aulan stängd från kl. 14."
    assert "text_sv" not in by_text["Näytteenotto ruuhkautunut."]
    assert all(set(n) <= {"id", "unit", "importance", "public", "text", "text_sv", "starts", "ends"}
               for n in public["notices"])  # no entered_by on a waiting room's screen
    assert any("entered_by" in n for n in staff["notices"])  # the staff's screens say who

    strip = notices_strip(public["notices"], ["fi", "sv"])
    turns = {}
    for item in strip.children:
        spans = item.children[1].children  # one span a language, shown by turns
        turns[spans[0].children] = {span.lang: span.children for span in spans}
    closed = turns["Aula suljettu klo 14 alkaen."]
    assert closed["sv"] == "Aulan stängd från kl. 14."
    fallback = turns["Näytteenotto ruuhkautunut."]["sv"]  # the Finnish text, said to be Finnish
    assert fallback.lang == "fi" and fallback.children == "Näytteenotto ruuhkautunut."


def test_a_hurried_persons_workbook_is_read_as_meant(backend: Backend):
    """A blank day on today's board is the file's day (said so), "1.12." is this year's, "10"
    is a time, and "labra" is the laboratory by its configured alias."""
    from dashboard.config import parse_config
    from tests.conftest import EXAMPLE_CONFIG

    text = EXAMPLE_CONFIG.read_text().replace('name_sv = "Laboratorium"\n',
                                              'name_sv = "Laboratorium"\naliases = ["labra", "Näytteenotto"]\n', 1)
    config = parse_config(text, "ohjaustaulu.toml")
    data = workbook({
        "Henkilöstö": [STAFF_HEAD, ["", "labra", "bioanalyytikko", 4, 3],
                       ["23.11.", "vastaanotto", "lääkäri", 6, 5],
                       ["1.12.", "vastaanotto", "sairaanhoitaja", 9, 9]],
        "Jonot": [["Kellonaika", "Yksikkö", "Jono", "Jonossa", "Pisin odotus (min)"],
                  ["10", "NÄYTTEENOTTO ", "näytteenotto", 4, 12]],
    })
    report = run(backend, config, data)
    assert report.ok and report.applied, report.errors
    assert "Henkilöstö rivi 2: päivä puuttuu – luettu tämän päivän (23.11.2026) tiedoksi." in report.warnings
    assert "Henkilöstö rivi 4: päivä 01.12.2026 ei ole tänään – ei näytetä seinällä." in report.warnings
    values = live(backend)
    assert values[("staff.present", "laboratorio", "bioanalyytikko")] == 3
    assert values[("staff.present", "vastaanotto", "lääkäri")] == 5
    assert ("staff.present", "vastaanotto", "sairaanhoitaja") not in values
    (queue,) = [r for rs in backend.store.all_readings().values() for r in rs if r.metric == "queue.waiting"]
    assert (queue.unit, queue.value, queue.observed_at) == ("laboratorio", 4, datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    # in Swedish, the same warning from the catalogue
    swedish = run(backend, config, workbook({"Personal": [STAFF_HEAD, ["", "labra", "bioanalyytikko", 4, 2]]}),
                  "ruotsi.xlsx", lang="sv")
    assert "Personal rad 2: dagen saknas – läst som dagens (23.11.2026)." in swedish.warnings


def test_an_alias_that_names_another_unit_is_refused():
    from dashboard.config import ConfigError, parse_config
    from tests.conftest import EXAMPLE_CONFIG

    text = EXAMPLE_CONFIG.read_text().replace('name_sv = "Laboratorium"\n',
                                              'name_sv = "Laboratorium"\naliases = ["labra", " Vastaanotto"]\n', 1)
    with pytest.raises(ConfigError) as err:
        parse_config(text, "ohjaustaulu.toml")
    assert [(p.key, p.reason) for p in err.value.problems] == [
        ("units[2].aliases[1]", "' Vastaanotto' already names unit 'vastaanotto'")]


def test_substitutes_and_the_remark_reach_the_wall_and_the_tablet_never_a_waiting_room(backend: Backend, config: Config):
    """The staffing sheet's optional Sijaiset and Huomio are not read and thrown away: the
    substitutes are a figure of their own (staff.substitutes, by profession), the remark goes
    with the staff present to the staff's wall and the tablet, and neither reaches a public
    display."""
    import json

    from dashboard.web.accounts import User
    from dashboard.web.shiftlead import ShiftLead
    from layouts.components import board
    from layouts.patch import plain

    book = workbook({"Henkilöstö": [STAFF_HEAD + ["Sijaiset", "Huomio"],
                                    ["23.11.2026", "vastaanotto", "lääkäri", 8, 6, 2, "lääkäri sairastunut, sijainen klo 12"],
                                    ["23.11.2026", "vastaanotto", "sairaanhoitaja", 10, 10, 0, None],
                                    ["23.11.2026", "laboratorio", "bioanalyytikko", 4, 4, None, None]]})
    report = run(backend, config, book)
    assert report.ok, report.errors
    values = live(backend)
    assert values[("staff.substitutes", "vastaanotto", "lääkäri")] == 2
    assert values[("staff.substitutes", "vastaanotto", "sairaanhoitaja")] == 0
    assert ("staff.substitutes", "laboratorio", "bioanalyytikko") not in values  # left blank: nothing said
    staff = config.display("vastaanotto-kaytava")
    model = build(config, staff, backend.store, backend.history).data
    present = next(t for t in model["tiles"] if t["metric"] == "staff.present" and t["key"] == "lääkäri")
    assert present["note"] == "lääkäri sairastunut, sijainen klo 12"
    drawn = json.dumps(plain(board(config, staff, model)), ensure_ascii=False)
    assert "2 sijaista" in drawn and "lääkäri sairastunut, sijainen klo 12" in drawn and "ei sijaisia" in drawn
    public = config.display("aula")
    shown = build(config, public, backend.store, backend.history).data
    assert "sijainen klo 12" not in json.dumps(shown, ensure_ascii=False)
    assert "sijainen klo 12" not in json.dumps(plain(board(config, public, shown)), ensure_ascii=False)
    # the tablet's table of today: the remark under the value, the substitutes a row by name
    from layouts.tablet import TabletContext, board_view

    lead = ShiftLead(config, backend.store, backend.history, User("hoitaja1", "shift_lead", ("vastaanotto",)), "fi")
    table = json.dumps(plain(board_view(TabletContext(config, backend.store, backend.history, backend.data_dir), lead)),
                       ensure_ascii=False)
    assert "lääkäri sairastunut, sijainen klo 12" in table and "Sijaisia paikalla" in table


def test_the_templates_examples_are_the_centres_own_queues_professions_and_resources(backend: Backend, config: Config):
    """The help sheet's example rows use what the centre's live store holds (the tablet's
    download passes it), not a made-up queue; with nothing known, the generic examples."""
    from openpyxl import load_workbook

    from dashboard.domain.readings import Reading
    from dashboard.workbook.template import seen_keys

    backend.store.write_readings("demo-jonot", [
        Reading("queue.waiting", "laboratorio", "näytteenotto", 4, MONDAY, "demo-jonot"),
        Reading("staff.planned", "suun_th", "suuhygienisti", 3, MONDAY, "demo-jonot"),
        Reading("capacity.total", "vastaanotto", "hoitohuoneet", 9, MONDAY, "demo-jonot")], {"state": "ok"})

    def help_text(data: bytes) -> str:
        ws = load_workbook(io.BytesIO(data))["Ohje"]
        return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)

    own = help_text(template(config, "fi", seen_keys(backend.store.all_readings())))
    assert "9.30 | Laboratorio | Näytteenotto | 6" in own
    assert "Suun terveydenhuolto | Suuhygienisti" in own and "Vastaanotto | Hoitohuoneet" in own
    assert "Päivystys" not in own
    assert "Päivystys" in help_text(template(config, "fi"))  # nothing known: the generic example
    # and the workbook made from it imports without a word
    report = run(backend, config, template(config, "fi", seen_keys(backend.store.all_readings())))
    assert report.ok and report.warnings == [], report
