"""The book's rules, checked on both the reference and the compiled implementation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.data.schema import EventType as E
from tradelearn.testing.books import BookDriver, FastDriver, ReferenceDriver

BID, ASK = 1, -1
MAKERS: dict[str, Callable[[], BookDriver]] = {"reference": ReferenceDriver, "fast": FastDriver}


@pytest.fixture(params=sorted(MAKERS))
def book(request: pytest.FixtureRequest) -> BookDriver:
    return MAKERS[request.param]()


def test_add_appends_to_the_back_of_the_queue(book: BookDriver) -> None:
    book.apply(E.ADD, 1, BID, 999_900, 100)
    book.apply(E.ADD, 2, BID, 999_900, 50)
    assert book.queue(BID, 999_900) == [(1, 100), (2, 50)]
    assert book.level_qty(BID, 999_900) == 150


def test_snapshot_uses_lobster_layout_and_dummy_prices(book: BookDriver) -> None:
    book.apply(E.ADD, 1, BID, 999_900, 100)
    book.apply(E.ADD, 2, ASK, 1_000_100, 30)
    book.apply(E.ADD, 3, ASK, 1_000_300, 20)
    assert book.snapshot(2) == [1_000_100, 30, 999_900, 100, 1_000_300, 20, DUMMY_BID, 0]


def test_cancel_when_partial_then_order_keeps_its_place(book: BookDriver) -> None:
    book.apply(E.ADD, 1, ASK, 1_000_100, 100)
    book.apply(E.ADD, 2, ASK, 1_000_100, 100)
    book.apply(E.CANCEL, 1, ASK, 1_000_100, 40)
    assert book.queue(ASK, 1_000_100) == [(1, 60), (2, 100)]


def test_execute_when_whole_order_then_it_leaves_and_best_moves(book: BookDriver) -> None:
    book.apply(E.ADD, 1, ASK, 1_000_100, 100)
    book.apply(E.ADD, 2, ASK, 1_000_500, 10)
    book.apply(E.EXECUTE, 1, ASK, 1_000_100, 100)
    assert book.prices(ASK) == [1_000_500]
    assert book.snapshot(1)[:2] == [1_000_500, 10]


def test_delete_removes_the_order_from_the_middle_of_the_queue(book: BookDriver) -> None:
    for oid in (1, 2, 3):
        book.apply(E.ADD, oid, BID, 999_900, 10 * oid)
    book.apply(E.DELETE, 2, BID, 999_900, 20)
    assert book.queue(BID, 999_900) == [(1, 10), (3, 30)]


def test_modify_when_size_shrinks_then_priority_is_kept(book: BookDriver) -> None:
    book.apply(E.ADD, 1, BID, 999_900, 100)
    book.apply(E.ADD, 2, BID, 999_900, 100)
    book.apply(E.MODIFY, 1, BID, 999_900, 40)
    assert book.queue(BID, 999_900) == [(1, 40), (2, 100)]


@pytest.mark.parametrize(("price", "qty"), [(999_900, 150), (999_800, 100)])
def test_modify_when_size_grows_or_price_moves_then_order_goes_to_the_back(
    book: BookDriver, price: int, qty: int
) -> None:
    book.apply(E.ADD, 1, BID, 999_900, 100)
    book.apply(E.ADD, 2, BID, 999_900, 100)
    book.apply(E.ADD, 3, BID, 999_800, 100)
    book.apply(E.MODIFY, 1, BID, price, qty)
    assert book.queue(BID, price)[-1] == (1, qty)


def test_add_when_id_already_rests_then_ignored(book: BookDriver) -> None:
    book.apply(E.ADD, 1, BID, 999_900, 100)
    book.apply(E.ADD, 1, BID, 999_800, 5)
    assert book.prices(BID) == [999_900]


def test_unknown_id_takes_from_ghost_first_then_newest(book: BookDriver) -> None:
    book.set_level(BID, 999_900, 50)  # ghost liquidity: rested from before we saw the book
    book.apply(E.ADD, 7, BID, 999_900, 100)
    book.apply(E.ADD, 8, BID, 999_900, 100)
    assert book.queue(BID, 999_900) == [(0, 50), (7, 100), (8, 100)]
    book.apply(E.EXECUTE, 12345, BID, 999_900, 30)
    assert book.queue(BID, 999_900) == [(0, 20), (7, 100), (8, 100)]
    book.apply(E.DELETE, 12346, BID, 999_900, 70)
    assert book.queue(BID, 999_900) == [(7, 100), (8, 50)]


def test_set_level_grows_with_ghost_at_front_and_shrinks_from_ghost_then_back(
    book: BookDriver,
) -> None:
    book.apply(E.ADD, 1, ASK, 1_000_100, 100)
    assert book.set_level(ASK, 1_000_100, 130)
    assert book.queue(ASK, 1_000_100) == [(0, 30), (1, 100)]
    assert not book.set_level(ASK, 1_000_100, 130)
    assert book.set_level(ASK, 1_000_100, 60)
    assert book.queue(ASK, 1_000_100) == [(1, 60)]
    assert book.set_level(ASK, 1_000_100, 0)
    assert book.prices(ASK) == []


def test_delete_when_book_holds_more_of_order_then_excess_stays_as_ghost(book: BookDriver) -> None:
    book.apply(E.ADD, 1, ASK, 1_000_100, 110)
    book.apply(E.DELETE, 1, ASK, 1_000_100, 100)
    assert book.queue(ASK, 1_000_100) == [(0, 10)]


def test_delete_when_book_holds_less_of_order_then_shortfall_comes_from_level(
    book: BookDriver,
) -> None:
    book.apply(E.ADD, 1, BID, 999_900, 100)
    book.apply(E.ADD, 2, BID, 999_900, 100)
    book.apply(E.ADD, 3, BID, 999_900, 100)
    book.set_level(BID, 999_900, 290)  # a correction took 10 from the back (order 3)
    book.apply(E.DELETE, 1, BID, 999_900, 100)
    assert book.level_qty(BID, 999_900) == 190


def test_clear_empties_everything(book: BookDriver) -> None:
    book.apply(E.ADD, 1, BID, 999_900, 100)
    book.apply(E.ADD, 2, ASK, 1_000_100, 100)
    book.apply(E.CLEAR, 0, 0, 0, 0)
    assert book.snapshot(1) == [DUMMY_ASK, 0, DUMMY_BID, 0]


def test_hidden_executions_and_halts_leave_the_book_alone(book: BookDriver) -> None:
    book.apply(E.ADD, 1, BID, 999_900, 100)
    before = book.snapshot(3)
    book.apply(E.EXECUTE_HIDDEN, 0, BID, 999_950, 100)
    book.apply(E.HALT, 0, -1, -1, 0)
    book.apply(E.CROSS, 0, BID, 999_900, 100)
    assert book.snapshot(3) == before


def test_prices_far_outside_the_initial_grid_grow_it(book: BookDriver) -> None:
    book.apply(E.ADD, 1, BID, 10_000, 5)  # far below the fast book's 8-level grid
    book.apply(E.ADD, 2, ASK, 90_000_000, 5)  # far above
    for oid in range(3, 40):  # more orders than the fast book's 4 initial slots
        book.apply(E.ADD, oid, BID, 999_900 - 100 * (oid % 5), oid)
    assert book.prices(ASK) == [90_000_000]
    assert book.prices(BID)[-1] == 10_000
    assert book.snapshot(1) == [90_000_000, 5, 999_900, sum(o for o in range(3, 40) if o % 5 == 0)]
