"""Agent-based market generation throughput, against the same kernels run as plain Python.

Usage::

    python benchmarks/bench_agents.py [--repeat R] [--levels L] [--prefix-seconds S]

The figure is messages written per second while the population runs a full session
(09:30-16:00, 23,400 s) with the top ``--levels`` recorded after every message; the
warm-up before the open is outside the clock (its cost is printed separately). Best of
``--repeat`` runs, each a fresh market with its own seed, after one warm-up run (JIT
compiled or loaded from numba's cache).

The baseline, run in the same process, is the same engine with every kernel swapped for
its plain-Python original (``py_func``), on the first ``--prefix-seconds`` of a session:
the reference the compiled engine is held to. The end state is checked twice: the
interpreted prefix equals the compiled one bit for bit, and every generated day replays
through :func:`tradelearn.book.replay.verify` with zero unexplained differences. For
scale: ABIDES runs 26-49 thousand messages per second on this class of machine (issue
"Market simulator"); the zero-intelligence flow is timed as well. The last line is the
speed-up of the compiled engine over the plain-Python one.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tradelearn.book.replay import verify
from tradelearn.sim import abm_kernels as K
from tradelearn.sim.agents import NS, AgentMarket
from tradelearn.sim.generate import generate_day

TARGET = 1e6
DAY_S = 23_400


@contextmanager
def interpreted() -> Iterator[None]:
    """Every njit kernel of the engine replaced by its plain-Python function."""
    compiled = {name: obj for name, obj in vars(K).items() if hasattr(obj, "py_func")}
    try:
        for name, obj in compiled.items():
            setattr(K, name, obj.py_func)
        yield
    finally:
        for name, obj in compiled.items():
            setattr(K, name, obj)


def session(seed: int, levels: int, seconds: float) -> tuple[AgentMarket, float, float, int]:
    """A market run from the open for ``seconds``: it, its warm-up and run seconds, and the
    messages the run wrote."""
    market = AgentMarket(levels=levels)
    t0 = time.perf_counter()
    market.reset(seed)
    warm_s = time.perf_counter() - t0
    market.reserve(int(8 * seconds) + 10_000)
    n0 = market.n_events
    t0 = time.perf_counter()
    market.run_until(market.open_ns + int(seconds * NS))
    run_s = time.perf_counter() - t0
    assert market.n_events > n0
    return market, warm_s, run_s, market.n_events - n0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--levels", type=int, default=10)
    ap.add_argument("--prefix-seconds", type=float, default=600.0)
    args = ap.parse_args()

    session(0, args.levels, 60.0)  # compile (or load the cache) outside the clock
    best, warm_best, total = 0.0, float("inf"), 0
    for r in range(args.repeat):
        market, warm_s, run_s, n_run = session(100 + r, args.levels, DAY_S)
        rate = n_run / run_s
        if rate > best:
            best, total = rate, market.n_events
        warm_best = min(warm_best, warm_s)
        rep = verify(market.events(), market.book_rows(), args.levels, market.params.tick)
        assert rep.unexplained == 0 and rep.rows_matched == rep.rows_compared, rep
    print(f"agent-based day ({DAY_S:,} s, {args.levels} levels): {total:,} messages")
    print(
        f"  compiled engine: {best / 1e6:.2f} M msg/s, best of {args.repeat}"
        f"  (target {TARGET / 1e6:.0f} M: {'met' if best >= TARGET else 'NOT met'});"
        f" warm-up before the open {warm_best * 1e3:.0f} ms"
    )
    print("  every day replays with zero unexplained differences (verify)")

    generate_day(seed=0, seconds=60.0, levels=args.levels, model="zi")  # compile
    t0 = time.perf_counter()
    zi = generate_day(seed=1, levels=args.levels, model="zi")
    zi_rate = zi.events.shape[0] / (time.perf_counter() - t0)
    print(f"  zero-intelligence flow (reference point): {zi_rate / 1e6:.2f} M msg/s")
    print("  ABIDES (quoted in the issue): 0.026-0.049 M msg/s")

    fast, _, _, _ = session(7, args.levels, args.prefix_seconds)
    with interpreted():
        slow, _, slow_s, slow_n = session(7, args.levels, args.prefix_seconds)
    assert slow.events().tobytes() == fast.events().tobytes(), "interpreted stream differs"
    assert slow.book_rows().tobytes() == fast.book_rows().tobytes(), "interpreted book differs"
    py_rate = slow_n / slow_s
    print(
        f"  plain-Python engine (first {args.prefix_seconds:.0f} s, bit-identical stream):"
        f" {py_rate / 1e3:.1f} k msg/s"
    )
    print(f"compiled vs plain-Python agent-based generation speed-up: {best / py_rate:.0f}x")


if __name__ == "__main__":
    main()
