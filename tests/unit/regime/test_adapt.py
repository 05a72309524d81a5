"""Walk-forward adaptation on a synthetic volatility series with a known break."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tradelearn.errors import ConfigError, DataError
from tradelearn.regime.adapt import (
    STRATEGIES,
    AdaptConfig,
    AdaptResult,
    block_bootstrap_ci,
    compare_strategies,
    har_design,
    walk_forward,
)
from tradelearn.risk.realized import VolData

N, BREAK, START = 2400, 1600, 1000


def broken_series(seed: int = 0, n: int = N) -> VolData:
    """Log variance AR(1): persistent and calm, then from BREAK higher and quick to revert."""
    rng = np.random.default_rng(seed)
    lv = np.empty(n)
    lv[0] = 0.0
    for t in range(1, n):
        mu, phi = (0.0, 0.98) if t < BREAK else (1.5, 0.3)
        lv[t] = mu + phi * (lv[t - 1] - mu) + rng.normal(0, 0.15 if t < BREAK else 0.5)
    proxy = np.exp(lv + rng.normal(0, 0.5, n))
    r = np.sqrt(np.exp(lv)) * rng.normal(size=n)
    return VolData(
        symbol="SYN",
        dates=np.datetime64("2000-01-03") + np.arange(n),
        returns=r,
        proxy=proxy,
        overnight=np.zeros(n),
        close=100.0 * np.exp(np.cumsum(r) / 100.0),
    )


def config(**kw: Any) -> AdaptConfig:
    base: dict[str, Any] = {
        "start": str(np.datetime64("2000-01-03") + START),
        "window": 400,
        "regime_kind": "gmm",
        "n_init": 1,
    }
    return AdaptConfig(**{**base, **kw})


def test_har_design_when_built_then_target_is_next_day_log_proxy() -> None:
    data = broken_series(n=100)
    X, y = har_design(data)
    assert X.shape == (100, 5) and np.isnan(y[-1])
    assert y[30] == pytest.approx(np.log(data.proxy[31]))
    assert X[30, 3] == pytest.approx(np.log(data.proxy[9:31].mean()))


@pytest.fixture(scope="module")
def ph_run() -> tuple[VolData, AdaptResult]:
    data = broken_series()
    return data, walk_forward(data, config())


def test_break_when_walked_forward_then_drift_refits_soon_after_it_and_beats_static(
    ph_run: tuple[VolData, AdaptResult],
) -> None:
    data, res = ph_run
    cmp = compare_strategies(res, n_boot=300)
    rows = cmp["strategies"]
    assert cmp["n_forecasts"] == N - START and cmp["first_target"] == str(data.dates[START])
    first_after = [
        np.datetime64(d) for d in res.refits["drift"] if np.datetime64(d) >= data.dates[BREAK]
    ]
    assert first_after and first_after[0] - data.dates[BREAK] <= np.timedelta64(120, "D")
    for s in ("drift", "regime_drift", "periodic"):
        assert rows[s]["qlike"] < 0.97 * rows["static"]["qlike"], (s, rows)
        assert rows[s]["diff_ci95"][1] < 0 and rows[s]["dm_p"] < 0.05
    assert rows["static"]["refits"] == 0 and rows["regime"]["refits"] == 0
    assert rows["periodic"]["refits"] == (N - START) // 22
    assert set(rows) == set(STRATEGIES)


def test_future_data_when_changed_then_earlier_forecasts_are_identical(
    ph_run: tuple[VolData, AdaptResult],
) -> None:
    data, res = ph_run
    cut = 1900
    proxy = data.proxy.copy()
    proxy[cut:] *= 10.0
    other = VolData(data.symbol, data.dates, data.returns, proxy, data.overnight, data.close)
    res2 = walk_forward(other, config())
    k = cut - START  # forecasts of targets before `cut`
    for s in STRATEGIES:
        np.testing.assert_array_equal(res.variance[s][:k], res2.variance[s][:k])
    assert not np.allclose(res.variance["periodic"][k + 30 :], res2.variance["periodic"][k + 30 :])


def test_regime_drift_with_hmm_and_adwin_when_run_then_probabilities_are_filtered_and_valid() -> (
    None
):
    data = broken_series(seed=1, n=1800)
    res = walk_forward(data, config(detector="adwin", regime_kind="hmm"))
    assert res.regime_proba.shape == (1800 - START, 2)
    np.testing.assert_allclose(res.regime_proba.sum(axis=1), 1.0)
    after = res.dates >= data.dates[BREAK + 50]
    assert res.regime_proba[after, 1].mean() > 0.8  # the turbulent regime after the break
    assert len(res.refits["drift"]) >= 1


def test_block_bootstrap_ci_when_iid_then_covers_the_mean_and_is_seeded() -> None:
    d = np.random.default_rng(0).normal(0.5, 1.0, 2000)
    lo, hi = block_bootstrap_ci(d, seed=3)
    assert lo < d.mean() < hi and hi - lo < 0.2
    assert block_bootstrap_ci(d, seed=3) == (lo, hi)
    with pytest.raises(DataError, match="too short"):
        block_bootstrap_ci(d[:30])


def test_bad_config_or_too_little_history_then_named_errors() -> None:
    with pytest.raises(ConfigError, match="detector must be one of"):
        AdaptConfig(detector="cusum")
    with pytest.raises(ConfigError, match="window must be an integer >= 50, actually: 10"):
        AdaptConfig(window=10)
    with pytest.raises(ConfigError, match="start must be an ISO date"):
        AdaptConfig(start="yesterday")
    with pytest.raises(DataError, match="too few training rows"):
        walk_forward(broken_series(n=600), config())
