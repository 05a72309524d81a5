"""Simulators shared by the risk tests (known-answer data with a seed)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

GjrSimulator = Callable[..., tuple[np.ndarray, np.ndarray]]


def _simulate_gjr_t(
    n: int, omega: float, alpha: float, gamma: float, beta: float, nu: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Percent returns of a GJR-GARCH(1,1)-t (gamma = 0: GARCH) and their variances."""
    rng = np.random.default_rng(seed)
    z = rng.standard_t(nu, n) * np.sqrt((nu - 2) / nu)
    r, s2 = np.empty(n), np.empty(n)
    s2[0] = omega / (1 - alpha - gamma / 2 - beta)
    for t in range(n):
        if t:
            e = r[t - 1]
            s2[t] = omega + (alpha + gamma * (e < 0)) * e * e + beta * s2[t - 1]
        r[t] = np.sqrt(s2[t]) * z[t]
    return r, s2


@pytest.fixture(scope="session")
def simulate_gjr_t() -> GjrSimulator:
    """``simulate_gjr_t(n, omega, alpha, gamma, beta, nu, seed) -> (returns, variances)``."""
    return _simulate_gjr_t
