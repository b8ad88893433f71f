"""The region display in the browser: each site's row holds the figures its own display shows,
rolled up by docs/region.md's rules — recomputed here, the slow way, from the sites' own pages."""

from __future__ import annotations

import json
import statistics
import time

from tests.browser.conftest import Demo, embedded_only, tiles
from tests.conftest import wait_for

FEEDS = ["demo-jonot", "demo-takaisinsoitot", "demo-henkilosto", "demo-ajanvaraus", "demo-potilasvirta"]
# each site of the demo area and a display of its own that shows all of its units
OWN = {"kivikko": "johto", "harju": "harju-kaytava", "strand": "strand-personal"}

FIGURES_JS = """
return Array.from(document.querySelectorAll('[data-figure]')).map(e => ({
  site: e.dataset.site, figure: e.dataset.figure, key: e.dataset.key, value: e.dataset.value,
  status: e.dataset.status, updated: e.dataset.updated, bound: e.dataset.bound || '', text: e.innerText}));
"""


def figures(browser) -> dict[tuple[str, str, str], dict[str, str]]:  # type: ignore[no-untyped-def]
    return {(f["site"], f["figure"], f["key"]): f for f in browser.execute_script(FIGURES_JS)}


def number(text: str) -> float:
    return float(text)


def plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def slow_row(shown: list[dict[str, str]], snapshot: dict) -> dict[tuple[str, str], tuple[str, str]]:
    """A site's figures as (value, oldest time), from the tiles its own display shows."""
    def of(metric: str) -> list[dict[str, str]]:
        return [t for t in shown if t["metric"] == metric and t["status"] != "unavailable"]

    out: dict[tuple[str, str], tuple[str, str]] = {}
    for name, metric in [("waiting", "queue.waiting"), ("staff_present", "staff.present"),
                         ("staff_planned", "staff.planned"), ("free_3wd", "appointments.free_3wd"),
                         ("arrivals_today", "flow.arrivals_today")]:
        total = 0.0
        for t in of(metric):
            total += number(t["value"])
        out[(name, "")] = (plain(total), min(t["updated"] for t in of(metric)))
    longest = of("queue.longest_wait_min")
    out[("longest_wait_min", "")] = (plain(max(number(t["value"]) for t in longest)), min(t["updated"] for t in longest))
    called = {(t["unit"], t["key"]): number(t["value"]) for t in of("queue.called_last_hour")}
    minutes = people = 0.0
    for t in of("queue.avg_wait_min"):
        minutes += number(t["value"]) * called.get((t["unit"], t["key"]), 0)
        people += called.get((t["unit"], t["key"]), 0)
    if people:
        out[("mean_wait_min", "")] = (plain(round(minutes / people, 1)), "")
    for profession in {t["key"] for t in of("appointments.t3_days")}:
        days = sorted(number(t["value"]) for t in of("appointments.t3_days") if t["key"] == profession)
        out[("t3_median", profession)] = (plain(statistics.median(days)), "")
        out[("t3_worst", profession)] = (plain(days[-1]), "")
    levels = [int(t["value"]) for t in shown if t["metric"] == "escalation.level"]
    out[("level", "")] = (str(max(levels)), "")
    # the typical day is not on the page (only today's series is): from the display's snapshot
    hour = int(snapshot["generated_at"][11:13])
    got = typ = 0.0
    for t in snapshot["tiles"]:
        if t["metric"] == "flow.arrivals_by_hour" and t["status"] != "unavailable":
            for h, n in (t.get("typical") or {}).items():
                if int(h) < hour:
                    got += float(t["value"].get(h, 0))
                    typ += float(n)
    if typ:
        out[("arrivals_vs_typical_pct", "")] = (plain(round(100 * got / typ)), "")
    return out


@embedded_only
def test_the_region_display_shows_each_sites_figures_as_its_own_display_has_them(browser, demo: Demo):
    demo.stop_sources(*FEEDS)  # the figures stand still: every feed stopped, their values stale
    try:
        browser.get(demo.display_url("alue"))
        wait_for(lambda: figures(browser) and all(
            f["status"] in ("stale", "unavailable") for f in figures(browser).values()
            if f["figure"] not in ("level",)), timeout=30, what="the region's figures stale")
        time.sleep(2.5)  # one more update
        region = figures(browser)
        sites = [el.get_attribute("data-card-site")
                 for el in browser.find_elements("css selector", "[data-card-site]")]
        assert sorted(sites) == sorted(OWN)
        for site, display in OWN.items():
            browser.get(demo.display_url(display))
            wait_for(lambda: [t for t in tiles(browser) if t["metric"] == "queue.waiting"], timeout=20,
                     what=f"{display}'s queues")
            time.sleep(0.5)
            shown = tiles(browser)
            snap = demo.cli("snapshot", "--display", display, "--json")
            assert snap.returncode == 0, snap.stderr
            expected = slow_row(shown, json.loads(snap.stdout))
            # T3: the wall has room for the four professions with the furthest third free time
            t3 = {k: v for (n, k), v in expected.items() if n == "t3_worst"}
            on_wall = {k for (s, n, k) in region if s == site and n == "t3_worst"}
            assert len(on_wall) == min(4, len(t3))
            assert min(float(t3[k][0]) for k in on_wall) >= max((float(v[0]) for k, v in t3.items()
                                                                 if k not in on_wall), default=0)
            for (name, key), (value, oldest) in expected.items():
                if name.startswith("t3_") and key not in on_wall:
                    continue
                got = region[(site, name, key)]
                assert got["value"] == value, (site, name, key, got, value)
                if oldest:  # a figure is as old as its oldest part, and says so
                    assert got["updated"] == oldest and got["status"] == "stale", (site, name, got)
            # what a person reads is the same number
            assert region[(site, "waiting", "")]["text"].strip() == expected[("waiting", "")][0]
        # the neediest first: the levels never rise down the page
        levels = [int(region[(s, "level", "")]["value"]) for s in sites]
        assert levels == sorted(levels, reverse=True)
    finally:
        demo.start_sources(*FEEDS)
