"""Rolling regime features: causal windows, daily and intraday."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.errors import ConfigError, DataError
from tradelearn.regime.features import (
    bars_from_quotes,
    daily_features,
    intraday_features,
    rolling_mean,
)
from tradelearn.risk.realized import VolData


def vol_series(n: int, seed: int = 0) -> VolData:
    rng = np.random.default_rng(seed)
    r = rng.normal(0.02, 1.0, n)
    return VolData(
        symbol="SYN",
        dates=np.datetime64("2000-01-03") + np.arange(n),
        returns=r,
        proxy=np.exp(rng.normal(0.0, 0.5, n)),
        overnight=np.zeros(n),
        close=100.0 * np.exp(np.cumsum(r) / 100.0),
    )


def test_rolling_mean_when_compared_with_a_loop_then_equal_and_nan_before_window() -> None:
    x = np.random.default_rng(0).normal(size=50)
    out = rolling_mean(x, 7)
    assert np.all(np.isnan(out[:6]))
    np.testing.assert_allclose(out[6:], [x[i - 6 : i + 1].mean() for i in range(6, 50)])


def test_daily_features_when_built_then_volatility_first_and_values_as_defined() -> None:
    data = vol_series(300)
    f = daily_features(data, vol_window=10, trend_window=30)
    assert f.names == ("log_vol", "trend")
    assert len(f) == 300 - 29 and f.source_index[0] == 29
    t = 100
    row = f.values[t - 29]
    assert row[0] == pytest.approx(0.5 * np.log(data.proxy[t - 9 : t + 1].mean()))
    assert row[1] == pytest.approx(data.returns[t - 29 : t + 1].mean())
    assert f.dates[0] == data.dates[29] and f.close[-1] == data.close[-1]


def test_daily_features_when_future_changes_then_past_rows_do_not() -> None:
    a = vol_series(300)
    b = vol_series(300)
    b.proxy[200:] *= 5.0
    b.returns[200:] -= 3.0
    fa, fb = daily_features(a), daily_features(b)
    k = int(np.searchsorted(fa.source_index, 200))
    np.testing.assert_array_equal(fa.values[:k], fb.values[:k])
    assert not np.allclose(fa.values[k], fb.values[k])


def test_daily_features_bad_windows_or_short_series_then_named_errors() -> None:
    with pytest.raises(ConfigError, match="vol_window must be an integer >= 1, actually: 0"):
        daily_features(vol_series(100), vol_window=0)
    with pytest.raises(DataError, match="too short"):
        daily_features(vol_series(50), trend_window=63)


def test_bars_from_quotes_when_aggregated_then_spread_volume_and_mid_per_bar() -> None:
    s = 1_000_000_000
    ts = np.array([0, 10, 30, 130, 250], dtype=np.int64) * s
    bid = np.array([99.0, 99.0, 99.5, 100.0, 100.0])
    ask = np.array([101.0, 100.0, 100.5, 100.2, 101.0])
    traded = np.array([0, 100, 50, 0, 7])
    bars = bars_from_quotes(ts, bid, ask, traded, start_ns=0, end_ns=300 * s, bar_ns=60 * s)
    assert len(bars) == 5
    np.testing.assert_allclose(bars.volume, [150, 0, 0, 0, 7])
    expected0 = np.mean([2 / 100 * 1e4, 1 / 99.5 * 1e4, 1 / 100 * 1e4])
    assert bars.spread_bps[0] == pytest.approx(expected0)
    assert bars.mid[0] == 100.0 and bars.mid[1] == 100.0  # carried through the empty bar
    assert bars.mid[2] == 100.1 and bars.mid[3] == 100.1 and bars.mid[4] == 100.5


def test_bars_from_quotes_when_first_bar_empty_or_times_go_back_then_data_error() -> None:
    z = np.zeros(2)
    with pytest.raises(DataError, match="first bar"):
        bars_from_quotes(np.array([100, 200]), z + 1, z + 2, z, start_ns=0, end_ns=300, bar_ns=50)
    with pytest.raises(DataError, match="backwards"):
        bars_from_quotes(np.array([20, 10]), z + 1, z + 2, z, start_ns=0, end_ns=300, bar_ns=50)
    with pytest.raises(ConfigError, match="bar_ns > 0"):
        bars_from_quotes(np.array([0, 10]), z + 1, z + 2, z, start_ns=0, end_ns=300, bar_ns=0)


def test_intraday_features_when_spread_widens_then_log_spread_rises() -> None:
    n = 400
    rng = np.random.default_rng(1)
    s = 1_000_000_000
    ts = np.arange(n, dtype=np.int64) * s
    mid = 100.0 * np.exp(np.cumsum(rng.normal(0, 1e-4, n)))
    half = np.where(np.arange(n) < 200, 0.01, 0.05)
    traded = rng.integers(0, 100, n)
    bars = bars_from_quotes(
        ts, mid - half, mid + half, traded, start_ns=0, end_ns=n * s, bar_ns=10 * s
    )
    f = intraday_features(bars, window=3)
    assert f.names == ("log_vol", "trend", "log_spread", "log_volume")
    assert f.values.shape == (40 - 3, 4) and np.all(np.isfinite(f.values))
    assert f.values[-1, 2] - f.values[0, 2] == pytest.approx(np.log(5.0), abs=0.01)
