"""The stylized-fact statistics and the impact-exponent fit, on series with known answers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID, midnight_ns
from tradelearn.data.schema import empty_events
from tradelearn.sim.metaorder import fit_power_law
from tradelearn.sim.stylized import (
    excess_kurtosis,
    facts_from_returns,
    level1_mid,
    ljung_box,
    minute_mids,
    session_open_ns,
)

DAY = dt.date(2024, 1, 2)
OPEN = midnight_ns(DAY) + 34_200 * 10**9


def test_ljung_box_matches_the_textbook_formula() -> None:
    x = np.random.default_rng(0).standard_normal(200)
    y = x - x.mean()
    n, h = 200, 10
    rho = [float(y[k:] @ y[:-k] / (y @ y)) for k in range(1, h + 1)]
    q = n * (n + 2) * sum(r * r / (n - k) for k, r in enumerate(rho, start=1))
    got_q, got_p = ljung_box(x, h)
    assert got_q == pytest.approx(q, rel=1e-12)
    assert got_p == pytest.approx(stats.chi2.sf(q, h), rel=1e-12)


def test_ljung_box_rejects_an_autoregressive_series_and_not_white_noise() -> None:
    rng = np.random.default_rng(1)
    e = rng.standard_normal(390)
    ar = np.empty(390)
    ar[0] = e[0]
    for t in range(1, 390):
        ar[t] = 0.5 * ar[t - 1] + e[t]
    assert ljung_box(ar)[1] < 1e-6
    assert ljung_box(rng.standard_normal(390))[1] > 0.05


def test_ljung_box_when_too_few_observations_then_value_error() -> None:
    with pytest.raises(ValueError, match="more than 11 observations"):
        ljung_box(np.ones(11))


def test_ljung_box_of_a_constant_series_rejects_nothing() -> None:
    assert ljung_box(np.full(50, 3.0)) == (0.0, 1.0)


def test_excess_kurtosis_is_zero_for_normal_and_three_for_laplace() -> None:
    rng = np.random.default_rng(2)
    assert excess_kurtosis(rng.standard_normal(200_000)) == pytest.approx(0.0, abs=0.05)
    assert excess_kurtosis(rng.laplace(size=200_000)) == pytest.approx(3.0, abs=0.15)


def test_facts_of_volatility_regimes_are_heavy_tailed_clustered_and_uncorrelated() -> None:
    rng = np.random.default_rng(3)
    vol = np.repeat([1.0, 4.0, 1.0, 0.5, 2.0, 1.0], 65)
    facts = facts_from_returns(vol * rng.standard_normal(390))
    assert facts.heavy_tails and facts.volatility_clustering and facts.no_autocorrelation
    assert facts.all_pass and facts.to_dict()["all_pass"] is True
    calm = facts_from_returns(rng.standard_normal(390))
    assert not calm.heavy_tails and not calm.volatility_clustering


def _book(rows: list[tuple[int, int]]) -> np.ndarray:
    book = np.zeros((len(rows), 4), dtype=np.int64)
    for k, (ask, bid) in enumerate(rows):
        book[k] = (ask, 100 if ask != DUMMY_ASK else 0, bid, 100 if bid != DUMMY_BID else 0)
    return book


def test_level1_mid_carries_the_last_two_sided_mid_over_empty_sides() -> None:
    book = _book([(DUMMY_ASK, 900), (1100, 900), (DUMMY_ASK, 950), (1200, DUMMY_BID), (1300, 1100)])
    assert level1_mid(book).tolist() == [1000.0, 1000.0, 1000.0, 1000.0, 1200.0]


def test_level1_mid_when_never_two_sided_then_value_error() -> None:
    with pytest.raises(ValueError, match="never two-sided"):
        level1_mid(_book([(DUMMY_ASK, 900), (DUMMY_ASK, 950)]))


def test_minute_mids_take_the_last_row_at_or_before_each_boundary() -> None:
    ev = empty_events(4)
    ev["ts_exchange"] = [OPEN, OPEN + 30 * 10**9, OPEN + 60 * 10**9, OPEN + 61 * 10**9]
    book = _book([(1100, 900), (1200, 1000), (1300, 1100), (1500, 1300)])
    mids = minute_mids(ev, book, seconds=180)
    # 09:30 -> row 0, 09:31 -> row 2 (exactly on the boundary), 09:32 and 09:33 -> row 3
    assert mids.tolist() == [1000.0, 1200.0, 1400.0, 1400.0]
    assert session_open_ns(ev) == OPEN


def test_minute_mids_when_book_and_events_differ_in_length_then_value_error() -> None:
    ev = empty_events(2)
    ev["ts_exchange"] = OPEN
    with pytest.raises(ValueError, match="book has 1 rows for 2 events"):
        minute_mids(ev, _book([(1100, 900)]))


def test_fit_power_law_recovers_a_square_root_with_a_bracketing_interval() -> None:
    rng = np.random.default_rng(4)
    sizes = (100, 200, 400, 800, 1600, 3200)
    impacts = np.array([2.0 * np.sqrt(q) + rng.normal(0, 5, 400) for q in sizes])
    delta, lo, hi, y = fit_power_law(sizes, impacts, n_boot=300, seed=1)
    assert delta == pytest.approx(0.5, abs=0.02)
    assert lo < delta < hi and hi - lo < 0.1
    assert y == pytest.approx(2.0, rel=0.15)


def test_fit_power_law_when_a_mean_impact_is_not_positive_then_value_error() -> None:
    impacts = np.array([[-1.0, -2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="mean impact must be positive"):
        fit_power_law((100, 200), impacts)
