"""What operators and load balancers ask the running demo: /health, /ready, /metrics."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.browser.conftest import Demo
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.store]


def samples(base: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):  # also proves the format parses
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_health_ready_and_metrics(demo: Demo):
    base = demo.url
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
    assert httpx.get(f"{base}/ready").json() == {"redis": "ok", "database": "ok"}
    with contextlib.closing(httpx.Client(base_url=base, timeout=10)) as screen:
        assert screen.get(f"/display/aula?token={demo.token('aula')}").status_code == 200
        beat = {"screen": "metrics-test", "display": "aula", "version": "x", "page": "0"}
        assert screen.post("/api/heartbeat", json=beat).status_code == 200

    def polled() -> dict[str, list[tuple[dict[str, str], float]]]:
        m = samples(base)
        assert any(labels["source"] == "demo-jonot" and v > 0
                   for labels, v in m["ohjaustaulu_poll_duration_seconds_count"])
        return m

    m = wait_for(polled, timeout=30, what="poll durations")
    sources = {labels["source"] for labels, _ in m["ohjaustaulu_source_up"]}
    assert "demo-jonot" in sources
    assert {labels["source"] for labels, _ in m["ohjaustaulu_source_failures_total"]} == sources
    assert ({"screen": "metrics-test", "display": "aula"}, pytest.approx(0, abs=30)) in [
        (labels, v) for labels, v in m["ohjaustaulu_screen_heartbeat_age_seconds"]]
    routes = {labels["route"] for labels, _ in m["ohjaustaulu_http_request_duration_seconds_count"]}
    assert {"/display/{id}", "/api/heartbeat", "/health"} <= routes
    assert m["ohjaustaulu_live_store_up"] == [({}, 1.0)]
    assert m["ohjaustaulu_history_queue_length"][0][1] >= 0


def test_a_real_screens_polls_are_answered_by_the_fast_path(demo: Demo):
    from tests.browser.conftest import chrome

    def fast() -> float:
        return sum(v for _, v in samples(demo.url).get("ohjaustaulu_fast_polls_total", []))

    before = fast()
    # a Chromium of its own, as a wall's: the folder's shared one carries the session of a
    # person signed in by an earlier test, and a person's polls go the normal way (tried: none
    # came on the fast path; layouts/fastpoll.py)
    driver = chrome()
    try:
        driver.get(demo.display_url("johto"))
        wait_for(lambda: fast() >= before + 3, timeout=30, what="the page's polls on the fast path")
    finally:
        driver.quit()


def test_a_stopped_source_shows_in_the_metrics(demo: Demo):
    demo.cli("source", "stop", "demo-takaisinsoitot")
    try:
        wait_for(lambda: ({"source": "demo-takaisinsoitot"}, 0.0) in samples(demo.url)["ohjaustaulu_source_up"],
                 timeout=15, what="source down in /metrics")
    finally:
        demo.cli("source", "start", "demo-takaisinsoitot")
