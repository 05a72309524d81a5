"""The reward: implementation shortfall in basis points, hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.execution.model_env import ModelExecutionEnv
from tradelearn.execution.reward import fills_reward_bps, shortfall_cash, step_reward_bps
from tradelearn.execution.worlds import dynamics


def test_sell_below_arrival_mid_costs_its_shortfall_in_bps() -> None:
    # 100 of 1,000 shares sold at 99.50 against a 100.00 arrival mid: 50 of 100,000 = 5 bp
    assert shortfall_cash(-1.0, 100.0, 99.5, 100.0) == pytest.approx(50.0)
    assert step_reward_bps(-1.0, 100.0, 99.5, 100.0, 0.0, 0.0, 100_000.0) == pytest.approx(-5.0)


def test_buy_above_arrival_mid_is_a_cost_and_below_a_gain() -> None:
    assert step_reward_bps(1.0, 100.0, 100.2, 100.0, 0.0, 0.0, 100_000.0) == pytest.approx(-2.0)
    assert step_reward_bps(1.0, 100.0, 99.9, 100.0, 0.0, 0.0, 100_000.0) == pytest.approx(1.0)


def test_running_penalty_charges_what_is_held_after_the_step() -> None:
    # 500 shares held, penalty 1e-6 per share squared: 0.25 cash = 0.025 bp of 100,000
    assert step_reward_bps(-1.0, 0.0, 100.0, 100.0, 500.0, 1e-6, 100_000.0) == pytest.approx(-0.025)


def test_a_step_that_trades_and_holds_nothing_earns_zero() -> None:
    assert step_reward_bps(-1.0, 0.0, 123.0, 100.0, 0.0, 5.0, 100_000.0) == 0.0


def test_fills_reward_uses_the_fills_average_price() -> None:
    # sells 100 @ 99.9 and 300 @ 99.7: shortfall 10 + 90 = 100 cash of 1,000 x 100
    r = fills_reward_bps(-1, np.array([100.0, 300.0]), np.array([99.9, 99.7]), 100.0, 1_000.0)
    assert r == pytest.approx(-100.0 / 100_000.0 * 1e4)
    assert fills_reward_bps(-1, np.array([]), np.array([]), 100.0, 1_000.0) == 0.0


def test_first_env_reward_is_the_hand_computed_impact_and_risk_charge() -> None:
    env = ModelExecutionEnv("ac")
    env.reset(seed=0)
    dyn = dynamics(env.world)
    _, reward, *_ = env.step(np.array([-0.6], dtype=np.float32))  # sells 20%
    q = 0.2 * dyn.parent_qty
    price = dyn.arrival_price - dyn.trade_cost * q
    cost = q * (dyn.arrival_price - price) + dyn.penalty * (dyn.parent_qty - q) ** 2
    assert reward == pytest.approx(-cost / dyn.parent_value * 1e4, rel=1e-6)


@pytest.mark.parametrize("world", ["ac", "ow", "cj"])
def test_episode_rewards_sum_to_minus_the_episode_cost(world: str) -> None:
    env = ModelExecutionEnv(world)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    total, terminated, info = 0.0, False, {}
    while not terminated:
        _, reward, terminated, _, info = env.step(rng.uniform(-1, 0, 1).astype(np.float32))
        total += reward
    assert total == pytest.approx(-info["cost_bps"], rel=1e-12)
