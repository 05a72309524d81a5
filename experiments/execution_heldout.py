"""PPO and double DQN against TWAP, VWAP and Almgren-Chriss on held-out simulated episodes.

For each market: train each agent within a wall-clock budget on the *training* split, fit
the baselines (VWAP's volume profile, Almgren-Chriss's impact and volatility) on the same
split, then run every policy over the same held-out episodes (same starts and seeds) and
report shortfall, its split, timing risk, outperformance against TWAP and paired Wilcoxon
p-values (:mod:`tradelearn.execution.metrics`).

* ``agents``: the agent-based market; training on market seed ``train_seed``, evaluation on
  market seed ``eval_seed`` (disjoint markets);
* ``replay``: the LOBSTER samples (2012-06-21); training on GOOG's morning
  (``train_window``), evaluation on GOOG's afternoon (``eval_window``) and on AAPL
  (``aapl_window``). AAPL has one book level only, so the replay agents observe one level.

Writes ``OUT/results.json`` (args, every evaluation, the goal checks) and one HTML report
per evaluation set; models, configs, monitors and TensorBoard logs go to
``OUT/<market>-<algo>/``.

Usage::

    OMP_NUM_THREADS=1 nice -n 5 python experiments/execution_heldout.py \\
        [--markets agents,replay] [--algos ppo,dqn] [--budget-s 600] [--episodes 100]

The goal (issue "Execution on the simulator"): the best learned agent beats TWAP by at
least 2 bp and VWAP and AC by at least 1 bp of mean shortfall, with p < 0.01, an
outperformance probability against TWAP of at least 60%, and a timing risk no larger than
TWAP's.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

from tradelearn.config import data_dir
from tradelearn.execution.agents import calibrate, compare, parse_window
from tradelearn.execution.exec_config import ExecEnvConfig, MarketConfig
from tradelearn.execution.metrics import Evaluation, PolicySummary
from tradelearn.execution.report import build_report
from tradelearn.execution.train import TrainConfig, train
from tradelearn.experiment_args import parse_dataclass_args

GOOG = "lobster/GOOG_2012-06-21_34200000_57600000_{kind}_5.csv.gz"
AAPL = "lobster/AAPL_2012-06-21_34200000_57600000_{kind}_1.csv.gz"


@dataclass
class Args:
    markets: str = "agents,replay"
    """markets, comma-separated: agents (seeds split) and/or replay (LOBSTER, hours/stocks)"""
    algos: str = "ppo,dqn"
    """algorithms, comma-separated (dqn is double DQN)"""
    budget_s: float = 600.0
    """wall-clock training budget per agent in seconds"""
    timesteps: int = 2_000_000
    """environment steps per agent (the budget usually stops training first)"""
    n_envs: int = 4
    """environment copies per training run"""
    both_sides: bool = True
    """train on buys and sells (half the copies each), so the agent cannot bet on the
    training days' drift"""
    seed: int = 1
    """seed of the agents' networks and training episodes"""
    train_seed: int = 11
    """agents market: the training market's seed"""
    eval_seed: int = 12
    """agents market: the held-out market's seed (also seeds the evaluation episodes)"""
    train_window: str = "09:45-11:30"
    """replay: GOOG hours whose episodes train the agents and fit the baselines"""
    eval_window: str = "12:00-15:00"
    """replay: GOOG hours of the held-out episodes"""
    aapl_window: str = "10:00-15:00"
    """replay: AAPL hours of the held-out episodes (another stock)"""
    impact: str = "default"
    """replay: impact of our own trades on the replayed prices (default: GOOG calibration)"""
    horizon_s: float = 1800.0
    """seconds to work each parent order"""
    n_steps: int = 30
    """decisions per order"""
    participation: float = 0.02
    """order size as a share of the horizon's expected market volume"""
    episodes: int = 100
    """held-out episodes per evaluation set (every policy runs all of them)"""
    calibration_episodes: int = 20
    """training episodes that fit VWAP's profile and AC's parameters"""
    ac_risk_aversion: float = 0.01
    """Almgren-Chriss: weight of Var[IS] (bp^2) against E[IS] (bp)"""
    out: str = ".tradelearn/experiments/execution_heldout"
    """output folder"""
    progress: bool = False
    """show training progress bars"""


def parse_args() -> Args:
    return parse_dataclass_args(Args, (__doc__ or "").splitlines()[0])


def _lobster(template: str) -> dict[str, str]:
    root = data_dir()
    if root is None:
        raise SystemExit("replay needs the LOBSTER samples: set TRADELEARN_DATA_DIR")
    return {k: str(root / template.format(kind=k)) for k in ("message", "orderbook")}


def splits(args: Args, market: str) -> tuple[ExecEnvConfig, list[tuple[str, ExecEnvConfig]]]:
    """The training config and the held-out evaluation sets of ``market``."""
    order: dict[str, Any] = dict(
        horizon_s=args.horizon_s, n_steps=args.n_steps, participation=args.participation
    )
    if market == "agents":
        train_cfg = ExecEnvConfig(market=MarketConfig(kind="agents", seed=args.train_seed), **order)
        held = train_cfg.with_overrides(market=MarketConfig(kind="agents", seed=args.eval_seed))
        return train_cfg, [(f"agents-seed{args.eval_seed}", held)]
    goog = MarketConfig(kind="replay", impact=args.impact, **_lobster(GOOG))
    aapl = MarketConfig(kind="replay", impact=args.impact, **_lobster(AAPL))
    train_cfg = ExecEnvConfig(
        market=goog, levels=1, start_window_s=parse_window(args.train_window), **order
    )
    return train_cfg, [
        (
            "GOOG-afternoon",
            train_cfg.with_overrides(start_window_s=parse_window(args.eval_window)),
        ),
        (
            "AAPL",
            train_cfg.with_overrides(market=aapl, start_window_s=parse_window(args.aapl_window)),
        ),
    ]


def goal(ev: Evaluation, agents: list[str]) -> dict[str, Any]:
    """The goal's checks for the best learned agent (lowest mean shortfall)."""
    if not agents:
        return {}
    best: PolicySummary = min((ev.by_name(a) for a in agents), key=lambda p: p.is_bps)
    twap, vwap, ac = (ev.by_name(n) for n in ("twap", "vwap", "ac"))
    checks = {
        "beats_twap_by_2bp": twap.is_bps - best.is_bps >= 2.0,
        "beats_vwap_by_1bp": vwap.is_bps - best.is_bps >= 1.0,
        "beats_ac_by_1bp": ac.is_bps - best.is_bps >= 1.0,
        "p_below_0.01": all(best.p_values[b] < 0.01 for b in ("twap", "vwap", "ac")),
        "outperformance_at_least_60pct": best.outperformance_prob >= 0.6,
        "timing_risk_at_most_twap": best.timing_risk_bps <= twap.timing_risk_bps,
    }
    return {
        "best": best.name,
        "saving_vs_twap_bps": twap.is_bps - best.is_bps,
        "saving_vs_vwap_bps": vwap.is_bps - best.is_bps,
        "saving_vs_ac_bps": ac.is_bps - best.is_bps,
        "p_values": best.p_values,
        "outperformance_prob": best.outperformance_prob,
        "timing_risk_bps": best.timing_risk_bps,
        "twap_timing_risk_bps": twap.timing_risk_bps,
        "checks": checks,
        "met": all(checks.values()),
    }


def run(args: Args) -> dict[str, Any]:
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    evaluations: list[dict[str, Any]] = []
    trained_rows: list[dict[str, Any]] = []
    for market in args.markets.split(","):
        train_cfg, held_out = splits(args, market)
        run_dirs = []
        for algo in args.algos.split(","):
            cfg = TrainConfig(
                env_id="tradelearn/Execution-v0",
                env_params=train_cfg.to_dict(),
                algo=algo,
                timesteps=args.timesteps,
                seed=args.seed,
                time_budget_s=args.budget_s,
                hyperparameters={"n_envs": args.n_envs},
                both_sides=args.both_sides,
            )
            run_dir = out / f"{market}-{algo}"
            result = train(cfg, run_dir, progress=args.progress)
            run_dirs.append(str(run_dir))
            trained_rows.append(
                {
                    "market": market,
                    "algo": algo,
                    "timesteps": result.timesteps,
                    "train_seconds": round(result.seconds, 1),
                    "dir": str(run_dir),
                }
            )
            print(
                f"{market} {algo}: {result.timesteps:,} steps in {result.seconds:.0f}s", flush=True
            )
        t0 = time.perf_counter()
        cal = calibrate(train_cfg, args.calibration_episodes, args.seed + 7_919)
        print(f"{market} calibration: {cal.ac} in {time.perf_counter() - t0:.0f}s", flush=True)
        for set_name, held in held_out:
            t0 = time.perf_counter()
            seed = args.eval_seed
            cmp = compare(
                ["twap", "vwap", "ac", *run_dirs],
                held,
                episodes=args.episodes,
                seed=seed,
                calibration=cal,
                ac_risk_aversion_bps=args.ac_risk_aversion,
                meta={"set": set_name, "market": market},
            )
            agents = list(cmp.model_dirs)
            checks = goal(cmp.evaluation, agents)
            report_path = out / f"report-{set_name}.html"
            build_report(
                cmp.evaluation,
                cmp.results,
                title=f"Execution on held-out episodes: {set_name}",
                description=f"Agents trained on {market} ({'seed ' + str(args.train_seed) if market == 'agents' else 'GOOG ' + args.train_window}); "
                f"evaluated on {set_name}, {args.episodes} paired episodes.",
                model_dirs=cmp.model_dirs,
            ).save(report_path)
            doc = cmp.evaluation.to_dict()
            doc.update(set=set_name, goal=checks, report=str(report_path))
            evaluations.append(doc)
            print(f"\n{set_name} ({time.perf_counter() - t0:.0f}s):", flush=True)
            for p in cmp.evaluation.policies:
                print(
                    f"  {p.name:24s} IS {p.is_bps:7.2f} ± {p.se_bps:5.2f} bp  spread "
                    f"{p.spread_bps:6.2f} impact {p.impact_bps:6.2f} timing {p.timing_bps:6.2f} "
                    f"risk {p.timing_risk_bps:6.2f}  P>twap {p.outperformance_prob:4.2f}  "
                    f"p(twap) {p.p_values.get('twap', float('nan')):.2g}",
                    flush=True,
                )
            print(f"  goal: {json.dumps(checks.get('checks'))} met={checks.get('met')}", flush=True)
    report = {
        "args": asdict(args),
        "trained": trained_rows,
        "evaluations": evaluations,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (out / "results.json").write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
    return report


if __name__ == "__main__":
    run(parse_args())
