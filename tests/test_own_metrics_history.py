"""The centre's own metrics (`[[metrics]]`) on the history page and in its downloads: named by
their configured names in the request's language wherever the built-in ones are (the metric
choice, the charts, the CSV and XLSX), their day's figure by their kind (a count: the day's
total; a level: its mean over the unit's opening hours). Derived ones are not recorded: the
page leaves them out, and says so."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from dashboard.config import Config
from dashboard.domain.readings import Reading
from dashboard.storage import rollups
from dashboard.translate import speaking
from dashboard.web import access
from dashboard.web.accounts import User
from layouts import history as page
from tests.conftest import Backend

pytestmark = pytest.mark.store
DAY = date(2026, 11, 24)  # a Tuesday; the ward is open around the clock, every day


def walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        yield from walk(child)


@pytest.fixture
def ward(backend: Backend, config: Config) -> page.HistoryContext:
    tz = config.tz
    rollups.rebuild(backend.history, tz, config.hours_specs())

    def at(d: date, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(d, time(hh, mm), tzinfo=tz)

    backend.history.record([(f"w{i}", r) for i, r in enumerate([
        Reading("ward.beds_in_use", "osasto", "", 20, at(DAY, 0), "osasto"),
        Reading("ward.beds_in_use", "osasto", "", 14, at(DAY, 12), "osasto"),  # 20 for 12 h, 14 for 12 h
        Reading("ward.beds_freed_today", "osasto", "", 2, at(DAY, 9), "osasto"),
        Reading("ward.beds_freed_today", "osasto", "", 5, at(DAY, 15), "osasto"),  # the day's total: 5
        Reading("ward.beds_freed_today", "osasto", "", 1, at(DAY + timedelta(days=1), 8), "osasto"),
    ])])
    return page.HistoryContext(config, backend.store, backend.history)


def query(config: Config, metrics: list[str]) -> page.Query:
    return page.parse_query(config, ["osasto"], metrics, DAY.isoformat(), DAY.isoformat(), "day")


NOW = datetime(2026, 11, 26, 10, 0)


def test_the_metric_choice_offers_own_metrics_by_name_and_says_the_derived_ones_are_not_recorded(
        ward: page.HistoryContext):
    token = access.current.set(access.Principal(User("esihenkilo", "manager", (), None)))
    try:
        with speaking("sv"):
            drawn = page.layout(ward)
    finally:
        access.current.reset(token)
    chooser = next(n for n in walk(drawn) if getattr(n, "id", None) == page.METRIC_IDS)
    options = {o["value"]: o["label"] for o in chooser.options}
    assert options["ward.beds_in_use"] == "Bäddplatser i bruk" and options["care.clients"] == "Klienter"
    assert options["ward.beds_freed_today"] == "Frigjorda platser i dag" and "queue.waiting" in options
    assert "ward.occupancy_pct" not in options and "care.staffing_ratio" not in options
    note = next(n for n in walk(drawn) if getattr(n, "id", None) == "history-derived")
    assert "Beläggning, %" in note.children and "Personaldimensionering" in note.children
    with pytest.raises(page.BadQuery, match="Mittarit"):  # nor asked for by hand
        query(ward.config, ["ward.occupancy_pct"])


def test_own_metrics_charts_are_titled_by_their_names_and_figures_follow_their_kind(ward: page.HistoryContext):
    at = NOW.replace(tzinfo=ward.config.tz)
    with speaking("en"):
        parts, _ = page.content(ward, query(ward.config, ["ward.beds_in_use", "ward.beds_freed_today"]), at)
    figures = {n.to_plotly_json()["props"]["data-metric"]: n.to_plotly_json()["props"]["aria-label"]
               for n in walk(page.html.Div(parts)) if type(n).__name__ == "Figure"}
    assert figures["ward.beds_in_use"].startswith("Beds in use, ")
    assert figures["ward.beds_freed_today"].startswith("Beds freed today, ")
    graphs = {n.figure.data[0].meta["metric"]: n.figure for n in walk(page.html.Div(parts))
              if type(n).__name__ == "Graph" and str(n.id).startswith("history-series-")}
    (level,), (count,) = graphs["ward.beds_in_use"].data, graphs["ward.beds_freed_today"].data
    assert dict(zip(level.x, level.y, strict=True))[str(DAY)] == pytest.approx(17)  # the day's time-weighted mean
    assert dict(zip(count.x, count.y, strict=True))[str(DAY)] == 5  # a count: the day's total


@pytest.mark.parametrize(("lang", "name", "what", "said"), [
    ("fi", "Mittarin nimi", "Luku on", ("Vuodepaikat käytössä", "Vapautuneet paikat tänään",
                                        "keskiarvo aukioloaikana 0–24", "yhteensä päivässä")),
    ("en", "Metric name", "Figure is", ("Beds in use", "Beds freed today", "mean over opening hours 0–24",
                                        "day's total")),
])
def test_the_downloads_name_own_metrics_in_the_requests_language(
        ward: page.HistoryContext, lang: str, name: str, what: str, said: tuple[str, str, str, str]):
    at = NOW.replace(tzinfo=ward.config.tz)
    q = query(ward.config, ["ward.beds_in_use", "ward.beds_freed_today"])
    with speaking(lang):
        data, count = page.download(ward, q, "csv", at, lang)
        book, _ = page.download(ward, q, "xlsx", at, lang)
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert len(lines) == count == 2
    by_metric = {line[list(line)[4]]: line for line in lines}
    level, count_ = by_metric["ward.beds_in_use"], by_metric["ward.beds_freed_today"]
    assert (level[name], count_[name]) == said[:2]
    assert (level[what], count_[what]) == said[2:]  # each by its kind
    figure = list(lines[0])[8]
    assert float(level[figure].replace(",", ".")) == pytest.approx(17) and count_[figure] == "5"
    sheet = load_workbook(io.BytesIO(book)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert {(r[4], r[5]) for r in rows[1:]} == {("ward.beds_in_use", said[0]), ("ward.beds_freed_today", said[1])}
    assert {r[4]: r[8] for r in rows[1:]}["ward.beds_freed_today"] == 5
