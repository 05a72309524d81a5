r"""Walk-forward adaptation: a static forecaster against refit-on-drift and regime-aware ones.

Target: the next day's log Garman-Klass variance :math:`y_{t+1} = \ln GK_{t+1}` (percent
squared), forecast at the close of day :math:`t` by a log-HAR regression

.. math:: \hat y_{t+1} = x_t^\top \beta, \quad
          x_t = (1,\ \ln GK_t,\ \ln \overline{GK}_{t-4..t},\ \ln \overline{GK}_{t-21..t},\
          \min(r_t, 0)),

turned into a variance forecast :math:`\hat\sigma^2_{t+1} = e^{\hat y_{t+1}} \cdot
\overline{e^{\hat u}}` (Duan's smearing factor from the fit residuals) and scored by
QLIKE against :math:`GK_{t+1}` (and by squared error on the log scale).

Strategies, all out of sample and causal (a forecast at :math:`t` uses rows whose
targets are known by the close of :math:`t`):

``static``
    fitted once on every row before ``start``, never refitted.
``periodic``
    refitted every ``refit_every`` days on the last ``window`` rows (a calendar baseline).
``drift``
    refitted on the last ``window`` rows when a drift detector (Page-Hinkley or ADWIN) on
    its standardised errors :math:`z = (y - \hat y)/s` (or :math:`|z|`, see ``monitor``)
    alarms, at most once per ``min_gap`` days.
``regime``
    regime-aware: the regressors interacted with the filtered regime probabilities,
    :math:`\hat y = \sum_k p_{t,k}\, x_t^\top \beta_k`, regime model and
    :math:`\beta_k` fitted once before ``start``.
``regime_drift``
    the regime-aware model, whose regime model (aligned to the previous one) and
    :math:`\beta_k` are refitted when its own drift detector alarms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tradelearn.errors import ConfigError, DataError
from tradelearn.regime.drift import ADWIN, DETECTORS, PageHinkley, make_detector
from tradelearn.regime.features import daily_features, rolling_mean
from tradelearn.regime.models import MODEL_KINDS, RegimeModel
from tradelearn.risk.losses import diebold_mariano, qlike
from tradelearn.risk.realized import VolData

__all__ = [
    "MONITORS",
    "STRATEGIES",
    "AdaptConfig",
    "AdaptResult",
    "block_bootstrap_ci",
    "compare_strategies",
    "har_design",
    "walk_forward",
]

STRATEGIES: tuple[str, ...] = ("static", "periodic", "drift", "regime", "regime_drift")
MONITORS: tuple[str, ...] = ("error", "abs_error")
_MEAN_ABS_NORMAL = float(np.sqrt(2.0 / np.pi))


@dataclass(frozen=True, kw_only=True)
class AdaptConfig:
    """Settings of :func:`walk_forward` (frozen, keyword-only)."""

    start: str = "2004-01-01"
    """first target day out of sample (ISO date); every earlier row is training data"""
    window: int = 1000
    """rows in each refit (the most recent ones)"""
    refit_every: int = 22
    """days between refits of the ``periodic`` strategy"""
    detector: str = "ph"
    """drift detector: ``ph`` (Page-Hinkley) or ``adwin``"""
    ph_delta: float = 0.05
    """Page-Hinkley tolerance per day, in error standard deviations"""
    ph_threshold: float = 25.0
    """Page-Hinkley alarm level, in error standard deviations"""
    adwin_delta: float = 0.002
    """ADWIN confidence"""
    min_gap: int = 22
    """fewest days between two drift refits"""
    monitor: str = "abs_error"
    """what the detector watches: ``error`` (standardised error: bias) or ``abs_error``
    (its absolute value less its no-drift mean: any rise in loss)"""
    regime_kind: str = "hmm"
    """regime model: ``gmm`` or ``hmm``"""
    n_states: int = 2
    """regimes"""
    seed: int = 0
    """seed of the regime model"""
    n_init: int = 3
    """regime model restarts"""
    vol_window: int = 21
    """days behind the regime volatility feature"""
    trend_window: int = 63
    """days behind the regime trend feature"""
    ridge: float = 1e-6
    """ridge penalty of the regressions (keeps the regime interactions well posed)"""

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ConfigError(f"detector must be one of {DETECTORS}, actually: {self.detector!r}")
        if self.monitor not in MONITORS:
            raise ConfigError(f"monitor must be one of {MONITORS}, actually: {self.monitor!r}")
        if self.regime_kind not in MODEL_KINDS:
            raise ConfigError(
                f"regime_kind must be one of {MODEL_KINDS}, actually: {self.regime_kind!r}"
            )
        for name in ("window", "refit_every", "min_gap", "n_states", "n_init"):
            v = getattr(self, name)
            lo = 2 if name == "n_states" else (50 if name == "window" else 1)
            if not isinstance(v, int) or v < lo:
                raise ConfigError(f"{name} must be an integer >= {lo}, actually: {v!r}")
        try:
            dt.date.fromisoformat(self.start)
        except ValueError as exc:
            raise ConfigError(f"start must be an ISO date, actually: {self.start!r}") from exc

    def detector_instance(self) -> PageHinkley | ADWIN:
        """A fresh detector as configured."""
        if self.detector == "ph":
            return make_detector("ph", delta=self.ph_delta, threshold=self.ph_threshold)
        return make_detector("adwin", delta=self.adwin_delta)


def har_design(data: VolData) -> tuple[np.ndarray, np.ndarray]:
    """Log-HAR regressors ``X`` ``(n, 5)`` at each origin and the next day's log proxy.

    Row ``t`` of ``X`` uses days up to ``t``; ``y[t] = ln proxy[t + 1]`` (NaN for the
    last day and for origins without 22 days of history).
    """
    lp = data.proxy
    d = np.log(lp)
    w = np.log(rolling_mean(lp, 5))
    m = np.log(rolling_mean(lp, 22))
    X = np.column_stack([np.ones_like(d), d, w, m, np.minimum(data.returns, 0.0)])
    y = np.append(d[1:], np.nan)
    return X, y


@dataclass(frozen=True)
class _Fit:
    coef: np.ndarray
    sd: float
    smear: float


def _fit_ols(X: np.ndarray, y: np.ndarray, ridge: float) -> _Fit:
    xtx = X.T @ X + ridge * X.shape[0] * np.eye(X.shape[1])
    coef = np.linalg.solve(xtx, X.T @ y)
    resid = y - X @ coef
    return _Fit(coef, float(max(resid.std(), 1e-8)), float(np.mean(np.exp(resid))))


def _interact(X: np.ndarray, p: np.ndarray) -> np.ndarray:
    out: np.ndarray = (p[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)
    return out


@dataclass(frozen=True, eq=False)
class AdaptResult:
    """Out-of-sample forecasts of every strategy, aligned on target days.

    ``variance[name]`` is the variance forecast (percent squared) for ``dates``,
    ``log_forecast[name]`` the log forecast, ``refits[name]`` the target days after
    which a refit took effect; ``regime_proba`` the filtered regime probabilities of
    the ``regime_drift`` model at each origin.
    """

    symbol: str
    dates: np.ndarray
    proxy: np.ndarray
    variance: dict[str, np.ndarray]
    log_forecast: dict[str, np.ndarray]
    refits: dict[str, list[str]]
    regime_proba: np.ndarray
    config: AdaptConfig = field(default_factory=AdaptConfig)


def walk_forward(
    data: VolData, config: AdaptConfig | None = None, on_step: Callable[[], None] | None = None
) -> AdaptResult:
    """Run the five strategies day by day from ``config.start`` to the end of the series.

    Raises
    ------
    DataError
        Fewer than ``window`` training rows before ``start``, or nothing after it.
    """
    cfg = config or AdaptConfig()
    X, y = har_design(data)
    feats = daily_features(data, vol_window=cfg.vol_window, trend_window=cfg.trend_window)
    first = int(max(feats.source_index[0], 21))  # first origin with every input
    o_start = data.index_of(cfg.start) - 1  # origin of the first out-of-sample target
    n_origins = len(data) - 1
    if o_start - first < cfg.window or o_start >= n_origins:
        raise DataError(
            "too few training rows before start, or no target after it",
            field="start",
            expected=f">= {cfg.window} rows from {data.dates[first]} and a day after",
            got=f"{max(o_start - first, 0)} rows before {cfg.start}",
        )
    fx = np.full((len(data), feats.values.shape[1]), np.nan)
    fx[feats.source_index] = feats.values

    def fit_regime(hi: int, lo: int, prev: RegimeModel | None) -> tuple[RegimeModel, np.ndarray]:
        m = RegimeModel(cfg.regime_kind, cfg.n_states, seed=cfg.seed, n_init=cfg.n_init)
        m.fit(fx[lo:hi])
        if prev is not None:
            m.align(prev)
        proba = np.full((len(data), cfg.n_states), np.nan)
        proba[first:] = m.predict_proba(fx[first:], causal=True)
        return m, proba

    train = slice(first, o_start)
    fits = {s: _fit_ols(X[train], y[train], cfg.ridge) for s in ("static", "periodic", "drift")}
    rm, proba = fit_regime(o_start + 1, first, None)
    static_regime = proba
    for s in ("regime", "regime_drift"):
        fits[s] = _fit_ols(_interact(X[train], proba[train]), y[train], cfg.ridge)
    detectors = {s: cfg.detector_instance() for s in ("drift", "regime_drift")}
    last_refit = {s: o_start for s in detectors}
    refits: dict[str, list[str]] = {s: [] for s in STRATEGIES}
    origins = np.arange(o_start, n_origins)
    logf = {s: np.empty(origins.size) for s in STRATEGIES}
    smear = {s: np.empty(origins.size) for s in STRATEGIES}
    rp = np.empty((origins.size, cfg.n_states))

    for i, t_ in enumerate(origins):
        t = int(t_)
        xs = {
            "static": X[t],
            "periodic": X[t],
            "drift": X[t],
            "regime": _interact(X[t : t + 1], static_regime[t : t + 1])[0],
            "regime_drift": _interact(X[t : t + 1], proba[t : t + 1])[0],
        }
        rp[i] = proba[t]
        for s in STRATEGIES:
            logf[s][i] = float(xs[s] @ fits[s].coef)
            smear[s][i] = fits[s].smear
        # the close of t + 1: the target is known; rows with origins <= t may be used
        rows = slice(max(first, t + 1 - cfg.window), t + 1)
        when = str(data.dates[t + 1])
        if (i + 1) % cfg.refit_every == 0:
            fits["periodic"] = _fit_ols(X[rows], y[rows], cfg.ridge)
            refits["periodic"].append(when)
        for s, det in detectors.items():
            z = (y[t] - logf[s][i]) / fits[s].sd
            alarm = det.update(z if cfg.monitor == "error" else abs(z) - _MEAN_ABS_NORMAL)
            if not alarm or t - last_refit[s] < cfg.min_gap:
                continue
            if s == "drift":
                fits[s] = _fit_ols(X[rows], y[rows], cfg.ridge)
            else:
                rm, proba = fit_regime(t + 2, max(first, t + 2 - cfg.window), rm)
                fits[s] = _fit_ols(_interact(X[rows], proba[rows]), y[rows], cfg.ridge)
            det.reset()
            last_refit[s] = t
            refits[s].append(when)
        if on_step is not None:
            on_step()

    return AdaptResult(
        symbol=data.symbol,
        dates=data.dates[origins + 1],
        proxy=data.proxy[origins + 1],
        variance={s: np.exp(logf[s]) * smear[s] for s in STRATEGIES},
        log_forecast=logf,
        refits=refits,
        regime_proba=rp,
        config=cfg,
    )


def block_bootstrap_ci(
    d: np.ndarray, *, block: int = 22, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Circular moving-block bootstrap confidence interval of the mean of ``d``."""
    x = np.asarray(d, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n < 2 * block or block < 1:
        raise DataError("series too short for the block length", expected=f">= {2 * block}", got=n)
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // block)
    starts = rng.integers(0, n, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, -1)[:, :n] % n
    means = x[idx].mean(axis=1)
    a = (1.0 - level) / 2.0
    return float(np.quantile(means, a)), float(np.quantile(means, 1.0 - a))


def compare_strategies(
    result: AdaptResult,
    *,
    block: int = 22,
    n_boot: int = 2000,
    seed: int = 0,
    periods: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Mean QLIKE and log-MSE per strategy; each against ``static``: DM test and bootstrap CI.

    ``periods`` names sub-periods (ISO start, end inclusive) scored separately; the
    default is 2008-2009.
    """
    per = periods if periods is not None else {"2008-2009": ("2008-01-01", "2009-12-31")}
    y = result.proxy
    ql = {s: qlike(y, v) for s, v in result.variance.items()}
    se = {s: (np.log(y) - f) ** 2 for s, f in result.log_forecast.items()}
    rows: dict[str, dict[str, Any]] = {}
    for s in STRATEGIES:
        row: dict[str, Any] = {
            "qlike": float(ql[s].mean()),
            "mse_log": float(se[s].mean()),
            "refits": len(result.refits[s]),
        }
        for name, (a, b) in per.items():
            mask = (result.dates >= np.datetime64(a)) & (result.dates <= np.datetime64(b))
            row[f"qlike_{name}"] = float(ql[s][mask].mean()) if mask.any() else float("nan")
        if s != "static":
            d = ql[s] - ql["static"]
            dm = diebold_mariano(ql[s], ql["static"])
            lo, hi = block_bootstrap_ci(d, block=block, n_boot=n_boot, seed=seed)
            row.update(
                qlike_ratio_to_static=row["qlike"] / float(ql["static"].mean()),
                diff_vs_static=float(d.mean()),
                diff_ci95=[lo, hi],
                dm_stat=dm.stat,
                dm_p=dm.p_value,
            )
        rows[s] = row
    best = min(STRATEGIES, key=lambda s: rows[s]["qlike"])
    return {
        "symbol": result.symbol,
        "first_target": str(result.dates[0]),
        "last_target": str(result.dates[-1]),
        "n_forecasts": int(result.dates.size),
        "target": "next-day log Garman-Klass variance (percent squared); loss QLIKE",
        "config": asdict(result.config),
        "strategies": rows,
        "best": best,
    }
