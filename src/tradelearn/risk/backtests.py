r"""VaR and ES backtests.

A *hit sequence* :math:`I_t \in \{0, 1\}` marks the days whose loss exceeded the VaR;
``p`` is the expected hit rate (0.01 for a 99% VaR).

References
----------
Kupiec, P. H. (1995). Techniques for verifying the accuracy of risk measurement models.
*Journal of Derivatives* 3(2), 73-84.
Christoffersen, P. F. (1998). Evaluating interval forecasts. *International Economic
Review* 39(4), 841-862.
Basel Committee on Banking Supervision (1996). Supervisory framework for the use of
"backtesting" in conjunction with the internal models approach to market risk.
McNeil, A. J., and Frey, R. (2000). Estimation of tail-related risk measures for
heteroscedastic financial time series: an extreme value approach. *Journal of Empirical
Finance* 7(3-4), 271-300.
Acerbi, C., and Szekely, B. (2014). Backtesting expected shortfall. *Risk*, December.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from tradelearn.errors import ConfigError, DataError

__all__ = [
    "ESTestResult",
    "LRTest",
    "acerbi_szekely_z2",
    "backtest_summary",
    "christoffersen_independence",
    "conditional_coverage",
    "es_exceedance_test",
    "kupiec_pof",
    "traffic_light",
    "traffic_light_windows",
]

Z2_CRITICAL_5PCT = -0.70
"""Acerbi and Szekely's (2014) 5% critical value of Z2 at a 97.5% ES (stable across tails)."""


@dataclass(frozen=True)
class LRTest:
    """A likelihood-ratio test: statistic, chi-square degrees of freedom and p-value."""

    stat: float
    df: int
    p_value: float
    hits: int
    n: int

    @property
    def rate(self) -> float:
        return self.hits / self.n if self.n else float("nan")


def _hits(hits: np.ndarray) -> np.ndarray:
    h = np.asarray(hits)
    if h.ndim != 1 or h.size == 0:
        raise DataError("hit sequence must be 1-D and non-empty", field="hits", got=h.shape)
    if not np.all((h == 0) | (h == 1)):
        raise DataError("hit sequence must hold only 0 and 1", field="hits", expected="0/1")
    return h.astype(np.int64)


def _xlogy(x: float, y: float) -> float:
    """``x log y`` with ``0 log 0 = 0``."""
    return 0.0 if x == 0 else float(x * np.log(y))


def _check_p(p: float) -> None:
    if not 0.0 < p < 1.0:
        raise ConfigError(f"expected hit rate p must lie in (0, 1), actually: {p}")


def kupiec_pof(hits: np.ndarray, p: float) -> LRTest:
    r"""Kupiec's (1995) proportion-of-failures test of unconditional coverage.

    With :math:`x` hits in :math:`n` days and :math:`\hat\pi = x/n`:

    .. math:: LR_{uc} = -2 \ln\frac{(1-p)^{n-x} p^x}{(1-\hat\pi)^{n-x}\hat\pi^x}
              \sim \chi^2_1
    """
    _check_p(p)
    h = _hits(hits)
    n, x = h.size, int(h.sum())
    pi = x / n
    ll0 = _xlogy(n - x, 1 - p) + _xlogy(x, p)
    ll1 = _xlogy(n - x, 1 - pi) + _xlogy(x, pi)
    lr = max(-2.0 * (ll0 - ll1), 0.0)
    return LRTest(lr, 1, float(stats.chi2.sf(lr, 1)), x, n)


def _transitions(h: np.ndarray) -> tuple[int, int, int, int]:
    prev, cur = h[:-1], h[1:]
    n00 = int(np.sum((prev == 0) & (cur == 0)))
    n01 = int(np.sum((prev == 0) & (cur == 1)))
    n10 = int(np.sum((prev == 1) & (cur == 0)))
    n11 = int(np.sum((prev == 1) & (cur == 1)))
    return n00, n01, n10, n11


def christoffersen_independence(hits: np.ndarray) -> LRTest:
    r"""Christoffersen's (1998) test that hits are independent (first-order Markov).

    With :math:`n_{ij}` the number of days in state :math:`j` after state :math:`i`,
    :math:`\pi_{01} = n_{01}/(n_{00}+n_{01})`, :math:`\pi_{11} = n_{11}/(n_{10}+n_{11})`
    and :math:`\pi = (n_{01}+n_{11})/(n - 1)`:

    .. math:: LR_{ind} = -2 \ln\frac{(1-\pi)^{n_{00}+n_{10}} \pi^{n_{01}+n_{11}}}
              {(1-\pi_{01})^{n_{00}} \pi_{01}^{n_{01}} (1-\pi_{11})^{n_{10}}
              \pi_{11}^{n_{11}}} \sim \chi^2_1
    """
    h = _hits(hits)
    n00, n01, n10, n11 = _transitions(h)
    pi01 = n01 / max(n00 + n01, 1)
    pi11 = n11 / max(n10 + n11, 1)
    pi = (n01 + n11) / max(n00 + n01 + n10 + n11, 1)
    ll0 = _xlogy(n00 + n10, 1 - pi) + _xlogy(n01 + n11, pi)
    ll1 = _xlogy(n00, 1 - pi01) + _xlogy(n01, pi01) + _xlogy(n10, 1 - pi11) + _xlogy(n11, pi11)
    lr = max(-2.0 * (ll0 - ll1), 0.0)
    return LRTest(lr, 1, float(stats.chi2.sf(lr, 1)), int(h.sum()), h.size)


def conditional_coverage(hits: np.ndarray, p: float) -> LRTest:
    r"""Christoffersen's conditional coverage: :math:`LR_{cc} = LR_{uc} + LR_{ind} \sim \chi^2_2`.

    :math:`LR_{uc}` is computed on the last :math:`n-1` days, so that both parts share
    the likelihood of the same transitions (Christoffersen, 1998, eq. 10).
    """
    h = _hits(hits)
    uc = kupiec_pof(h[1:], p)
    lr = uc.stat + christoffersen_independence(h).stat
    return LRTest(lr, 2, float(stats.chi2.sf(lr, 2)), int(h.sum()), h.size)


def traffic_light(exceptions: int, n: int = 250, p: float = 0.01) -> str:
    r"""Basel traffic-light zone of ``exceptions`` in ``n`` days at hit rate ``p``.

    With :math:`F` the binomial(:math:`n, p`) CDF: green when :math:`F(x) < 0.95`,
    yellow when :math:`F(x) < 0.9999`, red otherwise. For 250 days at 99% this gives
    the Basel table: 0-4 green, 5-9 yellow, 10 or more red.
    """
    _check_p(p)
    if exceptions < 0 or n <= 0:
        raise ConfigError(f"need exceptions >= 0 and n > 0, actually: {exceptions}, {n}")
    cdf = float(stats.binom.cdf(exceptions, n, p))
    if cdf < 0.95:
        return "green"
    return "yellow" if cdf < 0.9999 else "red"


def traffic_light_windows(hits: np.ndarray, p: float = 0.01, window: int = 250) -> dict[str, float]:
    """Share of rolling ``window``-day spans in each zone, and the most exceptions in one."""
    h = _hits(hits)
    if h.size < window:
        raise DataError(
            "fewer days than one window", field="hits", expected=f">= {window}", got=h.size
        )
    counts = np.convolve(h, np.ones(window, dtype=np.int64), mode="valid")
    zones = np.array([traffic_light(int(c), window, p) for c in range(int(counts.max()) + 1)])
    z = zones[counts]
    return {
        "green": float(np.mean(z == "green")),
        "yellow": float(np.mean(z == "yellow")),
        "red": float(np.mean(z == "red")),
        "max_exceptions": float(counts.max()),
        "last_zone_exceptions": float(counts[-1]),
    }


@dataclass(frozen=True)
class ESTestResult:
    """An ES backtest: statistic, p-value (one-sided: ES too small) and exceedances used."""

    stat: float
    p_value: float
    n_exceed: int


def es_exceedance_test(
    returns: np.ndarray,
    var: np.ndarray,
    es: np.ndarray,
    sigma: np.ndarray | None = None,
    *,
    n_boot: int = 2000,
    rng: np.random.Generator | int = 0,
) -> ESTestResult:
    r"""McNeil and Frey's (2000) exceedance-residual test of ES, with a bootstrap.

    On exception days the residuals :math:`e_t = (L_t - ES_t)/\sigma_t` (losses
    :math:`L_t = -r_t`; :math:`\sigma_t = 1` when ``sigma`` is None) have mean zero if
    ES is right. The one-sided p-value of their mean is the share of bootstrap means of
    the centred residuals at or above the observed mean (Efron and Tibshirani, 1993,
    16.4). The statistic is the observed mean.
    """
    loss = -np.asarray(returns, dtype=np.float64)
    v, e = np.asarray(var, dtype=np.float64), np.asarray(es, dtype=np.float64)
    s = np.ones_like(loss) if sigma is None else np.asarray(sigma, dtype=np.float64)
    hit = loss > v
    resid = (loss[hit] - e[hit]) / s[hit]
    if resid.size < 2:
        return ESTestResult(
            float(resid.mean()) if resid.size else float("nan"), float("nan"), int(resid.size)
        )
    gen = np.random.default_rng(rng)
    mean = float(resid.mean())
    centred = resid - mean
    draws = centred[gen.integers(0, resid.size, size=(n_boot, resid.size))].mean(axis=1)
    return ESTestResult(mean, float((1 + np.sum(draws >= mean)) / (n_boot + 1)), int(resid.size))


def acerbi_szekely_z2(returns: np.ndarray, var: np.ndarray, es: np.ndarray, p: float) -> float:
    r"""Acerbi and Szekely's (2014) :math:`Z_2` statistic of ES.

    .. math:: Z_2 = \sum_{t=1}^{T} \frac{r_t I_t}{T\,p\,ES_t} + 1

    with :math:`I_t` the hit indicator and ES positive. :math:`E[Z_2] = 0` when ES is
    right; a negative value means ES is too small. At 97.5% Acerbi and Szekely report
    a 5% critical value near :data:`Z2_CRITICAL_5PCT` (-0.70) for a wide range of tails.
    """
    _check_p(p)
    r = np.asarray(returns, dtype=np.float64)
    v, e = np.asarray(var, dtype=np.float64), np.asarray(es, dtype=np.float64)
    hit = r < -v
    return float(np.sum(np.where(hit, r / (p * e), 0.0)) / r.size + 1.0)


def backtest_summary(
    returns: np.ndarray,
    var: np.ndarray,
    es: np.ndarray,
    level: float,
    sigma: np.ndarray | None = None,
    *,
    rng: np.random.Generator | int = 0,
) -> dict[str, float | str]:
    """Every test above for one VaR/ES series at coverage ``level``, as a flat dict."""
    p = 1.0 - level
    hits = (np.asarray(returns) < -np.asarray(var)).astype(np.int64)
    pof, ind, cc = (
        kupiec_pof(hits, p),
        christoffersen_independence(hits),
        conditional_coverage(hits, p),
    )
    tl = traffic_light_windows(hits, p) if hits.size >= 250 else {}
    es_test = es_exceedance_test(returns, var, es, sigma, rng=rng)
    return {
        "days": float(hits.size),
        "hits": float(pof.hits),
        "hit_rate": pof.rate,
        "kupiec_lr": pof.stat,
        "kupiec_p": pof.p_value,
        "independence_p": ind.p_value,
        "cc_lr": cc.stat,
        "cc_p": cc.p_value,
        "traffic_light_last_250": traffic_light(int(hits[-250:].sum()), min(250, hits.size), p),
        **{f"tl_{k}": v for k, v in tl.items()},
        "es_mcneil_frey_p": es_test.p_value,
        "es_exceedance_mean": es_test.stat,
        "es_z2": acerbi_szekely_z2(returns, var, es, p),
    }
