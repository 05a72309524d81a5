"""Execution policies: one interface, the schedules they promise, the optima they reach."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.execution.evaluate_models import (
    build_policy,
    evaluate_policy,
    run_episodes,
    sample_fills,
)
from tradelearn.execution.model_env import ModelExecutionVecEnv
from tradelearn.execution.policies import (
    POV,
    TWAP,
    VWAP,
    AlmgrenChriss,
    CarteaJaimungal,
    ExecState,
    ExecutionPolicy,
    ObizhaevaWang,
    SB3Policy,
    SubmitAndLeave,
    estimate_almgren_chriss,
)
from tradelearn.execution.worlds import (
    ACWorld,
    CJWorld,
    OWWorld,
    afs_trades,
    make_world,
    mean_path,
    riccati,
)


def _state(step: int, remaining: float, n_steps: int = 10, **kw: Any) -> ExecState:
    one = np.ones(1)
    return ExecState(
        step=np.array([step]),
        n_steps=n_steps,
        remaining=np.array([remaining]),
        parent_qty=one * 1_000.0,
        price_move=kw.get("price_move", one * 0.0),
        impact=kw.get("impact", one * 0.0),
        market_volume=kw.get("market_volume", one * np.nan),
    )


def _trades(world: Any, policy: ExecutionPolicy) -> np.ndarray:
    """Shares each of the horizon's steps sells in one episode (the last one liquidates)."""
    venv = ModelExecutionVecEnv(world, 1, seed=0)
    policy.reset(1)
    out = []
    for _ in range(world.n_steps - 1):
        state = ExecState(
            step=venv.steps_done.copy(),
            n_steps=world.n_steps,
            remaining=venv.remaining.copy(),
            parent_qty=np.full(1, world.parent_qty),
            price_move=venv.price_move.copy(),
            impact=venv.impact.copy(),
            market_volume=np.full(1, world.market_volume),
        )
        q = policy.child_qty(state)
        out.append(q[0])
        _, _, done = venv.step_fractions(q / state.remaining)
    assert done[0]
    out.append(state.remaining[0] - out[-1])
    return np.array(out)


def test_every_policy_implements_the_one_interface() -> None:
    world = make_world("ow")
    assert isinstance(world, OWWorld)
    for policy in (TWAP(), POV(0.1), SubmitAndLeave(), ObizhaevaWang(world)):
        assert isinstance(policy, ExecutionPolicy)


def test_twap_splits_what_is_left_over_the_steps_left_and_ends_with_the_rest() -> None:
    assert TWAP().child_qty(_state(2, 800.0))[0] == pytest.approx(100.0)
    assert TWAP().child_qty(_state(9, 37.0))[0] == 37.0
    np.testing.assert_allclose(_trades(make_world("ac"), TWAP()), 10_000.0)


def test_vwap_follows_the_mean_training_profile() -> None:
    volumes = np.array([[1.0, 2.0, 1.0, 4.0], [3.0, 2.0, 1.0, 2.0]])
    vwap = VWAP.from_volumes(volumes)
    # day shares (1,2,1,4)/8 and (3,2,1,2)/8, averaged
    np.testing.assert_allclose(vwap.profile, [0.25, 0.25, 0.125, 0.375])
    world = make_world("ac", n_steps=4)
    np.testing.assert_allclose(_trades(world, vwap), world.parent_qty * vwap.profile)
    with pytest.raises(ConfigError, match="VWAP profile has 4 bins, the horizon 10 steps"):
        vwap.child_qty(_state(0, 1.0))


def test_pov_participates_in_market_volume_up_to_what_is_left() -> None:
    pov = POV(0.1)
    assert pov.child_qty(_state(0, 1_000.0, market_volume=np.array([2_000.0])))[0] == 200.0
    assert pov.child_qty(_state(0, 150.0, market_volume=np.array([2_000.0])))[0] == 150.0
    with pytest.raises(ConfigError, match="POV needs the market volume"):
        pov.child_qty(_state(0, 1_000.0))
    with pytest.raises(ConfigError, match=r"rate must be in \(0, 1\]"):
        POV(1.5)


def test_submit_and_leave_rests_until_the_end_then_liquidates() -> None:
    sal = SubmitAndLeave(limit_offset_bps=5.0)
    assert sal.child_qty(_state(0, 1_000.0))[0] == 0.0
    assert sal.child_qty(_state(9, 1_000.0))[0] == 1_000.0
    assert sal.limit_price(100.0, side=-1) == pytest.approx(100.05)
    assert sal.limit_price(100.0, side=1) == pytest.approx(99.95)


def test_almgren_chriss_policy_trades_the_optimal_schedule() -> None:
    world = make_world("ac")
    assert isinstance(world, ACWorld)
    _, expected = mean_path(world, riccati(world).gains)
    np.testing.assert_allclose(_trades(world, AlmgrenChriss(world)), expected, rtol=1e-9)


def test_obizhaeva_wang_policy_trades_the_afs_blocks_even_without_seeing_impact() -> None:
    world = make_world("ow")
    assert isinstance(world, OWWorld)
    np.testing.assert_allclose(_trades(world, ObizhaevaWang(world)), afs_trades(world), rtol=1e-9)

    class Blind(ObizhaevaWang):
        def child_qty(self, state: ExecState) -> np.ndarray:
            return super().child_qty(
                ExecState(**{**state.__dict__, "impact": np.full_like(state.impact, np.nan)})
            )

    np.testing.assert_allclose(_trades(world, Blind(world)), afs_trades(world), rtol=1e-9)


def test_cartea_jaimungal_policy_reaches_the_exact_optimum() -> None:
    world = make_world("cj")
    assert isinstance(world, CJWorld)
    score = evaluate_policy(world, CarteaJaimungal(world), episodes=200)
    assert score.gap_pct == pytest.approx(0.0, abs=1e-9)
    assert score.exact_bps == pytest.approx(riccati(world).cost_bps)


def test_almgren_chriss_parameters_are_recovered_from_fills() -> None:
    world = make_world("ac")
    assert isinstance(world, ACWorld)
    est = estimate_almgren_chriss(sample_fills(world, 20_000, seed=5))
    assert est["temporary_impact"] == pytest.approx(world.temporary_impact, rel=1e-6)
    assert est["permanent_impact"] == pytest.approx(world.permanent_impact, rel=0.15)
    assert est["volatility"] == pytest.approx(world.volatility, rel=0.01)
    fitted = build_policy("ac", world, seed=5)
    assert evaluate_policy(world, fitted, episodes=200).gap_pct < 0.05


def test_build_policy_names_the_known_policies_when_a_name_is_unknown() -> None:
    world = make_world("ac")
    with pytest.raises(ConfigError, match="unknown policy 'foo'"):
        build_policy("foo", world)
    with pytest.raises(ConfigError, match="optimum of the ow world, not of ac"):
        build_policy("ow", world)


class _ConstantModel:
    """Stands in for an SB3 model: always the same action."""

    def __init__(self, action: np.ndarray) -> None:
        self.action = action
        self.seen: list[np.ndarray] = []

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        self.seen.append(obs.copy())
        return np.repeat(self.action[None], obs.shape[0], axis=0), None


def test_sb3_policy_acts_through_the_env_interpreter() -> None:
    world = make_world("ac")
    model = _ConstantModel(np.array([0.0], dtype=np.float32))  # sells half of what is left
    policy = SB3Policy(model, world, "continuous")
    trades = _trades(world, policy)
    x = world.parent_qty * 0.5 ** np.arange(world.n_steps)
    np.testing.assert_allclose(trades[:-1], 0.5 * x[:-1])
    assert trades[-1] == pytest.approx(x[-1])
    venv = ModelExecutionVecEnv(world, 1, seed=0)
    assert model.seen[0].tobytes() == venv.reset().tobytes()


def test_sb3_policy_with_discrete_actions_sells_grid_multiples_of_twap() -> None:
    world = make_world("ac")
    policy = SB3Policy(_ConstantModel(np.array(4)), world, "discrete")  # grid[4] = 1.0: TWAP
    np.testing.assert_allclose(_trades(world, policy), world.parent_qty / world.n_steps)


def test_run_episodes_gives_every_policy_the_same_noise() -> None:
    world = make_world("ac")
    _, noise_a = run_episodes(world, TWAP(), 50, seed=9)
    _, noise_b = run_episodes(world, TWAP(), 50, seed=9)
    assert noise_a.tobytes() == noise_b.tobytes()
