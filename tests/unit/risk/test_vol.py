"""Volatility models: parameter recovery on simulated data, and no look-ahead in rolling forecasts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.risk.realized import VolData
from tradelearn.risk.vol import (
    MODELS,
    ForecastSet,
    fit_garch,
    fit_har,
    har_features,
    rolling_forecasts,
    rolling_garch,
    target_sums,
)

GjrSimulator = Callable[..., tuple[np.ndarray, np.ndarray]]
"""The ``simulate_gjr_t`` fixture of conftest.py."""


def vol_series(sim: GjrSimulator, n: int = 1500, seed: int = 0) -> VolData:
    r, s2 = sim(n, 0.02, 0.05, 0.08, 0.88, 7.0, seed)
    proxy = s2 * np.random.default_rng(seed + 1).chisquare(8, n) / 8 * 0.7
    dates = np.datetime64("2000-01-03") + np.arange(n).astype("timedelta64[D]")
    return VolData("sim", dates, r, proxy, np.zeros(n), 100 * np.exp(np.cumsum(r) / 100))


def test_target_sums_adds_the_next_h_days() -> None:
    y = target_sums(np.array([1.0, 2.0, 3.0, 4.0]), 2)
    assert y[:2].tolist() == [5.0, 7.0]
    assert np.isnan(y[2:]).all()


def test_har_recovers_coefficients_on_simulated_har_data() -> None:
    rng = np.random.default_rng(5)
    b0, bd, bw, bm = 0.1, 0.35, 0.3, 0.2
    n = 20_000
    rv = np.full(n, 1.0)
    for t in range(22, n - 1):
        w, m = rv[t - 4 : t + 1].mean(), rv[t - 21 : t + 1].mean()
        rv[t + 1] = b0 + bd * rv[t] + bw * w + bm * m + 0.1 * (rng.chisquare(1) - 1)
    d, w, m = har_features(rv)
    beta = fit_har(d, w, m, target_sums(rv, 1))
    assert beta == pytest.approx([b0, bd, bw, bm], abs=0.03)


def test_garch_wrapper_recovers_garch_t_parameters(simulate_gjr_t: GjrSimulator) -> None:
    r, _ = simulate_gjr_t(6000, 0.05, 0.08, 0.0, 0.9, 6.0, seed=3)
    fit, _ = fit_garch(r, "garch")
    assert fit.converged
    p = fit.params
    assert p["alpha[1]"] == pytest.approx(0.08, abs=0.025)
    assert p["beta[1]"] == pytest.approx(0.9, abs=0.03)
    assert fit.nu == pytest.approx(6.0, abs=1.5)


def test_gjr_wrapper_recovers_the_leverage_term(simulate_gjr_t: GjrSimulator) -> None:
    r, _ = simulate_gjr_t(6000, 0.02, 0.03, 0.12, 0.88, 8.0, seed=4)
    fit, _ = fit_garch(r, "gjr")
    assert fit.params["gamma[1]"] == pytest.approx(0.12, abs=0.04)
    assert fit.params["alpha[1]"] + fit.params["gamma[1]"] / 2 + fit.params["beta[1]"] < 1


def test_fit_garch_with_unknown_kind_then_config_error() -> None:
    with pytest.raises(ConfigError, match="kind must be one of"):
        fit_garch(np.ones(100), "figarch")


def test_rolling_garch_forecasts_do_not_change_when_the_future_changes(
    simulate_gjr_t: GjrSimulator,
) -> None:
    r, _ = simulate_gjr_t(900, 0.02, 0.05, 0.08, 0.88, 7.0, seed=1)
    origins = np.arange(399, 899)
    a = rolling_garch(r, origins, kind="gjr", window=400, refit_every=100, horizons=(1, 5))
    r2 = r.copy()
    r2[700:] *= 3.0  # a different future from day 700 on
    b = rolling_garch(r2, origins, kind="gjr", window=400, refit_every=100, horizons=(1, 5))
    before = origins < 699
    assert np.array_equal(a.cumvar[before], b.cumvar[before])
    assert not np.allclose(a.cumvar[~before], b.cumvar[~before])


def test_rolling_garch_one_step_variance_follows_the_true_variance(
    simulate_gjr_t: GjrSimulator,
) -> None:
    r, s2 = simulate_gjr_t(3000, 0.02, 0.05, 0.08, 0.88, 7.0, seed=2)
    origins = np.arange(999, 2999)
    path = rolling_garch(r, origins, kind="gjr", window=1000, refit_every=250, horizons=(1,))
    assert np.corrcoef(path.var1, s2[origins + 1])[0, 1] > 0.95


@pytest.fixture(scope="module")
def forecasts(simulate_gjr_t: GjrSimulator) -> tuple[VolData, ForecastSet]:
    data = vol_series(simulate_gjr_t)
    return data, rolling_forecasts(
        data, start="2001-06-01", window=400, refit_every=100, horizons=(1, 5)
    )


def test_rolling_forecasts_give_every_model_positive_forecasts(
    forecasts: tuple[VolData, ForecastSet],
) -> None:
    _, fs = forecasts
    assert set(fs.forecasts) == set(MODELS)
    for name, f in fs.forecasts.items():
        assert f.shape == (len(fs.origins), 2), name
        assert np.all(np.isfinite(f)) and np.all(f > 0), name
    assert np.isnan(fs.target[-1]).all()  # the live forecast


def test_rolling_forecasts_start_after_the_window_and_the_feature_warm_up(
    forecasts: tuple[VolData, ForecastSet],
) -> None:
    data, fs = forecasts
    assert fs.origins[0] == max(data.index_of("2001-06-01") - 1, 400 + 65)


def test_regression_forecasts_do_not_change_when_the_future_changes(
    forecasts: tuple[VolData, ForecastSet],
) -> None:
    data, fs = forecasts
    cut = 1200
    future = VolData(
        data.symbol, data.dates, np.r_[data.returns[:cut], data.returns[cut:] * 2],
        np.r_[data.proxy[:cut], data.proxy[cut:] * 5], data.overnight, data.close,
    )  # fmt: skip
    models = ("har", "har_lg", "gbm")
    fs2 = rolling_forecasts(
        future, start="2001-06-01", window=400, refit_every=100, horizons=(1, 5), models=models
    )
    before = fs.origins + 5 < cut
    for m in models:
        assert np.array_equal(fs.forecasts[m][before], fs2.forecasts[m][before]), m


def test_rolling_forecasts_with_unknown_model_then_config_error(
    simulate_gjr_t: GjrSimulator,
) -> None:
    with pytest.raises(ConfigError, match="unknown models"):
        rolling_forecasts(vol_series(simulate_gjr_t, 600), models=("har", "figarch"))
