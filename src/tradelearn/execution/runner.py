"""Run execution policies over the same simulated episodes.

:func:`run_episodes` plays every policy on the same episodes of one
:class:`~tradelearn.execution.sim_env.ExecutionEnv`: the same start times and, in the agent
market, the same market seed per episode (episode ``i`` uses
:func:`episode_market_seed` ``(seed, i)``), so the policies meet the same market, up to
what their own orders change in it.

Two kinds of policy:

* **baselines** (:class:`~tradelearn.execution.policies.ExecutionPolicy`: TWAP, VWAP, POV,
  Almgren-Chriss...) read :meth:`~tradelearn.execution.sim_env.ExecutionEnv.exec_state`
  and answer a child size, sent through
  :meth:`~tradelearn.execution.sim_env.ExecutionEnv.action_from_child` crossing the spread;
  :class:`~tradelearn.execution.policies.SubmitAndLeave` rests the whole order at our best
  quote at the first decision and then leaves it (the environment liquidates what is left
  at the horizon's end). Use a continuous-action config for baselines: the discrete actions
  only approximate their sizes.
* **learned agents** (:class:`ObsPolicy`) act on the environment's observations;
  :class:`SB3ObsPolicy` wraps a Stable-Baselines3 model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError
from tradelearn.execution.exec_config import ExecEnvConfig
from tradelearn.execution.policies import ExecutionPolicy, SubmitAndLeave
from tradelearn.execution.sim_env import EpisodeResult, ExecutionEnv

Progress = Callable[[int, int], None]
"""Called after every episode with (episodes done, episodes in all)."""


@runtime_checkable
class ObsPolicy(Protocol):
    """A learned agent acting on the environment's observations."""

    name: str

    def act(self, obs: NDArray[np.float32]) -> NDArray[Any] | int:
        """The action for this observation."""
        ...


class SB3ObsPolicy:
    """A Stable-Baselines3 model's deterministic action as an :class:`ObsPolicy`."""

    def __init__(self, model: Any, name: str = "sb3") -> None:
        self.model = model
        self.name = name

    def act(self, obs: NDArray[np.float32]) -> NDArray[Any] | int:
        action, _ = self.model.predict(obs, deterministic=True)
        return action  # type: ignore[no-any-return]


def episode_market_seed(seed: int, episode: int) -> int:
    """The market seed of episode ``episode`` in a run seeded ``seed``."""
    state = np.random.SeedSequence([int(seed), int(episode)]).generate_state(1, dtype=np.uint32)
    return int(state[0] >> 1)


def volume_profile(
    config: ExecEnvConfig, starts: Sequence[int], seed: int = 0
) -> NDArray[np.float64]:
    """Market volume in each step of each episode (rows: ``starts``; columns: steps), the
    input of :meth:`~tradelearn.execution.policies.VWAP.from_volumes`.

    Replay: the recorded executions. Agents: the market of episode ``i`` (seed
    :func:`episode_market_seed` ``(seed, i)``) run without our orders. Build VWAP from
    training episodes' profiles, not from the episodes it is evaluated on.
    """
    env = ExecutionEnv(config)
    n, dt = config.n_steps, round(config.step_s * 1e9)
    out = np.zeros((len(starts), n))
    for i, start in enumerate(starts):
        env.reset(
            seed=seed + i,
            options={"start_ns": int(start), "market_seed": episode_market_seed(seed, i)},
        )
        venue = env.venue
        cum = venue.cum_volume()
        for k in range(n):
            venue.advance_to(int(start) + (k + 1) * dt)
            now = venue.cum_volume()
            out[i, k], cum = now - cum, now
    return out


def run_policy_episode(
    env: ExecutionEnv,
    policy: ExecutionPolicy | ObsPolicy,
    start_ns: int,
    market_seed: int,
    seed: int,
) -> EpisodeResult:
    """One episode of ``policy`` from ``start_ns`` with the given market seed."""
    obs, _ = env.reset(seed=seed, options={"start_ns": start_ns, "market_seed": market_seed})
    baseline = isinstance(policy, ExecutionPolicy)
    leave = isinstance(policy, SubmitAndLeave)
    if baseline:
        policy.reset(1)  # type: ignore[union-attr]
    info: dict[str, Any] = {}
    terminated = False
    k = 0
    while not terminated:
        if leave:
            state = env.exec_state()
            qty = float(state.remaining[0]) if k == 0 else 0.0
            action: Any = env.action_from_child(qty, "passive")
        elif baseline:
            qty = float(policy.child_qty(env.exec_state())[0])  # type: ignore[union-attr]
            action = env.action_from_child(qty, "cross")
        else:
            action = policy.act(obs)  # type: ignore[union-attr]
        obs, _, terminated, _, info = env.step(action)
        k += 1
    result = info["exec_result"]
    assert isinstance(result, EpisodeResult)
    return result


def run_episodes(
    config: ExecEnvConfig,
    policies: Sequence[ExecutionPolicy | ObsPolicy],
    starts: Sequence[int],
    seed: int,
    progress: Progress | None = None,
) -> dict[str, list[EpisodeResult]]:
    """Every policy over the same episodes; results by policy name, in ``starts`` order.

    Parameters
    ----------
    config
        The environment (one instance is built and reused).
    policies
        Baselines and/or learned agents; names must differ.
    starts
        Episode start times in ns (e.g. :meth:`ExecutionEnv.episode_starts`).
    seed
        Seeds the episodes: episode ``i`` resets with ``seed + i`` and the market seed
        :func:`episode_market_seed` ``(seed, i)``.
    progress
        Called after every episode with (done, total).
    """
    names = [str(getattr(p, "name", "")) for p in policies]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise ConfigError(f"policies need distinct, non-empty names, actually: {names}")
    for p in policies:
        if not isinstance(p, ExecutionPolicy) and not isinstance(p, ObsPolicy):
            raise ConfigError(
                f"policy {getattr(p, 'name', p)!r} has neither child_qty(state) nor act(obs)"
            )
    env = ExecutionEnv(config)
    total = len(policies) * len(starts)
    done = 0
    out: dict[str, list[EpisodeResult]] = {}
    for name, policy in zip(names, policies, strict=True):
        results = []
        for i, start in enumerate(starts):
            ms = episode_market_seed(seed, i)
            results.append(run_policy_episode(env, policy, int(start), ms, seed + i))
            done += 1
            if progress is not None:
                progress(done, total)
        out[name] = results
    return out


__all__ = [
    "ObsPolicy",
    "Progress",
    "SB3ObsPolicy",
    "episode_market_seed",
    "run_episodes",
    "run_policy_episode",
    "volume_profile",
]
