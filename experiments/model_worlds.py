"""PPO and double DQN in the Almgren-Chriss, Obizhaeva-Wang and Cartea-Jaimungal worlds.

For each world and algorithm: train within a wall-clock budget (one torch thread), then
evaluate the greedy agent on ``eval_episodes`` seeded episodes and report the gap of its
mean objective to the world's exact optimum (noise-adjusted mean, see
:mod:`tradelearn.execution.evaluate_models`), with TWAP's gap beside it for scale. Prints a
table and writes every figure to ``OUT/results.json``; models, configs and TensorBoard logs
go to ``OUT/<world>-<algo>/``.

Usage::

    OMP_NUM_THREADS=1 python experiments/model_worlds.py [--worlds ac,ow,cj] [--algos ppo,dqn]
        [--budget-s 900] [--ppo-timesteps N] [--dqn-timesteps N] [--eval-episodes 10000]

The goal (issue "Optimal execution"): every gap within 1% after at most 15 minutes of
training on 2 cores.
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

from tradelearn.execution.evaluate_models import evaluate_policy
from tradelearn.execution.policies import TWAP, SB3Policy
from tradelearn.execution.train import TrainConfig, train
from tradelearn.execution.worlds import make_world
from tradelearn.experiment_args import parse_dataclass_args


@dataclass
class Args:
    worlds: str = "ac,ow,cj"
    """model worlds, comma-separated"""
    algos: str = "ppo,dqn"
    """algorithms, comma-separated (dqn is double DQN)"""
    budget_s: float = 900.0
    """wall-clock training budget per run in seconds (training stops there)"""
    ppo_timesteps: int = 10_000_000
    """PPO's environment steps (its learning rate decays over them)"""
    dqn_timesteps: int = 6_000_000
    """double DQN's environment steps"""
    price_blind: bool = False
    """PPO's actor and DQN's advantage stream (dueling) do not see the price features"""
    seed: int = 1
    """seed of environments, networks and torch"""
    eval_episodes: int = 10_000
    """evaluation episodes per agent"""
    eval_seed: int = 1_000_000
    """seed of the evaluation episodes (disjoint from training's)"""
    out: str = ".tradelearn/experiments/model_worlds"
    """output folder"""
    progress: bool = False
    """show training progress bars"""


def parse_args() -> Args:
    return parse_dataclass_args(Args, __doc__.splitlines()[0])


def run(args: Args) -> dict[str, Any]:
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    for world_name in args.worlds.split(","):
        world = make_world(world_name)
        twap = evaluate_policy(world, TWAP(), args.eval_episodes, args.eval_seed)
        for algo in args.algos.split(","):
            steps = args.ppo_timesteps if algo == "ppo" else args.dqn_timesteps
            blind: dict[str, Any] = {}
            if args.price_blind:
                blind = (
                    {"price_blind_actor": True}
                    if algo == "ppo"
                    else {"dueling": True, "price_blind_advantage": True}
                )
            cfg = TrainConfig(
                world=world_name,
                algo=algo,
                timesteps=steps,
                seed=args.seed,
                time_budget_s=args.budget_s,
                hyperparameters=blind,
            )
            run_dir = out / f"{world_name}-{algo}"
            trained = train(cfg, run_dir, progress=args.progress)
            score = evaluate_policy(
                world, SB3Policy.load(run_dir), args.eval_episodes, args.eval_seed
            )
            row = {
                "world": world_name,
                "algo": algo,
                "price_blind": args.price_blind,
                "timesteps": trained.timesteps,
                "train_seconds": round(trained.seconds, 1),
                "stopped_by_budget": trained.stopped_by_budget,
                "gap_pct": score.gap_pct,
                "gap_se_pct": score.gap_se_pct,
                "objective_bps": score.mean_adjusted_bps,
                "objective_raw_bps": score.mean_cost_bps,
                "objective_raw_se_bps": score.se_cost_bps,
                "optimum_bps": score.optimum_bps,
                "twap_gap_pct": twap.gap_pct,
                "eval_episodes": score.episodes,
                "within_1pct": score.gap_pct <= 1.0,
            }
            results.append(row)
            print(
                f"{world_name:3s} {algo:4s}{' blind' if args.price_blind else ''} steps {trained.timesteps:>10,} "
                f"train {trained.seconds:6.0f}s  gap {score.gap_pct:7.3f}% "
                f"± {score.gap_se_pct:.3f}  (TWAP {twap.gap_pct:6.2f}%, optimum "
                f"{score.optimum_bps:.4f} bp, {score.episodes:,} episodes)",
                flush=True,
            )
    report = {
        "args": asdict(args),
        "results": results,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    run(parse_args())
