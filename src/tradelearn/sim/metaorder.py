"""The square-root law of market impact, measured on the agent-based market.

A *metaorder* of ``Q`` shares is executed as ``children`` equal market orders spread evenly
over ``duration_s`` seconds, injected into :class:`~tradelearn.sim.agents.AgentMarket`
while the population runs (and reacts). Its impact is the signed move of the mid from just
before the first child to the end of the execution, in ticks,

.. math::

    I = \\epsilon\\,[(m_1 - m_0) - (V_1 - V_0)],

where :math:`V` is the fundamental value. :math:`V` is exogenous (its generator never sees
our orders), so :math:`E[\\epsilon (V_1 - V_0)] = 0` and subtracting it leaves the mean
impact unchanged while removing most of the price noise (a control variate). Metaorders run
one after another on simulated days, with a pause between them and a random sign and size
order; each day is a fresh market.

The square-root law (Tóth et al. 2011, "Anomalous price impact and the critical nature of
liquidity in financial markets", Phys. Rev. X 1, 021006; Almgren et al. 2005) says
:math:`E[I] \\approx Y \\sigma \\sqrt{Q / V_{day}}`; the exponent is fitted by least squares
of :math:`\\log E[I \\mid Q]` on :math:`\\log Q`, with a percentile bootstrap interval that
resamples the metaorders of each size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from tradelearn.errors import ConfigError
from tradelearn.sim.abm_params import AgentParams
from tradelearn.sim.agents import NS, AgentMarket

DEFAULT_SIZES = (100, 200, 400, 800, 1_600, 3_200, 6_400)
"""Metaorder sizes (shares): 0.015% to 1% of the calibrated day's traded volume (about
650,000 shares), 1% to 60% of the market orders' volume over the ten minutes."""


@dataclass(frozen=True)
class ImpactFit:
    """Mean impact per metaorder size and the fitted power law ``I = Y Q^delta``."""

    sizes: tuple[int, ...]
    mean_impact_ticks: tuple[float, ...]
    stderr_ticks: tuple[float, ...]
    n_per_size: int
    exponent: float
    ci_low: float
    ci_high: float
    prefactor: float
    duration_s: float
    children: int

    @property
    def square_root(self) -> bool:
        """The exponent lies in [0.4, 0.6]."""
        return 0.4 <= self.exponent <= 0.6

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = asdict(self)
        d["square_root"] = self.square_root
        return d


def metaorder_impacts(
    params: AgentParams | None = None,
    *,
    seed: int,
    sizes: tuple[int, ...] = DEFAULT_SIZES,
    n_per_size: int = 400,
    duration_s: float = 600.0,
    children: int = 20,
    gap_s: float = 300.0,
    session_s: float = 23_400.0,
) -> np.ndarray:
    """Impacts (ticks) of ``n_per_size`` metaorders of each size, shape (sizes, n_per_size).

    Everything random (days, signs, order of sizes) follows from ``seed``."""
    if children < 1 or duration_s <= 0 or gap_s < 0 or n_per_size < 1:
        raise ConfigError("children, duration_s and n_per_size must be positive, gap_s >= 0")
    if any(q < children for q in sizes):
        raise ConfigError(f"every size must be at least children={children}, actually: {sizes}")
    p = params or AgentParams()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    plan = np.repeat(np.arange(len(sizes)), n_per_size)
    rng.shuffle(plan)
    signs = np.where(rng.random(plan.shape[0]) < 0.5, 1, -1)
    out = np.full((len(sizes), n_per_size), np.nan)
    filled = np.zeros(len(sizes), dtype=np.int64)
    market = AgentMarket(p, levels=0, record=False)
    tick = p.tick
    per_day = max(1, int(session_s // (duration_s + gap_s)))
    step = duration_s / children
    for j, (k, eps) in enumerate(zip(plan, signs, strict=True)):
        if j % per_day == 0:
            market.reset(np.random.SeedSequence([seed, j // per_day]))
        t_start = market.open_ns + int((j % per_day) * (duration_s + gap_s) + gap_s) * NS
        market.run_until(t_start)
        m0, v0 = market.mid, market.fundamental
        q = sizes[k]
        child = np.full(children, q // children)
        child[: q % children] += 1
        for c in range(children):
            market.inject(side=int(eps), qty=int(child[c]), t_ns=t_start + int(c * step * NS))
        market.run_until(t_start + int(duration_s * NS))
        m1, v1 = market.mid, market.fundamental
        if m0 is None or m1 is None:
            continue  # a side of the book was empty: no mid to measure (never seen)
        out[k, filled[k]] = eps * ((m1 - m0) - (v1 - v0)) / tick
        filled[k] += 1
    return out


def fit_power_law(
    sizes: tuple[int, ...] | np.ndarray,
    impacts: np.ndarray,
    *,
    n_boot: int = 2_000,
    seed: int = 0,
) -> tuple[float, float, float, float]:
    """Least-squares slope of ``log mean(I)`` on ``log Q``; returns ``(delta, lo, hi, Y)``.

    ``(lo, hi)`` is a 95% percentile bootstrap interval that resamples the metaorders of
    each size. A resample whose mean impact is not positive at some size has no slope; if
    more than 2.5% of them have none, the interval is reported as the uninformative [0, 1].

    Raises
    ------
    ValueError
        When the mean impact of some size is not positive (no log-log fit exists).
    """
    x = np.log(np.asarray(sizes, dtype=np.float64))
    means = np.array([np.nanmean(row) for row in impacts])
    if np.any(means <= 0):
        raise ValueError(f"mean impact must be positive at every size, actually: {means}")
    slope, icpt = np.polyfit(x, np.log(means), 1)
    rng = np.random.default_rng(seed)
    rows = [row[~np.isnan(row)] for row in impacts]
    boots = np.empty(n_boot)
    for b in range(n_boot):
        m = np.array([r[rng.integers(0, r.shape[0], r.shape[0])].mean() for r in rows])
        boots[b] = np.polyfit(x, np.log(m), 1)[0] if np.all(m > 0) else np.nan
    bad = np.isnan(boots).mean()
    if bad > 0.025:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = (float(v) for v in np.nanpercentile(boots, [2.5, 97.5]))
    return float(slope), lo, hi, float(np.exp(icpt))


def square_root_law(
    params: AgentParams | None = None,
    *,
    seed: int = 0,
    sizes: tuple[int, ...] = DEFAULT_SIZES,
    n_per_size: int = 400,
    duration_s: float = 600.0,
    children: int = 20,
    gap_s: float = 300.0,
    n_boot: int = 2_000,
) -> ImpactFit:
    """Run the metaorder experiment and fit the impact exponent with its bootstrap CI."""
    imp = metaorder_impacts(
        params,
        seed=seed,
        sizes=sizes,
        n_per_size=n_per_size,
        duration_s=duration_s,
        children=children,
        gap_s=gap_s,
    )
    delta, lo, hi, y = fit_power_law(sizes, imp, n_boot=n_boot, seed=seed)
    se = [float(np.nanstd(r, ddof=1) / np.sqrt(np.sum(~np.isnan(r)))) for r in imp]
    return ImpactFit(
        sizes=tuple(int(q) for q in sizes),
        mean_impact_ticks=tuple(float(np.nanmean(r)) for r in imp),
        stderr_ticks=tuple(se),
        n_per_size=n_per_size,
        exponent=delta,
        ci_low=lo,
        ci_high=hi,
        prefactor=y,
        duration_s=duration_s,
        children=children,
    )


__all__ = ["DEFAULT_SIZES", "ImpactFit", "fit_power_law", "metaorder_impacts", "square_root_law"]
