"""``tradelearn exec ...``: train execution agents and evaluate policies in model worlds.

The heavy modules (torch, Stable-Baselines3, numba kernels) load inside the commands, so
the rest of the command line starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from tradelearn.cli.common import emit_json, err_console, out_console, run_guarded
from tradelearn.errors import ConfigError

app = typer.Typer(
    help="Execution: train agents in model worlds, evaluate policies against the optimum.",
    no_args_is_help=True,
)

MODEL_ENV_ID = "tradelearn/ModelExecution-v0"


@app.command("train")
def train_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for model, config, logs.")],
    env: Annotated[str, typer.Option("--env", help="Environment id.")] = MODEL_ENV_ID,
    world: Annotated[str, typer.Option("--world", help="Model world: ac, ow or cj.")] = "ac",
    algo: Annotated[str, typer.Option("--algo", help="ppo or dqn (double DQN).")] = "ppo",
    timesteps: Annotated[int, typer.Option("--timesteps", help="Environment steps.")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of env, agent and torch.")] = 0,
    n_envs: Annotated[
        int | None, typer.Option("--n-envs", help="Batched environments (default per algo).")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train PPO or double DQN; writes model.zip, config.json, tb/ and checkpoints/ in --out."""

    def body() -> None:
        from tradelearn.execution.train import TrainConfig, train

        hyper = {} if n_envs is None else {"n_envs": n_envs}
        cfg = TrainConfig(
            env_id=env,
            world=world,
            algo=algo,
            timesteps=timesteps,
            seed=seed,
            hyperparameters=hyper,
        )
        result = train(cfg, out, progress=progress)
        summary = {
            "env": env,
            "world": world,
            "algo": algo,
            "seed": seed,
            "timesteps": result.timesteps,
            "train_seconds": round(result.seconds, 3),
            "out": str(result.out),
            "model": str(result.model_path),
            "config": str(result.config_path),
        }
        if json_out:
            emit_json(summary)
        else:
            for key, value in summary.items():
                out_console.print(f"{key}: {value}")

    run_guarded(body)


@app.command("evaluate-model")
def evaluate_model(
    world: Annotated[str, typer.Option("--world", help="Model world: ac, ow or cj.")] = "ac",
    policies: Annotated[
        str,
        typer.Option(
            "--policies",
            help="Comma-separated: twap, vwap, pov[:RATE], ac, ow, cj, optimal, "
            "submit_and_leave, or folders written by exec train.",
        ),
    ] = "twap,optimal",
    episodes: Annotated[int, typer.Option("--episodes", help="Episodes per policy.")] = 10_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the evaluation episodes.")
    ] = 1_000_000,
    volumes: Annotated[
        Path | None,
        typer.Option("--volumes", help="VWAP training volumes: .npy or .csv, days x steps."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Evaluate policies in a model world: mean objective, gap to the exact optimum, error."""

    def body() -> None:
        from tradelearn.execution.evaluate_models import build_policy, evaluate_policy
        from tradelearn.execution.worlds import make_world, riccati

        w = make_world(world)
        vols = None if volumes is None else _load_volumes(volumes)
        specs = [s.strip() for s in policies.split(",") if s.strip()]
        if not specs:
            raise ConfigError("--policies is empty")
        scores = []
        for spec in specs:
            err_console.print(f"evaluating {spec} in {world} ({episodes:,} episodes)")
            policy = build_policy(spec, w, seed=seed, volumes=vols)
            scores.append(evaluate_policy(w, policy, episodes, seed))
        report = {
            "world": w.to_dict(),
            "episodes": episodes,
            "seed": seed,
            "optimum_bps": riccati(w).cost_bps,
            "scores": [s.to_dict() for s in scores],
        }
        if json_out:
            emit_json(report)
            return
        table = Table(
            title=f"{world}: optimum {report['optimum_bps']:.4f} bp, {episodes:,} episodes"
        )
        for col in ("policy", "cost bp (raw)", "cost bp (noise-adjusted)", "exact bp", "gap %"):
            table.add_column(col, justify="right")
        for s in scores:
            table.add_row(
                s.policy,
                f"{s.mean_cost_bps:.3f} ± {s.se_cost_bps:.3f}",
                f"{s.mean_adjusted_bps:.4f} ± {s.se_adjusted_bps:.4f}",
                "-" if s.exact_bps is None else f"{s.exact_bps:.4f}",
                f"{s.gap_pct:.3f} ± {s.gap_se_pct:.3f}",
            )
        out_console.print(table)

    run_guarded(body)


def _load_volumes(path: Path) -> np.ndarray:
    if not path.is_file():
        raise ConfigError(f"--volumes: no file '{path}'")
    try:
        if path.suffix == ".npy":
            return np.asarray(np.load(path), dtype=np.float64)
        return np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ConfigError(f"{path}: expected a days x steps table of volumes: {exc}") from exc
