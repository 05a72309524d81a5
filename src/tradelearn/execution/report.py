"""The execution report: one HTML file with the comparison table and embedded plots.

Sections: the comparison table in the form traders know (policy | shortfall bp | impact bp
| timing risk | adaptability, with the outperformance against TWAP and the Wilcoxon
p-values beside it), the shortfall's split into spread, impact and timing cost, the
shortfall distributions, the inventory trajectories of every policy on the same episode,
the mean trajectories, and the training curves of learned agents read from their folders
(the per-episode monitor written by :func:`~tradelearn.execution.train.train`, else the
TensorBoard logs).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: figures go into the file

import matplotlib.pyplot as plt
import numpy as np

from tradelearn.execution.metrics import EpisodeLike, Evaluation, remaining_fractions
from tradelearn.report.html import HtmlReport

TRAINING_TAGS = ("execution/is_bps", "rollout/ep_rew_mean")
"""TensorBoard scalars drawn as training curves, the first one found per run."""


def comparison_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The table's rows: one per policy, costs in bp (lower is better)."""
    rows = []
    for p in evaluation.policies:
        row: dict[str, Any] = {
            "policy": p.name,
            "shortfall bp": p.is_bps,
            "± se": p.se_bps,
            "impact bp": p.impact_bps,
            "timing risk bp": p.timing_risk_bps,
            "adaptability": p.adaptability,
            "spread bp": p.spread_bps,
            "timing bp": p.timing_bps,
            f"P(beat {evaluation.benchmark})": p.outperformance_prob,
            "gain/loss": p.gain_loss_ratio,
        }
        for b, v in p.p_values.items():
            row[f"p vs {b}"] = v
        rows.append(row)
    return rows


def training_curve(folder: str | Path) -> tuple[str, np.ndarray, np.ndarray] | None:
    """``(label, x, y)`` of a trained agent's learning curve, or ``None`` if it has none.

    Reads ``monitor.csv`` (one row per training episode: ``timesteps,is_bps,reward``) when
    present, else the first of :data:`TRAINING_TAGS` in the TensorBoard logs under ``tb/``.
    """
    root = Path(folder)
    mon = root / "monitor.csv"
    if mon.is_file():
        with mon.open() as fh:
            rows = [r for r in csv.DictReader(fh) if r.get("is_bps") not in (None, "")]
        if rows:
            x = np.array([float(r["timesteps"]) for r in rows])
            y = np.array([float(r["is_bps"]) for r in rows])
            return "training shortfall bp (per episode, smoothed)", x, y
    events = sorted((root / "tb").rglob("events.out.tfevents.*")) if (root / "tb").is_dir() else []
    if not events:
        return None
    from tensorboard.backend.event_processing.event_accumulator import (  # type: ignore[import-untyped, unused-ignore]
        EventAccumulator,
    )

    for tag in TRAINING_TAGS:
        xs: list[float] = []
        ys: list[float] = []
        for ev in events:
            acc = EventAccumulator(str(ev), size_guidance={"scalars": 0})
            acc.Reload()
            if tag in acc.Tags().get("scalars", []):
                for s in acc.Scalars(tag):
                    xs.append(float(s.step))
                    ys.append(float(s.value))
        if xs:
            order = np.argsort(xs)
            return tag, np.asarray(xs)[order], np.asarray(ys)[order]
    return None


def _smooth(y: np.ndarray, width: int) -> np.ndarray:
    if y.size < width or width < 2:
        return y
    kernel = np.ones(width) / width
    return np.convolve(y, kernel, mode="valid")


def build_report(
    evaluation: Evaluation,
    results: Mapping[str, Sequence[EpisodeLike]],
    *,
    title: str = "Execution policies on held-out episodes",
    description: str = "",
    model_dirs: Mapping[str, str | Path] | None = None,
    example_episode: int = 0,
) -> HtmlReport:
    """The whole report; ``results`` are the per-episode results behind ``evaluation``."""
    report = HtmlReport(title)
    if description:
        report.paragraph(description)
    n = evaluation.policies[0].episodes
    report.heading("Comparison")
    report.paragraph(
        f"{n} paired episodes per policy (the same start times and seeds for all). Costs are "
        "implementation shortfall in basis points of the arrival mid: higher is worse. "
        "Timing risk is the standard deviation of the shortfall across episodes. "
        "Adaptability is the mean over steps of the cross-episode standard deviation of the "
        "remaining inventory fraction: 0 for a static schedule, larger for a policy that "
        f"reacts to the market. P(beat {evaluation.benchmark}) counts episodes with a "
        "strictly lower shortfall; p-values are two-sided paired Wilcoxon signed-rank tests."
    )
    report.table(comparison_rows(evaluation), decimals=3)

    names = [p.name for p in evaluation.policies]
    colors = {name: f"C{i % 10}" for i, name in enumerate(names)}

    fig, ax = plt.subplots(figsize=(7, 3.5))
    parts = ("spread_bps", "impact_bps", "timing_bps")
    width = 0.25
    xs = np.arange(len(names))
    for j, part in enumerate(parts):
        vals = [getattr(p, part) for p in evaluation.policies]
        ax.bar(xs + (j - 1) * width, vals, width, label=part.replace("_bps", ""))
    ax.plot(xs, [p.is_bps for p in evaluation.policies], "k_", ms=18, mew=2, label="total")
    ax.set_xticks(xs, names, rotation=20)
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.set_ylabel("bp of arrival mid")
    ax.legend(fontsize=8)
    report.figure(fig, caption="Mean shortfall and its split into spread, impact and timing")

    report.heading("Shortfall distributions")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    data = [
        np.asarray([v for v in p.episodes_bps if math.isfinite(v)]) for p in evaluation.policies
    ]
    ax.boxplot(data, showmeans=True)
    ax.set_xticks(np.arange(1, len(names) + 1), names, rotation=20)
    ax.set_ylabel("shortfall bp")
    report.figure(fig, caption="Per-episode shortfall (box: quartiles, triangle: mean)")
    bench = np.asarray(evaluation.by_name(evaluation.benchmark).episodes_bps)
    others = [p for p in evaluation.policies if p.name != evaluation.benchmark]
    if others:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        diffs = {p.name: bench - np.asarray(p.episodes_bps) for p in others}
        diffs = {k: d[np.isfinite(d)] for k, d in diffs.items()}
        every = np.concatenate([*diffs.values(), [0.0]])
        lo, hi = float(every.min()), float(every.max())
        pad = max(0.05 * (hi - lo), 0.5)  # equal values still get finite-width bins
        edges = np.linspace(lo - pad, hi + pad, 31)
        for name, d in diffs.items():
            ax.hist(d, bins=list(edges), alpha=0.5, label=name, color=colors[name])
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_xlabel(f"saving against {evaluation.benchmark} (bp, positive = better)")
        ax.legend(fontsize=8)
        report.figure(fig, caption=f"Paired savings against {evaluation.benchmark}")

    report.heading("Inventory trajectories")
    k = min(max(example_episode, 0), n - 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for name in names:
        frac = remaining_fractions(results[name])
        if frac.size == 0:
            continue
        steps = np.arange(frac.shape[1])
        axes[0].step(steps, frac[k], where="post", label=name, color=colors[name])
        axes[1].plot(steps, np.nanmean(frac, axis=0), label=name, color=colors[name])
    axes[0].set_title(f"episode {k}")
    axes[1].set_title("mean over episodes")
    for ax in axes:
        ax.set_xlabel("step")
    axes[0].set_ylabel("remaining fraction")
    axes[1].legend(fontsize=8)
    report.figure(fig, caption="Remaining inventory before each step, every policy")

    report.heading("Training curves")
    curves = {name: training_curve(folder) for name, folder in (model_dirs or {}).items()}
    drawn = {k: v for k, v in curves.items() if v is not None}
    if not drawn:
        report.paragraph("No learned agent in this comparison (or none with training logs).")
    for name, (label, x, y) in drawn.items():
        fig, ax = plt.subplots(figsize=(7, 3))
        w = max(1, min(200, y.size // 20))
        ax.plot(x, y, ".", ms=1.5, alpha=0.25, color=colors.get(name, "C0"))
        ys = _smooth(y, w)
        ax.plot(x[w - 1 :] if w > 1 and y.size >= w else x, ys, color=colors.get(name, "C0"))
        lo, hi = np.nanpercentile(y, [2, 98]) if y.size else (0.0, 1.0)
        if hi > lo:  # per-episode outliers would flatten the curve
            ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        ax.set_xlabel("timesteps")
        ax.set_ylabel(label)
        report.figure(fig, caption=f"{name}: {label}")
    return report
