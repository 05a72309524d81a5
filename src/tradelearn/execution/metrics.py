"""Per-policy execution figures from paired episodes: shortfall, its parts, risk and tests.

Every policy ran the *same* episodes (same start times, same seeds), so episode ``i`` of one
policy is paired with episode ``i`` of every other. All costs are in basis points of the
arrival mid and are costs: higher is worse.

Per policy (:class:`PolicySummary`):

* ``is_bps``: mean implementation shortfall against the arrival mid, and its split into
  ``spread_bps`` (half-spread paid to cross), ``impact_bps`` (the mid moved by our own
  trading: the simulator's counterfactual unaffected price against the mid we saw) and
  ``timing_bps`` (the unaffected price's drift while the order worked), as the
  simulator reports them per episode;
* ``timing_risk_bps``: the standard deviation of the shortfall across episodes;
* ``outperformance_prob``: the share of paired episodes on which the policy's shortfall is
  *strictly* lower than TWAP's (ties count as not outperforming, so TWAP against itself
  scores 0);
* ``gain_loss_ratio``: with :math:`d_i = IS^{TWAP}_i - IS_i` (positive: the policy saved
  money), :math:`\\sum_i d_i^+ / \\sum_i d_i^-`; ``inf`` when it never lost, ``nan`` when it
  never differed from TWAP;
* ``p_values``: the two-sided paired Wilcoxon signed-rank test
  (:func:`scipy.stats.wilcoxon`) of the policy's shortfall against each baseline's; where
  every paired difference is zero (a policy against itself) there is no evidence of a
  difference and the p-value is 1 by definition;
* ``adaptability``: how much the policy's schedule changes from episode to episode, the
  mean over steps of the cross-episode standard deviation of the remaining fraction
  :math:`x_k / X` after each step (0 for a static schedule that always fills: TWAP, VWAP, AC; positive for
  a policy that reacts to what it sees; in the units of the inventory fraction).

Non-finite figures become ``null`` in :meth:`Evaluation.to_dict` (strict JSON).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.stats import wilcoxon  # type: ignore[import-untyped, unused-ignore]

from tradelearn.errors import ConfigError

FloatArray = NDArray[np.float64]

BASELINE_PREFIXES = ("twap", "vwap", "pov", "ac", "submit_and_leave")
"""Policy names (or prefixes, as ``pov0.05``) that count as baselines for the tests."""


class EpisodeLike(Protocol):
    """The fields of an episode result that the metrics read."""

    @property
    def is_bps(self) -> float: ...
    @property
    def spread_bps(self) -> float: ...
    @property
    def impact_bps(self) -> float: ...
    @property
    def timing_bps(self) -> float: ...
    @property
    def remaining(self) -> Any: ...
    @property
    def parent_qty(self) -> float: ...


def is_baseline(name: str) -> bool:
    """Whether ``name`` is a baseline schedule (not a learned agent)."""
    return any(
        name == p or (name.startswith(p) and not name[len(p) :].isalpha())
        for p in BASELINE_PREFIXES
    )


def wilcoxon_p(a: FloatArray, b: FloatArray) -> float:
    """Two-sided paired Wilcoxon signed-rank p-value of ``a`` against ``b``.

    Pairs with a NaN on either side are dropped; 1.0 where all differences are zero
    (nothing to test), NaN with fewer than one usable pair.
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.nan
    if np.all(d == 0.0):
        return 1.0
    return float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def outperformance_prob(policy: FloatArray, benchmark: FloatArray) -> float:
    """Share of paired episodes where ``policy``'s cost is strictly below ``benchmark``'s."""
    p, b = np.asarray(policy, dtype=np.float64), np.asarray(benchmark, dtype=np.float64)
    ok = np.isfinite(p) & np.isfinite(b)
    if not ok.any():
        return math.nan
    return float(np.mean(p[ok] < b[ok]))


def gain_loss_ratio(policy: FloatArray, benchmark: FloatArray) -> float:
    """Sum of savings over sum of losses against ``benchmark`` (costs, paired)."""
    d = np.asarray(benchmark, dtype=np.float64) - np.asarray(policy, dtype=np.float64)
    d = d[np.isfinite(d)]
    gains, losses = float(d[d > 0].sum()), float(-d[d < 0].sum())
    if losses == 0.0:
        return math.inf if gains > 0.0 else math.nan
    return gains / losses


def adaptability(remaining_fractions: FloatArray) -> float:
    """Mean over steps of the cross-episode std of the remaining fraction (episodes x steps)."""
    r = np.asarray(remaining_fractions, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] < 2:
        return 0.0
    return float(np.nanmean(np.nanstd(r, axis=0)))


@dataclass(frozen=True)
class PolicySummary:
    """One policy's figures over the paired episodes (bp of the arrival mid)."""

    name: str
    episodes: int
    is_bps: float
    spread_bps: float
    impact_bps: float
    timing_bps: float
    timing_risk_bps: float
    outperformance_prob: float
    gain_loss_ratio: float
    p_values: dict[str, float]
    adaptability: float
    se_bps: float
    episodes_bps: list[float]
    mean_remaining: list[float] = field(default_factory=list)
    """Mean remaining fraction of the parent order at the start and after each step."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the fields in order, non-finite numbers as ``None``."""
        return {
            "name": self.name,
            "episodes": self.episodes,
            "is_bps": _num(self.is_bps),
            "spread_bps": _num(self.spread_bps),
            "impact_bps": _num(self.impact_bps),
            "timing_bps": _num(self.timing_bps),
            "timing_risk_bps": _num(self.timing_risk_bps),
            "outperformance_prob": _num(self.outperformance_prob),
            "gain_loss_ratio": _num(self.gain_loss_ratio),
            "p_values": {k: _num(v) for k, v in self.p_values.items()},
            "adaptability": _num(self.adaptability),
            "se_bps": _num(self.se_bps),
            "mean_remaining": [_num(v) for v in self.mean_remaining],
            "episodes_bps": [_num(v) for v in self.episodes_bps],
        }


@dataclass(frozen=True)
class Evaluation:
    """Every policy's summary plus what the episodes were."""

    policies: list[PolicySummary]
    benchmark: str
    baselines: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def by_name(self, name: str) -> PolicySummary:
        """The summary of the policy called ``name``."""
        for p in self.policies:
            if p.name == name:
                return p
        raise ConfigError(f"no policy {name!r}; have {[p.name for p in self.policies]}")

    def to_dict(self) -> dict[str, Any]:
        """``{"policies": [...], "benchmark": ..., "baselines": [...], **meta}``."""
        return {
            "policies": [p.to_dict() for p in self.policies],
            "benchmark": self.benchmark,
            "baselines": list(self.baselines),
            **self.meta,
        }


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _field(results: Sequence[EpisodeLike], name: str) -> FloatArray:
    return np.array([float(getattr(r, name)) for r in results], dtype=np.float64)


def remaining_fractions(results: Sequence[EpisodeLike]) -> FloatArray:
    """Episodes x (steps + 1): the remaining share of the parent order at the start (1) and
    after each step (``remaining`` of an episode result is the inventory after each step)."""
    rows = [
        np.concatenate(
            [[1.0], np.asarray(r.remaining, dtype=np.float64) / max(float(r.parent_qty), 1e-300)]
        )
        for r in results
    ]
    if not rows:
        return np.zeros((0, 0))
    width = max(len(x) for x in rows)
    out = np.full((len(rows), width), np.nan)
    for i, x in enumerate(rows):
        out[i, : len(x)] = x
    return out


def summarize(
    results: Mapping[str, Sequence[EpisodeLike]],
    *,
    benchmark: str = "twap",
    baselines: Sequence[str] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Summaries of every policy over paired episodes.

    Parameters
    ----------
    results
        Policy name to its episode results, all policies over the same episodes in the
        same order (as :func:`~tradelearn.execution.runner.run_episodes` returns them).
    benchmark
        The policy that outperformance and gain-loss compare against (TWAP).
    baselines
        Policies each policy is tested against (default: those :func:`is_baseline` names).
    meta
        Extra top-level fields for the JSON (market, episodes, seeds...).
    """
    if not results:
        raise ConfigError("no policies to summarize")
    sizes = {name: len(rs) for name, rs in results.items()}
    if len(set(sizes.values())) != 1 or 0 in sizes.values():
        raise ConfigError(f"every policy needs the same positive number of episodes: {sizes}")
    if benchmark not in results:
        raise ConfigError(
            f"the benchmark {benchmark!r} must be among the policies {sorted(results)}"
        )
    base = [b for b in (baselines if baselines is not None else results) if is_baseline(b)]
    if baselines is not None:
        missing = sorted(set(baselines) - set(results))
        if missing:
            raise ConfigError(f"baselines {missing} are not among the policies {sorted(results)}")
        base = list(baselines)
    shortfall = {name: _field(rs, "is_bps") for name, rs in results.items()}
    bench = shortfall[benchmark]
    out = []
    for name, rs in results.items():
        x = shortfall[name]
        ok = np.isfinite(x)
        n = int(ok.sum())
        frac = remaining_fractions(rs)
        out.append(
            PolicySummary(
                name=name,
                episodes=len(rs),
                is_bps=float(np.mean(x[ok])) if n else math.nan,
                spread_bps=float(np.nanmean(_field(rs, "spread_bps"))) if n else math.nan,
                impact_bps=float(np.nanmean(_field(rs, "impact_bps"))) if n else math.nan,
                timing_bps=float(np.nanmean(_field(rs, "timing_bps"))) if n else math.nan,
                timing_risk_bps=float(np.std(x[ok], ddof=1)) if n > 1 else math.nan,
                outperformance_prob=outperformance_prob(x, bench),
                gain_loss_ratio=gain_loss_ratio(x, bench),
                p_values={b: wilcoxon_p(x, shortfall[b]) for b in base},
                adaptability=adaptability(frac),
                se_bps=float(np.std(x[ok], ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
                episodes_bps=[float(v) for v in x],
                mean_remaining=[float(v) for v in np.nanmean(frac, axis=0)] if frac.size else [],
            )
        )
    return Evaluation(out, benchmark, base, dict(meta or {}))
