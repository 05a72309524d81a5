"""Variance measures: Garman-Klass and realized variance on hand-built prices."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from tradelearn.data.daily import load_daily
from tradelearn.errors import DataError
from tradelearn.risk.realized import garman_klass, realized_variance, vol_data

S = 1_000_000_000


def test_garman_klass_matches_the_formula() -> None:
    gk = garman_klass(np.array([100.0]), np.array([102.0]), np.array([99.0]), np.array([101.0]))
    expected = 0.5 * math.log(102 / 99) ** 2 - (2 * math.log(2) - 1) * math.log(101 / 100) ** 2
    assert gk[0] == pytest.approx(expected)


def test_garman_klass_when_high_below_low_then_data_error() -> None:
    with pytest.raises(DataError, match="high is below low"):
        garman_klass(np.array([1.0]), np.array([0.9]), np.array([1.0]), np.array([1.0]))


def test_realized_variance_sums_squared_previous_tick_returns_on_the_grid() -> None:
    ts = np.array([0, 50, 100, 250]) * S  # the quote at 250 s falls after the grid's last point
    px = np.array([100.0, 101.0, 99.0, 120.0])
    rv, m = realized_variance(ts, px, 0, 200 * S, 100 * S)
    assert m == 2  # grid 0, 100, 200: prices 100, 99, 99
    assert rv == pytest.approx(math.log(99 / 100) ** 2)


def test_realized_variance_takes_the_first_price_before_the_first_quote() -> None:
    rv, m = realized_variance(
        np.array([10 * S, 150 * S]), np.array([100.0, 110.0]), 0, 200 * S, 100 * S
    )
    assert m == 2 and rv == pytest.approx(math.log(1.1) ** 2)


def test_vol_data_builds_percent_returns_and_the_proxy(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "date,open,high,low,close,volume\n"
        "2020-01-02,100,101,99,100,1\n2020-01-03,100,103,98,102,1\n2020-01-06,102,104,101,101,1\n"
    )
    data = vol_data(load_daily(path))
    assert data.returns == pytest.approx(np.diff(np.log([100.0, 102.0, 101.0])) * 100)
    assert data.proxy[0] == pytest.approx(
        garman_klass(np.array([100.0]), np.array([103.0]), np.array([98.0]), np.array([102.0]))[0]
        * 1e4
    )
    assert data.overnight == pytest.approx([0.0, 0.0])
    replaced = data.with_proxy({dt.date(2020, 1, 6): 9.0})
    assert replaced.proxy.tolist() == [data.proxy[0], 9.0]
