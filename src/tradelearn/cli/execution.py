"""``tradelearn exec ...``: train execution agents and evaluate policies.

``exec train`` trains PPO or double DQN in a model world (``--env
tradelearn/ModelExecution-v0 --world ac|ow|cj``) or over the simulated market (``--env
tradelearn/Execution-v0`` with the market options below); ``exec evaluate`` runs baselines
and trained agents over the same held-out episodes of the simulated market and reports
shortfall, its split, timing risk, outperformance against TWAP and paired Wilcoxon tests
(``--json OUT.json``, ``--report OUT.html``); ``exec evaluate-model`` scores policies in a
model world against its exact optimum.

Market options (both ``train`` and ``evaluate``): ``--market replay --message M --orderbook
O`` (LOBSTER files; ``--impact default`` adds our own trades' impact) or ``--market agents
--seed S`` (the agent-based market; ``--seed`` is the market's seed, so training and
evaluation on different seeds are disjoint markets); ``--start-window HH:MM-HH:MM`` where
episodes start; the order: ``--side``, ``--horizon-s``, ``--n-steps``, ``--participation``
or ``--parent-qty``, ``--levels``.

The heavy modules (torch, Stable-Baselines3, numba kernels) load inside the commands, so
the rest of the command line starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from tradelearn.cli.common import emit_json, err_console, out_console, run_guarded
from tradelearn.errors import ConfigError

app = typer.Typer(
    help="Execution: train agents (model worlds or the simulated market) and evaluate "
    "policies on held-out episodes.",
    no_args_is_help=True,
)

MODEL_ENV_ID = "tradelearn/ModelExecution-v0"
EXEC_ENV_ID = "tradelearn/Execution-v0"

MarketOpt = Annotated[
    str | None, typer.Option("--market", help="Simulated market: replay or agents.")
]
MessageOpt = Annotated[Path | None, typer.Option("--message", help="Replay: LOBSTER message file.")]
OrderbookOpt = Annotated[
    Path | None, typer.Option("--orderbook", help="Replay: LOBSTER orderbook file.")
]
WindowOpt = Annotated[
    str | None,
    typer.Option("--start-window", help="Episodes start in HH:MM-HH:MM (e.g. 12:00-15:00)."),
]
ImpactOpt = Annotated[
    str | None, typer.Option("--impact", help="Replay: our trades' impact: default or power.")
]
SideOpt = Annotated[str, typer.Option("--side", help="sell or buy.")]
HorizonOpt = Annotated[float, typer.Option("--horizon-s", help="Seconds to finish the order.")]
StepsOpt = Annotated[int, typer.Option("--n-steps", help="Decisions per episode.")]
PartOpt = Annotated[
    float,
    typer.Option("--participation", help="Order size as a share of the horizon's volume."),
]
QtyOpt = Annotated[
    int | None,
    typer.Option("--parent-qty", help="Order size in shares (overrides --participation)."),
]
LevelsOpt = Annotated[int, typer.Option("--levels", help="Book levels in the observation.")]


def exec_env_config(
    *,
    market: str | None,
    message: Path | None,
    orderbook: Path | None,
    seed: int,
    start_window: str | None,
    impact: str | None,
    side: str,
    horizon_s: float,
    n_steps: int,
    participation: float,
    parent_qty: int | None,
    levels: int,
) -> Any:
    """The simulator environment's config from the market and order options."""
    from tradelearn.cli.common import resolve_input
    from tradelearn.execution.agents import parse_window
    from tradelearn.execution.exec_config import ExecEnvConfig, MarketConfig

    if market not in ("replay", "agents"):
        raise ConfigError(f"--market must be 'replay' or 'agents', actually: {market!r}")
    if side not in ("sell", "buy"):
        raise ConfigError(f"--side must be 'sell' or 'buy', actually: {side!r}")
    if market == "replay":
        if message is None or orderbook is None:
            raise ConfigError("--market replay needs --message and --orderbook (LOBSTER files)")
        mk = MarketConfig(
            kind="replay",
            message=str(resolve_input(message, "--message")),
            orderbook=str(resolve_input(orderbook, "--orderbook")),
            impact=impact,
        )
    else:
        if message is not None or orderbook is not None or impact is not None:
            raise ConfigError("--message/--orderbook/--impact are for --market replay")
        mk = MarketConfig(kind="agents", seed=seed)
    extra: dict[str, Any] = {}
    if start_window is not None:
        extra["start_window_s"] = parse_window(start_window)
    return ExecEnvConfig(
        market=mk,
        side=-1 if side == "sell" else 1,
        horizon_s=horizon_s,
        n_steps=n_steps,
        parent_qty=parent_qty,
        participation=participation,
        levels=levels,
        **extra,
    )


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
    time_budget_s: Annotated[
        float | None, typer.Option("--time-budget-s", help="Stop after this many seconds.")
    ] = None,
    market: MarketOpt = None,
    message: MessageOpt = None,
    orderbook: OrderbookOpt = None,
    start_window: WindowOpt = None,
    impact: ImpactOpt = None,
    side: SideOpt = "sell",
    horizon_s: HorizonOpt = 1800.0,
    n_steps: StepsOpt = 30,
    participation: PartOpt = 0.02,
    parent_qty: QtyOpt = None,
    levels: LevelsOpt = 5,
    both_sides: Annotated[
        bool,
        typer.Option(
            "--both-sides", help="Execution-v0: half the copies buy, half sell (drift-neutral)."
        ),
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train PPO or double DQN; writes model.zip, config.json, tb/ and checkpoints/ in --out
    (and monitor.csv on the simulated market)."""

    def body() -> None:
        from tradelearn.execution.train import TrainConfig, train

        hyper = {} if n_envs is None else {"n_envs": n_envs}
        env_params: dict[str, Any] = {}
        if env == EXEC_ENV_ID:
            env_params = exec_env_config(
                market=market or "agents", message=message, orderbook=orderbook, seed=seed,
                start_window=start_window, impact=impact, side=side, horizon_s=horizon_s,
                n_steps=n_steps, participation=participation, parent_qty=parent_qty,
                levels=levels,
            ).to_dict()  # fmt: skip
        elif market is not None:
            raise ConfigError(f"--market is for --env {EXEC_ENV_ID}, not {env}")
        cfg = TrainConfig(
            env_id=env,
            world=world,
            env_params=env_params,
            algo=algo,
            timesteps=timesteps,
            seed=seed,
            hyperparameters=hyper,
            time_budget_s=time_budget_s,
            both_sides=both_sides,
        )
        result = train(cfg, out, progress=progress)
        summary = {
            "env": env,
            "world": world if env == MODEL_ENV_ID else None,
            "market": env_params.get("market"),
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


REPLAY_EVAL_WINDOW = "12:00-15:00"
REPLAY_TRAIN_WINDOW = "09:45-11:30"


@app.command("evaluate")
def evaluate_cmd(
    policies: Annotated[
        str,
        typer.Option(
            "--policies",
            help="Comma-separated: twap, vwap, pov[:RATE], ac, submit_and_leave, or folders "
            "written by exec train (TWAP is always added: it is the benchmark).",
        ),
    ] = "twap,vwap,pov,ac",
    episodes: Annotated[int, typer.Option("--episodes", help="Paired episodes.")] = 50,
    market: MarketOpt = "agents",
    message: MessageOpt = None,
    orderbook: OrderbookOpt = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the market (agents) and of the episodes.")
    ] = 1,
    start_window: Annotated[
        str | None,
        typer.Option(
            "--start-window",
            help=f"Held-out episodes start in HH:MM-HH:MM (replay default {REPLAY_EVAL_WINDOW}).",
        ),
    ] = None,
    impact: ImpactOpt = None,
    side: SideOpt = "sell",
    horizon_s: HorizonOpt = 1800.0,
    n_steps: StepsOpt = 30,
    participation: PartOpt = 0.02,
    parent_qty: QtyOpt = None,
    levels: LevelsOpt = 5,
    train_window: Annotated[
        str | None,
        typer.Option(
            "--train-window",
            help="Where VWAP's profile and AC's parameters are estimated (default: the "
            f"first agent's training window, else {REPLAY_TRAIN_WINDOW} for replay and the "
            "evaluation window for agents).",
        ),
    ] = None,
    train_seed: Annotated[
        int | None,
        typer.Option(
            "--train-seed",
            help="Agents: the training market's seed (default: the first agent's, else --seed + 1).",
        ),
    ] = None,
    train_message: Annotated[
        Path | None, typer.Option("--train-message", help="Replay: training message file.")
    ] = None,
    train_orderbook: Annotated[
        Path | None, typer.Option("--train-orderbook", help="Replay: training orderbook file.")
    ] = None,
    calibration_episodes: Annotated[
        int, typer.Option("--calibration-episodes", help="Training episodes for VWAP and AC.")
    ] = 20,
    ac_risk_aversion: Annotated[
        float,
        typer.Option("--ac-risk-aversion", help="AC: weight of Var[IS] (bp^2) against E[IS] (bp)."),
    ] = 0.01,
    json_path: Annotated[
        str | None,
        typer.Option("--json", help="Write the results as JSON to this file ('-': stdout)."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the HTML report to this file.")
    ] = None,
    progress_bar: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Run every policy on the same held-out episodes of the simulated market; report
    shortfall, spread/impact/timing cost, timing risk, outperformance and Wilcoxon tests."""

    def body() -> None:
        from tradelearn.cli.common import progress
        from tradelearn.execution.agents import calibrate, compare, parse_window, read_config
        from tradelearn.execution.exec_config import MarketConfig

        if episodes < 1:
            raise ConfigError(f"--episodes must be at least 1, actually: {episodes}")
        specs = [s.strip() for s in policies.split(",") if s.strip()]
        if not specs:
            raise ConfigError("--policies is empty")
        for spec in specs:
            name = spec.partition(":")[0]
            known = name in ("twap", "vwap", "pov", "ac", "submit_and_leave", "sal")
            if not known and not Path(spec).is_dir():
                raise ConfigError(
                    f"--policies: unknown policy {spec!r}: expected twap, vwap, pov[:RATE], "
                    "ac, submit_and_leave or a folder written by exec train"
                )
        window = start_window
        if window is None and market == "replay":
            window = REPLAY_EVAL_WINDOW
        cfg = exec_env_config(
            market=market, message=message, orderbook=orderbook, seed=seed,
            start_window=window, impact=impact, side=side, horizon_s=horizon_s,
            n_steps=n_steps, participation=participation, parent_qty=parent_qty, levels=levels,
        )  # fmt: skip
        # the training market: options, else the first agent's, else defaults
        agent_dirs = [Path(s) for s in specs if Path(s).is_dir()]
        trained = read_config(agent_dirs[0]).get("env") if agent_dirs else None
        cal_market = cfg.market.to_dict()
        cal_window = cfg.start_window_s
        if trained is not None:
            cal_market = dict(trained["market"])
            cal_window = tuple(trained["start_window_s"])
        elif market == "replay":
            cal_window = parse_window(REPLAY_TRAIN_WINDOW, "--train-window")
        elif market == "agents":
            cal_market["seed"] = seed + 1
        if train_window is not None:
            cal_window = parse_window(train_window, "--train-window")
        if train_seed is not None:
            if cfg.market.kind != "agents":
                raise ConfigError("--train-seed is for --market agents")
            cal_market = {**cfg.market.to_dict(), "seed": train_seed}
        if (train_message is None) != (train_orderbook is None):
            raise ConfigError("--train-message and --train-orderbook go together")
        if train_message is not None and train_orderbook is not None:
            from tradelearn.cli.common import resolve_input

            cal_market = {
                **cfg.market.to_dict(),
                "message": str(resolve_input(train_message, "--train-message")),
                "orderbook": str(resolve_input(train_orderbook, "--train-orderbook")),
            }
        cal_cfg = cfg.with_overrides(
            market=MarketConfig.from_dict(cal_market), start_window_s=cal_window
        )
        need_cal = any(s.partition(":")[0] in ("vwap", "ac") for s in specs)
        cal = None
        with progress(enabled=progress_bar) as prog:
            if need_cal:
                task = prog.add_task("calibrate VWAP and AC on training episodes", total=None)
                cal = calibrate(cal_cfg, calibration_episodes, seed + 7_919)
                prog.update(task, total=1, completed=1)
            task = prog.add_task("paired episodes", total=episodes * (len(specs) + 1))

            def tick(done: int, total: int) -> None:
                prog.update(task, completed=done, total=total)

            result = compare(
                specs,
                cfg,
                episodes=episodes,
                seed=seed,
                calibration=cal,
                ac_risk_aversion_bps=ac_risk_aversion,
                progress=tick,
                meta={"market": cfg.market.kind},
            )
        doc = result.evaluation.to_dict()
        if report is not None:
            from tradelearn.execution.report import build_report

            where = (
                f"agent-based market seed {cfg.market.seed}"
                if cfg.market.kind == "agents"
                else f"replay of {Path(cfg.market.message or '').name}"
            )
            build_report(
                result.evaluation,
                result.results,
                description=f"{where}; {episodes} held-out episodes starting in "
                f"{cfg.start_window_s[0] / 3600:.2f}-{cfg.start_window_s[1] / 3600:.2f} h; "
                f"order: {'sell' if cfg.side < 0 else 'buy'} "
                f"{doc['parent_qty']} shares over {cfg.horizon_s:.0f} s in {cfg.n_steps} steps.",
                model_dirs=result.model_dirs,
            ).save(report)
            doc["report"] = str(report)
        if json_path == "-":
            emit_json(doc)
            return
        if json_path is not None:
            import json

            out_path = Path(json_path)
            out_path.parent.mkdir(parents=True, exist_ok=True)
            out_path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
        _print_comparison(result.evaluation)
        if json_path is not None:
            out_console.print(f"results: {json_path}")
        if report is not None:
            out_console.print(f"report: {report}")

    run_guarded(body)


def _print_comparison(evaluation: Any) -> None:
    table = Table(title="implementation shortfall, bp of arrival mid (lower is better)")
    for col in ("policy", "IS bp", "se", "spread", "impact", "timing", "risk", "P>twap", "p twap"):
        table.add_column(col, justify="right")

    def f(v: float | None, d: int = 2) -> str:
        return "-" if v is None or v != v else f"{v:.{d}f}"

    for p in evaluation.policies:
        table.add_row(
            p.name, f(p.is_bps), f(p.se_bps), f(p.spread_bps), f(p.impact_bps),
            f(p.timing_bps), f(p.timing_risk_bps), f(p.outperformance_prob),
            f(p.p_values.get("twap"), 4),
        )  # fmt: skip
    out_console.print(table)
