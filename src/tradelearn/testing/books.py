"""One driving interface over the reference and the compiled book, and random event streams.

Tests (and users checking a change to the book) drive both implementations through
:class:`BookDriver` and compare what they hold.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from tradelearn.book.fast import FastBook
from tradelearn.book.reference import ReferenceBook
from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.data.schema import EventType, empty_events


class BookDriver(Protocol):
    """What a test needs from a book."""

    def apply(self, event: int, order_id: int, side: int, price: int, qty: int) -> None: ...
    def set_level(self, side: int, price: int, qty: int) -> bool: ...
    def snapshot(self, n_levels: int) -> list[int]: ...
    def queue(self, side: int, price: int) -> list[tuple[int, int]]: ...
    def prices(self, side: int) -> list[int]: ...
    def level_qty(self, side: int, price: int) -> int: ...


class ReferenceDriver:
    """Drives :class:`ReferenceBook`."""

    def __init__(self) -> None:
        self.book = ReferenceBook()

    def apply(self, event: int, order_id: int, side: int, price: int, qty: int) -> None:
        self.book.apply(event, order_id, side, price, qty)

    def set_level(self, side: int, price: int, qty: int) -> bool:
        return self.book.set_level(side, price, qty)

    def snapshot(self, n_levels: int) -> list[int]:
        return self.book.snapshot(n_levels, DUMMY_ASK, DUMMY_BID)

    def queue(self, side: int, price: int) -> list[tuple[int, int]]:
        return self.book.queue(side, price)

    def prices(self, side: int) -> list[int]:
        return self.book.prices(side)

    def level_qty(self, side: int, price: int) -> int:
        return self.book.level_qty(side, price)


class FastDriver:
    """Drives :class:`FastBook` one event at a time (small grid and capacity, to exercise growth)."""

    def __init__(
        self, tick: int = 100, base: int = 1_000_000, n_levels: int = 8, capacity: int = 4
    ) -> None:
        self.book = FastBook(tick, base=base, n_levels=n_levels, capacity=capacity)
        self._ev = empty_events(1)

    def apply(self, event: int, order_id: int, side: int, price: int, qty: int) -> None:
        e = self._ev
        e["event"], e["order_id"], e["side"], e["price"], e["qty"] = (
            event,
            order_id,
            side,
            price,
            qty,
        )
        self.book.apply(e)

    def set_level(self, side: int, price: int, qty: int) -> bool:
        return self.book.set_level(side, price, qty)

    def snapshot(self, n_levels: int) -> list[int]:
        return [int(v) for v in self.book.snapshot(n_levels)]

    def queue(self, side: int, price: int) -> list[tuple[int, int]]:
        return self.book.queue(side, price)

    def prices(self, side: int) -> list[int]:
        return self.book.prices(side)

    def level_qty(self, side: int, price: int) -> int:
        return self.book.level_qty(side, price)


def random_stream(
    rng: np.random.Generator,
    n: int,
    *,
    tick: int = 100,
    mid: int = 1_000_000,
    spread_ticks: int = 40,
) -> np.ndarray:
    """A random but valid-looking event stream: adds that never cross, cancels, deletes,
    executions and modifies of live orders, and references to ids never seen."""
    ev = empty_events(n)
    live: dict[int, tuple[int, int, int]] = {}  # id -> (side, price, qty)
    next_id = 1
    best = {1: mid - tick, -1: mid + tick}
    for k in range(n):
        u = rng.random()
        e = ev[k]
        e["ts_exchange"] = e["ts_local"] = k
        if u < 0.45 or not live:
            side = 1 if rng.random() < 0.5 else -1
            # bids below the lowest ask seen, asks above the highest bid: never crossed
            asks = [p for s, p, _ in live.values() if s == -1]
            bids = [p for s, p, _ in live.values() if s == 1]
            if side == 1:
                top = (min(asks) if asks else mid + tick) - tick
                price = top - tick * int(rng.integers(0, spread_ticks))
            else:
                low = (max(bids) if bids else mid - tick) + tick
                price = low + tick * int(rng.integers(0, spread_ticks))
            qty = int(rng.integers(1, 300))
            e["event"], e["order_id"], e["side"], e["price"], e["qty"] = (
                EventType.ADD,
                next_id,
                side,
                price,
                qty,
            )
            live[next_id] = (side, price, qty)
            best[side] = price
            next_id += 1
        elif u < 0.9:
            oid = int(rng.choice(list(live)))
            side, price, qty = live[oid]
            kind = rng.random()
            if kind < 0.45:
                e["event"], e["qty"] = EventType.DELETE, qty
                del live[oid]
            elif kind < 0.75:
                take = int(rng.integers(1, qty + 1))
                e["event"], e["qty"] = EventType.EXECUTE if kind < 0.6 else EventType.CANCEL, take
                if take == qty:
                    del live[oid]
                else:
                    live[oid] = (side, price, qty - take)
            else:
                new_qty = int(rng.integers(0, qty + 50))
                # price moves away from the touch (never crossing), or stays
                move = int(rng.integers(0, 4)) * tick
                new_price = price - move if side == 1 else price + move
                e["event"], e["qty"] = EventType.MODIFY, new_qty
                price = new_price
                if new_qty <= 0:
                    del live[oid]
                else:
                    live[oid] = (side, price, new_qty)
            e["order_id"], e["side"], e["price"] = oid, side, price
        else:
            # an id the book never saw, at some price near the touch
            side = 1 if rng.random() < 0.5 else -1
            e["event"] = EventType.DELETE if rng.random() < 0.5 else EventType.EXECUTE
            e["order_id"] = 10_000_000 + k
            e["side"] = side
            e["price"] = best[side]
            e["qty"] = int(rng.integers(1, 100))
    return ev
