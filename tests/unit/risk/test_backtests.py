"""VaR/ES backtests against textbook counts, hand-built hit sequences and simulated models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tradelearn.errors import DataError
from tradelearn.risk.backtests import (
    acerbi_szekely_z2,
    backtest_summary,
    christoffersen_independence,
    conditional_coverage,
    es_exceedance_test,
    kupiec_pof,
    traffic_light,
    traffic_light_windows,
)


def _hits(n: int, where: list[int]) -> np.ndarray:
    h = np.zeros(n, dtype=int)
    h[where] = 1
    return h


def test_kupiec_ten_hits_in_250_days_at_99pct_matches_the_formula() -> None:
    lr0 = 240 * math.log(0.99) + 10 * math.log(0.01)
    lr1 = 240 * math.log(0.96) + 10 * math.log(0.04)
    res = kupiec_pof(_hits(250, list(range(0, 250, 25))), 0.01)
    assert res.stat == pytest.approx(-2 * (lr0 - lr1))
    assert res.stat == pytest.approx(12.9555, abs=1e-3)
    assert res.p_value == pytest.approx(stats.chi2.sf(res.stat, 1))
    assert res.rate == pytest.approx(0.04)


def test_kupiec_accepts_six_and_rejects_seven_hits_in_250_days_as_in_jorion() -> None:
    # Jorion, Value at Risk, table 6-3: at p = 1% and T = 250 the 95% region is N < 7
    assert kupiec_pof(_hits(250, list(range(6))), 0.01).p_value > 0.05
    assert kupiec_pof(_hits(250, list(range(7))), 0.01).p_value < 0.05


def test_kupiec_with_no_hits_is_finite() -> None:
    res = kupiec_pof(np.zeros(500, dtype=int), 0.01)
    assert res.stat == pytest.approx(-2 * 500 * math.log(0.99))


def test_christoffersen_on_a_hand_built_sequence_matches_the_transition_counts() -> None:
    h = np.array([0, 0, 1, 1, 0, 0, 0, 1, 1, 0])
    # n00 = 3, n01 = 2, n10 = 2, n11 = 2
    l0 = 5 * math.log(5 / 9) + 4 * math.log(4 / 9)
    l1 = 3 * math.log(0.6) + 2 * math.log(0.4) + 4 * math.log(0.5)
    res = christoffersen_independence(h)
    assert res.stat == pytest.approx(-2 * (l0 - l1))
    assert res.stat == pytest.approx(0.0900, abs=1e-4)


def test_christoffersen_rejects_clustered_hits_and_accepts_spread_hits() -> None:
    clustered = _hits(1000, [*range(100, 105), *range(500, 505)])
    spread = _hits(1000, list(range(50, 1000, 100)))
    assert christoffersen_independence(clustered).p_value < 0.001
    assert christoffersen_independence(spread).p_value > 0.05


def test_conditional_coverage_adds_both_statistics_with_two_degrees_of_freedom() -> None:
    h = _hits(1000, [*range(100, 105), *range(500, 505)])
    cc = conditional_coverage(h, 0.01)
    assert cc.df == 2
    assert cc.stat == pytest.approx(
        kupiec_pof(h[1:], 0.01).stat + christoffersen_independence(h).stat
    )
    assert cc.p_value == pytest.approx(stats.chi2.sf(cc.stat, 2))


def test_hits_other_than_zero_or_one_then_data_error() -> None:
    with pytest.raises(DataError, match="only 0 and 1"):
        kupiec_pof(np.array([0, 2, 1]), 0.01)


@pytest.mark.parametrize(
    ("exceptions", "zone"), [(0, "green"), (4, "green"), (5, "yellow"), (9, "yellow"), (10, "red")]
)
def test_traffic_light_reproduces_the_basel_table(exceptions: int, zone: str) -> None:
    assert traffic_light(exceptions, 250, 0.01) == zone


def test_traffic_light_windows_counts_the_worst_window() -> None:
    h = _hits(600, list(range(300, 312)))
    tl = traffic_light_windows(h, 0.01)
    assert tl["max_exceptions"] == 12
    assert tl["red"] > 0
    assert tl["green"] + tl["yellow"] + tl["red"] == pytest.approx(1.0)


def _normal_model(
    scale_es: float, n: int = 20_000, seed: int = 11
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sigma = np.exp(rng.normal(0.0, 0.3, n))
    r = sigma * rng.standard_normal(n)
    q = stats.norm.ppf(0.975)
    es_std = stats.norm.pdf(q) / 0.025
    return r, sigma * q, sigma * es_std * scale_es, sigma


def test_es_exceedance_test_holds_its_size_and_rejects_an_understated_es() -> None:
    correct = [es_exceedance_test(*_normal_model(1.0, 4000, s), rng=s).p_value for s in range(40)]
    low = [es_exceedance_test(*_normal_model(0.85, 4000, s), rng=s).p_value for s in range(40)]
    assert np.mean(np.array(correct) < 0.05) <= 0.15
    assert np.mean(np.array(low) < 0.05) >= 0.9


def test_z2_is_near_zero_for_a_correct_es_and_below_the_critical_value_when_understated() -> None:
    r, var, es, _ = _normal_model(1.0)
    assert abs(acerbi_szekely_z2(r, var, es, 0.025)) < 0.1
    r, var, es, _ = _normal_model(0.6)
    assert acerbi_szekely_z2(r, var * 0.6, es, 0.025) < -0.7


def test_backtest_summary_reports_every_test() -> None:
    r, var, es, _ = _normal_model(1.0, 2000)
    out = backtest_summary(r, var, es, 0.975)
    for key in (
        "hit_rate",
        "kupiec_p",
        "independence_p",
        "cc_p",
        "traffic_light_last_250",
        "es_z2",
    ):
        assert key in out
    assert out["days"] == 2000
