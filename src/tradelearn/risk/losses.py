r"""Forecast losses for variance (QLIKE, MSE) and the Diebold-Mariano test.

Both losses are *robust* in Patton's (2011) sense: ranking forecasts by their expected
loss against a noisy but unbiased variance proxy gives the same order as ranking them
against the true variance. QLIKE is scale-free and punishes under-prediction more, which
is what a risk manager wants; MSE is dominated by the few most volatile days.

References
----------
Patton, A. J. (2011). Volatility forecast comparison using imperfect volatility proxies.
*Journal of Econometrics* 160(1), 246-256.
Diebold, F. X., and Mariano, R. S. (1995). Comparing predictive accuracy. *Journal of
Business & Economic Statistics* 13(3), 253-263.
Newey, W. K., and West, K. D. (1987, 1994). A simple, positive semi-definite,
heteroskedasticity and autocorrelation consistent covariance matrix; Automatic lag
selection in covariance matrix estimation.
Harvey, D., Leybourne, S., and Newbold, P. (1997). Testing the equality of prediction
mean squared errors. *International Journal of Forecasting* 13(2), 281-291.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from tradelearn.errors import ConfigError, DataError

__all__ = [
    "DMResult",
    "compare_forecasts",
    "diebold_mariano",
    "loss_table",
    "mse",
    "newey_west_variance",
    "qlike",
]


def _pair(proxy: np.ndarray, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(proxy, dtype=np.float64)
    f = np.asarray(forecast, dtype=np.float64)
    if y.shape != f.shape:
        raise DataError("proxy and forecast differ in shape", expected=str(y.shape), got=f.shape)
    if np.any(f[np.isfinite(f)] <= 0):
        raise DataError("a variance forecast is not positive", field="forecast", expected="> 0")
    return y, f


def qlike(proxy: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    r"""QLIKE loss, element by element, normalised to be zero at a perfect forecast.

    .. math:: L(\hat\sigma^2, h) = \frac{\hat\sigma^2}{h} - \ln\frac{\hat\sigma^2}{h} - 1

    where :math:`\hat\sigma^2` is the proxy and :math:`h` the forecast (Patton, 2011,
    with :math:`b = -2`). NaN in either gives NaN.
    """
    y, f = _pair(proxy, forecast)
    x = y / f
    out: np.ndarray = x - np.log(x) - 1.0
    return out


def mse(proxy: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    r"""Squared error :math:`(\hat\sigma^2 - h)^2`, element by element."""
    y, f = _pair(proxy, forecast)
    out: np.ndarray = (y - f) ** 2
    return out


def newey_west_variance(d: np.ndarray, lags: int) -> float:
    r"""Long-run variance of a series with Bartlett weights.

    .. math:: \hat\Omega = \hat\gamma_0 + 2 \sum_{k=1}^{L} \left(1 - \frac{k}{L+1}\right)
              \hat\gamma_k, \quad
              \hat\gamma_k = \frac1T \sum_{t=k+1}^{T} (d_t - \bar d)(d_{t-k} - \bar d)

    Positive semi-definite for every ``lags`` (Newey and West, 1987).
    """
    x = np.asarray(d, dtype=np.float64)
    if lags < 0:
        raise ConfigError(f"lags must be >= 0, actually: {lags}")
    x = x - x.mean()
    n = x.size
    omega: float = float(x @ x) / n
    for k in range(1, min(lags, n - 1) + 1):
        omega += 2.0 * (1.0 - k / (lags + 1.0)) * float(x[k:] @ x[:-k]) / n
    return omega


@dataclass(frozen=True)
class DMResult:
    """Diebold-Mariano test of equal expected loss.

    ``mean_diff`` is the mean of ``loss_a - loss_b`` (negative: ``a`` is better);
    ``p_value`` is two-sided, ``p_less`` one-sided against "``a`` has lower loss".
    """

    stat: float
    p_value: float
    p_less: float
    mean_diff: float
    n: int
    lags: int


def diebold_mariano(
    loss_a: np.ndarray,
    loss_b: np.ndarray,
    h: int = 1,
    *,
    lags: int | None = None,
    small_sample: bool = True,
) -> DMResult:
    r"""Diebold-Mariano (1995) test on two aligned loss series.

    .. math:: DM = \frac{\bar d}{\sqrt{\hat\Omega / T}}, \quad d_t = L^a_t - L^b_t

    with :math:`\hat\Omega` the Newey-West long-run variance of :math:`d_t`. An
    :math:`h`-step forecast of an :math:`h`-day sum has MA(:math:`h-1`) errors at least,
    and overlapping targets more; the default bandwidth is
    :math:`L = \max(h - 1, \lfloor 4 (T/100)^{2/9} \rfloor)` (the Newey-West 1994 rule).
    With ``small_sample`` the statistic gets the Harvey-Leybourne-Newbold (1997)
    correction :math:`\sqrt{(T + 1 - 2h + h(h-1)/T)/T}` and Student-t(:math:`T-1`)
    p-values; otherwise normal ones. Rows where either loss is NaN are dropped.
    """
    a = np.asarray(loss_a, dtype=np.float64)
    b = np.asarray(loss_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise DataError("loss series must be 1-D and aligned", expected=str(a.shape), got=b.shape)
    if h < 1:
        raise ConfigError(f"h must be >= 1, actually: {h}")
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    n = d.size
    if n < 10:
        raise DataError("too few loss pairs for a DM test", expected=">= 10", got=n)
    L = max(h - 1, int(4.0 * (n / 100.0) ** (2.0 / 9.0))) if lags is None else lags
    omega = newey_west_variance(d, L)
    if omega <= 0:
        stat = 0.0 if d.mean() == 0 else float(np.sign(d.mean()) * np.inf)
    else:
        stat = float(d.mean() / np.sqrt(omega / n))
    if small_sample:
        stat *= float(np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n))
        cdf = float(stats.t.cdf(stat, df=n - 1))
    else:
        cdf = float(stats.norm.cdf(stat))
    return DMResult(
        stat=stat,
        p_value=float(2.0 * min(cdf, 1.0 - cdf)),
        p_less=cdf,
        mean_diff=float(d.mean()),
        n=n,
        lags=L,
    )


def loss_table(
    target: np.ndarray, forecasts: Mapping[str, np.ndarray], loss: str = "qlike"
) -> dict[str, list[float]]:
    """Mean loss of each model per column (horizon) over the rows every model forecasts.

    ``target`` and each forecast are ``(n, H)``; a row counts in column ``j`` when the
    target and all forecasts are finite there, so every model is scored on the same days.
    """
    fn = {"qlike": qlike, "mse": mse}.get(loss)
    if fn is None:
        raise ConfigError(f"loss must be 'qlike' or 'mse', actually: {loss!r}")
    y = np.asarray(target, dtype=np.float64)
    ok = np.isfinite(y)
    for f in forecasts.values():
        ok &= np.isfinite(f)
    return {
        name: [float(np.mean(fn(y[ok[:, j], j], f[ok[:, j], j]))) for j in range(y.shape[1])]
        for name, f in forecasts.items()
    }


def compare_forecasts(
    target: np.ndarray,
    forecasts: Mapping[str, np.ndarray],
    horizons: tuple[int, ...],
    standard: tuple[str, ...],
    candidates: tuple[str, ...],
) -> dict[str, object]:
    """QLIKE and MSE tables, and per horizon the best candidate against the best standard.

    For each horizon ``h`` the best (lowest mean QLIKE) of ``standard`` and of
    ``candidates`` are compared: their ratio, and a Diebold-Mariano test on the QLIKE
    series (``h``-step, Newey-West). Only models present in ``forecasts`` take part.
    """
    std = [m for m in standard if m in forecasts]
    cand = [m for m in candidates if m in forecasts]
    q = loss_table(target, forecasts, "qlike")
    table: dict[str, object] = {"qlike": q, "mse": loss_table(target, forecasts, "mse")}
    per_h: list[dict[str, object]] = []
    y = np.asarray(target, dtype=np.float64)
    for j, h in enumerate(horizons):
        if not std or not cand:
            break
        bs = min(std, key=lambda m: q[m][j])
        bc = min(cand, key=lambda m: q[m][j])
        ok = (
            np.isfinite(y[:, j])
            & np.isfinite(forecasts[bs][:, j])
            & np.isfinite(forecasts[bc][:, j])
        )
        dm = diebold_mariano(
            qlike(y[ok, j], forecasts[bc][ok, j]), qlike(y[ok, j], forecasts[bs][ok, j]), h
        )
        per_h.append(
            {
                "h": h,
                "best_standard": bs,
                "best_standard_qlike": q[bs][j],
                "best_candidate": bc,
                "best_candidate_qlike": q[bc][j],
                "ratio": q[bc][j] / q[bs][j],
                "dm_stat": dm.stat,
                "dm_p_two_sided": dm.p_value,
                "dm_p_candidate_better": dm.p_less,
                "n": dm.n,
            }
        )
    table["comparison"] = per_h
    return table
