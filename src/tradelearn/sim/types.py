"""Vocabulary of the exchange simulator: our order requests and what comes back.

Intent (an :class:`OrderRequest`) and result (:class:`ExecReport` events) are separate
objects. Every outcome is an event: a rejected order is an ``ExecReport`` of kind
``REJECT`` with a reason, never an exception. Each report carries two clocks: when the
exchange did it (``ts_exchange``) and when we learn of it (``ts_local``, after the
response latency).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol, runtime_checkable


class OrderType(IntEnum):
    LIMIT = 1
    MARKET = 2


class TimeInForce(IntEnum):
    GTC = 1
    """Good till cancelled (or the session ends)."""
    IOC = 2
    """Immediate or cancel: what does not trade at once is cancelled."""
    FOK = 3
    """Fill or kill: trades in full at once, or not at all."""


class ReportKind(IntEnum):
    ACK = 1
    FILL = 2
    REJECT = 3
    CANCELLED = 4
    MODIFIED = 5
    EXPIRED = 6


class Liquidity(IntEnum):
    NONE = 0
    MAKER = 1
    TAKER = 2


class RejectReason:
    """Reasons carried by REJECT reports (plain strings, so logs and JSON read well)."""

    NON_POSITIVE_QTY = "non-positive quantity"
    OFF_LOT = "quantity is not a multiple of the lot size"
    OFF_TICK = "price is not on the tick grid"
    NON_POSITIVE_PRICE = "non-positive price"
    MISSING_PRICE = "limit order without a price"
    UNKNOWN_ORDER = "unknown order id"
    DUPLICATE_ID = "client order id already in use"
    AFTER_SESSION = "after the session end"
    BEFORE_START = "simulator not started"
    POST_ONLY_WOULD_CROSS = "post-only order would take liquidity"
    FOK_NOT_FILLABLE = "fill-or-kill order cannot fill in full"
    SELF_TRADE = "self-trade prevented"
    NO_LIQUIDITY = "no liquidity on the other side"
    BAD_SIDE = "side must be +1 (buy) or -1 (sell)"


@dataclass(frozen=True, kw_only=True)
class OrderRequest:
    """An order we send. ``side`` is +1 buy, -1 sell; prices are integer price units."""

    client_id: int
    side: int
    qty: int
    price: int | None = None
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False


@dataclass(frozen=True, kw_only=True)
class ExecReport:
    """One event about one of our orders."""

    kind: ReportKind
    client_id: int
    ts_exchange: int
    ts_local: int
    price: int = 0
    qty: int = 0
    """Filled quantity for FILL; the order's quantity otherwise."""
    leaves_qty: int = 0
    liquidity: Liquidity = Liquidity.NONE
    fee: float = 0.0
    """Fee paid in currency units (negative: a rebate)."""
    reason: str = ""


class ImpactModel(Protocol):
    """How our own trading moves the replayed prices.

    The simulator reports each of our executions (signed: + for our buys) and asks for
    the current price shift, in price units, to add to the recorded prices it shows.
    """

    def reset(self) -> None: ...

    def on_trade(self, ts_ns: int, signed_qty: float) -> None: ...

    def offset(self, ts_ns: int) -> float: ...


class NoImpact:
    """Our trading leaves prices alone (the counterfactual market)."""

    def reset(self) -> None:
        return None

    def on_trade(self, ts_ns: int, signed_qty: float) -> None:
        return None

    def offset(self, ts_ns: int) -> float:
        return 0.0


@runtime_checkable
class MarketSimulator(Protocol):
    """What an execution environment needs from a market, replayed or agent-based.

    :class:`~tradelearn.sim.replay.ReplaySimulator` and
    :class:`~tradelearn.sim.agent_sim.AgentSimulator` implement it.
    """

    def reset(self, t_ns: int, *, seed: int | None = None) -> None: ...

    def submit(self, order: OrderRequest) -> None: ...

    def cancel(self, client_id: int) -> None: ...

    def modify(
        self, client_id: int, *, price: int | None = None, qty: int | None = None
    ) -> None: ...

    def advance_to(self, t_ns: int) -> None: ...

    def advance(self, n_events: int) -> None: ...

    def book_snapshot(self, levels: int | None = None) -> Any: ...

    def mid(self) -> float | None: ...

    def reports(self) -> list[ExecReport]: ...

    @property
    def position(self) -> int: ...

    @property
    def cash(self) -> float: ...

    @property
    def now(self) -> int: ...
