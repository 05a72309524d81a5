"""Plain-Python L3 order book: the reference the compiled book is held equal to.

Semantics (shared, rule for rule, with :mod:`tradelearn.book.fast`):

* Each side keeps price levels; each level is a FIFO queue of orders ``(order_id, qty)``.
* ``ADD`` appends to the back of its level's queue. An id already resting is an anomaly:
  the event is counted and ignored.
* ``CANCEL`` and ``EXECUTE`` remove ``qty`` from the order (an order that reaches zero
  leaves the book); ``DELETE`` removes the whole order. The level always loses exactly
  the event's quantity (when it is positive): if the book holds less of the order than
  that (a correction took part of it), the shortfall is taken from the level as for an
  unknown id; if it holds more, the excess stays at the level as ghost liquidity.
* ``MODIFY`` keeps priority when only the size shrinks; a new price or a larger size
  sends the order to the back of the queue at its new price.
* ``CLEAR`` empties the book; other events (hidden executions, cross trades, halts,
  trade prints) leave the book alone.
* **Ghost liquidity.** Liquidity the book knows is there but whose orders it never saw
  (the book resting from before the open, or depth that enters a LOBSTER file's visible
  window from beyond it) is held as one order with id 0 at the *front* of its level:
  it is older than any order the book saw arrive at that price while it was visible.
* **Unknown ids.** A cancel, delete or execution of an id the book does not hold takes
  its quantity from the level at the event's price: from the ghost order first, then
  from the newest orders at the back of the queue. Such events are counted.
* :meth:`ReferenceBook.set_level` (used to correct the book from a snapshot) grows a level
  by adding ghost liquidity at the front and shrinks it by taking from the ghost first,
  then from the back of the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradelearn.data.schema import EventType

BID = 1
ASK = -1


@dataclass
class _Order:
    order_id: int
    side: int
    price: int
    qty: int


@dataclass
class ReferenceBook:
    """A price-time-priority L3 book in plain Python (dicts and lists)."""

    levels: dict[int, dict[int, list[_Order]]] = field(default_factory=lambda: {BID: {}, ASK: {}})
    orders: dict[int, _Order] = field(default_factory=dict)
    unknown_refs: int = 0
    anomalies: int = 0

    # ------------------------------------------------------------------ queries
    def level_qty(self, side: int, price: int) -> int:
        return sum(o.qty for o in self.levels[side].get(price, ()))

    def prices(self, side: int) -> list[int]:
        """Prices with liquidity, best first."""
        return sorted(self.levels[side], reverse=(side == BID))

    def best(self, side: int) -> int | None:
        ps = self.prices(side)
        return ps[0] if ps else None

    def depth(self, side: int, n: int) -> list[tuple[int, int]]:
        """The best ``n`` levels of a side as (price, total qty)."""
        return [(p, self.level_qty(side, p)) for p in self.prices(side)[:n]]

    def queue(self, side: int, price: int) -> list[tuple[int, int]]:
        """The FIFO queue at a level as (order_id, qty), front first."""
        return [(o.order_id, o.qty) for o in self.levels[side].get(price, ())]

    def snapshot(self, n_levels: int, dummy_ask: int, dummy_bid: int) -> list[int]:
        """The book in LOBSTER orderbook layout (ask px, ask size, bid px, bid size per level)."""
        asks = self.depth(ASK, n_levels)
        bids = self.depth(BID, n_levels)
        row: list[int] = []
        for i in range(n_levels):
            row += list(asks[i]) if i < len(asks) else [dummy_ask, 0]
            row += list(bids[i]) if i < len(bids) else [dummy_bid, 0]
        return row

    # ------------------------------------------------------------------ mutation
    def _remove_order(self, order: _Order) -> None:
        queue = self.levels[order.side][order.price]
        queue.remove(order)
        if not queue:
            del self.levels[order.side][order.price]
        if order.order_id:
            del self.orders[order.order_id]

    def _reduce(self, order: _Order, qty: int) -> None:
        if qty >= order.qty:
            self._remove_order(order)
        else:
            order.qty -= qty

    def _take_from_level(self, side: int, price: int, qty: int) -> None:
        """Remove ``qty`` from a level: the ghost at the front first, then the newest orders."""
        queue = self.levels[side].get(price)
        if not queue:
            return
        if queue[0].order_id == 0 and qty > 0:
            take = min(qty, queue[0].qty)
            qty -= take
            self._reduce(queue[0], take)
        while qty > 0 and price in self.levels[side]:
            last = self.levels[side][price][-1]
            take = min(qty, last.qty)
            qty -= take
            self._reduce(last, take)

    def add(self, order_id: int, side: int, price: int, qty: int) -> None:
        if order_id in self.orders or order_id == 0 or qty <= 0:
            self.anomalies += 1
            return
        order = _Order(order_id, side, price, qty)
        self.levels[side].setdefault(price, []).append(order)
        self.orders[order_id] = order

    def reduce(self, order_id: int, side: int, price: int, qty: int) -> None:
        """Cancel or execute ``qty`` of an order."""
        self._leave(order_id, side, price, qty, whole=False)

    def delete(self, order_id: int, side: int, price: int, qty: int) -> None:
        self._leave(order_id, side, price, qty, whole=True)

    def _leave(self, order_id: int, side: int, price: int, qty: int, *, whole: bool) -> None:
        order = self.orders.get(order_id)
        if order is None:
            self.unknown_refs += 1
            self._take_from_level(side, price, qty)
            return
        # the level loses exactly the event's quantity: when the book holds less or more of
        # the order than that (a correction moved liquidity between orders it could not
        # tell apart), the level is set to what it must hold
        if whole or qty >= order.qty:
            current = self.level_qty(order.side, order.price)
            self._remove_order(order)
            if qty > 0 and qty != order.qty:
                self.set_level(order.side, order.price, max(current - qty, 0))
        else:
            order.qty -= qty

    def modify(self, order_id: int, side: int, price: int, qty: int) -> None:
        order = self.orders.get(order_id)
        if order is None:
            self.add(order_id, side, price, qty)
            return
        if price == order.price and qty <= order.qty:
            if qty <= 0:
                self._remove_order(order)
            else:
                order.qty = qty
            return
        self._remove_order(order)
        self.add(order_id, side, price, qty)

    def clear(self) -> None:
        self.levels = {BID: {}, ASK: {}}
        self.orders.clear()

    def set_level(self, side: int, price: int, qty: int) -> bool:
        """Make a level hold ``qty``; return whether anything changed."""
        current = self.level_qty(side, price)
        if current == qty:
            return False
        if current < qty:
            queue = self.levels[side].setdefault(price, [])
            if queue and queue[0].order_id == 0:
                queue[0].qty += qty - current
            else:
                queue.insert(0, _Order(0, side, price, qty - current))
        else:
            self._take_from_level(side, price, current - qty)
        return True

    def apply(self, event: int, order_id: int, side: int, price: int, qty: int) -> None:
        """Apply one canonical event."""
        if event == EventType.ADD:
            self.add(order_id, side, price, qty)
        elif event in (EventType.CANCEL, EventType.EXECUTE):
            self.reduce(order_id, side, price, qty)
        elif event == EventType.DELETE:
            self.delete(order_id, side, price, qty)
        elif event == EventType.MODIFY:
            self.modify(order_id, side, price, qty)
        elif event == EventType.CLEAR:
            self.clear()

    def check_invariants(self) -> None:
        """Raise AssertionError if the book is inconsistent."""
        bid, ask = self.best(BID), self.best(ASK)
        assert bid is None or ask is None or bid < ask, f"crossed book: bid {bid} >= ask {ask}"
        seen = 0
        for side in (BID, ASK):
            for price, queue in self.levels[side].items():
                assert queue, f"empty level kept at {price}"
                ghosts = [i for i, o in enumerate(queue) if o.order_id == 0]
                assert ghosts in ([], [0]), f"ghost liquidity not alone at the front of {price}"
                for o in queue:
                    assert o.qty > 0 and o.price == price and o.side == side
                    if o.order_id:
                        assert self.orders[o.order_id] is o
                        seen += 1
        assert seen == len(self.orders), "order index and levels disagree"
