"""Store read speed against parsing the LOBSTER CSV pair.

Usage::

    python benchmarks/bench_store.py [--data-dir DIR] [--repeat N]

Uses the real LOBSTER GOOG level-10 day (``lobster/GOOG_2012-06-21_..._10.csv.gz``
under the data folder, see :func:`tradelearn.config.data_dir`) when present, else a
generated day of the same size written as a LOBSTER CSV pair. It times

(a) parsing the CSV pair into the event and book arrays (``load_lobster``),
(b) ingesting them into a temporary store,
(c) reading events and book back from the store,

each as the best of several runs, asserts that the read-back arrays equal the
parsed ones exactly, and prints the figures; the last line is the speed-up of (c)
over (a).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tradelearn.config import data_dir
from tradelearn.data.lobster import load_lobster
from tradelearn.data.store import Store

T = TypeVar("T")

STEM = "GOOG_2012-06-21_34200000_57600000"
LEVELS = 10
GEN_ROWS = 147_916  # as many rows as the real GOOG level-10 day
TICK = 100


def best_of(runs: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Return the fastest wall time of ``runs`` calls and the last result."""
    best = float("inf")
    result: T | None = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def real_pair(folder: Path | None) -> tuple[Path, Path] | None:
    """Return the real GOOG level-10 message/orderbook pair, if the data folder has it."""
    if folder is None:
        return None
    message = folder / "lobster" / f"{STEM}_message_{LEVELS}.csv.gz"
    orderbook = folder / "lobster" / f"{STEM}_orderbook_{LEVELS}.csv.gz"
    return (message, orderbook) if message.is_file() and orderbook.is_file() else None


def generate_pair(out: Path, rows: int = GEN_ROWS, seed: int = 7) -> tuple[Path, Path]:
    """Write a LOBSTER-format day of ``rows`` messages and level-10 snapshots.

    The messages and book pass ``load_lobster``'s checks (on-tick prices, ordered,
    uncrossed levels) but the book does not replay the messages: only storage speed
    is measured here.
    """
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(34_200, 57_600, rows))
    kind = rng.choice([1, 2, 3, 4, 5], size=rows, p=[0.45, 0.05, 0.4, 0.07, 0.03])
    mid_ticks = 58_000 + np.cumsum(rng.integers(-1, 2, rows))  # random walk, in ticks
    offsets = rng.integers(1, 6, rows)
    direction = rng.choice([1, -1], size=rows)
    price = (mid_ticks - direction * offsets) * TICK
    hidden = kind == 5
    price[hidden] = mid_ticks[hidden] * TICK + 50  # hidden executions may trade between ticks
    message = pa.table(
        {
            "time": pa.array(seconds.round(9)),
            "type": pa.array(kind),
            "order_id": pa.array(np.where(hidden, 0, rng.integers(1, 10**8, rows))),
            "size": pa.array(rng.integers(1, 10, rows) * 100),
            "price": pa.array(price),
            "direction": pa.array(direction),
        }
    )
    columns: dict[str, np.ndarray] = {}
    for level in range(1, LEVELS + 1):
        columns[f"ask_price_{level}"] = (mid_ticks + level) * TICK
        columns[f"ask_size_{level}"] = rng.integers(1, 50, rows) * 100
        columns[f"bid_price_{level}"] = (mid_ticks - level) * TICK
        columns[f"bid_size_{level}"] = rng.integers(1, 50, rows) * 100
    orderbook = pa.table(columns)
    stem = STEM.replace("GOOG", "GEN")
    paths = (out / f"{stem}_message_{LEVELS}.csv.gz", out / f"{stem}_orderbook_{LEVELS}.csv.gz")
    for table, path in zip((message, orderbook), paths, strict=True):
        with gzip.open(path, "wb", compresslevel=6) as sink:
            pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", help="real-data folder (default: tradelearn.config.data_dir())"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of parse and ingest (read: 5x as many)"
    )
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)

    with tempfile.TemporaryDirectory(prefix="bench_store_") as tmp:
        work = Path(tmp)
        pair = real_pair(data_dir(args.data_dir))
        if pair is None:
            print(f"real LOBSTER {STEM} level-{LEVELS} pair not found: generating {GEN_ROWS} rows")
            pair = generate_pair(work)
        message, orderbook = pair
        csv_bytes = message.stat().st_size + orderbook.stat().st_size
        print(f"input: {message.name} + {orderbook.name} ({csv_bytes / 1e6:.1f} MB)")

        t_parse, day = best_of(repeat, lambda: load_lobster(message, orderbook))
        assert day.book is not None
        events, book = day.events, day.book
        print(f"rows: {len(events)}, levels: {day.levels}")

        store = Store(work / "store")
        date: dt.date = day.date
        t_ingest, paths = best_of(
            repeat,
            lambda: store.ingest_events("lobster", day.symbol, date, events, book=book),
        )
        parquet_bytes = sum(path.stat().st_size for path in paths)

        def read() -> tuple[np.ndarray, np.ndarray]:
            got_events = store.read_events("lobster", day.symbol, date)
            got_book = store.read_book("lobster", day.symbol, date)
            return got_events, got_book

        t_read, (got_events, got_book) = best_of(5 * repeat, read)
        assert got_events.dtype == events.dtype and np.array_equal(got_events, events)
        assert got_book.dtype == np.int64 and np.array_equal(got_book, book)

        print(f"(a) parse CSV pair (load_lobster): {t_parse * 1e3:9.1f} ms")
        print(f"(b) ingest into store:             {t_ingest * 1e3:9.1f} ms")
        print(f"(c) read events + book from store: {t_read * 1e3:9.1f} ms")
        print(f"sizes: CSV.gz {csv_bytes / 1e6:.1f} MB, Parquet {parquet_bytes / 1e6:.1f} MB")
        print("read-back equals parsed arrays: yes")
        print(f"store read speed-up vs CSV parse: {t_parse / t_read:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
