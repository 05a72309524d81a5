"""The pre-trade gate: hard limits checked on every order, with no model inside.

Every policy and every gateway sends orders through :meth:`PreTradeGate.check`. Each
check returns a reason or nothing; the first reason found denies the order. A denial is an
event (:class:`Decision`), never an exception, and every decision is written to the
journal before it is returned. The gate **fails closed**: a missing account, position,
reference price or average daily volume is a denial, never a pass, and so is any input
that is not a finite, positive, well-formed number (a NaN from a model included).

Checks, in order: input sanity, duplicate client id, account, trading state (ACTIVE,
REDUCING: only risk-reducing orders, HALTED: only risk-reducing orders after a kill),
restricted list, reference price present and fresh, order quantity, order notional,
price collar, fat finger against average daily volume, position per symbol and gross
notional (assuming every open order on the same side fills), daily loss (realized plus
unrealized at the mark), open orders per symbol, self-trade, order and message rates over
sliding windows. See Rule 15c3-5 (SEC) and the FIA's best practices for automated trading.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from tradelearn.risk.journal import Journal, MemoryJournal
from tradelearn.risk.limits import GateLimits


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIntent:
    """An order a policy wants to send. ``price`` None is a market order."""

    client_id: str
    account: str
    symbol: str
    side: int
    qty: float
    price: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The gate's answer about one order."""

    allowed: bool
    check: str
    reason: str
    client_id: str
    symbol: str
    ts_ns: int


@dataclass(slots=True)
class _Account:
    cash: float = 0.0
    positions: dict[str, int] = field(default_factory=dict)
    start_value: float | None = None
    """Value at the start of the day; None until every held symbol had a mark."""


class PreTradeGate:
    """Hard pre-trade limits with a trading state and a kill switch."""

    def __init__(self, limits: GateLimits, journal: Journal | None = None) -> None:
        if not isinstance(limits, GateLimits):
            raise TypeError(f"limits must be GateLimits, actually: {type(limits).__name__}")
        self.limits = limits
        self.journal: Journal = journal if journal is not None else MemoryJournal()
        self.state = TradingState.ACTIVE
        self._accounts: dict[str, _Account] = {}
        self._marks: dict[str, tuple[float, int]] = {}
        self._adv: dict[str, float] = {}
        self._open: dict[str, OrderIntent] = {}
        self._open_qty: dict[str, float] = {}
        self._seen_ids: set[str] = set()
        self._orders: deque[int] = deque()
        self._messages: deque[int] = deque()
        self._window_ns = int(limits.rate_window_s * 1e9)
        self._max_age_ns = int(limits.reference_max_age_s * 1e9)

    # ------------------------------------------------------------------ market and account state
    def add_account(
        self, account: str, *, positions: dict[str, int] | None = None, cash: float = 0.0
    ) -> None:
        """Register an account; its day starts now if every held symbol has a mark."""
        acct = _Account(cash=cash, positions=dict(positions or {}))
        self._accounts[account] = acct
        self._start(acct)

    def start_day(self, ts_ns: int) -> None:
        """Take the current value of every account as the start of the trading day."""
        for acct in self._accounts.values():
            acct.start_value = None
            self._start(acct)
        self.journal.write({"event": "start_day", "ts_ns": ts_ns})

    def _start(self, acct: _Account) -> None:
        if all(s in self._marks for s, q in acct.positions.items() if q):
            acct.start_value = self._value(acct)

    def on_mark(self, symbol: str, price: float, ts_ns: int) -> None:
        """A reference price (mid or last) for ``symbol`` at ``ts_ns``; bad values are ignored."""
        if isinstance(price, int | float) and math.isfinite(price) and price > 0:
            self._marks[symbol] = (float(price), ts_ns)

    def set_adv(self, symbol: str, adv: float) -> None:
        if not (math.isfinite(adv) and adv > 0):
            raise ValueError(f"average daily volume must be positive and finite, actually: {adv!r}")
        self._adv[symbol] = adv

    def on_fill(self, client_id: str, qty: int, price: float, ts_ns: int) -> None:
        """Book a fill of one of our open orders (position, cash, open quantity)."""
        order = self._open.get(client_id)
        if order is None:
            raise KeyError(f"fill for unknown or closed order {client_id!r}")
        acct = self._accounts[order.account]
        acct.positions[order.symbol] = acct.positions.get(order.symbol, 0) + order.side * int(qty)
        acct.cash -= order.side * qty * price
        left = self._open_qty[client_id] - qty
        if left <= 0:
            self._close(client_id)
        else:
            self._open_qty[client_id] = left
        self.journal.write(
            {"event": "fill", "client_id": client_id, "qty": qty, "price": price, "ts_ns": ts_ns}
        )

    def on_cancel(self, client_id: str, ts_ns: int) -> None:
        """An open order was cancelled (or expired) at the venue."""
        if client_id in self._open:
            self._close(client_id)
            self.journal.write({"event": "cancelled", "client_id": client_id, "ts_ns": ts_ns})

    def note_message(self, ts_ns: int) -> None:
        """Count a modify or cancel request against the message rate."""
        self._messages.append(ts_ns)

    def kill(self, ts_ns: int, reason: str = "kill switch") -> list[str]:
        """HALT trading and return every open order id to cancel; only risk-reducing orders pass."""
        self.state = TradingState.HALTED
        ids = list(self._open)
        self.journal.write({"event": "kill", "reason": reason, "cancel": ids, "ts_ns": ts_ns})
        return ids

    def set_state(self, state: TradingState, ts_ns: int) -> None:
        self.state = TradingState(state)
        self.journal.write({"event": "state", "state": self.state.value, "ts_ns": ts_ns})

    def position(self, account: str, symbol: str) -> int:
        return self._accounts[account].positions.get(symbol, 0)

    def daily_pnl(self, account: str) -> float | None:
        """Realized plus unrealized at the mark; ``None`` when a mark is missing."""
        acct = self._accounts[account]
        if any(q and s not in self._marks for s, q in acct.positions.items()):
            return None
        if acct.start_value is None:
            self._start(acct)
            if acct.start_value is None:
                return None
        return self._value(acct) - acct.start_value

    # ------------------------------------------------------------------ the check
    def check(self, order: OrderIntent, now_ns: int) -> Decision:
        """Decide on one order; an allowed order becomes open in the gate's books."""
        check, reason = self._first_failure(order, now_ns)
        decision = Decision(
            reason == "",
            check,
            reason,
            str(getattr(order, "client_id", "")),
            str(getattr(order, "symbol", "")),
            now_ns,
        )
        self.journal.write(
            {
                "event": "decision",
                "allowed": decision.allowed,
                "check": check,
                "reason": reason,
                "client_id": decision.client_id,
                "symbol": decision.symbol,
                "side": getattr(order, "side", None),
                "qty": getattr(order, "qty", None),
                "price": getattr(order, "price", None),
                "ts_ns": now_ns,
            }
        )
        if decision.allowed:
            self._open[order.client_id] = order
            self._open_qty[order.client_id] = order.qty
            self._orders.append(now_ns)
            self._messages.append(now_ns)
        return decision

    def _first_failure(self, o: OrderIntent, now: int) -> tuple[str, str]:
        lim = self.limits
        # input sanity: anything malformed (a NaN or absurd action from a model) is denied
        if not isinstance(o, OrderIntent):
            return "input", f"not an OrderIntent: {type(o).__name__}"
        if not o.client_id or not isinstance(o.client_id, str):
            return "input", "missing client order id"
        if not o.symbol or not isinstance(o.symbol, str):
            return "input", "missing symbol"
        if o.side not in (1, -1) or isinstance(o.side, bool):
            return "input", f"side must be +1 or -1, got {o.side!r}"
        q = o.qty
        if (
            not isinstance(q, int | float)
            or isinstance(q, bool)
            or not math.isfinite(q)
            or q <= 0
            or q != int(q)
        ):
            return "input", f"quantity must be a positive whole number, got {q!r}"
        p = o.price
        if p is not None and (
            not isinstance(p, int | float) or isinstance(p, bool) or not math.isfinite(p) or p <= 0
        ):
            return "input", f"price must be positive and finite, got {p!r}"
        if o.client_id in self._seen_ids:
            return "duplicate_id", f"client order id {o.client_id!r} already used"
        self._seen_ids.add(o.client_id)
        acct = self._accounts.get(o.account)
        if acct is None:
            return "account", f"unknown account {o.account!r}"
        pos = acct.positions.get(o.symbol, 0)
        open_same = sum(
            self._open_qty[c]
            for c, x in self._open.items()
            if x.symbol == o.symbol and x.side == o.side and x.account == o.account
        )
        reducing = pos != 0 and o.side == -_sign(pos) and q + open_same <= abs(pos)
        if self.state is not TradingState.ACTIVE and not reducing:
            return "state", f"trading is {self.state.value}: only risk-reducing orders pass"
        if o.symbol in lim.restricted:
            return "restricted", f"{o.symbol} is on the restricted list"
        mark = self._marks.get(o.symbol)
        if mark is None:
            return "reference", f"no reference price for {o.symbol}"
        ref, ts = mark
        if now - ts > self._max_age_ns or ts > now:
            return (
                "reference",
                f"reference price for {o.symbol} is stale ({(now - ts) / 1e9:.3f} s old)",
            )
        if q > lim.max_order_qty:
            return "order_qty", f"quantity {q:g} exceeds {lim.max_order_qty}"
        px = ref if p is None else p
        if q * px > lim.max_order_notional:
            return "order_notional", f"notional {q * px:,.2f} exceeds {lim.max_order_notional:,.2f}"
        if p is not None and abs(p - ref) / ref * 1e4 > lim.price_collar_bps:
            return (
                "price_collar",
                f"price {p:g} is {abs(p - ref) / ref * 1e4:.1f} bp from reference {ref:g} (collar {lim.price_collar_bps:g} bp)",
            )
        adv = self._adv.get(o.symbol)
        if adv is None:
            return "fat_finger", f"no average daily volume for {o.symbol}"
        if q > lim.max_adv_fraction * adv:
            return (
                "fat_finger",
                f"quantity {q:g} exceeds {lim.max_adv_fraction:g} of ADV {adv:,.0f}",
            )
        worst = pos + o.side * (q + open_same)
        if abs(worst) > lim.max_position and not reducing:
            return "position", f"position could reach {worst:+.0f}, limit {lim.max_position}"
        gross = 0.0
        for sym, held in acct.positions.items():
            if sym == o.symbol:
                continue
            if held and sym not in self._marks:
                return "gross", f"no mark for held symbol {sym}"
            gross += abs(held) * self._marks[sym][0] if held else 0.0
        gross += abs(worst) * ref
        if gross > lim.max_gross_notional and not reducing:
            return (
                "gross",
                f"gross notional could reach {gross:,.2f}, limit {lim.max_gross_notional:,.2f}",
            )
        pnl = self.daily_pnl(o.account)
        if pnl is None:
            return "daily_loss", "cannot mark the account: a held symbol has no price"
        if pnl <= -lim.max_daily_loss and not reducing:
            return "daily_loss", f"daily loss {-pnl:,.2f} reached limit {lim.max_daily_loss:,.2f}"
        n_open = sum(
            1 for x in self._open.values() if x.symbol == o.symbol and x.account == o.account
        )
        if n_open >= lim.max_open_orders:
            return "open_orders", f"{n_open} open orders on {o.symbol}, limit {lim.max_open_orders}"
        for x in self._open.values():
            if x.symbol == o.symbol and x.account == o.account and x.side == -o.side:
                crosses = (
                    p is None or x.price is None or (p >= x.price if o.side == 1 else p <= x.price)
                )
                if crosses:
                    return "self_trade", f"would trade against our own open order {x.client_id!r}"
        if _count(self._orders, now, self._window_ns) >= lim.max_orders_per_window:
            return (
                "order_rate",
                f"{lim.max_orders_per_window} orders in {lim.rate_window_s:g} s already",
            )
        if _count(self._messages, now, self._window_ns) >= lim.max_messages_per_window:
            return (
                "message_rate",
                f"{lim.max_messages_per_window} messages in {lim.rate_window_s:g} s already",
            )
        return "", ""

    # ------------------------------------------------------------------ helpers
    def _close(self, client_id: str) -> None:
        del self._open[client_id]
        del self._open_qty[client_id]

    def _value(self, acct: _Account) -> float:
        return acct.cash + sum(q * self._marks[s][0] for s, q in acct.positions.items() if q)

    @property
    def open_orders(self) -> dict[str, OrderIntent]:
        return dict(self._open)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _count(window: deque[int], now: int, span: int) -> int:
    """Events in ``(now - span, now]``, dropping older ones."""
    while window and window[0] <= now - span:
        window.popleft()
    return len(window)
