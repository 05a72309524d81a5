"""FI-2010 smoothed labels: known answers, no use of the past beyond the definition, balance."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.alpha.labels import (
    DOWN,
    MISSING,
    STATIONARY,
    UP,
    class_shares,
    classify,
    fit_threshold,
    smoothed_return,
)
from tradelearn.errors import ConfigError, DataError


def test_future_mean_return_known_answer() -> None:
    mid = np.array([100.0, 101.0, 102.0, 103.0])
    r = smoothed_return(mid, 2)
    assert r[0] == pytest.approx((101.5 - 100) / 100)
    assert r[1] == pytest.approx((102.5 - 101) / 101)
    assert np.isnan(r[2:]).all()  # the last k rows have no full future


def test_past_future_return_known_answer() -> None:
    mid = np.array([100.0, 101.0, 102.0, 103.0, 104.0])
    r = smoothed_return(mid, 2, "past_future")
    assert np.isnan(r[0])  # no full past window
    assert r[1] == pytest.approx((102.5 - 100.5) / 100.5)
    assert r[2] == pytest.approx((103.5 - 101.5) / 101.5)
    assert np.isnan(r[3:]).all()


def test_classify_thresholds_and_missing() -> None:
    r = np.array([-0.02, -0.01, 0.0, 0.01, 0.02, np.nan])
    np.testing.assert_array_equal(
        classify(r, 0.01), [DOWN, STATIONARY, STATIONARY, STATIONARY, UP, MISSING]
    )


def test_label_at_t_depends_only_on_rows_t_to_t_plus_k() -> None:
    rng = np.random.default_rng(0)
    mid = 100 + np.cumsum(rng.normal(size=300))
    k, j = 10, 150
    base = smoothed_return(mid, k)
    bumped = mid.copy()
    bumped[j] += 5.0
    changed = np.flatnonzero(~np.isclose(smoothed_return(bumped, k), base, equal_nan=True))
    assert changed.min() == j - k and changed.max() == j


def test_threshold_balances_classes_on_training_segment() -> None:
    rng = np.random.default_rng(1)
    mid = 1000 * np.exp(np.cumsum(rng.normal(scale=1e-4, size=5000)))
    for k in (10, 50):
        th = fit_threshold(mid[:3000], k)
        assert th.alpha > 0
        assert (
            max(abs(s - 1 / 3) for s in th.train_shares) < 0.05
        )  # one symmetric cut: drift remains
        # applied unchanged to the later segment: same alpha, roughly balanced there too
        test_shares = class_shares(th.labels(mid[3000:]))
        assert max(abs(s - 1 / 3) for s in test_shares) < 0.12


def test_threshold_on_discrete_mids_picks_the_most_balanced_cut() -> None:
    # mids on a tick grid: many zero returns; alpha 0 puts them all in "stationary"
    rng = np.random.default_rng(2)
    mid = 10000 + 50 * np.cumsum(rng.choice([-1, 0, 0, 0, 1], size=4000))
    th = fit_threshold(mid.astype(float), 10)
    y = classify(smoothed_return(mid.astype(float), 10), th.alpha)
    best = max(abs(s - 1 / 3) for s in class_shares(y))
    for alt in (0.0, th.alpha * 2 + 1e-6):
        alt_dev = max(
            abs(s - 1 / 3)
            for s in class_shares(classify(smoothed_return(mid.astype(float), 10), alt))
        )
        assert best <= alt_dev


def test_bad_parameters_raise() -> None:
    with pytest.raises(ConfigError, match="horizon k"):
        smoothed_return(np.ones(5), 0)
    with pytest.raises(ConfigError, match="method"):
        smoothed_return(np.ones(5), 1, "bogus")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="alpha"):
        classify(np.ones(3), -1.0)
    with pytest.raises(DataError, match="too few"):
        fit_threshold(np.ones(3), 5)
