"""Microstructure features: known answers on tiny books, OFI properties, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradelearn.alpha.features_lob import (
    FeatureSpec,
    clock_sum,
    depth_imbalance,
    lob_features,
    microprice,
    mid_price,
    order_flow_imbalance,
    raw_levels,
    rolling_sum,
    sequence_windows,
    signed_trade_volume,
    split_book,
)
from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.data.schema import empty_events
from tradelearn.errors import ConfigError, DataError
from tradelearn.sim.generate import generate_day


def book1(rows: list[tuple[int, int, int, int]]) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


def test_ofi_on_three_rows_matches_the_hand_computed_values() -> None:
    # row 1: same prices, ask size 5 -> 2, bid size 3 -> 7:  e = 7 - 3 - 2 + 5 = 7
    # row 2: bid up to 10050 x 4 (+4), ask up to 10200 (the old ask 2 leaves: +2):  e = 6
    b = book1([(10100, 5, 10000, 3), (10100, 2, 10000, 7), (10200, 6, 10050, 4)])
    e = order_flow_imbalance(split_book(b))
    np.testing.assert_array_equal(e[:, 0], [0.0, 7.0, 6.0])


def test_ofi_when_bid_drops_and_ask_falls_then_both_count_as_selling() -> None:
    # bid 10000 x 3 -> 9900 x 8: the 3 leave (-3); ask 10100 x 5 -> 10050 x 4: -4
    b = book1([(10100, 5, 10000, 3), (10050, 4, 9900, 8)])
    assert order_flow_imbalance(split_book(b))[1, 0] == -7.0


def test_microprice_mid_spread_and_imbalance_known_answers() -> None:
    b = book1([(10100, 1, 10000, 3)])
    s = split_book(b)
    assert microprice(s)[0] == pytest.approx((10100 * 3 + 10000 * 1) / 4)
    assert mid_price(s)[0] == 10050.0
    assert depth_imbalance(s)[0, 0] == pytest.approx(0.5)


def test_cumulative_imbalance_sums_levels_first() -> None:
    b = np.array([[10100, 1, 10000, 3, 10200, 5, 9900, 1]], dtype=np.int64)
    s = split_book(b)
    np.testing.assert_allclose(depth_imbalance(s)[0], [0.5, -4 / 6])
    np.testing.assert_allclose(depth_imbalance(s, cumulative=True)[0], [0.5, (4 - 6) / 10])


def test_mid_is_carried_forward_while_a_side_is_empty() -> None:
    b = book1([(10100, 1, 10000, 3), (DUMMY_ASK, 0, 10000, 3), (10300, 2, 10100, 1)])
    np.testing.assert_array_equal(mid_price(split_book(b)), [10050.0, 10050.0, 10200.0])


def test_ofi_when_bid_side_empties_then_the_whole_depth_leaves() -> None:
    b = book1([(10100, 5, 10000, 3), (10100, 5, DUMMY_BID, 0)])
    assert order_flow_imbalance(split_book(b))[1, 0] == -3.0


def test_trade_sign_is_the_aggressor_side() -> None:
    ev = empty_events(3)
    ev["event"] = [4, 4, 1]
    ev["side"] = [-1, 1, 1]  # resting ask hit by a buyer; resting bid hit by a seller; an add
    ev["qty"] = [10, 7, 99]
    np.testing.assert_array_equal(signed_trade_volume(ev), [10.0, -7.0, 0.0])


def test_rolling_and_clock_sums_look_back_only() -> None:
    x = np.arange(1.0, 6.0)
    np.testing.assert_array_equal(rolling_sum(x, 2), [1, 3, 5, 7, 9])
    ts = np.array([0, 1, 1, 3, 10], dtype=np.int64) * 1_000_000_000
    # window (t - 2 s, t]: row 3 (t=3 s) keeps only itself (rows at 1 s are not after 1 s);
    # row 1 shares row 2's time but does not see it
    np.testing.assert_array_equal(clock_sum(x, ts, 2.0), [1, 3, 6, 4, 5])


books = st.lists(
    st.tuples(st.integers(1, 5), st.integers(1, 50), st.integers(1, 5), st.integers(1, 50)),
    min_size=2,
    max_size=30,
)


def _to_book(rows: list[tuple[int, int, int, int]], mid0: int = 100_000) -> np.ndarray:
    # (ask ticks above mid0, ask size, bid ticks below mid0, bid size): never crossed
    return np.array(
        [(mid0 + 100 * a, qa, mid0 - 100 * b, qb) for a, qa, b, qb in rows], dtype=np.int64
    )


@settings(max_examples=60, deadline=None)
@given(books, st.integers(-50, 50), st.integers(1, 4))
def test_ofi_mirrors_shifts_and_scales(
    rows: list[tuple[int, int, int, int]], shift: int, scale: int
) -> None:
    b = _to_book(rows)
    e = order_flow_imbalance(split_book(b))[:, 0]
    # mirror: bids become asks at negated prices -> the flow changes sign
    mirror = b[:, [2, 3, 0, 1]].copy()
    mirror[:, [0, 2]] *= -1
    np.testing.assert_array_equal(order_flow_imbalance(split_book(mirror))[:, 0], -e)
    # a price shift changes nothing; scaling every size scales the flow
    shifted = b.copy()
    shifted[:, [0, 2]] += 100 * shift
    np.testing.assert_array_equal(order_flow_imbalance(split_book(shifted))[:, 0], e)
    scaled = b.copy()
    scaled[:, [1, 3]] *= scale
    np.testing.assert_array_equal(order_flow_imbalance(split_book(scaled))[:, 0], scale * e)


@pytest.fixture(scope="module")
def day() -> tuple[np.ndarray, np.ndarray]:
    d = generate_day(seed=3, seconds=900, levels=3, model="zi", max_events=1500)
    assert d.book is not None
    return d.book, d.events


def test_changing_future_rows_never_changes_past_features(
    day: tuple[np.ndarray, np.ndarray],
) -> None:
    book, events = day
    spec = FeatureSpec(levels=3, event_windows=(5, 20), clock_windows=(1.0, 30.0), norm_window=50)
    X, names = lob_features(book, events, spec)
    R = raw_levels(book, norm_window=50)
    t0 = 700
    rng = np.random.default_rng(0)
    b2, e2 = book.copy(), events.copy()
    b2[t0 + 1 :, 1::2] = rng.integers(1, 500, size=b2[t0 + 1 :, 1::2].shape)
    e2["qty"][t0 + 1 :] = rng.integers(1, 500, size=e2.shape[0] - t0 - 1)
    e2["side"][t0 + 1 :] *= -1
    e2["ts_exchange"][t0 + 1 :] += 5_000_000_000  # a gap keeps time order
    X2, _ = lob_features(b2, e2, spec)
    np.testing.assert_array_equal(X2[: t0 + 1], X[: t0 + 1])
    np.testing.assert_array_equal(raw_levels(b2, norm_window=50)[: t0 + 1], R[: t0 + 1])
    assert not np.array_equal(X2[t0 + 1 :], X[t0 + 1 :])  # the perturbation did something
    assert np.isfinite(X).all()
    assert len(names) == X.shape[1] == len(set(names))


def test_level_one_set_is_a_prefix_of_the_deeper_set(day: tuple[np.ndarray, np.ndarray]) -> None:
    book, events = day
    X1, n1 = lob_features(book, events, FeatureSpec(levels=1))
    X3, n3 = lob_features(book, events, FeatureSpec(levels=3))
    assert n3[: len(n1)] == n1
    np.testing.assert_array_equal(X3[:, : len(n1)], X1)
    assert "imbalance_2" in n3 and "imbalance_2" not in n1


def test_raw_levels_keep_lobster_order_in_bps_of_mid() -> None:
    b = np.array([[10100, 10, 10000, 30]], dtype=np.int64)
    r = raw_levels(b)
    mid = 10050.0
    np.testing.assert_allclose(r[0], [1e4 * 50 / mid, 0.5, -1e4 * 50 / mid, 1.5])


def test_sequence_windows_are_views_in_time_order() -> None:
    X = np.arange(20.0).reshape(10, 2)
    w = sequence_windows(X, 3, 2, 10, 2)
    assert w.shape == (4, 3, 2)
    np.testing.assert_array_equal(w[0], X[0:3])
    np.testing.assert_array_equal(w[-1], X[6:9])
    assert np.shares_memory(w, X)
    with pytest.raises(ConfigError, match="start"):
        sequence_windows(X, 3, 1, 10)


def test_bad_inputs_raise_with_the_field_named() -> None:
    with pytest.raises(DataError, match="book"):
        split_book(np.zeros((3, 5), dtype=np.int64))
    with pytest.raises(ConfigError, match="levels"):
        split_book(np.zeros((3, 4), dtype=np.int64), levels=2)
    with pytest.raises(ConfigError, match="event_windows"):
        FeatureSpec(event_windows=(1,))
    b = book1([(10100, 1, 10000, 3)] * 3)
    with pytest.raises(DataError, match="events"):
        lob_features(b, empty_events(2), FeatureSpec(levels=1))
