"""Report sections of the risk stage: forecast against realized, VaR exceptions, anomaly
scores on the price, and the posture the forecasts set.

Each ``*_section`` function returns an :class:`~tradelearn.report.html.HtmlReport` with a
table and a figure (matplotlib, Agg backend); sections can be merged with
:meth:`HtmlReport.extend` and saved as one self-contained file::

    report = forecast_section(fs, comparison)
    report.extend(var_section(vfs, results))
    report.save("risk.html")

The ``*_figure`` functions return the bare matplotlib figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from tradelearn.errors import ConfigError
from tradelearn.report.html import HtmlReport
from tradelearn.risk.anomaly import MarketTape
from tradelearn.risk.var import VarForecast
from tradelearn.risk.vol import ForecastSet

__all__ = [
    "anomaly_figure",
    "anomaly_section",
    "forecast_figure",
    "forecast_section",
    "interval_mids",
    "posture_figure",
    "posture_section",
    "var_figure",
    "var_section",
]

_NS = 1_000_000_000


def _column(values: Sequence[float], x: float, what: str = "horizon") -> int:
    for j, v in enumerate(values):
        if abs(v - x) < 1e-9:
            return j
    raise ConfigError(f"{what} must be one of {list(values)}, actually: {x}")


def forecast_figure(fs: ForecastSet, models: Sequence[str], h: int = 1) -> Figure:
    """Forecast against realized: daily volatility (percent, :math:`\\sqrt{\\text{sum}/h}`)
    of the proxy and of each model's forecast over the out-of-sample origins."""
    j = _column(fs.horizons, h)
    missing = [m for m in models if m not in fs.forecasts]
    if missing:
        raise ConfigError(f"models {missing} are not in the forecast set {list(fs.forecasts)}")
    days = fs.dates.astype("datetime64[D]")
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(days, np.sqrt(fs.target[:, j] / h), color="0.7", lw=0.6, label="realized (proxy)")
    for m in models:
        ax.plot(days, np.sqrt(fs.forecasts[m][:, j] / h), lw=0.9, label=m)
    ax.set_yscale("log")
    ax.set_ylabel("daily volatility, %")
    ax.set_title(f"{fs.symbol}: {h}-day forecast against realized (Garman-Klass)")
    ax.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    return fig


def forecast_section(
    fs: ForecastSet,
    report: Mapping[str, Any],
    models: Sequence[str] = ("tl_combo", "gjr_t_scaled", "har"),
    horizons: Sequence[int] | None = None,
) -> HtmlReport:
    """QLIKE per model and horizon, the best-against-best comparison, and one figure per
    horizon (``report`` is :func:`tradelearn.risk.losses.compare_forecasts`'s result)."""
    out = HtmlReport(f"Volatility forecasts: {fs.symbol}")
    out.paragraph(
        f"{len(fs.origins)} origins from {fs.dates[0]} to {fs.dates[-1]}; window {fs.window} "
        f"days, refit every {fs.refit_every}. Sums of daily variance over h days against "
        "the Garman-Klass proxy; lower QLIKE is better."
    )
    qlike = report.get("qlike", {})
    if qlike:
        out.table(
            [{"model": m, **{f"h={h}": v for h, v in zip(fs.horizons, vals, strict=True)}}
             for m, vals in qlike.items()],
            decimals=4,
        )  # fmt: skip
    comp = report.get("comparison", [])
    if comp:
        out.table(
            [
                {
                    "h": c["h"],
                    "best standard": c["best_standard"],
                    "QLIKE std": c["best_standard_qlike"],
                    "best tradelearn": c["best_candidate"],
                    "QLIKE ours": c["best_candidate_qlike"],
                    "difference %": 100.0 * (c["ratio"] - 1.0),
                    "DM p": c["dm_p_two_sided"],
                }
                for c in comp
            ],
            decimals=4,
        )
    shown = [m for m in models if m in fs.forecasts]
    for h in horizons or fs.horizons:
        out.figure(
            forecast_figure(fs, shown, h),
            caption=f"{h}-day forecasts ({', '.join(shown)}) and the realized proxy",
        )
    return out


def var_figure(vf: VarForecast, level: float | None = None) -> Figure:
    """Daily returns, minus the VaR, and the exceptions (returns below minus the VaR)."""
    j = 0 if level is None else _column(vf.levels, level, "level")
    days = vf.dates.astype("datetime64[D]")
    hits = vf.hits()[:, j]
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(days, vf.returns, color="0.6", lw=0.5, label="return, %")
    ax.plot(days, -vf.var[:, j], color="tab:blue", lw=0.9, label=f"-VaR {vf.levels[j]:.3g}")
    ax.scatter(
        days[hits],
        vf.returns[hits],
        color="tab:red",
        s=12,
        zorder=3,
        label=f"exceptions ({int(hits.sum())} of {hits.size})",
    )
    ax.set_ylabel("percent")
    ax.set_title(f"{vf.method}: VaR {vf.levels[j]:.3g} exceptions")
    ax.legend(loc="lower left", fontsize=8)
    fig.autofmt_xdate()
    return fig


def var_section(
    forecasts: Mapping[str, VarForecast],
    results: Mapping[str, Mapping[str, Mapping[str, Any]]],
    *,
    series: str = "",
    plot: Sequence[str] = ("evt",),
) -> HtmlReport:
    """Backtest table per method and level, and an exception plot for each of ``plot``
    (``results`` maps method -> level -> :func:`~tradelearn.risk.backtests.backtest_summary`)."""
    out = HtmlReport(f"VaR backtests{': ' + series if series else ''}")
    rows = []
    for m, per in results.items():
        for level, r in per.items():
            rows.append(
                {
                    "method": m,
                    "level": level,
                    "hit rate": r.get("hit_rate"),
                    "Kupiec p": r.get("kupiec_p"),
                    "CC p": r.get("cc_p"),
                    "ES p": r.get("es_mcneil_frey_p"),
                }
            )
    if rows:
        out.table(rows, decimals=4)
    for m in plot:
        vf = forecasts.get(m)
        if vf is None:
            continue
        for lv in vf.levels:
            out.figure(var_figure(vf, lv), caption=f"{m} VaR {lv} and its exceptions")
    return out


def interval_mids(tape: MarketTape, ends: np.ndarray) -> np.ndarray:
    """Mid quote at each interval end (the last two-sided quote at or before it)."""
    ok = (tape.ask > tape.bid) & (tape.bid > 0)
    qts = tape.quote_ts[ok]
    pos = np.searchsorted(qts, np.asarray(ends), side="right") - 1
    mid = (tape.bid[ok][np.maximum(pos, 0)] + tape.ask[ok][np.maximum(pos, 0)]) / 2.0
    return np.where(pos >= 0, mid, np.nan)


def _top(s: np.ndarray, top: float) -> tuple[np.ndarray, int]:
    """Intervals scoring at or above the ``ceil(top * n)``-th highest finite score (every
    interval tied with the cutoff is included: the score cannot tell them apart) and the
    count ``k``."""
    ok = np.isfinite(s)
    k = max(1, int(np.ceil(top * ok.sum())))
    cutoff = np.sort(s[ok])[-k]
    return ok & (s >= cutoff), k


def anomaly_figure(
    ends_ns: np.ndarray,
    mid: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    name: str = "",
    top: float = 0.01,
    smooth: int = 60,
) -> Figure:
    """The mid price with each score's top ``top`` fraction of intervals marked on it, and
    below, each score's percentile averaged over ``smooth`` intervals.

    A score can tie several intervals at the cutoff (equal feature values give equal
    scores); all of them are marked and the legend says how many.
    """
    if not 0 < top < 1:
        raise ConfigError(f"top must lie in (0, 1), actually: {top}")
    t = (np.asarray(ends_ns, dtype=np.int64) - int(ends_ns[0])) / _NS / 60.0
    fig, axes = plt.subplots(
        2, 1, figsize=(10, 5.5), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    axes[0].plot(t, mid, color="0.3", lw=0.7, label="mid")
    markers = ("o", "^", "s", "v")
    for k, (label, raw) in enumerate(scores.items()):
        s = np.asarray(raw, dtype=np.float64)
        ok = np.isfinite(s)
        if not ok.any():
            continue
        flag, want = _top(s, top)
        n_flag = int(flag.sum())
        note = f"{n_flag}" if n_flag == want else f"{n_flag} tied at the cutoff, for {want}"
        axes[0].scatter(
            t[flag], mid[flag], s=14 if n_flag <= 3 * want else 3, marker=markers[k % 4],
            zorder=3, label=f"{label}: top {top:.0%} ({note})",
        )  # fmt: skip
        rank = np.full(s.size, np.nan)
        rank[ok] = _pct_rank(s[ok])
        kernel = np.ones(smooth) / smooth
        axes[1].plot(t, np.convolve(rank, kernel, mode="same"), lw=0.7, label=label)
    axes[0].set_ylabel("mid (source price units)")
    axes[0].set_title(f"{name}: anomaly scores on the price")
    axes[0].legend(loc="best", fontsize=8)
    axes[1].set_ylabel(f"percentile, {smooth}-interval mean")
    axes[1].set_xlabel("minutes from first interval")
    return fig


def _pct_rank(x: np.ndarray) -> np.ndarray:
    """Percentile ranks in [0, 1] (ties share their mean rank)."""
    from scipy.stats import rankdata  # type: ignore[import-untyped, unused-ignore]

    r: np.ndarray = (rankdata(x) - 1.0) / max(x.size - 1, 1)
    return r


def anomaly_section(rows: Sequence[Mapping[str, Any]]) -> HtmlReport:
    """Early-warning AUCs and a price plot per source.

    Each row has ``source``, ``ends``, ``mid``, ``scores`` (name -> array) and ``auc``
    (name -> :class:`~tradelearn.risk.anomaly.EarlyWarning` as a mapping).
    """
    out = HtmlReport("Anomaly scores")
    table = []
    for r in rows:
        for name, ew in r["auc"].items():
            table.append(
                {
                    "source": r["source"],
                    "score": name,
                    "AUC": ew["auc_score"],
                    "AUC trailing vol": ew["auc_baseline"],
                    "difference": ew["diff"],
                    "95% low": ew["diff_low"],
                    "95% high": ew["diff_high"],
                }
            )
    if table:
        out.table(table, decimals=3)
    for r in rows:
        out.figure(
            anomaly_figure(r["ends"], r["mid"], r["scores"], name=r["source"]),
            caption=f"{r['source']}: intervals with the top 1% of each score on the mid price",
        )
    return out


def posture_figure(postures: Mapping[str, Any]) -> Figure:
    """Holdings of each posture's Almgren-Chriss schedule (``name -> Posture``)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, p in postures.items():
        steps = np.arange(p.holdings.size)
        ax.plot(
            steps, p.holdings, marker="o", ms=3,
            label=f"{name}: vol {np.sqrt(p.variance_pct2):.2f}%, kappa*T {p.urgency * p.world.horizon:.2f}",
        )  # fmt: skip
    ax.set_xlabel("step")
    ax.set_ylabel("shares left")
    ax.set_title("Almgren-Chriss schedule set by the volatility forecast")
    ax.legend(fontsize=8)
    return fig


def posture_section(postures: Mapping[str, Any], title: str = "Risk posture") -> HtmlReport:
    """A table of each posture (``name -> Posture``) and their schedules."""
    out = HtmlReport(title)
    keys = (
        "daily_vol_pct", "urgency_kappa_per_day", "kappa_T", "front_load", "expected_cost_bps",
        "timing_risk_bps", "var_pct", "var_budget_shares", "trading_state",
    )  # fmt: skip
    out.table(
        [{"posture": n, **{k: p.to_dict()[k] for k in keys}} for n, p in postures.items()],
        decimals=4,
    )
    out.figure(posture_figure(postures), caption="Shares left at the start of each step")
    return out
