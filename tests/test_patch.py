"""layouts.patch.plain: the board as the JSON the browser holds, walked directly, is exactly
what Dash's encoder writes and reads back, for every board the example area draws and for
the values the encoder treats in its own way."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import time_machine
from dash import dcc, html
from plotly.utils import PlotlyJSONEncoder

from dashboard.config import Config
from dashboard.domain.readmodel import build
from dashboard.storage.livestore import LiveStore
from layouts.components import board
from layouts.patch import plain
from tests.test_readmodel import T0, poll_all

pytestmark = pytest.mark.store


def encoded(x: object) -> object:  # Dash's own way: through the text
    return json.loads(json.dumps(x, cls=PlotlyJSONEncoder))


def test_every_board_of_the_example_area_is_what_the_encoder_makes(config: Config, store: LiveStore):
    with time_machine.travel(T0, tick=False):
        poll_all(config, store)
        store.put_notice_now({"id": "n1", "unit": "kaikki", "importance": "tärkeä", "public": True,
                              "text": "Tiedote", "text_sv": "Meddelande", "starts": T0.isoformat(),
                              "ends": (T0 + timedelta(hours=8)).isoformat()})
        for d in config.displays:
            drawn = board(config, d, build(config, d, store, None).data)
            assert plain(drawn) == encoded(drawn), d.id


class Text(str):
    pass


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), -float("inf"), 1.5, 0, True, None, "ä",
    (1, 2, (3,)), {"a": [1, {"b": float("nan")}]}, {1: "a"}, {None: 1, True: 2},
    datetime(2026, 11, 24, 10, 30), date(2026, 11, 24), Text("x"),
    html.Div([html.Span("a", title=Text("t")), dcc.Store(id="s", data={"n": float("inf"), "t": (1,)})], id="x"),
])
def test_values_the_encoder_treats_in_its_own_way_come_out_the_same(value: object):
    assert plain(value) == encoded(value)
    assert json.dumps(plain(value), sort_keys=True) == json.dumps(encoded(value), sort_keys=True)
