"""Execution policies behind one interface, for simulators and learned agents alike.

A policy sees a batch of parent orders' states (:class:`ExecState`, one row per order) and
answers how many shares each sends as its child order this step (:meth:`child_qty`). A
simulator-driven baseline and a wrapped Stable-Baselines3 model (:class:`SB3Policy`) both
implement :class:`ExecutionPolicy`, so one evaluation loop drives any of them. The last step
of a horizon liquidates whatever is left, in the model worlds whatever the policy says.

Baselines: :class:`TWAP`, :class:`VWAP` (an intraday volume profile from training volumes),
:class:`POV`, :class:`SubmitAndLeave`, and the closed-form optima of the model worlds,
:class:`AlmgrenChriss` (also from parameters estimated on fills,
:func:`estimate_almgren_chriss`), :class:`ObizhaevaWang` and :class:`CarteaJaimungal`, all
linear feedback rules :math:`n_k = G_k (x_k, P_k, D_k)` from :func:`~tradelearn.execution.
worlds.riccati`. Policies that are linear in the state expose :meth:`gains`, so the exact
expected cost is known (:func:`~tradelearn.execution.worlds.evaluate_gains`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError
from tradelearn.execution.model_env import DEFAULT_GRID, ActionType, action_fractions, observe
from tradelearn.execution.worlds import (
    ACWorld,
    CJWorld,
    OWWorld,
    World,
    fraction_gains,
    riccati,
    world_from_dict,
)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ExecState:
    """The states of a batch of parent orders before a child order (one row per order).

    ``price_move`` is the mid's move since arrival in price units (signed as prices are);
    ``impact`` the transient impact the order's own trading left (NaN where the simulator
    does not know it); ``market_volume`` what the rest of the market trades in the step (NaN
    where unknown). ``side`` is ``+1`` for buys, ``-1`` for sells.
    """

    step: NDArray[np.int64]
    n_steps: int
    remaining: FloatArray
    parent_qty: FloatArray
    price_move: FloatArray
    impact: FloatArray
    market_volume: FloatArray
    side: int = -1

    @property
    def steps_left(self) -> NDArray[np.int64]:
        """Steps left including this one."""
        return self.n_steps - self.step


@runtime_checkable
class ExecutionPolicy(Protocol):
    """Anything that decides child orders: ``reset`` once per batch, ``child_qty`` per step."""

    name: str

    def reset(self, n_orders: int) -> None:
        """Forget the previous batch; ``n_orders`` parent orders start now."""

    def child_qty(self, state: ExecState) -> FloatArray:
        """Shares to send now per order, between 0 and what is left."""
        ...


def _clip(qty: FloatArray, state: ExecState) -> FloatArray:
    q = np.clip(np.nan_to_num(qty, nan=0.0), 0.0, state.remaining)
    return np.where(state.step >= state.n_steps - 1, state.remaining, q)


class _Stateless:
    name = "policy"

    def reset(self, n_orders: int) -> None:
        """Nothing to forget."""


class TWAP(_Stateless):
    """Equal parts of what is left over the steps left: :math:`n_k = x_k / (N - k)`."""

    name = "twap"

    def child_qty(self, state: ExecState) -> FloatArray:
        return _clip(state.remaining / state.steps_left, state)

    def gains(self, n_steps: int) -> FloatArray:
        """Linear feedback gains (exact evaluation)."""
        return fraction_gains(1.0 / (n_steps - np.arange(n_steps)))


class VWAP(_Stateless):
    """Trade in proportion to an intraday volume profile :math:`v_k`:
    :math:`n_k = x_k\\, v_k / \\sum_{j \\ge k} v_j`."""

    name = "vwap"

    def __init__(self, profile: FloatArray) -> None:
        p = np.asarray(profile, dtype=np.float64)
        if p.ndim != 1 or p.size < 1 or np.any(~np.isfinite(p)) or np.any(p < 0) or p[-1] <= 0:
            raise ConfigError(
                f"VWAP profile must be non-negative with a positive last bin, actually: {p!r}"
            )
        self.profile = p / p.sum()
        tail = self.profile[::-1].cumsum()[::-1]
        self._fraction = self.profile / tail

    @classmethod
    def from_volumes(cls, volumes: FloatArray) -> VWAP:
        """The mean share of each bin in the daily volume over training days.

        ``volumes`` has one row per training day and one column per step of the horizon.
        """
        v = np.asarray(volumes, dtype=np.float64)
        if v.ndim != 2 or np.any(v < 0) or np.any(v.sum(axis=1) <= 0):
            raise ConfigError(
                f"volumes must be days x bins of non-negative volume, actually shape {v.shape}"
            )
        return cls((v / v.sum(axis=1, keepdims=True)).mean(axis=0))

    def _check(self, n_steps: int) -> None:
        if self.profile.size != n_steps:
            raise ConfigError(
                f"VWAP profile has {self.profile.size} bins, the horizon {n_steps} steps"
            )

    def child_qty(self, state: ExecState) -> FloatArray:
        self._check(state.n_steps)
        return _clip(state.remaining * self._fraction[state.step], state)

    def gains(self, n_steps: int) -> FloatArray:
        """Linear feedback gains (exact evaluation)."""
        self._check(n_steps)
        return fraction_gains(self._fraction)


class POV(_Stateless):
    """Participate at ``rate`` of the market's volume in the step until done."""

    def __init__(self, rate: float) -> None:
        if not 0 < rate <= 1:
            raise ConfigError(f"POV rate must be in (0, 1], actually: {rate!r}")
        self.rate = rate
        self.name = f"pov{rate:g}"

    def child_qty(self, state: ExecState) -> FloatArray:
        if np.any(~np.isfinite(state.market_volume)):
            raise ConfigError("POV needs the market volume of the step; the state has NaN")
        return _clip(self.rate * state.market_volume, state)


class SubmitAndLeave(_Stateless):
    """Rest the whole order as one limit order and sell what did not fill at the end.

    :meth:`limit_price` is the resting order's price for a simulator with passive fills;
    the model worlds have no passive liquidity, so there the order never fills and the
    last step liquidates all of it.
    """

    name = "submit_and_leave"

    def __init__(self, limit_offset_bps: float = 0.0) -> None:
        self.limit_offset_bps = limit_offset_bps

    def child_qty(self, state: ExecState) -> FloatArray:
        return _clip(np.zeros_like(state.remaining), state)

    def limit_price(self, arrival_mid: float, side: int) -> float:
        """The resting price: ``limit_offset_bps`` away from the arrival mid, passive side."""
        return arrival_mid * (1.0 - side * self.limit_offset_bps / 1e4)

    def gains(self, n_steps: int) -> FloatArray:
        """Linear feedback gains (exact evaluation)."""
        return fraction_gains(np.zeros(n_steps))


class LinearFeedback(_Stateless):
    """:math:`n_k = G_k \\cdot (x_k, P_k, D_k)`, clipped to :math:`[0, x_k]`."""

    def __init__(self, gains: FloatArray, name: str) -> None:
        self._gains = np.asarray(gains, dtype=np.float64)
        self.name = name

    def gains(self, n_steps: int) -> FloatArray:
        """Linear feedback gains (exact evaluation)."""
        if self._gains.shape[0] != n_steps:
            raise ConfigError(
                f"{self.name} was built for {self._gains.shape[0]} steps, not {n_steps}"
            )
        return self._gains

    def child_qty(self, state: ExecState) -> FloatArray:
        g = self.gains(state.n_steps)[state.step]
        impact = np.nan_to_num(state.impact, nan=0.0)
        return _clip(
            g[:, 0] * state.remaining + g[:, 1] * state.price_move + g[:, 2] * impact, state
        )


class AlmgrenChriss(LinearFeedback):
    """The exact discrete optimum of an Almgren-Chriss world (the sinh trajectory)."""

    def __init__(self, world: ACWorld, name: str = "ac") -> None:
        super().__init__(riccati(world).gains, name)
        self.world = world

    @classmethod
    def from_fills(
        cls,
        fills: Fills,
        *,
        template: ACWorld,
        name: str = "ac",
    ) -> AlmgrenChriss:
        """Almgren-Chriss with impact and volatility estimated from fills.

        ``template`` gives the order, horizon and risk aversion; its impact and volatility
        are replaced by :func:`estimate_almgren_chriss`'s.
        """
        est = estimate_almgren_chriss(fills)
        tau = template.tau
        # keep eta-tilde positive however noisy the estimate
        eta = max(est["temporary_impact"], 0.5 * est["permanent_impact"] * tau * 1.01, 1e-300)
        world = ACWorld(
            **{
                **{k: v for k, v in template.to_dict().items() if k != "world"},
                "temporary_impact": eta,
                "permanent_impact": est["permanent_impact"],
                "volatility": est["volatility"],
            }
        )
        return cls(world, name)


class ObizhaevaWang(LinearFeedback):
    """The exact discrete optimum of an Obizhaeva-Wang world (Alfonsi-Fruth-Schied blocks
    when risk neutral). Where the state's impact is NaN, the policy tracks the impact of its
    own trades with the world's resilience (call :meth:`reset`, then once per step)."""

    def __init__(self, world: OWWorld, name: str = "ow") -> None:
        super().__init__(riccati(world).gains, name)
        self.world = world
        self._own = np.zeros(0)

    def reset(self, n_orders: int) -> None:
        self._own = np.zeros(n_orders)

    def child_qty(self, state: ExecState) -> FloatArray:
        if self._own.shape != state.remaining.shape:
            self.reset(state.remaining.shape[0])
        impact = np.where(np.isfinite(state.impact), state.impact, self._own)
        q = super().child_qty(replace(state, impact=impact))
        decay = math.exp(-self.world.resilience * self.world.tau)
        self._own = decay * (impact + self.world.transient_impact * q)
        return q


class CarteaJaimungal(LinearFeedback):
    """The exact discrete optimum of a Cartea-Jaimungal world."""

    def __init__(self, world: CJWorld, name: str = "cj") -> None:
        super().__init__(riccati(world).gains, name)
        self.world = world


def optimal_policy(world: World, name: str = "optimal") -> LinearFeedback:
    """The exact optimum of ``world`` as a policy."""
    return LinearFeedback(riccati(world).gains, name)


# --- Almgren-Chriss parameters from data -----------------------------------------------------


@dataclass(frozen=True)
class Fills:
    """Child orders of past executions, one row each (a simulator's or a broker's record).

    ``mid_before``/``mid_after``: mid just before the child order and one step later;
    ``avg_price``: its average execution price; ``duration``: the step's length.
    """

    qty: FloatArray
    duration: FloatArray
    mid_before: FloatArray
    mid_after: FloatArray
    avg_price: FloatArray
    side: int = -1
    meta: dict[str, Any] = field(default_factory=dict)


def estimate_almgren_chriss(fills: Fills) -> dict[str, float]:
    """Least-squares estimates of Almgren-Chriss's linear impact and volatility.

    With :math:`s` the side, a child order of :math:`q` shares over :math:`\\tau`:

    * permanent: :math:`s (S^+ - S^-) = \\gamma q + \\sigma\\sqrt\\tau\\,\\xi`, so
      :math:`\\hat\\gamma = \\sum q\\, s\\Delta S / \\sum q^2`;
    * temporary: :math:`s (\\bar S - S^-) = \\eta\\, q/\\tau`, so
      :math:`\\hat\\eta = \\sum v\\, s(\\bar S - S^-) / \\sum v^2`, :math:`v = q/\\tau`;
    * volatility: :math:`\\hat\\sigma^2 = \\sum (s\\Delta S - \\hat\\gamma q)^2 / \\sum \\tau`.
    """
    q = np.asarray(fills.qty, dtype=np.float64)
    tau = np.asarray(fills.duration, dtype=np.float64)
    if q.size < 3 or np.any(tau <= 0):
        raise ConfigError(f"need at least 3 fills with positive durations, actually {q.size}")
    s = float(fills.side)
    move = s * (np.asarray(fills.mid_after) - np.asarray(fills.mid_before))
    slip = s * (np.asarray(fills.avg_price) - np.asarray(fills.mid_before))
    gamma = max(float(q @ move / (q @ q)), 0.0)
    v = q / tau
    eta = max(float(v @ slip / (v @ v)), 0.0)
    resid = move - gamma * q
    sigma = math.sqrt(float(resid @ resid) / float(tau.sum()))
    return {"temporary_impact": eta, "permanent_impact": gamma, "volatility": sigma}


# --- learned agents ------------------------------------------------------------------------


class SB3Policy(_Stateless):
    """A Stable-Baselines3 model acting through the model environment's interpreter.

    The state becomes the environment's observation (:func:`~tradelearn.execution.model_env.
    observe`), the model's deterministic action a fraction of the remainder
    (:func:`~tradelearn.execution.model_env.action_fractions`).
    """

    def __init__(
        self,
        model: Any,
        world: World,
        action_type: ActionType,
        grid: tuple[float, ...] = DEFAULT_GRID,
        name: str = "sb3",
    ) -> None:
        self.model = model
        self.world = world
        self.action_type: ActionType = action_type
        self.grid = grid
        self.name = name

    @classmethod
    def load(cls, folder: str | Path, name: str | None = None) -> SB3Policy:
        """Load ``model.zip`` and ``config.json`` written by :func:`~tradelearn.execution.
        train.train`."""
        from tradelearn.execution.train import ALGOS  # training needs torch: load lazily

        root = Path(folder)
        cfg_path = root / "config.json"
        if not cfg_path.is_file():
            raise ConfigError(f"{root}: no config.json (expected a folder written by exec train)")
        cfg = json.loads(cfg_path.read_text())
        algo = ALGOS.get(cfg.get("algo", ""))
        if algo is None:
            raise ConfigError(
                f"{cfg_path}: algo must be one of {sorted(ALGOS)}, actually {cfg.get('algo')!r}"
            )
        # inference needs no replay buffer; SB3 would rebuild the saved n-step buffer class
        # by name and warn that its n_steps is then ignored
        custom = {"replay_buffer_class": None, "buffer_size": 1} if cfg["algo"] == "dqn" else {}
        model = algo.load(root / "model.zip", device="cpu", custom_objects=custom)
        return cls(
            model,
            world_from_dict(cfg["world"]),
            cfg["action_type"],
            tuple(cfg["grid"]),
            name or f"{cfg['algo']}:{root.name}",
        )

    def child_qty(self, state: ExecState) -> FloatArray:
        obs = observe(
            self.world,
            state.step,
            state.remaining * (self.world.parent_qty / state.parent_qty),
            state.price_move,
            np.nan_to_num(state.impact, nan=0.0),
        )
        actions, _ = self.model.predict(obs, deterministic=True)
        f = action_fractions(actions, self.action_type, state.step, state.n_steps, self.grid)
        return _clip(f * state.remaining, state)
