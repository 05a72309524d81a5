"""``tradelearn data ...``: validate, ingest, list and query market data."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from tradelearn import config
from tradelearn.cli.common import (
    emit_json,
    err_console,
    out_console,
    progress,
    resolve_input,
    run_guarded,
)
from tradelearn.data.daily import load_daily
from tradelearn.data.lobster import DEFAULT_TICK, find_lobster_pairs, load_lobster
from tradelearn.data.mbo import load_mbo, split_by_instrument
from tradelearn.data.store import Store
from tradelearn.data.text import load_text
from tradelearn.data.validation import RepairReport

app = typer.Typer(
    help="Market data: validate, ingest into the Parquet store, list, query.", no_args_is_help=True
)
ingest_app = typer.Typer(
    help="Load a source, validate it and write it to the store.", no_args_is_help=True
)
app.add_typer(ingest_app, name="ingest")

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help=f"Store folder (default: ${config.STORE_ENV} or {config.DEFAULT_STORE}).",
        envvar=config.STORE_ENV,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
RepairOpt = Annotated[
    bool, typer.Option("--repair", help="Drop and report bad rows instead of failing.")
]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._^+-]", "-", name).strip(".-") or "unnamed"


def _finish(result: dict[str, Any], report: RepairReport, json_out: bool) -> None:
    result["rows_dropped"] = len(report)
    result["dropped"] = [str(b) for b in report.dropped[:100]]
    if report.dropped:
        err_console.print(report.summary(), highlight=False)
    if json_out:
        emit_json(result)
    else:
        shown = {k: v for k, v in result.items() if k != "dropped"}
        out_console.print("\n".join(f"{k}: {v}" for k, v in shown.items()), highlight=False)


@ingest_app.command("lobster")
def ingest_lobster(
    message: Annotated[Path, typer.Option("--message", "-m", help="LOBSTER message file.")],
    orderbook: Annotated[
        Path | None, typer.Option("--orderbook", "-o", help="Its orderbook file.")
    ] = None,
    symbol: Annotated[
        str | None, typer.Option(help="Symbol (default: from the file name).")
    ] = None,
    tick: Annotated[int, typer.Option(help="Price grid in LOBSTER units.")] = DEFAULT_TICK,
    source: Annotated[
        str | None,
        typer.Option(help="Source name in the store (default: lobster-l<levels>)."),
    ] = None,
    store: StoreOpt = None,
    repair: RepairOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Ingest a LOBSTER message (+ orderbook) pair."""

    def body() -> None:
        mpath = resolve_input(message, "--message")
        opath = resolve_input(orderbook, "--orderbook") if orderbook is not None else None
        st = Store(config.store_dir(store))
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("parse", total=2)
            t0 = time.perf_counter()
            day = load_lobster(mpath, opath, symbol=symbol, tick_size=tick, repair=repair)
            parse_s = time.perf_counter() - t0
            prog.update(task, advance=1, description="write")
            t1 = time.perf_counter()
            src = source or f"lobster-l{day.levels}"
            paths = st.ingest_events(
                src,
                day.symbol,
                day.date,
                day.events,
                book=day.book,
                levels=day.levels if day.book is not None else None,
                meta={"tick_size": tick, "price_scale": 10_000, "message_file": str(mpath)},
            )
            write_s = time.perf_counter() - t1
            prog.update(task, advance=1)
        result = {
            "source": src,
            "symbol": day.symbol,
            "date": day.date.isoformat(),
            "rows": day.n,
            "levels": day.levels,
            "parse_seconds": parse_s,
            "ingest_seconds": write_s,
            "files": [str(p) for p in paths],
            "store": str(st.root),
        }
        _finish(result, day.report, json_out)

    run_guarded(body)


@ingest_app.command("lobster-dir")
def ingest_lobster_dir(
    folder: Annotated[Path, typer.Argument(help="Folder of LOBSTER message/orderbook pairs.")],
    tick: Annotated[int, typer.Option(help="Price grid in LOBSTER units.")] = DEFAULT_TICK,
    store: StoreOpt = None,
    repair: RepairOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Ingest every LOBSTER pair in a folder (source lobster-l<levels>, one dataset a day)."""

    def body() -> None:
        root = resolve_input(folder, "FOLDER")
        pairs = find_lobster_pairs(root)
        if not pairs:
            raise typer.BadParameter(f"FOLDER: no *_message_*/*_orderbook_* pairs in {root}")
        st = Store(config.store_dir(store))
        report = RepairReport()
        done = []
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("ingest", total=len(pairs))
            for mpath, opath in pairs:
                prog.update(task, description=mpath.name[:40])
                day = load_lobster(mpath, opath, tick_size=tick, repair=repair)
                report.extend(day.report)
                src = f"lobster-l{day.levels}"
                st.ingest_events(
                    src,
                    day.symbol,
                    day.date,
                    day.events,
                    book=day.book,
                    levels=day.levels,
                    meta={"tick_size": tick, "price_scale": 10_000, "message_file": str(mpath)},
                )
                done.append(
                    {
                        "source": src,
                        "symbol": day.symbol,
                        "date": day.date.isoformat(),
                        "rows": day.n,
                    }
                )
                prog.update(task, advance=1)
        _finish({"datasets": done, "store": str(st.root)}, report, json_out)

    run_guarded(body)


@ingest_app.command("mbo")
def ingest_mbo(
    path: Annotated[Path, typer.Argument(help="Databento MBO file (.dbn or .dbn.zst).")],
    source: Annotated[
        str | None, typer.Option(help="Source name (default: the dataset code).")
    ] = None,
    store: StoreOpt = None,
    repair: RepairOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Ingest a Databento MBO file: one dataset per instrument and UTC day."""

    def body() -> None:
        p = resolve_input(path, "PATH")
        st = Store(config.store_dir(store))
        data = load_mbo(p, repair=repair)
        src = _safe(source or data.dataset.lower())
        written: list[str] = []
        parts = split_by_instrument(data)
        with progress(enabled=not json_out) as prog:
            task = prog.add_task("ingest", total=len(parts))
            for iid, part in parts.items():
                days = (part.events["ts_exchange"] // 86_400_000_000_000).astype(np.int64)
                for day_no in np.unique(days):
                    sel = days == day_no
                    date = dt.date(1970, 1, 1) + dt.timedelta(days=int(day_no))
                    paths = st.ingest_events(
                        src,
                        _safe(part.symbol(iid)),
                        date,
                        part.events[sel],
                        meta={
                            "instrument_id": int(iid),
                            "price_scale": 1_000_000_000,
                            "file": str(p),
                        },
                    )
                    written += [str(x) for x in paths]
                prog.update(task, advance=1)
        _finish(
            {
                "source": src,
                "records": len(data),
                "instruments": len(parts),
                "files": written,
                "store": str(st.root),
            },
            data.report,
            json_out,
        )

    run_guarded(body)


@ingest_app.command("daily")
def ingest_daily(
    path: Annotated[Path, typer.Argument(help="Daily OHLCV CSV (plain or .gz).")],
    source: Annotated[
        str | None, typer.Option(help="Source name (default: the file stem).")
    ] = None,
    symbol: Annotated[str | None, typer.Option(help="Symbol for a single-series file.")] = None,
    store: StoreOpt = None,
    repair: RepairOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Ingest a daily OHLCV panel (one row per ticker and day)."""

    def body() -> None:
        p = resolve_input(path, "PATH")
        st = Store(config.store_dir(store))
        panel = load_daily(p, symbol=symbol, repair=repair)
        src = _safe(source or p.name.split(".")[0])
        out = st.ingest_table("daily", src, panel.to_arrow(), symbol=symbol, meta={"file": str(p)})
        _finish(
            {
                "source": src,
                "rows": len(panel),
                "symbols": len(panel.symbols),
                "file": str(out),
                "store": str(st.root),
            },
            panel.report,
            json_out,
        )

    run_guarded(body)


@ingest_app.command("text")
def ingest_text(
    path: Annotated[Path, typer.Argument(help="Labelled text corpus (PhraseBank .txt or CSV).")],
    source: Annotated[
        str | None, typer.Option(help="Source name (default: the file stem).")
    ] = None,
    store: StoreOpt = None,
    repair: RepairOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Ingest a labelled text corpus (sentence + label)."""

    def body() -> None:
        p = resolve_input(path, "PATH")
        st = Store(config.store_dir(store))
        corpus = load_text(p, repair=repair)
        src = _safe(source or p.name.split(".")[0])
        out = st.ingest_table(
            "text", src, corpus.to_arrow(), meta={"file": str(p), "format": corpus.fmt}
        )
        _finish(
            {
                "source": src,
                "rows": len(corpus),
                "labels": corpus.label_counts(),
                "file": str(out),
                "store": str(st.root),
            },
            corpus.report,
            json_out,
        )

    run_guarded(body)


@app.command("validate")
def validate(
    message: Annotated[Path, typer.Option("--message", "-m", help="LOBSTER message file.")],
    orderbook: Annotated[
        Path | None, typer.Option("--orderbook", "-o", help="Its orderbook file.")
    ] = None,
    tick: Annotated[int, typer.Option(help="Price grid in LOBSTER units.")] = DEFAULT_TICK,
    repair: RepairOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Check a LOBSTER pair without storing it (exit code 2 and the first problem if bad)."""

    def body() -> None:
        day = load_lobster(
            resolve_input(message, "--message"),
            resolve_input(orderbook, "--orderbook") if orderbook is not None else None,
            tick_size=tick,
            repair=repair,
        )
        _finish(
            {
                "symbol": day.symbol,
                "date": day.date.isoformat(),
                "rows": day.n,
                "levels": day.levels,
                "valid": True,
            },
            day.report,
            json_out,
        )

    run_guarded(body)


@app.command("ls")
def ls(
    kind: Annotated[
        str | None, typer.Option(help="Only this kind: events, book, daily, text.")
    ] = None,
    store: StoreOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List what the store holds."""

    def body() -> None:
        st = Store(config.store_dir(store))
        held = st.ls(kind)
        rows = [
            {
                "kind": d.kind,
                "source": d.source,
                "symbol": d.symbol,
                "date": None if d.date is None else d.date.isoformat(),
                "rows": d.rows,
                "levels": d.levels,
                "path": str(d.path),
            }
            for d in held
        ]
        if json_out:
            emit_json({"store": str(st.root), "datasets": rows})
            return
        table = Table(title=f"store {st.root}")
        for col in ("kind", "source", "symbol", "date", "rows", "levels"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                *(
                    str(r[c]) if r[c] is not None else ""
                    for c in ("kind", "source", "symbol", "date", "rows", "levels")
                )
            )
        out_console.print(table)

    run_guarded(body)


@app.command("query")
def query(
    sql: Annotated[
        str, typer.Argument(help="SQL over the views events, book, daily, text, datasets.")
    ],
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option(help="Rows to print (JSON prints them all).")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """Run SQL (DuckDB) over the store."""

    def body() -> None:
        st = Store(config.store_dir(store))
        table = st.query(sql)
        if json_out:
            emit_json({"columns": table.column_names, "rows": table.to_pylist()})
            return
        view = Table()
        for name in table.column_names:
            view.add_column(name)
        for row in table.slice(0, limit).to_pylist():
            view.add_row(*(str(v) for v in row.values()))
        out_console.print(view)
        if table.num_rows > limit:
            err_console.print(f"({table.num_rows - limit} more rows; use --limit or --json)")

    run_guarded(body)
