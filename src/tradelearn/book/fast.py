"""The compiled L3 book: owner of the arrays that :mod:`tradelearn.book.kernels` works on.

:class:`FastBook` keeps the dense price grid, order slots and order-id hash table, grows
them when a kernel asks, and offers the same queries as the reference book.
"""

from __future__ import annotations

import numpy as np

from tradelearn.book import kernels as K
from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.data.schema import EVENT_DTYPE

_SIDE_INDEX = {1: 0, -1: 1}


class FastBook:
    """Price-time-priority L3 book on a dense price grid, driven by compiled kernels.

    Parameters
    ----------
    tick
        Grid step in price units; every resting price must be a multiple of it.
    base, n_levels
        Initial grid: prices ``base, base + tick, ..., base + (n_levels - 1) * tick``.
        The grid grows by itself when an event falls outside it.
    capacity
        Initial number of order slots (grows by doubling).
    """

    def __init__(
        self, tick: int, base: int = 0, n_levels: int = 1024, capacity: int = 1 << 14
    ) -> None:
        if tick <= 0:
            raise ValueError(f"tick must be positive, actually: {tick}")
        if n_levels <= 0 or capacity <= 0:
            raise ValueError(
                f"n_levels and capacity must be positive, actually: {n_levels}, {capacity}"
            )
        if base % tick:
            raise ValueError(f"base must be a multiple of tick {tick}, actually: {base}")
        self.M = np.zeros(K.M_SIZE, dtype=np.int64)
        self.M[K.M_BASE] = base
        self.M[K.M_TICK] = tick
        self.M[K.M_NLEV] = n_levels
        self.LV = np.zeros((2, n_levels, 4), dtype=np.int64)
        self.O = np.zeros((capacity, K.N_OFIELDS), dtype=np.int64)
        self.FR = np.zeros(capacity, dtype=np.int64)
        hcap = 1 << max(4, int(2 * capacity - 1).bit_length())
        self.H = np.full((hcap, 2), K.EMPTY_KEY, dtype=np.int64)
        self.M[K.M_HMASK] = hcap - 1
        self.M[K.M_HSHIFT] = 64 - (hcap.bit_length() - 1)
        K.clear(self.LV, self.O, self.FR, self.H, self.M)

    # ---------------------------------------------------------------- construction helpers
    @classmethod
    def for_events(cls, events: np.ndarray, tick: int, margin_ticks: int = 256) -> FastBook:
        """A book whose grid covers every visible price in ``events`` plus a margin."""
        visible = (events["event"] == K.E_ADD) | (events["event"] == K.E_MODIFY)
        prices = events["price"][visible]
        if prices.size == 0:
            return cls(tick)
        lo = (int(prices.min()) // tick - margin_ticks) * tick
        hi = (int(prices.max()) // tick + margin_ticks) * tick
        # slots grow on demand; starting small keeps the hot arrays in cache
        return cls(tick, base=max(lo, 0), n_levels=(hi - max(lo, 0)) // tick + 1, capacity=4096)

    # ---------------------------------------------------------------- properties
    @property
    def tick(self) -> int:
        return int(self.M[K.M_TICK])

    @property
    def base(self) -> int:
        return int(self.M[K.M_BASE])

    @property
    def n_grid(self) -> int:
        return int(self.M[K.M_NLEV])

    @property
    def n_orders(self) -> int:
        """Orders with ids resting in the book (ghost liquidity not counted)."""
        return int(self.M[K.M_NORDERS])

    @property
    def unknown_refs(self) -> int:
        return int(self.M[K.M_UNKNOWN])

    @property
    def anomalies(self) -> int:
        return int(self.M[K.M_ANOMALY])

    # ---------------------------------------------------------------- growth
    def ensure_price(self, price: int) -> None:
        """Grow the grid so that ``price`` is on it."""
        tick, base, nlev = self.tick, self.base, self.n_grid
        i = (price - base) // tick
        if 0 <= i < nlev:
            return
        pad = max(nlev, 256)
        new_base = base
        if i < 0:
            new_base = max(0, base + (i - pad) * tick)
        new_hi = max(base + (nlev - 1) * tick, price + pad * tick if i >= nlev else 0)
        new_n = (new_hi - new_base) // tick + 1
        off = (base - new_base) // tick
        LV = np.zeros((2, new_n, 4), dtype=np.int64)
        LV[:, :, K.HEAD] = -1
        LV[:, :, K.TAIL] = -1
        LV[:, off : off + nlev, :] = self.LV
        self.LV = LV
        used = np.ones(self.O.shape[0], dtype=bool)
        used[self.FR[: self.M[K.M_NFREE]]] = False
        self.O[used, K.O_LVL] += off
        bb, ba = int(self.M[K.M_BEST_BID]), int(self.M[K.M_BEST_ASK])
        self.M[K.M_BEST_BID] = bb + off if bb >= 0 else -1
        self.M[K.M_BEST_ASK] = ba + off if ba < nlev else new_n
        self.M[K.M_BASE] = new_base
        self.M[K.M_NLEV] = new_n

    def grow_slots(self) -> None:
        cap = self.O.shape[0]
        O = np.zeros((2 * cap, K.N_OFIELDS), dtype=np.int64)
        O[:cap] = self.O
        FR = np.zeros(2 * cap, dtype=np.int64)
        nfree = int(self.M[K.M_NFREE])
        FR[:nfree] = self.FR[:nfree]
        FR[nfree : nfree + cap] = np.arange(2 * cap - 1, cap - 1, -1)
        self.O, self.FR = O, FR
        self.M[K.M_NFREE] = nfree + cap
        if 2 * (self.n_orders + 2 * cap) > self.M[K.M_HMASK]:
            self.grow_hash(2 * (self.n_orders + 2 * cap))

    def grow_hash(self, at_least: int | None = None) -> None:
        need = at_least if at_least is not None else 2 * self.H.shape[0]
        hcap = self.H.shape[0]
        while hcap < need:
            hcap *= 2
        old = self.H
        self.H = np.empty((hcap, 2), dtype=np.int64)
        self.M[K.M_HMASK] = hcap - 1
        self.M[K.M_HSHIFT] = 64 - (hcap.bit_length() - 1)
        K.rehash(old, self.H, self.M, self.O)

    def handle(self, status: int, events: np.ndarray) -> None:
        """Grow whatever a kernel ran short of."""
        if status == K.NEED_GRID:
            self.ensure_price(int(events["price"][int(self.M[K.M_STOP])]))
        elif status == K.NEED_SLOTS:
            self.grow_slots()
        elif status == K.NEED_HASH:
            self.grow_hash()
        else:  # pragma: no cover - kernels return only the codes above
            raise RuntimeError(f"unknown kernel status {status}")

    # ---------------------------------------------------------------- mutation
    def apply(self, events: np.ndarray, start: int = 0, stop: int | None = None) -> None:
        """Apply ``events[start:stop]`` (an EVENT_DTYPE array)."""
        if events.dtype != EVENT_DTYPE:
            raise TypeError(f"events must be an EVENT_DTYPE array, actually: {events.dtype}")
        stop = events.shape[0] if stop is None else stop
        i = start
        while True:
            status = K.apply_events(events, i, stop, self.LV, self.O, self.FR, self.H, self.M)
            if status == K.OK:
                return
            i = int(self.M[K.M_STOP])
            self.handle(status, events)

    def set_level(self, side: int, price: int, qty: int) -> bool:
        """Make the level at ``price`` hold ``qty`` (see the reference rules)."""
        self.ensure_price(price)
        if self.M[K.M_NFREE] == 0:
            self.grow_slots()
        return bool(
            K.set_level(
                self.LV,
                self.O,
                self.FR,
                self.H,
                self.M,
                _SIDE_INDEX[side],
                (price - self.base) // self.tick,
                qty,
            )
        )

    def clear(self) -> None:
        K.clear(self.LV, self.O, self.FR, self.H, self.M)

    # ---------------------------------------------------------------- queries
    def best_bid(self) -> int | None:
        i = int(self.M[K.M_BEST_BID])
        return None if i < 0 else self.base + i * self.tick

    def best_ask(self) -> int | None:
        i = int(self.M[K.M_BEST_ASK])
        return None if i >= self.n_grid else self.base + i * self.tick

    def snapshot(self, n_levels: int) -> np.ndarray:
        """The best ``n_levels`` in LOBSTER orderbook layout, with LOBSTER's dummy prices."""
        out = np.empty(4 * n_levels, dtype=np.int64)
        K.snapshot_into(self.LV, self.M, n_levels, out, DUMMY_ASK, DUMMY_BID)
        return out

    def level_qty(self, side: int, price: int) -> int:
        i = (price - self.base) // self.tick
        if not 0 <= i < self.n_grid:
            return 0
        return int(self.LV[_SIDE_INDEX[side], i, K.QTY])

    def queue(self, side: int, price: int) -> list[tuple[int, int]]:
        """The FIFO queue at a level as (order_id, qty), front first (0 = ghost liquidity)."""
        i = (price - self.base) // self.tick
        if not 0 <= i < self.n_grid:
            return []
        out = []
        k = int(self.LV[_SIDE_INDEX[side], i, K.HEAD])
        while k >= 0:
            out.append((int(self.O[k, K.O_ID]), int(self.O[k, K.O_QTY])))
            k = int(self.O[k, K.O_NEXT])
        return out

    def prices(self, side: int) -> list[int]:
        """Prices with liquidity, best first."""
        s = _SIDE_INDEX[side]
        idx = np.flatnonzero(self.LV[s, :, K.QTY] > 0)
        px = [self.base + int(i) * self.tick for i in idx]
        return px[::-1] if side == 1 else px

    def order(self, order_id: int) -> tuple[int, int, int] | None:
        """(side, price, qty) of a resting order, or ``None``."""
        k = int(K.hash_find(self.H, self.M, order_id))
        if k < 0:
            return None
        side = 1 if self.O[k, K.O_SIDE] == 0 else -1
        return side, self.base + int(self.O[k, K.O_LVL]) * self.tick, int(self.O[k, K.O_QTY])

    def queue_ahead(self, order_id: int) -> int | None:
        """Quantity queued in front of an order at its level (``None`` if unknown)."""
        k = int(K.hash_find(self.H, self.M, order_id))
        if k < 0:
            return None
        ahead = 0
        j = int(self.O[k, K.O_PREV])
        while j >= 0:
            ahead += int(self.O[j, K.O_QTY])
            j = int(self.O[j, K.O_PREV])
        return ahead
