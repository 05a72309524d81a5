"""The agent-based market: a background population that trades with, and reacts to, us.

A population of order-flow agents (parameters: :class:`~tradelearn.sim.abm_params.AgentParams`,
fitted to GOOG by :mod:`tradelearn.sim.abm_calibrate`) runs on its own price-time-priority
matching engine (:mod:`tradelearn.sim.abm_kernels`) and writes every message it causes, so
its LOBSTER files replay through :func:`tradelearn.book.replay.verify` with zero differences.

The population (rates per second, each scaled by the market's activity ``A(t)``):

* **liquidity providers** place limit orders ``x`` ticks from their *value*, ``x`` from the
  distance-to-mid distribution fitted to the data, never crossing the book (they improve
  the quote instead); each order is flickering, fleeting or patient (a three-class
  lifetime mixture fitted to the data, quote-improving orders more often fleeting) and an
  order left on the wrong side of their value is withdrawn (adverse selection);
* their value is the fundamental value ``V`` plus what trades taught them: every market
  order moves it by ``kappa sign sqrt(q)``, fading with memory ``tau`` (a propagator with
  square-root per-trade impact: Hasbrouck 1991; Bouchaud, Gefen, Potters & Wyart 2004),
  so our trading moves the book they make;
* **fundamental traders** (a small share of the limit flow) place around ``V`` itself and
  trade where that crosses the book (Chiarella & Iori 2002);
* **noise takers** send market orders of random sign with a Hawkes intensity that every
  trade excites, theirs, the other agents' and ours (Hawkes 1971; Bacry, Mastromatteo &
  Muzy 2015);
* **informed takers** trade towards ``V`` when the mid is more than a threshold away;
* **momentum traders** trade with the recent trend of the mid;
* **a market maker** requotes around the mid, leaning with the queue imbalance at the touch
  and against its inventory (Avellaneda & Stoikov 2008), up to an inventory limit;
* **hidden executions** print at the mid without touching the visible book.

The exogenous drivers come from a generator of their own, so our orders never change them:
the activity ``A(t)`` (an intraday profile times ``exp(X)``, ``X`` an Ornstein-Uhlenbeck
process) and ``V`` (a random walk whose variance follows an intraday profile and ``exp(X)``).
The informed, momentum and market-making agents read the book we trade on, and the
liquidity providers learn from our trades, so our orders move all of them.

Usage::

    market = AgentMarket(levels=10)
    market.reset(seed=7)                 # warm-up, then the open book is written at 09:30
    market.run_until(market.open_ns + 60 * 10**9)
    fill = market.inject(side=+1, qty=500)   # a market buy, now
    market.run_until(market.open_ns + 120 * 10**9)
    events, book = market.events(), market.book_rows()
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from tradelearn.data.lobster import midnight_ns
from tradelearn.data.schema import EVENT_DTYPE
from tradelearn.errors import ConfigError
from tradelearn.sim import abm_kernels as K
from tradelearn.sim.abm_params import AgentParams, build_tables

NS = 1_000_000_000
OPEN_S = 34_200
"""Session start, seconds after midnight (09:30 New York)."""


@dataclass(frozen=True)
class Fill:
    """What an outside order did: the quantity it traded and the id of what rests (0: none)."""

    filled: int
    order_id: int
    first_event: int
    """Index of its first message in :meth:`AgentMarket.events` (recording only)."""


class AgentMarket:
    """The agent population on its matching engine, run forward on request.

    Parameters
    ----------
    params
        The population (default: calibrated to the shared GOOG day).
    levels
        Levels per side recorded after every message (0: record messages only).
    date
        Trading date; times are nanoseconds since the epoch, the session opens at 09:30
        New York time.
    record
        Write messages (and book rows); off, the market only runs (faster experiments).
    """

    def __init__(
        self,
        params: AgentParams | None = None,
        *,
        levels: int = 10,
        date: dt.date = dt.date(2024, 1, 2),
        record: bool = True,
    ) -> None:
        self.record = record
        self.params = params or AgentParams()
        self.params.validate()
        if not 0 <= levels <= 200:
            raise ConfigError(f"levels must be in 0..200, actually: {levels}")
        self.levels = levels
        self.date = date
        self.open_ns = midnight_ns(date) + OPEN_S * NS
        p = self.params
        self._P = p.vector()
        self._tab = build_tables(p)
        self.start_idx = min(20_000, p.start_price // p.tick - 1)
        self.n_grid = 2 * self.start_idx
        self.base = p.start_price - self.start_idx * p.tick
        self._started = False

    # ------------------------------------------------------------------ set-up
    def reset(self, seed: int | np.random.SeedSequence) -> None:
        """Start afresh: seed the book, run the warm-up unrecorded, write the open book.

        The flow and the exogenous drivers (activity, fundamental value) draw from two
        independent generators spawned from ``seed``; the same seed gives the same market,
        bit for bit."""
        p = self.params
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        flow_ss, exo_ss = ss.spawn(2)
        self._rng = np.random.default_rng(flow_ss)
        self._rng_exo = np.random.default_rng(exo_ss)
        cap = 1 << 16
        self.O = np.zeros((cap, K.N_OCOL), dtype=np.int64)
        self.LIVE = np.zeros((K.N_CLS, cap), dtype=np.int64)
        self.LV = np.full((3, 2, self.n_grid), -1, dtype=np.int64)
        self.LV[0] = 0
        self.MM = np.zeros((max(p.n_market_makers, 1), 3), dtype=np.int64)
        S = np.zeros(K.N_S, dtype=np.int64)
        start = self.open_ns - int(p.warmup * NS)
        S[K.S_BID], S[K.S_ASK], S[K.S_ID] = -1, self.n_grid, 1
        S[K.S_T], S[K.S_TCAND], S[K.S_TCLOCK] = start, -1, start + int(p.clock * NS)
        S[K.S_T0] = self.open_ns
        S[K.S_LEVELS], S[K.S_BASE], S[K.S_TICK] = self.levels, self.base, p.tick
        S[K.S_MARGIN] = self._tab.margin
        self.S = S
        F = np.zeros(K.N_F)
        F[K.F_V] = float(self.start_idx)
        F[K.F_X] = p.activity_sigma * self._rng_exo.standard_normal()
        F[K.F_A] = self._tab.profile[0, 0] * np.exp(F[K.F_X] - 0.5 * p.activity_sigma**2)
        F[K.F_LASTMID] = -1.0
        self.F = F
        self._ev = np.empty(0, dtype=EVENT_DTYPE)
        self._book = np.empty((0, 4 * max(self.levels, 1)), dtype=np.int64)
        K.seed_book(self._st(), self._tab.arrays(), self._rng, p.seed_orders)
        self._started = True
        self.run_until(self.open_ns)
        K._advance(S, F, self._P, self.open_ns)  # the clock reads 09:30 (a candidate event waits)
        if not self.record:
            return
        S[K.S_RECORD] = 1
        self.reserve(int(S[K.S_ID]) + self._tab.margin + 16)
        K.write_open_book(self._st(), (self._ev, self._book))

    def _st(self) -> tuple[np.ndarray, ...]:
        return (self.O, self.LIVE, self.LV, self.S, self.F, self.MM, self._P)

    # ------------------------------------------------------------------ running
    def run_until(self, t_ns: int) -> None:
        """Run the population until just before ``t_ns`` (an event at ``t_ns`` waits)."""
        self._check()
        tab = self._tab.arrays()
        while True:
            status = K.run(
                self._st(), (self._ev, self._book), tab, self._rng, self._rng_exo, int(t_ns)
            )
            if status == K.OK:
                return
            if status == K.NEED_OUT:
                self._grow_out(max(self._ev.shape[0], 2 * self._tab.margin))
            else:
                self._grow_ids()

    def inject(
        self, *, side: int, qty: int, price: int | None = None, t_ns: int | None = None,
        rest: bool = True,
    ) -> Fill:  # fmt: skip
        """Send an outside order: the agents run up to ``t_ns`` (default: now), then it trades.

        ``side`` is +1 (buy) or -1 (sell); ``price`` in price units (on the tick grid) makes
        it a limit order whose unfilled part rests when ``rest`` (no agent cancels it), and
        ``None`` a market order. It produces the same messages as any agent's order."""
        self._check()
        if side not in (1, -1):
            raise ConfigError(f"side must be +1 (buy) or -1 (sell), actually: {side}")
        if qty <= 0:
            raise ConfigError(f"qty must be positive, actually: {qty}")
        t = int(self.S[K.S_T]) if t_ns is None else int(t_ns)
        if t < self.S[K.S_T]:
            raise ConfigError(f"t_ns {t} is before the market's clock {int(self.S[K.S_T])}")
        self.run_until(t)
        limit = -1
        if price is not None:
            off = price - self.base
            if off % self.params.tick or not 1 <= off // self.params.tick < self.n_grid - 1:
                raise ConfigError(f"price {price} is off the tick grid or outside the price grid")
            limit = off // self.params.tick
        self._grow_out(qty + 8)
        if self.S[K.S_ID] + 4 >= self.O.shape[0]:
            self._grow_ids()
        first = int(self.S[K.S_N])
        next_id = int(self.S[K.S_ID])
        filled = K.inject(self._st(), (self._ev, self._book), t, side == 1, int(qty), limit, rest)
        oid = next_id if int(self.S[K.S_ID]) > next_id else 0
        return Fill(filled=int(filled), order_id=oid, first_event=first)

    def cancel(self, order_id: int, t_ns: int | None = None) -> int:
        """Delete one of our resting orders; returns the quantity removed (0: nothing rests)."""
        self._check()
        t = int(self.S[K.S_T]) if t_ns is None else int(t_ns)
        self.run_until(t)
        self._grow_out(4)
        return int(K.cancel_outside(self._st(), (self._ev, self._book), t, int(order_id)))

    # ------------------------------------------------------------------ what the book shows
    @property
    def now_ns(self) -> int:
        return int(self.S[K.S_T])

    @property
    def best_bid(self) -> int | None:
        i = int(self.S[K.S_BID])
        return None if i < 0 else self.base + i * self.params.tick

    @property
    def best_ask(self) -> int | None:
        i = int(self.S[K.S_ASK])
        return None if i >= self.n_grid else self.base + i * self.params.tick

    @property
    def mid(self) -> float | None:
        b, a = self.best_bid, self.best_ask
        return None if b is None or a is None else 0.5 * (b + a)

    @property
    def fundamental(self) -> float:
        """The fundamental value ``V`` in price units (what informed traders know)."""
        return self.base + float(self.F[K.F_V]) * self.params.tick

    @property
    def n_events(self) -> int:
        return int(self.S[K.S_N])

    def events(self) -> np.ndarray:
        """The messages written so far (a copy, :data:`~tradelearn.data.schema.EVENT_DTYPE`)."""
        return self._ev[: self.n_events].copy()

    def book_rows(self) -> np.ndarray:
        """The top ``levels`` after every message (LOBSTER layout and dummy prices)."""
        return self._book[: self.n_events, : 4 * self.levels].copy()

    # ------------------------------------------------------------------ buffers
    def _check(self) -> None:
        if not self._started:
            raise ConfigError("call AgentMarket.reset(seed) before running the market")

    def reserve(self, n_events: int) -> None:
        """Make room for ``n_events`` more messages (the buffers also grow on demand)."""
        n = int(self.S[K.S_N])
        if self._ev.shape[0] - n >= n_events:
            return
        size = n + n_events
        ev = np.empty(size, dtype=EVENT_DTYPE)
        ev[:n] = self._ev[:n]
        book = np.empty((size, self._book.shape[1]), dtype=np.int64)
        book[:n] = self._book[:n]
        self._ev, self._book = ev, book

    def _grow_out(self, need: int) -> None:
        n = int(self.S[K.S_N])
        if self._ev.shape[0] - n < need:
            self.reserve(max(need, self._ev.shape[0]))

    def _grow_ids(self) -> None:
        cap = self.O.shape[0]
        O = np.zeros((2 * cap, K.N_OCOL), dtype=np.int64)
        O[:cap] = self.O
        LIVE = np.zeros((K.N_CLS, 2 * cap), dtype=np.int64)
        LIVE[:, :cap] = self.LIVE
        self.O, self.LIVE = O, LIVE
