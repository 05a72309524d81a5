r"""One-day Value-at-Risk and Expected Shortfall forecasts.

VaR and ES are positive numbers in percent of the position, for the loss
:math:`L_{t+1} = -r_{t+1}`: a day is an *exception* (a hit) when
:math:`r_{t+1} < -\mathrm{VaR}_{t+1}`. ``level`` is the coverage (0.99 means a 1% tail).

Methods (:data:`METHODS`):

``hs``
    Historical simulation: the empirical quantile of the last ``hs_window`` returns.
``fhs``
    Filtered historical simulation (Barone-Adesi, Giannopoulos and Vosper, 1999):
    :math:`\mathrm{VaR} = -(\mu + \sigma_{t+1} \hat q_\alpha(z))` with
    :math:`\sigma_{t+1}` from a GJR-GARCH-t filter and :math:`\hat q_\alpha` the
    empirical quantile of the fit window's standardized residuals.
``garch_t``, ``gjr_t``
    Parametric: :math:`-(\mu + \sigma_{t+1} q_\alpha(t_\nu))` with the standardized
    Student-t quantile of the fitted :math:`\nu`.
``evt`` (the default)
    FHS with a generalized Pareto tail (McNeil and Frey, 2000): the losses of the
    standardized residuals beyond their ``1 - threshold`` quantile :math:`u` are fitted
    by a GPD(:math:`\xi, \beta`), and
    :math:`q = u + \frac{\beta}{\xi}\left[\left(\frac{1-\text{level}}{\text{threshold}}
    \right)^{-\xi} - 1\right]`, :math:`ES = \frac{q + \beta - \xi u}{1 - \xi}`.
    The window's empirical 1% quantile rests on ten residuals; the GPD uses fifty and
    extrapolates the tail's shape, which keeps 99% coverage through 2008.

GARCH filters are refitted every ``refit_every`` days on the last ``window`` returns
(:func:`tradelearn.risk.vol.rolling_garch`) and filtered daily in between.

References
----------
Barone-Adesi, G., Giannopoulos, K., and Vosper, L. (1999). VaR without correlations
for portfolios of derivative securities. *Journal of Futures Markets* 19(5), 583-602.
McNeil, A. J., and Frey, R. (2000). Estimation of tail-related risk measures for
heteroscedastic financial time series: an extreme value approach. *Journal of Empirical
Finance* 7(3-4), 271-300.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from tradelearn.errors import ConfigError
from tradelearn.risk.realized import VolData
from tradelearn.risk.vol import GarchPath, rolling_garch

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "VarForecast",
    "empirical_var_es",
    "gpd_var_es",
    "student_t_var_es",
    "var_forecasts",
]

METHODS = ("hs", "fhs", "garch_t", "gjr_t", "evt")
DEFAULT_METHOD = "evt"


@dataclass(frozen=True, eq=False)
class VarForecast:
    """VaR and ES of one method for the days ``dates`` (``(n, L)`` arrays, percent)."""

    method: str
    dates: np.ndarray
    returns: np.ndarray
    levels: tuple[float, ...]
    var: np.ndarray
    es: np.ndarray
    sigma: np.ndarray

    def hits(self) -> np.ndarray:
        """``(n, L)`` booleans: the day's return fell below minus the VaR."""
        return self.returns[:, None] < -self.var


def empirical_var_es(sample: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    r"""VaR and ES of losses ``-sample`` along the last axis.

    VaR is minus the :math:`(1 - \text{level})` quantile (linear interpolation), ES
    minus the mean of the values at or below that quantile.
    """
    x = np.asarray(sample, dtype=np.float64)
    q = np.quantile(x, 1.0 - level, axis=-1)
    below = x <= q[..., None]
    es = -np.sum(np.where(below, x, 0.0), axis=-1) / np.maximum(below.sum(axis=-1), 1)
    return -q, es


def student_t_var_es(nu: float | np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    r"""VaR and ES of a unit-variance Student-t variable.

    With :math:`t_p` the :math:`p = 1 - \text{level}` quantile of :math:`t_\nu` and
    :math:`s = \sqrt{(\nu-2)/\nu}`:
    :math:`\mathrm{VaR} = -s\,t_p`, :math:`\mathrm{ES} = s\,\frac{\nu + t_p^2}{\nu - 1}
    \frac{f_\nu(t_p)}{p}`.
    """
    nu = np.asarray(nu, dtype=np.float64)
    p = 1.0 - level
    tp = stats.t.ppf(p, nu)
    s = np.sqrt((nu - 2.0) / nu)
    return -s * tp, s * (nu + tp**2) / (nu - 1.0) * stats.t.pdf(tp, nu) / p


def gpd_var_es(z: np.ndarray, level: float, threshold: float = 0.05) -> tuple[float, float]:
    """VaR and ES of ``-z`` with a generalized Pareto tail beyond ``threshold`` (see module)."""
    x = -np.asarray(z, dtype=np.float64)
    x = x[np.isfinite(x)]
    p = 1.0 - level
    if not 0.0 < p < threshold < 0.5:
        raise ConfigError(f"need 0 < 1 - level < threshold < 0.5, actually: {p}, {threshold}")
    u = float(np.quantile(x, 1.0 - threshold))
    e = x[x > u] - u
    with warnings.catch_warnings(record=True):
        # scipy's optimiser notes on a flat likelihood; the fit is checked below
        warnings.simplefilter("always")
        xi, _, beta = stats.genpareto.fit(e, floc=0.0)
    if not (np.isfinite(xi) and beta > 0 and xi < 1.0):
        emp = empirical_var_es(-x, level)
        return float(emp[0]), float(emp[1])
    frac = e.size / x.size
    if abs(xi) < 1e-8:
        q = u - beta * np.log(p / frac)
    else:
        q = u + beta / xi * ((p / frac) ** (-xi) - 1.0)
    return float(q), float((q + beta - xi * u) / (1.0 - xi))


def var_forecasts(
    data: VolData,
    methods: Sequence[str] = (DEFAULT_METHOD,),
    *,
    start: str = "2004-01-01",
    window: int = 1000,
    refit_every: int = 22,
    levels: Sequence[float] = (0.99, 0.975),
    threshold: float = 0.05,
    hs_window: int = 250,
) -> dict[str, VarForecast]:
    """Out-of-sample one-day VaR/ES of each method from ``start`` on.

    The GJR-t and GARCH-t filters are fitted once and shared by the methods that use them.
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ConfigError(f"unknown VaR methods {unknown}; known: {list(METHODS)}")
    lv = tuple(float(x) for x in levels)
    if not all(0.5 < x < 1.0 for x in lv):
        raise ConfigError(f"levels must lie in (0.5, 1), actually: {lv}")
    first = max(data.index_of(start) - 1, window - 1, hs_window - 1)
    origins = np.arange(first, len(data) - 1)
    r = data.returns
    paths: dict[str, GarchPath] = {}
    for kind in ("gjr", "garch"):
        users = {"gjr": {"fhs", "gjr_t", "evt"}, "garch": {"garch_t"}}[kind]
        if users & set(methods):
            paths[kind] = rolling_garch(
                r, origins, kind=kind, window=window, refit_every=refit_every, horizons=(1,)
            )
    out: dict[str, VarForecast] = {}
    for m in methods:
        var = np.full((len(origins), len(lv)), np.nan)
        es = np.full_like(var, np.nan)
        sigma = np.full(len(origins), np.nan)
        if m == "hs":
            windows = sliding_window_view(r, hs_window)[origins + 1 - hs_window]
            for j, level in enumerate(lv):
                var[:, j], es[:, j] = empirical_var_es(windows, level)
        else:
            path = paths["garch" if m == "garch_t" else "gjr"]
            sigma = np.sqrt(path.var1)
            per_fit = [_standard_var_es(m, path, b, lv, threshold) for b in range(len(path.fits))]
            zq = np.array(per_fit)[path.block]
            var = -path.mean[:, None] + sigma[:, None] * zq[:, 0, :]
            es = -path.mean[:, None] + sigma[:, None] * zq[:, 1, :]
        out[m] = VarForecast(m, data.dates[origins + 1], r[origins + 1], lv, var, es, sigma)
    return out


def _standard_var_es(
    method: str, path: GarchPath, b: int, levels: tuple[float, ...], threshold: float
) -> np.ndarray:
    """``(2, L)`` VaR and ES of the standardized shock under refit ``b``."""
    z = path.std_resid[b]
    z = z[np.isfinite(z)]
    out = np.empty((2, len(levels)))
    for j, level in enumerate(levels):
        pair: tuple[Any, Any]
        if method == "fhs":
            pair = empirical_var_es(z, level)
        elif method == "evt":
            pair = gpd_var_es(z, level, threshold)
        else:
            pair = student_t_var_es(path.fits[b].nu, level)
        out[:, j] = (float(pair[0]), float(pair[1]))
    return out
