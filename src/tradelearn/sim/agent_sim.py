"""The agent-based market behind the same API as the replay simulator.

:class:`AgentSimulator` puts our orders into :class:`~tradelearn.sim.agents.AgentMarket`,
where the background population trades with them and reacts to them, and answers with the
same calls and events as :class:`~tradelearn.sim.replay.ReplaySimulator`: ``reset``,
``submit``, ``cancel``, ``modify``, ``advance_to``, ``advance``, ``book_snapshot``, ``mid``,
``reports``, ``open_orders``, ``position``, ``cash``, ``fees_paid``, ``now``. An execution
environment takes either.

Differences from replay, by nature of the market:

* impact is endogenous (the agents move the book), so there is no impact model;
* a request reaches the exchange ``entry()`` after it is sent and the agents run up to
  that moment first; its reports come back ``response()`` later;
* ``reset(t)`` starts the population from its seed and runs it to ``t`` (milliseconds per
  simulated hour, not the replay's checkpoint copy);
* the matching engine has no in-place size reduction for outside orders, so every
  ``modify`` is a cancel and a new order (it loses its place in the queue);
* ``advance(n)`` runs until at least ``n`` more market messages were written.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tradelearn.sim import abm_kernels as AK
from tradelearn.sim.abm_params import AgentParams
from tradelearn.sim.agents import AgentMarket
from tradelearn.sim.base import SimulatorBase
from tradelearn.sim.latency import ConstantLatency, LatencyModel
from tradelearn.sim.replay import OpenOrder
from tradelearn.sim.types import (
    Liquidity,
    OrderRequest,
    OrderType,
    RejectReason,
    ReportKind,
    TimeInForce,
)

_EXECUTE = 4


@dataclass(eq=False)
class _Live:
    req: OrderRequest
    price: int
    leaves: int
    exchange_id: int


@dataclass(order=True)
class _Pending:
    t: int
    seq: int
    kind: str = field(compare=False)
    client_id: int = field(compare=False)
    req: OrderRequest | None = field(compare=False, default=None)
    price: int | None = field(compare=False, default=None)
    qty: int | None = field(compare=False, default=None)


class AgentSimulator(SimulatorBase):
    """Our orders in the agent-based market (see the module docstring)."""

    def __init__(
        self,
        params: AgentParams | None = None,
        *,
        levels: int = 10,
        date: dt.date = dt.date(2024, 1, 2),
        lot: int = 1,
        latency: LatencyModel | None = None,
        maker_fee: float = 0.0,
        taker_fee: float = 0.0,
        price_scale: int = 10_000,
        session_end_ns: int | None = None,
        seed: int = 0,
    ) -> None:
        self.market = AgentMarket(params, levels=levels, date=date, record=True)
        self.tick = self.market.params.tick
        self.lot = lot
        self.levels = levels
        self._lat: LatencyModel = latency or ConstantLatency(0, 0, 0)
        self.maker_fee, self.taker_fee = maker_fee, taker_fee
        self.price_scale = price_scale
        self.session_end_ns = session_end_ns
        self.seed = seed
        self._started = False
        self._reset_state()

    def _reset_state(self) -> None:
        self._reset_account()
        self._now = 0
        self._pending: list[_Pending] = []
        self._live: dict[int, _Live] = {}
        self._by_exchange: dict[int, int] = {}
        self._used: set[int] = set()
        self._scan = 0

    # ------------------------------------------------------------------ episode
    def start(self, t_ns: int) -> None:
        self.reset(t_ns)

    def reset(self, t_ns: int, *, seed: int | None = None) -> None:
        """Start the population from ``seed`` (default: the constructor's) and run it to ``t_ns``."""
        self._reset_state()
        s = self.seed if seed is None else seed
        self._lat.reseed(s)
        self.market.reset(s)
        start = max(int(t_ns), self.market.open_ns)
        self.market.run_until(start)
        self._scan = self.market.n_events
        self._now = start
        self._started = True

    # ------------------------------------------------------------------ requests
    def _push(
        self,
        kind: str,
        client_id: int,
        *,
        req: OrderRequest | None = None,
        price: int | None = None,
        qty: int | None = None,
    ) -> None:
        self._seq += 1
        t = self._now + self._lat.entry()
        heapq.heappush(self._pending, _Pending(t, self._seq, kind, client_id, req, price, qty))

    def submit(self, order: OrderRequest) -> None:
        if not self._started:
            self._report(
                ReportKind.REJECT,
                order.client_id,
                self._now,
                qty=order.qty,
                reason=RejectReason.BEFORE_START,
            )
            return
        self._push("new", order.client_id, req=order)

    def cancel(self, client_id: int) -> None:
        self._push("cancel", client_id)

    def modify(self, client_id: int, *, price: int | None = None, qty: int | None = None) -> None:
        self._push("modify", client_id, price=price, qty=qty)

    # ------------------------------------------------------------------ time
    def advance_to(self, t_ns: int) -> None:
        if not self._started:
            raise RuntimeError("call reset(t_ns) before advancing the simulator")
        while self._pending and self._pending[0].t <= t_ns:
            p = heapq.heappop(self._pending)
            self._run(p.t)
            self._handle(p)
        self._run(t_ns)
        self._now = max(self._now, int(t_ns))

    def advance(self, n_events: int) -> None:
        target = self.market.n_events + max(int(n_events), 0)
        t = self._now
        while self.market.n_events < target:
            t += 1_000_000_000
            self.advance_to(t)

    def _run(self, t: int) -> None:
        self.market.run_until(t)
        self._collect_passive_fills()

    def _collect_passive_fills(self) -> None:
        n = self.market.n_events
        if n == self._scan or not self._by_exchange:
            self._scan = n
            return
        ev = self.market._ev[self._scan : n]
        hits = np.flatnonzero(
            (ev["event"] == _EXECUTE) & np.isin(ev["order_id"], list(self._by_exchange))
        )
        for i in hits:
            e = ev[i]
            cid = self._by_exchange[int(e["order_id"])]
            self._fill(cid, int(e["price"]), int(e["qty"]), int(e["ts_exchange"]), Liquidity.MAKER)
        self._scan = n

    # ------------------------------------------------------------------ exchange side
    def _handle(self, p: _Pending) -> None:
        t = p.t
        if self.session_end_ns is not None and t >= self.session_end_ns:
            self._report(ReportKind.REJECT, p.client_id, t, reason=RejectReason.AFTER_SESSION)
            return
        if p.kind == "new":
            assert p.req is not None
            self._new(p.req, t)
        elif p.kind == "cancel":
            live = self._live.get(p.client_id)
            if live is None:
                self._report(ReportKind.REJECT, p.client_id, t, reason=RejectReason.UNKNOWN_ORDER)
                return
            self._remove(p.client_id, t)
            self._report(ReportKind.CANCELLED, p.client_id, t, price=live.price, qty=live.req.qty)
        else:
            live = self._live.get(p.client_id)
            if live is None:
                self._report(ReportKind.REJECT, p.client_id, t, reason=RejectReason.UNKNOWN_ORDER)
                return
            price = live.price if p.price is None else p.price
            qty = live.leaves if p.qty is None else p.qty
            reason = self._invalid(live.req.side, qty, price, OrderType.LIMIT)
            if reason:
                self._report(ReportKind.REJECT, p.client_id, t, price=price, qty=qty, reason=reason)
                return
            self._remove(p.client_id, t)
            self._report(ReportKind.MODIFIED, p.client_id, t, price=price, qty=qty, leaves=qty)
            req = OrderRequest(
                client_id=p.client_id,
                side=live.req.side,
                qty=qty,
                price=price,
                tif=live.req.tif,
                post_only=live.req.post_only,
            )
            self._place(req, t, ack=False)

    def _invalid(self, side: int, qty: int, price: int | None, kind: OrderType) -> str:
        if side not in (1, -1):
            return RejectReason.BAD_SIDE
        if not isinstance(qty, int | np.integer) or qty <= 0:
            return RejectReason.NON_POSITIVE_QTY
        if qty % self.lot:
            return RejectReason.OFF_LOT
        if kind == OrderType.LIMIT:
            if price is None:
                return RejectReason.MISSING_PRICE
            if price <= 0:
                return RejectReason.NON_POSITIVE_PRICE
            if price % self.tick:
                return RejectReason.OFF_TICK
        return ""

    def _new(self, req: OrderRequest, t: int) -> None:
        if req.client_id in self._used:
            self._report(
                ReportKind.REJECT, req.client_id, t, qty=req.qty, reason=RejectReason.DUPLICATE_ID
            )
            return
        self._used.add(req.client_id)
        reason = self._invalid(req.side, req.qty, req.price, req.order_type)
        if reason:
            self._report(
                ReportKind.REJECT,
                req.client_id,
                t,
                price=req.price or 0,
                qty=req.qty,
                reason=reason,
            )
            return
        self._place(req, t, ack=True)

    def _crossable(self, side: int, price: int | None) -> int:
        """Visible quantity on the other side at prices our order would take."""
        m = self.market
        s = 1 if side == 1 else 0  # the resting side we would hit
        qty = m.LV[0, s]
        idx = np.flatnonzero(qty > 0)
        if price is not None:
            limit = (price - m.base) // self.tick
            idx = idx[idx <= limit] if side == 1 else idx[idx >= limit]
        return int(qty[idx].sum())

    def _place(self, req: OrderRequest, t: int, *, ack: bool) -> None:
        m = self.market
        market_order = req.order_type == OrderType.MARKET
        price = None if market_order else req.price
        avail = self._crossable(req.side, price)
        if req.post_only and avail > 0:
            self._report(
                ReportKind.REJECT,
                req.client_id,
                t,
                price=price or 0,
                qty=req.qty,
                reason=RejectReason.POST_ONLY_WOULD_CROSS,
            )
            return
        if req.tif == TimeInForce.FOK and avail < req.qty:
            self._report(
                ReportKind.REJECT,
                req.client_id,
                t,
                price=price or 0,
                qty=req.qty,
                reason=RejectReason.FOK_NOT_FILLABLE,
            )
            return
        if market_order and avail == 0:
            self._report(
                ReportKind.REJECT, req.client_id, t, qty=req.qty, reason=RejectReason.NO_LIQUIDITY
            )
            return
        # self-trade prevention (cancel-oldest): our resting orders the new one would hit
        if avail > 0:
            for cid, live in sorted(self._live.items()):
                crosses = live.req.side == -req.side and (
                    price is None or (price >= live.price if req.side == 1 else price <= live.price)
                )
                if crosses:
                    self._remove(cid, t)
                    self._report(
                        ReportKind.CANCELLED,
                        cid,
                        t,
                        price=live.price,
                        qty=live.req.qty,
                        reason=RejectReason.SELF_TRADE,
                    )
        if ack:
            self._report(
                ReportKind.ACK, req.client_id, t, price=price or 0, qty=req.qty, leaves=req.qty
            )
        rest = not market_order and req.tif == TimeInForce.GTC
        first = m.n_events
        fill = m.inject(side=req.side, qty=req.qty, price=price, t_ns=t, rest=rest)
        self._live[req.client_id] = _Live(req, price or 0, req.qty, fill.order_id)
        # our taker executions are the EXECUTE messages the order caused, one per resting order hit
        ev = m._ev[first : m.n_events]
        for e in ev[ev["event"] == _EXECUTE]:
            if int(e["order_id"]) == fill.order_id and fill.order_id:
                continue
            self._fill(
                req.client_id,
                int(e["price"]),
                int(e["qty"]),
                int(e["ts_exchange"]),
                Liquidity.TAKER,
            )
        self._scan = m.n_events
        left = self._live.get(req.client_id)
        if left is None:
            return
        if fill.order_id:
            self._by_exchange[fill.order_id] = req.client_id
        else:  # nothing rests: IOC/market leftovers expire
            del self._live[req.client_id]
            if left.leaves > 0:
                self._report(ReportKind.EXPIRED, req.client_id, t, price=price or 0, qty=req.qty)

    def _fill(self, cid: int, price: int, qty: int, ts: int, liq: Liquidity) -> None:
        live = self._live.get(cid)
        if live is None:
            return
        qty = min(qty, live.leaves)
        live.leaves -= qty
        side = live.req.side
        fee = qty * (self.maker_fee if liq == Liquidity.MAKER else self.taker_fee)
        self._position += side * qty
        self._cash -= side * qty * price / self.price_scale + fee
        self._fees += fee
        self._report(
            ReportKind.FILL,
            cid,
            ts,
            price=price,
            qty=qty,
            leaves=live.leaves,
            liquidity=liq,
            fee=fee,
        )
        if live.leaves == 0:
            self._by_exchange.pop(live.exchange_id, None)
            del self._live[cid]

    def _remove(self, cid: int, t: int) -> None:
        live = self._live.pop(cid)
        if live.exchange_id:
            self.market.cancel(live.exchange_id, t)
            self._by_exchange.pop(live.exchange_id, None)
        self._scan = self.market.n_events

    # ------------------------------------------------------------------ what we see
    def book_snapshot(self, levels: int | None = None) -> npt.NDArray[np.int64]:
        n = self.levels if levels is None else levels
        m = self.market
        row = np.empty(4 * n, dtype=np.int64)
        _top_levels(m.LV[0], int(m.S[AK.S_BID]), int(m.S[AK.S_ASK]), m.base, self.tick, row)
        return row

    def mid(self) -> float | None:
        return self.market.mid

    def open_orders(self) -> list[OpenOrder]:
        out = []
        for cid, live in sorted(self._live.items()):
            ahead = 0
            k = int(self.market.O[live.exchange_id, AK.PRV]) if live.exchange_id else -1
            while k > 0:
                ahead += int(self.market.O[k, AK.Q])
                k = int(self.market.O[k, AK.PRV])
            out.append(
                OpenOrder(
                    client_id=cid,
                    side=live.req.side,
                    price=live.price,
                    qty=live.req.qty,
                    leaves_qty=live.leaves,
                    queue_ahead=ahead,
                    tif=live.req.tif,
                    post_only=live.req.post_only,
                )
            )
        return out


def _top_levels(
    qty: np.ndarray, best_bid: int, best_ask: int, base: int, tick: int, out: np.ndarray
) -> None:
    """Top levels of the agent book in LOBSTER layout (dummy prices where a side runs out)."""
    n = out.shape[0] // 4
    asks = np.flatnonzero(qty[1, max(best_ask, 0) :] > 0)[:n] + max(best_ask, 0)
    bids = (
        (np.flatnonzero(qty[0, : best_bid + 1][::-1] > 0)[:n] * -1 + best_bid)
        if best_bid >= 0
        else np.empty(0, dtype=np.int64)
    )
    for lvl in range(n):
        if lvl < asks.shape[0]:
            out[4 * lvl], out[4 * lvl + 1] = base + asks[lvl] * tick, qty[1, asks[lvl]]
        else:
            out[4 * lvl], out[4 * lvl + 1] = AK.DUMMY_ASK, 0
        if lvl < bids.shape[0]:
            out[4 * lvl + 2], out[4 * lvl + 3] = base + bids[lvl] * tick, qty[0, bids[lvl]]
        else:
            out[4 * lvl + 2], out[4 * lvl + 3] = AK.DUMMY_BID, 0
