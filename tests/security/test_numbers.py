"""Every figure is a finite number: an infinity or NaN from a feed, a workbook or the tablet
is refused where it comes in, so nothing downstream (the snapshot's JSON, the rollups) can be
broken by one. The tablet's path is in test_hostile_clients.py."""

from __future__ import annotations

import pytest

from collectors.tabular import _number as feed_number
from dashboard.workbook.parse import Bad
from dashboard.workbook.parse import _number as cell_number


@pytest.mark.parametrize("raw", ["inf", "-inf", "Infinity", "nan", "NaN", "1e999", float("inf"), float("nan")])
def test_non_finite_figures_are_no_figures(raw: object):
    assert feed_number(raw) is None
    with pytest.raises(Bad):
        cell_number(raw, "number")


def test_finite_figures_still_read():  # the control
    assert feed_number("3,5") == 3.5 and feed_number(7) == 7.0 and feed_number("1e3") == 1000.0
    assert cell_number("3,5", "number") == 3.5 and cell_number("1 200", "number") == 1200.0
