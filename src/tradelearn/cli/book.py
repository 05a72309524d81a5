"""``tradelearn book ...``: replay LOBSTER messages through the L3 book and verify it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.table import Table

from tradelearn.cli.common import (
    emit_json,
    err_console,
    out_console,
    progress,
    resolve_input,
    run_guarded,
)
from tradelearn.data.lobster import DEFAULT_TICK, LobsterDay, load_lobster

if TYPE_CHECKING:
    from tradelearn.book.fast import FastBook

app = typer.Typer(help="The L3 order book: replay and verification.", no_args_is_help=True)


def replay_throughput(events: np.ndarray, tick: int, repeats: int = 3) -> tuple[float, FastBook]:
    """Best-of-``repeats`` book-only replay time (compiled, warm) and the final book."""
    # the compiled book loads on use: the rest of the command line starts without numba
    from tradelearn.book.fast import FastBook

    warm = FastBook.for_events(events[: min(len(events), 1000)], tick)
    warm.apply(events[: min(len(events), 1000)])  # compiles (or loads the cache) outside the clock
    best = float("inf")
    book = FastBook.for_events(events, tick)
    for _ in range(max(1, repeats)):
        book = FastBook.for_events(events, tick)
        t0 = time.perf_counter()
        book.apply(events)
        best = min(best, time.perf_counter() - t0)
    return best, book


def _report_table(result: dict[str, Any]) -> Table:
    table = Table(title="book replay", show_header=False)
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:,.4f}" if value < 10 else f"{value:,.0f}"
        elif isinstance(value, list):
            value = ", ".join(map(str, value[:10])) + (" ..." if len(value) > 10 else "")
        table.add_row(key, str(value))
    return table


@app.command()
def replay(
    message: Annotated[
        Path, typer.Option("--message", "-m", help="LOBSTER message file (.csv or .csv.gz).")
    ],
    orderbook: Annotated[
        Path | None,
        typer.Option("--orderbook", "-o", help="LOBSTER orderbook file to verify against."),
    ] = None,
    verify_book: Annotated[
        bool,
        typer.Option("--verify/--no-verify", help="Run the one-step check against --orderbook."),
    ] = True,
    levels: Annotated[
        int | None, typer.Option(help="Levels in the orderbook file (default: from its name).")
    ] = None,
    tick: Annotated[
        int, typer.Option(help="Price grid in LOBSTER units (100 = one cent).")
    ] = DEFAULT_TICK,
    repair: Annotated[
        bool, typer.Option("--repair", help="Drop and report bad rows instead of failing.")
    ] = False,
    reference: Annotated[
        bool,
        typer.Option("--reference", help="Also run the check on the plain-Python book (slow)."),
    ] = False,
    repeats: Annotated[int, typer.Option(help="Timed book-only replays (best is reported).")] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Replay a LOBSTER message file; with --orderbook, check the book row by row at every level."""

    def body() -> None:
        mpath = resolve_input(message, "--message")
        opath = resolve_input(orderbook, "--orderbook") if orderbook is not None else None
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("parse", total=3 if opath is not None and verify_book else 2)
            t0 = time.perf_counter()
            day: LobsterDay = load_lobster(
                mpath, opath, levels=levels, tick_size=tick, repair=repair
            )
            parse_s = time.perf_counter() - t0
            prog.update(task, advance=1, description="replay")
            seconds, book = replay_throughput(day.events, tick, repeats)
            prog.update(task, advance=1)
            result: dict[str, Any] = {
                "message_file": str(mpath),
                "orderbook_file": None if opath is None else str(opath),
                "symbol": day.symbol,
                "date": day.date.isoformat(),
                "levels": day.levels,
                "messages": day.n,
                "parse_seconds": parse_s,
                "replay_seconds": seconds,
                "messages_per_second": day.n / seconds if seconds > 0 else float("inf"),
                "orders_resting_at_end": book.n_orders,
                "best_bid_at_end": book.best_bid(),
                "best_ask_at_end": book.best_ask(),
                "rows_dropped": len(day.report),
            }
            if opath is not None and verify_book:
                assert day.book is not None
                prog.update(task, description="verify")
                from tradelearn.book.replay import verify, verify_reference

                rep = verify(day.events, day.book, day.levels, tick)
                prog.update(task, advance=1)
                result.update(rep.to_dict())
                result["messages_per_second"] = day.n / seconds if seconds > 0 else float("inf")
                result["verify_messages_per_second"] = rep.messages_per_second
                del result["seconds"]
                if reference:
                    ref, _ = verify_reference(day.events, day.book, day.levels)
                    result["reference_rows_matched"] = ref.rows_matched
                    result["reference_unexplained"] = ref.unexplained
                    result["reference_agrees"] = (
                        ref.rows_matched,
                        ref.unexplained,
                        ref.corrections,
                    ) == (
                        rep.rows_matched,
                        rep.unexplained,
                        rep.corrections,
                    )
        if day.report.dropped:
            err_console.print(day.report.summary(), highlight=False)
        if json_out:
            emit_json(result)
        else:
            out_console.print(_report_table(result))

    run_guarded(body)
