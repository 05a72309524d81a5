"""Book-only replay throughput of LOBSTER messages, against the plain-Python reference book.

Usage::

    python benchmarks/bench_replay.py [--data-dir DIR] [--messages N] [--repeat R]

Two workloads, parsing always outside the clock:

* the real LOBSTER GOOG level-10 day (147,916 messages) when the data folder has it;
* a generated message file of ``--messages`` messages (default 10 million), written as
  a LOBSTER message file and parsed back.

For each, the compiled book replays every message into a fresh book ``--repeat`` times
after a warm-up (JIT compiled or loaded from numba's cache); the best run counts. The
baseline, run in the same process, is the plain-Python reference book on the same
messages (on a prefix for the large file). The end state is checked: the compiled
book's final top levels equal the reference's (GOOG) and the generator's own book
(generated file). Cold start (a new process: import + compile, with an empty numba
cache and with a warm one) is measured separately. The last line is the speed-up of
the compiled book over the reference.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tradelearn.book.fast import FastBook
from tradelearn.book.reference import ReferenceBook
from tradelearn.config import data_dir
from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID, load_lobster, write_lobster
from tradelearn.sim.generate import FlowParams, generate_day

GOOG = "lobster/GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
TARGET = 20e6


def compiled_rate(events: np.ndarray, tick: int, repeat: int) -> tuple[float, FastBook]:
    warm = FastBook.for_events(events, tick)
    warm.apply(events)
    best = float("inf")
    book = warm
    for _ in range(repeat):
        book = FastBook.for_events(events, tick)
        t0 = time.perf_counter()
        book.apply(events)
        best = min(best, time.perf_counter() - t0)
    return events.shape[0] / best, book


def reference_rate(events: np.ndarray, limit: int) -> tuple[float, ReferenceBook]:
    ref = ReferenceBook()
    sub = events[:limit]
    cols = [sub[f].tolist() for f in ("event", "order_id", "side", "price", "qty")]
    t0 = time.perf_counter()
    for ev, oid, side, px, q in zip(*cols, strict=True):
        ref.apply(ev, oid, side, px, q)
    return sub.shape[0] / (time.perf_counter() - t0), ref


def cold_start(events: np.ndarray) -> dict[str, float]:
    """Seconds for a new process to import the book and replay 1,000 messages."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ev.npy"
        np.save(path, events[:1000])
        code = (
            "import time; t=time.perf_counter();"
            "import numpy as np; from tradelearn.book.fast import FastBook;"
            f"ev=np.load({str(path)!r});"
            "t1=time.perf_counter(); b=FastBook.for_events(ev,100); b.apply(ev);"
            "print(time.perf_counter()-t, time.perf_counter()-t1)"
        )
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "cache"), "OMP_NUM_THREADS": "1"}
        for label in ("empty cache", "warm cache"):
            proc = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            total, first_call = (float(x) for x in proc.stdout.split())
            out[f"cold start (import + first replay), {label} (s)"] = total
            out[f"  of which the first replay call, {label} (s)"] = first_call
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    root = data_dir(args.data_dir)
    ratios: list[float] = []

    goog = root / GOOG if root is not None else None
    if goog is not None and goog.exists():
        t0 = time.perf_counter()
        events = load_lobster(goog).events
        parse_s = time.perf_counter() - t0
        rate, book = compiled_rate(events, 100, args.repeat)
        ref_rate, ref = reference_rate(events, events.shape[0])
        assert book.snapshot(10).tolist() == ref.snapshot(10, DUMMY_ASK, DUMMY_BID), (
            "GOOG end state differs"
        )
        print(
            f"GOOG level-10 day: {events.shape[0]:,} messages (parse {parse_s:.2f} s, outside the clock)"
        )
        print(
            f"  compiled book: {rate / 1e6:.1f} M msg/s  (target {TARGET / 1e6:.0f} M: {'met' if rate >= TARGET else 'NOT met'})"
        )
        print(f"  reference book: {ref_rate / 1e6:.3f} M msg/s")
        ratios.append(rate / ref_rate)
    else:
        print("GOOG level-10 day: skipped (no real data folder)")

    params = FlowParams(limit_rate=300.0, market_rate=45.0, cancel_rate=0.05, hidden_rate=5.0)
    t0 = time.perf_counter()
    day = generate_day(seed=1, seconds=23_400, levels=1, params=params, max_events=args.messages)
    gen_s = time.perf_counter() - t0
    assert day.book is not None
    n = day.events.shape[0]
    with tempfile.TemporaryDirectory() as tmp:
        mpath, _ = write_lobster(
            tmp, symbol="GEN", date=day.date, levels=1, events=day.events, book=day.book
        )
        t0 = time.perf_counter()
        events = load_lobster(mpath).events
        parse_s = time.perf_counter() - t0
    assert np.array_equal(events, day.events)
    cold = cold_start(events)
    rate, book = compiled_rate(events, 100, max(3, args.repeat // 4))
    assert book.snapshot(1).tolist() == day.book[-1].tolist(), "generated end state differs"
    ref_rate, _ = reference_rate(events, 300_000)
    print(
        f"generated file: {n:,} messages (generate {gen_s:.1f} s, parse {parse_s:.1f} s, outside the clock)"
    )
    print(
        f"  compiled book: {rate / 1e6:.1f} M msg/s  (target {TARGET / 1e6:.0f} M: {'met' if rate >= TARGET else 'NOT met'})"
    )
    print(f"  reference book (first 300,000): {ref_rate / 1e6:.3f} M msg/s")
    for key, value in cold.items():
        print(f"  {key}: {value:.2f}")
    ratios.append(rate / ref_rate)
    print(f"compiled vs reference book replay speed-up: {min(ratios):.0f}x")


if __name__ == "__main__":
    main()
