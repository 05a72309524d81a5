"""``tradelearn sim ...``: the synthetic market."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer

from tradelearn.cli.common import emit_json, out_console, progress, run_guarded
from tradelearn.sim.generate import generate_day, write_day

app = typer.Typer(help="Market simulation: synthetic days.", no_args_is_help=True)


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
    gzip_files: Annotated[bool, typer.Option("--gzip", help="Write .csv.gz files.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Write a synthetic trading day as LOBSTER files that the book replays exactly."""

    def body() -> None:
        try:
            day_date = dt.date.fromisoformat(date)
        except ValueError:
            raise typer.BadParameter(f"--date must be YYYY-MM-DD, actually: {date!r}") from None
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("generate", total=2)
            t0 = time.perf_counter()
            day = generate_day(
                seed=seed, seconds=seconds, levels=levels, symbol=symbol, date=day_date
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
            "generate_seconds": gen_s,
        }
        if json_out:
            emit_json(result)
        else:
            out_console.print(f"wrote {result['messages']:,} messages:\n  {mpath}\n  {opath}")

    run_guarded(body)
