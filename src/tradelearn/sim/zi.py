"""The zero-intelligence order flow: tradelearn's first synthetic market, kept as an option.

A zero-intelligence order flow in the spirit of Smith, Farmer, Gillemot and Krishnamurthy
(2003), run by its own small matching engine so that every message it writes is consistent
with the book it shows (``tradelearn sim generate --model zi``).

Flow (all arrivals Poisson, all randomness from one ``numpy.random.Generator``):

* limit orders arrive at rate ``limit_rate``; the side is a fair coin; the price sits
  ``d`` ticks behind the opposite best quote, ``d`` geometric with mean ``1/depth_p`` (so most
  orders join near the touch, a few improve or fall deep); size is a round lot (100) with
  probability ``round_lot_p``, else uniform in 1..99;
* market orders arrive at rate ``market_rate`` and take liquidity front of queue first,
  walking levels; each resting order they touch is one EXECUTE message (LOBSTER type 4)
  with the resting order's side, all sharing the market order's timestamp;
* every resting order is cancelled at rate ``cancel_rate`` (so the total cancel rate grows
  with the book); a cancel is a full DELETE (type 3) with probability ``1 - partial_p`` and
  otherwise a partial CANCEL (type 2) of half the order;
* hidden executions (type 5) arrive at rate ``hidden_rate`` at the mid price; they do
  not change the visible book, as in LOBSTER.

The engine writes every message (full depth), so a replay of the message file reproduces
the orderbook file exactly. It is fast and simple; the default market is the agent-based
one (:mod:`tradelearn.sim.agents`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.data.schema import empty_events
from tradelearn.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class FlowParams:
    """Parameters of the synthetic order flow (rates per second)."""

    limit_rate: float = 8.0
    market_rate: float = 1.2
    cancel_rate: float = 0.03
    hidden_rate: float = 0.2
    depth_p: float = 0.25
    partial_p: float = 0.05
    round_lot_p: float = 0.6
    start_price: int = 1_000_000
    """Initial mid in LOBSTER units (USD x 10000)."""
    tick: int = 100
    initial_depth: int = 20
    """Levels per side seeded at the open (as orders that rested from before it)."""

    def validate(self) -> None:
        for name in ("limit_rate", "market_rate", "cancel_rate", "hidden_rate"):
            value = getattr(self, name)
            if not value >= 0:
                raise ConfigError(f"FlowParams.{name} must be >= 0, actually: {value}")
        for name in ("depth_p", "partial_p", "round_lot_p"):
            value = getattr(self, name)
            if not 0 < value <= 1 and not (name != "depth_p" and value == 0):
                raise ConfigError(f"FlowParams.{name} must be in (0, 1], actually: {value}")
        if self.tick <= 0 or self.start_price <= 100 * self.tick:
            raise ConfigError(
                f"FlowParams.start_price must exceed 100 ticks, actually: {self.start_price}"
            )


# --------------------------------------------------------------------------- engine
# Orders are indexed by their id (ids are assigned 1, 2, 3, ...), levels by tick index.
# O[id] = (qty, level, side 0 bid / 1 ask, next id in queue, previous id in queue);
# S holds the scalars: resting orders, best bid and ask index, next id.
Q, LVL, SIDE, NXT, PRV = 0, 1, 2, 3, 4
S_LIVE, S_BID, S_ASK, S_ID = 0, 1, 2, 3


@njit(cache=True)
def _rest(
    O: np.ndarray,
    S: np.ndarray,
    live: np.ndarray,
    live_pos: np.ndarray,
    lv: np.ndarray,
    s: int,
    i: int,
    q: int,
) -> int:
    """A new order of ``q`` at the back of level ``i`` of side ``s``; returns its id."""
    oid = S[S_ID]
    S[S_ID] += 1
    tail = lv[2, s, i]
    O[oid, Q], O[oid, LVL], O[oid, SIDE], O[oid, NXT], O[oid, PRV] = q, i, s, -1, tail
    if tail >= 0:
        O[tail, NXT] = oid
    else:
        lv[1, s, i] = oid
    lv[2, s, i] = oid
    lv[0, s, i] += q
    live[S[S_LIVE]] = oid
    live_pos[oid] = S[S_LIVE]
    S[S_LIVE] += 1
    if s == 0 and i > S[S_BID]:
        S[S_BID] = i
    if s == 1 and i < S[S_ASK]:
        S[S_ASK] = i
    return int(oid)


@njit(cache=True)
def _take(
    O: np.ndarray,
    S: np.ndarray,
    live: np.ndarray,
    live_pos: np.ndarray,
    lv: np.ndarray,
    oid: int,
    q: int,
) -> None:
    """Remove ``q`` of an order; an order that reaches zero leaves its queue."""
    s, i = O[oid, SIDE], O[oid, LVL]
    O[oid, Q] -= q
    lv[0, s, i] -= q
    if O[oid, Q] == 0:
        prev, nxt = O[oid, PRV], O[oid, NXT]
        if prev >= 0:
            O[prev, NXT] = nxt
        else:
            lv[1, s, i] = nxt
        if nxt >= 0:
            O[nxt, PRV] = prev
        else:
            lv[2, s, i] = prev
        p = live_pos[oid]
        last = live[S[S_LIVE] - 1]
        live[p] = last
        live_pos[last] = p
        S[S_LIVE] -= 1
    if lv[0, s, i] == 0:
        n_grid = lv.shape[2]
        if s == 0 and i == S[S_BID]:
            j = i - 1
            while j >= 0 and lv[0, 0, j] == 0:
                j -= 1
            S[S_BID] = j
        elif s == 1 and i == S[S_ASK]:
            j = i + 1
            while j < n_grid and lv[0, 1, j] == 0:
                j += 1
            S[S_ASK] = j


@njit(cache=True)
def _emit(ev: np.ndarray, n: int, t: int, code: int, s: int, oid: int, price: int, q: int) -> None:
    e = ev[n]
    e.ts_exchange = t
    e.ts_local = t
    e.event = code
    e.side = 1 if s == 0 else -1
    e.order_id = oid
    e.price = price
    e.qty = q


@njit(cache=True)
def _lot(rng: np.random.Generator, lot_p: float) -> int:
    return 100 if rng.random() < lot_p else 1 + int(rng.integers(0, 99))


@njit(cache=True)
def _generate(
    rng: np.random.Generator,
    n_max: int,
    t_end_ns: int,
    t0_ns: int,
    rates: np.ndarray,
    probs: np.ndarray,
    start_idx: int,
    n_grid: int,
    init_depth: int,
    out_ev: np.ndarray,
    out_book: np.ndarray,
    levels: int,
    base: int,
    tick: int,
) -> int:
    limit_rate, market_rate, cancel_rate, hidden_rate = rates[0], rates[1], rates[2], rates[3]
    depth_p, partial_p, lot_p = probs[0], probs[1], probs[2]
    cap = n_max + 4 * init_depth + 2
    O = np.full((cap, 5), -1, dtype=np.int64)
    live = np.zeros(cap, dtype=np.int64)  # ids of resting orders (for uniform cancels)
    live_pos = np.full(cap, -1, dtype=np.int64)
    lv = np.full((3, 2, n_grid), -1, dtype=np.int64)  # qty, head id, tail id
    lv[0] = 0
    S = np.array([0, -1, n_grid, 1], dtype=np.int64)
    n = 0
    t = t0_ns
    # the book resting from before the open: a few orders per level, written as adds at
    # the open so that the files are self-contained
    for depth in range(1, init_depth + 1):
        for s in range(2):
            i = start_idx - depth if s == 0 else start_idx + depth
            for _ in range(1 + rng.integers(0, 3)):
                if n >= n_max:
                    break
                q = _lot(rng, lot_p)
                oid = _rest(O, S, live, live_pos, lv, s, i, q)
                _emit(out_ev, n, t, 1, s, oid, base + i * tick, q)
                _snap(lv[0], S[S_BID], S[S_ASK], out_book, n, levels, base, tick)
                n += 1
    while n < n_max:
        total = limit_rate + market_rate + hidden_rate + cancel_rate * S[S_LIVE]
        t = t + 1 + int(rng.exponential(1e9 / total))
        if t >= t_end_ns:
            break
        u = rng.random() * total
        bb, ba = S[S_BID], S[S_ASK]
        if u < limit_rate:
            s = 0 if rng.random() < 0.5 else 1
            d = rng.geometric(depth_p)  # 1, 2, 3, ... ticks behind the opposite quote
            if s == 0:
                i = (ba if ba < n_grid else (bb + 1 if bb >= 0 else start_idx)) - d
            else:
                i = (bb if bb >= 0 else (ba - 1 if ba < n_grid else start_idx)) + d
            if i < 1 or i >= n_grid - 1:
                continue
            q = _lot(rng, lot_p)
            oid = _rest(O, S, live, live_pos, lv, s, i, q)
            _emit(out_ev, n, t, 1, s, oid, base + i * tick, q)
            _snap(lv[0], S[S_BID], S[S_ASK], out_book, n, levels, base, tick)
            n += 1
        elif u < limit_rate + market_rate:
            # a market order: a buy takes resting asks (s = 1), a sell takes resting bids
            s = 1 if rng.random() < 0.5 else 0
            want = _lot(rng, lot_p)
            while want > 0 and n < n_max:
                i = S[S_ASK] if s == 1 else S[S_BID]
                if i < 0 or i >= n_grid:
                    break
                oid = lv[1, s, i]
                q = min(want, O[oid, Q])
                want -= q
                _take(O, S, live, live_pos, lv, oid, q)
                _emit(out_ev, n, t, 4, s, oid, base + i * tick, q)
                _snap(lv[0], S[S_BID], S[S_ASK], out_book, n, levels, base, tick)
                n += 1
        elif u < limit_rate + market_rate + hidden_rate:
            if bb < 0 or ba >= n_grid:
                continue
            side = 0 if rng.random() < 0.5 else 1
            _emit(out_ev, n, t, 5, side, 0, base + (bb + ba) * tick // 2, _lot(rng, lot_p))
            _snap(lv[0], bb, ba, out_book, n, levels, base, tick)
            n += 1
        else:
            if S[S_LIVE] == 0:
                continue
            oid = live[rng.integers(0, S[S_LIVE])]
            s, i, held = O[oid, SIDE], O[oid, LVL], O[oid, Q]
            if held > 1 and rng.random() < partial_p:
                code, q = 2, held // 2
            else:
                code, q = 3, held
            _take(O, S, live, live_pos, lv, oid, q)
            _emit(out_ev, n, t, code, s, oid, base + i * tick, q)
            _snap(lv[0], S[S_BID], S[S_ASK], out_book, n, levels, base, tick)
            n += 1
    return n


@njit(cache=True)
def _snap(
    lv_qty: np.ndarray,
    best_bid: int,
    best_ask: int,
    out: np.ndarray,
    row: int,
    levels: int,
    base: int,
    tick: int,
) -> None:
    if levels == 0:
        return
    n_grid = lv_qty.shape[1]
    j = best_ask
    for lvl in range(levels):
        while j < n_grid and lv_qty[1, j] == 0:
            j += 1
        if j < n_grid:
            out[row, 4 * lvl] = base + j * tick
            out[row, 4 * lvl + 1] = lv_qty[1, j]
            j += 1
        else:
            out[row, 4 * lvl] = DUMMY_ASK
            out[row, 4 * lvl + 1] = 0
    j = best_bid
    for lvl in range(levels):
        while j >= 0 and lv_qty[0, j] == 0:
            j -= 1
        if j >= 0:
            out[row, 4 * lvl + 2] = base + j * tick
            out[row, 4 * lvl + 3] = lv_qty[0, j]
            j -= 1
        else:
            out[row, 4 * lvl + 2] = DUMMY_BID
            out[row, 4 * lvl + 3] = 0


def generate_zi(
    rng: np.random.Generator,
    p: FlowParams,
    *,
    seconds: float,
    t0_ns: int,
    levels: int,
    max_events: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the zero-intelligence flow from ``t0_ns``; returns events and book rows
    (``levels`` 0: a 1-column placeholder)."""
    p.validate()
    if max_events is None:
        # generous bound on the flow: limit + market (several fills) + hidden + cancels
        expected = (p.limit_rate * 2 + p.market_rate * 6 + p.hidden_rate) * seconds
        max_events = int(expected * 1.5) + 10 * p.initial_depth + 1000
    # a grid from one tick up to twice the opening price (or +-20,000 ticks)
    start_idx = min(20_000, p.start_price // p.tick - 1)
    n_grid = 2 * start_idx
    base = p.start_price - start_idx * p.tick
    out_ev = empty_events(max_events)
    out_book = np.zeros((max_events if levels else 1, 4 * max(levels, 1)), dtype=np.int64)
    n = _generate(
        rng,
        max_events,
        t0_ns + int(seconds * 1e9),
        t0_ns,
        np.array([p.limit_rate, p.market_rate, p.cancel_rate, p.hidden_rate]),
        np.array([p.depth_p, p.partial_p, p.round_lot_p]),
        start_idx,
        n_grid,
        p.initial_depth,
        out_ev,
        out_book,
        levels,
        base,
        p.tick,
    )
    return out_ev[:n].copy(), out_book[:n].copy() if levels else out_book[:0].copy()


__all__ = ["FlowParams", "generate_zi"]
