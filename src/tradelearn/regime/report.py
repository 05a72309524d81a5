"""Report sections of the regime stage: regime shading on the price, regime probabilities,
per-regime statistics, and the adaptation comparison.

Each ``*_section`` returns an :class:`~tradelearn.report.html.HtmlReport` (merge them with
:meth:`HtmlReport.extend`); the ``*_figure`` functions return bare matplotlib figures::

    model = RegimeModel("hmm", 2).fit(feats.values)
    regime_section(feats, model).save("regimes.html")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from tradelearn.errors import DataError
from tradelearn.regime.adapt import STRATEGIES, AdaptResult
from tradelearn.regime.features import RegimeFeatures
from tradelearn.regime.models import RegimeModel
from tradelearn.report.html import HtmlReport
from tradelearn.risk.losses import qlike

__all__ = [
    "adaptation_figure",
    "adaptation_section",
    "probability_figure",
    "regime_runs",
    "regime_section",
    "regime_summary",
    "shading_figure",
]

_COLORS = ("#4c9a2a", "#e0a800", "#d62728", "#7b3294", "#1f77b4", "#8c564b")


def _color(k: int) -> str:
    return _COLORS[k % len(_COLORS)]


def regime_runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of one label: ``(start, end_exclusive, label)`` in order."""
    lab = np.asarray(labels)
    if lab.size == 0:
        return []
    cuts = np.flatnonzero(lab[1:] != lab[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [lab.size]])
    return [(int(a), int(b), int(lab[a])) for a, b in zip(starts, ends, strict=True)]


def regime_summary(
    feats: RegimeFeatures, labels: np.ndarray, periods_per_year: float = 252.0
) -> list[dict[str, Any]]:
    """Per regime: share of rows, mean run length, annualised volatility and trend.

    Volatility is :math:`e^{\\text{log\\_vol}}\\sqrt{P}` averaged over the regime's rows,
    trend the mean of ``trend`` times :math:`P` (percent per year).
    """
    lab = np.asarray(labels)
    if lab.shape[0] != len(feats):
        raise DataError(
            "labels and features differ in length", expected=str(len(feats)), got=lab.shape[0]
        )
    runs = regime_runs(lab)
    out = []
    for k in range(int(lab.max()) + 1):
        rows = lab == k
        lengths = [b - a for a, b, kk in runs if kk == k]
        out.append(
            {
                "regime": k,
                "share": float(rows.mean()),
                "runs": len(lengths),
                "mean_run": float(np.mean(lengths)) if lengths else 0.0,
                "vol_ann_pct": float(np.mean(np.exp(feats.values[rows, 0])))
                * float(np.sqrt(periods_per_year))
                if rows.any()
                else float("nan"),
                "trend_ann_pct": float(np.mean(feats.values[rows, 1])) * periods_per_year
                if rows.any()
                else float("nan"),
            }
        )
    return out


def shading_figure(feats: RegimeFeatures, labels: np.ndarray, title: str = "") -> Figure:
    """The price (log scale) with each regime's stretches shaded in its colour."""
    fig, ax = plt.subplots(figsize=(11, 4))
    x = feats.dates
    ax.plot(x, feats.close, color="black", lw=0.7)
    for a, b, k in regime_runs(labels):
        right = x[b] if b < len(x) else x[-1]
        ax.axvspan(x[a], right, color=_color(k), alpha=0.25, lw=0)
    from matplotlib.patches import Patch

    handles = [
        Patch(color=_color(k), alpha=0.4, label=f"regime {k}")
        for k in range(int(np.max(labels)) + 1)
    ]
    ax.set_yscale("log")
    ax.set_ylabel("price (log scale)")
    ax.set_title(title or "price with regimes shaded")
    ax.legend(handles=handles, loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    return fig


def probability_figure(feats: RegimeFeatures, proba: np.ndarray, title: str = "") -> Figure:
    """Stacked regime probabilities over time."""
    p = np.asarray(proba)
    fig, ax = plt.subplots(figsize=(11, 2.8))
    ax.stackplot(
        feats.dates, p.T, colors=[_color(k) for k in range(p.shape[1])],
        labels=[f"regime {k}" for k in range(p.shape[1])], alpha=0.8,
    )  # fmt: skip
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_title(title or "regime probabilities")
    ax.legend(loc="upper left", fontsize=8, ncol=p.shape[1])
    fig.autofmt_xdate()
    return fig


def regime_section(
    feats: RegimeFeatures,
    model: RegimeModel,
    *,
    causal: bool = False,
    symbol: str = "",
    stability: Mapping[str, Any] | None = None,
) -> HtmlReport:
    """Regimes of one series: shading on the price, probabilities, per-regime table."""
    proba = model.predict_proba(feats.values, causal=causal)
    labels = np.argmax(proba, axis=1)
    kind = "filtered" if causal or model.kind == "gmm" else "smoothed"
    rep = HtmlReport(
        f"Regimes {symbol} ({model.kind.upper()}, K={model.n_states})".replace("  ", " ")
    )
    rep.paragraph(
        f"{len(feats)} rows from {feats.dates[0]} to {feats.dates[-1]}; features "
        f"{', '.join(feats.names)}; labels ordered by mean {feats.names[model.order_by]} "
        f"(0 = calmest), {kind} probabilities, seed {model.seed}."
    )
    rep.figure(
        shading_figure(feats, labels, f"{symbol} with regimes shaded"),
        "Regime shading on the price",
    )
    rep.figure(probability_figure(feats, proba), f"Regime probabilities ({kind})")
    rep.table(regime_summary(feats, labels), decimals=3)
    if model.transmat_ is not None:
        rep.heading("Transition matrix", 3)
        rep.table(
            [
                {"from": k, **{f"to {j}": float(v) for j, v in enumerate(row)}}
                for k, row in enumerate(model.transmat_)
            ],
            decimals=4,
        )
    if stability:
        rep.heading("Label stability across seeds", 3)
        rep.table([dict(stability)], decimals=4)
    return rep


def adaptation_figure(result: AdaptResult) -> Figure:
    """Cumulative QLIKE of each strategy minus the static one (below zero: better)."""
    base = qlike(result.proxy, result.variance["static"])
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True, height_ratios=(3, 1))
    for k, s in enumerate(STRATEGIES[1:]):
        d = np.cumsum(qlike(result.proxy, result.variance[s]) - base)
        ax.plot(result.dates, d, lw=0.9, color=_color(k + 1), label=s)
        for r in result.refits[s] if s != "periodic" else []:
            ax.axvline(np.datetime64(r), color=_color(k + 1), lw=0.5, ls=":")
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_ylabel("cumulative QLIKE - static")
    ax.set_title(
        f"{result.symbol}: out-of-sample loss against the static model (dotted: drift refits)"
    )
    ax.legend(loc="lower left", fontsize=8)
    p = result.regime_proba
    ax2.stackplot(result.dates, p.T, colors=[_color(k) for k in range(p.shape[1])], alpha=0.8)
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("regime prob.")
    fig.autofmt_xdate()
    return fig


def adaptation_section(result: AdaptResult, comparison: Mapping[str, Any]) -> HtmlReport:
    """Static vs periodic vs refit-on-drift vs regime-aware: table and cumulative-loss plot."""
    rep = HtmlReport(f"Adaptation {result.symbol}")
    rep.paragraph(
        f"Target: {comparison['target']}. {comparison['n_forecasts']} forecasts from "
        f"{comparison['first_target']} to {comparison['last_target']}; detector "
        f"{result.config.detector}. Differences are strategy minus static (negative: better), "
        "with a Diebold-Mariano test and a block-bootstrap 95% interval."
    )
    rows = []
    for s, r in comparison["strategies"].items():
        ci = r.get("diff_ci95")
        rows.append(
            {
                "strategy": s,
                "QLIKE": r["qlike"],
                "MSE log": r["mse_log"],
                "refits": r["refits"],
                "diff vs static": r.get("diff_vs_static", 0.0),
                "95% CI": "" if ci is None else f"[{ci[0]:.4f}, {ci[1]:.4f}]",
                "DM p": r.get("dm_p", float("nan")),
            }
        )
    rep.table(rows, decimals=4)
    rep.figure(adaptation_figure(result), "Cumulative QLIKE difference to the static model")
    return rep
