"""Replay-simulator throughput with our orders resting, against book-only replay.

Usage::

    python benchmarks/bench_sim_replay.py [--data-dir DIR] [--requote-s S] [--repeat R]

Workload: the LOBSTER GOOG level-10 day (147,916 messages) with its orderbook rows when
the data folder has it, else a generated 6.5-hour day (levels 10). Parsing is outside the
clock.

* Simulator: one episode through the whole day. Every ``--requote-s`` seconds the agent
  cancels its orders and quotes four new ones (100 shares at the best bid and ask and
  one tick behind each), then advances; queue tracking is on and a transient impact
  model (exponential decay) shifts prices after every fill. The clock covers every call
  (requests, advances, reading reports). Best of ``--repeat`` runs. The same episode
  re-quoted every 60 s is shown too: each request and fill costs tens of microseconds
  of Python, so busier agents replay fewer messages per second.
* Baseline, same process: book-only replay (``FastBook.apply``) of the same events into a
  fresh book, best of ``--repeat`` runs.
* Resets: median and p99 of ``reset(random start time)`` over 500 draws.

End state checked: the counterfactual run (no orders, no impact) ends on the recorded
book, every event was replayed, and the trading run's position equals its signed fills.
The last line is the simulator's throughput as a fraction of book-only replay.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from tradelearn.book.fast import FastBook
from tradelearn.config import data_dir
from tradelearn.data.lobster import load_lobster
from tradelearn.sim.generate import FlowParams, generate_day
from tradelearn.sim.replay import ReplaySimulator
from tradelearn.sim.types import OrderRequest, ReportKind

GOOG_M = "lobster/GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
GOOG_O = "lobster/GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz"
TARGET = 5e6


class DecayingImpact:
    """Transient impact: ``k`` price units per share, decaying with time constant ``tau_s``."""

    def __init__(self, k: float = 0.5, tau_s: float = 60.0) -> None:
        self.k, self.tau_ns = k, tau_s * 1e9
        self.reset()

    def reset(self) -> None:
        self.value, self.t = 0.0, 0

    def on_trade(self, ts_ns: int, signed_qty: float) -> None:
        self.value = self.offset(ts_ns) + self.k * signed_qty
        self.t = ts_ns

    def offset(self, ts_ns: int) -> float:
        return self.value * math.exp(-(ts_ns - self.t) / self.tau_ns)


def load(root: Path | None) -> tuple[str, np.ndarray, np.ndarray | None, np.ndarray, int]:
    """(label, events, orderbook rows to show or None, the recorded last row, tick)."""
    if root is not None and (root / GOOG_M).exists():
        day = load_lobster(root / GOOG_M, root / GOOG_O)
        assert day.book is not None
        return "GOOG level-10 day", day.events, day.book, day.book[-1], 100
    # a generated day replays exactly: the simulator shows its own L3 book, no rows
    params = FlowParams(limit_rate=6.0, market_rate=0.6, cancel_rate=0.02)
    gen = generate_day(seed=7, seconds=23_400, levels=10, params=params)
    assert gen.book is not None
    return "generated day (no GOOG data)", gen.events, None, gen.book[-1], gen.tick


def quote_day(sim: ReplaySimulator, t0: int, t_end: int, requote_ns: int) -> tuple[int, int]:
    """One episode of periodic quoting; returns (fills, signed filled shares)."""
    sim.reset(t0, seed=0)
    sides: dict[int, int] = {}
    cid = fills = signed = 0
    now = t0
    while now < t_end:
        for o in sim.open_orders():
            sim.cancel(o.client_id)
        snap = sim.book_snapshot(2)
        for lvl in range(2):
            for side, px in ((1, snap[4 * lvl + 2]), (-1, snap[4 * lvl])):
                if 0 < px < 9_000_000_000:
                    cid += 1
                    sides[cid] = side
                    sim.submit(OrderRequest(client_id=cid, side=side, qty=100, price=int(px)))
        now += requote_ns
        sim.advance_to(now)
        for r in sim.reports():
            if r.kind == ReportKind.FILL:
                fills += 1
                signed += sides[r.client_id] * r.qty
    return fills, signed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--requote-s", type=float, default=300.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    label, events, rows, last_row, tick = load(data_dir(args.data_dir))
    n = events.shape[0]
    ts = events["ts_exchange"]
    t0, t_end = int(ts[0]), int(ts[-1]) + 1

    base_best = float("inf")
    for _ in range(args.repeat + 1):  # the first run warms the JIT
        fb = FastBook.for_events(events, tick)
        t = time.perf_counter()
        fb.apply(events)
        base_best = min(base_best, time.perf_counter() - t)
    base_rate = n / base_best

    impact = DecayingImpact()
    t = time.perf_counter()
    sim = ReplaySimulator(events, tick=tick, levels=10, book_rows=rows, impact=impact)
    build_s = time.perf_counter() - t
    quote_day(sim, t0, t0 + 60 * 10**9, int(args.requote_s * 1e9))  # warm-up
    rates: dict[float, tuple[float, int, int]] = {}
    for period in (args.requote_s, 60.0):
        best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            fills, signed = quote_day(sim, t0, t_end, int(period * 1e9))
            best = min(best, time.perf_counter() - t)
            assert sim.events_applied == n, "the episode did not reach the end of the day"
            assert sim.position == signed, "position differs from the signed fills"
        rates[period] = (n / best, fills, signed)
    rate, fills, signed = rates[args.requote_s]

    rng = np.random.default_rng(0)
    resets = []
    for start in rng.integers(t0, t_end, 500):
        t = time.perf_counter()
        sim.reset(int(start))
        resets.append(time.perf_counter() - t)
    reset_ms = np.array(resets) * 1e3

    plain = ReplaySimulator(events, tick=tick, levels=10, book_rows=rows)
    plain.start(t0)
    plain.advance_to(t_end)
    assert plain.events_applied == n
    assert np.array_equal(plain.book_snapshot(10), last_row), "counterfactual end state differs"

    print(f"{label}: {n:,} messages, simulator built in {build_s:.2f} s (checkpoints, JIT)")
    print(f"  book-only replay (FastBook.apply): {base_rate / 1e6:.1f} M msg/s")
    print(
        f"  simulator, 4 quotes re-placed every {args.requote_s:g} s, queue tracking and "
        f"impact on: {rate / 1e6:.2f} M msg/s ({fills} fills, final position {signed}; "
        f"target {TARGET / 1e6:.0f} M: {'met' if rate >= TARGET else 'NOT met'})"
    )
    busy, busy_fills, _ = rates[60.0]
    print(f"  the same, re-quoted every 60 s: {busy / 1e6:.2f} M msg/s ({busy_fills} fills)")
    print(
        f"  reset(random time): median {np.median(reset_ms):.3f} ms, "
        f"p99 {np.percentile(reset_ms, 99):.3f} ms"
    )
    print(f"simulator vs book-only replay throughput: {rate / base_rate:.2f}x")


if __name__ == "__main__":
    main()
