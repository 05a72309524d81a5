"""``tradelearn demo``: the main job on a fresh machine.

On a generated market (or on LOBSTER files given with --message/--orderbook): the data
layer and the order book end to end, the market's stylized facts, and the execution
story: a short PPO run on the session's first hours (replayed through the simulator with
our own trades' impact), then PPO, TWAP, VWAP and Almgren-Chriss (both fitted on the same
training hours) on the same held-out episodes of the later hours, summarized in one HTML
report (``OUT/execution_report.html``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.panel import Panel
from rich.table import Table

from tradelearn.cli.common import emit_json, out_console, progress, resolve_input, run_guarded

NS = 1_000_000_000
OPEN_S = 34_200.0


def _execution_story(
    mpath: Path,
    opath: Path,
    events: np.ndarray,
    out: Path,
    *,
    seed: int,
    timesteps: int,
    budget_s: float,
    episodes: int,
) -> dict[str, Any]:
    """Train PPO on the first hours, evaluate against the baselines on the later ones.

    The session is assumed to open at 09:30 (LOBSTER files and the generated day do); the
    horizon, windows and steps scale with its length so a short session still works.
    """
    from tradelearn.execution.agents import calibrate, compare
    from tradelearn.execution.exec_config import ExecEnvConfig, MarketConfig
    from tradelearn.execution.report import build_report
    from tradelearn.execution.train import TrainConfig, train

    length = float(events["ts_exchange"][-1] - events["ts_exchange"][0]) / NS
    horizon = min(1800.0, length / 12.0)
    train_window = (OPEN_S + horizon / 2 + 60.0, OPEN_S + 0.45 * length - horizon)
    eval_window = (OPEN_S + 0.5 * length, OPEN_S + length - horizon - 60.0)
    market = MarketConfig(kind="replay", message=str(mpath), orderbook=str(opath), impact="default")
    train_cfg = ExecEnvConfig(
        market=market,
        horizon_s=horizon,
        n_steps=10,
        participation=0.03,
        start_window_s=train_window,
    )
    t0 = time.perf_counter()
    run_dir = out / "ppo"
    trained = train(
        TrainConfig(
            env_id="tradelearn/Execution-v0",
            env_params=train_cfg.to_dict(),
            algo="ppo",
            timesteps=timesteps,
            seed=seed,
            time_budget_s=budget_s,
            checkpoints=2,
            both_sides=True,  # one replayed day: do not let PPO bet on its drift
        ),
        run_dir,
        progress=False,
    )
    train_s = time.perf_counter() - t0
    cal = calibrate(train_cfg, 10, seed + 7_919)
    held = train_cfg.with_overrides(start_window_s=eval_window)
    cmp = compare(
        ["twap", "vwap", "ac", str(run_dir)], held, episodes=episodes, seed=seed + 1,
        calibration=cal, meta={"market": "replay"},
    )  # fmt: skip
    report = build_report(
        cmp.evaluation,
        cmp.results,
        title="tradelearn demo: execution on held-out episodes",
        description=(
            f"Replay of {mpath.name} with our trades' impact. PPO trained (buying and selling) "
            f"{trained.timesteps:,} steps ({train_s:.0f} s) on episodes starting "
            f"{train_window[0] / 3600:.2f}-{train_window[1] / 3600:.2f} h; VWAP's profile and "
            "AC's impact and volatility fitted there too; every policy then works the same "
            f"{episodes} held-out orders starting {eval_window[0] / 3600:.2f}-"
            f"{eval_window[1] / 3600:.2f} h (sell 3% of the horizon's volume over "
            f"{horizon:.0f} s in 10 steps)."
        ),
        model_dirs=cmp.model_dirs,
    ).save(out / "execution_report.html")
    return {
        "report": str(report),
        "train_timesteps": trained.timesteps,
        "train_seconds": round(train_s, 1),
        "horizon_s": horizon,
        "episodes": episodes,
        "policies": {
            p.name: {
                "is_bps": round(p.is_bps, 2),
                "timing_risk_bps": round(p.timing_risk_bps, 2),
                "outperformance_prob": round(p.outperformance_prob, 2),
                "p_vs_twap": float(f"{p.p_values.get('twap', float('nan')):.3g}"),
            }
            for p in cmp.evaluation.policies
        },
    }


def _twap_preview(events: np.ndarray, book: np.ndarray, tick: int) -> dict[str, Any]:
    from tradelearn.sim.latency import ConstantLatency
    from tradelearn.sim.replay import ReplaySimulator
    from tradelearn.sim.stylized import session_open_ns
    from tradelearn.sim.types import OrderRequest, ReportKind, TimeInForce

    """Buy 2,000 shares over 30 minutes from 11:00 in 30 slices at the best ask (IOC)."""
    sim = ReplaySimulator(
        events,
        tick=tick,
        levels=book.shape[1] // 4,
        book_rows=book,
        latency=ConstantLatency(0, 200_000, 200_000),
    )
    t0 = int(session_open_ns(events)) + 90 * 60 * NS
    sim.reset(t0)
    arrival = sim.mid()
    if arrival is None:
        return {"skipped": "no two-sided book at 11:00"}
    filled = cost = 0.0
    for k in range(30):
        ask = int(sim.book_snapshot(1)[0])
        want = 2_000 // 30 + (1 if k < 2_000 % 30 else 0)
        sim.submit(OrderRequest(client_id=k + 1, side=1, qty=want, price=ask, tif=TimeInForce.IOC))
        sim.advance_to(t0 + (k + 1) * 60 * NS)
        for r in sim.reports():
            if r.kind == ReportKind.FILL:
                filled += r.qty
                cost += r.qty * r.price
    if filled == 0:
        return {"filled": 0}
    avg = cost / filled
    return {
        "filled": int(filled),
        "avg_price": round(avg, 1),
        "arrival_mid": arrival,
        "shortfall_bps": round((avg - arrival) / arrival * 1e4, 2),
    }


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's files and report.")
    ] = Path("demo_out"),
    seed: Annotated[int, typer.Option(help="Seed of the generated market.")] = 0,
    seconds: Annotated[float, typer.Option(help="Length of the generated session (s).")] = 23_400.0,
    message: Annotated[
        Path | None, typer.Option("--message", help="Run on this LOBSTER message file instead.")
    ] = None,
    orderbook: Annotated[
        Path | None, typer.Option("--orderbook", help="... with this orderbook file.")
    ] = None,
    train_timesteps: Annotated[
        int, typer.Option("--train-timesteps", help="PPO's steps in the execution story.")
    ] = 30_000,
    train_budget_s: Annotated[
        float, typer.Option("--train-budget-s", help="... and its wall-clock limit (s).")
    ] = 180.0,
    episodes: Annotated[int, typer.Option("--episodes", help="Held-out episodes per policy.")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Generate a market, validate and store it, replay and verify it, check its stylized
    facts, then train PPO on its first hours and evaluate it against TWAP, VWAP and
    Almgren-Chriss on held-out later hours, with an HTML report."""

    def body() -> dict[str, Any]:
        # the compiled book and simulator load here, so other commands start without them
        from tradelearn.book.replay import verify
        from tradelearn.cli.book import replay_throughput
        from tradelearn.data.lobster import load_lobster
        from tradelearn.data.store import Store
        from tradelearn.sim.generate import generate_day, write_day
        from tradelearn.sim.stylized import stylized_facts

        out.mkdir(parents=True, exist_ok=True)
        steps: dict[str, Any] = {}
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("market", total=8)
            if message is not None:
                if orderbook is None:
                    raise typer.BadParameter(
                        "--message needs --orderbook for the demo's verification"
                    )
                mpath, opath = (
                    resolve_input(message, "--message"),
                    resolve_input(orderbook, "--orderbook"),
                )
                steps["market"] = "LOBSTER files"
            else:
                t0 = time.perf_counter()
                day = generate_day(seed=seed, seconds=seconds, levels=10, symbol="SYN")
                mpath, opath = write_day(day, out / "market")
                steps["market"] = f"generated (seed {seed}, {seconds:.0f} s)"
                steps["generate_seconds"] = round(time.perf_counter() - t0, 3)
            prog.update(task, advance=1, description="parse + validate")
            t0 = time.perf_counter()
            lob = load_lobster(mpath, opath)
            steps["parse_seconds"] = round(time.perf_counter() - t0, 3)
            assert lob.book is not None
            prog.update(task, advance=1, description="store")
            store = Store(out / "store")
            t0 = time.perf_counter()
            store.ingest_events(
                "demo", lob.symbol, lob.date, lob.events, book=lob.book, levels=lob.levels
            )
            steps["ingest_seconds"] = round(time.perf_counter() - t0, 3)
            best = float("inf")
            for _ in range(3):  # best of three, as the benchmark does
                t0 = time.perf_counter()
                events = store.read_events("demo", lob.symbol, lob.date)
                book_rows = store.read_book("demo", lob.symbol, lob.date)
                best = min(best, time.perf_counter() - t0)
            steps["store_read_seconds"] = round(best, 4)
            steps["store_read_speedup_vs_csv"] = round(
                steps["parse_seconds"] / max(steps["store_read_seconds"], 1e-9), 1
            )
            by_type = store.query(
                "SELECT event, count(*) AS n FROM events WHERE source = 'demo' GROUP BY event ORDER BY event"
            ).to_pylist()
            steps["events_by_type"] = {int(r["event"]): int(r["n"]) for r in by_type}
            prog.update(task, advance=1, description="replay")
            secs, _ = replay_throughput(events, lob.instrument.tick_size, repeats=3)
            steps["messages"] = int(events.shape[0])
            steps["replay_messages_per_second"] = round(events.shape[0] / secs)
            prog.update(task, advance=1, description="verify")
            rep = verify(events, book_rows, lob.levels, lob.instrument.tick_size)
            prog.update(task, advance=1, description="stylized facts")
            facts = stylized_facts(events, book_rows)
            steps["stylized_facts"] = {
                "excess_kurtosis": round(facts.excess_kurtosis, 2),
                "ljung_box_p_returns": round(facts.ljung_box_p, 3),
                "ljung_box_p_abs_returns": float(f"{facts.ljung_box_abs_p:.2e}"),
                "all_pass": facts.all_pass,
            }
            prog.update(task, advance=1, description="TWAP in the replay simulator")
            steps["twap_replay"] = _twap_preview(events, book_rows, lob.instrument.tick_size)
            prog.update(task, advance=1, description="execution: PPO vs TWAP, VWAP, AC")
            t0 = time.perf_counter()
            steps["execution"] = _execution_story(
                mpath, opath, events, out, seed=seed, timesteps=train_timesteps,
                budget_s=train_budget_s, episodes=episodes,
            )  # fmt: skip
            steps["execution_seconds"] = round(time.perf_counter() - t0, 1)
            prog.update(task, advance=1)
        steps["verify"] = {
            k: v
            for k, v in rep.to_dict().items()
            if k
            in (
                "rows_compared",
                "rows_matched",
                "rows_matched_in_window",
                "unexplained",
                "match_rate",
                "corrections",
            )
        }
        steps["files"] = {"message": str(mpath), "orderbook": str(opath), "store": str(store.root)}
        (out / "demo_report.json").write_text(json.dumps(steps, indent=2, default=str))
        return steps

    steps = run_guarded(body)
    if json_out:
        emit_json(steps)
        return
    table = Table(title="tradelearn demo", show_header=False)
    for key, value in steps.items():
        if key == "execution":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        table.add_row(key, str(value))
    out_console.print(table)
    ex = steps["execution"]
    policies = Table(
        title=f"execution: {ex['episodes']} held-out orders, PPO trained {ex['train_timesteps']:,} "
        f"steps in {ex['train_seconds']} s (shortfall bp, lower is better)"
    )
    for col in ("policy", "shortfall bp", "timing risk bp", "P(beat twap)", "p vs twap"):
        policies.add_column(col, justify="right")
    for name, row in ex["policies"].items():
        policies.add_row(
            name, str(row["is_bps"]), str(row["timing_risk_bps"]),
            str(row["outperformance_prob"]), str(row["p_vs_twap"]),
        )  # fmt: skip
    out_console.print(policies)
    verdict = (
        "[green]zero unexplained differences[/]"
        if steps["verify"]["unexplained"] == 0
        else "[red]UNEXPLAINED DIFFERENCES[/]"
    )
    out_console.print(
        Panel(
            f"book replay vs orderbook file: {verdict}; figures in {out / 'demo_report.json'}\n"
            f"execution report: {steps['execution']['report']}"
        )
    )
