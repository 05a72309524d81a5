"""Train PPO and double DQN on the execution environments with Stable-Baselines3.

:func:`train` runs one algorithm with one torch thread, a rich progress bar on stderr,
TensorBoard logs (``DIR/tb``), checkpoints (``DIR/checkpoints``), and writes
``DIR/model.zip`` with ``DIR/config.json`` beside it (the environment, the algorithm and
every hyperparameter, the seed, the versions and the time taken). Two environments:

* ``tradelearn/ModelExecution-v0``: the batched model worlds (``world`` ac, ow or cj);
  :meth:`~tradelearn.execution.policies.SB3Policy.load` reads the result;
* ``tradelearn/Execution-v0``: the simulator (replay of LOBSTER files or the agent-based
  market), configured by ``env_params`` (an ``ExecEnvConfig`` as a dict); several copies run
  in one process, each episode's shortfall goes to ``DIR/monitor.csv`` and to TensorBoard
  as ``execution/is_bps``; :func:`~tradelearn.execution.agents.load_agent` reads the result.

Stable-Baselines3's ``DQN`` takes the target network's maximum for the bootstrap, which
overestimates (van Hasselt 2010). :class:`DoubleDQN` overrides ``train`` to pick the next
action with the online network and value it with the target network (van Hasselt, Guez and
Silver, "Deep reinforcement learning with double Q-learning", AAAI 2016):

.. math::

    y = r + \\gamma (1 - d)\\, Q_{\\bar\\theta}\\bigl(s', \\arg\\max_{a'} Q_\\theta(s', a')\\bigr).
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import stable_baselines3
import torch as th
import torch.nn.functional as F
from gymnasium import spaces
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, create_mlp
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn

from tradelearn import __version__
from tradelearn.errors import ConfigError
from tradelearn.execution import MODEL_ENV_ID
from tradelearn.execution.model_env import DEFAULT_GRID, OBS_NAMES, ModelExecutionVecEnv
from tradelearn.execution.worlds import make_world

EXEC_ENV_ID = "tradelearn/Execution-v0"
ENV_IDS = (MODEL_ENV_ID, EXEC_ENV_ID)


def dqn_targets(
    q_target_next: th.Tensor, rewards: th.Tensor, dones: th.Tensor, discounts: th.Tensor | float
) -> th.Tensor:
    """Stable-Baselines3's DQN bootstrap: the target network's maximum."""
    best = q_target_next.max(dim=1, keepdim=True).values
    return rewards + (1 - dones) * discounts * best


def double_dqn_targets(
    q_online_next: th.Tensor,
    q_target_next: th.Tensor,
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
) -> th.Tensor:
    """Double DQN's bootstrap: the online network chooses, the target network values."""
    choice = q_online_next.argmax(dim=1, keepdim=True)
    return rewards + (1 - dones) * discounts * th.gather(q_target_next, 1, choice)


class DoubleDQN(DQN):
    """Stable-Baselines3's DQN with the double-DQN target (:func:`double_dqn_targets`).

    Two options beyond SB3's: ``loss`` (``"huber"``, SB3's, or ``"mse"``: the efficient
    choice when the TD noise is Gaussian, as the price noise here is) and
    ``average_decay``: when positive, an exponential moving average of the online network's
    weights is kept and becomes the network at the end of :meth:`learn` (weight averaging
    damps the noise that the last updates leave in the greedy action).
    """

    def __init__(
        self, *args: Any, loss: str = "huber", average_decay: float = 0.0, **kwargs: Any
    ) -> None:
        if loss not in ("huber", "mse"):
            raise ConfigError(f"loss must be 'huber' or 'mse', actually: {loss!r}")
        if not 0.0 <= average_decay < 1.0:
            raise ConfigError(f"average_decay must be in [0, 1), actually: {average_decay!r}")
        self.loss = loss
        self.average_decay = average_decay
        self._averaged: list[th.Tensor] | None = None
        super().__init__(*args, **kwargs)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_averaged"]

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses = []
        loss_fn = F.mse_loss if self.loss == "mse" else F.smooth_l1_loss
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = data.discounts if data.discounts is not None else self.gamma
            with th.no_grad():
                target = double_dqn_targets(
                    self.q_net(data.next_observations),
                    self.q_net_target(data.next_observations),
                    data.rewards,
                    data.dones,
                    discounts,
                )
            current = th.gather(self.q_net(data.observations), 1, data.actions.long())
            loss = loss_fn(current, target)
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
            self._update_average()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))

    def _update_average(self) -> None:
        if self.average_decay <= 0.0:
            return
        params = [p.detach() for p in self.q_net.parameters()]
        if self._averaged is None:
            self._averaged = [p.clone() for p in params]
            return
        with th.no_grad():
            for avg, p in zip(self._averaged, params, strict=True):
                avg.mul_(self.average_decay).add_(p, alpha=1.0 - self.average_decay)

    def learn(self, *args: Any, **kwargs: Any) -> DoubleDQN:
        out = super().learn(*args, **kwargs)
        if self._averaged is not None:
            with th.no_grad():
                for net in (self.q_net, self.q_net_target):
                    for p, avg in zip(net.parameters(), self._averaged, strict=True):
                        p.copy_(avg)
        return out


PRICE_FEATURES = ("price_move", "remainder_mark")
"""Observation features that carry the price move (hidden from price-blind heads)."""


def _feature_mask(dim: int, hidden: tuple[str, ...]) -> th.Tensor:
    mask = th.ones(dim)
    mask[[OBS_NAMES.index(name) for name in hidden]] = 0.0
    return mask


class _DuelingHead(nn.Module):
    """:math:`Q(s, a) = V(s) + A(s', a) - \\frac{1}{|A|}\\sum_b A(s', b)`: value and
    advantage streams, each its own MLP; :math:`s'` is :math:`s` with the ``hidden``
    features zeroed (none unless asked)."""

    def __init__(
        self,
        in_dim: int,
        arch: list[int],
        activation: type[nn.Module],
        n_actions: int,
        hidden: tuple[str, ...],
    ) -> None:
        super().__init__()
        self.value = nn.Sequential(*create_mlp(in_dim, 1, arch, activation))
        self.advantage = nn.Sequential(*create_mlp(in_dim, n_actions, arch, activation))
        self.mask: th.Tensor
        self.register_buffer("mask", _feature_mask(in_dim, hidden))

    def forward(self, x: th.Tensor) -> th.Tensor:
        a = self.advantage(x * self.mask)
        out: th.Tensor = self.value(x) + a - a.mean(dim=1, keepdim=True)
        return out


class DuelingQNetwork(QNetwork):
    """SB3's Q-network with a dueling head (Wang et al., "Dueling network architectures for
    deep reinforcement learning", ICML 2016): the state's value, which carries the large
    mark-to-market of the remainder, is learned apart from the small differences between
    child-order sizes that decide the greedy action."""

    hidden_features: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.q_net = _DuelingHead(  # type: ignore[assignment]
            self.features_dim,
            self.net_arch,
            self.activation_fn,
            int(self.action_space.n),
            self.hidden_features,
        )


class PriceBlindDuelingQNetwork(DuelingQNetwork):
    """Dueling Q-network whose advantage stream does not see the price features (see
    :class:`PriceBlindActorPolicy` for why)."""

    hidden_features = PRICE_FEATURES


class DuelingDQNPolicy(DQNPolicy):
    """:class:`DQNPolicy` whose online and target networks are :class:`DuelingQNetwork`."""

    q_network_class: type[DuelingQNetwork] = DuelingQNetwork

    def make_q_net(self) -> QNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return self.q_network_class(**net_args).to(self.device)


class PriceBlindDuelingDQNPolicy(DuelingDQNPolicy):
    """:class:`DuelingDQNPolicy` with :class:`PriceBlindDuelingQNetwork`."""

    q_network_class = PriceBlindDuelingQNetwork


class MaskedFlatten(BaseFeaturesExtractor):
    """Flattens the observation and zeroes the features named in ``hidden``."""

    def __init__(self, observation_space: spaces.Box, hidden: tuple[str, ...] = ()) -> None:
        dim = int(np.prod(observation_space.shape))
        super().__init__(observation_space, features_dim=dim)
        self.mask: th.Tensor
        self.register_buffer("mask", _feature_mask(dim, hidden))

    def forward(self, observations: th.Tensor) -> th.Tensor:
        out: th.Tensor = th.flatten(observations, start_dim=1) * self.mask
        return out


class PriceBlindActorPolicy(ActorCriticPolicy):
    """Actor-critic whose actor does not see the price features; the critic sees everything.

    In the model worlds the optimal child order does not depend on the price move (the
    problems are linear-quadratic with additive noise: certainty equivalence), yet the
    cash reward does, so the critic needs it. An actor that sees it picks up a spurious
    reaction to noise that the weak curvature of the objective barely corrects, and pays for
    it (in the Obizhaeva-Wang world most of PPO's gap was that reaction). An option, off by
    default: in the replay market the price may matter for the decision.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["share_features_extractor"] = False
        super().__init__(*args, **kwargs)

    def _build(self, lr_schedule: Any) -> None:
        self.pi_features_extractor = MaskedFlatten(self.observation_space, PRICE_FEATURES)  # type: ignore[arg-type]
        super()._build(lr_schedule)


ALGOS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "dqn": DoubleDQN}
ACTION_TYPES = {"ppo": "continuous", "dqn": "discrete"}

DEFAULTS: dict[str, dict[str, Any]] = {
    "ppo": dict(
        n_envs=64,
        learning_rate=3e-4,
        n_steps=128,
        batch_size=2048,
        n_epochs=10,
        gamma=1.0,
        gae_lambda=0.95,
        ent_coef=0.0,
        policy_kwargs=dict(net_arch=[64, 64], log_std_init=-1.0),
        price_blind_actor=False,
    ),
    "dqn": dict(
        n_envs=16,
        learning_rate=5e-4,
        buffer_size=1_000_000,
        learning_starts=50_000,
        batch_size=512,
        gamma=1.0,
        train_freq=1,
        gradient_steps=1,
        target_update_interval=10_000,
        exploration_fraction=0.1,
        exploration_final_eps=0.02,
        n_steps=3,
        policy_kwargs=dict(net_arch=[64, 64]),
        dueling=False,
        price_blind_advantage=False,
        loss="huber",
        average_decay=0.9999,
    ),
}
"""Hyperparameters per algorithm (``n_envs`` is the number of batched environments;
``learning_rate`` decays linearly to ``final_lr_fraction`` of itself)."""

SIM_DEFAULTS: dict[str, dict[str, Any]] = {
    "ppo": {
        **DEFAULTS["ppo"],
        "n_envs": 4,
        "n_steps": 256,
        "batch_size": 256,
        "n_epochs": 10,
        "policy_kwargs": dict(net_arch=[64, 64], log_std_init=-0.5),
    },
    "dqn": {
        **DEFAULTS["dqn"],
        "n_envs": 4,
        "buffer_size": 200_000,
        "learning_starts": 2_000,
        "batch_size": 128,
        "target_update_interval": 2_000,
        "exploration_fraction": 0.3,
        "exploration_final_eps": 0.05,
        "average_decay": 0.999,
    },
}
"""The same hyperparameters for the simulator environment, sized for its speed: a few
copies in one process (each step runs the market), shorter rollouts, an earlier start."""
FINAL_LR_FRACTION = {"ppo": 0.1, "dqn": 0.02}


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """What one training run needs; saved as ``config.json`` next to the model."""

    env_id: str = MODEL_ENV_ID
    world: str = "ac"
    world_params: dict[str, Any] = field(default_factory=dict)
    env_params: dict[str, Any] = field(default_factory=dict)
    """``tradelearn/Execution-v0`` only: its ``ExecEnvConfig`` as a dict (the market, the
    order, the start window...); ``action_type`` follows the algorithm."""
    algo: str = "ppo"
    timesteps: int = 100_000
    seed: int = 0
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    """Overrides of :data:`DEFAULTS` for the algorithm."""
    final_lr_fraction: float | None = None
    """The learning rate decays linearly to this fraction of itself (``None``: the
    algorithm's :data:`FINAL_LR_FRACTION`)."""
    checkpoints: int = 4
    """Checkpoints written over the run (0: none)."""
    time_budget_s: float | None = None
    """Stop training once this much wall-clock time has passed (``None``: no limit)."""
    grid: tuple[float, ...] = DEFAULT_GRID
    both_sides: bool = False
    """``tradelearn/Execution-v0`` only: half the environment copies buy, half sell. The
    observations are signed by the side, so one agent serves both; a drift of the training
    days then helps one half as much as it hurts the other, and the agent cannot learn to
    bet on it (with one replayed day, it otherwise does)."""

    def __post_init__(self) -> None:
        if self.env_id not in ENV_IDS:
            raise ConfigError(
                f"--env must be {MODEL_ENV_ID!r} or {EXEC_ENV_ID!r}, actually: {self.env_id!r}"
            )
        if self.algo not in ALGOS:
            raise ConfigError(f"--algo must be one of {sorted(ALGOS)}, actually: {self.algo!r}")
        if self.timesteps < 1:
            raise ConfigError(f"--timesteps must be positive, actually: {self.timesteps}")
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise ConfigError(f"time budget must be positive, actually: {self.time_budget_s}")
        unknown = sorted(set(self.hyperparameters) - set(DEFAULTS[self.algo]))
        if unknown:
            raise ConfigError(
                f"unknown {self.algo} hyperparameter(s) {unknown}; known: {sorted(DEFAULTS[self.algo])}"
            )
        if self.env_id == EXEC_ENV_ID:
            self.exec_config()  # fails early on a bad market or order
        else:
            if self.env_params:
                raise ConfigError(
                    f"env_params are for {EXEC_ENV_ID!r}; {MODEL_ENV_ID!r} takes world_params"
                )
            make_world(self.world, **self.world_params)  # fails early on a bad world
        hyper = self.resolved()
        if hyper.get("price_blind_advantage") and not hyper.get("dueling"):
            raise ConfigError(
                "price_blind_advantage needs dueling=True (it is the advantage stream)"
            )

    def lr_end(self) -> float:
        """The fraction of the learning rate left at the end of the run."""
        if self.final_lr_fraction is None:
            return FINAL_LR_FRACTION[self.algo]
        return self.final_lr_fraction

    def resolved(self) -> dict[str, Any]:
        """The algorithm's hyperparameters: the defaults with the overrides applied."""
        base = SIM_DEFAULTS if self.env_id == EXEC_ENV_ID else DEFAULTS
        return {**base[self.algo], **self.hyperparameters}

    def exec_config(self) -> Any:
        """The simulator environment's ``ExecEnvConfig`` with this algorithm's action type."""
        from tradelearn.execution.exec_config import ExecEnvConfig

        params = {**self.env_params, "action_type": ACTION_TYPES[self.algo]}
        try:
            return ExecEnvConfig.from_dict(params)
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"env_params: not an execution environment config: {exc}") from exc


class RichProgress(BaseCallback):
    """A rich progress bar on stderr over the run's timesteps."""

    def __init__(self, total: int, description: str, enabled: bool = True) -> None:
        super().__init__()
        self._total = total
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,} steps"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self._task = self._progress.add_task(description, total=total)

    def _on_training_start(self) -> None:
        self._progress.start()

    def _on_step(self) -> bool:
        if self.n_calls % 16 == 0:
            self._progress.update(self._task, completed=min(self.num_timesteps, self._total))
        return True

    def _on_training_end(self) -> None:
        self._progress.update(self._task, completed=min(self.num_timesteps, self._total))
        self._progress.stop()


class StopAfter(BaseCallback):
    """Ends training once ``seconds`` of wall-clock time have passed (a hook that stops the
    loop, as SB3's callbacks may)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.stopped = False
        self._deadline = 0.0

    def _on_training_start(self) -> None:
        self._deadline = time.perf_counter() + self.seconds

    def _on_step(self) -> bool:
        if time.perf_counter() >= self._deadline:
            self.stopped = True
        return not self.stopped


@dataclass(frozen=True)
class TrainResult:
    """Where the run wrote its files and how long it took."""

    out: Path
    model_path: Path
    config_path: Path
    seconds: float
    timesteps: int
    stopped_by_budget: bool


def _linear(start: float, end_fraction: float) -> Any:
    def schedule(progress_remaining: float) -> float:
        return start * (end_fraction + (1.0 - end_fraction) * progress_remaining)

    return schedule


def _policy_class(algo: str, hyper: dict[str, Any]) -> Any:
    """Pop the architecture switches from ``hyper``; the SB3 policy they choose."""
    if algo == "ppo":
        return PriceBlindActorPolicy if hyper.pop("price_blind_actor", False) else "MlpPolicy"
    dueling = bool(hyper.pop("dueling", False))
    blind = bool(hyper.pop("price_blind_advantage", False))
    if dueling:
        return PriceBlindDuelingDQNPolicy if blind else DuelingDQNPolicy
    return "MlpPolicy"


def train(config: TrainConfig, out: str | Path, *, progress: bool = True) -> TrainResult:
    """Train ``config.algo`` on the configured environment; save model, config and logs in
    ``out``.

    Runs with one torch thread; the environment, the algorithm and torch are seeded with
    ``config.seed``.
    """
    th.set_num_threads(1)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    hyper = config.resolved()
    n_envs = int(hyper.pop("n_envs"))
    action_type = ACTION_TYPES[config.algo]
    extra: list[BaseCallback] = []
    closer: Any = None
    env: Any
    if config.env_id == EXEC_ENV_ID:
        from tradelearn.execution.agents import ShortfallLog, make_exec_vec_env

        exec_cfg = config.exec_config()
        env, closer = make_exec_vec_env(
            exec_cfg, n_envs, root / "monitor.csv", both_sides=config.both_sides
        )
        extra.append(ShortfallLog())
        label = f"{config.algo} {exec_cfg.market.kind}"
        env_record: dict[str, Any] = {"world": None, "env": exec_cfg.to_dict()}
    else:
        world = make_world(config.world, **config.world_params)
        env = ModelExecutionVecEnv(
            world,
            n_envs,
            action_type=action_type,  # type: ignore[arg-type]
            grid=config.grid,
            seed=config.seed,
        )
        label = f"{config.algo} {config.world}"
        env_record = {"world": world.to_dict(), "world_name": config.world}
    lr = float(hyper.pop("learning_rate"))
    policy = _policy_class(config.algo, hyper)
    model = ALGOS[config.algo](
        policy,
        env,
        learning_rate=_linear(lr, config.lr_end()),
        seed=config.seed,
        device="cpu",
        tensorboard_log=str(root / "tb"),
        verbose=0,
        **hyper,
    )
    callbacks: list[BaseCallback] = [RichProgress(config.timesteps, label, enabled=progress)]
    callbacks.extend(extra)
    if config.checkpoints > 0:
        every = max(config.timesteps // (config.checkpoints * n_envs), 1)
        callbacks.append(CheckpointCallback(every, str(root / "checkpoints"), name_prefix="model"))
    budget = None if config.time_budget_s is None else StopAfter(config.time_budget_s)
    if budget is not None:
        callbacks.append(budget)
    start = time.perf_counter()
    try:
        model.learn(config.timesteps, callback=CallbackList(callbacks), tb_log_name=config.algo)
    finally:
        if closer is not None:
            closer.close()
    seconds = time.perf_counter() - start
    model_path = root / "model.zip"
    model.save(model_path)
    record = {
        **asdict(config),
        **env_record,
        "action_type": action_type,
        "grid": list(config.grid),
        "resolved_hyperparameters": {
            **hyper,
            "n_envs": n_envs,
            "learning_rate": lr,
            "final_lr_fraction": config.lr_end(),
        }
        | {"policy": policy if isinstance(policy, str) else policy.__name__},
        "timesteps_done": int(model.num_timesteps),
        "train_seconds": round(seconds, 3),
        "stopped_by_budget": budget is not None and budget.stopped,
        "torch_threads": th.get_num_threads(),
        "versions": {
            "tradelearn": __version__,
            "stable_baselines3": stable_baselines3.__version__,
            "torch": th.__version__,
            "gymnasium": gymnasium.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
    config_path = root / "config.json"
    config_path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    stopped = budget is not None and budget.stopped
    return TrainResult(root, model_path, config_path, seconds, int(model.num_timesteps), stopped)
