"""Parameters of the agent-based market and the fitted distributions they describe.

:class:`AgentParams` is one frozen, strict configuration (unknown JSON keys are an error);
:func:`build_tables` turns its parametric distributions (placement distance, order sizes)
into the value/cumulative-probability tables the compiled engine samples from.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tradelearn.errors import ConfigError
from tradelearn.sim import abm_kernels as K

DIST_PROBS = np.array(
    [0.0, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45,
     0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]
)  # fmt: skip
"""Probabilities at which the placement-distance quantiles are given."""


@dataclass(frozen=True, kw_only=True)
class AgentParams:
    """Parameters of the agent-based market (rates per second, distances in ticks).

    The defaults are fitted to GOOG on 2012-06-21 (LOBSTER, 10 levels) by
    ``tradelearn sim calibrate --message GOOG_..._message_10.csv.gz --orderbook
    GOOG_..._orderbook_10.csv.gz`` (:func:`tradelearn.sim.abm_calibrate.calibrate` says what
    is fitted from what), rounded to four significant digits. Fields marked *model choice*
    are behavioural constants that anonymous order-by-order data cannot identify.
    """

    # --- the instrument and the liquidity providers -------------------------------
    start_price: int = 5_798_200
    """Opening fundamental value in price units (LOBSTER: USD x 10000): GOOG's first mid."""
    tick: int = 100
    limit_rate: float = 2.683
    """Limit orders (liquidity providers and fundamental traders) per second; scaled so a
    simulated day has GOOG's 3.045 adds per second (market makers' quotes included)."""
    dist_quantiles: tuple[float, ...] = (
        -6.5, -2.5, 1.5, 5.5, 9.5, 12.0, 13.5, 15.0, 16.5, 18.0, 19.5, 21.5,
        23.0, 24.5, 26.0, 28.0, 29.5, 31.5, 34.0, 36.5, 40.0, 46.0, 100.4,
    )  # fmt: skip
    """Quantiles, at the probabilities :data:`DIST_PROBS`, of a limit order's distance
    (ticks) from the mid before it (negative: past the mid); piecewise linear between."""
    anchor: float = 1.0
    """*Model choice.* Weight of their value (vs. the mid) in where liquidity providers
    place: 1 places around the value, so the book follows what they believe."""
    cancel_rates: tuple[float, float, float] = (86.23, 0.1176, 1.465e-05)
    """Cancel rates (1/s) of the lifetime classes: flickering, fleeting, patient (the last
    is an upper bound: deletes beyond the file's 10 levels are unseen)."""
    class_inside: tuple[float, float, float] = (0.4327, 0.5323, 0.0350)
    """Class probabilities of an order that improves its side's best quote..."""
    class_other: tuple[float, float, float] = (0.1609, 0.7461, 0.0930)
    """... and of every other order."""
    partial_frac: float = 0.0002924
    """Share of cancels that halve the order instead of deleting it."""
    stale_cancel: float = 0.5
    """*Model choice.* Rate (1/s) at which an agent withdraws an order left on the wrong
    side of the liquidity providers' value (a bid above it, an ask below it)."""
    # --- what trades teach the liquidity providers --------------------------------
    learn_kappa: float = 0.2142
    """Ticks their value moves per sqrt(share) of a market order (regression of one-minute
    mid changes on the fading sum of signed square-root trade sizes)."""
    learn_power: float = 0.5
    """*Model choice.* Per-trade concavity (not identified by the data; see calibrate)."""
    learn_tau: float = 3_600.0
    """Memory (s) of what trades taught them (the best-fitting of 300, 600, 1800, 3600)."""
    # --- sizes -----------------------------------------------------------------
    lo_round_frac: float = 0.5133
    """Limit order sizes: a round lot (100 k, k geometric) with this probability..."""
    lo_round_mean: float = 1.099
    """... of mean lot count k, else an odd lot exp(N(mu, sigma)) rounded into 1..99."""
    lo_odd_mu: float = 2.262
    lo_odd_sigma: float = 0.6094
    mo_round_frac: float = 0.3669
    """Market order sizes (executions sharing a timestamp): the same family."""
    mo_round_mean: float = 1.245
    mo_odd_mu: float = 2.855
    mo_odd_sigma: float = 1.371
    size_max: int = 5_000
    # --- takers ------------------------------------------------------------------
    noise_rate: float = 0.1138
    """Immigrant rate of the noise takers' Hawkes process (fitted 0.1327, scaled so a
    simulated day has GOOG's 0.2535 market orders per second)."""
    hawkes_branching: float = 0.4763
    hawkes_beta: float = 455.1
    """Decay rate (1/s) of the exponential Hawkes kernel (GOOG's sweeps come in bursts)."""
    informed_rate: float = 0.05
    """*Model choice.* Informed takers' rate at a full-scale mispricing..."""
    informed_threshold: float = 10.0
    """... which starts at this gap (ticks) between the mid and the fundamental value..."""
    informed_scale: float = 20.0
    """... and is full this many ticks further."""
    momentum_rate: float = 0.01
    """*Model choice.* Momentum traders' rate at a full-scale trend..."""
    momentum_tau: float = 60.0
    """... measured as the fading sum (memory in s) of mid changes..."""
    momentum_scale: float = 30.0
    """... and full at this many ticks."""
    hidden_rate: float = 0.1672
    """Hidden executions (LOBSTER type 5) per second."""
    fund_frac: float = 0.02
    """*Model choice.* Share of the limit flow from fundamental traders."""
    # --- market makers (model choices but the half spread) ----------------------------
    n_market_makers: int = 1
    mm_quote_rate: float = 0.2
    mm_half_spread: float = 14.81
    """Half of GOOG's mean spread."""
    mm_skew: float = 0.5
    """Share of the half spread the quotes lean with the queue imbalance at the touch."""
    mm_gamma: float = 2.0
    """Ticks the quotes lean per lot (``mm_size``) of inventory."""
    mm_inventory_limit: float = 1_000.0
    mm_size: int = 100
    # --- exogenous drivers ----------------------------------------------------------
    sigma_v: float = 3.822
    """Volatility of the fundamental value, ticks per sqrt(second) at unit activity
    (five-minute mid returns, then scaled so a simulated day has GOOG's one-minute
    volatility, 0.000516)."""
    profile: tuple[float, ...] = (
        1.112, 1.385, 1.230, 1.043, 0.7649, 0.7991, 0.7774,
        0.7199, 0.9620, 0.8402, 0.9174, 1.009, 1.441,
    )  # fmt: skip
    """Intraday profile of the flow's rates: messages per half hour over their mean."""
    vol_profile: tuple[float, ...] = (
        4.210, 0.6961, 1.083, 1.140, 0.5213, 0.5926, 0.7733,
        0.4691, 0.5479, 0.3933, 0.8556, 0.6748, 1.043,
    )  # fmt: skip
    """Intraday profile of the fundamental's variance: mean squared one-minute return
    per half hour over its mean."""
    profile_bin: float = 1_800.0
    activity_tau: float = 341.6
    """Correlation time (s) of the latent log-activity (per-minute message counts)..."""
    activity_sigma: float = 0.1809
    """... and its standard deviation."""
    jump_rate: float = 0.0
    """*Model choice.* Jumps of the fundamental value per second (off)..."""
    jump_size: float = 0.0
    """... and their mean size (ticks, exponential)."""
    clock: float = 1.0
    """Seconds between moves of the activity and the fundamental value."""
    warmup: float = 1_800.0
    """Seconds simulated (not written) before the open so the book is in its steady state."""
    seed_orders: int = 200
    """Orders resting at the start of the warm-up."""

    def validate(self) -> None:
        """Raise :class:`~tradelearn.errors.ConfigError` naming the first bad field."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "dist_quantiles":
                continue
            if f.name in ("cancel_rates", "class_inside", "class_other"):
                if len(value) != 3 or any(not (x >= 0) for x in value):
                    raise ConfigError(
                        f"AgentParams.{f.name} must be 3 values >= 0, actually: {value}"
                    )
                if f.name != "cancel_rates" and abs(sum(value) - 1) > 1e-6:
                    raise ConfigError(f"AgentParams.{f.name} must sum to 1, actually: {value}")
                continue
            if f.name in ("profile", "vol_profile"):
                if not value or any(not (x > 0) for x in value):
                    raise ConfigError(
                        f"AgentParams.{f.name} must be positive values, actually: {value}"
                    )
                continue
            if not value >= 0:
                raise ConfigError(f"AgentParams.{f.name} must be >= 0, actually: {value}")
        for name in ("lo_round_frac", "mo_round_frac",
                     "fund_frac", "partial_frac", "anchor"):  # fmt: skip
            value = getattr(self, name)
            if value > 1:
                raise ConfigError(f"AgentParams.{name} must be in [0, 1], actually: {value}")
        q = self.dist_quantiles
        if len(q) != len(DIST_PROBS) or any(b < a for a, b in itertools.pairwise(q)):
            raise ConfigError(
                f"AgentParams.dist_quantiles must be {len(DIST_PROBS)} non-decreasing values, "
                f"actually: {q}"
            )
        if self.hawkes_branching >= 1:
            raise ConfigError(
                f"AgentParams.hawkes_branching must be < 1 (stationary), actually: {self.hawkes_branching}"
            )
        for name in ("tick", "hawkes_beta", "momentum_tau", "momentum_scale", "informed_scale",
                     "activity_tau", "clock", "profile_bin", "mm_size", "size_max", "learn_tau"):  # fmt: skip
            if not getattr(self, name) > 0:
                raise ConfigError(
                    f"AgentParams.{name} must be > 0, actually: {getattr(self, name)}"
                )
        if self.start_price <= 1_000 * self.tick:
            raise ConfigError(
                f"AgentParams.start_price must exceed 1000 ticks, actually: {self.start_price}"
            )

    def vector(self) -> np.ndarray:
        """The parameters the kernels read, in :mod:`abm_kernels` order."""
        P = np.zeros(K.N_P)
        P[K.P_LAMBDA_L] = self.limit_rate
        P[K.P_FUND_FRAC] = self.fund_frac
        P[K.P_STALE] = self.stale_cancel
        P[K.P_MU_N] = self.noise_rate
        P[K.P_HAWKES_ALPHA] = self.hawkes_branching * self.hawkes_beta
        P[K.P_HAWKES_BETA] = self.hawkes_beta
        P[K.P_LAMBDA_I] = self.informed_rate
        P[K.P_THETA_I] = self.informed_threshold
        P[K.P_SCALE_I] = self.informed_scale
        P[K.P_LAMBDA_M] = self.momentum_rate
        P[K.P_TAU_M] = self.momentum_tau
        P[K.P_SCALE_M] = self.momentum_scale
        P[K.P_LAMBDA_Q] = self.mm_quote_rate
        P[K.P_MM_HALF] = self.mm_half_spread
        P[K.P_MM_SKEW] = self.mm_skew
        P[K.P_MM_GAMMA] = self.mm_gamma
        P[K.P_MM_INV_MAX] = self.mm_inventory_limit
        P[K.P_MM_SIZE] = self.mm_size
        P[K.P_NU0 : K.P_NU0 + 3] = self.cancel_rates
        P[K.P_W_IN0], P[K.P_W_IN1] = self.class_inside[:2]
        P[K.P_W_OUT0], P[K.P_W_OUT1] = self.class_other[:2]
        P[K.P_PARTIAL] = self.partial_frac
        P[K.P_LAMBDA_H] = self.hidden_rate
        P[K.P_SIGMA_V] = self.sigma_v
        P[K.P_TAU_X] = self.activity_tau
        P[K.P_SIGMA_X] = self.activity_sigma
        P[K.P_CLOCK] = self.clock
        P[K.P_BIN] = self.profile_bin
        P[K.P_JUMP_RATE] = self.jump_rate
        P[K.P_JUMP_SIZE] = self.jump_size
        P[K.P_N_MM] = self.n_market_makers
        P[K.P_ANCHOR] = self.anchor
        P[K.P_KAPPA] = self.learn_kappa
        P[K.P_TAU_I] = self.learn_tau
        P[K.P_LEARN_POW] = self.learn_power
        return P

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["profile"] = list(self.profile)
        d["vol_profile"] = list(self.vol_profile)
        for name in ("dist_quantiles", "cancel_rates", "class_inside", "class_other"):
            d[name] = list(getattr(self, name))
        return d

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | Path) -> AgentParams:
        """Parameters from a dict or a JSON file; unknown keys are an error."""
        if not isinstance(data, dict):
            data = json.loads(Path(data).read_text())
        assert isinstance(data, dict)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown AgentParams fields {unknown}; known: {sorted(known)}")
        kw = dict(data)
        for name in ("profile", "vol_profile", "dist_quantiles", "cancel_rates",
                     "class_inside", "class_other"):  # fmt: skip
            if name in kw:
                kw[name] = tuple(float(x) for x in kw[name])
        p = cls(**kw)
        p.validate()
        return p


# ------------------------------------------------------------------ fitted distributions
def distance_table(p: AgentParams) -> tuple[np.ndarray, np.ndarray]:
    """Quantile values and their probabilities: the engine interpolates between them."""
    return np.asarray(p.dist_quantiles, dtype=np.float64), DIST_PROBS.copy()


def size_table(
    round_frac: float, round_mean: float, mu: float, sigma: float, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Values and cumulative probabilities of an order size: a round lot ``100 k`` (``k``
    geometric with mean ``round_mean``) or an odd lot ``exp(N(mu, sigma))`` in 1..99."""
    from scipy import stats  # type: ignore[import-untyped, unused-ignore]

    odd = np.arange(1, 100)
    edges = stats.lognorm.cdf(np.arange(0.5, 100.5), max(sigma, 1e-6), scale=np.exp(mu))
    w_odd = np.diff(edges)
    w_odd = (1 - round_frac) * w_odd / w_odd.sum()
    k = np.arange(1, cap // 100 + 1)
    g = 1.0 / max(round_mean, 1.0)
    w_k = g * (1 - g) ** (k - 1) if g < 1 else (k == 1).astype(float)
    w_k = round_frac * w_k / w_k.sum()
    vals = np.concatenate([odd, 100 * k]).astype(np.int64)
    w = np.concatenate([w_odd, w_k])
    order = np.argsort(vals, kind="stable")
    return vals[order], _cdf(w[order])


def _cdf(w: np.ndarray) -> np.ndarray:
    c = np.cumsum(w)
    c /= c[-1]
    c[-1] = 1.0
    return c


@dataclass
class Tables:
    profile: np.ndarray
    d_vals: np.ndarray
    d_cdf: np.ndarray
    lo_vals: np.ndarray
    lo_cdf: np.ndarray
    mo_vals: np.ndarray
    mo_cdf: np.ndarray
    margin: int = field(default=0)
    scratch: np.ndarray = field(default_factory=lambda: np.zeros(16))
    """Room for the kernels' per-kind intensities (they allocate nothing)."""

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The tables in the order the kernels unpack them."""
        return (self.profile, self.d_vals, self.d_cdf, self.lo_vals, self.lo_cdf,
                self.mo_vals, self.mo_cdf, self.scratch)  # fmt: skip


def build_tables(p: AgentParams) -> Tables:
    """The sampling tables of the engine for ``p``."""
    d_vals, d_cdf = distance_table(p)
    lo = size_table(p.lo_round_frac, p.lo_round_mean, p.lo_odd_mu, p.lo_odd_sigma, p.size_max)
    mo = size_table(p.mo_round_frac, p.mo_round_mean, p.mo_odd_mu, p.mo_odd_sigma, p.size_max)
    margin = int(max(lo[0].max(), mo[0].max())) + 16
    n = max(len(p.profile), len(p.vol_profile))
    prof = np.ones((2, n))
    for row, values in enumerate((p.profile, p.vol_profile)):
        prof[row, : len(values)] = values
        prof[row, len(values) :] = values[-1]
    return Tables(prof, d_vals, d_cdf, *lo, *mo, margin=margin)
