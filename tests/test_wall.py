"""What the wall displays show of issue 13, rendered as the page is (the board's components as
the JSON the browser holds), without a browser: the T3 bound, a shift lead's correction, each
unit's escalation level with the page contract's facts and the rules' level beside a shift
lead's, the flow chart over the unit's opening hours, and the waiting room's estimate."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard.config import Config, load_config
from layouts.components import Queue, board, expected_wait, wait_estimate
from layouts.display import awake_hours
from layouts.patch import plain, with_ids
from tests.conftest import EXAMPLE_CONFIG

NOW = datetime(2026, 11, 24, 8, 40, tzinfo=UTC)  # Tuesday, 10.40 in Helsinki
CONFIG = load_config(EXAMPLE_CONFIG)


# -- the rendered page, read as a test reads a page -----------------------------------------------


def nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every element of a rendered board (its props), depth first."""
    if isinstance(tree, dict) and "props" in tree:
        yield tree["props"]
        yield from nodes(tree["props"].get("children"))
    elif isinstance(tree, list):
        for child in tree:
            yield from nodes(child)


def text(props: dict[str, Any] | Any) -> str:
    """The visible words of an element, its children's joined by spaces."""
    children = props.get("children") if isinstance(props, dict) and "type" not in props else props
    if isinstance(children, dict) and "props" in children:
        return text(children["props"])
    if isinstance(children, list):
        return " ".join(t for t in (text(c["props"] if isinstance(c, dict) and "props" in c else c)
                                    for c in children) if t)
    return "" if children is None else str(children)


def inside(props: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The elements within an element."""
    return nodes(props.get("children"))


def find(tree: Any, **attrs: str) -> list[dict[str, Any]]:
    want = {k.replace("_", "-"): v for k, v in attrs.items()}
    return [p for p in nodes(tree) if all(p.get(k) == v for k, v in want.items())]


def one(tree: Any, **attrs: str) -> dict[str, Any]:
    found = find(tree, **attrs)
    assert len(found) == 1, (attrs, len(found))
    return found[0]


def holding(tree: Any, child: dict[str, Any], cls: str) -> dict[str, Any]:
    """The nearest element of class `cls` that contains `child`."""
    best = None
    for p in nodes(tree):
        if cls in str(p.get("className", "")).split() and any(q is child for q in nodes(p.get("children"))):
            best = p
    assert best is not None, cls
    return best


def page(config: Config, display: str, tiles: list[dict[str, Any]], escalation: dict[str, Any] | None = None,
         now: datetime = NOW) -> Any:
    at = now.isoformat()
    model = {"display": display, "as_of": at, "generated_at": at, "tiles": tiles, "notices": [],
             "escalation": escalation or {"level": 1, "units": {}}}
    return with_ids(plain(board(config, config.display(display), model)))


def tile(metric: str, unit: str, key: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "unit": unit, "key": key, "value": value, "status": "fresh",
            "updated_at": (NOW - timedelta(minutes=2)).isoformat(), "source": "demo-ajanvaraus", **extra}


# -- T3 beyond the horizon -----------------------------------------------------------------------


def test_t3_beyond_the_horizon_reads_more_than_90_days_and_says_it_is_a_bound():
    tree = page(CONFIG, "vastaanotto-kaytava", [
        tile("staff.planned", "vastaanotto", "lääkäri", 8), tile("staff.planned", "vastaanotto", "hoitaja", 11),
        tile("appointments.t3_days", "vastaanotto", "lääkäri", 90, bound="above"),
        tile("appointments.t3_days", "vastaanotto", "hoitaja", 12),
    ])
    beyond = one(tree, data_metric="appointments.t3_days", data_key="lääkäri")
    assert beyond["data-bound"] == "above" and beyond["data-value"] == "90"
    assert text(beyond) == "> 90 pv"
    within = one(tree, data_metric="appointments.t3_days", data_key="hoitaja")
    assert "data-bound" not in within and text(within) == "12"


# -- a correction ----------------------------------------------------------------------------------


def corrected(until: datetime) -> dict[str, Any]:
    return tile("staff.present", "vastaanotto", "sairaanhoitaja", 10, source="tablet",
                entered_by="Vuorovastaava (tabletti)", valid_until=until.isoformat(),
                corrects={"value": 11, "source": "demo-henkilosto", "status": "fresh",
                          "updated_at": NOW.isoformat()})


def test_a_correction_is_marked_with_when_it_ends_in_the_sites_time():
    # 10.00 UTC is 12.00 in Helsinki in November
    tree = page(CONFIG, "vastaanotto-kaytava", [corrected(datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
                                                tile("staff.planned", "vastaanotto", "sairaanhoitaja", 11)])
    value = one(tree, data_metric="staff.present", data_key="sairaanhoitaja")
    assert value["data-value"] == "10" and "tile--corrected" in value["className"]
    assert "✎" in text(value)
    row = holding(tree, value, "row")
    notes = [p for p in inside(row) if "corrnote" in str(p.get("className"))]
    assert [text(n) for n in notes] == ["✎ korjattu klo 12.00 asti"]
    # the planned figure beside it is no correction
    planned = one(tree, data_metric="staff.planned", data_key="sairaanhoitaja")
    assert "tile--corrected" not in planned["className"] and "✎" not in text(planned)


def test_a_correction_until_the_end_of_the_day_reads_24_and_in_swedish_too():
    sv = CONFIG.model_copy(deep=True)
    sv.displays[0].language = "sv"
    midnight = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # 00.00 in Helsinki: the day's end
    tree = page(sv, "vastaanotto-kaytava", [corrected(midnight), tile("staff.planned", "vastaanotto", "sairaanhoitaja", 11)])
    notes = [text(p) for p in nodes(tree) if "corrnote" in str(p.get("className"))]
    assert notes == ["✎ korrigerad till kl. 24.00"]


def test_a_manual_value_that_corrects_nothing_has_only_its_sign():
    workbook = tile("staff.present", "vastaanotto", "lääkäri", 7, source="workbook", entered_by="vv",
                    valid_until=(NOW + timedelta(hours=3)).isoformat())
    tree = page(CONFIG, "vastaanotto-kaytava", [workbook, tile("staff.planned", "vastaanotto", "lääkäri", 8)])
    assert not [p for p in nodes(tree) if "corrnote" in str(p.get("className"))]
    assert "✎" in text(one(tree, data_metric="staff.present"))


# -- escalation per unit -----------------------------------------------------------------------------


def levels(tree: Any) -> dict[str, dict[str, Any]]:
    return {p["data-unit"]: p for p in find(tree, data_metric="escalation.level")}


def test_each_units_escalation_level_carries_the_page_contract():
    esc = {"level": 2, "units": {
        "vastaanotto": {"level": 2, "reasons": ["x"], "source": "rules", "status": "fresh",
                        "updated_at": "2026-11-24T10:31:00+02:00",
                        "details": [{"metric": "queue.longest_wait_min", "key": "lääkärin vastaanotto",
                                     "value": 35.0, "op": ">", "limit": 30.0}]},
        "laboratorio": {"level": 1, "reasons": [], "details": [], "source": "rules", "status": "stale",
                        "updated_at": "2026-11-24T09:00:00+02:00"},
    }}
    tree = page(CONFIG, "vastaanotto-kaytava", [], esc)
    got = levels(tree)
    assert set(got) == {"vastaanotto", "laboratorio"}
    v, lab = got["vastaanotto"], got["laboratorio"]
    assert (v["data-value"], v["data-status"], v["data-updated"], v["data-key"]) == (
        "2", "fresh", "2026-11-24T10:31:00+02:00", "")
    assert (lab["data-value"], lab["data-status"]) == ("1", "stale") and "ulvl--stale" in lab["className"]
    assert text(v) == "Vastaanotto 2" and text(lab) == "Laboratorio 1"
    bar = one(tree, data_escalation="2")
    assert "Vastaanotto, Lääkärin vastaanotto: pisin odotus, min 35 (raja > 30)" in text(bar)


def test_without_status_and_time_the_level_falls_back_to_its_inputs():
    esc = {"level": 3, "units": {
        "vastaanotto": {"level": 3, "reasons": ["Kaksi lääkäriä sairaana"], "details": [], "source": "manual",
                        "by": "vuorovastaava", "at": "2026-11-24T09:15:00+02:00", "rules_level": 3},
        "laboratorio": {"level": 1, "reasons": [], "details": [], "source": "rules"},
    }}
    newest = (NOW - timedelta(minutes=1)).isoformat()
    tiles = [tile("queue.waiting", "laboratorio", "näytteenotto", 3),
             tile("queue.longest_wait_min", "laboratorio", "näytteenotto", 4, updated_at=newest),
             tile("queue.avg_wait_min", "laboratorio", "näytteenotto", 2, status="stale",
                  updated_at=NOW.isoformat())]  # a stale input is not what the rules saw
    got = levels(page(CONFIG, "vastaanotto-kaytava", tiles, esc))
    assert (got["vastaanotto"]["data-status"], got["vastaanotto"]["data-updated"]) == (
        "fresh", "2026-11-24T09:15:00+02:00")
    assert (got["laboratorio"]["data-status"], got["laboratorio"]["data-updated"]) == ("fresh", newest)
    assert "säännöt" not in text(got["vastaanotto"])  # the rules agree: nothing beside


def test_a_shift_leads_level_shows_the_rules_level_beside_it_with_their_reasons():
    esc = {"level": 2, "units": {
        "vastaanotto": {"level": 2, "reasons": ["Lääkäri sairastui"], "details": [], "source": "manual",
                        "by": "vuorovastaava", "at": "2026-11-24T09:15:00+02:00", "status": "fresh",
                        "updated_at": "2026-11-24T09:15:00+02:00", "rules_level": 3,
                        "rules_reasons": ["queue.longest_wait_min (lääkärin vastaanotto) 65 > 60"],
                        "rules_details": [{"metric": "queue.longest_wait_min", "key": "lääkärin vastaanotto",
                                           "value": 65.0, "op": ">", "limit": 60.0}]},
        "laboratorio": {"level": 1, "reasons": [], "details": [], "source": "rules"},
    }}
    tree = page(CONFIG, "vastaanotto-kaytava", [], esc)
    v = levels(tree)["vastaanotto"]
    assert (v["data-value"], v["data-source"], v["data-rules-level"]) == ("2", "manual", "3")
    assert text(v) == "Vastaanotto ✎ 2 (säännöt: 3)"
    reasons = [text(li) for li in nodes(one(tree, className="reasons").get("children"))]
    assert reasons == ["Vastaanotto: Lääkäri sairastui (asettanut vuorovastaava)",
                       "säännöt: 3 – Vastaanotto, Lääkärin vastaanotto: pisin odotus, min 65 (raja > 60)"]
    # the same in Swedish, and from the reasons' text where the rules left no details
    sv = CONFIG.model_copy(deep=True)
    sv.displays[0].language = "sv"
    del esc["units"]["vastaanotto"]["rules_details"]
    tree = page(sv, "vastaanotto-kaytava", [], esc)
    assert text(levels(tree)["vastaanotto"]) == "Mottagning ✎ 2 (regler: 3)"
    assert "regler: 3 – Mottagning: queue.longest_wait_min (lääkärin vastaanotto) 65 > 60" in [
        text(li) for li in nodes(one(tree, className="reasons").get("children"))]


def test_a_closed_unit_says_closed_and_nothing_alarming():
    esc = {"level": 1, "units": {
        u: {"level": 1, "reasons": [], "details": [], "source": "rules", "closed": True, "status": "fresh",
            "updated_at": "2026-11-24T16:00:00+02:00"} for u in ("vastaanotto", "laboratorio")}}
    tree = page(CONFIG, "vastaanotto-kaytava", [], esc)
    got = levels(tree)
    assert {u: (p["data-value"], text(p)) for u, p in got.items()} == {
        "vastaanotto": ("1", "Vastaanotto suljettu"), "laboratorio": ("1", "Laboratorio suljettu")}
    assert one(tree, className="reasons").get("children") == []
    assert one(tree, data_escalation="1")["className"] == "escalation escalation--1"


# -- the flow chart ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hours_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The example site with its laboratory open around the clock (the site: 8–16)."""
    text_ = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'name_sv = "Laboratorium"', 'name_sv = "Laboratorium"\nopening_hours = "always"')
    path: Path = tmp_path_factory.mktemp("hours") / "site.toml"
    path.write_text(text_, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.hours("laboratorio").around_the_clock and cfg.hours("vastaanotto").text() == "8–16"
    return cfg


def chart(tree: Any, unit: str) -> dict[str, Any]:
    return one(tree, data_metric="flow.arrivals_by_hour", data_unit=unit)


def flow(unit: str, today: dict[str, int], typical: dict[str, float]) -> list[dict[str, Any]]:
    return [tile("flow.arrivals_today", unit, "", sum(today.values()), source="demo-potilasvirta"),
            tile("flow.arrivals_by_hour", unit, "", today, typical=typical, source="demo-potilasvirta")]


def test_the_flow_chart_spans_the_units_opening_hours_and_marks_the_hour_in_progress(hours_config: Config):
    today = {"08": 5, "09": 7, "10": 2}
    typical = {f"{h:02d}": 4.0 for h in range(7, 18)}
    tree = page(hours_config, "vastaanotto-kaytava",
                flow("vastaanotto", today, typical) + flow("laboratorio", {"03": 1, "10": 4}, typical))
    day = [p for p in inside(chart(tree, "vastaanotto")) if "data-hour" in p]
    assert [p["data-hour"] for p in day] == ["08", "09", "10", "11", "12", "13", "14", "15"]
    now = [p for p in day if "hour--now" in p["className"]]
    assert [p["data-hour"] for p in now] == ["10"]  # 10.40 in Helsinki
    assert now[0]["title"] == "10: 2 (kesken)"
    marks = {p["data-hour"]: [c["props"]["className"] for c in p["children"]] for p in day}
    assert marks["10"] == ["bar bar--now"]  # no whole typical hour to compare with
    assert marks["09"] == ["bar", "typ"] and day[1]["title"] == "09: 7"
    assert "kesken" in text(chart(tree, "vastaanotto"))  # the legend says what the hatching means
    always = [p["data-hour"] for p in inside(chart(tree, "laboratorio")) if "data-hour" in p]
    assert always == [f"{h:02d}" for h in range(24)]


def test_after_closing_no_hour_is_in_progress_and_late_arrivals_still_show(hours_config: Config):
    evening = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 17.30 in Helsinki
    tree = page(hours_config, "vastaanotto-kaytava", flow("vastaanotto", {"09": 3, "16": 1}, {}), now=evening)
    day = [p for p in inside(chart(tree, "vastaanotto")) if "data-hour" in p]
    assert [p["data-hour"] for p in day] == [f"{h:02d}" for h in range(8, 17)]  # the 16 o'clock arrival
    assert not [p for p in day if "hour--now" in p["className"]]
    assert "kesken" not in text(chart(tree, "vastaanotto"))


# -- the waiting room ----------------------------------------------------------------------------------


def queue(**values: Any) -> list[dict[str, Any]]:
    names = {"waiting": "queue.waiting", "longest": "queue.longest_wait_min", "mean": "queue.avg_wait_min",
             "called": "queue.called_last_hour", "estimate": "queue.estimated_wait_min"}
    out = []
    for name, v in values.items():
        if name == "range":
            continue
        extra = {"range": values["range"]} if name == "estimate" and "range" in values else {}
        out.append(tile(names[name], "laboratorio", "näytteenotto", v, source="demo-jonot", **extra))
    return out


def estimate_shown(tiles: list[dict[str, Any]], lang: str = "fi") -> tuple[str, str]:
    """The waiting room's estimate for the laboratory queue: its words (one language) and the
    metric of the element that says it."""
    tree = page(CONFIG, "aula", tiles)
    (el,) = [p for p in find(tree, data_unit="laboratorio", data_key="näytteenotto")
             if "estimate" in p["className"].split()]
    spans = el["children"][0]["props"]["children"]
    words = {s["props"]["lang"]: s["props"]["children"] for s in spans}
    return words[lang], el["data-metric"]


def test_a_busy_slow_queue_is_never_under_five_minutes():
    # seven ahead, the longest waiting ten minutes, six called in the last hour: a person
    # joining now is the eighth call, at one call in ten minutes about 80 minutes away,
    # whatever the mean wait of those called says
    people_ahead, per_hour = 7, 6
    slow_obvious = 5 * math.ceil((people_ahead + 1) * (60 / per_hour) / 5)
    words, metric = estimate_shown(queue(waiting=7, longest=10, mean=0.8, called=6))
    assert words == f"noin {slow_obvious} min" == "noin 80 min"
    assert metric == "queue.avg_wait_min"  # no estimate tile: the mean wait's element says it
    assert estimate_shown(queue(waiting=7, longest=10, mean=0.8, called=6), "sv")[0] == "cirka 80 min"
    # without calls to go by, the longest wait so far is the floor
    assert estimate_shown(queue(waiting=7, longest=10, mean=0.8))[0] == "noin 10 min"
    # and without them nothing says the calls are quick: not "alle 5 min" even for a short queue
    assert estimate_shown(queue(waiting=3, longest=3, mean=2.7))[0] == "noin 5 min"
    # nobody called in an hour, or no point open: no promise, only the wait so far
    assert estimate_shown(queue(waiting=7, longest=12, mean=0.8, called=0))[0] == "vähintään 15 min"
    stopped = queue(waiting=7, longest=12, called=20) + [
        tile("queue.points_open", "laboratorio", "näytteenotto", 0, source="demo-jonot")]
    assert estimate_shown(stopped) == ("vähintään 15 min", "queue.avg_wait_min")  # no mean wait: said all the same
    # a quick queue may still say "alle 5 min"
    assert estimate_shown(queue(waiting=2, longest=3, mean=2, called=40))[0] == "alle 5 min"


def test_the_queues_own_estimate_is_shown_rounded_up_with_its_range():
    words, metric = estimate_shown(queue(waiting=7, longest=10, mean=0.8, called=30, estimate=12.2))
    assert (words, metric) == ("noin 15 min", "queue.estimated_wait_min")
    assert estimate_shown(queue(waiting=7, estimate=17, range=[11, 24]))[0] == "15–25 min"
    assert estimate_shown(queue(waiting=7, estimate=17, range=[11, 24]), "sv")[0] == "15–25 min"
    assert estimate_shown(queue(waiting=7, estimate=16, range=[15, 15.5]))[0] == "noin 20 min"  # narrow
    # an estimate under five while calls are slow is not believed that far
    assert estimate_shown(queue(waiting=7, called=6, estimate=3))[0] == "noin 5 min"
    assert estimate_shown(queue(waiting=1, called=30, estimate=3))[0] == "alle 5 min"
    assert estimate_shown(queue(waiting=0, estimate=0))[0] == "Ei jonoa"
    # an estimate tile that never arrived: the fallback, by the mean wait's element
    no_estimate = queue(waiting=7, longest=10, called=6) + [
        {**tile("queue.estimated_wait_min", "laboratorio", "näytteenotto", 0), "status": "unavailable"}]
    assert estimate_shown(no_estimate + queue(mean=4))[1] == "queue.avg_wait_min"


def test_the_estimate_rule_against_a_slow_recomputation():
    """Every small queue without an estimate of its own: never under five minutes while
    people wait unless the last hour's calls reach a newcomer within five; never below the
    longest wait so far nor the newcomer's turn at the hour's rate (rounded up to five)."""
    for waiting in range(0, 12):
        for called in (None, 0, 1, 5, 12, 30, 120, 600):
            for longest in (None, 0, 3, 9, 26):
                kind, low, _ = expected_wait(Queue(waiting=waiting, longest=longest, mean=1.0, called=called))
                if waiting == 0:
                    assert kind == "empty"
                    continue
                turn = None if not called else (waiting + 1) / called * 60  # minutes until their call
                if kind == "under":
                    assert turn is not None and turn < 5 and (longest is None or longest < 5)
                    continue
                if called == 0:
                    assert kind == ("at_least" if longest is not None else "unknown")
                    if kind == "unknown":
                        continue
                else:
                    assert kind == "about"
                assert low % 5 == 0 and low >= 5
                assert longest is None or low >= longest
                assert turn is None or low >= turn
    assert wait_estimate(Queue(waiting=3, mean=None), ["fi"]) == "–"


def test_the_staff_card_says_what_3_working_days_counts():
    tiles = [tile("appointments.free_3wd", "vastaanotto", "lääkäri", 34),
             tile("appointments.free_today", "vastaanotto", "lääkäri", 4)]
    assert not [p for p in nodes(page(CONFIG, "vastaanotto-kaytava", tiles[1:])) if p.get("className") == "cardnote"]
    notes = [text(p) for p in nodes(page(CONFIG, "vastaanotto-kaytava", tiles)) if p.get("className") == "cardnote"]
    assert notes == ["3 arkipv: seuraavat 3 arkipäivää, ei tänään"]
    sv = CONFIG.model_copy(deep=True)
    sv.displays[0].language = "sv"
    notes = [text(p) for p in nodes(page(sv, "vastaanotto-kaytava", tiles)) if p.get("className") == "cardnote"]
    assert notes == ["3 vardagar: de följande 3 vardagarna, inte i dag"]


def test_a_staff_queue_shows_the_estimate_the_calls_and_the_points_open_where_sent():
    both = queue(waiting=7, longest=10, mean=0.8, called=6, estimate=24) + [
        tile("queue.points_open", "laboratorio", "näytteenotto", 2, source="demo-jonot")]
    tree = page(CONFIG, "vastaanotto-kaytava", both)
    row = holding(tree, one(tree, data_metric="queue.waiting", data_unit="laboratorio"), "qrow")
    shown = {p["data-metric"]: (p["data-value"], text(p)) for p in inside(row) if "data-metric" in p}
    assert shown == {"queue.waiting": ("7", "7"), "queue.longest_wait_min": ("10", "10"),
                     "queue.avg_wait_min": ("0.8", "0,8"), "queue.estimated_wait_min": ("24", "24"),
                     "queue.called_last_hour": ("6", "6"), "queue.points_open": ("2", "2")}
    assert "kutsuttu tunnissa" in text(row) and "pisteitä auki" in text(row)
    # a wide estimate: its point large, its range beside in words
    tree = page(CONFIG, "vastaanotto-kaytava", queue(waiting=7, estimate=52, range=[37, 89]))
    est = one(tree, data_metric="queue.estimated_wait_min")
    assert (est["data-value"], text(est)) == ("52", "52")
    assert text(holding(tree, est, "fig")) == "52 arvioitu odotus, min 37–89"
    # a feed without them: the row as it was
    tree = page(CONFIG, "vastaanotto-kaytava", queue(waiting=7, longest=10, mean=0.8))
    row = holding(tree, one(tree, data_metric="queue.waiting", data_unit="laboratorio"), "qrow")
    assert [p["data-metric"] for p in inside(row) if "data-metric" in p] == [
        "queue.waiting", "queue.longest_wait_min", "queue.avg_wait_min"]


def test_a_screen_stays_awake_while_any_of_its_units_is_open(hours_config: Config):
    # the site's 8-16 on working days; with the laboratory open around the clock, always
    assert awake_hours(CONFIG, CONFIG.display("vastaanotto-kaytava")) == ([8, 16], False)
    assert awake_hours(hours_config, hours_config.display("vastaanotto-kaytava")) == ([0, 24], True)
    assert awake_hours(hours_config, hours_config.display("aula")) == ([0, 24], True)
