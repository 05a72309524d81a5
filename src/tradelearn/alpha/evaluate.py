"""Scores for alpha signals: classification metrics, information coefficients, decile spreads.

* :func:`confusion_matrix` and :func:`macro_f1` for class predictions;
* :func:`daily_ic` (Pearson per day: IC, or Spearman per day: RankIC) and
  :func:`ic_summary` with the ICIR, the mean of the daily IC over its standard deviation
  (daily, not annualized, as qlib reports it);
* :func:`long_short`: the top-minus-bottom quantile portfolio (equal weights, long one
  unit, short one unit), rebalanced every ``hold`` days, charged ``cost_bp`` basis points
  on every unit of weight traded (turnover-based, each side).

Every function checks its inputs: arrays of one length, dates as ``datetime64``. Pairs
where the score or the target is not finite are left out (a label at the end of the panel,
a feature still warming up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError, DataError

__all__ = [
    "LongShort",
    "confusion_matrix",
    "daily_ic",
    "ic_summary",
    "long_short",
    "macro_f1",
    "model_scores",
    "score_from_proba",
    "signal_report",
]

TRADING_DAYS = 252


def _classes(
    y_true: NDArray[Any], y_pred: NDArray[Any], n_classes: int | None
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim != 1 or t.shape != p.shape:
        raise DataError(
            "y_true and y_pred must be 1-D of one length",
            field="y_pred",
            expected=f"shape {t.shape}",
            got=p.shape,
        )
    if t.size == 0:
        raise DataError("no predictions to score", field="y_true", expected="n >= 1", got=0)
    for name, a in (("y_true", t), ("y_pred", p)):
        if not np.issubdtype(a.dtype, np.integer) or a.min() < 0:
            raise DataError(
                "class labels must be integers >= 0", field=name, expected="0..k-1", got=a[:5]
            )
    k = int(max(t.max(), p.max())) + 1
    if n_classes is not None:
        if k > n_classes:
            raise DataError(
                "a label is out of range", field="y", expected=f"< {n_classes}", got=k - 1
            )
        k = n_classes
    return t.astype(np.int64), p.astype(np.int64), k


def confusion_matrix(
    y_true: NDArray[Any], y_pred: NDArray[Any], n_classes: int | None = None
) -> NDArray[np.int64]:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as ``j``."""
    t, p, k = _classes(y_true, y_pred, n_classes)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def macro_f1(y_true: NDArray[Any], y_pred: NDArray[Any], n_classes: int | None = None) -> float:
    """Unweighted mean of per-class F1 over the classes present in ``y_true`` or ``y_pred``."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    present = (support + predicted) > 0
    f1 = np.where(present, 2 * tp / np.maximum(support + predicted, 1), 0.0)
    return float(f1[present].mean())


def score_from_proba(proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """A real-valued signal from class probabilities: ``P(top class) - P(bottom class)``."""
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise DataError("probabilities must be (n, k>=2)", field="proba", got=p.shape)
    out: NDArray[np.float64] = p[:, -1] - p[:, 0]
    return out


def _aligned(
    scores: NDArray[Any], target: NDArray[Any], dates: NDArray[Any]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.datetime64]]:
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    d = np.asarray(dates)
    if s.ndim != 1 or s.shape != t.shape or s.shape != d.shape:
        raise DataError(
            "scores, target and dates must be 1-D of one length",
            field="target",
            expected=f"shape {s.shape}",
            got=f"target {t.shape}, dates {d.shape}",
        )
    if not np.issubdtype(d.dtype, np.datetime64):
        raise DataError("dates must be datetime64", field="dates", got=str(d.dtype))
    ok = np.isfinite(s) & np.isfinite(t)
    return s[ok], t[ok], d[ok]


def _groups(dates: NDArray[np.datetime64]) -> tuple[NDArray[np.datetime64], list[NDArray[Any]]]:
    order = np.argsort(dates, kind="stable")
    d = dates[order]
    if len(d) == 0:
        return d, []
    cuts = np.flatnonzero(d[1:] != d[:-1]) + 1
    starts = np.concatenate([[0], cuts]).astype(np.int64)
    return d[starts], np.split(order, cuts)


def _rank(x: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.stats import rankdata  # type: ignore[import-untyped, unused-ignore]

    return np.asarray(rankdata(x), dtype=np.float64)


def daily_ic(
    scores: NDArray[Any],
    target: NDArray[Any],
    dates: NDArray[Any],
    method: Literal["pearson", "spearman"] = "pearson",
    min_names: int = 5,
) -> tuple[NDArray[np.datetime64], NDArray[np.float64]]:
    """Cross-sectional correlation of ``scores`` with ``target`` on each day.

    Days with fewer than ``min_names`` finite pairs, or where either side is constant,
    are left out. Returns the days and their IC (``method="spearman"``: RankIC).
    """
    if method not in ("pearson", "spearman"):
        raise ConfigError(f"method must be 'pearson' or 'spearman', actually: {method!r}")
    if min_names < 3:
        raise ConfigError(f"min_names must be >= 3, actually: {min_names}")
    s, t, d = _aligned(scores, target, dates)
    days, groups = _groups(d)
    out_days, out_ic = [], []
    for day, g in zip(days, groups, strict=True):
        if len(g) < min_names:
            continue
        a, b = s[g], t[g]
        if method == "spearman":
            a, b = _rank(a), _rank(b)
        a, b = a - a.mean(), b - b.mean()
        den = np.sqrt((a * a).sum() * (b * b).sum())
        if den <= 0:
            continue
        out_days.append(day)
        out_ic.append(float((a * b).sum() / den))
    return np.asarray(out_days, dtype="datetime64[D]"), np.asarray(out_ic, dtype=np.float64)


def _ir(ic: NDArray[np.float64]) -> float:
    if len(ic) < 2:
        return float("nan")
    sd = float(ic.std(ddof=1))
    return float(ic.mean() / sd) if sd > 0 else float("nan")


def ic_summary(
    scores: NDArray[Any], target: NDArray[Any], dates: NDArray[Any], min_names: int = 5
) -> dict[str, float]:
    """IC, RankIC, their IRs (mean over standard deviation of the daily series) and t-stats."""
    _, ic = daily_ic(scores, target, dates, "pearson", min_names)
    _, ric = daily_ic(scores, target, dates, "spearman", min_names)
    if len(ic) == 0:
        raise DataError(
            "no day has enough finite (score, target) pairs for an IC",
            field="scores",
            expected=f">= {min_names} names on some day",
            got=0,
        )
    icir, ricir = _ir(ic), _ir(ric)
    return {
        "ic": float(ic.mean()),
        "rank_ic": float(ric.mean()) if len(ric) else float("nan"),
        "icir": icir,
        "rank_icir": ricir,
        "ic_t": icir * float(np.sqrt(len(ic))),
        "ic_positive_share": float((ic > 0).mean()),
        "n_days": len(ic),
    }


@dataclass(frozen=True)
class LongShort:
    """Daily series of the top-minus-bottom quantile portfolio."""

    days: NDArray[np.datetime64]
    gross: NDArray[np.float64]
    net: NDArray[np.float64]
    turnover: NDArray[np.float64]
    cost_bp: float

    def summary(self) -> dict[str, float]:
        """Means per day, annualized return and Sharpe ratio (252 days), after costs too."""
        n = len(self.days)
        sd = float(self.net.std(ddof=1)) if n > 1 else float("nan")
        return {
            "ls_gross_daily": float(self.gross.mean()),
            "ls_net_daily": float(self.net.mean()),
            "ls_net_annual": float(self.net.mean() * TRADING_DAYS),
            "ls_net_sharpe": float(self.net.mean() / sd * np.sqrt(TRADING_DAYS))
            if sd > 0
            else float("nan"),
            "ls_turnover_daily": float(self.turnover.mean()),
            "ls_net_total": float(np.sum(self.net)),
            "ls_days": n,
            "cost_bp_per_side": self.cost_bp,
        }


def long_short(
    scores: NDArray[Any],
    returns: NDArray[Any],
    dates: NDArray[Any],
    symbols: NDArray[Any],
    quantile: float = 0.1,
    cost_bp: float = 10.0,
    hold: int = 1,
) -> LongShort:
    """Top-minus-bottom ``quantile`` portfolio, rebalanced every ``hold`` days.

    ``returns[i]`` is what sample ``i``'s symbol earns over the one day after the
    decision on ``dates[i]``. On a rebalancing day the ``quantile`` highest scores get
    weight ``+1/n_long`` and the lowest ``-1/n_short``; weights are held until the next
    rebalance. The cost of a day is ``cost_bp / 1e4`` times the sum of absolute weight
    changes (so opening the book costs ``2 x cost_bp``).
    """
    if not 0 < quantile <= 0.5:
        raise ConfigError(f"quantile must be in (0, 0.5], actually: {quantile}")
    if cost_bp < 0:
        raise ConfigError(f"cost_bp must be >= 0, actually: {cost_bp}")
    if hold < 1:
        raise ConfigError(f"hold must be >= 1 day, actually: {hold}")
    sym = np.asarray(symbols)
    if sym.shape != np.shape(scores):
        raise DataError(
            "symbols must match scores",
            field="symbols",
            expected=str(np.shape(scores)),
            got=sym.shape,
        )
    s = np.asarray(scores, dtype=np.float64)
    r = np.asarray(returns, dtype=np.float64)
    _aligned(s, r, np.asarray(dates))  # shape and dtype checks
    days, groups = _groups(np.asarray(dates))
    _, codes = np.unique(sym, return_inverse=True)
    weights = np.zeros(int(codes.max()) + 1 if len(codes) else 0)
    out_days, gross, net, turn = [], [], [], []
    for k, (day, g) in enumerate(zip(days, groups, strict=True)):
        if k % hold == 0:
            ok = g[np.isfinite(s[g]) & np.isfinite(r[g])]
            n_side = int(np.floor(len(ok) * quantile))
            new = np.zeros_like(weights)
            if n_side >= 1:
                ranked = ok[np.argsort(s[ok], kind="stable")]
                new[codes[ranked[-n_side:]]] = 1.0 / n_side
                new[codes[ranked[:n_side]]] = -1.0 / n_side
            traded = float(np.abs(new - weights).sum())
            weights = new
        else:
            traded = 0.0
        rr = np.zeros_like(weights)
        fin = g[np.isfinite(r[g])]
        rr[codes[fin]] = r[fin]
        g_ret = float(weights @ rr)
        out_days.append(day)
        gross.append(g_ret)
        turn.append(traded)
        net.append(g_ret - traded * cost_bp / 1e4)
    return LongShort(
        days=np.asarray(out_days, dtype="datetime64[D]"),
        gross=np.asarray(gross),
        net=np.asarray(net),
        turnover=np.asarray(turn),
        cost_bp=float(cost_bp),
    )


def model_scores(model: Any, X: NDArray[Any]) -> NDArray[np.float64]:
    """A real-valued signal from a fitted model: its prediction (regression) or
    :func:`score_from_proba` of its probabilities (classification)."""
    if getattr(model, "task", None) == "classification":
        return score_from_proba(model.predict_proba(X))
    return np.asarray(model.predict(X), dtype=np.float64)


def signal_report(
    scores: NDArray[Any],
    target: NDArray[Any],
    next_return: NDArray[Any],
    dates: NDArray[Any],
    symbols: NDArray[Any],
    hold: int = 1,
    cost_bp: float = 10.0,
    quantile: float = 0.1,
) -> dict[str, float]:
    """:func:`ic_summary` against ``target`` plus the :func:`long_short` summary."""
    out = ic_summary(scores, target, dates)
    ls = long_short(scores, next_return, dates, symbols, quantile, cost_bp, hold)
    out.update(ls.summary())
    return out
