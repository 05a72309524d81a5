"""``tradelearn/ModelExecution-v0``: the model worlds as environments, batched and single.

:class:`ModelExecutionVecEnv` is a native batched environment: every sub-environment's state
is a slot in a few NumPy arrays and one compiled kernel steps them all (it implements
Stable-Baselines3's ``VecEnv``, so PPO and DQN use it directly). :class:`ModelExecutionEnv`
is one environment for ``gymnasium.make``; it runs the same kernel on one slot, so a vector
environment equals N single ones stepped with the same actions, bit for bit.

Observation (``float32``, :data:`OBS_NAMES`): time left :math:`(N-k)/N`, the fraction of
the remainder that TWAP would sell now :math:`1/(N-k)` (the optimal fractions are close to
multiples of it, which a small network finds easier than a kink in time), inventory left
:math:`x/X`, the unaffected mid's move since arrival :math:`P/s_P` (:math:`s_P = \\sigma
\\sqrt{T} + \\gamma X`, clipped to :math:`\\pm 10`), the transient impact :math:`D/(\\kappa
X)` (0 in worlds without one), and the remainder marked to that move, :math:`(x/X)(P/s_P)`
(the part of the cost to come that the price has already decided).

Actions: ``action_type="continuous"`` takes :math:`a \\in [-1, 1]` and sells the fraction
:math:`(a+1)/2` of what is left; ``"discrete"`` takes an index into ``grid`` and sells
``grid[i]`` times the remaining-TWAP quantity :math:`x/(N-k)`, capped at :math:`x`. A
world's horizon has :math:`N` steps and its last one only liquidates, so an episode has
:math:`N-1` decisions: the last decision's step also carries the horizon's end, where what
is left is sold at the world's terminal cost (no action there could matter, so none is
asked for). An episode ends there, or earlier once nothing is left (``terminated``; there
is no truncation). Rewards are those of :mod:`tradelearn.execution.reward`. An ending
step's info carries ``cost_bps`` (the episode's cost, minus its summed rewards) and
``noise_bps`` (the part of it that the price noise made,
:math:`-\\sum_k x_{k+1}\\sigma\\sqrt\\tau\\xi_k`, zero-mean for every non-anticipating
policy, so evaluations can subtract it as a control variate).

Randomness is counter based: the noise of step :math:`k` of episode :math:`e` in an
environment seeded :math:`s` is a fixed function of :math:`(s, e, k)` (SplitMix64 of the
counter, turned normal by the Marsaglia-Tsang ziggurat). A seeded episode therefore repeats
bit for bit however many environments run beside it; ``VecEnv.seed(s)`` seeds environment
``i`` with ``s + i``, as Stable-Baselines3 does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Literal, cast

import gymnasium as gym
import numba
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from tradelearn.errors import ConfigError
from tradelearn.execution.reward import BPS, step_reward_bps
from tradelearn.execution.worlds import World, dynamics, make_world

OBS_NAMES = (
    "time_left",
    "twap_fraction",
    "inventory_left",
    "price_move",
    "impact",
    "remainder_mark",
)
OBS_BOUND = 10.0
DEFAULT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
"""Discrete actions: multiples of the remaining-TWAP quantity."""
ActionType = Literal["continuous", "discrete"]
_MODE = {"fraction": 0, "continuous": 1, "discrete": 2}


# --- counter-based normal numbers ----------------------------------------------------------

_ZIG_R = 3.6541528853610088
_ZIG_V = 0.00492867323399


def _ziggurat_tables() -> tuple[NDArray[np.uint64], NDArray[np.float64], NDArray[np.float64]]:
    """Marsaglia-Tsang tables for 256 layers and 52-bit magnitudes."""
    m1 = 2.0**52
    kn = np.zeros(256, dtype=np.uint64)
    wn = np.zeros(256)
    fn = np.zeros(256)
    dn = tn = _ZIG_R
    q = _ZIG_V / math.exp(-0.5 * dn * dn)
    kn[0] = np.uint64((dn / q) * m1)
    wn[0], wn[255] = q / m1, dn / m1
    fn[0], fn[255] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(_ZIG_V / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = np.uint64((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


ZIG_KN, ZIG_WN, ZIG_FN = _ziggurat_tables()
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _mix(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always", error_model="numpy")
def _uniform(s: np.uint64) -> float:
    """A uniform number in (0, 1] from one SplitMix64 output."""
    return float((_mix(s) >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, error_model="numpy")
def counter_normal(
    key: np.uint64,
    counter: np.uint64,
    kn: NDArray[np.uint64],
    wn: NDArray[np.float64],
    fn: NDArray[np.float64],
) -> float:
    """A standard normal number that depends only on ``(key, counter)``.

    SplitMix64 walks from ``key + 8 * counter * golden`` (a rejection takes a further draw
    or two); the ziggurat accepts about 99% of first draws.
    """
    s = key + (counter << np.uint64(3)) * np.uint64(0x9E3779B97F4A7C15)
    while True:
        s += np.uint64(0x9E3779B97F4A7C15)
        r = _mix(s)
        idx = r & np.uint64(255)
        rabs = r >> np.uint64(12)
        x = float(rabs) * float(wn[idx])
        if (r >> np.uint64(8)) & np.uint64(1):
            x = -x
        if rabs < kn[idx]:
            return x
        if idx == 0:  # the tail beyond R
            while True:
                s += np.uint64(0x9E3779B97F4A7C15)
                xx = -math.log(_uniform(s)) / 3.6541528853610088
                s += np.uint64(0x9E3779B97F4A7C15)
                yy = -math.log(_uniform(s))
                if yy + yy > xx * xx:
                    return -(3.6541528853610088 + xx) if x < 0 else 3.6541528853610088 + xx
        s += np.uint64(0x9E3779B97F4A7C15)
        if float(fn[idx]) + _uniform(s) * float(fn[idx - 1] - fn[idx]) < math.exp(-0.5 * x * x):
            return x


def seed_key(seed: int | None) -> np.uint64:
    """The noise key of an environment seeded ``seed`` (fresh entropy for ``None``)."""
    return np.uint64(np.random.default_rng(seed).integers(0, 2**63))


# --- the kernel ---------------------------------------------------------------------------

# coefficient vector layout (see _coefficients)
_X, _S0, _C, _CT, _PEN, _GAM, _KAP, _A, _SD, _PSCALE, _DSCALE, _VALUE = range(12)


def _coefficients(world: World) -> NDArray[np.float64]:
    dyn = dynamics(world)
    pscale = world.volatility * math.sqrt(world.horizon) + dyn.permanent * dyn.parent_qty
    if pscale <= 0:
        pscale = dyn.arrival_price / BPS  # no price moves at all: one basis point
    dscale = dyn.kappa * dyn.parent_qty if dyn.kappa > 0 else 1.0
    return np.array(
        [
            dyn.parent_qty,
            dyn.arrival_price,
            dyn.trade_cost,
            dyn.terminal_cost,
            dyn.penalty,
            dyn.permanent,
            dyn.kappa,
            dyn.decay,
            dyn.noise_sd,
            pscale,
            dscale,
            dyn.parent_value,
        ]
    )


@numba.njit(inline="always", error_model="numpy")
def _write_obs(
    obs: NDArray[np.float32], i: int, steps_left: int, n_steps: int, x: float, p: float,
    d: float, coef: NDArray[np.float64],
) -> None:  # fmt: skip
    inv = x / coef[_X]
    move = min(max(p / coef[_PSCALE], -10.0), 10.0)
    obs[i, 0] = steps_left / n_steps
    obs[i, 1] = 1.0 / max(steps_left, 1)
    obs[i, 2] = inv
    obs[i, 3] = move
    obs[i, 4] = min(max(d / coef[_DSCALE], 0.0), 1.0)
    obs[i, 5] = inv * move


# not cached: numba's disk cache would miss edits to the reward module it calls
@numba.njit(error_model="numpy")
def _step_kernel(
    mode: int, actions: NDArray[np.float64], grid: NDArray[np.float64],
    coef: NDArray[np.float64], n_steps: int, autoreset: bool,
    x: NDArray[np.float64], p: NDArray[np.float64], d: NDArray[np.float64],
    k: NDArray[np.int64], episode: NDArray[np.uint64], key: NDArray[np.uint64],
    ep_cost: NDArray[np.float64], ep_noise: NDArray[np.float64],
    obs: NDArray[np.float32], reward: NDArray[np.float64], done: NDArray[np.bool_],
    term_obs: NDArray[np.float32], term_cost: NDArray[np.float64],
    term_noise: NDArray[np.float64], term_len: NDArray[np.int64],
    child_qty: NDArray[np.float64], child_price: NDArray[np.float64],
    kn: NDArray[np.uint64], wn: NDArray[np.float64], fn: NDArray[np.float64],
) -> None:  # fmt: skip
    for i in range(x.shape[0]):
        xi, ki = x[i], k[i]
        if mode == 0:
            f = actions[i]
        elif mode == 1:
            f = 0.5 * (actions[i] + 1.0)
        else:
            f = grid[int(actions[i])] / (n_steps - ki)
        if not f > 0.0:  # also NaN
            f = 0.0
        q = min(f, 1.0) * xi
        held = xi - q
        price = coef[_S0] + p[i] - d[i] - coef[_C] * q
        r = step_reward_bps(-1.0, q, price, coef[_S0], held, coef[_PEN], coef[_VALUE])
        e = 0.0
        if held > 0.0:
            ctr = (episode[i] << np.uint64(20)) | np.uint64(ki)
            e = coef[_SD] * counter_normal(key[i], ctr, kn, wn, fn)
        ep_noise[i] -= held * e
        p[i] += e - coef[_GAM] * q
        d[i] = coef[_A] * (d[i] + coef[_KAP] * q)
        child_qty[i] = q
        child_price[i] = price
        k[i] = ki + 1
        if ki + 2 >= n_steps and held > 0.0:  # the horizon's last step: liquidate the rest
            last = coef[_S0] + p[i] - d[i] - coef[_CT] * held
            r += step_reward_bps(-1.0, held, last, coef[_S0], 0.0, coef[_PEN], coef[_VALUE])
            held = 0.0
            k[i] = n_steps
        x[i] = held
        ep_cost[i] -= r
        reward[i] = r
        fin = held <= 0.0
        done[i] = fin
        _write_obs(obs, i, n_steps - k[i], n_steps, held, p[i], d[i], coef)
        if fin:
            term_obs[i, :] = obs[i, :]
            term_cost[i] = ep_cost[i]
            term_noise[i] = ep_noise[i] / coef[_VALUE] * BPS
            term_len[i] = ki + 1
            if autoreset:
                x[i], p[i], d[i], k[i] = coef[_X], 0.0, 0.0, 0
                episode[i] += np.uint64(1)
                ep_cost[i] = ep_noise[i] = 0.0
                _write_obs(obs, i, n_steps, n_steps, coef[_X], 0.0, 0.0, coef)


class _Batch:
    """The state of ``n`` model-world episodes as arrays, stepped by the kernel."""

    def __init__(self, world: World, n: int, grid: Sequence[float]) -> None:
        if n < 1:
            raise ConfigError(f"the number of environments must be positive, actually: {n}")
        self.world = world
        self.n_steps = world.n_steps
        self.coef = _coefficients(world)
        self.grid = np.asarray(grid, dtype=np.float64)
        self.x = np.full(n, self.coef[_X])
        self.p = np.zeros(n)
        self.d = np.zeros(n)
        self.k = np.zeros(n, dtype=np.int64)
        self.episode = np.zeros(n, dtype=np.uint64)
        self.key = np.zeros(n, dtype=np.uint64)
        self.ep_cost = np.zeros(n)
        self.ep_noise = np.zeros(n)
        self.obs = np.zeros((n, len(OBS_NAMES)), dtype=np.float32)
        self.reward = np.zeros(n)
        self.done = np.zeros(n, dtype=np.bool_)
        self.term_obs = np.zeros_like(self.obs)
        self.term_cost = np.zeros(n)
        self.term_noise = np.zeros(n)
        self.term_len = np.zeros(n, dtype=np.int64)
        self.child_qty = np.zeros(n)
        self.child_price = np.zeros(n)

    def restart(self, i: int | slice, key: np.uint64 | None) -> None:
        """Start a new episode in slot(s) ``i``; a new ``key`` restarts the episode count."""
        self.x[i], self.p[i], self.d[i], self.k[i] = self.coef[_X], 0.0, 0.0, 0
        self.ep_cost[i] = self.ep_noise[i] = 0.0
        if key is None:
            self.episode[i] += np.uint64(1)
        else:
            self.key[i], self.episode[i] = key, 0
        self.obs[i] = (1.0, 1.0 / self.n_steps, 1.0, 0.0, 0.0, 0.0)

    def step(self, mode: int, actions: NDArray[np.float64], autoreset: bool) -> None:
        if actions.shape != self.x.shape:
            raise ValueError(f"expected {self.x.shape[0]} actions, got shape {actions.shape}")
        if mode == 2 and not np.all((actions >= 0) & (actions < self.grid.size)):
            bad = actions[~((actions >= 0) & (actions < self.grid.size))][0]
            raise ValueError(
                f"discrete action must be in 0..{self.grid.size - 1}, actually: {bad!r}"
            )
        _step_kernel(
            mode, actions, self.grid, self.coef, self.n_steps, autoreset,
            self.x, self.p, self.d, self.k, self.episode, self.key, self.ep_cost, self.ep_noise,
            self.obs, self.reward, self.done, self.term_obs, self.term_cost, self.term_noise,
            self.term_len, self.child_qty, self.child_price, ZIG_KN, ZIG_WN, ZIG_FN,
        )  # fmt: skip


# --- the interpreters: observations and actions outside the kernel ---------------------------


def observe(
    world: World,
    step: NDArray[np.int64] | int,
    remaining: NDArray[np.float64],
    price_move: NDArray[np.float64],
    impact: NDArray[np.float64],
) -> NDArray[np.float32]:
    """The observation the environments give for a batch of states (the kernel's formula)."""
    coef = _coefficients(world)
    n = np.asarray(remaining, dtype=np.float64).shape[0]
    obs = np.zeros((n, len(OBS_NAMES)), dtype=np.float32)
    _obs_rows(
        obs,
        np.broadcast_to(np.asarray(step, dtype=np.int64), (n,)).copy(),
        world.n_steps,
        np.asarray(remaining, dtype=np.float64),
        np.asarray(price_move, dtype=np.float64),
        np.asarray(impact, dtype=np.float64),
        coef,
    )
    return obs


@numba.njit(error_model="numpy")
def _obs_rows(
    obs: NDArray[np.float32], step: NDArray[np.int64], n_steps: int, x: NDArray[np.float64],
    p: NDArray[np.float64], d: NDArray[np.float64], coef: NDArray[np.float64],
) -> None:  # fmt: skip
    for i in range(x.shape[0]):
        _write_obs(obs, i, n_steps - step[i], n_steps, x[i], p[i], d[i], coef)


def action_fractions(
    actions: NDArray[Any],
    action_type: ActionType,
    step: NDArray[np.int64] | int,
    n_steps: int,
    grid: Sequence[float] = DEFAULT_GRID,
) -> NDArray[np.float64]:
    """Fractions of the remainder that ``actions`` sell (the kernel's rule, before the last
    step's liquidation)."""
    a = np.asarray(actions, dtype=np.float64).reshape(-1)
    if action_type == "continuous":
        f = 0.5 * (a + 1.0)
    else:
        left = n_steps - np.asarray(step, dtype=np.int64)
        f = np.asarray(grid, dtype=np.float64)[a.astype(np.int64)] / left
    return np.clip(np.nan_to_num(f, nan=0.0), 0.0, 1.0)


def _spaces(action_type: str, grid: Sequence[float]) -> tuple[spaces.Box, spaces.Space[Any]]:
    low = np.array([0.0, 0.0, 0.0, -OBS_BOUND, 0.0, -OBS_BOUND], dtype=np.float32)
    high = np.array([1.0, 1.0, 1.0, OBS_BOUND, 1.0, OBS_BOUND], dtype=np.float32)
    obs_space = spaces.Box(low, high, dtype=np.float32)
    if action_type == "continuous":
        return obs_space, spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
    if action_type == "discrete":
        g = np.asarray(grid, dtype=np.float64)
        if g.ndim != 1 or g.size < 2 or np.any(~np.isfinite(g)) or np.any(g < 0):
            raise ConfigError(f"grid must hold at least two multiples >= 0, actually: {grid!r}")
        return obs_space, spaces.Discrete(g.size)
    raise ConfigError(f"action_type must be 'continuous' or 'discrete', actually: {action_type!r}")


def _as_world(world: World | str) -> World:
    return make_world(world) if isinstance(world, str) else world


# --- the environments ----------------------------------------------------------------------


class ModelExecutionVecEnv(VecEnv):
    """``num_envs`` model-world episodes stepped together by one compiled kernel.

    Parameters
    ----------
    world
        A world (:mod:`tradelearn.execution.worlds`) or a preset's name.
    num_envs
        Number of environments.
    action_type
        ``"continuous"`` or ``"discrete"`` (see the module docstring).
    grid
        Multiples of the remaining-TWAP quantity for the discrete actions.
    seed
        Environment ``i`` is seeded ``seed + i``; ``None`` draws fresh entropy.

    Notes
    -----
    Besides the ``VecEnv`` API, :meth:`step_fractions` steps by fractions of the remainder
    and returns the kernel's arrays without building per-environment info dicts (the
    benchmark's and the evaluator's fast path); the state is readable as arrays
    (:attr:`remaining`, :attr:`price_move`, :attr:`impact`, :attr:`steps_done`).
    """

    render_mode: str | None = None

    def __init__(
        self,
        world: World | str = "ac",
        num_envs: int = 1024,
        *,
        action_type: ActionType = "continuous",
        grid: Sequence[float] = DEFAULT_GRID,
        seed: int | None = None,
    ) -> None:
        self.world = _as_world(world)
        self.action_type: ActionType = action_type
        self.grid = tuple(float(g) for g in grid)
        obs_space, act_space = _spaces(action_type, self.grid)
        self._batch = _Batch(self.world, num_envs, self.grid)
        self._mode = _MODE[action_type]
        self._actions = np.zeros(num_envs)
        super().__init__(num_envs, obs_space, act_space)
        self._t0 = time.perf_counter()
        for i in range(num_envs):
            self._batch.restart(i, seed_key(None if seed is None else seed + i))
        self._fresh = True

    # state as arrays (views: valid until the next step)
    @property
    def remaining(self) -> NDArray[np.float64]:
        """Shares left per environment."""
        return self._batch.x

    @property
    def price_move(self) -> NDArray[np.float64]:
        """Unaffected mid minus arrival mid per environment."""
        return self._batch.p

    @property
    def impact(self) -> NDArray[np.float64]:
        """Transient impact per environment (0 without one)."""
        return self._batch.d

    @property
    def steps_done(self) -> NDArray[np.int64]:
        """Steps taken in the current episode per environment."""
        return self._batch.k

    @property
    def child_qty(self) -> NDArray[np.float64]:
        """Shares the last step's child order sold per environment (before any liquidation)."""
        return self._batch.child_qty

    @property
    def child_price(self) -> NDArray[np.float64]:
        """That child order's average price."""
        return self._batch.child_price

    @property
    def episode_cost_bps(self) -> NDArray[np.float64]:
        """Cost of the episode that ended at the last step, where ``done``."""
        return self._batch.term_cost

    @property
    def episode_noise_bps(self) -> NDArray[np.float64]:
        """Price-noise part of that cost, where ``done``."""
        return self._batch.term_noise

    def step_fractions(
        self, fractions: NDArray[np.float64]
    ) -> tuple[NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_]]:
        """Sell these fractions of what is left; returns the kernel's observation, reward and
        done arrays (views, overwritten by the next step). Ended environments restart."""
        self._fresh = False
        self._batch.step(0, np.asarray(fractions, dtype=np.float64), True)
        return self._batch.obs, self._batch.reward, self._batch.done

    def reset(self) -> NDArray[np.float32]:
        """Start a new episode everywhere (seeded where :meth:`seed` asked for it)."""
        for i, s in enumerate(self._seeds):
            if s is not None:
                self._batch.restart(i, seed_key(s))
            elif self._fresh:  # the first episode of the construction seed
                self._batch.restart(i, self._batch.key[i])
            else:
                self._batch.restart(i, None)
        self._fresh = False
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._batch.obs.copy()

    def step_async(self, actions: NDArray[Any]) -> None:
        self._actions = np.asarray(actions, dtype=np.float64).reshape(self.num_envs)

    def step_wait(self) -> VecEnvStepReturn:
        b = self._batch
        self._fresh = False
        b.step(self._mode, self._actions, True)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        elapsed = round(time.perf_counter() - self._t0, 6)
        for i in np.flatnonzero(b.done):
            infos[i] = {
                "terminal_observation": b.term_obs[i].copy(),
                "TimeLimit.truncated": False,
                "episode": {"r": -b.term_cost[i], "l": int(b.term_len[i]), "t": elapsed},
                "cost_bps": float(b.term_cost[i]),
                "noise_bps": float(b.term_noise[i]),
            }
        return b.obs.copy(), b.reward.astype(np.float32), b.done.copy(), infos

    def close(self) -> None:
        """Nothing to release."""

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self, attr_name, value)  # one shared world: every index sees the value

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        return [
            getattr(self, method_name)(*method_args, **method_kwargs)
            for _ in self._get_indices(indices)
        ]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


class ModelExecutionEnv(gym.Env[NDArray[np.float32], Any]):
    """One model-world episode at a time: ``gymnasium.make("tradelearn/ModelExecution-v0")``.

    Parameters
    ----------
    world
        A world or a preset's name (``"ac"``, ``"ow"``, ``"cj"``).
    params
        Fields of the preset to override, when ``world`` is a name.
    action_type, grid
        As for :class:`ModelExecutionVecEnv`.
    render_mode
        Only ``None``: there is nothing to draw.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium reads it on the class)

    def __init__(
        self,
        world: World | str = "ac",
        *,
        params: dict[str, Any] | None = None,
        action_type: ActionType = "continuous",
        grid: Sequence[float] = DEFAULT_GRID,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ConfigError(f"render_mode must be None, actually: {render_mode!r}")
        self.world = make_world(world, **(params or {})) if isinstance(world, str) else world
        self.action_type: ActionType = action_type
        self.grid = tuple(float(g) for g in grid)
        obs_space, self.action_space = _spaces(action_type, self.grid)
        self.observation_space = cast("spaces.Space[NDArray[np.float32]]", obs_space)
        self._batch = _Batch(self.world, 1, self.grid)
        self._mode = _MODE[action_type]
        self._keyed = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._keyed:
            self._batch.restart(0, np.uint64(self.np_random.integers(0, 2**63)))
            self._keyed = True
        else:
            self._batch.restart(0, None)
        return self._batch.obs[0].copy(), {}

    def step(self, action: Any) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        b = self._batch
        b.step(self._mode, np.asarray(action, dtype=np.float64).reshape(1), False)
        info: dict[str, Any] = {}
        if b.done[0]:
            info = {"cost_bps": float(b.term_cost[0]), "noise_bps": float(b.term_noise[0])}
        return b.obs[0].copy(), float(b.reward[0]), bool(b.done[0]), False, info
