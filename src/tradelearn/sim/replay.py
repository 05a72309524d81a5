"""Historical replay: our orders meet recorded order-by-order (L3) flow.

:class:`ReplaySimulator` replays recorded events (LOBSTER, MBO, a generated day) through the
compiled L3 book and lets an agent trade against them. The recorded flow does not react to
us (the counterfactual market), except through an optional
:class:`~tradelearn.sim.types.ImpactModel` that shifts every price shown.

Clocks
------
The agent lives on the local clock ``now``. It sees the exchange as it was ``feed()`` ago
(the exchange clock runs at ``now - feed()``, drawn at each advance and never going back).
A request sent at ``now`` reaches the exchange at ``now + entry()``; a report of what the
exchange did at ``t`` reaches us at ``t + response()``. Every
:class:`~tradelearn.sim.types.ExecReport` carries both times, and
:meth:`ReplaySimulator.reports` hands out those whose local time has come. At the same
exchange nanosecond, recorded events go first, then our requests in the order sent.

Passive orders: queue position
------------------------------
An order of ours joins its level *behind* everything resting there when it arrives: the
quantity ahead is the level's visible total, the ids resting there are noted, and the
ghost liquidity at the front (liquidity whose orders the replay never saw added: id 0,
pre-open orders, the part of a LOBSTER row the L3 book lacks) counts as ahead. Then, per
recorded event at our side and price:

* an execution takes the quantity ahead first; what is left of it fills us (and our
  later orders at that price, in arrival order);
* a cancel or delete lowers the quantity ahead only when its order was ahead of ours (a
  noted id, or ghost liquidity up to the ghost still ahead); later orders are behind us;
* an execution on our side at a price *worse* than ours (the aggressor traded through
  our price) fills us in full;
* an order added on the other side at a price that crosses ours would have traded with
  us: it fills us up to its size, our best-priced orders first.

Hidden executions, cross trades and trade prints fill nobody, and our passive fills leave
the recorded book as it was. With ``queue_model="l2"`` (only level totals are trusted) a
cancel at our level is ahead of us with probability ``f(ahead) / (f(ahead) + f(behind))``,
``f(x) = x ** queue_power``, the power model of hftbacktest's ``ProbQueueModel``, drawn
from a seeded stream.

Aggressive orders and the reconciliation rule
---------------------------------------------
An order that crosses walks the book as the agent sees it, best level first, and takes
the front of each level's queue. What it takes becomes *debt* at that recorded level, one
entry per order taken (id 0 for ghost liquidity), and the book shown is the recorded book
less the debt. A later recorded message that removes liquidity at such a level pays the
debt down instead of removing the same liquidity twice:

* a cancel, delete or execution of an order we took pays that order's entry (a removal
  of an id the replay never saw added pays the ghost entry);
* an execution pays what is left of its size front of the queue first: executions take
  the front, which is what we took (under ``"l2"`` only executions pay);
* the debt of a level is cleared when the recorded level empties.

What a removal does not pay lowers the level shown (and moves our queues as above).

Self-trade prevention, fees, impact
-----------------------------------
* An order of ours that would trade with our own resting order on the other side cancels
  the resting one first (cancel-oldest: a ``CANCELLED`` report with reason
  ``SELF_TRADE``), then proceeds; a post-only order in that case is rejected instead.
* ``maker_fee`` and ``taker_fee`` are currency units per share (USD for LOBSTER; negative:
  a rebate). ``ExecReport.fee``, ``fees_paid`` and ``cash`` are in currency units; ``cash``
  converts prices with ``price_scale`` (LOBSTER: 10,000 price units per USD).
* Every fill of ours calls ``impact.on_trade(ts, signed_qty)``; prices shown and taken are
  the recorded ones plus ``round(impact.offset(t) / tick) * tick`` (halves to even). The
  shift is read at every stop of the replay (our requests and fills, the end of each
  advance); an aggressive order sweeps at the shift of its arrival. When the shift moves,
  our resting orders keep their prices and queue up again behind the recorded level they
  now face. With :class:`~tradelearn.sim.types.NoImpact` and no orders, the book shown is
  the recorded book.
* Requests are checked on arrival at the exchange; bad ones (size, lot, tick, price,
  side, duplicate or unknown id, after ``session_end_ns``, post-only or fill-or-kill that
  cannot stand, a market order into an empty side) give a ``REJECT`` report with the
  reason. Requests before :meth:`ReplaySimulator.start` are rejected at once. Nothing a
  caller sends raises.

Replay and speed
----------------
The recorded book is a :class:`~tradelearn.book.fast.FastBook` driven by
:func:`tradelearn.book.kernels.apply_events`, called from Python between stops. Queue
tracking is this module's own kernel :func:`track_events`: it never calls the book's
kernels (numba's on-disk cache would not notice when they change). It scans a chunk of
events for those touching our levels or debt, keeps our orders in small arrays, and stops
at the first event that fills us, or before a MODIFY or CLEAR (applied from Python with the
book at hand); then the book replays the same chunk. With no orders resting and no debt the
book replays alone. Copies of the book arrays every ``checkpoint_every`` events make
:meth:`ReplaySimulator.reset` a copy and a short replay.

With ``book_rows`` (LOBSTER's orderbook file, one row per event) the book shown is those
rows, and the L3 book, started from row 0 as ghost liquidity like
:mod:`tradelearn.book.replay`, supplies the queues and ids. The replay then starts after
the first event at the earliest.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from tradelearn.book import kernels as K
from tradelearn.book.fast import FastBook
from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.data.schema import EVENT_DTYPE
from tradelearn.errors import ConfigError
from tradelearn.sim.base import SimulatorBase
from tradelearn.sim.latency import ConstantLatency, LatencyModel
from tradelearn.sim.queue import (
    _ADD,
    _CLEAR,
    D_ID,
    D_LQ,
    D_NF,
    D_PX,
    D_QTY,
    D_SIDE,
    R_AHEAD,
    R_AID0,
    R_AIDN,
    R_FILL,
    R_GHOST,
    R_LEAVES,
    R_LQ,
    R_NF,
    R_PX,
    R_SIDE,
    T_DONE,
    T_FILL,
    _member,
    ghost_references,
    track_events,
)
from tradelearn.sim.types import (
    ExecReport,
    ImpactModel,
    Liquidity,
    NoImpact,
    OrderRequest,
    OrderType,
    RejectReason,
    ReportKind,
    TimeInForce,
)


@dataclass(frozen=True)
class OpenOrder:
    """One of our orders resting at the exchange, as the exchange holds it."""

    client_id: int
    side: int
    price: int
    qty: int
    """Quantity of the order (filled and open)."""
    leaves_qty: int
    queue_ahead: int
    """Recorded quantity queued in front of it at its level."""
    tif: TimeInForce
    post_only: bool


@dataclass(eq=False)
class _Order:
    client_id: int
    side: int
    price: int
    qty: int
    leaves: int
    tif: TimeInForce
    post_only: bool


@dataclass(frozen=True)
class _Request:
    kind: Literal["new", "cancel", "modify"]
    client_id: int
    order: OrderRequest | None = None
    price: int | None = None
    qty: int | None = None
    duplicate: bool = False


class ReplaySimulator(SimulatorBase):
    """An exchange that replays recorded L3 events and matches our orders against them.

    Parameters
    ----------
    events
        Recorded events (:data:`~tradelearn.data.schema.EVENT_DTYPE`), timestamps
        non-decreasing.
    tick, lot
        Price grid (price units) and lot size (shares) our orders must respect.
    levels
        Levels per side of :meth:`book_snapshot` by default (and of ``book_rows``).
    latency
        Latency model (default: zero on every channel).
    impact
        Impact model (default :class:`~tradelearn.sim.types.NoImpact`).
    maker_fee, taker_fee
        Currency units per share (negative: rebate), e.g. 0.003 USD.
    price_scale
        Price units per currency unit (LOBSTER: 10,000).
    session_end_ns
        Exchange time at which resting orders expire and later requests are rejected.
    book_rows
        LOBSTER orderbook rows (``len(events)`` x ``4 * levels``): the recorded book shown.
    queue_model
        ``"l3"`` (order ids) or ``"l2"`` (probabilistic, see the module docs).
    queue_power, seed
        Exponent of the L2 queue model and seed of its draws.
    checkpoint_every
        Events between stored copies of the book (for :meth:`reset`).
    """

    def __init__(
        self,
        events: np.ndarray,
        *,
        tick: int,
        lot: int = 1,
        levels: int = 10,
        latency: LatencyModel | None = None,
        impact: ImpactModel | None = None,
        maker_fee: float = 0.0,
        taker_fee: float = 0.0,
        price_scale: int = 10_000,
        session_end_ns: int | None = None,
        book_rows: np.ndarray | None = None,
        queue_model: Literal["l3", "l2"] = "l3",
        queue_power: float = 2.0,
        seed: int = 0,
        checkpoint_every: int = 10_000,
    ) -> None:
        if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
            raise TypeError(f"events must be an EVENT_DTYPE array, actually: {events!r:.80}")
        for name, value in (
            ("tick", tick),
            ("lot", lot),
            ("levels", levels),
            ("price_scale", price_scale),
            ("checkpoint_every", checkpoint_every),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, actually: {value!r}")
        if queue_model not in ("l3", "l2"):
            raise ConfigError(f"queue_model must be 'l3' or 'l2', actually: {queue_model!r}")
        if not queue_power > 0:
            raise ConfigError(f"queue_power must be positive, actually: {queue_power!r}")
        ts = np.ascontiguousarray(events["ts_exchange"])
        if ts.shape[0] > 1 and np.any(ts[1:] < ts[:-1]):
            bad = int(np.flatnonzero(ts[1:] < ts[:-1])[0]) + 1
            raise ValueError(f"events must be in time order; event {bad} goes back in time")
        self._ev = np.ascontiguousarray(events)
        self._ts = ts
        self._tick, self._lot, self._levels = tick, lot, levels
        self._lat: LatencyModel = latency if latency is not None else ConstantLatency()
        self._impact: ImpactModel = impact if impact is not None else NoImpact()
        self._maker, self._taker = float(maker_fee), float(taker_fee)
        self._scale = float(price_scale)
        self._session_end = session_end_ns
        self._l2 = queue_model == "l2"
        self._power = float(queue_power)
        self._rows: npt.NDArray[np.int64] | None = None
        self._first = 0
        if book_rows is not None:
            rows = np.ascontiguousarray(book_rows, dtype=np.int64)
            if rows.shape != (self._ev.shape[0], 4 * levels):
                raise ValueError(
                    f"book_rows must have shape ({self._ev.shape[0]}, {4 * levels}), "
                    f"actually: {rows.shape}"
                )
            self._rows, self._first = rows, 1
        self._ghost = ghost_references(self._ev, self._first)
        self._book = FastBook.for_events(self._ev, tick)
        self._checkpoints = self._build_checkpoints(checkpoint_every)
        self._checkpoint_at = [cp for cp, _ in self._checkpoints]
        self._rng = np.full(1, seed & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
        self._st = np.zeros(1, dtype=np.int64)
        self._or = np.zeros((8, R_NF), dtype=np.int64)
        self._aid = np.zeros(256, dtype=np.int64)
        self._db = np.zeros((16, D_NF), dtype=np.int64)
        self._started = False
        self._now = self._t_ex = 0
        self._pos = self._first
        self._row_cache: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        self._clear_state()

    # ------------------------------------------------------------------ construction
    def _build_checkpoints(self, every: int) -> list[tuple[int, tuple[np.ndarray, ...]]]:
        fb = self._book
        if self._rows is not None and self._ev.shape[0]:
            row0 = self._rows[0]
            for lvl in range(self._levels):
                ask, aq, bid, bq = (int(v) for v in row0[4 * lvl : 4 * lvl + 4])
                if ask != DUMMY_ASK:
                    fb.set_level(-1, ask, aq)
                if bid != DUMMY_BID:
                    fb.set_level(1, bid, bq)
        out = []
        pos = self._first
        n = self._ev.shape[0]
        while True:
            out.append((pos, tuple(a.copy() for a in (fb.LV, fb.O, fb.FR, fb.H, fb.M))))
            if pos >= n:
                return out
            nxt = min(pos + every, n)
            fb.apply(self._ev, pos, nxt)
            pos = nxt

    def _clear_state(self) -> None:
        self._resting: list[_Order] = []
        self._n_aid = 0
        self._n_db = 0
        self._pending: list[tuple[int, int, _Request]] = []
        self._out: list[tuple[int, int, ExecReport]] = []
        self._seq = 0
        self._ids: set[int] = set()
        self._position = 0
        self._cash = 0.0
        self._fees = 0.0
        self._shift = 0
        self._closed = False

    # ------------------------------------------------------------------ episode control
    def start(self, t_ns: int) -> None:
        """Start the session at local time ``t_ns`` (same as :meth:`reset`)."""
        self.reset(t_ns)

    def reset(self, t_ns: int, *, seed: int | None = None) -> None:
        """Begin an episode at local time ``t_ns``: no orders, flat, book at ``t_ns - feed``.

        With ``seed`` the latency model and the queue model restart their random streams.
        """
        if seed is not None:
            self._lat.reseed(seed)
            self._rng[0] = np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
        self._clear_state()
        self._impact.reset()
        self._now = int(t_ns)
        self._t_ex = self._now - self._lat.feed()
        pos = max(int(np.searchsorted(self._ts, self._t_ex, side="right")), self._first)
        pos = min(pos, self._ev.shape[0]) if self._ev.shape[0] else 0
        k = max(bisect.bisect_right(self._checkpoint_at, pos) - 1, 0)
        cpos, arrays = self._checkpoints[k]
        fb = self._book
        for name, saved in zip(("LV", "O", "FR", "H", "M"), arrays, strict=True):
            current = getattr(fb, name)
            if current.shape == saved.shape:
                np.copyto(current, saved)
            else:
                setattr(fb, name, saved.copy())
        fb.apply(self._ev, cpos, pos)
        self._pos = pos
        self._started = True
        if self._session_end is not None and self._t_ex > self._session_end:
            self._closed = True

    # ------------------------------------------------------------------ requests
    def submit(self, order: OrderRequest) -> None:
        """Send a new order; its reports come back after the latencies."""
        if not self._started:
            self._local_reject(order.client_id, RejectReason.BEFORE_START, order.qty)
            return
        dup = order.client_id in self._ids
        self._ids.add(order.client_id)
        self._send(_Request("new", order.client_id, order=order, duplicate=dup))

    def cancel(self, client_id: int) -> None:
        """Ask the exchange to cancel an order."""
        if not self._started:
            self._local_reject(client_id, RejectReason.BEFORE_START, 0)
            return
        self._send(_Request("cancel", client_id))

    def modify(self, client_id: int, *, price: int | None = None, qty: int | None = None) -> None:
        """Change an order's price and/or open quantity (``qty``: the new leaves).

        A smaller ``qty`` at the same price keeps the order's place in the queue; a new
        price or a larger ``qty`` sends it to the back (at its new price).
        """
        if not self._started:
            self._local_reject(client_id, RejectReason.BEFORE_START, qty or 0)
            return
        self._send(_Request("modify", client_id, price=price, qty=qty))

    def _send(self, req: _Request) -> None:
        t = self._now + self._lat.entry()
        heapq.heappush(self._pending, (t, self._seq, req))
        self._seq += 1

    # ------------------------------------------------------------------ time
    def advance_to(self, t_ns: int) -> None:
        """Move the local clock to ``t_ns`` (earlier times are ignored), replaying on the way."""
        self._check_started()
        if t_ns <= self._now:
            return
        target = max(self._t_ex, int(t_ns) - self._lat.feed())
        self._run_exchange(target, None)
        self._now = int(t_ns)
        self._refresh_shift(self._t_ex)

    def advance(self, n_events: int) -> None:
        """Replay the next ``n_events`` recorded events (the local clock follows)."""
        self._check_started()
        stop = min(self._pos + max(int(n_events), 0), self._ev.shape[0])
        if stop <= self._pos:
            return
        t_end = int(self._ts[stop - 1])
        self._run_exchange(max(t_end, self._t_ex), stop)
        self._now = max(self._now, self._t_ex + self._lat.feed())
        self._refresh_shift(self._t_ex)

    def _check_started(self) -> None:
        if not self._started:
            raise RuntimeError("the simulator has not started: call start(t_ns) first")

    def _run_exchange(self, t_end: int, cap: int | None) -> None:
        """Run the exchange to time ``t_end`` (or to event ``cap``), our requests on the way."""
        while True:
            t_req = self._pending[0][0] if self._pending else None
            t_close = None if self._closed or self._session_end is None else self._session_end
            nexts = [t for t in (t_req, t_close) if t is not None]
            t_next = min(nexts) if nexts else None
            if t_next is not None and (t_next < t_end if cap is not None else t_next <= t_end):
                self._replay_to(int(np.searchsorted(self._ts, t_next, side="right")), cap)
                self._t_ex = max(self._t_ex, t_next)
                if t_req is not None and t_req == t_next:
                    self._refresh_shift(t_next)
                    while self._pending and self._pending[0][0] == t_next:
                        self._handle(heapq.heappop(self._pending)[2], t_next)
                else:
                    self._close_session(t_next)
                continue
            self._replay_to(int(np.searchsorted(self._ts, t_end, side="right")), cap)
            self._t_ex = max(self._t_ex, t_end)
            return

    def _replay_to(self, j: int, cap: int | None) -> None:
        """Apply recorded events up to index ``j``, tracking our orders and debt."""
        if cap is not None:
            j = min(j, cap)
        ev, fb = self._ev, self._book
        while self._pos < j:
            i = self._pos
            if not self._resting and self._n_db == 0:
                fb.apply(ev, i, j)
                self._pos = j
                return
            why = self._track(ev, i, j, self._ghost)
            n = int(self._st[0])
            if why == T_DONE:
                fb.apply(ev, i, j)
                self._pos = j
                self._compact_debt()
            elif why == T_FILL:
                fb.apply(ev, i, n + 1)
                self._pos = n + 1
                self._t_ex = max(self._t_ex, int(self._ts[n]))
                self._passive_fills(self._t_ex)
            else:
                fb.apply(ev, i, n)
                self._t_ex = max(self._t_ex, int(self._ts[n]))
                self._special(n)

    def _track(self, ev: np.ndarray, i: int, j: int, ghost: np.ndarray) -> int:
        return int(
            track_events(
                ev, i, j, ghost, self._or, len(self._resting), self._aid, self._db,
                self._n_db, self._l2, self._power, self._rng, self._st,
            )
        )  # fmt: skip

    def _special(self, n: int) -> None:
        """Apply a recorded MODIFY or CLEAR (event ``n``) with our queues and debt in step."""
        e = self._ev[n]
        fb = self._book
        if int(e["event"]) == _CLEAR:
            fb.apply(self._ev, n, n + 1)
            self._pos = n + 1
            self._n_db = 0
            self._or[: len(self._resting), R_AHEAD] = 0
            self._or[: len(self._resting), R_GHOST] = 0
            self._or[: len(self._resting), R_LQ] = 0
            return
        oid, price, qty = (int(e[f]) for f in ("order_id", "price", "qty"))
        old = fb.order(oid)
        requeued = True
        if old is not None:
            os_, op, oq = old
            requeued = not (op == price and qty <= oq)
            gone = oq if requeued else oq - qty
            for r in range(len(self._resting)):
                row = self._or[r]
                here = row[R_SIDE] == os_ and row[R_PX] == op and not self._l2
                if here and _member(self._aid, int(row[R_AID0]), int(row[R_AIDN]), oid):
                    row[R_AHEAD] -= min(gone, int(row[R_AHEAD]))
                    row[R_GHOST] = min(row[R_GHOST], row[R_AHEAD])
            for d in range(self._n_db):
                drow = self._db[d]
                if drow[D_SIDE] == os_ and drow[D_PX] == op and drow[D_ID] == oid:
                    drow[D_QTY] = 0 if requeued else min(int(drow[D_QTY]), qty)
        if requeued and qty > 0:  # the order arrives anew: it may cross our orders
            add = self._ev[n : n + 1].copy()
            add["event"] = _ADD
            self._track(add, 0, 1, np.zeros(1, dtype=np.uint8))
        fb.apply(self._ev, n, n + 1)
        self._pos = n + 1
        for r, o in enumerate(self._resting):  # level totals as the book now holds them
            self._or[r, R_LQ] = self._recorded_qty(o.side, int(self._or[r, R_PX]))
            self._or[r, R_AHEAD] = min(self._or[r, R_AHEAD], self._or[r, R_LQ])
        for d in range(self._n_db):
            self._db[d, D_LQ] = self._recorded_qty(int(self._db[d, D_SIDE]), int(self._db[d, D_PX]))
        self._passive_fills(self._t_ex)

    # ------------------------------------------------------------------ our requests at the exchange
    def _handle(self, req: _Request, t: int) -> None:
        if req.kind == "new":
            assert req.order is not None
            self._new(req.order, t, req.duplicate)
        elif req.kind == "cancel":
            self._cancel(req.client_id, t)
        else:
            self._modify(req, t)

    def _late(self, t: int) -> bool:
        return self._closed or (self._session_end is not None and t > self._session_end)

    def _check(self, side: int, qty: int, price: int | None, market: bool) -> str:
        if side not in (1, -1):
            return RejectReason.BAD_SIDE
        if qty <= 0:
            return RejectReason.NON_POSITIVE_QTY
        if qty % self._lot:
            return RejectReason.OFF_LOT
        if market:
            return ""
        if price is None:
            return RejectReason.MISSING_PRICE
        if price <= 0:
            return RejectReason.NON_POSITIVE_PRICE
        if price % self._tick:
            return RejectReason.OFF_TICK
        return ""

    def _new(self, req: OrderRequest, t: int, duplicate: bool) -> None:
        market = req.order_type == OrderType.MARKET
        reason = self._check(req.side, req.qty, req.price, market)
        if not reason and duplicate:
            reason = RejectReason.DUPLICATE_ID
        if not reason and self._late(t):
            reason = RejectReason.AFTER_SESSION
        if not reason and market and req.post_only:
            reason = RejectReason.POST_ONLY_WOULD_CROSS
        limit = None if market else req.price
        if not reason:
            reason = self._crossing_reason(req.side, limit, req.qty, req.post_only, req.tif)
        if reason:
            self._report(ReportKind.REJECT, req.client_id, t, qty=req.qty, reason=reason)
            return
        o = _Order(
            req.client_id, req.side, req.price or 0, req.qty, req.qty, req.tif, req.post_only
        )
        self._report(ReportKind.ACK, o.client_id, t, price=o.price, qty=o.qty, leaves=o.qty)
        self._enter(o, limit, t)

    def _crossing_reason(
        self, side: int, limit: int | None, qty: int, post_only: bool, tif: TimeInForce
    ) -> str:
        """Why an order may not enter as it is (post-only, FOK, market into nothing), or ''."""
        avail = 0
        for _, px, vis in self._levels_seen(-side):
            if limit is not None and (px - limit) * side > 0:
                break
            avail += vis
            if avail >= qty:
                break
        own = any(self._crosses(o, side, limit) for o in self._resting)
        if post_only and (avail > 0 or own):
            return RejectReason.POST_ONLY_WOULD_CROSS
        if limit is None and avail == 0:
            return RejectReason.NO_LIQUIDITY
        if tif == TimeInForce.FOK and avail < qty:
            return RejectReason.FOK_NOT_FILLABLE
        return ""

    @staticmethod
    def _crosses(resting: _Order, side: int, limit: int | None) -> bool:
        """Would an order (side, limit) trade with our ``resting`` order?"""
        if resting.side != -side:
            return False
        return limit is None or (resting.price - limit) * side <= 0

    def _enter(self, o: _Order, limit: int | None, t: int) -> None:
        """Self-trade prevention, then take what crosses, then rest (GTC limit) or cancel."""
        for old in [r for r in self._resting if self._crosses(r, o.side, limit)]:
            self._remove(old)
            self._report(
                ReportKind.CANCELLED,
                old.client_id,
                t,
                price=old.price,
                qty=old.qty,
                reason=RejectReason.SELF_TRADE,
            )
        taken: list[tuple[int, int, int]] = []
        for rec_px, px, vis in self._levels_seen(-o.side):
            if o.leaves == 0 or (limit is not None and (px - limit) * o.side > 0):
                break
            take = min(o.leaves, vis)
            taken.append((rec_px, px, take))
            o.leaves -= take
        for rec_px, px, take in taken:
            self._add_debt(-o.side, rec_px, take)
            self._fill(o, take, px, Liquidity.TAKER, t)
        if o.leaves == 0:
            return
        if limit is not None and o.tif == TimeInForce.GTC:
            self._rest(o)
        else:
            self._report(ReportKind.CANCELLED, o.client_id, t, price=o.price, qty=o.qty)

    def _cancel(self, client_id: int, t: int) -> None:
        o = self._find(client_id)
        if o is None:
            reason = RejectReason.AFTER_SESSION if self._late(t) else RejectReason.UNKNOWN_ORDER
            self._report(ReportKind.REJECT, client_id, t, reason=reason)
            return
        self._remove(o)
        self._report(ReportKind.CANCELLED, client_id, t, price=o.price, qty=o.qty)

    def _modify(self, req: _Request, t: int) -> None:
        o = self._find(req.client_id)
        if o is None:
            reason = RejectReason.AFTER_SESSION if self._late(t) else RejectReason.UNKNOWN_ORDER
            self._report(ReportKind.REJECT, req.client_id, t, qty=req.qty or 0, reason=reason)
            return
        price = o.price if req.price is None else req.price
        qty = o.leaves if req.qty is None else req.qty
        reason = self._check(o.side, qty, price, False)
        if not reason and o.post_only and self._crossing_reason(o.side, price, qty, True, o.tif):
            reason = RejectReason.POST_ONLY_WOULD_CROSS
        if reason:
            self._report(ReportKind.REJECT, o.client_id, t, price=price, qty=qty, reason=reason)
            return
        filled = o.qty - o.leaves
        o.qty = filled + qty
        if price == o.price and qty <= o.leaves:  # a smaller size keeps its place
            o.leaves = qty
            self._or[self._resting.index(o), R_LEAVES] = qty
            self._report(ReportKind.MODIFIED, o.client_id, t, price=price, qty=o.qty, leaves=qty)
            return
        self._remove(o)
        o.price, o.leaves = price, qty
        self._report(ReportKind.MODIFIED, o.client_id, t, price=price, qty=o.qty, leaves=qty)
        self._enter(o, price, t)

    def _close_session(self, t: int) -> None:
        self._closed = True
        for o in list(self._resting):
            self._remove(o)
            self._report(ReportKind.EXPIRED, o.client_id, t, price=o.price, qty=o.qty)

    def _find(self, client_id: int) -> _Order | None:
        for o in self._resting:
            if o.client_id == client_id:
                return o
        return None

    # ------------------------------------------------------------------ our orders in the queue
    def _rest(self, o: _Order) -> None:
        r = len(self._resting)
        if r == self._or.shape[0]:
            self._or = np.concatenate([self._or, np.zeros_like(self._or)])
        self._resting.append(o)
        self._or[r] = 0
        self._or[r, R_SIDE] = o.side
        self._or[r, R_LEAVES] = o.leaves
        self._queue_up(r)

    def _queue_up(self, r: int) -> None:
        """Put resting order ``r`` at the back of the recorded level it faces now."""
        o = self._resting[r]
        px = o.price - self._shift
        total = self._recorded_qty(o.side, px)
        ahead = max(total - self._debt_at(o.side, px), 0)
        queue = self._book.queue(o.side, px) if not self._l2 else []
        ids = np.array(sorted(oid for oid, _ in queue if oid != 0), dtype=np.int64)
        ghost = queue[0][1] if queue and queue[0][0] == 0 else 0
        ghost += max(total - sum(q for _, q in queue), 0)  # liquidity the L3 book lacks
        if self._n_aid + ids.shape[0] > self._aid.shape[0]:
            self._compact_ids(ids.shape[0])
        a0 = self._n_aid
        self._aid[a0 : a0 + ids.shape[0]] = ids
        self._n_aid += ids.shape[0]
        row = self._or[r]
        row[R_PX], row[R_AHEAD], row[R_GHOST], row[R_LQ] = px, ahead, min(ghost, ahead), total
        row[R_AID0], row[R_AIDN] = a0, ids.shape[0]

    def _compact_ids(self, extra: int) -> None:
        n = len(self._resting)
        live = [self._aid[a0 : a0 + an].copy() for a0, an in self._or[:n, R_AID0 : R_AIDN + 1]]
        need = sum(x.shape[0] for x in live) + extra
        if need > self._aid.shape[0] // 2:
            self._aid = np.zeros(max(2 * need, self._aid.shape[0]), dtype=np.int64)
        pos = 0
        for r, ids in enumerate(live):
            self._aid[pos : pos + ids.shape[0]] = ids
            self._or[r, R_AID0] = pos
            pos += ids.shape[0]
        self._n_aid = pos

    def _remove(self, o: _Order) -> None:
        r = self._resting.index(o)
        n = len(self._resting)
        self._or[r : n - 1] = self._or[r + 1 : n]
        del self._resting[r]

    def _passive_fills(self, t: int) -> None:
        for r, o in enumerate(self._resting):
            f = int(self._or[r, R_FILL])
            if f:
                self._or[r, R_FILL] = 0
                o.leaves -= f
                self._fill(o, f, o.price, Liquidity.MAKER, t)
        for o in [o for o in self._resting if o.leaves == 0]:
            self._remove(o)
        self._compact_debt()
        self._refresh_shift(t)

    def _fill(self, o: _Order, qty: int, price: int, liq: Liquidity, t: int) -> None:
        fee = qty * (self._maker if liq == Liquidity.MAKER else self._taker)
        self._position += o.side * qty
        self._cash -= o.side * price * qty / self._scale + fee
        self._fees += fee
        self._impact.on_trade(t, float(o.side * qty))
        self._report(
            ReportKind.FILL,
            o.client_id,
            t,
            price=price,
            qty=qty,
            leaves=o.leaves,
            liquidity=liq,
            fee=fee,
        )

    def _refresh_shift(self, t: int) -> None:
        shift = round(self._impact.offset(t) / self._tick) * self._tick
        if shift != self._shift:
            self._shift = shift
            for r in range(len(self._resting)):
                self._queue_up(r)

    # ------------------------------------------------------------------ consumed liquidity
    def _add_debt(self, side: int, px: int, qty: int) -> None:
        """Note ``qty`` taken at recorded level (side, px), front of its queue first."""
        n = self._n_db
        owed = {
            int(self._db[d, D_ID]): d
            for d in range(n)
            if self._db[d, D_SIDE] == side and self._db[d, D_PX] == px
        }
        total = self._recorded_qty(side, px)
        takes: list[tuple[int, int]] = []
        rem = qty
        for oid, oq in [] if self._l2 else self._book.queue(side, px):
            take = min(rem, oq - (int(self._db[owed[oid], D_QTY]) if oid in owed else 0))
            if take > 0:
                takes.append((oid, take))
                rem -= take
            if rem == 0:
                break
        if rem:  # liquidity the L3 book does not hold is ghost liquidity
            takes.append((0, rem))
        for oid, take in takes:
            if oid not in owed:
                if n == self._db.shape[0]:
                    self._db = np.concatenate([self._db, np.zeros_like(self._db)])
                self._db[n] = (side, px, oid, 0, total)
                owed[oid], n = n, n + 1
            self._db[owed[oid], D_QTY] += take
        self._n_db = n
        for d in owed.values():
            self._db[d, D_LQ] = total

    def _compact_debt(self) -> None:
        if self._n_db:
            keep = self._db[: self._n_db, D_QTY] > 0
            self._n_db = int(keep.sum())
            self._db[: self._n_db] = self._db[: keep.shape[0]][keep]

    def _debt_at(self, side: int, px: int) -> int:
        owed = 0
        for d in range(self._n_db):
            row = self._db[d]
            if row[D_PX] == px and row[D_SIDE] == side:
                owed += int(row[D_QTY])
        return owed

    # ------------------------------------------------------------------ the recorded book
    def _row_side(self, side: int) -> tuple[list[int], list[int]]:
        """Prices and totals of one side of the current orderbook row (real levels only)."""
        key = (self._pos, side)
        cached = self._row_cache.get(key)
        if cached is not None:
            return cached
        if len(self._row_cache) > 4:
            self._row_cache.clear()
        if self._rows is None or self._pos == 0:
            prices: list[int] = []
            qtys: list[int] = []
        else:
            row = self._rows[self._pos - 1]
            off, dummy = (2, DUMMY_BID) if side == 1 else (0, DUMMY_ASK)
            prices, qtys = row[off::4].tolist(), row[off + 1 :: 4].tolist()
            if dummy in prices:
                k = prices.index(dummy)
                prices, qtys = prices[:k], qtys[:k]
        self._row_cache[key] = (prices, qtys)
        return prices, qtys

    def _recorded_qty(self, side: int, px: int) -> int:
        """Recorded total at a level: the orderbook row within its window, else the L3 book."""
        if self._rows is not None:
            prices, qtys = self._row_side(side)
            if px in prices:
                return qtys[prices.index(px)]
            if self._pos == 0 or len(prices) < self._levels or (px - prices[-1]) * side > 0:
                return 0
        return self._book.level_qty(side, px)

    def _recorded_levels(self, side: int) -> Iterator[tuple[int, int]]:
        """Recorded (price, total) of a side, best first."""
        if self._rows is not None:
            yield from zip(*self._row_side(side), strict=True)
            return
        fb = self._book
        s, step = (0, -1) if side == 1 else (1, 1)
        i = int(fb.M[K.M_BEST_BID]) if side == 1 else int(fb.M[K.M_BEST_ASK])
        base, nlev = fb.base, fb.n_grid
        while 0 <= i < nlev:  # in windows of 64 grid steps: most walks stop in the first
            j = min(max(i + 64 * step, -1), nlev)
            window = fb.LV[s, i:j:step, K.QTY] if step == 1 or j >= 0 else fb.LV[s, i::-1, K.QTY]
            for k in np.flatnonzero(window).tolist():
                yield base + (i + k * step) * self._tick, int(window[k])
            i = j

    def _levels_seen(self, side: int) -> Iterator[tuple[int, int, int]]:
        """Levels of a side as the agent sees them: (recorded price, shown price, qty), best first."""
        for px, q in self._recorded_levels(side):
            vis = q - self._debt_at(side, px) if self._n_db else q
            if vis > 0:
                yield px, px + self._shift, vis

    # ------------------------------------------------------------------ what the agent sees
    def book_snapshot(self, levels: int | None = None) -> npt.NDArray[np.int64]:
        """The book as the agent sees it, in LOBSTER layout (ask px, ask qty, bid px, bid qty).

        The recorded book less what we took, prices shifted by the impact offset; empty
        levels carry LOBSTER's dummy prices. Our own resting orders are not in it.
        """
        n = self._levels if levels is None else levels
        plain = not self._n_db and not self._shift
        if plain and self._rows is None:
            return self._book.snapshot(n)
        out = np.empty(4 * n, dtype=np.int64)
        out[0::4], out[1::4], out[2::4], out[3::4] = DUMMY_ASK, 0, DUMMY_BID, 0
        if plain and self._rows is not None and self._pos:
            k = 4 * min(n, self._levels)
            out[:k] = self._rows[self._pos - 1, :k]
            return out
        for side, off in ((-1, 0), (1, 2)):
            for lvl, (_, px, q) in zip(range(n), self._levels_seen(side), strict=False):
                out[4 * lvl + off], out[4 * lvl + off + 1] = px, q
        return out

    def mid(self) -> float | None:
        """Mid price (price units) of the book as the agent sees it; None if a side is empty."""
        bid = next(self._levels_seen(1), None)
        ask = next(self._levels_seen(-1), None)
        if bid is None or ask is None:
            return None
        return (bid[1] + ask[1]) / 2

    def open_orders(self) -> list[OpenOrder]:
        """Our orders resting at the exchange now (exchange state, not yet reported ones too)."""
        return [
            OpenOrder(
                o.client_id,
                o.side,
                o.price,
                o.qty,
                o.leaves,
                int(self._or[r, R_AHEAD]),
                o.tif,
                o.post_only,
            )
            for r, o in enumerate(self._resting)
        ]

    @property
    def exchange_time(self) -> int:
        """Exchange clock (the time of the book shown), nanoseconds."""
        return self._t_ex

    @property
    def events_applied(self) -> int:
        """Recorded events replayed so far (the book shown is the one after them)."""
        return self._pos

    # ------------------------------------------------------------------ reports
    def _local_reject(self, client_id: int, reason: str, qty: int) -> None:
        t = self._now
        self._report(ReportKind.REJECT, client_id, t, qty=qty, reason=reason, local=t)


__all__ = ["OpenOrder", "ReplaySimulator", "ghost_references", "track_events"]
