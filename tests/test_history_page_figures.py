"""The history page's figures as a manager reads them (issue 13, "The history page reads as one
page" and "Daily figures over opening hours"), each checked against a slow, obvious
computation of our own from the raw changes the demo's feeds recorded — not from the rollups
the page reads.

The history: two weeks of the demo's past working days as its feeds report them
(`dashboard.demo.seed_days`), and a morning of today's changes, for a site whose laboratory
opens 7–15 while the others open 8–16. The page is asked at 11.00 on Wednesday 25.11.2026.
Runs on SQLite and, when configured, on PostgreSQL.

The statement the slow computation follows (PRODUCT.md, issue 13): a value is in force from
its change until the next change of its series (a plan or a count of today only until its
day ends); a level's daily figure is the mean of the values in force minute by minute over
the unit's opening hours on a day it is open (the demo's changes fall on whole minutes, so
minutes are exact), beside the largest of them and the value in force just before closing;
a count's daily figure is its value at the end of its day.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import select

from dashboard.config import Config, Hours, load_config
from dashboard.demo import seed_days
from dashboard.domain.clock import is_working_day
from dashboard.domain.metrics import CATALOGUE, LABEL_FI
from dashboard.domain.readings import Reading
from dashboard.i18n import number
from dashboard.storage import rollups
from dashboard.storage.tables import ReadingChange
from layouts import history as page
from tests.conftest import BACKENDS, EXAMPLE_CONFIG, ROOT, Backend, close_backend, make_backend

pytestmark = pytest.mark.store

TODAY = date(2026, 11, 25)  # a Wednesday
FIRST = TODAY - timedelta(days=14)  # the first seeded day
LAB_HOURS = (7, 15)
VO_QUEUE = "lääkärin vastaanotto"


@dataclass
class Seeded:
    ctx: page.HistoryContext
    at: datetime  # the page's "now"


def site_config(path: Path) -> Config:
    """The example site, with a laboratory that opens and closes an hour earlier."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = text.replace('name_sv = "Laboratorium"\n',
                        f'name_sv = "Laboratorium"\nopening_hours = [{LAB_HOURS[0]}, {LAB_HOURS[1]}]\n', 1)
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    assert config.hours("laboratorio").text() == "7–15"
    return config


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    root = tmp_path_factory.mktemp(f"history-page-{request.param}")
    backend = make_backend(request.param, root / "data")
    config = site_config(root / "site.toml")
    tz = config.tz
    rollups.rebuild(backend.history, tz, config.hours_specs())  # the site's zone and opening hours
    assert seed_days(config, backend.history, TODAY, weeks=2) > 1000

    def at(hh: int, mm: int = 0) -> datetime:
        return datetime.combine(TODAY, time(hh, mm), tzinfo=tz)

    today = [  # this morning, so far
        Reading("queue.waiting", "vastaanotto", VO_QUEUE, 3, at(8), "test"),
        Reading("queue.waiting", "vastaanotto", VO_QUEUE, 5, at(10, 30), "test"),
        Reading("flow.arrivals_today", "vastaanotto", "", 20, at(10), "test"),
        Reading("staff.present", "vastaanotto", "lääkäri", 6, at(7, 45), "test"),
    ]
    backend.history.record([(f"today:{i}", r) for i, r in enumerate(today)])
    try:
        yield Seeded(page.HistoryContext(config, backend.store, backend.history), at(11))
    finally:
        close_backend(backend)


# ---------------------------------------------------------------- the slow computation

Change = tuple[datetime, Any]


def raw_changes(s: Seeded, metric: str, unit: str, key: str) -> list[Change]:
    rc = ReadingChange
    with s.ctx.history.engine.connect() as conn:
        rows = conn.execute(select(rc.observed_at, rc.value).where(
            rc.metric == metric, rc.unit == unit, rc.key == key).order_by(rc.observed_at, rc.id)).all()
    return [(t, json.loads(v)) for t, v in rows]


def in_force(changes: list[Change], x: datetime, kind: str, tz: Any) -> Any:
    """The value of the last change at or before x; a plan's or a count's only on its own day."""
    found = None
    for t, value in changes:
        if t > x:
            break
        found = (t, value)
    if found is None:
        return None
    if kind != "gauge" and found[0].astimezone(tz).date() != x.astimezone(tz).date():
        return None
    return found[1]


def slow_day(changes: list[Change], day: date, kind: str, hours: Hours, tz: Any,
             now: datetime | None = None) -> dict[str, Any]:
    """A day's figure, maximum and value at closing, minute by minute; on the day of `now`,
    the day so far: the hours begun before `now` (the one in progress at its value now),
    and no value at closing before closing time."""
    if kind == "count":
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) - timedelta(microseconds=1)
        return {"figure": in_force(changes, end, kind, tz), "max": None, "at_close": None}
    if not (hours.every_day or is_working_day(day)):
        return {"figure": None, "max": None, "at_close": None}
    opens = datetime.combine(day, time(hours.start), tzinfo=tz)
    minutes = [opens + timedelta(minutes=i) for i in range((hours.end - hours.start) * 60)]
    closes = opens + timedelta(hours=hours.end - hours.start) - timedelta(microseconds=1)
    today = now is not None and now.astimezone(tz).date() == day
    if today:
        assert now is not None
        begun = now.replace(minute=0, second=0, microsecond=0)
        upto = begun + timedelta(hours=1) if now > begun else now  # the end of the hour in progress
        minutes = [x for x in minutes if x < upto]
        current = in_force(changes, now, kind, tz)
        values = [current if x >= now else in_force(changes, x, kind, tz) for x in minutes]
        values = [v for v in values if isinstance(v, int | float)]
    else:
        values = [v for v in (in_force(changes, x, kind, tz) for x in minutes) if isinstance(v, int | float)]
    return {"figure": sum(values) / len(values) if values else None, "max": max(values) if values else None,
            "at_close": None if today and now is not None and now <= closes else in_force(changes, closes, kind, tz)}


# ---------------------------------------------------------------- reading the page


def walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        yield from walk(child)


def graphs(parts: list[Any]) -> dict[str, Any]:
    """The page's series charts by metric: the dcc.Graph components."""
    out = {}
    for node in walk(page.html.Div(parts)):
        if type(node).__name__ == "Graph" and str(node.id).startswith("history-series-"):
            out[node.figure.data[0].meta["metric"]] = node
    return out


def query(s: Seeded, metrics: list[str], units: list[str], grain: str = "day", keys: list[str] | None = None,
          start: date = FIRST, end: date = TODAY, compare: tuple[date, date] | None = None) -> page.Query:
    return page.parse_query(s.ctx.config, units, metrics, start.isoformat(), end.isoformat(), grain, keys,
                            (compare[0].isoformat(), compare[1].isoformat()) if compare else None)


def shown_number(text: str) -> Decimal:
    """A number as the page writes it ("-0,6", "+1,2", "1\u00a0234,5", "±0") read back."""
    return Decimal(text.replace("±", "").replace("\u00a0", "").replace(" ", "").replace(",", "."))


METRICS = ["queue.waiting", "staff.present", "staff.planned", "flow.arrivals_today"]
UNITS = ["vastaanotto", "laboratorio"]


# ---------------------------------------------------------------- daily figures


def test_each_daily_point_is_the_slow_figure_over_its_units_opening_hours(seeded: Seeded):
    s, tz = seeded, seeded.ctx.config.tz
    parts, _options = page.content(s.ctx, query(s, METRICS, UNITS), s.at)
    charts = graphs(parts)
    assert list(charts) == METRICS
    checked = {"open": 0, "closed": 0, "count": 0}
    for metric, graph in charts.items():
        kind = CATALOGUE[metric].kind
        assert graph.figure.data, metric
        for trace in graph.figure.data:
            unit, key = trace.meta["unit"], trace.meta["key"]
            changes = raw_changes(s, metric, unit, key)
            hours = s.ctx.config.hours(unit)
            for x, y, (fig_text, max_text, close_text, unfinished) in zip(trace.x, trace.y, trace.customdata, strict=True):
                day = date.fromisoformat(x)
                want = slow_day(changes, day, kind, hours, tz, s.at)
                where = f"{metric} {unit} {key} {day}"
                if want["figure"] is None:
                    assert y is None and fig_text == "–", where
                    checked["closed"] += 1
                    continue
                assert y == pytest.approx(want["figure"], abs=6e-4), where
                assert fig_text == number(want["figure"], "fi"), where
                assert unfinished == (" (kesken)" if day == TODAY else ""), where
                if kind == "count":
                    checked["count"] += 1
                    continue
                assert max_text == number(want["max"], "fi"), where
                # the value at closing is not known before the day has closed
                assert close_text == (number(want["at_close"], "fi") if day < TODAY else "–"), where
                checked["open"] += 1
    assert checked["open"] > 100 and checked["closed"] > 10 and checked["count"] >= 10


def test_the_laboratory_is_measured_over_its_own_hours_and_the_chart_says_whose(seeded: Seeded):
    s, tz = seeded, seeded.ctx.config.tz
    parts, _ = page.content(s.ctx, query(s, ["staff.present"], UNITS), s.at)
    fig = graphs(parts)["staff.present"].figure
    # two units with different hours: the title leaves the hours to the legend
    assert fig.layout.title.text == "Henkilöstö paikalla, keskiarvo aukioloaikana"
    lab = [t for t in fig.data if t.meta["unit"] == "laboratorio"]
    assert lab and all(t.name.endswith("(7–15)") and "keskiarvo aukioloaikana 7–15" in t.hovertemplate
                       and "klo 15" in t.hovertemplate for t in lab)
    day = TODAY - timedelta(days=1)
    for t in lab:
        changes = raw_changes(s, "staff.present", "laboratorio", t.meta["key"])
        y = dict(zip(t.x, t.y, strict=True))[day.isoformat()]
        seven_to_three = slow_day(changes, day, "gauge", Hours(7, 15, False), tz)["figure"]
        assert y == pytest.approx(seven_to_three, abs=6e-4)


def test_planned_staff_has_a_figure_for_every_working_day(seeded: Seeded):
    s = seeded
    parts, _ = page.content(s.ctx, query(s, ["staff.planned"], ["vastaanotto"]), s.at)
    working = {FIRST + timedelta(days=i) for i in range((TODAY - FIRST).days)} - {TODAY}
    working = {d for d in working if is_working_day(d)}
    traces = graphs(parts)["staff.planned"].figure.data
    assert {t.meta["key"] for t in traces} >= {"lääkäri", "sairaanhoitaja"}
    for t in traces:
        have = {date.fromisoformat(x) for x, y in zip(t.x, t.y, strict=True) if y is not None}
        assert working <= have, (t.meta, sorted(working - have))


def test_todays_unfinished_day_and_hour_are_marked(seeded: Seeded):
    s = seeded
    parts, _ = page.content(s.ctx, query(s, ["queue.waiting"], ["vastaanotto"], keys=[VO_QUEUE]), s.at)
    [trace] = graphs(parts)["queue.waiting"].figure.data
    assert trace.x[-1] == TODAY.isoformat() and trace.customdata[-1][3] == " (kesken)"
    assert trace.marker.symbol[-1] == "circle-open" and set(trace.marker.symbol[:-1]) == {"circle"}
    assert "(25.11. kesken)" in str(parts[0].children)
    # hourly: the hour in progress (11.00–12.00) is the last and the only one marked; none later
    parts, _ = page.content(s.ctx, query(s, ["queue.waiting"], ["vastaanotto"], "hour", [VO_QUEUE], TODAY, TODAY), s.at)
    [trace] = graphs(parts)["queue.waiting"].figure.data
    assert trace.x[-1] == f"{TODAY.isoformat()} 11:00"
    assert [c[3] for c in trace.customdata].count(" (kesken)") == 1 and trace.customdata[-1][3] == " (kesken)"


# ---------------------------------------------------------------- Finnish, in the page's colours


def page_colours() -> dict[str, str]:
    css = (ROOT / "layouts" / "assets" / "display.css").read_text(encoding="utf-8")
    root = css[css.index(":root"):css.index("}", css.index(":root"))]
    return dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{6})", root))


def test_the_charts_speak_finnish_and_wear_the_pages_colours(seeded: Seeded):
    s = seeded
    parts, _ = page.content(s.ctx, query(s, ["queue.waiting", "flow.arrivals_today"], ["vastaanotto"]), s.at)
    charts = graphs(parts)
    for graph in charts.values():
        data = json.loads(json.dumps(graph.figure, cls=PlotlyJSONEncoder))
        layout = data["layout"]
        assert layout["separators"] == ", "  # decimal comma
        assert graph.config["locale"] == "fi"
        fmt = graph.config["locales"]["fi"]["format"]
        assert fmt["months"][10] == "marraskuu" and fmt["shortDays"][:2] == ["su", "ma"]
        assert fmt["days"][3] == "keskiviikko" and fmt["date"] == "%-d.%-m.%Y"
        assert {s["value"] for s in layout["xaxis"]["tickformatstops"]} >= {"%-d.%-m.", "%b %Y"}
        for trace in data["data"]:
            assert trace["hovertemplate"].startswith("%{x|%a %-d.%-m.%Y}")
            texts = [c for point in trace["customdata"] for c in point[:3]]
            assert not any("." in t for t in texts)  # decimal comma, never a point
        colours = page_colours()
        assert layout["paper_bgcolor"].lower() == colours["card"].lower()
        assert layout["font"]["color"].lower() == colours["ink"].lower()
        assert layout["xaxis"]["gridcolor"].lower() == colours["line"].lower()
        assert "template" not in layout or not layout["template"].get("layout", {}).get("paper_bgcolor")
    waiting, arrivals = charts["queue.waiting"].figure, charts["flow.arrivals_today"].figure
    assert waiting.layout.title.text == "Jonossa, keskiarvo aukioloaikana 8–16"
    assert "suurin aukioloaikana" in waiting.data[0].hovertemplate
    assert "sulkemishetkellä (klo 16)" in waiting.data[0].hovertemplate
    assert arrivals.layout.title.text == "Saapuneet, yhteensä päivässä"
    assert any("," in c[0] for t in waiting.data for c in t.customdata)  # fractions are shown
    hourly, _ = page.content(s.ctx, query(s, ["queue.waiting"], ["vastaanotto"], "hour", start=TODAY), s.at)
    assert graphs(hourly)["queue.waiting"].figure.layout.title.text == "Jonossa, tunnin keskiarvo"


def test_the_locale_is_given_with_the_chart_so_no_script_is_needed():
    """The CSP allows scripts only from this server: the locale travels in the chart's config."""
    import inspect

    from dashboard.translate import speaking

    source = inspect.getsource(page)
    assert "plotly-locale" not in source
    for lang, reset, monday in (("fi", "Palauta akselit", "maanantai"), ("sv", "Återställ axlarna", "måndag"),
                                ("en", "Reset axes", "Monday")):
        with speaking(lang):
            config = page.graph_config()
        assert config["locale"] == lang
        assert config["locales"][lang]["dictionary"]["Reset axes"] == reset
        assert config["locales"][lang]["format"]["days"][1] == monday  # d3 counts from Sunday


# ---------------------------------------------------------------- the comparison


def test_the_shown_change_is_the_difference_of_the_shown_figures():
    rng = random.Random(13)
    cases = [(2.46, 1.94), (2.45, 1.9), (0.05, 0.0), (10.0, 10.04), (1.25, 1.35), (0.0, 3.0), (7.0, 7.0)]
    cases += [(rng.uniform(0, 40), rng.uniform(0, 40)) for _ in range(2000)]
    for a, b in cases:
        text = page.change_text(a, b)
        change = text.split(" (")[0]
        expected = shown_number(number(page.shown(b), "fi")) - shown_number(number(page.shown(a), "fi"))
        assert shown_number(change) == expected, (a, b, text)
        if expected == 0:
            assert text == "±0"
    assert page.change_text(2.46, 1.94) == "-0,6 (-24 %)"  # 2,5 → 1,9; the hidden decimals said -0,52
    assert page.change_text(None, 1.0) == "–"


def test_the_comparison_table_adds_up_and_marks_todays_unfinished_day(seeded: Seeded):
    s = seeded
    a, b = (FIRST, FIRST + timedelta(days=6)), (FIRST + timedelta(days=7), TODAY)
    parts, _ = page.content(s.ctx, query(s, ["queue.waiting", "staff.present"], ["vastaanotto"],
                                         start=b[0], end=b[1], compare=a), s.at)
    table = next(n for n in walk(page.html.Div(parts)) if getattr(n, "id", None) == "history-compare-table")
    head = [th.children for th in table.children[0].children.children]
    assert head[3] == "A 11.11.–17.11.2026" and head[4] == "B 18.11.–25.11.2026 (25.11. kesken)"
    rows = table.children[1].children
    assert len(rows) >= 5
    for tr in rows:
        a_text, b_text, change = tr.children[3].children[0].children, tr.children[4].children[0].children, tr.children[5].children
        assert shown_number(change.split(" (")[0]) == shown_number(b_text) - shown_number(a_text)
    # and the figures are the means of the slow daily figures in each period
    tz = s.ctx.config.tz
    for tr in rows:
        metric, key = tr.to_plotly_json()["props"]["data-metric"], tr.to_plotly_json()["props"]["data-key"]
        changes = raw_changes(s, metric, "vastaanotto", key)
        for (first, last), cell in ((a, tr.children[3]), (b, tr.children[4])):
            days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
            figures = [f for f in (slow_day(changes, d, "gauge", Hours(8, 16, False), tz, s.at)["figure"] for d in days)
                       if f is not None]
            assert cell.children[0].children == number(round(sum(figures) / len(figures), 1), "fi"), (metric, key)
            assert cell.children[1].children == f" · {len(figures)} pv"


# ---------------------------------------------------------------- one queue on its own


def test_a_single_queue_can_be_chosen_on_its_own(seeded: Seeded):
    s = seeded
    parts, options = page.content(s.ctx, query(s, ["queue.waiting", "staff.present"], ["vastaanotto"]), s.at)
    queues = {t.meta["key"] for t in graphs(parts)["queue.waiting"].figure.data}
    assert VO_QUEUE in queues and len(queues) >= 2
    labels = {o["value"]: o["label"] for o in options}
    assert labels[VO_QUEUE] == f"{VO_QUEUE} (jono)" and labels["lääkäri"] == "lääkäri (ammattiryhmä)"
    parts, options = page.content(s.ctx, query(s, ["queue.waiting", "staff.present"], ["vastaanotto"],
                                               keys=[VO_QUEUE]), s.at)
    charts = graphs(parts)
    assert [t.meta["key"] for t in charts["queue.waiting"].figure.data] == [VO_QUEUE]
    # choosing a queue narrows the queues, not the professions
    assert {t.meta["key"] for t in charts["staff.present"].figure.data} >= {"lääkäri", "sairaanhoitaja"}
    assert VO_QUEUE in {o["value"] for o in options} and len(options) > 1  # the others stay choosable
    # the download follows the choice
    data, _ = page.download(s.ctx, query(s, ["queue.waiting"], ["vastaanotto"], keys=[VO_QUEUE]), "csv", s.at, "fi")
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert lines and {line["Tarkenne"] for line in lines} == {VO_QUEUE}


def test_a_choice_of_keys_is_checked():
    config = load_config(EXAMPLE_CONFIG)
    ok = ("vastaanotto", "queue.waiting", "2026-11-01", "2026-11-02", "day")
    assert page.parse_query(config, *ok, ["b", "a", "a"]).keys == ["a", "b"]
    for keys, said in ((["a", {"x": 1}], "anna nimet tekstinä"), ([f"k{i}" for i in range(101)], "enintään 100"),
                       (["x" * 201], "enintään 200 merkkiä")):
        with pytest.raises(page.BadQuery, match=said):
            page.parse_query(config, *ok, keys)
    with pytest.raises(page.BadQuery, match="Vertailujakso: loppu on ennen alkua"):
        page.parse_query(config, *ok, None, ("2026-10-10", "2026-10-01"))
    with pytest.raises(page.BadQuery, match="Vertailujakso: anna alku- ja loppupäivä"):
        page.parse_query(config, *ok, None, ("2026-10-10", "eilen"))
    assert page.parse_query(config, "vastaanotto", "escalation.level", *ok[2:]).metrics == ["escalation.level"]
    q = page.parse_query(config, *ok, ["a,b", "c"], ("2026-10-01", "2026-10-02"))
    assert "keys=a%2Cb&keys=c" in q.params() and "cstart=2026-10-01&cend=2026-10-02" in q.params()


def test_the_escalation_level_is_a_choosable_figure():
    assert page.METRICS["escalation.level"] == "Valmiustaso"
    assert page.kind_of("escalation.level") == "gauge"


# ---------------------------------------------------------------- downloads and print


def test_the_csv_carries_names_dates_as_on_screen_the_figures_and_the_comparison(seeded: Seeded):
    s, tz = seeded, seeded.ctx.config.tz
    a, b = (FIRST, FIRST + timedelta(days=6)), (FIRST + timedelta(days=7), TODAY)
    q = query(s, ["queue.waiting", "flow.arrivals_today"], UNITS, start=b[0], end=b[1], compare=a)
    data, count = page.download(s.ctx, q, "csv", s.at, "fi")
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert len(lines) == count > 0
    assert list(lines[0])[:9] == ["Jakso", "Päivä", "Yksikkö", "Yksikön nimi", "Mittari", "Mittarin nimi",
                                  "Tarkenne", "Aukioloaika", "Päivän luku"]
    assert {line["Jakso"] for line in lines} == {"valittu 18.11.–25.11.2026", "vertailu 11.11.–17.11.2026"}
    names = {u.code: u.name for u in s.ctx.config.units}
    checked = 0
    for line in lines:
        assert re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", line["Päivä"]), line["Päivä"]  # 18.11.2026, no 00.00
        assert line["Yksikön nimi"] == names[line["Yksikkö"]]
        assert line["Mittarin nimi"] == LABEL_FI[line["Mittari"]]
        day = datetime.strptime(line["Päivä"], "%d.%m.%Y").date()
        assert line["Jakso"].startswith("valittu" if day >= b[0] else "vertailu")
        hours = s.ctx.config.hours(line["Yksikkö"])
        assert line["Aukioloaika"] == hours.text()
        kind = CATALOGUE[line["Mittari"]].kind
        want = slow_day(raw_changes(s, line["Mittari"], line["Yksikkö"], line["Tarkenne"]), day, kind, hours, tz, s.at)
        got = line["Päivän luku"]
        assert (got == "") if want["figure"] is None else float(got.replace(",", ".")) == pytest.approx(want["figure"], abs=6e-4)
        assert line["Luku on"] == ("yhteensä päivässä" if kind == "count" else f"keskiarvo aukioloaikana {hours.text()}")
        assert line["Tila"].startswith("kesken" if day == TODAY else "valmis")
        checked += 1
    assert checked == len(lines)


def test_the_xlsx_has_real_dates_shown_as_on_screen_and_the_comparison_as_shown(seeded: Seeded):
    s = seeded
    a, b = (FIRST, FIRST + timedelta(days=6)), (FIRST + timedelta(days=7), TODAY)
    q = query(s, ["queue.waiting"], ["vastaanotto"], start=b[0], end=b[1], compare=a)
    data, _ = page.download(s.ctx, q, "xlsx", s.at, "fi")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Historia", "Vertailu"]
    rows = list(wb["Historia"].iter_rows(min_row=2))
    assert rows and all(r[1].is_date and r[1].number_format == "d.m.yyyy" for r in rows)
    assert {r[3].value for r in rows} == {"Vastaanotto"}
    compare = list(wb["Vertailu"].iter_rows(values_only=True))
    assert compare[0][5] == "Vertailujakso 11.11.–17.11.2026" and compare[0][7] == "Valittu jakso 18.11.–25.11.2026"
    parts, _ = page.content(s.ctx, q, s.at)
    table = next(n for n in walk(page.html.Div(parts)) if getattr(n, "id", None) == "history-compare-table")
    on_screen = {tr.to_plotly_json()["props"]["data-key"]: (tr.children[3].children[0].children,
                                                            tr.children[4].children[0].children, tr.children[5].children)
                 for tr in table.children[1].children}
    for row in compare[1:]:
        a_shown, b_shown, change = on_screen[row[4] or ""]
        assert (Decimal(str(row[5])), Decimal(str(row[7]))) == (shown_number(a_shown), shown_number(b_shown))
        assert Decimal(str(row[9])) == shown_number(change.split(" (")[0])
        assert row[9] == pytest.approx(row[7] - row[5])


def test_a_swedish_site_downloads_swedish_headers_and_unit_names(seeded: Seeded):
    s = seeded
    data, _ = page.download(s.ctx, query(s, ["queue.waiting"], ["vastaanotto"], start=TODAY - timedelta(days=1)),
                            "csv", s.at, "sv")
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert lines and {line["Enhetens namn"] for line in lines} == {"Mottagning"}
    assert {line["Period"] for line in lines} == {"vald 24.11.–25.11.2026"}
    assert all(re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", line["Dag"]) for line in lines)


def test_hourly_downloads_write_the_hour_as_on_screen(seeded: Seeded):
    s = seeded
    data, _ = page.download(s.ctx, query(s, ["queue.waiting"], ["vastaanotto"], "hour", [VO_QUEUE], TODAY, TODAY),
                            "csv", s.at, "fi")
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert [line["Alkaa"] for line in lines][-2:] == ["25.11.2026 10.00", "25.11.2026 11.00"]
    assert lines[-1]["Tila"] == "kesken" and lines[-2]["Tila"] == "valmis"


def test_the_print_view_carries_names_dates_and_the_comparison(seeded: Seeded):
    s = seeded
    a, b = (FIRST, FIRST + timedelta(days=6)), (FIRST + timedelta(days=7), TODAY)
    text = page.printed(s.ctx, query(s, ["queue.waiting"], ["vastaanotto"], "hour", [VO_QUEUE], b[0], b[1], a), s.at)
    assert "Vastaanotto <small>vastaanotto</small>" in text and "Jonossa <small>queue.waiting</small>" in text
    assert "<td>18.11.2026</td>" in text and "00.00" not in text
    assert "A 11.11.–17.11.2026" in text and "B 18.11.–25.11.2026 (25.11. kesken)" in text
    assert "keskiarvo aukioloaikana 8–16" in text and "<td>kesken</td>" in text
    assert "Tarkenteet: lääkärin vastaanotto." in text


def test_an_outage_is_a_gap_in_the_chart_not_a_line_across_it(backend: Backend, tmp_path: Path):
    """Hours and days with nothing in force (a source's outage) break the line; they are
    not bridged by it."""
    config = site_config(tmp_path / "site.toml")
    tz = config.tz
    rollups.rebuild(backend.history, tz, config.hours_specs())
    day = date(2026, 11, 24)  # a Tuesday

    def at(d: date, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(d, time(hh, mm), tzinfo=tz)

    backend.history.record([(f"o{i}", r) for i, r in enumerate([
        Reading("queue.waiting", "vastaanotto", "päivystys", 4, at(day, 8), "jonot"),
        Reading("queue.waiting", "vastaanotto", "päivystys", None, at(day, 10, 15), "jonot"),  # type: ignore[arg-type]
        Reading("queue.waiting", "vastaanotto", "päivystys", 6, at(day, 13, 40), "jonot"),
        Reading("queue.waiting", "vastaanotto", "päivystys", None, at(day, 16), "jonot"),  # type: ignore[arg-type]
        Reading("queue.waiting", "vastaanotto", "päivystys", 2, at(day + timedelta(days=2), 9), "jonot"),
    ])])
    ctx = page.HistoryContext(config, backend.store, backend.history)
    q = page.parse_query(config, ["vastaanotto"], ["queue.waiting"], day.isoformat(), day.isoformat(), "hour",
                         None, None)
    parts, _ = page.content(ctx, q, at(day + timedelta(days=3), 12))
    (trace,) = graphs(parts)["queue.waiting"].figure.data
    points = dict(zip(trace.x, trace.y, strict=True))
    assert points[f"{day} 10:00"] == 4 and points[f"{day} 13:00"] == 6  # the parts in force
    assert points[f"{day} 11:00"] is None  # the line breaks: 11.00–13.00 had no value
    assert f"{day} 12:00" not in points and max(points) == f"{day} 15:00"
    q = page.parse_query(config, ["vastaanotto"], ["queue.waiting"], day.isoformat(),
                         (day + timedelta(days=2)).isoformat(), "day", None, None)
    parts, _ = page.content(ctx, q, at(day + timedelta(days=3), 12))
    (trace,) = graphs(parts)["queue.waiting"].figure.data
    days = dict(zip(trace.x, trace.y, strict=True))
    assert days[str(day + timedelta(days=1))] is None  # Wednesday: nothing in force, a gap
    assert days[str(day)] == pytest.approx((4 * 2.25 + 6 * (2 + 20 / 60)) / (2.25 + 2 + 20 / 60), abs=6e-4)
