"""Training runs: config checks, files written, the saved agent loads behind the interface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch as th
from stable_baselines3 import PPO

from tradelearn.errors import ConfigError
from tradelearn.execution.evaluate_models import evaluate_policy
from tradelearn.execution.model_env import OBS_NAMES, ModelExecutionVecEnv
from tradelearn.execution.policies import ExecutionPolicy, SB3Policy
from tradelearn.execution.train import (
    DoubleDQN,
    PriceBlindActorPolicy,
    PriceBlindDuelingDQNPolicy,
    TrainConfig,
    train,
)
from tradelearn.execution.worlds import make_world


def test_config_rejects_unknown_algo_env_and_hyperparameters() -> None:
    with pytest.raises(ConfigError, match="--algo must be one of \\['dqn', 'ppo'\\]"):
        TrainConfig(algo="sac")
    with pytest.raises(ConfigError, match="--env must be 'tradelearn/ModelExecution-v0'"):
        TrainConfig(env_id="tradelearn/Replay-v0")
    with pytest.raises(ConfigError, match="unknown ppo hyperparameter\\(s\\) \\['n_step'\\]"):
        TrainConfig(hyperparameters={"n_step": 3})
    with pytest.raises(ConfigError, match="world must be one of"):
        TrainConfig(world="xy")


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_short_run_writes_model_config_logs_checkpoints_and_loads_as_a_policy(
    algo: str, tmp_path: Path
) -> None:
    hyper = (
        {"n_envs": 4, "n_steps": 16, "batch_size": 32, "n_epochs": 1}
        if algo == "ppo"
        else {"n_envs": 4, "learning_starts": 32, "batch_size": 16}
    )
    cfg = TrainConfig(world="ow", algo=algo, timesteps=256, seed=3, hyperparameters=hyper)
    result = train(cfg, tmp_path, progress=False)
    assert result.model_path.is_file()
    saved = json.loads(result.config_path.read_text())
    assert saved["algo"] == algo and saved["seed"] == 3 and saved["world"]["world"] == "ow"
    assert saved["resolved_hyperparameters"]["n_envs"] == 4
    assert saved["torch_threads"] == 1
    assert any((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert len(list((tmp_path / "checkpoints").glob("model_*_steps.zip"))) >= 2
    policy = SB3Policy.load(tmp_path)
    assert isinstance(policy, ExecutionPolicy)
    score = evaluate_policy(make_world("ow"), policy, episodes=50)
    assert score.episodes == 50 and score.gap_pct > -1e-9


def test_loading_a_folder_without_config_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no config\.json"):
        SB3Policy.load(tmp_path)


def _obs_varying_price(n: int = 8) -> th.Tensor:
    obs = th.zeros((n, len(OBS_NAMES)))
    obs[:, OBS_NAMES.index("time_left")] = 0.5
    obs[:, OBS_NAMES.index("twap_fraction")] = 0.2
    obs[:, OBS_NAMES.index("inventory_left")] = 0.6
    obs[:, OBS_NAMES.index("price_move")] = th.linspace(-2, 2, n)
    obs[:, OBS_NAMES.index("remainder_mark")] = 0.6 * th.linspace(-2, 2, n)
    return obs


def test_price_blind_actor_ignores_the_price_but_its_critic_does_not() -> None:
    th.set_num_threads(1)
    env = ModelExecutionVecEnv("ow", 4, seed=0)
    model = PPO(PriceBlindActorPolicy, env, n_steps=8, batch_size=16, seed=0, device="cpu")
    model.learn(64)
    obs = _obs_varying_price()
    with th.no_grad():
        mean = model.policy.get_distribution(obs).distribution.mean  # type: ignore[attr-defined]
        value = model.policy.predict_values(obs)
    assert th.allclose(mean, mean[0].expand_as(mean))
    assert not th.allclose(value, value[0].expand_as(value))


def test_price_blind_dueling_q_ranks_actions_whatever_the_price() -> None:
    th.set_num_threads(1)
    env = ModelExecutionVecEnv("ow", 4, action_type="discrete", seed=0)
    model = DoubleDQN(
        PriceBlindDuelingDQNPolicy, env, learning_starts=16, batch_size=8, device="cpu"
    )
    model.learn(64)
    with th.no_grad():
        q = model.q_net(_obs_varying_price())
    spread = q - q.mean(dim=1, keepdim=True)
    assert th.allclose(spread, spread[0].expand_as(spread), atol=1e-6)
    assert not th.allclose(q[:, 0], q[0, 0].expand(q.shape[0]))
    with pytest.raises(ConfigError, match="price_blind_advantage needs dueling=True"):
        TrainConfig(algo="dqn", hyperparameters={"price_blind_advantage": True})
