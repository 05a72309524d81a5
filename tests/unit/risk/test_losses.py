"""QLIKE, MSE and the Diebold-Mariano test: known answers and power on simulated forecasts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradelearn.errors import DataError
from tradelearn.risk.losses import (
    compare_forecasts,
    diebold_mariano,
    loss_table,
    mse,
    newey_west_variance,
    qlike,
)


def test_qlike_is_zero_at_a_perfect_forecast_and_matches_the_formula() -> None:
    y = np.array([1.0, 2.0, 0.5])
    assert np.allclose(qlike(y, y), 0.0)
    assert qlike(np.array([2.0]), np.array([1.0]))[0] == pytest.approx(2 - math.log(2) - 1)
    assert qlike(np.array([1.0]), np.array([2.0]))[0] == pytest.approx(0.5 + math.log(2) - 1)


def test_qlike_punishes_under_prediction_more_than_over_prediction() -> None:
    y = np.array([1.0])
    assert qlike(y, np.array([0.5]))[0] > qlike(y, np.array([2.0]))[0]


def test_mse_matches_the_formula() -> None:
    assert mse(np.array([3.0, 1.0]), np.array([1.0, 1.0])).tolist() == [4.0, 0.0]


def test_qlike_when_forecast_not_positive_then_data_error() -> None:
    with pytest.raises(DataError, match="not positive"):
        qlike(np.array([1.0]), np.array([0.0]))


def test_newey_west_with_zero_lags_is_the_variance_and_one_lag_matches_hand_sum() -> None:
    d = np.array([1.0, 2.0, 3.0, 4.0])
    assert newey_west_variance(d, 0) == pytest.approx(np.var(d))
    x = d - d.mean()  # -1.5 -0.5 0.5 1.5
    gamma1 = (x[1:] @ x[:-1]) / 4  # (0.75 - 0.25 + 0.75) / 4
    assert newey_west_variance(d, 1) == pytest.approx(np.var(d) + 2 * 0.5 * gamma1)


def test_dm_without_lags_and_correction_is_the_plain_t_statistic() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 1.0, 500), rng.normal(1.2, 1.0, 500)
    d = a - b
    res = diebold_mariano(a, b, h=1, lags=0, small_sample=False)
    assert res.stat == pytest.approx(d.mean() / math.sqrt(np.var(d) / d.size))
    assert res.mean_diff == pytest.approx(d.mean())
    assert res.p_value == pytest.approx(2 * min(res.p_less, 1 - res.p_less))


def test_dm_when_a_forecast_is_the_true_variance_then_it_wins_significantly() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    sigma2 = np.exp(rng.normal(0.0, 0.5, n))
    proxy = sigma2 * rng.chisquare(1, n)
    noisy = sigma2 * np.exp(rng.normal(0.0, 0.6, n))
    res = diebold_mariano(qlike(proxy, sigma2), qlike(proxy, noisy), h=1)
    assert res.mean_diff < 0
    assert res.p_less < 0.001


def test_dm_default_bandwidth_covers_the_overlap_of_h_step_sums() -> None:
    a = np.random.default_rng(0).normal(size=400)
    assert diebold_mariano(a, a[::-1].copy(), h=22).lags == 21
    assert diebold_mariano(a, a[::-1].copy(), h=1).lags == int(4 * (400 / 100) ** (2 / 9))


def test_loss_table_scores_every_model_on_the_same_rows() -> None:
    y = np.array([[1.0], [2.0], [np.nan]])
    fc = {"a": np.array([[1.0], [np.nan], [1.0]]), "b": np.array([[2.0], [2.0], [2.0]])}
    table = loss_table(y, fc)
    assert table["a"] == [0.0]  # only row 0 is common
    assert table["b"] == [pytest.approx(0.5 + math.log(2) - 1)]


def test_compare_forecasts_picks_the_lowest_qlike_of_each_group() -> None:
    rng = np.random.default_rng(3)
    s2 = np.exp(rng.normal(size=(800, 1)))
    y = s2 * rng.chisquare(1, size=(800, 1))
    fc = {"std1": s2 * 1.5, "std2": s2 * 3.0, "cand": s2.copy()}
    out = compare_forecasts(y, fc, (1,), ("std1", "std2"), ("cand",))
    (row,) = out["comparison"]  # type: ignore[misc]
    assert row["best_standard"] == "std1"
    assert row["best_candidate"] == "cand"
    assert row["ratio"] < 1.0
