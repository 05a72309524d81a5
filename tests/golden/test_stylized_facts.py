"""Stylized facts of real and generated days, the square-root law, and the calibration.

The three facts are measured on one-minute mid returns (:mod:`tradelearn.sim.stylized`):
excess kurtosis > 1, Ljung-Box at 10 lags does not reject (p > 0.05), Ljung-Box on the
absolute returns rejects (p < 0.05). The real GOOG and AAPL days pass all three.

Generated days are random, and so is the verdict of a 5% test on 390 returns. Measured on
the default market (seeds 0-39): all three facts hold on 28 of 40 days; kurtosis > 1 on
36, Ljung-Box not rejecting on 30, volatility clustering on 40. The Ljung-Box test
over-rejects on heteroskedastic returns: i.i.d. normal returns scaled by the calibrated
intraday variance profile (GOOG's first half hour carries 4.2 times the mean variance)
pass it on only 65% of days. The first test below pins three seeds that pass (seed 2 is
one of the 12 that do not); the second holds the pass rates over seeds 0-19.
"""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.book.replay import verify, verify_reference
from tradelearn.data.lobster import load_lobster
from tradelearn.sim.abm_calibrate import calibrate
from tradelearn.sim.abm_params import AgentParams
from tradelearn.sim.generate import generate_day
from tradelearn.sim.metaorder import square_root_law
from tradelearn.sim.stylized import stylized_facts
from tradelearn.testing.realdata import lobster_pair

# symbol, levels: excess kurtosis, Ljung-Box p, Ljung-Box p of |r|
REAL = {
    ("GOOG", 10): (7.338, 0.05425, 3.587e-07),
    ("AAPL", 1): (2.411, 0.1242, 6.908e-06),
}


@pytest.mark.parametrize(("symbol", "levels"), sorted(REAL))
def test_real_day_passes_all_three_stylized_facts(symbol: str, levels: int) -> None:
    day = load_lobster(*lobster_pair(symbol, levels))
    assert day.book is not None
    facts = stylized_facts(day.events, day.book)
    assert facts.n_returns == 390
    assert facts.heavy_tails and facts.no_autocorrelation and facts.volatility_clustering
    kurt, p, p_abs = REAL[(symbol, levels)]
    assert facts.excess_kurtosis == pytest.approx(kurt, rel=1e-3)
    assert facts.ljung_box_p == pytest.approx(p, rel=1e-3)
    assert facts.ljung_box_abs_p == pytest.approx(p_abs, rel=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_generated_full_day_passes_all_three_stylized_facts(seed: int) -> None:
    day = generate_day(seed=seed, levels=1)
    assert day.book is not None
    facts = stylized_facts(day.events, day.book)
    assert facts.n_returns == 390
    assert facts.excess_kurtosis > 1, facts
    assert facts.ljung_box_p > 0.05, facts
    assert facts.ljung_box_abs_p < 0.05, facts


def test_generated_days_pass_each_fact_on_most_days() -> None:
    verdicts = []
    for seed in range(20):
        day = generate_day(seed=seed, levels=1)
        assert day.book is not None
        f = stylized_facts(day.events, day.book)
        verdicts.append((f.heavy_tails, f.no_autocorrelation, f.volatility_clustering))
    rates = np.mean(np.array(verdicts), axis=0)
    # measured on seeds 0-19: 0.90, 0.80, 1.00 and all three on 15 of 20 days
    assert rates[0] >= 0.85 and rates[1] >= 0.75 and rates[2] >= 0.95, rates
    assert np.all(verdicts, axis=1).sum() >= 14


def test_square_root_law_exponent_of_the_generated_market() -> None:
    fit = square_root_law(seed=0)
    # measured: 0.508 (95% bootstrap interval 0.443-0.613); seeds 1 and 2 give 0.434 and 0.468
    assert 0.4 <= fit.exponent <= 0.6, fit
    assert fit.ci_low < 0.5 < fit.ci_high
    assert all(np.diff(fit.mean_impact_ticks) > 0)


def test_generated_full_day_replays_with_zero_differences() -> None:
    day = generate_day(seed=4, levels=10)
    assert day.book is not None
    rep = verify(day.events, day.book, 10, day.tick)
    assert rep.rows_compared == day.events.shape[0] - 1 > 100_000
    assert rep.rows_matched == rep.rows_compared and rep.unexplained == 0
    assert rep.corrections == 0 and rep.anomalies == 0
    ref, _ = verify_reference(day.events, day.book, 10, stop=15_000)
    assert ref.rows_matched == ref.rows_compared == 14_999 and ref.corrections == 0


def test_calibration_of_the_goog_day_reproduces_the_defaults() -> None:
    day = load_lobster(*lobster_pair("GOOG", 10))
    assert day.book is not None
    fitted = calibrate(day.events, day.book).params.to_json()
    for name, default in AgentParams().to_json().items():
        got = fitted[name]
        pairs = zip(default, got, strict=True) if isinstance(default, list) else [(default, got)]
        for d, g in pairs:
            assert g == pytest.approx(d, rel=1e-3, abs=1e-9), name
