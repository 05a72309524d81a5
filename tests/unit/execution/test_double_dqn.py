"""Double DQN: the online network chooses the next action, the target network values it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch as th

from tradelearn.errors import ConfigError
from tradelearn.execution import train as train_module
from tradelearn.execution.model_env import ModelExecutionVecEnv
from tradelearn.execution.train import DoubleDQN, double_dqn_targets, dqn_targets


def _batch() -> dict[str, th.Tensor]:
    return dict(
        q_online_next=th.tensor([[1.0, 5.0], [3.0, 2.0], [0.0, 9.0]]),
        q_target_next=th.tensor([[4.0, 0.0], [1.0, 6.0], [2.0, 7.0]]),
        rewards=th.tensor([[1.0], [1.0], [-1.0]]),
        dones=th.tensor([[0.0], [0.0], [1.0]]),
    )


def test_double_dqn_target_values_the_online_choice_with_the_target_network() -> None:
    b = _batch()
    target = double_dqn_targets(
        b["q_online_next"], b["q_target_next"], b["rewards"], b["dones"], 0.5
    )
    # online picks action 1, 0, 1; the target net values them 0, 1 (and the done row ends)
    assert target.flatten().tolist() == [1.0, 1.5, -1.0]


def test_double_dqn_target_differs_from_sb3_dqn_max_target() -> None:
    b = _batch()
    plain = dqn_targets(b["q_target_next"], b["rewards"], b["dones"], 0.5)
    assert plain.flatten().tolist() == [3.0, 4.0, -1.0]
    double = double_dqn_targets(
        b["q_online_next"], b["q_target_next"], b["rewards"], b["dones"], 0.5
    )
    assert not th.equal(plain, double)
    assert th.all(double <= plain)  # double DQN never bootstraps higher than the max


def test_double_dqn_train_uses_the_double_target(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = train_module.double_dqn_targets

    def spy(*args: th.Tensor) -> th.Tensor:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(train_module, "double_dqn_targets", spy)
    th.set_num_threads(1)
    env = ModelExecutionVecEnv("ac", 4, action_type="discrete", seed=0)
    model = DoubleDQN(
        "MlpPolicy", env, learning_starts=40, batch_size=8, train_freq=1, seed=0, device="cpu"
    )
    model.learn(80)
    assert calls, "DoubleDQN.train did not use double_dqn_targets"
    online, target = calls[0][0], calls[0][1]
    assert online.shape == target.shape == (8, env.action_space.n)  # type: ignore[attr-defined]
    assert model._n_updates >= 1


def test_weight_averaging_leaves_the_averaged_network_after_learning(tmp_path: Path) -> None:
    th.set_num_threads(1)
    env = ModelExecutionVecEnv("ac", 4, action_type="discrete", seed=1)
    model = DoubleDQN(
        "MlpPolicy",
        env,
        learning_starts=20,
        batch_size=8,
        seed=1,
        device="cpu",
        loss="mse",
        average_decay=0.9,
    )
    model.learn(120)
    assert model._averaged is not None
    for net in (model.q_net, model.q_net_target):
        for p, avg in zip(net.parameters(), model._averaged, strict=True):
            assert th.equal(p, avg)
    path = tmp_path / "m.zip"
    model.save(path)
    loaded = DoubleDQN.load(path, device="cpu")
    assert loaded.loss == "mse" and loaded.average_decay == 0.9
    obs = th.zeros((1, *env.observation_space.shape))  # type: ignore[misc]
    assert th.equal(loaded.q_net(obs), model.q_net(obs))


def test_double_dqn_rejects_an_unknown_loss() -> None:
    env = ModelExecutionVecEnv("ac", 2, action_type="discrete", seed=0)
    with pytest.raises(ConfigError, match="loss must be 'huber' or 'mse', actually: 'l1'"):
        DoubleDQN("MlpPolicy", env, loss="l1", device="cpu")
