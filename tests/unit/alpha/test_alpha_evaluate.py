"""Known answers for the classification metrics, the daily ICs and the decile portfolio."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.alpha.evaluate import (
    confusion_matrix,
    daily_ic,
    ic_summary,
    long_short,
    macro_f1,
    score_from_proba,
)
from tradelearn.errors import ConfigError, DataError


def test_confusion_matrix_and_macro_f1_known_answer() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 0, 2])
    np.testing.assert_array_equal(confusion_matrix(y, p), [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    # per class F1: 2*1/(2+2)=0.5, 2*2/(2+3)=0.8, 2*1/(2+1)=2/3
    assert macro_f1(y, p) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert macro_f1(y, y) == 1.0
    # a class that never appears is left out; declaring 4 classes changes the matrix only
    assert confusion_matrix(y, p, n_classes=4).shape == (4, 4)
    assert macro_f1(y, p, n_classes=4) == pytest.approx(macro_f1(y, p))


def test_classification_inputs_are_validated() -> None:
    with pytest.raises(DataError, match="field 'y_pred'"):
        macro_f1(np.array([0, 1]), np.array([0]))
    with pytest.raises(DataError, match="class labels must be integers >= 0"):
        confusion_matrix(np.array([0, -1]), np.array([0, 1]))
    with pytest.raises(DataError, match="out of range"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), n_classes=3)


def _days(n_days: int, n_names: int) -> np.ndarray:
    return np.repeat(np.datetime64("2020-01-01") + np.arange(n_days), n_names)


def test_daily_ic_perfect_inverse_and_monotone_cases() -> None:
    rng = np.random.default_rng(0)
    dates = _days(5, 30)
    t = rng.standard_normal(150)
    _, ic = daily_ic(t, t, dates)
    np.testing.assert_allclose(ic, 1.0)
    _, ic = daily_ic(-t, t, dates)
    np.testing.assert_allclose(ic, -1.0)
    cubic = t**3
    _, pearson = daily_ic(cubic, t, dates)
    _, spearman = daily_ic(cubic, t, dates, method="spearman")
    np.testing.assert_allclose(spearman, 1.0)
    assert np.all(pearson < 0.99)


def test_ic_is_per_day_not_pooled() -> None:
    # within each day the score ranks the target perfectly, but day levels differ:
    # a pooled correlation would mix days; the daily IC stays exactly 1
    dates = _days(2, 10)
    target = np.concatenate([np.arange(10.0), np.arange(10.0) + 100])
    score = np.concatenate([np.arange(10.0) + 50, np.arange(10.0)])
    s = ic_summary(score, target, dates)
    assert s["ic"] == pytest.approx(1.0) and s["n_days"] == 2


def test_icir_is_mean_over_std_of_daily_ic_and_nan_pairs_are_skipped() -> None:
    rng = np.random.default_rng(1)
    dates = _days(40, 50)
    target = rng.standard_normal(2000)
    score = 0.2 * target + rng.standard_normal(2000)
    score[:10] = np.nan
    _, ic = daily_ic(score, target, dates)
    s = ic_summary(score, target, dates)
    assert s["icir"] == pytest.approx(ic.mean() / ic.std(ddof=1))
    assert s["ic"] == pytest.approx(ic.mean()) and s["n_days"] == 40
    with pytest.raises(DataError, match="no day has enough"):
        ic_summary(np.full(10, np.nan), target[:10], dates[:10])


def test_long_short_known_answer_with_costs() -> None:
    # 10 names, 2 days; the decile legs are one name each
    dates = _days(2, 10)
    symbols = np.tile([f"S{i}" for i in range(10)], 2)
    score = np.concatenate([np.arange(10.0), np.arange(10.0)[::-1]])
    ret = np.concatenate([np.arange(10.0) / 100, np.arange(10.0) / 100])
    ls = long_short(score, ret, dates, symbols, quantile=0.1, cost_bp=10.0)
    # day 1: long S9 (+0.09), short S0 (0.00): gross 0.09, turnover 2 (opening)
    # day 2: long S0 (0.00), short S9 (+0.09): gross -0.09, turnover 4 (both legs flip)
    np.testing.assert_allclose(ls.gross, [0.09, -0.09])
    np.testing.assert_allclose(ls.turnover, [2.0, 4.0])
    np.testing.assert_allclose(ls.net, [0.09 - 0.002, -0.09 - 0.004])
    held = long_short(score, ret, dates, symbols, quantile=0.1, cost_bp=10.0, hold=2)
    np.testing.assert_allclose(held.gross, [0.09, 0.09])  # day-1 book kept on day 2
    np.testing.assert_allclose(held.turnover, [2.0, 0.0])
    s = ls.summary()
    assert s["ls_net_daily"] == pytest.approx(np.mean(ls.net))
    assert s["cost_bp_per_side"] == 10.0


def test_long_short_and_ic_inputs_are_validated() -> None:
    dates = _days(2, 10)
    x = np.zeros(20)
    sym = np.arange(20).astype(str)
    with pytest.raises(ConfigError, match="quantile must be in"):
        long_short(x, x, dates, sym, quantile=0.7)
    with pytest.raises(ConfigError, match="hold must be >= 1"):
        long_short(x, x, dates, sym, hold=0)
    with pytest.raises(DataError, match="field 'symbols'"):
        long_short(x, x, dates, sym[:5])
    with pytest.raises(DataError, match="dates must be datetime64"):
        daily_ic(x, x, np.arange(20))
    with pytest.raises(DataError, match="field 'target'"):
        daily_ic(x, x[:5], dates)
    with pytest.raises(ConfigError, match="method must be"):
        daily_ic(x, x, dates, method="kendall")  # type: ignore[arg-type]


def test_score_from_proba_is_top_minus_bottom() -> None:
    p = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    np.testing.assert_allclose(score_from_proba(p), [0.3, -0.5])
    with pytest.raises(DataError):
        score_from_proba(np.ones(3))
