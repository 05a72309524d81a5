"""Random and adversarial order sequences never breach a limit.

A model independent of the gate replays every allowed order, fills any of them at any
time, and checks the limits after every step: order size and notional, position per
symbol (whatever subset of the open orders fills), open orders, order rate, trading
state, and that nothing passes with a missing account or a missing or stale price.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tradelearn.risk.gate import OrderIntent, PreTradeGate, TradingState
from tradelearn.risk.limits import GateLimits

S = 10**9
LIMITS = GateLimits.from_mapping(
    dict(
        max_order_qty=500,
        max_order_notional=40_000.0,
        max_position=800,
        max_gross_notional=120_000.0,
        max_daily_loss=3_000.0,
        max_orders_per_window=6,
        max_messages_per_window=10,
        rate_window_s=1.0,
        price_collar_bps=150.0,
        reference_max_age_s=1.0,
        max_adv_fraction=0.02,
        max_open_orders=4,
        restricted=["BAD"],
    )
)
SYMBOLS = ("ABC", "XYZ", "BAD", "NOPX")
QTYS = (1, 10, 100, 499, 500, 501, 5_000, 10**9, 0, -5, math.nan, math.inf, 2.5)
PRICES = (None, 50.0, 50.5, 49.2, 60.0, 0.0, -1.0, math.nan, 1e12)


class Harness:
    """Drives one gate and a model of what was allowed; ``step`` returns a breach or ''."""

    def __init__(self) -> None:
        self.gate = PreTradeGate(LIMITS)
        self.gate.add_account("acct")
        self.now = 10 * S
        self.px = {"ABC": 50.0, "XYZ": 100.0, "BAD": 10.0}
        self.marked = {s: self.now for s in self.px}
        for s, p in self.px.items():
            self.gate.on_mark(s, p, self.now)
            self.gate.set_adv(s, 100_000)
        self.pos = {s: 0 for s in SYMBOLS}
        self.open: dict[str, tuple[str, int, float]] = {}  # id -> (symbol, side, qty left)
        self.allowed_times: list[int] = []
        self.n = 0

    def submit(self, symbol: str, side: int, qty: float, price: float | None, account: str) -> str:
        self.n += 1
        o = OrderIntent(
            client_id=f"o{self.n}", account=account, symbol=symbol, side=side, qty=qty, price=price
        )
        state = self.gate.state
        before = dict(self.pos)
        d = self.gate.check(o, self.now)
        if not d.allowed:
            return ""
        # what an allowed order must satisfy, judged by the model
        if account != "acct":
            return "allowed with a missing account"
        if symbol not in self.px or symbol == "BAD":
            return "allowed a restricted or unpriced symbol"
        if self.now - self.marked[symbol] > LIMITS.reference_max_age_s * S:
            return "allowed on a stale reference price"
        if not (
            isinstance(qty, int | float) and math.isfinite(qty) and qty > 0 and qty == int(qty)
        ):
            return f"allowed a malformed quantity {qty!r}"
        if price is not None and not (math.isfinite(price) and price > 0):
            return f"allowed a malformed price {price!r}"
        if (
            qty > LIMITS.max_order_qty
            or qty * (price or self.px[symbol]) > LIMITS.max_order_notional
        ):
            return "allowed an order over the size or notional limit"
        reducing = before[symbol] != 0 and side == -np.sign(before[symbol])
        if state is not TradingState.ACTIVE and not reducing:
            return f"allowed a risk-increasing order while {state}"
        self.open[o.client_id] = (symbol, side, float(qty))
        self.allowed_times.append(self.now)
        if sum(1 for s, _, _ in self.open.values() if s == symbol) > LIMITS.max_open_orders:
            return "too many open orders"
        recent = [t for t in self.allowed_times if t > self.now - S]
        if len(recent) > LIMITS.max_orders_per_window:
            return "order rate exceeded"
        return self.worst_case_breach()

    def worst_case_breach(self) -> str:
        for s in ("ABC", "XYZ"):
            buys = sum(q for sym, side, q in self.open.values() if sym == s and side == 1)
            sells = sum(q for sym, side, q in self.open.values() if sym == s and side == -1)
            # a risk-reducing order may only bring a position back towards zero
            worst = max(abs(self.pos[s] + buys), abs(self.pos[s] - sells))
            if worst > LIMITS.max_position and worst > abs(self.pos[s]):
                return f"{s}: open orders could take the position to {worst:g}"
        return ""

    def fill(self, pick: int, frac: float) -> None:
        if not self.open:
            return
        cid = sorted(self.open)[pick % len(self.open)]
        symbol, side, left = self.open[cid]
        qty = max(1, int(left * frac))
        qty = min(qty, int(left))
        self.gate.on_fill(cid, qty, self.px[symbol], self.now)
        self.pos[symbol] += side * qty
        if left - qty <= 0:
            del self.open[cid]
        else:
            self.open[cid] = (symbol, side, left - qty)

    def cancel(self, pick: int) -> None:
        if self.open:
            cid = sorted(self.open)[pick % len(self.open)]
            self.gate.on_cancel(cid, self.now)
            del self.open[cid]

    def tick(self, dt_ns: int, move: float, refresh: bool) -> None:
        self.now += dt_ns
        for s in self.px:
            self.px[s] = max(1.0, self.px[s] * (1 + move))
            if refresh:
                self.gate.on_mark(s, self.px[s], self.now)
                self.marked[s] = self.now

    def kill(self) -> None:
        for cid in self.gate.kill(self.now):
            self.gate.on_cancel(cid, self.now)
            self.open.pop(cid, None)


def run_sequence(rng: np.random.Generator, steps: int) -> str:
    h = Harness()
    for _ in range(steps):
        u = rng.random()
        if u < 0.55:
            breach = h.submit(
                SYMBOLS[rng.integers(len(SYMBOLS))],
                (1, -1, 0)[rng.integers(3)] if rng.random() < 0.05 else (1, -1)[rng.integers(2)],
                QTYS[rng.integers(len(QTYS))],
                PRICES[rng.integers(len(PRICES))],
                "acct" if rng.random() < 0.97 else "ghost",
            )
            if breach:
                return breach
        elif u < 0.75:
            h.fill(int(rng.integers(1000)), float(rng.random()))
        elif u < 0.85:
            h.cancel(int(rng.integers(1000)))
        elif u < 0.99:
            h.tick(int(rng.integers(1, 3 * S // 2)), float(rng.normal(0, 0.01)), rng.random() < 0.8)
        else:
            h.kill()
        if breach := h.worst_case_breach():
            return breach
    return ""


def test_100k_random_sequences_never_breach_a_limit() -> None:
    rng = np.random.default_rng(20261121)
    for k in range(100_000):
        breach = run_sequence(rng, int(rng.integers(3, 12)))
        assert not breach, f"sequence {k}: {breach}"


class GateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.h = Harness()
        self.breach = ""

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from([1, -1, 0, 2]),
        qty=st.sampled_from(QTYS) | st.floats(allow_nan=True, allow_infinity=True),
        price=st.sampled_from(PRICES) | st.floats(allow_nan=True, allow_infinity=True),
        account=st.sampled_from(["acct", "acct", "ghost"]),
    )
    def submit(self, symbol: str, side: int, qty: float, price: float | None, account: str) -> None:
        self.breach = self.breach or self.h.submit(symbol, side, qty, price, account)

    @rule(pick=st.integers(0, 100), frac=st.floats(0, 1))
    def fill(self, pick: int, frac: float) -> None:
        self.h.fill(pick, frac)

    @rule(pick=st.integers(0, 100))
    def cancel(self, pick: int) -> None:
        self.h.cancel(pick)

    @rule(dt=st.integers(1, 3 * S), move=st.floats(-0.05, 0.05), refresh=st.booleans())
    def tick(self, dt: int, move: float, refresh: bool) -> None:
        self.h.tick(dt, move, refresh)

    @rule()
    def kill(self) -> None:
        self.h.kill()

    @invariant()
    def no_breach(self) -> None:
        assert not self.breach, self.breach
        assert not self.h.worst_case_breach()


GateMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestGateMachine = GateMachine.TestCase
