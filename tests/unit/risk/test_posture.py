"""The forecasts set the posture: Almgren-Chriss urgency and the VaR-budget size."""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.execution.worlds import ACWorld, ac_trajectory, make_world
from tradelearn.risk.gate import TradingState
from tradelearn.risk.posture import (
    ac_urgency,
    build_posture,
    parametric_var_pct,
    posture_inputs,
    rescale_world,
    sigma_from_variance,
    world_for_forecast,
)
from tradelearn.risk.realized import VolData
from tradelearn.risk.sizing import VarBudget


@pytest.fixture()
def template() -> ACWorld:
    return cast(ACWorld, make_world("ac"))


BUDGET = VarBudget(budget=100_000.0, level=0.99)


def test_sigma_from_variance_when_preset_then_two_percent_of_100_is_2() -> None:
    assert sigma_from_variance(4.0, 100.0) == pytest.approx(2.0)
    assert sigma_from_variance(0.0, 100.0) == 0.0


def test_posture_when_forecast_vol_rises_then_front_loaded_and_smaller_size(
    template: ACWorld,
) -> None:
    calm = build_posture(1.0, template, BUDGET)
    storm = build_posture(9.0, template, BUDGET)
    assert storm.urgency > calm.urgency > 0
    # more urgency: a larger first child order and fewer shares left at every interior step
    assert storm.trades[0] > calm.trades[0]
    assert np.all(storm.holdings[1:-1] < calm.holdings[1:-1])
    assert storm.front_load > calm.front_load > 1 / template.n_steps
    # the VaR (parametric from the same forecast) triples, so the size falls to a third
    assert storm.var_pct == pytest.approx(3 * calm.var_pct)
    assert storm.shares < calm.shares
    assert storm.shares == pytest.approx(calm.shares / 3, rel=1e-3)
    assert storm.holdings.max() == pytest.approx(template.parent_qty)
    assert storm.trades.sum() == pytest.approx(template.parent_qty)


def test_posture_when_preset_variance_then_kappa_t_near_two(template: ACWorld) -> None:
    # the preset's 2% daily volatility is what its docstring calibrates kappa*T ~ 2 to
    p = build_posture(4.0, template, BUDGET)
    assert p.urgency * template.horizon == pytest.approx(2.0, abs=0.05)
    assert ac_urgency(p.world) == p.urgency


def test_posture_when_no_volatility_then_twap(template: ACWorld) -> None:
    p = build_posture(0.0, template, BUDGET, var_pct=2.0)
    assert p.urgency == 0.0
    np.testing.assert_allclose(p.trades, template.parent_qty / template.n_steps)
    assert p.timing_risk_bps == 0.0


def test_policy_when_run_in_its_world_then_follows_the_sinh_schedule(template: ACWorld) -> None:
    p = build_posture(6.0, template, BUDGET)
    np.testing.assert_allclose(p.policy_trades(), p.trades, rtol=1e-8)
    np.testing.assert_allclose(p.holdings, ac_trajectory(p.world))


def test_var_budget_size_when_var_given_then_budget_over_per_share_var(template: ACWorld) -> None:
    p = build_posture(1.0, template, BUDGET, var_pct=2.5)
    assert p.shares == math.floor(100_000.0 / (0.025 * 100.0))
    assert p.trading_state is TradingState.ACTIVE
    assert build_posture(1.0, template, BUDGET, var_pct=5.0).trading_state is (
        TradingState.REDUCING
    )
    assert build_posture(1.0, template, BUDGET, var_pct=9.0).trading_state is TradingState.HALTED


def test_parametric_var_when_normal_then_2326_sigma() -> None:
    assert parametric_var_pct(4.0, 0.99) == pytest.approx(2.0 * 2.3263, rel=1e-4)
    # a unit-variance t(5) has a fatter 99% tail than the normal
    assert parametric_var_pct(4.0, 0.99, nu=5.0) > parametric_var_pct(4.0, 0.99)
    with pytest.raises(ConfigError, match="level"):
        parametric_var_pct(4.0, 1.2)
    with pytest.raises(ConfigError, match="nu"):
        parametric_var_pct(4.0, 0.99, nu=2.0)


def test_timing_risk_budget_when_binding_then_lambda_rises_to_meet_it(template: ACWorld) -> None:
    free = build_posture(9.0, template, BUDGET)
    capped = build_posture(9.0, template, BUDGET, max_timing_risk_bps=0.5 * free.timing_risk_bps)
    assert capped.world.risk_aversion > template.risk_aversion
    assert capped.timing_risk_bps <= 0.5 * free.timing_risk_bps
    assert capped.timing_risk_bps == pytest.approx(0.5 * free.timing_risk_bps, rel=1e-3)
    assert capped.expected_cost_bps > free.expected_cost_bps
    loose = world_for_forecast(template, 9.0, max_timing_risk_bps=1e6)
    assert loose.risk_aversion == template.risk_aversion


def test_rescale_world_when_price_moves_then_costs_in_bps_and_urgency_unchanged(
    template: ACWorld,
) -> None:
    a = build_posture(2.0, template, BUDGET)
    b = build_posture(2.0, rescale_world(template, 1234.0), BUDGET)
    assert b.urgency == pytest.approx(a.urgency)
    assert b.expected_cost_bps == pytest.approx(a.expected_cost_bps)
    assert b.timing_risk_bps == pytest.approx(a.timing_risk_bps)
    assert b.shares < a.shares  # a dearer share uses more of the budget


def test_posture_when_bad_inputs_then_config_error_names_field(template: ACWorld) -> None:
    with pytest.raises(ConfigError, match="variance_pct2"):
        build_posture(-1.0, template, BUDGET)
    with pytest.raises(ConfigError, match="price"):
        rescale_world(template, 0.0)
    with pytest.raises(ConfigError, match="max_timing_risk_bps"):
        world_for_forecast(template, 1.0, max_timing_risk_bps=-3.0)


def _series(n: int, seed: int) -> VolData:
    rng = np.random.default_rng(seed)
    s2 = np.exp(np.convolve(rng.normal(0, 0.25, n + 30), np.ones(30) / 5.5, "valid")[:n])
    r = np.sqrt(s2) * rng.standard_normal(n)
    proxy = s2 * rng.chisquare(4, n) / 4
    dates = np.datetime64("2001-01-02") + np.arange(n).astype("timedelta64[D]")
    close = 100 * np.exp(np.cumsum(r) / 100)
    return VolData("sim", dates, r, proxy, np.zeros(n), close)


def test_posture_inputs_when_later_data_changes_then_inputs_do_not(template: ACWorld) -> None:
    data = _series(420, 1)
    day = str(data.dates[380])
    a = posture_inputs(data, day, model="har_lg", window=150)
    proxy = data.proxy.copy()
    proxy[381:] *= 50.0
    later = VolData(data.symbol, data.dates, data.returns, proxy, data.overnight, data.close)
    b = posture_inputs(later, day, model="har_lg", window=150)
    assert a == b
    assert a.date == day and a.origin == str(data.dates[379])
    assert a.realized_variance == data.proxy[380]
    assert a.prev_close == data.close[379]
    assert set(a.forecasts) == {"har_lg", "har", "gjr_t_scaled"}
    assert a.variance == a.forecasts["har_lg"] > 0 and a.var_pct > 0
    assert a.static_variance == pytest.approx(np.mean(data.proxy[230:380]))
    # the template keeps the order and moves the preset to the price
    w = a.template(5_000.0, 50.0, 0.1, 8)
    assert (w.parent_qty, w.arrival_price, w.n_steps) == (5_000.0, 50.0, 8)


def test_posture_inputs_when_date_too_early_or_late_then_config_error() -> None:
    data = _series(420, 2)
    with pytest.raises(ConfigError, match="earlier days"):
        posture_inputs(data, str(data.dates[100]), window=150)
    with pytest.raises(ConfigError, match="after the series"):
        posture_inputs(data, "2030-01-01", window=150)
    with pytest.raises(ConfigError, match="model"):
        posture_inputs(data, None, model="nope", window=150)
