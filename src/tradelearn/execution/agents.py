"""Learned agents on the simulator environment: what they train on, and loading them back.

Training (:func:`~tradelearn.execution.train.train` with ``tradelearn/Execution-v0``) runs
several copies of the environment in one process (:func:`make_exec_vec_env`). Each copy is
wrapped in :class:`ExecutionMonitor`, which moves the environment's
``info["episode"]`` (an episode result with the shortfall) to ``info["execution"]`` and puts
Stable-Baselines3's ``{"r", "l", "t"}`` record in its place (with ``is_bps`` added), and
appends one row per finished episode to ``monitor.csv`` (``timesteps, is_bps, reward,
length``): the training curve. :class:`ShortfallLog` sends the same shortfall to
TensorBoard as ``execution/is_bps``.

:func:`load_agent` reads a folder written by ``exec train`` back as an observation policy
(:class:`LearnedAgent`: ``name``, ``act(obs) -> action``) together with the environment
configuration it was trained on.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import gymnasium
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from tradelearn.errors import ConfigError

EXEC_ENV_ID = "tradelearn/Execution-v0"


class MonitorLog:
    """``monitor.csv`` shared by the copies of one run, with the run's step counter."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = self.path.open("w", newline="")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(["timesteps", "is_bps", "reward", "length"])
        self.timesteps = 0

    def row(self, is_bps: float, reward: float, length: int) -> None:
        """One finished episode."""
        if self._fh is None:
            return
        self._writer.writerow([self.timesteps, f"{is_bps:.6g}", f"{reward:.6g}", length])
        self._fh.flush()

    def close(self) -> None:
        """Close the file (later rows are dropped)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class ExecutionMonitor(gymnasium.Wrapper[Any, Any, Any, Any]):
    """Records each episode's shortfall and return; see the module docstring."""

    def __init__(self, env: gymnasium.Env[Any, Any], log: MonitorLog | None = None) -> None:
        super().__init__(env)
        self.log = log
        self._return = 0.0
        self._length = 0
        self._t0 = time.perf_counter()

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._return = 0.0
        self._length = 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._length += 1
        if self.log is not None:
            self.log.timesteps += 1
        if terminated or truncated:
            result = info.get("episode")
            is_bps = float(getattr(result, "is_bps", math.nan))
            info = {**info, "execution": result}
            info["episode"] = {
                "r": self._return,
                "l": self._length,
                "t": round(time.perf_counter() - self._t0, 6),
                "is_bps": is_bps,
            }
            if self.log is not None:
                self.log.row(is_bps, self._return, self._length)
        return obs, float(reward), bool(terminated), bool(truncated), info


class ShortfallLog(BaseCallback):
    """Averages finished episodes' shortfall into TensorBoard's ``execution/is_bps``."""

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            ep = info.get("episode")
            if isinstance(ep, dict) and math.isfinite(float(ep.get("is_bps", math.nan))):
                self.logger.record_mean("execution/is_bps", float(ep["is_bps"]))
        return True


def make_exec_vec_env(
    config: Any,
    n_envs: int,
    monitor_path: str | Path | None = None,
    *,
    both_sides: bool = False,
) -> tuple[DummyVecEnv, MonitorLog | None]:
    """``n_envs`` monitored copies of the simulator environment in one process.

    Stable-Baselines3 seeds them (copy ``i`` resets with ``seed + i``); with
    ``both_sides`` the odd copies work the opposite side of ``config``. Returns the vector
    environment and the monitor log to close after training.
    """
    from tradelearn.execution.sim_env import ExecutionEnv

    if n_envs < 1:
        raise ConfigError(f"n_envs must be at least 1, actually: {n_envs}")
    if both_sides and n_envs < 2:
        raise ConfigError(f"both sides need at least 2 environment copies, actually: {n_envs}")
    log = None if monitor_path is None else MonitorLog(monitor_path)
    flipped = config.with_overrides(side=-config.side)

    def maker(i: int) -> Any:
        cfg = flipped if both_sides and i % 2 == 1 else config
        return lambda: ExecutionMonitor(ExecutionEnv(cfg), log)

    return DummyVecEnv([maker(i) for i in range(n_envs)]), log


@dataclass
class LearnedAgent:
    """A trained model behind the observation-policy protocol (``name``, ``act``)."""

    name: str
    model: Any
    algo: str
    action_type: str
    env_config: dict[str, Any]
    """The ``ExecEnvConfig`` (as a dict) the agent was trained on."""
    folder: Path

    def act(self, obs: Any) -> Any:
        """The model's deterministic action for one observation."""
        action, _ = self.model.predict(np.asarray(obs, dtype=np.float32), deterministic=True)
        if self.action_type == "discrete":
            return int(np.asarray(action).reshape(-1)[0])
        return np.asarray(action, dtype=np.float32)


def read_config(folder: str | Path) -> dict[str, Any]:
    """The ``config.json`` that ``exec train`` wrote in ``folder``."""
    root = Path(folder)
    path = root / "config.json"
    if not path.is_file():
        raise ConfigError(f"{root}: no config.json (expected a folder written by exec train)")
    try:
        cfg: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON: {exc}") from exc
    return cfg


def load_agent(folder: str | Path, name: str | None = None) -> LearnedAgent:
    """Load ``model.zip`` and ``config.json`` of a simulator-trained agent."""
    from tradelearn.execution.train import ALGOS  # torch loads only when asked

    root = Path(folder)
    cfg = read_config(root)
    if cfg.get("env_id") != EXEC_ENV_ID:
        raise ConfigError(
            f"{root}: trained on {cfg.get('env_id')!r}, not {EXEC_ENV_ID!r} "
            "(model-world agents are evaluated with exec evaluate-model)"
        )
    algo = ALGOS.get(cfg.get("algo", ""))
    if algo is None or not (root / "model.zip").is_file():
        raise ConfigError(f"{root}: needs model.zip and a known algo, got {cfg.get('algo')!r}")
    # inference needs no replay buffer (SB3 would rebuild the n-step buffer and warn)
    custom = {"replay_buffer_class": None, "buffer_size": 1} if cfg["algo"] == "dqn" else {}
    model = algo.load(root / "model.zip", device="cpu", custom_objects=custom)
    return LearnedAgent(
        name=name or f"{cfg['algo']}:{root.name}",
        model=model,
        algo=str(cfg["algo"]),
        action_type=str(cfg["action_type"]),
        env_config=dict(cfg["env"]),
        folder=root,
    )


# --- baselines fitted on training episodes, and the paired comparison ---------------------


def parse_window(text: str, what: str = "--start-window") -> tuple[float, float]:
    """``"HH:MM-HH:MM"`` (or ``HH:MM:SS``) as seconds after midnight."""

    def seconds(part: str) -> float:
        bits = part.strip().split(":")
        if not 2 <= len(bits) <= 3 or not all(b.isdigit() for b in bits):
            raise ValueError(part)
        h, m, s = (int(b) for b in [*bits, "0"][:3])
        if h > 23 or m > 59 or s > 59:
            raise ValueError(part)
        return float(3600 * h + 60 * m + s)

    try:
        lo, hi = (seconds(p) for p in text.split("-"))
    except ValueError:
        raise ConfigError(
            f"{what} must be HH:MM-HH:MM (e.g. 12:00-15:00), actually: {text!r}"
        ) from None
    if hi < lo:
        raise ConfigError(f"{what} must end after it starts, actually: {text!r}")
    return lo, hi


@dataclass(frozen=True)
class Calibration:
    """What the baselines learn from training episodes (TWAP run crossing the spread).

    ``vwap_profile``: the mean share of the horizon's market volume in each step;
    ``ac``: :func:`~tradelearn.execution.policies.estimate_almgren_chriss`'s temporary and
    permanent impact and volatility (price units, seconds) from the child orders.
    """

    vwap_profile: list[float]
    ac: dict[str, float]
    arrival_price: float
    step_volume: float
    episodes: int
    fills: int
    market: dict[str, Any]
    start_window_s: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "vwap_profile": self.vwap_profile,
            "ac": self.ac,
            "arrival_price": self.arrival_price,
            "step_volume": self.step_volume,
            "episodes": self.episodes,
            "fills": self.fills,
            "market": self.market,
            "start_window_s": list(self.start_window_s),
        }


def calibrate(config: Any, episodes: int, seed: int) -> Calibration:
    """Run TWAP (crossing) over ``episodes`` episodes of ``config`` (the *training* market,
    window or seeds) and estimate the VWAP profile and Almgren-Chriss's parameters."""
    from tradelearn.execution.policies import TWAP, VWAP, Fills, estimate_almgren_chriss
    from tradelearn.execution.runner import episode_market_seed
    from tradelearn.execution.sim_env import ExecutionEnv

    if episodes < 1:
        raise ConfigError(f"calibration episodes must be at least 1, actually: {episodes}")
    cfg = config.with_overrides(action_type="continuous")
    env = ExecutionEnv(cfg)
    n, side = cfg.n_steps, cfg.side
    twap = TWAP()
    vols = np.zeros((episodes, n))
    q_all: list[float] = []
    before: list[float] = []
    after: list[float] = []
    avg: list[float] = []
    arrivals = []
    for i, start in enumerate(env.episode_starts(episodes, seed)):
        env.reset(
            seed=seed + i, options={"start_ns": start, "market_seed": episode_market_seed(seed, i)}
        )
        twap.reset(1)
        rows = []
        done = False
        k = 0
        info: dict[str, Any] = {}
        while not done:
            state = env.exec_state()
            pm0 = float(state.price_move[0])
            action = env.action_from_child(float(twap.child_qty(state)[0]), "cross")
            _, reward, done, _, info = env.step(action)
            after_state = env.exec_state()
            vols[i, k] = float(after_state.market_volume[0])
            rows.append(
                (float(info.get("filled", 0.0)), pm0, float(after_state.price_move[0]), reward)
            )
            k += 1
        result = info["exec_result"]
        s0 = float(result.arrival_mid)
        value = float(result.parent_qty) * s0
        arrivals.append(s0)
        for q, pm_b, pm_a, r in rows[:-1]:  # the last step holds the liquidation
            if q <= 0:
                continue
            cost = -float(r) * value / 1e4  # the reward is minus the shortfall in bp
            q_all.append(q)
            before.append(s0 + pm_b)
            after.append(s0 + pm_a)
            avg.append(s0 + cost / (side * q))
    good = vols.sum(axis=1) > 0
    if not good.any():
        raise ConfigError("calibration: the training episodes saw no market volume")
    profile = VWAP.from_volumes(vols[good] + 1e-9).profile
    if len(q_all) < 3:
        raise ConfigError(f"calibration: only {len(q_all)} filled child orders; need 3")
    fills = Fills(
        qty=np.asarray(q_all),
        duration=np.full(len(q_all), cfg.step_s),
        mid_before=np.asarray(before),
        mid_after=np.asarray(after),
        avg_price=np.asarray(avg),
        side=side,
    )
    return Calibration(
        vwap_profile=[float(v) for v in profile],
        ac=estimate_almgren_chriss(fills),
        arrival_price=float(np.mean(arrivals)),
        step_volume=float(vols[good].mean()),
        episodes=episodes,
        fills=len(q_all),
        market=cfg.market.to_dict(),
        start_window_s=cfg.start_window_s,
    )


def almgren_chriss_policy(
    calibration: Calibration, config: Any, parent_qty: float, risk_aversion_bps: float = 0.01
) -> Any:
    r"""Almgren-Chriss's optimal schedule with the calibrated impact and volatility.

    Risk aversion is a preference, not an estimate. ``risk_aversion_bps`` weighs the
    variance of the shortfall in bp against its mean in bp (minimise
    :math:`E[IS] + \lambda_{bp} \mathrm{Var}[IS]`); in the model's cash units that is
    :math:`\lambda = \lambda_{bp} \cdot 10^4 / (X S_0)`. 0 gives TWAP.
    """
    from tradelearn.execution.policies import AlmgrenChriss
    from tradelearn.execution.worlds import ACWorld

    if not risk_aversion_bps >= 0:
        raise ConfigError(f"--ac-risk-aversion must be >= 0, actually: {risk_aversion_bps!r}")
    est = calibration.ac
    horizon = float(config.horizon_s)
    tau = horizon / config.n_steps
    gamma = float(est["permanent_impact"])
    eta = max(float(est["temporary_impact"]), 0.5 * gamma * tau * 1.01, 1e-12)
    world = ACWorld(
        parent_qty=float(parent_qty),
        arrival_price=calibration.arrival_price,
        horizon=horizon,
        n_steps=int(config.n_steps),
        volatility=float(est["volatility"]),
        market_volume=max(calibration.step_volume, 1e-9),
        temporary_impact=eta,
        permanent_impact=gamma,
        risk_aversion=risk_aversion_bps * 1e4 / (parent_qty * calibration.arrival_price),
    )
    return AlmgrenChriss(world, "ac")


_OBS_KEYS = ("levels", "signal", "n_steps")


def build_policy(spec: str, config: Any, calibration: Calibration | None, **kw: Any) -> Any:
    """A baseline from its name (``twap``, ``vwap``, ``pov[:RATE]``, ``ac``,
    ``submit_and_leave``) or a learned agent from a folder written by ``exec train``."""
    from tradelearn.execution.policies import POV, TWAP, VWAP, SubmitAndLeave

    name, _, arg = spec.partition(":")
    if name == "twap":
        return TWAP()
    if name in ("vwap", "ac") and calibration is None:
        raise ConfigError(f"policy {name!r} needs a calibration on training episodes")
    if name == "vwap":
        assert calibration is not None
        vwap = VWAP(np.asarray(calibration.vwap_profile))
        return vwap
    if name == "pov":
        try:
            rate = float(arg) if arg else float(config.participation)
        except ValueError:
            raise ConfigError(f"pov's rate must be a number, actually: {arg!r}") from None
        return POV(min(rate, 1.0))
    if name == "ac":
        assert calibration is not None
        return almgren_chriss_policy(
            calibration, config, kw["parent_qty"], float(kw.get("risk_aversion_bps", 0.01))
        )
    if name in ("submit_and_leave", "sal"):
        return SubmitAndLeave()
    folder = Path(spec)
    if folder.is_dir():
        agent = load_agent(folder)
        trained = agent.env_config
        for key in _OBS_KEYS:
            if key in trained and trained[key] != getattr(config, key):
                raise ConfigError(
                    f"{folder}: trained with {key}={trained[key]!r}, evaluated with "
                    f"{key}={getattr(config, key)!r}; the observations would not match"
                )
        return agent
    raise ConfigError(
        f"unknown policy {spec!r}: expected twap, vwap, pov[:RATE], ac, submit_and_leave "
        "or a folder written by exec train"
    )


@dataclass
class Comparison:
    """Paired results of every policy, their summary, and the agents' folders."""

    evaluation: Any
    results: dict[str, list[Any]]
    model_dirs: dict[str, Path]
    calibration: Calibration | None


def compare(
    specs: list[str],
    config: Any,
    *,
    episodes: int,
    seed: int,
    calibration: Calibration | None,
    ac_risk_aversion_bps: float = 0.01,
    progress: Any = None,
    meta: dict[str, Any] | None = None,
) -> Comparison:
    """Every policy over the same ``episodes`` episodes of ``config`` (same starts, seeds).

    Baselines and continuous agents run in a continuous-action environment, discrete
    agents (DQN) in a discrete one with the same episodes, so every pair stays paired.
    """
    from tradelearn.execution.metrics import summarize
    from tradelearn.execution.runner import run_episodes
    from tradelearn.execution.sim_env import ExecutionEnv

    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, actually: {episodes}")
    if not specs:
        raise ConfigError("--policies is empty")
    if "twap" not in specs:
        specs = ["twap", *specs]  # the benchmark of outperformance and gain-loss
    cont = config.with_overrides(action_type="continuous")
    env = ExecutionEnv(cont)
    starts = env.episode_starts(episodes, seed)
    groups: dict[str, list[Any]] = {"continuous": [], "discrete": []}
    model_dirs: dict[str, Path] = {}
    order: list[str] = []
    for spec in specs:
        p = build_policy(
            spec,
            cont,
            calibration,
            parent_qty=env.parent_qty,
            risk_aversion_bps=ac_risk_aversion_bps,
        )
        if p.name in order:
            raise ConfigError(f"policy {p.name!r} is given twice")
        order.append(p.name)
        if isinstance(p, LearnedAgent):
            model_dirs[p.name] = p.folder
            groups[p.action_type].append(p)
        else:
            groups["continuous"].append(p)
    total = episodes * len(order)
    offset = 0
    results: dict[str, list[Any]] = {}
    for kind, pols in groups.items():
        if not pols:
            continue
        done0 = offset

        def tick(done: int, _total: int, base: int = done0) -> None:
            if progress is not None:
                progress(base + done, total)

        cfg = config.with_overrides(action_type=kind)
        results.update(run_episodes(cfg, pols, starts, seed, progress=tick))
        offset += episodes * len(pols)
    ordered = {name: results[name] for name in order}
    info = {
        "episodes": episodes,
        "seed": seed,
        "parent_qty": env.parent_qty,
        "env": cont.to_dict(),
        "calibration": None if calibration is None else calibration.to_dict(),
        **(meta or {}),
    }
    return Comparison(summarize(ordered, meta=info), ordered, model_dirs, calibration)
