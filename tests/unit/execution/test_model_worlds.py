"""The model worlds' exact optima against the known closed forms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.execution.worlds import (
    ACWorld,
    CJWorld,
    OWWorld,
    ac_mean_variance,
    ac_trajectory,
    afs_trades,
    cj_continuous_cost,
    cj_continuous_inventory,
    evaluate_gains,
    fraction_gains,
    make_world,
    mean_path,
    riccati,
    schedule_fractions,
    world_from_dict,
)


def _twap_gains(n: int) -> np.ndarray:
    return fraction_gains(1.0 / (n - np.arange(n)))


def test_ac_optimum_follows_the_discrete_sinh_trajectory() -> None:
    world = make_world("ac")
    assert isinstance(world, ACWorld)
    sol = riccati(world)
    holdings, _ = mean_path(world, sol.gains)
    np.testing.assert_allclose(holdings, ac_trajectory(world), rtol=1e-10, atol=1e-6)


def test_ac_optimal_cost_equals_mean_plus_lambda_variance() -> None:
    world = make_world("ac")
    assert isinstance(world, ACWorld)
    e, v = ac_mean_variance(world, ac_trajectory(world))
    assert riccati(world).cost == pytest.approx(e + world.risk_aversion * v, rel=1e-12)


def test_ac_lq_cost_equals_mean_variance_for_any_schedule() -> None:
    world = make_world("ac", n_steps=7)
    assert isinstance(world, ACWorld)
    trades = np.random.default_rng(4).uniform(0.0, 1.0, 7)
    trades *= world.parent_qty / trades.sum()
    holdings = world.parent_qty - np.concatenate([[0.0], trades.cumsum()])
    e, v = ac_mean_variance(world, holdings)
    lq = evaluate_gains(world, fraction_gains(schedule_fractions(trades))).cost
    assert lq == pytest.approx(e + world.risk_aversion * v, rel=1e-10)


def test_ac_without_risk_aversion_is_twap() -> None:
    world = make_world("ac", risk_aversion=0.0)
    sol = riccati(world)
    _, trades = mean_path(world, sol.gains)
    np.testing.assert_allclose(trades, world.parent_qty / world.n_steps, rtol=1e-12)
    twap = evaluate_gains(world, _twap_gains(world.n_steps))
    assert twap.cost == pytest.approx(sol.cost, rel=1e-14)


def test_ac_with_risk_aversion_front_loads_and_beats_twap() -> None:
    world = make_world("ac")
    _, trades = mean_path(world, riccati(world).gains)
    assert np.all(np.diff(trades) < 0)
    assert riccati(world).cost < evaluate_gains(world, _twap_gains(world.n_steps)).cost


@pytest.mark.parametrize("permanent", [0.0, 2e-6])
def test_ow_optimum_is_the_alfonsi_fruth_schied_blocks(permanent: float) -> None:
    world = make_world("ow", permanent_impact=permanent)
    assert isinstance(world, OWWorld)
    _, trades = mean_path(world, riccati(world).gains)
    expected = afs_trades(world)
    np.testing.assert_allclose(trades, expected, rtol=1e-9)
    a = math.exp(-world.resilience * world.tau)
    assert expected[0] == pytest.approx(world.parent_qty / ((world.n_steps - 2) * (1 - a) + 2))
    assert expected[1] == pytest.approx(expected[0] * (1 - a))


def test_ow_permanent_impact_adds_the_same_cost_to_every_schedule() -> None:
    base, perm = make_world("ow"), make_world("ow", permanent_impact=2e-6)
    extra = 0.5 * 2e-6 * base.parent_qty**2
    for gains in (_twap_gains(base.n_steps), riccati(base).gains):
        assert evaluate_gains(perm, gains).cost == pytest.approx(
            evaluate_gains(base, gains).cost + extra, rel=1e-10
        )


def test_cj_discrete_optimum_converges_to_the_continuous_formula() -> None:
    errors = []
    for n in (10, 40, 160, 640):
        world = make_world("cj", n_steps=n, terminal_penalty=3 * 1.25e-7 / (1 / 65))
        assert isinstance(world, CJWorld)
        errors.append(abs(riccati(world).cost / cj_continuous_cost(world) - 1))
    assert errors[-1] < 2e-3
    assert all(later < 0.5 * earlier for earlier, later in itertools.pairwise(errors))
    holdings, _ = mean_path(world, riccati(world).gains)
    t = np.arange(world.n_steps + 1) * world.tau
    inner = slice(0, world.n_steps - 1)  # before the terminal block
    np.testing.assert_allclose(
        holdings[inner],
        cj_continuous_inventory(world, t[inner]),
        rtol=0,
        atol=5e-3 * world.parent_qty,
    )


def test_cj_with_a_huge_terminal_penalty_approaches_the_ac_hyperbola() -> None:
    world = make_world("cj", terminal_penalty=1e3, n_steps=400)
    assert isinstance(world, CJWorld)
    s = math.sqrt(world.temporary_impact * world.inventory_penalty)
    g = math.sqrt(world.inventory_penalty / world.temporary_impact)
    expected = (
        0.5 * world.permanent_impact + s / math.tanh(g * world.horizon)
    ) * world.parent_qty**2
    assert cj_continuous_cost(world) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("name", ["ac", "ow", "cj"])
def test_riccati_optimum_beats_every_perturbed_policy(name: str) -> None:
    world = make_world(name)
    sol = riccati(world)
    rng = np.random.default_rng(11)
    for _ in range(20):
        gains = sol.gains + rng.normal(0, 0.02, sol.gains.shape) * np.array([1.0, 0.0, 0.0])
        assert evaluate_gains(world, gains).cost > sol.cost


def test_world_rejects_unknown_and_bad_fields_by_name() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['risk_aversio'\]"):
        make_world("ac", risk_aversio=1.0)
    with pytest.raises(ConfigError, match=r"ow\.resilience must be positive, actually: -1\.0"):
        make_world("ow", resilience=-1.0)
    with pytest.raises(ConfigError, match="n_steps must be an integer >= 2"):
        make_world("cj", n_steps=1)
    with pytest.raises(ConfigError, match="world must be one of"):
        make_world("xx")


def test_world_round_trips_through_a_dict() -> None:
    for name in ("ac", "ow", "cj"):
        world = make_world(name, n_steps=12)
        assert world_from_dict(world.to_dict()) == world
