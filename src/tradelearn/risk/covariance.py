r"""Covariance forecasts (EWMA, Ledoit-Wolf, DCC-GARCH) and minimum-variance portfolios.

Estimators take a ``(T, N)`` array of returns (percent) and return an ``(N, N)``
covariance. They are judged the way a portfolio manager would: the realized
out-of-sample volatility of the global minimum-variance portfolio
:math:`w = \Sigma^{-1}\mathbf 1 / \mathbf 1'\Sigma^{-1}\mathbf 1` built from each,
rebalanced on a fixed schedule (:func:`evaluate_min_variance`). The portfolio does not
depend on expected returns, so the lower its realized volatility, the better the
covariance forecast.

References
----------
J.P. Morgan/Reuters (1996). *RiskMetrics Technical Document*, 4th ed.
Ledoit, O., and Wolf, M. (2004). A well-conditioned estimator for large-dimensional
covariance matrices. *Journal of Multivariate Analysis* 88(2), 365-411.
Engle, R. F. (2002). Dynamic conditional correlation. *Journal of Business & Economic
Statistics* 20(3), 339-350.
Engle, R. F., and Sheppard, K. (2001). Theoretical and empirical properties of dynamic
conditional correlation multivariate GARCH. NBER Working Paper 8554.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import optimize  # type: ignore[import-untyped, unused-ignore]

from tradelearn.data.daily import DailyPanel
from tradelearn.errors import ConfigError, DataError
from tradelearn.risk.vol import Dist, fit_garch

__all__ = [
    "DCCFit",
    "dcc_correlations",
    "evaluate_min_variance",
    "ewma_cov",
    "fit_dcc",
    "ledoit_wolf_cov",
    "min_variance_weights",
    "panel_returns",
    "sample_cov",
]

Estimator = Callable[[np.ndarray], np.ndarray]


def _returns(x: np.ndarray) -> np.ndarray:
    r = np.asarray(x, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] < 2:
        raise DataError("returns must be a (T, N) array with T >= 2", field="returns", got=r.shape)
    if not np.all(np.isfinite(r)):
        raise DataError("returns contain NaN or inf", field="returns", expected="finite")
    return r


def sample_cov(returns: np.ndarray) -> np.ndarray:
    """Sample covariance (divisor ``T - 1``)."""
    return np.cov(_returns(returns), rowvar=False)


def ewma_cov(returns: np.ndarray, lam: float = 0.94) -> np.ndarray:
    r"""Exponentially weighted covariance (RiskMetrics), zero mean.

    .. math:: \Sigma_T = \sum_{k=0}^{T-1} w_k\, r_{T-k} r_{T-k}', \quad
              w_k = \frac{(1-\lambda)\lambda^k}{1 - \lambda^T}

    the normalized form of :math:`\Sigma_t = \lambda\Sigma_{t-1} + (1-\lambda) r_t r_t'`.
    The effective sample is about :math:`1/(1-\lambda)` days, so with more assets than
    that (N > 17 at the RiskMetrics 0.94) the matrix is near singular.
    """
    if not 0.0 < lam < 1.0:
        raise ConfigError(f"lam must lie in (0, 1), actually: {lam}")
    r = _returns(returns)
    k = np.arange(r.shape[0])[::-1]
    w = (1.0 - lam) * lam**k
    w /= w.sum()
    out: np.ndarray = (r * w[:, None]).T @ r
    return out


def ledoit_wolf_cov(returns: np.ndarray) -> tuple[np.ndarray, float]:
    r"""Ledoit-Wolf (2004) shrinkage towards a scaled identity.

    With demeaned returns :math:`X`, :math:`S = X'X/T`, :math:`\mu = \mathrm{tr}(S)/N`,
    :math:`d^2 = \|S - \mu I\|_F^2`,
    :math:`\bar b^2 = \frac{1}{T^2}\sum_t \|x_t x_t' - S\|_F^2` and
    :math:`b^2 = \min(\bar b^2, d^2)`:

    .. math:: \hat\Sigma = \frac{b^2}{d^2}\mu I + \left(1 - \frac{b^2}{d^2}\right) S

    Returns the matrix and the shrinkage intensity :math:`b^2/d^2` (the same numbers as
    ``sklearn.covariance.ledoit_wolf``).
    """
    r = _returns(returns)
    t, n = r.shape
    x = r - r.mean(axis=0)
    s = x.T @ x / t
    mu = np.trace(s) / n
    d2 = float(np.sum((s - mu * np.eye(n)) ** 2))
    # sum_t ||x_t x_t' - S||^2 = sum_t ||x_t||^4 - T ||S||^2
    b2_bar = (float(np.sum(np.sum(x**2, axis=1) ** 2)) - t * float(np.sum(s**2))) / t**2
    shrink = 0.0 if d2 == 0 else min(b2_bar, d2) / d2
    return shrink * mu * np.eye(n) + (1.0 - shrink) * s, shrink


# --------------------------------------------------------------------------- DCC


def dcc_correlations(
    eps: np.ndarray, a: float, b: float, qbar: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""Filter DCC correlations (Engle, 2002).

    .. math:: Q_t = (1-a-b)\bar Q + a\,\epsilon_{t-1}\epsilon_{t-1}' + b\,Q_{t-1},
              \quad R_t = \mathrm{diag}(Q_t)^{-1/2} Q_t\, \mathrm{diag}(Q_t)^{-1/2}

    with :math:`Q_1 = \bar Q`. Returns ``R`` of shape ``(T + 1, N, N)`` (the last is the
    one-step forecast) and the last ``Q``.
    """
    t, n = eps.shape
    q = qbar.copy()
    out = np.empty((t + 1, n, n))
    c = (1.0 - a - b) * qbar
    for i in range(t + 1):
        d = 1.0 / np.sqrt(np.diag(q))
        out[i] = q * d[:, None] * d[None, :]
        if i < t:
            e = eps[i]
            q = c + a * np.outer(e, e) + b * q
    return out, q


def _dcc_nll(theta: np.ndarray, eps: np.ndarray, qbar: np.ndarray) -> float:
    a, b = float(theta[0]), float(theta[1])
    if a < 0 or b < 0 or a + b >= 0.999:
        return 1e12
    r, _ = dcc_correlations(eps, a, b, qbar)
    r = r[:-1]
    sign, logdet = np.linalg.slogdet(r)
    if np.any(sign <= 0):
        return 1e12
    quad = np.einsum("ti,ti->t", eps, np.linalg.solve(r, eps[..., None])[..., 0])
    return 0.5 * float(np.sum(logdet + quad - np.sum(eps**2, axis=1)))


@dataclass(frozen=True, eq=False)
class DCCFit:
    """A fitted DCC-GARCH: univariate GARCH fits, DCC ``a, b`` and the states needed to forecast."""

    a: float
    b: float
    qbar: np.ndarray
    r_next: np.ndarray
    var_paths: np.ndarray
    """``(H, N)`` univariate variance forecasts for days ``T+1 .. T+H``."""
    converged: bool

    def forecast_cov(self, horizon: int = 1) -> np.ndarray:
        r"""Covariance of the sum of the next ``horizon`` daily returns.

        .. math:: \sum_{k=1}^{h} D_{T+k} R_{T+k} D_{T+k}, \quad
                  R_{T+k} \approx (1-\phi^{k-1})\bar R + \phi^{k-1} R_{T+1},\ \phi = a + b

        (the Engle-Sheppard 2001 approximation; :math:`\bar R` is :math:`\bar Q`
        normalised to a correlation).
        """
        if not 1 <= horizon <= self.var_paths.shape[0]:
            raise ConfigError(
                f"horizon must lie in 1..{self.var_paths.shape[0]}, actually: {horizon}"
            )
        d = 1.0 / np.sqrt(np.diag(self.qbar))
        rbar = self.qbar * d[:, None] * d[None, :]
        phi = self.a + self.b
        total = np.zeros_like(rbar)
        for k in range(horizon):
            w = phi**k
            rk = (1.0 - w) * rbar + w * self.r_next
            sd = np.sqrt(self.var_paths[k])
            total += rk * sd[:, None] * sd[None, :]
        return total


def fit_dcc(
    returns: np.ndarray, *, kind: str = "garch", dist: Dist = "t", horizon: int = 22
) -> DCCFit:
    """Fit DCC-GARCH in two steps (Engle, 2002).

    Step one fits each column by ``arch`` (GARCH(1,1)-t by default) and standardizes it
    by its conditional volatility; step two maximises the correlation part of the
    Gaussian quasi-likelihood,
    :math:`-\\tfrac12\\sum_t (\\ln|R_t| + \\epsilon_t' R_t^{-1}\\epsilon_t - \\epsilon_t'\\epsilon_t)`,
    over ``a, b`` with :math:`\\bar Q` the sample covariance of the standardized residuals
    (correlation targeting).
    """
    r = _returns(returns)
    t, n = r.shape
    eps = np.empty_like(r)
    paths = np.empty((horizon, n))
    ok = True
    for i in range(n):
        fit, res = fit_garch(r[:, i], kind, dist)
        ok &= fit.converged
        eps[:, i] = np.asarray(res.std_resid, dtype=np.float64)
        paths[:, i] = res.forecast(horizon=horizon, reindex=False).variance.to_numpy()[-1]
    qbar = eps.T @ eps / t
    best = optimize.minimize(
        _dcc_nll, np.array([0.02, 0.95]), args=(eps, qbar), method="Nelder-Mead",
        options={"xatol": 1e-5, "fatol": 1e-6, "maxiter": 400},
    )  # fmt: skip
    a, b = (float(v) for v in best.x)
    rpath, _ = dcc_correlations(eps, a, b, qbar)
    return DCCFit(a, b, qbar, rpath[-1], paths, bool(ok and best.success))


# --------------------------------------------------------------------------- portfolios


def min_variance_weights(cov: np.ndarray) -> np.ndarray:
    r"""Global minimum-variance weights :math:`\Sigma^{-1}\mathbf 1 / \mathbf 1'\Sigma^{-1}\mathbf 1`."""
    c = np.asarray(cov, dtype=np.float64)
    ones = np.ones(c.shape[0])
    try:
        x = np.linalg.solve(c, ones)
    except np.linalg.LinAlgError:
        x = np.linalg.pinv(c) @ ones
    w: np.ndarray = x / x.sum()
    return w


def evaluate_min_variance(
    returns: np.ndarray,
    estimators: Mapping[str, Estimator],
    *,
    window: int = 500,
    rebalance: int = 21,
    on_step: Callable[[], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Out-of-sample minimum-variance portfolios from each covariance estimator.

    Every ``rebalance`` days each estimator sees the last ``window`` days and the
    weights are held (not drifted) for the next ``rebalance`` days. Returns, per
    estimator, the annualized volatility (percent, 252 days), mean absolute weight
    turnover per rebalance, and the most negative weight.
    """
    r = _returns(returns)
    t = r.shape[0]
    if window >= t:
        raise ConfigError(f"window must be shorter than the sample, actually: {window} >= {t}")
    out: dict[str, dict[str, float]] = {}
    starts = list(range(window, t, rebalance))
    series: dict[str, list[np.ndarray]] = {k: [] for k in estimators}
    turnover: dict[str, list[float]] = {k: [] for k in estimators}
    prev: dict[str, np.ndarray] = {}
    short: dict[str, float] = dict.fromkeys(estimators, 0.0)
    for s in starts:
        hist = r[s - window : s]
        nxt = r[s : s + rebalance]
        for name, est in estimators.items():
            w = min_variance_weights(est(hist))
            series[name].append(nxt @ w)
            if name in prev:
                turnover[name].append(float(np.sum(np.abs(w - prev[name]))))
            prev[name] = w
            short[name] = min(short[name], float(w.min()))
        if on_step is not None:
            on_step()
    for name in estimators:
        pr = np.concatenate(series[name])
        out[name] = {
            "vol_annual": float(np.std(pr, ddof=1) * np.sqrt(252.0)),
            "turnover": float(np.mean(turnover[name])) if turnover[name] else 0.0,
            "min_weight": short[name],
            "days": float(pr.size),
        }
    return out


def panel_returns(
    panel: DailyPanel, n_assets: int, *, rng: np.random.Generator | int = 0
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Percent log returns of ``n_assets`` symbols with a close on every date of the panel.

    The symbols are drawn at random (``rng``) among the complete ones and returned
    sorted, with the ``(T, N)`` returns and their dates.
    """
    wide = panel.frame.pivot(on="symbol", index="date", values="close").sort("date")
    complete = [c for c in wide.columns[1:] if wide.get_column(c).null_count() == 0]
    if len(complete) < n_assets:
        raise ConfigError(f"only {len(complete)} complete symbols, asked for {n_assets}")
    gen = np.random.default_rng(rng)
    chosen = sorted(str(s) for s in gen.choice(complete, size=n_assets, replace=False))
    prices = wide.select(chosen).to_numpy().astype(np.float64)
    dates = wide.get_column("date").cast(pl.Date).to_numpy()[1:]
    return np.diff(np.log(prices), axis=0) * 100.0, chosen, dates
