"""``tradelearn/Execution-v0``: checkers, seeding, the gate, liquidation, reward and decomposition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from tradelearn.errors import ConfigError
from tradelearn.execution import EXEC_ENV_ID
from tradelearn.execution.sim_env import (
    EpisodeResult,
    ExecEnvConfig,
    ExecutionEnv,
    MarketConfig,
)
from tradelearn.sim.generate import generate_day, write_day

OPEN = 34_200.0


@pytest.fixture(scope="module")
def lobster_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A generated 15-minute LOBSTER day (agent-based flow, 10 levels)."""
    day = generate_day(seed=11, seconds=900, levels=10)
    m, o = write_day(day, tmp_path_factory.mktemp("market"))
    return str(m), str(o)


def replay_config(files: tuple[str, str], **kw: Any) -> ExecEnvConfig:
    base: dict[str, Any] = {
        "market": MarketConfig(kind="replay", message=files[0], orderbook=files[1]),
        "horizon_s": 120.0,
        "n_steps": 6,
        "vol_window": 3,
        "start_window_s": (OPEN + 90.0, OPEN + 600.0),
    }
    return ExecEnvConfig(**base).with_overrides(**kw)


def agents_config(**kw: Any) -> ExecEnvConfig:
    base: dict[str, Any] = {
        "market": MarketConfig(kind="agents", seed=3, session_s=900.0),
        "horizon_s": 120.0,
        "n_steps": 6,
        "vol_window": 3,
        "start_window_s": (OPEN + 90.0, OPEN + 400.0),
    }
    return ExecEnvConfig(**base).with_overrides(**kw)


def make(kind: str, files: tuple[str, str], **kw: Any) -> ExecutionEnv:
    base = replay_config(files) if kind == "replay" else agents_config()
    return ExecutionEnv(base.with_overrides(**kw))


def run(env: ExecutionEnv, seed: int, actions: list[Any]) -> tuple[list[bytes], dict[str, Any]]:
    obs, _ = env.reset(seed=seed)
    trace = [obs.tobytes()]
    info: dict[str, Any] = {}
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        trace.append(obs.tobytes() + np.float64(r).tobytes() + bytes([term, trunc]))
        if term:
            break
    return trace, info


def random_actions(env: ExecutionEnv, n: int, seed: int) -> list[Any]:
    env.action_space.seed(seed)
    return [env.action_space.sample() for _ in range(n)]


@pytest.mark.parametrize("kind", ["replay", "agents"])
@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
def test_env_passes_the_gymnasium_and_sb3_checkers(
    kind: str, action_type: str, lobster_files: tuple[str, str]
) -> None:
    cfg = replay_config(lobster_files) if kind == "replay" else agents_config()
    env = gymnasium.make(EXEC_ENV_ID, config=cfg, action_type=action_type)
    gymnasium_check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)


@pytest.mark.parametrize("kind", ["replay", "agents"])
def test_seeded_episode_repeats_bit_for_bit(kind: str, lobster_files: tuple[str, str]) -> None:
    a, b = make(kind, lobster_files), make(kind, lobster_files)
    actions = random_actions(a, 6, seed=4)
    ta, ia = run(a, 21, actions)
    tb, ib = run(b, 21, actions)
    assert ta == tb
    assert ia["episode"] == ib["episode"]
    # another seed: another start time, another episode
    tc, _ = run(b, 22, actions)
    assert tc != ta


def test_vectorized_envs_repeat_and_match_single_envs(lobster_files: tuple[str, str]) -> None:
    cfg = replay_config(lobster_files)

    def vec() -> gymnasium.vector.SyncVectorEnv:
        return gymnasium.vector.SyncVectorEnv([lambda: ExecutionEnv(cfg) for _ in range(2)])

    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (6, 2, 2)).astype(np.float32)
    traces = []
    for _ in range(2):
        env = vec()
        obs, _ = env.reset(seed=5)
        trace = [obs.copy()]
        for a in actions:
            obs, r, *_ = env.step(a)
            trace.append(np.concatenate([obs.ravel(), r.astype(np.float32)]))
        traces.append(np.concatenate([t.ravel() for t in trace]))
        env.close()
    assert np.array_equal(traces[0], traces[1])
    single = ExecutionEnv(cfg)  # slot 1 of the vector env is seeded 5 + 1
    obs1, _ = single.reset(seed=6)
    first = traces[0][: 2 * obs1.size].reshape(2, -1)
    assert np.array_equal(first[1], obs1)


def test_gymnasium_make_builds_both_markets(lobster_files: tuple[str, str]) -> None:
    env = gymnasium.make(
        EXEC_ENV_ID,
        market="replay",
        message=lobster_files[0],
        orderbook=lobster_files[1],
        horizon_s=120.0,
        n_steps=6,
        vol_window=3,
        start_window_s=(OPEN + 90.0, OPEN + 600.0),
    )
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    cfg = agents_config().to_dict()
    agents = gymnasium.make(EXEC_ENV_ID, config=cfg, action_type="discrete")
    obs, _ = agents.reset(seed=0)
    assert agents.unwrapped.config.market.kind == "agents"  # type: ignore[attr-defined]
    assert agents.action_space == gymnasium.spaces.Discrete(18)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_action_is_denied_with_a_reason_and_sends_nothing(
    bad: float, lobster_files: tuple[str, str]
) -> None:
    env = make("replay", lobster_files)
    env.reset(seed=1)
    _, reward, term, _, info = env.step(np.array([bad, 0.0]))
    assert info["filled"] == 0 and reward == 0.0 and not term
    (denial,) = info["denials"]
    assert denial["check"] == "input"
    assert "quantity must be a positive whole number" in denial["reason"]
    _, _, _, _, info = env.step(np.array([0.0, np.nan]))  # a NaN limit offset
    assert info["denials"][0]["check"] == "input" and "price" in info["denials"][0]["reason"]
    info = _finish(env, np.array([-1.0, 0.0]))
    res = info["episode"]
    assert res.denials == 2
    assert res.n_orders == 1  # the liquidation only
    assert res.filled[:-1].sum() == 0 and res.terminal_qty == res.parent_qty


def _finish(env: ExecutionEnv, action: Any) -> dict[str, Any]:
    while True:
        _, _, term, _, info = env.step(action)
        if term:
            return info


@pytest.mark.parametrize("kind", ["replay", "agents"])
def test_terminal_liquidation_leaves_zero_inventory(
    kind: str, lobster_files: tuple[str, str]
) -> None:
    env = make(kind, lobster_files)
    env.reset(seed=3)
    info = _finish(env, np.array([-1.0, 0.0]))  # never trade: all of it at the end
    res = info["episode"]
    assert res.executed_qty == res.parent_qty == res.terminal_qty
    assert res.remaining[-1] == 0 and np.all(res.remaining[:-1] == res.parent_qty)
    assert res.filled[-1] == res.parent_qty
    # the market saw no order of ours until the end: our mid is the unaffected one
    assert res.impact_bps == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("kind", ["replay", "agents"])
@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
def test_rewards_sum_to_minus_shortfall_and_the_decomposition_adds_up(
    kind: str, action_type: str, lobster_files: tuple[str, str]
) -> None:
    impact = {"impact": "default"} if kind == "replay" else {}
    env = make(kind, lobster_files, action_type=action_type, **impact)
    for seed in range(3):
        env.reset(seed=seed)
        env.action_space.seed(seed)
        total, term = 0.0, False
        info: dict[str, Any] = {}
        while not term:
            obs, r, term, _, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs)
            total += r
        res = info["episode"]
        assert isinstance(res, EpisodeResult)
        assert total == pytest.approx(-res.is_bps, rel=1e-9, abs=1e-9)
        parts = res.spread_bps + res.impact_bps + res.timing_bps
        assert res.is_bps == pytest.approx(parts, rel=1e-9, abs=1e-9)
        assert res.executed_qty == res.parent_qty and res.remaining[-1] == 0
        avg_is = res.side * (res.avg_price - res.arrival_mid) / res.arrival_mid * 1e4
        assert res.is_bps == pytest.approx(avg_is, rel=1e-9, abs=1e-9)


def test_replay_impact_model_shows_up_as_impact(lobster_files: tuple[str, str]) -> None:
    out = {}
    for impact in (None, "default"):
        cfg = replay_config(lobster_files).with_overrides(impact=impact, parent_qty=600)
        env = ExecutionEnv(cfg)
        env.reset(seed=2)
        out[impact] = _finish(env, env.action_from_child(100, "cross"))["episode"]
    # our sales push the mid we trade at below the recorded one: a cost
    assert out["default"].impact_bps > out[None].impact_bps >= 0
    assert out["default"].impact_bps > 0.1


def test_gate_blocks_an_order_above_max_order_qty(lobster_files: tuple[str, str]) -> None:
    env = make("replay", lobster_files, parent_qty=300, limits={"max_order_qty": 50})
    env.reset(seed=1)
    _, _, _, _, info = env.step(env.action_from_child(120, "cross"))
    (denial,) = info["denials"]
    assert denial["check"] == "order_qty" and "exceeds 50" in denial["reason"]
    assert info["filled"] == 0
    _, _, _, _, info = env.step(env.action_from_child(40, "cross"))
    assert "denials" not in info and info["filled"] > 0
    info = _finish(env, np.array([-1.0, 0.0]))
    res = info["episode"]
    assert res.executed_qty == 300 and res.n_orders >= 1 + -(-res.terminal_qty // 50)


def test_an_absurd_size_meets_the_position_limit(lobster_files: tuple[str, str]) -> None:
    env = make("replay", lobster_files)
    env.reset(seed=1)
    _, _, _, _, info = env.step(np.array([5.0, 1.0]))  # three times what is left
    assert info["denials"][0]["check"] in ("order_qty", "position")
    _, _, _, _, info = env.step(np.array([-3.0, 1.0]))  # a negative size
    assert info["denials"][0]["check"] == "input"


def test_discrete_index_out_of_range_is_denied(lobster_files: tuple[str, str]) -> None:
    env = make("replay", lobster_files, action_type="discrete")
    for bad in (99, -1, np.inf, np.nan, 2.5, "x", [1, 2]):
        env.reset(seed=1)
        _, _, _, _, info = env.step(bad)
        assert info["denials"][0]["check"] == "action", bad
        assert "0..17" in info["denials"][0]["reason"]
    env.reset(seed=1)
    _, _, _, _, info = env.step(np.array(5))  # 1x the TWAP size, crossing
    assert "denials" not in info and info["filled"] > 0


def test_passive_child_rests_and_is_replaced(lobster_files: tuple[str, str]) -> None:
    env = make("replay", lobster_files, parent_qty=200)
    env.reset(seed=4)
    sim = env.venue.sim
    env.step(env.action_from_child(100, "passive"))
    (resting,) = sim.open_orders()  # type: ignore[attr-defined]
    assert resting.side == -1 and resting.qty == 100
    env.step(env.action_from_child(0, "cross"))  # zero: leave it alone
    still = sim.open_orders()  # type: ignore[attr-defined]
    assert [o.client_id for o in still] in ([], [resting.client_id])
    env.step(env.action_from_child(10, "cross"))  # a new child replaces it
    assert sim.open_orders() == []  # type: ignore[attr-defined]


def test_signal_channel_carries_the_reset_option(lobster_files: tuple[str, str]) -> None:
    env = make("replay", lobster_files, signal=True)
    assert env.obs_names[-1] == "signal"
    obs, _ = env.reset(seed=0, options={"signal": 0.7})
    assert obs[-1] == pytest.approx(0.7)
    obs, _ = env.reset(seed=0, options={"signal": [0.1, -2.0, 3.0]})
    assert obs[-1] == pytest.approx(0.1)
    obs, *_ = env.step(np.array([-1.0, 0.0]))
    assert obs[-1] == pytest.approx(-2.0)
    obs, _ = env.reset(seed=0, options={"signal": lambda t: 99.0})
    assert obs[-1] == 10.0  # clipped to the bound


def test_start_options_and_episode_starts(lobster_files: tuple[str, str]) -> None:
    env = make("replay", lobster_files)
    starts = env.episode_starts(5, seed=3)
    assert starts == env.episode_starts(5, seed=3) != env.episode_starts(5, seed=4)
    lo = env.venue.midnight_ns + int((OPEN + 90) * 1e9)
    assert all(lo <= s <= lo + int(510 * 1e9) for s in starts)
    _, info = env.reset(seed=9, options={"start_ns": starts[2]})
    assert info["start_ns"] == starts[2]
    with pytest.raises(ConfigError, match="start_ns"):
        env.reset(options={"start_ns": starts[2] + 10**15})


def test_exec_state_and_action_from_child(lobster_files: tuple[str, str]) -> None:
    env = make("replay", lobster_files, parent_qty=120)
    env.reset(seed=2)
    st = env.exec_state()
    assert st.remaining[0] == 120 and st.step[0] == 0 and st.n_steps == 6 and st.side == -1
    assert np.isfinite(st.market_volume[0]) and st.impact[0] == 0.0
    a = env.action_from_child(20.4, "cross")
    assert a[1] == 1.0 and (a[0] + 1) / 2 * 120 == pytest.approx(20.0)
    _, _, _, _, info = env.step(a)
    assert info["filled"] == 20


def test_config_is_strict_and_round_trips(lobster_files: tuple[str, str]) -> None:
    cfg = replay_config(lobster_files, limits={"max_order_qty": 7}, impact="default")
    again = ExecEnvConfig.from_dict(cfg.to_dict())
    assert again == cfg
    with pytest.raises(ConfigError, match="unknown key"):
        ExecEnvConfig.from_dict({**cfg.to_dict(), "horizon": 3})
    with pytest.raises(ConfigError, match="unknown key"):
        MarketConfig.from_dict({"kind": "agents", "sed": 1})
    with pytest.raises(ConfigError, match="limits: unknown"):
        replay_config(lobster_files, limits={"max_qty": 1})
    with pytest.raises(ConfigError, match="message"):
        MarketConfig(kind="replay")
    with pytest.raises(ConfigError, match="start_window_s must lie within"):
        ExecutionEnv(replay_config(lobster_files, start_window_s=(OPEN, OPEN + 10)))
    with pytest.raises(ConfigError, match="side"):
        replay_config(lobster_files, side=2)


def test_parent_qty_defaults_to_participation_of_expected_volume(
    lobster_files: tuple[str, str],
) -> None:
    env = make("replay", lobster_files, participation=0.1)
    expected = 0.1 * env.venue.rate * 120.0
    assert env.parent_qty == max(round(expected), 1)


def test_episode_result_reads_as_sb3_episode_stats(lobster_files: tuple[str, str]) -> None:
    env = make("replay", lobster_files)
    env.reset(seed=0)
    res = _finish(env, np.array([0.0, 1.0]))["exec_result"]
    assert res["r"] == -res.is_bps and res["l"] == res.steps
    d = res.to_dict()
    assert isinstance(d["remaining"], list) and len(d["remaining"]) == 6
    assert Path(env.config.market.message or "").exists()


def test_limit_price_anchors_passive_mid_and_cross() -> None:
    from tradelearn.execution.sim_obs import limit_price, read_quote

    # asks 578.11 x100, 578.16 x9; bids 577.81 x100, 577.80 x100; tick one cent
    snap = np.array([5781100, 100, 5778100, 100, 5781600, 9, 5778000, 100], dtype=np.int64)
    quote = np.zeros(3)
    assert read_quote(snap, quote) == 5779600.0
    buy = [limit_price(snap, quote, 2, 1, 105.0, off, 100) for off in (-1.0, 0.0, 1.0)]
    assert buy == [(5778100.0, False), (5779600.0, False), (5781600.0, True)]
    sell = [limit_price(snap, quote, 2, -1, 50.0, off, 100) for off in (-1.0, 0.0, 1.0)]
    assert sell == [(5781100.0, False), (5779600.0, False), (5778100.0, True)]
    assert np.isnan(limit_price(snap, quote, 2, -1, 50.0, np.nan, 100)[0])


@pytest.mark.parametrize("kind", ["replay", "agents"])
def test_with_latency_replacing_a_resting_child_never_overfills(
    kind: str, lobster_files: tuple[str, str]
) -> None:
    env = make(kind, lobster_files, parent_qty=200, latency_ns=(0, 200_000, 300_000))
    for seed in range(3):
        env.reset(seed=seed)
        term, k = False, 0
        info: dict[str, Any] = {}
        while not term:  # re-post what is left passively, then cross with it
            x = env.exec_state().remaining[0]
            _, _, term, _, info = env.step(
                env.action_from_child(x, "passive" if k < 4 else "cross")
            )
            assert "denials" not in info  # the cancel was confirmed before the new child
            k += 1
        res = info["episode"]
        assert res.executed_qty == 200 and res.denials == 0
