"""The episode runner: same episodes for every policy, baselines as hand-driven, repeatable."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.execution.policies import POV, TWAP, VWAP, SubmitAndLeave
from tradelearn.execution.runner import episode_market_seed, run_episodes, volume_profile
from tradelearn.execution.sim_env import EpisodeResult, ExecEnvConfig, ExecutionEnv, MarketConfig
from tradelearn.sim.generate import generate_day, write_day

OPEN = 34_200.0


@pytest.fixture(scope="module")
def replay_cfg(tmp_path_factory: pytest.TempPathFactory) -> ExecEnvConfig:
    day = generate_day(seed=12, seconds=900, levels=10)
    m, o = write_day(day, tmp_path_factory.mktemp("market"))
    return ExecEnvConfig(
        market=MarketConfig(kind="replay", message=str(m), orderbook=str(o)),
        horizon_s=120.0,
        n_steps=6,
        vol_window=3,
        start_window_s=(OPEN + 90.0, OPEN + 600.0),
        parent_qty=300,
    )


@pytest.fixture(scope="module")
def agents_cfg() -> ExecEnvConfig:
    return ExecEnvConfig(
        market=MarketConfig(kind="agents", seed=1, session_s=900.0),
        horizon_s=120.0,
        n_steps=6,
        vol_window=3,
        start_window_s=(OPEN + 90.0, OPEN + 400.0),
        parent_qty=300,
    )


class Constant:
    """A learned agent stand-in: always the same action."""

    name = "constant"

    def act(self, obs: np.ndarray) -> np.ndarray:
        assert obs.dtype == np.float32
        return np.array([-0.5, 1.0], dtype=np.float32)


def hand_twap(cfg: ExecEnvConfig, start: int, market_seed: int, seed: int) -> EpisodeResult:
    env = ExecutionEnv(cfg)
    env.reset(seed=seed, options={"start_ns": start, "market_seed": market_seed})
    k, term = 0, False
    info: dict[str, Any] = {}
    while not term:
        x = env.exec_state().remaining[0]
        child = x if k == cfg.n_steps - 1 else x / (cfg.n_steps - k)
        _, _, term, _, info = env.step(env.action_from_child(child, "cross"))
        k += 1
    return info["episode"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("market", ["replay", "agents"])
def test_twap_through_the_runner_equals_hand_driven_twap(
    market: str, replay_cfg: ExecEnvConfig, agents_cfg: ExecEnvConfig
) -> None:
    cfg = replay_cfg if market == "replay" else agents_cfg
    starts = ExecutionEnv(cfg).episode_starts(3, seed=8)
    out = run_episodes(cfg, [TWAP()], starts, seed=40)
    for i, (start, res) in enumerate(zip(starts, out["twap"], strict=True)):
        assert res == hand_twap(cfg, start, episode_market_seed(40, i), 40 + i)
        assert res.executed_qty == 300 and res.start_ns == start
        assert res.n_orders >= 5  # one child a step (the last may liquidate)


@pytest.mark.parametrize("market", ["replay", "agents"])
def test_every_policy_meets_the_same_episodes_and_runs_repeat(
    market: str, replay_cfg: ExecEnvConfig, agents_cfg: ExecEnvConfig
) -> None:
    cfg = replay_cfg if market == "replay" else agents_cfg
    starts = ExecutionEnv(cfg).episode_starts(2, seed=1)
    policies: list[Any] = [TWAP(), POV(0.1), SubmitAndLeave(), Constant()]
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))

    first = run_episodes(cfg, policies, starts, seed=5, progress=progress)
    again = run_episodes(cfg, policies, starts, seed=5)
    assert first == again
    assert seen == [(i + 1, 8) for i in range(8)]
    assert set(first) == {"twap", "pov0.1", "submit_and_leave", "constant"}
    for results in first.values():
        assert [r.start_ns for r in results] == starts
        assert [r.market_seed for r in results] == [episode_market_seed(5, i) for i in range(2)]
        assert [r.arrival_mid for r in results] == [r.arrival_mid for r in first["twap"]]
        for r in results:
            assert r.is_bps == pytest.approx(r.spread_bps + r.impact_bps + r.timing_bps, abs=1e-9)
            assert r.executed_qty == r.parent_qty
    # submit-and-leave rests once and only the liquidation follows
    for r in first["submit_and_leave"]:
        assert r.n_orders == 1 + (r.terminal_qty > 0)
        if market == "replay":  # passive fills leave the recorded book as it was
            assert r.impact_bps == 0.0
    assert first["twap"] != first["pov0.1"]


def test_volume_profile_feeds_vwap(replay_cfg: ExecEnvConfig) -> None:
    starts = ExecutionEnv(replay_cfg).episode_starts(3, seed=2)
    vols = volume_profile(replay_cfg, starts)
    assert vols.shape == (3, 6) and np.all(vols >= 0) and vols.sum() > 0
    day = ExecutionEnv(replay_cfg).venue.day  # type: ignore[attr-defined]
    ts = day.events["ts_exchange"]
    dt = 20 * 10**9
    for row, start in zip(vols, starts, strict=True):
        lo, hi = np.searchsorted(ts, [start, start + 6 * dt], side="right")
        assert row.sum() == day.exec_cum[hi] - day.exec_cum[lo]
    out = run_episodes(replay_cfg, [VWAP.from_volumes(vols)], starts[:1], seed=0)
    assert out["vwap"][0].executed_qty == 300


class Nameless:
    name = "nothing"


def test_policies_need_distinct_names(replay_cfg: ExecEnvConfig) -> None:
    with pytest.raises(ConfigError, match="distinct"):
        run_episodes(replay_cfg, [TWAP(), TWAP()], [0], seed=0)
    with pytest.raises(ConfigError, match="child_qty"):
        run_episodes(replay_cfg, [Nameless()], [0], seed=0)  # type: ignore[list-item]
