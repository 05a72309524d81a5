"""Covariance estimators: EWMA and Ledoit-Wolf properties, DCC parameter recovery, min-variance portfolios."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf

from tradelearn.errors import ConfigError
from tradelearn.risk.covariance import (
    dcc_correlations,
    evaluate_min_variance,
    ewma_cov,
    fit_dcc,
    ledoit_wolf_cov,
    min_variance_weights,
    sample_cov,
)


def test_ewma_equals_the_normalised_recursion() -> None:
    r = np.random.default_rng(0).normal(size=(300, 4))
    lam = 0.94
    s = np.zeros((4, 4))
    for x in r:
        s = lam * s + (1 - lam) * np.outer(x, x)
    assert np.allclose(ewma_cov(r, lam), s / (1 - lam**300))


def test_ewma_weights_recent_days_more() -> None:
    r = np.ones((200, 2))
    r[-1] = 10.0
    assert ewma_cov(r, 0.9)[0, 0] > ewma_cov(r, 0.99)[0, 0]


def test_ewma_with_lambda_outside_the_unit_interval_then_config_error() -> None:
    with pytest.raises(ConfigError, match="lam must lie in"):
        ewma_cov(np.ones((10, 2)), 1.0)


def test_ledoit_wolf_matches_sklearn() -> None:
    r = np.random.default_rng(1).normal(size=(120, 30))
    cov, shrink = ledoit_wolf_cov(r)
    ref_cov, ref_shrink = ledoit_wolf(r)
    assert shrink == pytest.approx(ref_shrink)
    assert np.allclose(cov, ref_cov)


def test_ledoit_wolf_is_better_conditioned_than_the_sample_when_n_is_near_t() -> None:
    r = np.random.default_rng(2).normal(size=(60, 50))
    assert np.linalg.cond(ledoit_wolf_cov(r)[0]) < np.linalg.cond(sample_cov(r)) / 10


def _simulate_dcc(n: int, a: float, b: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = 3
    rbar = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.0]])
    q = rbar.copy()
    omega, alpha, beta = 0.05, 0.08, 0.9
    s2 = np.full(k, omega / (1 - alpha - beta))
    out = np.empty((n, k))
    for t in range(n):
        d = 1 / np.sqrt(np.diag(q))
        corr = q * d[:, None] * d[None, :]
        eps = np.linalg.cholesky(corr) @ rng.standard_normal(k)
        out[t] = np.sqrt(s2) * eps
        s2 = omega + alpha * out[t] ** 2 + beta * s2
        q = (1 - a - b) * rbar + a * np.outer(eps, eps) + b * q
    return out


def test_dcc_recovers_a_and_b_on_simulated_dcc_garch_data() -> None:
    r = _simulate_dcc(3000, 0.05, 0.90, seed=4)
    fit = fit_dcc(r, dist="normal", horizon=5)
    assert fit.a == pytest.approx(0.05, abs=0.025)
    assert fit.b == pytest.approx(0.90, abs=0.05)
    assert np.allclose(np.diag(fit.r_next), 1.0)


def test_dcc_one_day_covariance_is_d_r_d() -> None:
    r = _simulate_dcc(800, 0.04, 0.93, seed=5)
    fit = fit_dcc(r, dist="normal", horizon=3)
    sd = np.sqrt(fit.var_paths[0])
    assert np.allclose(fit.forecast_cov(1), fit.r_next * np.outer(sd, sd))
    assert np.all(np.linalg.eigvalsh(fit.forecast_cov(3)) > 0)


def test_dcc_with_a_and_b_zero_keeps_the_unconditional_correlation() -> None:
    eps = np.random.default_rng(6).normal(size=(50, 3))
    qbar = np.cov(eps, rowvar=False)
    r, _ = dcc_correlations(eps, 0.0, 0.0, qbar)
    d = 1 / np.sqrt(np.diag(qbar))
    assert np.allclose(r[-1], qbar * np.outer(d, d))


def test_min_variance_weights_sum_to_one_and_beat_random_weights() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(5, 5))
    cov = a @ a.T + np.eye(5)
    w = min_variance_weights(cov)
    assert w.sum() == pytest.approx(1.0)
    for _ in range(50):
        v = rng.dirichlet(np.ones(5))
        assert w @ cov @ w <= v @ cov @ v + 1e-12


def test_min_variance_portfolio_is_less_volatile_than_equal_weights_out_of_sample() -> None:
    rng = np.random.default_rng(8)
    vols = np.array([0.5, 1.0, 2.0, 4.0])
    r = rng.normal(size=(1500, 4)) * vols
    out = evaluate_min_variance(
        r, {"equal": lambda x: np.eye(x.shape[1]), "sample": sample_cov}, window=250, rebalance=21
    )
    assert out["sample"]["vol_annual"] < 0.8 * out["equal"]["vol_annual"]
    assert out["equal"]["days"] == 1250
