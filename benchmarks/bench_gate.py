"""Latency of a full pre-trade gate check, against a notional-only check in the same process.

Usage::

    python benchmarks/bench_gate.py [--checks N]

The gate holds a realistic state (two symbols with positions, open orders, marks, ADV);
each timed call checks one new order through every control and journals the decision in
memory. Allowed orders are cancelled again so the state stays steady. The baseline is a
check of the order's notional alone (what a minimal risk engine does). Prints p50, p99 and
p99.9 in microseconds and, last, the p99 ratio of the full check to the baseline; asserts
the p99 target of 25 us and that the expected mix of allowed and denied orders came out.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

from tradelearn.risk.gate import OrderIntent, PreTradeGate
from tradelearn.risk.limits import GateLimits

S = 10**9
LIMITS = GateLimits.from_mapping(
    dict(
        max_order_qty=1_000,
        max_order_notional=100_000.0,
        max_position=5_000,
        max_gross_notional=1_000_000.0,
        max_daily_loss=50_000.0,
        max_orders_per_window=10**9,
        max_messages_per_window=10**9,
        rate_window_s=1.0,
        price_collar_bps=200.0,
        reference_max_age_s=5.0,
        max_adv_fraction=0.01,
        max_open_orders=50,
    )
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=200_000)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    gate = PreTradeGate(LIMITS)
    now = 100 * S
    for sym, px in (("ABC", 50.0), ("XYZ", 120.0)):
        gate.on_mark(sym, px, now)
        gate.set_adv(sym, 2_000_000)
    gate.add_account("acct", positions={"ABC": 1_200, "XYZ": -300})
    for k in range(10):  # resting orders the checks must look through
        gate.check(
            OrderIntent(
                client_id=f"rest{k}", account="acct", symbol="ABC", side=1, qty=10, price=49.5
            ),
            now,
        )
    qty = rng.integers(1, 1_500, size=args.checks)
    off = rng.normal(0, 0.01, size=args.checks)
    full = np.empty(args.checks, dtype=np.int64)
    base = np.empty(args.checks, dtype=np.int64)
    allowed = 0

    def notional_only(o: OrderIntent, ref: float) -> bool:
        return o.qty * (o.price or ref) <= LIMITS.max_order_notional

    gc.disable()
    clock = time.perf_counter_ns
    for k in range(args.checks):
        o = OrderIntent(
            client_id=f"c{k}",
            account="acct",
            symbol="ABC",
            side=-1 if k % 3 else 1,
            qty=int(qty[k]),
            price=round(50.0 * (1 + off[k]), 2),
        )
        t0 = clock()
        d = gate.check(o, now)
        t1 = clock()
        notional_only(o, 50.0)
        t2 = clock()
        full[k] = t1 - t0
        base[k] = t2 - t1
        if d.allowed:
            allowed += 1
            gate.on_cancel(o.client_id, now)
        if k % 10_000 == 0:
            gate.journal.records.clear()  # type: ignore[attr-defined]
    gc.enable()
    p50, p99, p999 = (np.percentile(full, q) / 1e3 for q in (50, 99, 99.9))
    b99 = np.percentile(base, 99) / 1e3
    print(f"checks: {args.checks:,} ({allowed:,} allowed, {args.checks - allowed:,} denied)")
    print(
        f"full gate check: p50 {p50:.1f} us, p99 {p99:.1f} us, p99.9 {p999:.1f} us (target p99 <= 25 us)"
    )
    print(f"notional-only baseline: p99 {b99:.2f} us")
    assert 0.2 * args.checks < allowed < 0.9 * args.checks, (
        "the order mix should give both outcomes"
    )
    assert p99 <= 25.0, f"p99 {p99:.1f} us exceeds 25 us"
    print(f"full check vs notional-only p99 ratio: {p99 / b99:.1f}x")


if __name__ == "__main__":
    main()
