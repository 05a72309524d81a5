"""Things only the compiled book has: growth, queue position, construction checks."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.book.fast import FastBook
from tradelearn.data.schema import EventType, empty_events


def _adds(n: int, price: int) -> np.ndarray:
    ev = empty_events(n)
    ev["event"] = EventType.ADD
    ev["order_id"] = np.arange(1, n + 1)
    ev["side"] = 1
    ev["price"] = price
    ev["qty"] = 10
    return ev


def test_queue_ahead_counts_quantity_in_front() -> None:
    fb = FastBook(100, base=999_000, n_levels=32)
    fb.apply(_adds(5, 999_900))
    assert fb.queue_ahead(1) == 0
    assert fb.queue_ahead(4) == 30
    assert fb.queue_ahead(99) is None
    assert fb.order(3) == (1, 999_900, 10)


def test_many_orders_grow_slots_and_hash_without_losing_any() -> None:
    fb = FastBook(100, base=999_000, n_levels=32, capacity=2)
    fb.apply(_adds(5000, 999_900))
    assert fb.n_orders == 5000
    assert fb.level_qty(1, 999_900) == 50_000
    assert [oid for oid, _ in fb.queue(1, 999_900)] == list(range(1, 5001))


def test_construction_when_tick_not_positive_then_error() -> None:
    with pytest.raises(ValueError, match="tick must be positive, actually: 0"):
        FastBook(0)


def test_construction_when_base_off_tick_then_error() -> None:
    with pytest.raises(ValueError, match="base must be a multiple of tick 100"):
        FastBook(100, base=150)


def test_apply_when_not_event_dtype_then_type_error() -> None:
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        FastBook(100).apply(np.zeros(3))
