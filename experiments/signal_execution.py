"""Signal-aware against signal-blind PPO on held-out replay episodes (GOOG, 2012-06-21).

An alpha model (LightGBM regression on the LOB features of
:mod:`tradelearn.alpha.features_lob`, target: the mid's move over the next ``horizon_s``
seconds in bp) is fitted on GOOG's morning (``alpha_window``) and predicts every event of the
day causally (:mod:`tradelearn.execution.signals`). The environment's signal channel reads it
at each decision time, signed by the order's side (positive: the price is expected to move
against us), in units of the training predictions' standard deviation.

Two PPO agents train on the morning's episodes (``train_window``) with the same seed and
budget, one with the signal channel and one without; both and TWAP then run the same
held-out afternoon episodes (``eval_window``). Reported: mean shortfall of each, the paired
difference aware minus blind with its Wilcoxon p and a bootstrap CI, and the signal's
out-of-sample IC on the afternoon. Falls back to a generated market (morning and afternoon of
one synthetic day) when the LOBSTER files are missing.

``train`` and ``compare`` build their environments themselves and take no signal, so the
signal goes in through :func:`signal_installed`, which sets every new environment's
``signal_fn`` while the block runs.

Usage::

    OMP_NUM_THREADS=1 nice -n 5 python experiments/signal_execution.py \\
        [--budget-s 240] [--episodes 60] [--out .tradelearn/experiments/signal_execution]
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from tradelearn.alpha.features_lob import mid_price, split_book
from tradelearn.config import data_dir
from tradelearn.data.lobster import load_lobster, midnight_ns
from tradelearn.execution.agents import compare, parse_window
from tradelearn.execution.exec_config import ExecEnvConfig, MarketConfig
from tradelearn.execution.metrics import wilcoxon_p
from tradelearn.execution.signals import (
    AlphaSignal,
    fit_alpha_signal,
    information_coefficient,
    side_signed,
)
from tradelearn.execution.sim_env import ExecutionEnv
from tradelearn.execution.train import TrainConfig, train
from tradelearn.experiment_args import parse_dataclass_args

GOOG = "lobster/GOOG_2012-06-21_34200000_57600000_{kind}_10.csv.gz"


@dataclass
class Args:
    budget_s: float = 240.0
    """wall-clock training budget per agent in seconds"""
    timesteps: int = 2_000_000
    """environment steps per agent (the budget usually stops training first)"""
    n_envs: int = 4
    """environment copies per training run"""
    seed: int = 1
    """seed of both agents' networks and training episodes, and of the alpha model"""
    eval_seed: int = 12
    """seed of the held-out episodes"""
    alpha_window: str = "09:45-11:30"
    """hours whose events fit the alpha model (labels end inside the window)"""
    train_window: str = "09:45-11:30"
    """hours whose episodes train the agents"""
    eval_window: str = "12:00-15:00"
    """hours of the held-out episodes (and of the IC, plus the last horizon)"""
    horizon_s: float = 1800.0
    """seconds to work each parent order"""
    n_steps: int = 30
    """decisions per order"""
    participation: float = 0.02
    """order size as a share of the horizon's expected market volume"""
    signal_horizon_s: float = 120.0
    """horizon of the alpha model's predicted mid move (s)"""
    episodes: int = 60
    """held-out episodes (every policy runs all of them)"""
    bootstrap: int = 10_000
    """bootstrap resamples of the paired difference's CI"""
    impact: str = "default"
    """impact of our own trades on the replayed prices (default: GOOG calibration)"""
    generated: bool = False
    """use a generated market even when the LOBSTER files are present"""
    out: str = ".tradelearn/experiments/signal_execution"
    """output folder"""


def parse_args() -> Args:
    return parse_dataclass_args(Args, (__doc__ or "").splitlines()[0])


@contextmanager
def signal_installed(signal: Callable[[int], float]) -> Iterator[None]:
    """Every :class:`ExecutionEnv` built inside the block reads ``signal`` signed by its side."""
    original = ExecutionEnv.__init__

    def init(self: ExecutionEnv, *a: Any, **kw: Any) -> None:
        original(self, *a, **kw)
        self.signal_fn = side_signed(signal, int(self.config.side))

    ExecutionEnv.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        ExecutionEnv.__init__ = original  # type: ignore[method-assign]


def market(args: Args, out: Path) -> tuple[MarketConfig, Any]:
    """The market config and its loaded day (LOBSTER GOOG level 10, or a generated day)."""
    root = data_dir()
    files = {k: root / GOOG.format(kind=k) for k in ("message", "orderbook")} if root else {}
    if files and all(p.exists() for p in files.values()) and not args.generated:
        mpath, opath = files["message"], files["orderbook"]
    else:
        from tradelearn.sim.generate import generate_day, write_day

        day = generate_day(seed=args.seed, levels=10, symbol="SYN")
        mpath, opath = write_day(day, out / "market")
    cfg = MarketConfig(kind="replay", impact=args.impact, message=str(mpath), orderbook=str(opath))
    return cfg, load_lobster(mpath, opath)


def paired(a: np.ndarray, b: np.ndarray, n_boot: int, seed: int) -> dict[str, float]:
    """Mean of ``a - b``, its Wilcoxon p and a percentile bootstrap 95% CI."""
    d = a - b
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {
        "mean_bps": float(d.mean()),
        "se_bps": float(d.std(ddof=1) / np.sqrt(len(d))),
        "wilcoxon_p": wilcoxon_p(a, b),
        "ci95_lo_bps": float(lo),
        "ci95_hi_bps": float(hi),
        "share_aware_better": float(np.mean(d < 0)),
    }


def run(args: Args) -> dict[str, Any]:
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    mcfg, day = market(args, out)
    m0 = midnight_ns(day.date)

    def ns(window: str) -> tuple[int, int]:
        lo, hi = parse_window(window)
        return m0 + round(lo * 1e9), m0 + round(hi * 1e9)

    signal: AlphaSignal = fit_alpha_signal(
        day.book,
        day.events,
        ns(args.alpha_window),
        horizon_s=args.signal_horizon_s,
        seed=args.seed,
    )
    mid = mid_price(split_book(day.book, min(day.book.shape[1] // 4, 10)))
    ev_lo, ev_hi = ns(args.eval_window)
    ic_eval = information_coefficient(signal, mid, (ev_lo, ev_hi + round(args.horizon_s * 1e9)))
    ic_train = information_coefficient(signal, mid, ns(args.alpha_window))
    print(
        f"alpha: unit {signal.unit_bps:.3f} bp, IC in-sample {ic_train['spearman_ic']:.3f}, "
        f"afternoon {ic_eval['spearman_ic']:.3f} ({time.perf_counter() - t0:.0f}s)",
        flush=True,
    )
    base = ExecEnvConfig(
        market=mcfg,
        levels=1,
        start_window_s=parse_window(args.train_window),
        horizon_s=args.horizon_s,
        n_steps=args.n_steps,
        participation=args.participation,
    )
    trained: dict[str, Any] = {}
    dirs: dict[str, Path] = {}
    with signal_installed(signal):
        for name, with_signal in (("aware", True), ("blind", False)):
            cfg = TrainConfig(
                env_id="tradelearn/Execution-v0",
                env_params=base.with_overrides(signal=with_signal).to_dict(),
                algo="ppo",
                timesteps=args.timesteps,
                seed=args.seed,
                time_budget_s=args.budget_s,
                hyperparameters={"n_envs": args.n_envs},
                both_sides=True,
            )
            dirs[name] = out / f"ppo-{name}"
            res = train(cfg, dirs[name], progress=False)
            trained[name] = {"timesteps": res.timesteps, "seconds": round(res.seconds, 1)}
            print(f"ppo {name}: {res.timesteps:,} steps in {res.seconds:.0f}s", flush=True)
        held = base.with_overrides(start_window_s=parse_window(args.eval_window))
        results: dict[str, np.ndarray] = {}
        summaries: dict[str, Any] = {}
        for name, with_signal in (("aware", True), ("blind", False)):
            # compare checks the agent's signal flag against the env's, so one run per flag
            cmp = compare(
                [str(dirs[name])],
                held.with_overrides(signal=with_signal),
                episodes=args.episodes,
                seed=args.eval_seed,
                calibration=None,
            )
            for p in cmp.evaluation.policies:
                key = name if p.name != "twap" else "twap"
                is_bps = np.array([r.is_bps for r in cmp.results[p.name]])
                if key == "twap" and key in results and not np.array_equal(results[key], is_bps):
                    raise RuntimeError("TWAP differs between the two runs: episodes not paired")
                results[key] = is_bps
                summaries[key] = p.to_dict() if hasattr(p, "to_dict") else asdict(p)
    twap = results["twap"]
    report: dict[str, Any] = {
        "args": asdict(args),
        "market": mcfg.to_dict() if hasattr(mcfg, "to_dict") else asdict(mcfg),
        "alpha": {
            "unit_bps": signal.unit_bps,
            "ic_in_sample": ic_train,
            "ic_afternoon": ic_eval,
        },
        "trained": trained,
        "mean_is_bps": {k: float(v.mean()) for k, v in results.items()},
        "se_is_bps": {k: float(v.std(ddof=1) / np.sqrt(len(v))) for k, v in results.items()},
        "aware_minus_blind": paired(results["aware"], results["blind"], args.bootstrap, 0),
        "aware_minus_twap": paired(results["aware"], twap, args.bootstrap, 1),
        "blind_minus_twap": paired(results["blind"], twap, args.bootstrap, 2),
        "summaries": summaries,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "seconds": round(time.perf_counter() - t0, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (out / "results.json").write_text(
        json.dumps(report, indent=1, allow_nan=False, default=str) + "\n"
    )
    for k in ("twap", "blind", "aware"):
        print(f"  {k:6s} IS {report['mean_is_bps'][k]:7.2f} ± {report['se_is_bps'][k]:.2f} bp")
    d = report["aware_minus_blind"]
    print(
        f"  aware - blind {d['mean_bps']:+.2f} bp, 95% CI [{d['ci95_lo_bps']:+.2f}, "
        f"{d['ci95_hi_bps']:+.2f}], Wilcoxon p {d['wilcoxon_p']:.3g}",
        flush=True,
    )
    return report


if __name__ == "__main__":
    run(parse_args())
