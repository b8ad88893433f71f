"""Reference figures from Sotkanet exports (dashboard/domain/reference.py): each shape written here
byte for byte as the file would arrive, and every way a file is refused."""

from __future__ import annotations

import json

import pytest

from dashboard.domain import reference
from dashboard.domain.reference import (
    Problem,
    ReferenceError,
    ReferenceFileError,
    ReferenceImport,
    ReferenceRow,
    load_reference,
    read_reference,
)


def refused(data: bytes, filename: str = "viite.csv") -> ReferenceError:
    with pytest.raises(ReferenceError) as caught:
        read_reference(data, filename)
    return caught.value


def where(err: ReferenceError) -> list[tuple[int | None, str | None, str | None, str]]:
    return [(p.line, p.column, p.found, p.expected) for p in err.problems]


# -- the shapes ---------------------------------------------------------------------------

def test_finnish_web_table_with_bom_title_decimal_comma_and_footnote():
    data = (
        "\ufeffHoitoonpääsy perusterveydenhuollossa, Sotkanet 12.3.2025\r\n"
        "\r\n"
        "Indikaattori;Indikaattorin ID;Alue;Vuosi;Sukupuoli;Arvo\r\n"
        "Hoitoonpääsy 7 vrk:n sisällä, %;5081;Koko maa;2024;Yhteensä;61,4\r\n"
        "Hoitoonpääsy 7 vrk:n sisällä, %;5081;Koko maa;2024;Miehet;59,0\r\n"
        "Hoitoonpääsy 7 vrk:n sisällä, %;5081;Koko maa;2024;Naiset;63,7\r\n"
        "Hoitoonpääsy 7 vrk:n sisällä, %;5081;Pirkanmaan hyvinvointialue;2024;Yhteensä;57,25\r\n"
        "Hoitoonpääsy 7 vrk:n sisällä, %;5081;Pirkanmaan hyvinvointialue;2023;Yhteensä;..\r\n"
        "\r\n"
        "Lähde: THL, Tilasto- ja indikaattoripankki Sotkanet\r\n"
        "..-merkintä: tietoa ei ole saatavilla\r\n"
    ).encode("utf-8")
    got = load_reference(data, "sotkanet.csv")
    name = "Hoitoonpääsy 7 vrk:n sisällä, %"
    assert got.rows == (
        ReferenceRow(name, "5081", "Koko maa", "2024", 61.4, "total"),
        ReferenceRow(name, "5081", "Pirkanmaan hyvinvointialue", "2024", 57.25, "total"),
    )
    assert (got.shape, got.encoding, got.delimiter) == ("csv", "utf-8", ";")
    assert (got.skipped_no_value, got.skipped_gender, got.duplicates) == (1, 2, 0)
    assert got.notes == (
        "Hoitoonpääsy perusterveydenhuollossa, Sotkanet 12.3.2025",
        "Lähde: THL, Tilasto- ja indikaattoripankki Sotkanet",
        "..-merkintä: tietoa ei ole saatavilla",
    )
    assert read_reference(data, "sotkanet.csv") == list(got.rows)


def test_english_comma_separated_with_quotes_and_excel_separator_line():
    data = (
        b"sep=,\n"
        b"Indicator,Indicator ID,Region,Year,Gender,Value\n"
        b'"Access within 7 days, %",5081,Finland,2024,Total,61.4\n'
        b'"Access within 7 days, %",5081,Wellbeing services county of Pirkanmaa,2024,Total,"57,3"\n'
        b'"Access within 7 days, %",5081,Finland,2024,Women,63.7\n'
    )
    got = load_reference(data, "sotkanet-en.csv")
    assert got.rows == (
        ReferenceRow("Access within 7 days, %", "5081", "Finland", "2024", 61.4, "total"),
        ReferenceRow("Access within 7 days, %", "5081", "Wellbeing services county of Pirkanmaa",
                     "2024", 57.3, "total"),
    )
    assert got.delimiter == ","
    assert got.skipped_gender == 1
    assert got.notes == ()  # the separator hint is no note


def test_latin1_saved_by_a_finnish_spreadsheet():
    data = (
        "Indikaattori;Alue;Vuosi;Arvo\n"
        "Lääkärikäynnit / 1000 asukasta;Etelä-Pohjanmaan hyvinvointialue;2023;1 234,5\n"
        "Lääkärikäynnit / 1000 asukasta;Ähtäri;2023;-3,25\n"
    ).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test's premise: this is no UTF-8
    got = load_reference(data, "viite.csv")
    assert got.encoding == "cp1252"
    assert got.rows == (
        ReferenceRow("Lääkärikäynnit / 1000 asukasta", None, "Etelä-Pohjanmaan hyvinvointialue",
                     "2023", 1234.5, None),
        ReferenceRow("Lääkärikäynnit / 1000 asukasta", None, "Ähtäri", "2023", -3.25, None),
    )


def test_swedish_headers_in_any_case_and_order_with_extra_columns():
    data = (
        "ÅR;OMRÅDE;Indikator;Kön;Värde;Absolut värde;Kommentar\n"
        "2024;Österbottens välfärdsområde;Tillgång till vård inom 7 dygn, %;Totalt;58,1;1200;x\n"
        "2024;Österbottens välfärdsområde;Tillgång till vård inom 7 dygn, %;Män;57,0;600;\n"
    ).encode()
    assert read_reference(data, "sv.csv") == [
        ReferenceRow("Tillgång till vård inom 7 dygn, %", None, "Österbottens välfärdsområde",
                     "2024", 58.1, "total"),
    ]


def test_utf16_tab_separated_unicode_text_from_excel():
    data = ("Indikaattori\tAlue\tVuosi\tArvo\r\n"
            "Hoitotakuu\tKoko maa\t2024\t61,4\r\n").encode("utf-16")
    got = load_reference(data, "unicode.txt")
    assert (got.encoding, got.delimiter) == ("utf-16", "\t")
    assert got.rows == (ReferenceRow("Hoitotakuu", None, "Koko maa", "2024", 61.4, None),)


def test_sotkanet_rest_csv():
    # https://sotkanet.fi/rest/1.1/csv?indicator=5081&years=2024&genders=total
    data = (
        b"indicator;region;year;gender;primary value;absolute value\n"
        b"5081;658;2024;total;61,4;123456\n"
        b"5081;1234;2024;total;57.25;\n"
        b"5081;1235;2024;total;;\n"
    )
    got = load_reference(data, "rest.csv")
    assert got.rows == (
        ReferenceRow("5081", "5081", "658", "2024", 61.4, "total"),
        ReferenceRow("5081", "5081", "1234", "2024", 57.25, "total"),
    )
    assert got.skipped_no_value == 1


def test_sotkanet_rest_json():
    # https://sotkanet.fi/rest/1.1/json?indicator=5081&years=2023&years=2024&genders=total…
    records = [
        {"indicator": 5081, "region": 658, "year": 2024, "gender": "total", "value": 61.4, "absValue": 3378},
        {"indicator": 5081, "region": 658, "year": 2024, "gender": "male", "value": 59.0, "absValue": 1600},
        {"indicator": 5081, "region": 658, "year": 2024, "gender": "female", "value": 63.7, "absValue": 1778},
        {"indicator": 5081, "region": 1234, "year": 2023, "gender": "total", "value": 57},
        {"indicator": 5081, "region": 1235, "year": 2023, "gender": "total", "value": None},
    ]
    got = load_reference(json.dumps(records).encode("utf-8"), "sotkanet.json")
    assert got.rows == (
        ReferenceRow("5081", "5081", "658", "2024", 61.4, "total"),
        ReferenceRow("5081", "5081", "1234", "2023", 57.0, "total"),
    )
    assert (got.shape, got.delimiter) == ("json", None)
    assert (got.skipped_gender, got.skipped_no_value) == (2, 1)


def test_months_from_a_month_column_or_the_year_cell():
    data = (
        b"Indikaattori;Alue;Vuosi;Kuukausi;Arvo\n"
        b"Hoitotakuu;Koko maa;2024;3;61,4\n"
        b"Hoitotakuu;Koko maa;2024;12;60\n"
        b"Hoitotakuu;Koko maa;2024;2024-11;59,5\n"
        b"Hoitotakuu;Koko maa;2024;;62\n"
        b"Hoitotakuu;Pirkanmaa;2024-05;;50\n"
        b"Hoitotakuu;Pirkanmaa;2024M06;06;51\n"
    )
    assert [(r.region, r.period, r.value) for r in read_reference(data, "kk.csv")] == [
        ("Koko maa", "2024-03", 61.4),
        ("Koko maa", "2024-12", 60.0),
        ("Koko maa", "2024-11", 59.5),
        ("Koko maa", "2024", 62.0),
        ("Pirkanmaa", "2024-05", 50.0),
        ("Pirkanmaa", "2024-06", 51.0),
    ]


def test_missing_values_are_skipped_and_counted():
    data = (
        "Indikaattori;Alue;Vuosi;Arvo\n"
        "Hoitotakuu;Koko maa;2021;..\n"
        "Hoitotakuu;Koko maa;2022;\n"
        "Hoitotakuu;Koko maa;2023;…\n"
        "Hoitotakuu;Koko maa;2024;0\n"
    ).encode()
    got = load_reference(data, "puuttuu.csv")
    assert got.rows == (ReferenceRow("Hoitotakuu", None, "Koko maa", "2024", 0.0, None),)
    assert got.skipped_no_value == 3


def test_repeated_row_with_the_same_value_is_read_once():
    data = (b"Indikaattori;Alue;Vuosi;Arvo\n"
            b"Hoitotakuu;Koko maa;2024;61,4\n"
            b"Hoitotakuu;Koko maa;2024;61.4\n")
    got = load_reference(data, "kahdesti.csv")
    assert len(got.rows) == 1 and got.duplicates == 1


# -- refused, with every problem in one error -----------------------------------------------

def test_every_problem_listed_once_with_line_and_column():
    data = (
        "Sotkanet-haku\n"
        "Indikaattori;Alue;Vuosi;Sukupuoli;Arvo\n"
        "Hoitotakuu;Koko maa;20x4;Yhteensä;61,4\n"
        "Hoitotakuu;Koko maa;2024;Yhteensä;abc\n"
        "Hoitotakuu;;2024;Yhteensä;1\n"
        "Hoitotakuu;Koko maa;2023;Muu;2\n"
        "Hoitotakuu;Koko maa;2022;Yhteensä;=1+2\n"
        "Hoitotakuu;Koko maa;2021;Yhteensä;5\n"
    ).encode()
    err = refused(data)
    assert where(err) == [
        (3, "Vuosi", "20x4", "year"),
        (4, "Arvo", "abc", "value"),
        (5, "Alue", None, "text"),
        (6, "Sukupuoli", "Muu", "gender"),
        (7, "Arvo", "=1+2", "value"),
    ]
    assert err.count == 5
    assert err.problems[0].message == (
        "line 3, column Vuosi: found '20x4'; expected a year such as 2024 (1900–2100), or 2024-03")
    assert err.problems[0].message_fi == (
        "rivi 3, sarake Vuosi: löytyi '20x4'; odotettiin: vuosi, esim. 2024 (1900–2100), tai 2024-03")
    assert err.problems[1].text("sv").startswith("rad 4, kolumn Arvo: hittades 'abc'; förväntades: ett tal")
    assert str(err).splitlines()[0] == "viite.csv: 5 problem(s), nothing was imported"
    assert err.text("fi").splitlines()[0] == "viite.csv: 5 ongelma(a), mitään ei tuotu"
    assert "  rivi 4, sarake Arvo: löytyi 'abc'" in err.message_fi
    assert ReferenceFileError is ReferenceError


def test_missing_column_listed_with_the_rows_problems():
    data = (b"Indikaattori;Alue;Vuosi\n"
            b"Hoitotakuu;Koko maa;20x4\n")
    err = refused(data)
    assert where(err) == [
        (1, None, "Indikaattori;Alue;Vuosi", "column"),
        (2, "Vuosi", "20x4", "year"),
    ]
    assert "arvo / primary value / value / värde" in err.problems[0].message
    assert err.problems[0].message_fi.startswith("rivi 1: löytyi 'Indikaattori;Alue;Vuosi'; odotettiin: sarake nimeltä")


def test_missing_indicator_column():
    err = refused(b"Alue;Vuosi;Arvo\nKoko maa;2024;1\n")
    assert [p.expected for p in err.problems] == ["indicator_column"]


def test_no_header_line():
    err = refused(b"just;some;text\n1;2;3\n")
    assert where(err)[0][:2] == (1, None) and err.problems[0].expected == "header"


def test_conflicting_repeat_names_the_first_line():
    data = (b"Indikaattori;Alue;Vuosi;Arvo\n"
            b"Hoitotakuu;Koko maa;2024;61,4\n"
            b"Hoitotakuu;Koko maa;2024;62\n")
    err = refused(data)
    assert where(err) == [(3, "Arvo", "62", "duplicate")]
    assert "line 2 has 61.4" in err.problems[0].message


def test_a_line_of_text_inside_the_data():
    data = ("Indikaattori;Alue;Vuosi;Arvo\n"
            "Hoitotakuu;Koko maa;2023;61,4\n"
            "Välisumma\n"
            "Hoitotakuu;Koko maa;2024;62\n").encode()
    assert where(refused(data)) == [(3, None, "Välisumma", "note_in_data")]


def test_unquoted_decimal_comma_in_a_comma_separated_file():
    data = b"Indicator,Region,Year,Value\nAccess,Finland,2024,61,4\n"
    assert where(refused(data)) == [(2, None, "Access,Finland,2024,61,4", "fields")]


def test_nothing_to_import_when_no_row_has_a_value():
    data = ("Indikaattori;Alue;Vuosi;Sukupuoli;Arvo\n"
            "Hoitotakuu;Koko maa;2024;Yhteensä;..\n"
            "Hoitotakuu;Koko maa;2024;Naiset;60\n").encode()
    err = refused(data)
    assert [p.expected for p in err.problems] == ["some_value"]
    assert "(1 rows had no value, 1 were for men or women only)" in err.problems[0].message


def test_header_only_and_empty_files():
    assert [p.expected for p in refused(b"Indikaattori;Alue;Vuosi;Arvo\n").problems] == ["empty"]
    assert [p.expected for p in refused(b"  \n").problems] == ["empty"]
    assert [p.expected for p in refused(b"[]", "x.json").problems] == ["empty"]


def test_json_problems_name_the_record_and_key():
    records = [
        {"indicator": 5081, "region": 658, "year": "20x4", "value": 1},
        {"indicator": 5081, "region": 658, "year": 2024, "value": "abc"},
        {"indicator": 5081, "year": 2024, "value": 1},
        {"indicator": 5081, "region": 658, "year": 2024, "value": True},
        "not a record",
        {"indicator": 5081, "region": 658, "year": 2024, "gender": "total", "value": 2},
    ]
    err = refused(json.dumps(records).encode(), "x.json")
    assert where(err) == [
        (1, "year", "20x4", "year"),
        (2, "value", "abc", "value"),
        (3, "region", None, "text"),
        (4, "value", "true", "value"),
        (5, None, '"not a record"', "record"),
    ]
    assert err.problems[0].message.startswith("record 1, field year: found '20x4'")
    assert err.problems[0].message_fi.startswith("tietue 1, kenttä year: löytyi '20x4'")


def test_json_that_is_not_a_list_of_records():
    assert refused(b'{"indicator": 1}', "x.json").problems[0].expected == "json"
    assert refused(b"[1, 2", "x.json").problems[0].expected == "json"
    deep = refused(b"[" * 200_000 + b"]" * 200_000, "deep.json")
    assert deep.problems[0].expected == "json"
    assert "nested too deep" in deep.problems[0].message


# -- hostile files ------------------------------------------------------------------------

def test_oversized_file_refused_before_it_is_decoded_or_parsed(monkeypatch: pytest.MonkeyPatch):
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("an oversized file was read")

    for name in ("_decode", "_read_csv", "_read_json", "_find_header"):
        monkeypatch.setattr(reference, name, must_not_run)
    data = b"Indikaattori;Alue;Vuosi;Arvo\n" + b"x" * (20 * 1024 * 1024)
    err = refused(data)
    assert where(err) == [(None, None, f"{len(data):,} bytes".replace(",", " "), "size")]
    assert "expected a file of at most 20 MB (20 971 520 bytes)" in err.problems[0].message
    assert "enintään 20 Mt:n tiedosto" in err.problems[0].message_fi


def test_size_limit_boundary(monkeypatch: pytest.MonkeyPatch):
    data = b"Indikaattori;Alue;Vuosi;Arvo\nHoitotakuu;Koko maa;2024;1\n"
    monkeypatch.setattr(reference, "MAX_BYTES", len(data))
    assert len(read_reference(data, "raja.csv")) == 1
    monkeypatch.setattr(reference, "MAX_BYTES", len(data) - 1)
    assert [p.expected for p in refused(data).problems] == ["size"]


def test_row_limit(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(reference, "MAX_ROWS", 3)
    rows = "".join(f"Hoitotakuu;Koko maa;{2020 + i};1\n" for i in range(3))
    assert len(read_reference(("Indikaattori;Alue;Vuosi;Arvo\n" + rows).encode(), "r.csv")) == 3
    err = refused(("Indikaattori;Alue;Vuosi;Arvo\n" + rows + "Hoitotakuu;Koko maa;2030;1\n").encode())
    assert where(err) == [(5, None, None, "rows")]
    records = [{"indicator": 1, "region": 2, "year": 2024, "value": 1}] * 4
    assert [p.expected for p in refused(json.dumps(records).encode(), "r.json").problems] == ["rows"]


def test_spreadsheet_refused():
    assert refused(b"PK\x03\x04rest of a zip", "viite.xlsx").problems[0].expected == "spreadsheet"
    assert refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "viite.csv").problems[0].expected == "spreadsheet"


def test_long_cells_and_runaway_quotes():
    long_name = "x" * (reference.MAX_CELL + 1)
    data = f"Indikaattori;Alue;Vuosi;Arvo\n{long_name};Koko maa;2024;1\n".encode()
    assert [(p.line, p.expected) for p in refused(data).problems] == [(2, "cell")]

    text_over = "y" * (reference.MAX_TEXT + 1)
    data = f"Indikaattori;Alue;Vuosi;Arvo\nHoitotakuu;{text_over};2024;1\n".encode()
    assert where(refused(data)) == [(2, "Alue", text_over, "text_length")]

    # a quote never closed swallows the rest of the file: refused at its line, not a footnote
    data = 'Indikaattori;Alue;Vuosi;Arvo\nHoitotakuu;"Koko maa;2024;1\nHoitotakuu;Koko maa;2023;2\n'
    assert where(refused(data.encode()))[0][:2] == (2, "Vuosi")

    # and one that runs past the csv module's field limit
    data = 'Indikaattori;Alue;Vuosi;Arvo\nHoitotakuu;Koko maa;2024;1\nA;"' + "z" * 200_000 + "\n"
    assert [(p.line, p.expected) for p in refused(data.encode()).problems] == [(3, "csv")]


def test_text_is_cleaned_and_never_evaluated():
    data = ("Indikaattori;Alue;Vuosi;Arvo\n"
            "  Hoito\u200btakuu\t ;=HYPERLINK(\"http://example.invalid\");2024;\u00a01\u00a0234,5 \n"
            "Hoitotakuu;Hel\u202esinki\u0007;2024;\u22122\n").encode("utf-8")
    rows = read_reference(data, "puhdas.csv")
    assert [(r.indicator, r.region, r.value) for r in rows] == [
        ("Hoitotakuu", '=HYPERLINK("http://example.invalid")', 1234.5),
        ("Hoitotakuu", "Helsinki", -2.0),
    ]


def test_messages_escape_control_characters():
    err = refused("Indikaattori;Alue;Vuosi;Arvo\nA;B;20\u001b[2J24;1\n".encode())
    assert "\u001b" not in str(err)
    assert "\\u001b" in err.problems[0].message


def test_problem_is_plain_data():
    problem = Problem(3, "Vuosi", "20x4", "year", (("low", "1900"), ("high", "2100")))
    assert problem.text("de") == problem.message  # an unknown language reads English
    assert isinstance(load_reference(b"Indikaattori;Alue;Vuosi;Arvo\nA;B;2024;1\n", "a.csv"),
                      ReferenceImport)
