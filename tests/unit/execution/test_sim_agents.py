"""Agents and baselines on the simulator: windows, the training monitor, calibration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from tradelearn.errors import ConfigError
from tradelearn.execution.agents import (
    ExecutionMonitor,
    MonitorLog,
    almgren_chriss_policy,
    build_policy,
    calibrate,
    parse_window,
)
from tradelearn.execution.exec_config import ExecEnvConfig, MarketConfig
from tradelearn.execution.policies import POV, TWAP, VWAP


def test_parse_window_reads_hours_and_rejects_nonsense() -> None:
    assert parse_window("12:00-15:00") == (43_200.0, 54_000.0)
    assert parse_window("09:45:30-10:00") == (35_130.0, 36_000.0)
    for bad in ("noon", "12-15", "15:00-12:00", "25:00-26:00", "12:00"):
        with pytest.raises(ConfigError, match=r"HH:MM-HH:MM|must end after"):
            parse_window(bad)


class _Result:
    is_bps = 4.5


class _ThreeSteps(gymnasium.Env[np.ndarray, int]):
    observation_space = spaces.Box(0.0, 1.0, (1,))
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:  # type: ignore[type-arg]
        self.k = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:  # type: ignore[type-arg]
        self.k += 1
        done = self.k == 3
        info: dict[str, Any] = {"episode": _Result()} if done else {}
        return np.zeros(1, dtype=np.float32), -1.5, done, False, info


def test_monitor_gives_sb3_its_episode_record_and_writes_the_curve(tmp_path: Path) -> None:
    log = MonitorLog(tmp_path / "monitor.csv")
    env = ExecutionMonitor(_ThreeSteps(), log)
    env.reset()
    infos = [env.step(0)[4] for _ in range(3)]
    log.close()
    ep = infos[-1]["episode"]
    assert ep["r"] == -4.5 and ep["l"] == 3 and ep["is_bps"] == 4.5
    assert isinstance(infos[-1]["execution"], _Result)
    rows = (tmp_path / "monitor.csv").read_text().splitlines()
    assert rows == ["timesteps,is_bps,reward,length", "3,4.5,-4.5,3"]


@pytest.fixture(scope="module")
def small() -> ExecEnvConfig:
    return ExecEnvConfig(market=MarketConfig(kind="agents", seed=3), horizon_s=300.0, n_steps=5)


def test_calibration_on_training_episodes_fits_vwap_and_ac(small: ExecEnvConfig) -> None:
    cal = calibrate(small, 2, seed=4)
    assert len(cal.vwap_profile) == 5 and sum(cal.vwap_profile) == pytest.approx(1.0)
    assert all(v >= 0 for v in cal.ac.values()) and cal.ac["volatility"] > 0
    assert cal.fills >= 3 and cal.market["seed"] == 3
    json.dumps(cal.to_dict())
    # zero risk aversion: Almgren-Chriss's optimum is TWAP
    ac = almgren_chriss_policy(cal, small, parent_qty=500.0, risk_aversion_bps=0.0)
    np.testing.assert_allclose(ac.gains(5)[:, 0], 1.0 / (5 - np.arange(5)), rtol=1e-9)
    eager = almgren_chriss_policy(cal, small, parent_qty=500.0, risk_aversion_bps=50.0)
    assert eager.gains(5)[0, 0] > 0.2  # front-loads


def test_build_policy_names_and_errors(small: ExecEnvConfig, tmp_path: Path) -> None:
    assert isinstance(build_policy("twap", small, None), TWAP)
    pov = build_policy("pov:0.1", small, None)
    assert isinstance(pov, POV) and pov.rate == 0.1
    assert build_policy("pov", small, None).rate == small.participation
    with pytest.raises(ConfigError, match="needs a calibration"):
        build_policy("vwap", small, None)
    with pytest.raises(ConfigError, match="unknown policy 'xyz'"):
        build_policy("xyz", small, None)
    with pytest.raises(ConfigError, match=r"no config\.json"):
        build_policy(str(tmp_path), small, None)
    (tmp_path / "config.json").write_text(json.dumps({"env_id": "tradelearn/ModelExecution-v0"}))
    with pytest.raises(ConfigError, match="exec evaluate-model"):
        build_policy(str(tmp_path), small, None)


def test_vwap_from_calibration_follows_the_profile(small: ExecEnvConfig) -> None:
    from tradelearn.execution.agents import Calibration

    cal = Calibration([0.4, 0.3, 0.1, 0.1, 0.1], {}, 1.0, 1.0, 1, 3, {}, (0.0, 1.0))
    vwap = build_policy("vwap", small, cal)
    assert isinstance(vwap, VWAP)
    np.testing.assert_allclose(vwap.profile, [0.4, 0.3, 0.1, 0.1, 0.1])


def test_both_sides_alternates_the_copies_sides(small: ExecEnvConfig, tmp_path: Path) -> None:
    from tradelearn.execution.agents import make_exec_vec_env

    vec, log = make_exec_vec_env(small, 4, tmp_path / "m.csv", both_sides=True)
    assert [e.unwrapped.config.side for e in vec.envs] == [-1, 1, -1, 1]  # type: ignore[attr-defined]
    assert log is not None
    log.close()
    with pytest.raises(ConfigError, match="at least 2"):
        make_exec_vec_env(small, 1, both_sides=True)
