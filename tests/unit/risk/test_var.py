"""VaR/ES: closed forms against numerical integrals, the GPD tail, and coverage on simulated GJR-t data."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import integrate, stats

from tradelearn.errors import ConfigError
from tradelearn.risk.backtests import kupiec_pof
from tradelearn.risk.realized import VolData
from tradelearn.risk.var import (
    METHODS,
    VarForecast,
    empirical_var_es,
    gpd_var_es,
    student_t_var_es,
    var_forecasts,
)

GjrSimulator = Callable[..., tuple[np.ndarray, np.ndarray]]
"""The ``simulate_gjr_t`` fixture of conftest.py."""


def test_student_t_var_es_match_the_integral_of_the_standardized_density() -> None:
    nu, level = 5.0, 0.99
    s = np.sqrt((nu - 2) / nu)
    var, es = student_t_var_es(nu, level)
    q = -float(var)
    assert stats.t.cdf(q / s, nu) == pytest.approx(0.01)
    tail, _ = integrate.quad(lambda x: x * stats.t.pdf(x / s, nu) / s, -np.inf, q)
    assert float(es) == pytest.approx(-tail / 0.01, rel=1e-6)


def test_student_t_with_many_degrees_of_freedom_approaches_the_normal() -> None:
    var, es = student_t_var_es(1e6, 0.99)
    assert float(var) == pytest.approx(2.3263, abs=1e-3)
    assert float(es) == pytest.approx(stats.norm.pdf(2.3263) / 0.01, abs=1e-3)


def test_empirical_var_es_on_a_known_sample() -> None:
    x = np.arange(1.0, 101.0) - 50.5  # -49.5 .. 49.5
    var, es = empirical_var_es(x, 0.95)
    assert float(var) == pytest.approx(-np.quantile(x, 0.05))
    assert float(es) == pytest.approx(-x[x <= np.quantile(x, 0.05)].mean())


def test_gpd_tail_recovers_the_student_t_quantile_better_than_ten_points() -> None:
    nu = 4.0
    z = stats.t.rvs(nu, size=1000, random_state=np.random.default_rng(2)) * np.sqrt((nu - 2) / nu)
    true_var, true_es = student_t_var_es(nu, 0.99)
    v, e = gpd_var_es(z, 0.99, 0.05)
    assert v == pytest.approx(float(true_var), rel=0.12)
    assert e == pytest.approx(float(true_es), rel=0.2)


def test_gpd_when_level_is_inside_the_body_then_config_error() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        gpd_var_es(np.random.default_rng(0).normal(size=500), 0.9, 0.05)


@pytest.fixture(scope="module")
def simulated(simulate_gjr_t: GjrSimulator) -> dict[str, VarForecast]:
    r, _ = simulate_gjr_t(4000, 0.02, 0.04, 0.1, 0.88, 5.0, seed=9)
    dates = np.datetime64("2000-01-03") + np.arange(r.size).astype("timedelta64[D]")
    data = VolData("sim", dates, r, r**2, np.zeros(r.size), np.ones(r.size))
    return var_forecasts(data, METHODS, start="2001-06-01", window=800, refit_every=100)


def test_var_forecasts_give_positive_var_and_es_beyond_var(
    simulated: dict[str, VarForecast],
) -> None:
    for m, vf in simulated.items():
        assert np.all(vf.var > 0), m
        assert np.all(vf.es >= vf.var - 1e-12), m
        assert np.all(vf.var[:, 0] > vf.var[:, 1]), m  # 99% beyond 97.5%


def test_filtered_methods_cover_a_correctly_specified_gjr_t(
    simulated: dict[str, VarForecast],
) -> None:
    for m in ("evt", "fhs", "gjr_t"):
        hits = simulated[m].hits()
        for j, level in enumerate((0.99, 0.975)):
            assert kupiec_pof(hits[:, j], 1 - level).p_value > 0.01, (m, level)


def test_hits_mark_returns_below_minus_var(simulated: dict[str, VarForecast]) -> None:
    vf = simulated["hs"]
    assert np.array_equal(vf.hits()[:, 0], vf.returns < -vf.var[:, 0])


def test_var_forecasts_with_unknown_method_then_config_error() -> None:
    data = VolData(
        "x",
        np.arange(10).astype("datetime64[D]"),
        np.zeros(10),
        np.ones(10),
        np.zeros(10),
        np.ones(10),
    )
    with pytest.raises(ConfigError, match="unknown VaR methods"):
        var_forecasts(data, ["montecarlo"])
