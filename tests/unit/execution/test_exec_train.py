"""Training runs: config checks, files written, the saved agent loads behind the interface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradelearn.errors import ConfigError
from tradelearn.execution.evaluate_models import evaluate_policy
from tradelearn.execution.policies import ExecutionPolicy, SB3Policy
from tradelearn.execution.train import TrainConfig, train
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
