r"""Volatility forecasts: GARCH family through ``arch``, HAR-RV, boosting, and combinations.

Every forecast made at the close of day :math:`t` for horizon :math:`h` is a forecast of
the **sum** of the next :math:`h` daily variances, :math:`\sum_{j=1}^{h}\sigma^2_{t+j}`,
scored against the same sum of the daily proxy (:mod:`tradelearn.risk.realized`).
Returns are in percent, variances in percent squared.

Models (names as in :data:`MODELS`):

``garch_t``, ``gjr_t``, ``egarch_t``
    GARCH(1,1) (Bollerslev, 1986), GJR-GARCH(1,1,1) (Glosten, Jagannathan and Runkle,
    1993) and EGARCH(1,1,1) (Nelson, 1991) with Student-t innovations and a constant
    mean, fitted by ``arch``. Multi-step variances are analytic, except EGARCH's
    (simulated by resampling standardized residuals, ``simulations`` paths). They forecast close-to-close variance.
``*_scaled``
    The same forecast times :math:`\bar{p}/\overline{r^2}` over the fit window, which
    maps close-to-close variance onto the proxy's scale (the Garman-Klass proxy leaves
    out the overnight move).
``har``
    HAR-RV (Corsi, 2009), ordinary least squares in levels, one direct regression per
    horizon: :math:`y^{(h)}_t = b_0 + b_d RV_t + b_w RV^{(5)}_t + b_m RV^{(22)}_t`,
    with the insanity filter of Swanson and White (1997): a forecast below the smallest
    training target (a level regression can go negative) is replaced by the training mean.
``gbm``
    LightGBM on scale-free HAR features: the target is
    :math:`\ln(y^{(h)}_t / (h RV^{(22)}_t))`, the features are log ratios of the daily,
    weekly and quarterly proxy means and of the GJR forecast to the monthly one, and
    negative returns over :math:`\sqrt{RV^{(22)}}`. Trees cannot extrapolate, so
    modelling ratios rather than levels lets the forecast follow 2008.
``har_lg``
    Log-HAR with leverage and a GJR input: OLS of :math:`\ln y^{(h)}_t` on
    :math:`\ln RV, \ln RV^{(5)}, \ln RV^{(22)}`, the negative returns
    :math:`r^-_t, \bar r^{-(5)}_t, \bar r^{-(22)}_t` divided by :math:`\sqrt{RV^{(22)}_t}`
    (leverage, as in Corsi and Reno, 2012) and :math:`\ln` of the GJR-t forecast,
    mapped back with Duan's (1983) smearing factor :math:`\overline{e^{\hat u}}` so it forecasts the mean.
``tl_combo``
    Equal-weight mean of ``har_lg``, ``gbm`` and ``gjr_t_scaled``.

Refits: every model is re-estimated every ``refit_every`` days (default 22, one trading
month) on the last ``window`` days; between refits GARCH variances are filtered daily
with the fixed parameters and the regressions are evaluated on each day's features, so
every forecast uses only data up to its origin.

References
----------
Corsi, F. (2009). A simple approximate long-memory model of realized volatility.
*Journal of Financial Econometrics* 7(2), 174-196.
Corsi, F., and Reno, R. (2012). Discrete-time volatility forecasting with persistent
leverage effect and the link with continuous-time volatility modeling. *Journal of
Business & Economic Statistics* 30(3), 368-380.
Duan, N. (1983). Smearing estimate: a nonparametric retransformation method. *JASA* 78.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
from arch import arch_model
from arch.univariate.base import ARCHModelResult

from tradelearn.errors import ConfigError, DataError
from tradelearn.risk.realized import VolData

__all__ = [
    "MODELS",
    "STANDARD_MODELS",
    "TRADELEARN_MODELS",
    "ForecastSet",
    "GarchFit",
    "GarchPath",
    "fit_garch",
    "fit_har",
    "har_features",
    "rolling_forecasts",
    "rolling_garch",
    "target_sums",
]

Dist = Literal["normal", "t", "skewt", "ged"]
"""Innovation distributions accepted (``arch`` names)."""
_SPECS: dict[str, dict[str, Any]] = {
    "garch": {"vol": "GARCH", "p": 1, "o": 0, "q": 1},
    "gjr": {"vol": "GARCH", "p": 1, "o": 1, "q": 1},
    "egarch": {"vol": "EGARCH", "p": 1, "o": 1, "q": 1},
}
STANDARD_MODELS = ("har", "garch_t", "gjr_t", "garch_t_scaled", "gjr_t_scaled")
"""The baselines of the goal: HAR, GARCH-t and GJR-t (raw and rescaled to the proxy)."""
TRADELEARN_MODELS = ("har_lg", "gbm", "tl_combo")
MODELS = (*STANDARD_MODELS, "egarch_t", "egarch_t_scaled", *TRADELEARN_MODELS)
_GBM_PARAMS = {
    "objective": "regression",
    "learning_rate": 0.03,
    "num_leaves": 4,
    "min_data_in_leaf": 80,
    "bagging_fraction": 0.7,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "num_threads": 1,
    "deterministic": True,
    "verbose": -1,
}
_GBM_ROUNDS = 200


# --------------------------------------------------------------------------- GARCH


@dataclass(frozen=True)
class GarchFit:
    """Parameters of one ``arch`` fit (``omega, alpha[1], ... , nu`` as arch names them)."""

    kind: str
    params: dict[str, float]
    converged: bool
    loglik: float

    @property
    def nu(self) -> float:
        """Student-t degrees of freedom (``inf`` for normal innovations)."""
        return self.params.get("nu", float("inf"))


def _model(y: np.ndarray, kind: str, dist: Dist) -> Any:
    if kind not in _SPECS:
        raise ConfigError(f"kind must be one of {sorted(_SPECS)}, actually: {kind!r}")
    return arch_model(y, mean="Constant", dist=dist, **_SPECS[kind])


def fit_garch(
    returns: np.ndarray,
    kind: str = "gjr",
    dist: Dist = "t",
    *,
    last_obs: int | None = None,
    starting: np.ndarray | None = None,
) -> tuple[GarchFit, ARCHModelResult]:
    """Fit a GARCH-family model with ``arch`` on percent returns.

    Returns should be in percent (x100): at that scale the optimiser converges
    (``arch`` warns about data scale otherwise). Warnings raised by the optimiser are
    caught here, not globally: a fit that does not converge, or ends at an implausible
    point, is retried from ``starting`` (when given), and the result says whether it
    converged.

    Parameters
    ----------
    returns
        Percent returns; the model sees all of them (for later filtering) but fits
        only ``returns[:last_obs]``.
    kind
        ``"garch"``, ``"gjr"`` or ``"egarch"``.
    dist
        ``arch`` distribution name, ``"t"`` (default), ``"skewt"`` or ``"normal"``.
    """
    y = np.asarray(returns, dtype=np.float64)
    if not np.all(np.isfinite(y[:last_obs])):
        raise DataError("returns contain NaN or inf", field="returns", expected="finite")
    model = _model(y, kind, dist)
    res = None
    ok = False
    # arch's own starting values first: a warm start from the previous window's
    # parameters can stall where the likelihood is flat in nu (nu -> 260, a normal)
    for start in [None] + ([starting] if starting is not None else []):
        with warnings.catch_warnings(record=True):
            # arch's ConvergenceWarning and scipy's bound notes are recorded, not raised:
            # the convergence flag and the plausibility check below are what count
            warnings.simplefilter("always")
            res = model.fit(disp="off", last_obs=last_obs, starting_values=start)
        ok = res.convergence_flag == 0 and _plausible(kind, res, y[:last_obs])
        if ok:
            break
    assert res is not None
    params = {str(k): float(v) for k, v in res.params.items()}
    return GarchFit(kind, params, bool(ok), float(res.loglikelihood)), res


def _plausible(kind: str, res: Any, y: np.ndarray) -> bool:
    """Reject optimiser end points that are not a sensible model.

    ``arch`` bounds GARCH and GJR so they are stationary, but not EGARCH, whose
    optimiser can stop with a zero exit flag at absurd values (alpha in the hundreds, or
    a negative size effect that lets the filtered variance collapse towards zero).
    """
    params = res.params.to_numpy()
    if not np.all(np.isfinite(params)):
        return False
    if kind == "egarch":
        _, _, alpha, gamma, beta = params[:5]
        if not (abs(beta) < 1.0 and 0.0 <= alpha < 2.0 and abs(gamma) < 2.0):
            return False
    var = np.asarray(res.conditional_volatility, dtype=np.float64)[: len(y)] ** 2
    var = var[np.isfinite(var)]
    # the filtered variance should stay within a few orders of magnitude of the sample's
    return var.size > 0 and var.min() / np.var(y) > 1e-3 and var.max() / np.var(y) < 1e3


@dataclass(frozen=True, eq=False)
class GarchPath:
    """Rolling GARCH forecasts over a series.

    Attributes
    ----------
    origins
        Indices :math:`t` of the forecast origins (close of day :math:`t`).
    mean, var1
        One-step mean and variance forecasts for day :math:`t+1`.
    cumvar
        ``(n, H)`` sums of the variance forecasts over ``horizons``.
    scale
        Proxy-to-squared-return ratio of each origin's fit window.
    block
        Index of the refit each origin used (into ``fits``, ``std_resid``).
    fits, std_resid
        Per refit: the fit and its in-sample standardized residuals.
    window_cumvar
        Per refit (when kept): ``(window + block, H)`` cumulative forecasts from every
        origin of the window and block, in-sample first (inputs to ``har_lg``).
    """

    kind: str
    origins: np.ndarray
    horizons: tuple[int, ...]
    mean: np.ndarray
    var1: np.ndarray
    cumvar: np.ndarray
    scale: np.ndarray
    block: np.ndarray
    fits: list[GarchFit]
    std_resid: list[np.ndarray]
    window_cumvar: list[np.ndarray] = field(default_factory=list)

    @property
    def failures(self) -> int:
        """Refits whose optimiser did not converge (their previous parameters were kept)."""
        return sum(not f.converged for f in self.fits)


def rolling_garch(
    returns: np.ndarray,
    origins: np.ndarray,
    *,
    kind: str = "gjr",
    dist: Dist = "t",
    window: int = 1000,
    refit_every: int = 22,
    horizons: Sequence[int] = (1, 5, 22),
    proxy: np.ndarray | None = None,
    keep_window: bool = False,
    simulations: int = 500,
    seed: int = 0,
    on_block: Callable[[], None] | None = None,
) -> GarchPath:
    """Refit every ``refit_every`` origins on the last ``window`` returns; filter daily.

    For the refit at origin :math:`t_0` the model is fitted on
    ``returns[t0 + 1 - window : t0 + 1]``; the origins up to the next refit are forecast
    with those parameters, filtering the returns that arrive in between. A refit that
    does not converge keeps the previous parameters.
    """
    r = np.asarray(returns, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    hs = tuple(int(h) for h in horizons)
    _check_origins(origins, window, len(r))
    n, hmax = len(origins), max(hs)
    cols = [h - 1 for h in hs]
    out = {k: np.full(n, np.nan) for k in ("mean", "var1", "scale")}
    cumvar = np.full((n, len(hs)), np.nan)
    block = np.zeros(n, dtype=np.int64)
    fits: list[GarchFit] = []
    resid: list[np.ndarray] = []
    wcum: list[np.ndarray] = []
    rng = np.random.default_rng(seed)
    prev: GarchFit | None = None
    for b, p0 in enumerate(range(0, n, refit_every)):
        p1 = min(p0 + refit_every, n)
        lo, hi = int(origins[p0]) + 1 - window, int(origins[p1 - 1]) + 1
        y = r[lo:hi]
        start = None if prev is None else np.array(list(prev.params.values()))
        fit, res = fit_garch(y, kind, dist, last_obs=window, starting=start)
        if not fit.converged and prev is not None:
            res = _model(y, kind, dist).fix(start)
            fit = GarchFit(kind, prev.params, False, fit.loglik)
        prev = fit if fit.converged else (prev or fit)
        f0 = 0 if keep_window else window - 1
        fc = _forecast(res, kind, f0, hmax, simulations, rng)
        var = np.cumsum(fc.variance.to_numpy(), axis=1)
        sel = slice(window - 1 - f0, window - 1 - f0 + (p1 - p0))
        cumvar[p0:p1] = var[sel][:, cols]
        out["var1"][p0:p1] = var[sel, 0]
        out["mean"][p0:p1] = fc.mean.to_numpy()[sel, 0]
        if proxy is not None:
            out["scale"][p0:p1] = np.mean(proxy[lo : lo + window]) / np.mean(y[:window] ** 2)
        if keep_window:
            wcum.append(var[:, cols])
        block[p0:p1] = b
        fits.append(fit)
        resid.append(np.asarray(res.std_resid, dtype=np.float64)[:window])
        if on_block is not None:
            on_block()
    return GarchPath(
        kind, origins, hs, out["mean"], out["var1"], cumvar, out["scale"], block, fits, resid, wcum
    )


def _forecast(
    res: Any, kind: str, start: int, hmax: int, sims: int, rng: np.random.Generator
) -> Any:
    if kind != "egarch" or hmax == 1:
        return res.forecast(horizon=hmax, start=start, reindex=False)
    # EGARCH has no closed-form multi-step variance; simulate by resampling the fit's
    # standardized residuals (Student-t draws can overflow exp() on a long path)
    state = np.random.RandomState(int(rng.integers(2**31 - 1)))
    return res.forecast(
        horizon=hmax,
        start=start,
        reindex=False,
        method="bootstrap",
        simulations=sims,
        random_state=state,
    )


def _check_origins(origins: np.ndarray, window: int, n: int) -> None:
    if origins.size == 0:
        raise ConfigError("no forecast origins: the start date is after the last day")
    if origins[0] + 1 - window < 0:
        raise ConfigError(
            f"the first origin needs {window} earlier days, actually: {int(origins[0]) + 1}"
        )
    if origins[-1] >= n or np.any(np.diff(origins) != 1):
        raise ConfigError("origins must be consecutive indices inside the series")


# --------------------------------------------------------------------------- HAR


def _mean_back(x: np.ndarray, w: int) -> np.ndarray:
    """Trailing mean of ``x[t-w+1 .. t]`` (NaN for the first ``w - 1`` days)."""
    c = np.concatenate([[0.0], np.cumsum(x)])
    out = np.full(len(x), np.nan)
    out[w - 1 :] = (c[w:] - c[:-w]) / w
    return out


def har_features(proxy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corsi's daily, weekly (5-day) and monthly (22-day) trailing means of the proxy."""
    p = np.asarray(proxy, dtype=np.float64)
    return p, _mean_back(p, 5), _mean_back(p, 22)


def target_sums(proxy: np.ndarray, h: int) -> np.ndarray:
    """``y[t] = proxy[t+1] + ... + proxy[t+h]`` (NaN where the sample ends first)."""
    p = np.asarray(proxy, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(p)])
    y = np.full(len(p), np.nan)
    y[: len(p) - h] = c[h + 1 :] - c[1 : len(p) - h + 1]
    return y


def fit_har(d: np.ndarray, w: np.ndarray, m: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS coefficients ``(b0, b_d, b_w, b_m)`` of Corsi's HAR on the rows with no NaN."""
    X = np.column_stack([np.ones(len(d)), d, w, m])
    ok = np.all(np.isfinite(X), axis=1) & np.isfinite(y)
    if ok.sum() < X.shape[1] + 1:
        raise DataError(
            "too few rows to fit HAR", field="proxy", expected=">= 5", got=int(ok.sum())
        )
    beta: np.ndarray = np.linalg.lstsq(X[ok], y[ok], rcond=None)[0]
    return beta


def _fit_log_linear(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """OLS on ``log y`` and Duan's smearing factor (so ``exp(X b) * s`` targets the mean)."""
    ly = np.log(y)
    b = np.linalg.lstsq(X, ly, rcond=None)[0]
    return b, float(np.mean(np.exp(ly - X @ b)))


# --------------------------------------------------------------------------- forecaster


@dataclass(frozen=True, eq=False)
class ForecastSet:
    """Out-of-sample forecasts and targets (``(n, H)`` arrays, NaN where unknown)."""

    symbol: str
    dates: np.ndarray
    origins: np.ndarray
    horizons: tuple[int, ...]
    target: np.ndarray
    forecasts: dict[str, np.ndarray]
    window: int
    refit_every: int
    garch_failures: dict[str, int]


class _Features:
    """Regressors of ``har_lg`` and ``gbm`` for every day of a series."""

    def __init__(self, data: VolData) -> None:
        p, r = data.proxy, data.returns
        self.d, self.w, self.m = har_features(p)
        self.q = _mean_back(p, 66)
        rn = np.minimum(r, 0.0)
        self.rn, self.rnw, self.rnm = rn, _mean_back(rn, 5), _mean_back(rn, 22)

    def loghar(self, i: np.ndarray, g: np.ndarray) -> np.ndarray:
        sd = np.sqrt(self.m[i])
        cols = [np.log(self.d[i]), np.log(self.w[i]), np.log(self.m[i])]
        # negative returns in units of the monthly volatility: in a log model a raw
        # return extrapolates exponentially (October 2008 gave 16% daily-vol forecasts)
        cols += [self.rn[i] / sd, self.rnw[i] / sd, self.rnm[i] / sd, np.log(g)]
        return np.column_stack([np.ones(len(i)), *cols])

    def relative(self, i: np.ndarray, g: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
        lm = np.log(self.m[i])
        sd = np.sqrt(self.m[i])
        X = np.column_stack(
            [
                np.log(self.d[i]) - lm,
                np.log(self.w[i]) - lm,
                np.log(self.q[i]) - lm,
                self.rn[i] / sd,
                self.rnw[i] / sd,
                np.log(g) - lm - np.log(h),
            ]
        )
        return X, lm + np.log(h)


def rolling_forecasts(
    data: VolData,
    *,
    start: str = "2004-01-01",
    window: int = 1000,
    refit_every: int = 22,
    horizons: Sequence[int] = (1, 5, 22),
    models: Sequence[str] = MODELS,
    seed: int = 0,
    on_step: Callable[[], None] | None = None,
) -> ForecastSet:
    """Out-of-sample forecasts of every model in ``models`` from ``start`` on.

    The first origin is the day before ``start`` (so the first forecast day is on or after
    ``start``); the first refit needs ``window`` days before it, plus 66 for features.
    ``on_step`` is called once per refit of each GARCH kind (for progress bars).
    """
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ConfigError(f"unknown models {unknown}; known: {list(MODELS)}")
    if window < 100 or refit_every < 1:
        raise ConfigError(
            f"need window >= 100 and refit_every >= 1, actually: {window}, {refit_every}"
        )
    hs = tuple(int(h) for h in horizons)
    first = max(data.index_of(start) - 1, window + 65)
    # the last origin is the last day: its forecast is for days not yet seen (no target)
    origins = np.arange(first, len(data))
    targets = np.column_stack([target_sums(data.proxy, h)[origins] for h in hs])
    need = set(models)
    if need & {"har_lg", "gbm", "tl_combo", "gjr_t", "gjr_t_scaled"}:
        need.add("gjr_t")
    paths: dict[str, GarchPath] = {}
    for kind in ("garch", "gjr", "egarch"):
        if {f"{kind}_t", f"{kind}_t_scaled"} & need:
            paths[kind] = rolling_garch(
                data.returns, origins, kind=kind, window=window, refit_every=refit_every,
                horizons=hs, proxy=data.proxy, keep_window=kind == "gjr", seed=seed,
                on_block=on_step,
            )  # fmt: skip
    fc: dict[str, np.ndarray] = {}
    for kind, path in paths.items():
        fc[f"{kind}_t"] = path.cumvar
        fc[f"{kind}_t_scaled"] = path.cumvar * path.scale[:, None]
    if {"har", "har_lg", "gbm", "tl_combo"} & need:
        fc.update(_regressions(data, origins, hs, window, refit_every, paths.get("gjr"), seed))
    if "tl_combo" in need:
        fc["tl_combo"] = (fc["har_lg"] + fc["gbm"] + fc["gjr_t_scaled"]) / 3.0
    return ForecastSet(
        symbol=data.symbol,
        dates=data.dates[origins],
        origins=origins,
        horizons=hs,
        target=targets,
        forecasts={m: fc[m] for m in MODELS if m in models},
        window=window,
        refit_every=refit_every,
        garch_failures={k: p.failures for k, p in paths.items()},
    )


def _regressions(
    data: VolData,
    origins: np.ndarray,
    hs: tuple[int, ...],
    window: int,
    refit_every: int,
    gjr: GarchPath | None,
    seed: int,
) -> dict[str, np.ndarray]:
    """HAR, log-HAR-LG and boosting, refitted on the same schedule as the GARCH models."""
    feats = _Features(data)
    n = len(origins)
    out = {k: np.full((n, len(hs)), np.nan) for k in ("har", "har_lg", "gbm")}
    for j, h in enumerate(hs):
        y_all = target_sums(data.proxy, h)
        for b, p0 in enumerate(range(0, n, refit_every)):
            p1 = min(p0 + refit_every, n)
            t0 = int(origins[p0])
            lo = t0 + 1 - window
            train = np.arange(max(lo, 65), t0 - h + 1)  # targets known at the origin
            test = origins[p0:p1]
            y = y_all[train]
            beta = fit_har(feats.d[train], feats.w[train], feats.m[train], y)
            Xo = np.column_stack([np.ones(len(test)), feats.d[test], feats.w[test], feats.m[test]])
            har = Xo @ beta
            # insanity filter: a forecast below every training target is replaced by their mean
            out["har"][p0:p1, j] = np.where(har < y.min(), y.mean(), har)
            if gjr is None:
                continue
            g = gjr.window_cumvar[b][:, j]
            g_train, g_test = g[train - lo], g[test - lo]
            b_lg, smear = _fit_log_linear(feats.loghar(train, g_train), y)
            out["har_lg"][p0:p1, j] = np.exp(feats.loghar(test, g_test) @ b_lg) * smear
            X, base = feats.relative(train, g_train, h)
            Xt, base_t = feats.relative(test, g_test, h)
            params = {**_GBM_PARAMS, "seed": seed + b}
            booster = lgb.train(params, lgb.Dataset(X, np.log(y) - base), _GBM_ROUNDS)
            resid = np.log(y) - base - booster.predict(X)
            smear = float(np.mean(np.exp(resid)))
            out["gbm"][p0:p1, j] = np.exp(base_t + booster.predict(Xt)) * smear
    return out
