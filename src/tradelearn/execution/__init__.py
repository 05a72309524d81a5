"""Optimal execution: model worlds with closed-form optima, environments, policies, agents.

Importing this package registers ``tradelearn/ModelExecution-v0`` with Gymnasium, so
``gymnasium.make("tradelearn/ModelExecution-v0", world="ac")`` works after
``import tradelearn.execution``. The registration names the entry point as a string: the
environment module (and Stable-Baselines3 with it) loads only when an environment is made.

Modules, upstream first: :mod:`~tradelearn.execution.worlds` (parameters, dynamics, exact
optima), :mod:`~tradelearn.execution.reward` (the reward), :mod:`~tradelearn.execution.model_env`
(batched and single environments), :mod:`~tradelearn.execution.policies` (one interface for
baselines and learned agents), :mod:`~tradelearn.execution.train` (PPO and double DQN),
:mod:`~tradelearn.execution.evaluate_models` (gaps to the optimum).
"""

from __future__ import annotations

import gymnasium

MODEL_ENV_ID = "tradelearn/ModelExecution-v0"

if MODEL_ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=MODEL_ENV_ID,
        entry_point="tradelearn.execution.model_env:ModelExecutionEnv",
    )

__all__ = ["MODEL_ENV_ID"]
