"""Optimal execution: model worlds with closed-form optima, environments, policies, agents.

Importing this package registers ``tradelearn/ModelExecution-v0`` and
``tradelearn/Execution-v0`` (the simulator, :mod:`~tradelearn.execution.sim_env`) with
Gymnasium, so ``gymnasium.make("tradelearn/ModelExecution-v0", world="ac")`` and
``gymnasium.make("tradelearn/Execution-v0", market="agents")`` work after
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
EXEC_ENV_ID = "tradelearn/Execution-v0"

if MODEL_ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=MODEL_ENV_ID,
        entry_point="tradelearn.execution.model_env:ModelExecutionEnv",
    )
if EXEC_ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=EXEC_ENV_ID,
        entry_point="tradelearn.execution.sim_env:ExecutionEnv",
    )

__all__ = ["EXEC_ENV_ID", "MODEL_ENV_ID"]
