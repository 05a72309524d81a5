"""``tradelearn sim ...``: the synthetic market, its calibration and its stylized facts."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tradelearn.cli.common import emit_json, out_console, progress, resolve_input, run_guarded
from tradelearn.data.lobster import DEFAULT_TICK, load_lobster
from tradelearn.errors import ConfigError
from tradelearn.sim.abm_params import AgentParams
from tradelearn.sim.generate import MODELS, generate_day, write_day

app = typer.Typer(help="Market simulation: synthetic days.", no_args_is_help=True)


def _params(path: Path | None) -> AgentParams | None:
    return None if path is None else AgentParams.from_json(resolve_input(path, "--params"))


def _table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    for key, value in rows.items():
        if isinstance(value, float):
            value = f"{value:.4g}"
        elif isinstance(value, list | tuple):
            value = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value)
        table.add_row(key, str(value))
    return table


@app.command()
def generate(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the LOBSTER message/orderbook pair.")
    ],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same day.")] = 0,
    seconds: Annotated[
        float, typer.Option(help="Session length in seconds from 09:30.")
    ] = 23_400.0,
    levels: Annotated[int, typer.Option(help="Levels per side in the orderbook file.")] = 10,
    symbol: Annotated[str, typer.Option(help="Symbol in the file names.")] = "SYN",
    date: Annotated[str, typer.Option(help="Trading date (YYYY-MM-DD).")] = "2024-01-02",
    model: Annotated[
        str, typer.Option(help="agents (calibrated agent-based market) or zi (zero intelligence).")
    ] = "agents",
    params: Annotated[
        Path | None, typer.Option(help="Agent parameters as JSON (from `sim calibrate --out`).")
    ] = None,
    gzip_files: Annotated[bool, typer.Option("--gzip", help="Write .csv.gz files.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Write a synthetic trading day as LOBSTER files that the book replays exactly."""

    def body() -> None:
        try:
            day_date = dt.date.fromisoformat(date)
        except ValueError:
            raise typer.BadParameter(f"--date must be YYYY-MM-DD, actually: {date!r}") from None
        if model not in MODELS:
            raise typer.BadParameter(f"--model must be one of {MODELS}, actually: {model!r}")
        if params is not None and model != "agents":
            raise typer.BadParameter("--params holds agent parameters: use it with --model agents")
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("generate", total=2)
            t0 = time.perf_counter()
            day = generate_day(
                seed=seed,
                seconds=seconds,
                levels=levels,
                symbol=symbol,
                date=day_date,
                model=model,
                params=_params(params),
            )
            gen_s = time.perf_counter() - t0
            prog.update(task, advance=1, description="write")
            mpath, opath = write_day(day, out, gzip_files=gzip_files)
            prog.update(task, advance=1)
        result = {
            "message_file": str(mpath),
            "orderbook_file": str(opath),
            "messages": int(day.events.shape[0]),
            "levels": levels,
            "seed": seed,
            "model": model,
            "generate_seconds": gen_s,
        }
        if json_out:
            emit_json(result)
        else:
            out_console.print(f"wrote {result['messages']:,} messages:\n  {mpath}\n  {opath}")

    run_guarded(body)


@app.command()
def calibrate(
    message: Annotated[Path, typer.Option("--message", "-m", help="LOBSTER message file.")],
    orderbook: Annotated[Path, typer.Option("--orderbook", "-o", help="LOBSTER orderbook file.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the fitted parameters here (JSON).")
    ] = None,
    tick: Annotated[int, typer.Option(help="Price grid in LOBSTER units.")] = DEFAULT_TICK,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Fit the agent-based market's rates and distributions to a LOBSTER day."""
    from tradelearn.sim.abm_calibrate import calibrate as fit

    def body() -> None:
        mpath = resolve_input(message, "--message")
        opath = resolve_input(orderbook, "--orderbook")
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("load", total=2)
            day = load_lobster(mpath, opath, tick_size=tick)
            assert day.book is not None
            prog.update(task, advance=1, description="fit (and simulate to match moments)")
            cal = fit(day.events, day.book, tick=tick)
            prog.update(task, advance=1)
        result = {"message_file": str(mpath), "orderbook_file": str(opath), **cal.to_dict()}
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(cal.params.to_json(), indent=2) + "\n")
            result["params_file"] = str(out)
        if json_out:
            emit_json(result)
            return
        out_console.print(_table("fitted parameters", cal.params.to_json()))
        figures = {k: v for k, v in cal.figures.items() if not isinstance(v, dict | list)}
        out_console.print(_table("figures of the data", figures))
        for name in ("targets", "simulated", "hawkes", "learning"):
            out_console.print(_table(name, cal.figures[name]))
        if out is not None:
            out_console.print(f"wrote {out}")

    run_guarded(body)


@app.command()
def facts(
    message: Annotated[
        Path | None, typer.Option("--message", "-m", help="LOBSTER message file.")
    ] = None,
    orderbook: Annotated[
        Path | None, typer.Option("--orderbook", "-o", help="LOBSTER orderbook file.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Generate a day with this seed instead of reading files.")
    ] = None,
    seconds: Annotated[float, typer.Option(help="Length of a generated day.")] = 23_400.0,
    params: Annotated[Path | None, typer.Option(help="Agent parameters as JSON.")] = None,
    impact: Annotated[
        bool, typer.Option("--impact", help="Also run the metaorder experiment (square-root law).")
    ] = False,
    impact_n: Annotated[int, typer.Option(help="Metaorders per size.")] = 400,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Stylized facts of a day: heavy tails, no autocorrelation, volatility clustering."""
    from tradelearn.sim.metaorder import square_root_law
    from tradelearn.sim.stylized import stylized_facts

    def body() -> None:
        if (message is None) != (orderbook is None):
            raise typer.BadParameter("--message and --orderbook go together")
        if (message is None) == (seed is None):
            raise typer.BadParameter("give either --message/--orderbook or --seed")
        agent_params = _params(params)
        source: dict[str, Any]
        if message is not None and orderbook is not None:
            day = load_lobster(
                resolve_input(message, "--message"), resolve_input(orderbook, "--orderbook")
            )
            events, book = day.events, day.book
            source = {
                "message_file": str(day.message_path),
                "orderbook_file": str(day.orderbook_path),
            }
        else:
            assert seed is not None
            gen = generate_day(seed=seed, seconds=seconds, levels=1, params=agent_params)
            events, book = gen.events, gen.book
            source = {"seed": seed, "seconds": seconds, "messages": int(events.shape[0])}
        assert book is not None
        if events.shape[0] == 0:
            raise ConfigError("no events: nothing to measure")
        result: dict[str, Any] = {
            **source,
            **stylized_facts(events, book, seconds=seconds).to_dict(),
        }
        if impact:
            fit = square_root_law(agent_params, seed=seed or 0, n_per_size=impact_n)
            result["impact"] = fit.to_dict()
        if json_out:
            emit_json(result)
            return
        rows = {k: v for k, v in result.items() if k != "impact"}
        out_console.print(_table("stylized facts (one-minute mid returns)", rows))
        if impact:
            out_console.print(_table("square-root law (metaorders)", result["impact"]))

    run_guarded(body)
