"""Hypothesis state machine: random operations on both books, invariants after each one.

After every operation: bids descend, asks ascend, the book is not crossed, every level's
total equals the sum of its orders, nothing is lost or created (resting quantity equals
what was added minus what left), and the compiled book equals the reference, queue by queue.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tradelearn.data.schema import EventType as E
from tradelearn.testing.books import FastDriver, ReferenceDriver

TICK = 100
MID = 1_000_000
BID, ASK = 1, -1


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ref = ReferenceDriver()
        self.fast = FastDriver(tick=TICK, base=MID - 4 * TICK, n_levels=8, capacity=2)
        self.live: dict[int, tuple[int, int, int]] = {}
        self.next_id = 1
        self.resting = 0  # what the model says rests in the book

    def _both(self, event: int, oid: int, side: int, price: int, qty: int) -> None:
        self.ref.apply(event, oid, side, price, qty)
        self.fast.apply(event, oid, side, price, qty)

    @rule(side=st.sampled_from([BID, ASK]), depth=st.integers(0, 30), qty=st.integers(1, 500))
    def add(self, side: int, depth: int, qty: int) -> None:
        asks = [p for s, p, _ in self.live.values() if s == ASK]
        bids = [p for s, p, _ in self.live.values() if s == BID]
        if side == BID:
            price = (min(asks) if asks else MID + TICK) - TICK * (1 + depth)
        else:
            price = (max(bids) if bids else MID - TICK) + TICK * (1 + depth)
        oid = self.next_id
        self.next_id += 1
        self._both(E.ADD, oid, side, price, qty)
        self.live[oid] = (side, price, qty)
        self.resting += qty

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data(), kind=st.sampled_from([E.CANCEL, E.EXECUTE, E.DELETE]))
    def reduce(self, data: st.DataObject, kind: int) -> None:
        oid = data.draw(st.sampled_from(sorted(self.live)))
        side, price, qty = self.live[oid]
        take = qty if kind == E.DELETE else data.draw(st.integers(1, qty))
        self._both(kind, oid, side, price, take)
        self.resting -= take
        if take == qty:
            del self.live[oid]
        else:
            self.live[oid] = (side, price, qty - take)

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data(), away=st.integers(0, 3), new_qty=st.integers(1, 600))
    def modify(self, data: st.DataObject, away: int, new_qty: int) -> None:
        oid = data.draw(st.sampled_from(sorted(self.live)))
        side, price, qty = self.live[oid]
        new_price = price - away * TICK if side == BID else price + away * TICK
        self._both(E.MODIFY, oid, side, new_price, new_qty)
        self.resting += new_qty - qty
        self.live[oid] = (side, new_price, new_qty)

    @rule(side=st.sampled_from([BID, ASK]), qty=st.integers(1, 50))
    def unknown_reference(self, side: int, qty: int) -> None:
        prices = self.ref.prices(side)
        if not prices:
            return
        before = self.ref.level_qty(side, prices[0])
        self._both(E.EXECUTE, 99_000_000 + self.next_id, side, prices[0], qty)
        self.next_id += 1
        taken = before - self.ref.level_qty(side, prices[0])
        assert taken == min(qty, before)
        self.resting -= taken
        self._resync()

    def _resync(self) -> None:
        # an unknown reference may take from the newest orders: rebuild the model from the book
        self.live = {}
        for side in (BID, ASK):
            for price in self.ref.prices(side):
                for oid, q in self.ref.queue(side, price):
                    if oid:
                        self.live[oid] = (side, price, q)

    @invariant()
    def sides_ordered_and_not_crossed(self) -> None:
        bids, asks = self.ref.prices(BID), self.ref.prices(ASK)
        assert bids == sorted(bids, reverse=True)
        assert asks == sorted(asks)
        if bids and asks:
            assert bids[0] < asks[0]

    @invariant()
    def levels_are_sums_of_orders_and_nothing_is_lost(self) -> None:
        total = 0
        for side in (BID, ASK):
            for price in self.ref.prices(side):
                queue = self.ref.queue(side, price)
                assert queue and all(q > 0 for _, q in queue)
                assert self.ref.level_qty(side, price) == sum(q for _, q in queue)
                total += self.ref.level_qty(side, price)
        assert total == self.resting
        self.ref.book.check_invariants()

    @invariant()
    def compiled_book_equals_reference(self) -> None:
        for side in (BID, ASK):
            prices = self.ref.prices(side)
            assert self.fast.prices(side) == prices
            for price in prices:
                assert self.fast.queue(side, price) == self.ref.queue(side, price)
        assert self.fast.snapshot(5) == self.ref.snapshot(5)


BookMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBookMachine = BookMachine.TestCase
