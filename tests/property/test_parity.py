"""Parity: the compiled book and the plain-Python reference agree event by event."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradelearn.book.fast import FastBook
from tradelearn.book.reference import ReferenceBook
from tradelearn.book.replay import verify, verify_reference
from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.sim.generate import generate_day
from tradelearn.testing.books import random_stream


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400))
def test_random_streams_give_identical_books_after_every_event(seed: int, n: int) -> None:
    events = random_stream(np.random.default_rng(seed), n)
    ref = ReferenceBook()
    fast = FastBook(100, base=999_000, n_levels=4, capacity=2)
    for k in range(n):
        e = events[k]
        ref.apply(
            int(e["event"]), int(e["order_id"]), int(e["side"]), int(e["price"]), int(e["qty"])
        )
        fast.apply(events, k, k + 1)
        assert fast.snapshot(10).tolist() == ref.snapshot(10, DUMMY_ASK, DUMMY_BID), f"event {k}"
    for side in (1, -1):
        assert fast.prices(side) == ref.prices(side)
        for price in ref.prices(side):
            assert fast.queue(side, price) == ref.queue(side, price)
    assert fast.unknown_refs == ref.unknown_refs
    assert fast.anomalies == ref.anomalies


def test_whole_stream_in_one_call_equals_event_by_event() -> None:
    events = random_stream(np.random.default_rng(11), 3000)
    one = FastBook(100, base=999_000, n_levels=4, capacity=2)
    one.apply(events)
    step = FastBook(100)
    for k in range(len(events)):
        step.apply(events, k, k + 1)
    assert one.snapshot(20).tolist() == step.snapshot(20).tolist()


def test_verification_agrees_between_implementations_on_a_generated_day() -> None:
    day = generate_day(seed=5, seconds=900, levels=5)
    assert day.book is not None
    fast = verify(day.events, day.book, 5, day.tick)
    ref, _ = verify_reference(day.events, day.book, 5)
    for field in (
        "rows_compared",
        "rows_matched",
        "rows_matched_in_window",
        "unexplained",
        "corrections",
    ):
        assert getattr(fast, field) == getattr(ref, field), field
    assert fast.unexplained == 0
