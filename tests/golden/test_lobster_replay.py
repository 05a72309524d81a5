"""Golden replays of the shared LOBSTER files: the book reproduces LOBSTER's own orderbook
file row by row at every level, with zero unexplained differences.

The pinned counts (matched rows, corrections) are what this book measured on these files;
a change to the book that moves them must be explained in its commit.
"""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.book.replay import verify, verify_reference
from tradelearn.data.lobster import load_lobster
from tradelearn.testing.realdata import lobster_pair, real_path

# symbol, levels: (rows_matched, corrections)
PINNED = {
    ("GOOG", 10): (141_636, 6_279),
    ("GOOG", 5): (103_953, 8_719),
    ("GOOG", 1): (43_312, 6_169),
    ("AAPL", 1): (101_245, 17_251),
}


@pytest.mark.parametrize(("symbol", "levels"), sorted(PINNED))
def test_replay_has_zero_unexplained_differences(symbol: str, levels: int) -> None:
    day = load_lobster(*lobster_pair(symbol, levels))
    assert day.book is not None
    rep = verify(day.events, day.book, levels, day.instrument.tick_size)
    assert rep.rows_compared == day.n - 1  # every row but the one the book starts from
    assert rep.unexplained == 0, f"unexplained rows: {rep.unexplained_rows}"
    assert rep.rows_matched_in_window == rep.rows_compared
    assert (rep.rows_matched, rep.corrections) == PINNED[(symbol, levels)]
    assert rep.anomalies == 0


def test_partial_aapl_level10_replays_with_zero_unexplained() -> None:
    m = real_path("lobster/partial/AAPL_2012-06-21_34200000_57600000_message_10_HEAD999.csv")
    o = real_path("lobster/partial/AAPL_2012-06-21_34200000_57600000_orderbook_10_HEAD999.csv")
    day = load_lobster(m, o)
    assert day.book is not None and day.n == 999
    rep = verify(day.events, day.book, 10, 100)
    assert rep.unexplained == 0 and rep.rows_compared == 998


def test_reference_book_agrees_on_the_first_hour_of_goog_level10() -> None:
    day = load_lobster(*lobster_pair("GOOG", 10))
    assert day.book is not None
    stop = int(
        np.searchsorted(day.events["ts_exchange"], day.events["ts_exchange"][0] + 3600 * 10**9)
    )
    fast = verify(day.events[:stop], day.book[:stop], 10, 100)
    ref, _ = verify_reference(day.events, day.book, 10, stop=stop)
    for field in (
        "rows_compared",
        "rows_matched",
        "rows_matched_in_window",
        "corrections",
        "corrected_levels",
    ):
        assert getattr(fast, field) == getattr(ref, field), field


def test_check_can_fail_a_tampered_orderbook_row_is_unexplained() -> None:
    day = load_lobster(*lobster_pair("GOOG", 5))
    assert day.book is not None
    tampered = day.book.copy()
    k = 50_000
    tampered[k, 1] += 7  # best ask size after message k+1 is off by 7 shares
    rep = verify(day.events, tampered, 5, 100)
    assert rep.unexplained >= 1
    assert k + 1 in rep.unexplained_rows
