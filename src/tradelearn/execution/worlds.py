"""Model worlds of optimal execution and their exact discrete-time optima.

Three worlds, each a frozen, strict parameter set: Almgren-Chriss (:class:`ACWorld`),
Obizhaeva-Wang (:class:`OWWorld`) and Cartea-Jaimungal (:class:`CJWorld`). All three sell a
parent order of :math:`X` shares over :math:`N` steps of length :math:`\\tau = T/N` (a buy is
the mirror image). Step :math:`k = 0, \\dots, N-1` starts at :math:`t_k = k\\tau` in state
:math:`z_k = (x_k, P_k, D_k)`: shares left, unaffected-mid move since arrival, transient
impact. The child order :math:`n_k` trades at once at

.. math::

    \\bar S_k = S_0 + P_k - D_k - c\\, n_k,

then the price diffuses over the step while :math:`x_{k+1} = x_k - n_k` is held:

.. math::

    P_{k+1} = P_k - \\gamma n_k + \\sigma\\sqrt{\\tau}\\,\\xi_k, \\qquad
    D_{k+1} = a\\,(D_k + \\kappa n_k), \\qquad \\xi_k \\sim N(0, 1).

The cost of a step is the shortfall against the arrival mid plus a running penalty on what
is held over the step (:mod:`tradelearn.execution.reward`):
:math:`n_k (S_0 - \\bar S_k) + \\pi x_{k+1}^2`. The last step (:math:`k = N-1`) liquidates
the remainder at the world's terminal coefficient :math:`c_T` in place of :math:`c`.

=====  ==========  ==========  ===========  =====  ===========
world  c           c_T         pi           kappa  a
=====  ==========  ==========  ===========  =====  ===========
AC     eta / tau   eta / tau   lambda s2 t  0      0
OW     (k + g)/2   (k + g)/2   lambda s2 t  k      exp(-rho t)
CJ     k / tau     alpha       phi tau      0      0
=====  ==========  ==========  ===========  =====  ===========

(``s2 t`` is :math:`\\sigma^2\\tau`; in OW, ``k`` is the transient impact :math:`\\kappa` and
``g`` the permanent :math:`\\gamma`, so the permanent part costs :math:`\\gamma X^2/2` whatever
the schedule.) CJ's terminal block falls at :math:`t_{N-1} = T - \\tau`, so the discrete
problem tends to the continuous one of Cartea, Jaimungal and Penalva as :math:`N` grows.

Costs are quadratic in :math:`(z, n)` and the dynamics are linear with additive noise, so
the finite-horizon linear-quadratic recursion (Riccati) gives the exact optimum over all
non-anticipating strategies as a linear feedback :math:`n_k = G_k z_k`, and the exact
expected cost of any linear feedback (:func:`riccati`, :func:`evaluate_gains`). The known
formulas it must reproduce are here too: the discrete Almgren-Chriss sinh trajectory
(:func:`ac_trajectory`), the Alfonsi-Fruth-Schied blocks (:func:`afs_trades`) and the
continuous Cartea-Jaimungal optimum (:func:`cj_continuous_inventory`,
:func:`cj_continuous_cost`), which the discrete optimum approaches as :math:`N` grows.

For AC the expected cost plus the penalty equals Almgren-Chriss's :math:`E + \\lambda V` on
every deterministic schedule; over adaptive strategies it is the expected cost plus the
running risk charge, whose optimum is the same schedule (certainty equivalence).

References
----------
R. Almgren and N. Chriss, "Optimal execution of portfolio transactions", Journal of Risk
3(2), 5-39, 2000.
A. Obizhaeva and J. Wang, "Optimal trading strategy and supply/demand dynamics", Journal of
Financial Markets 16(1), 1-32, 2013.
A. Alfonsi, A. Fruth and A. Schied, "Optimal execution strategies in limit order books with
general shape functions", Quantitative Finance 10(2), 143-157, 2010 (preprint 2008).
Á. Cartea, S. Jaimungal and J. Penalva, "Algorithmic and High-Frequency Trading",
Cambridge University Press, 2015, ch. 6.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError

FloatArray = NDArray[np.float64]

BPS = 1e4


@dataclass(frozen=True, kw_only=True)
class _World:
    """Fields every world shares. Time is in one unit throughout (the presets use days)."""

    kind: ClassVar[str] = ""
    _non_negative: ClassVar[frozenset[str]] = frozenset({"volatility"})

    parent_qty: float
    """Shares to sell, :math:`X`."""
    arrival_price: float
    """Mid price on arrival, :math:`S_0`."""
    horizon: float
    """Time to finish, :math:`T`."""
    n_steps: int
    """Decision steps, :math:`N` (the last one liquidates what is left)."""
    volatility: float
    """:math:`\\sigma`, price units per square root of the time unit (0 allowed)."""
    market_volume: float
    """Shares the rest of the market trades per step; only volume-driven policies read it."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not numeric or not math.isfinite(value):
                raise ConfigError(
                    f"{self.kind}.{f.name} must be a finite number, actually: {value!r}"
                )
            low_ok = value >= 0 if f.name in self._non_negative else value > 0
            if not low_ok:
                bound = "non-negative" if f.name in self._non_negative else "positive"
                raise ConfigError(f"{self.kind}.{f.name} must be {bound}, actually: {value!r}")
        if not isinstance(self.n_steps, int) or not 2 <= self.n_steps <= 1_000_000:
            raise ConfigError(
                f"{self.kind}.n_steps must be an integer >= 2 (and <= 1,000,000), "
                f"actually: {self.n_steps!r}"
            )

    @property
    def tau(self) -> float:
        """Length of one step, :math:`T/N`."""
        return self.horizon / self.n_steps

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> _World:
        """Build a world from a mapping, rejecting unknown and missing keys by name."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{cls.kind}: unknown key(s) {unknown}; known keys are {sorted(known)}"
            )
        try:
            return cls(**dict(data))
        except TypeError as exc:  # a missing required key
            raise ConfigError(f"{cls.kind}: {exc}".replace("__init__() ", "")) from None

    def to_dict(self) -> dict[str, Any]:
        """The parameters with the world's name under ``"world"``."""
        return {"world": self.kind, **asdict(self)}


@dataclass(frozen=True, kw_only=True)
class ACWorld(_World):
    """Almgren-Chriss: linear temporary and permanent impact, arithmetic Brownian price,
    mean-variance objective with risk aversion :math:`\\lambda`."""

    kind: ClassVar[str] = "ac"
    _non_negative: ClassVar[frozenset[str]] = frozenset(
        {"volatility", "permanent_impact", "risk_aversion"}
    )

    temporary_impact: float
    """:math:`\\eta`: price concession per unit of trading rate (shares per time unit)."""
    permanent_impact: float
    """:math:`\\gamma`: lasting price move per share sold."""
    risk_aversion: float
    """:math:`\\lambda`, per price unit."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.temporary_impact - 0.5 * self.permanent_impact * self.tau <= 0:
            raise ConfigError(
                "ac: temporary_impact must exceed permanent_impact * tau / 2 "
                f"(Almgren-Chriss eta-tilde > 0), actually: {self.temporary_impact!r}"
            )


@dataclass(frozen=True, kw_only=True)
class OWWorld(_World):
    """Obizhaeva-Wang: a block-shaped book of depth :math:`1/\\kappa` whose transient impact
    decays at rate :math:`\\rho`; optional permanent impact and risk aversion."""

    kind: ClassVar[str] = "ow"
    _non_negative: ClassVar[frozenset[str]] = frozenset(
        {"volatility", "permanent_impact", "risk_aversion"}
    )

    transient_impact: float
    """:math:`\\kappa`: price move per share of a trade (inverse book depth)."""
    resilience: float
    """:math:`\\rho`: decay rate of the transient impact, per time unit."""
    permanent_impact: float
    """:math:`\\gamma`: lasting price move per share (the same cost for every schedule)."""
    risk_aversion: float
    """:math:`\\lambda` of the running risk charge :math:`\\lambda\\sigma^2\\tau x^2`."""


@dataclass(frozen=True, kw_only=True)
class CJWorld(_World):
    """Cartea-Jaimungal: temporary and permanent impact, a running inventory penalty
    :math:`\\varphi` and a terminal liquidation penalty :math:`\\alpha`."""

    kind: ClassVar[str] = "cj"
    _non_negative: ClassVar[frozenset[str]] = frozenset({"volatility", "permanent_impact"})

    temporary_impact: float
    """:math:`k`: price concession per unit of trading rate."""
    permanent_impact: float
    """:math:`b`: lasting price move per share sold."""
    terminal_penalty: float
    """:math:`\\alpha`: the remainder :math:`q` is sold at :math:`S - \\alpha q` at the end."""
    inventory_penalty: float
    """:math:`\\varphi` of the running penalty :math:`\\varphi \\int q_t^2\\,dt`."""


World = ACWorld | OWWorld | CJWorld
WORLDS: dict[str, type[ACWorld] | type[OWWorld] | type[CJWorld]] = {
    "ac": ACWorld,
    "ow": OWWorld,
    "cj": CJWorld,
}


@dataclass(frozen=True)
class Dynamics:
    """A world reduced to the coefficients of the step equations in the module docstring."""

    parent_qty: float
    arrival_price: float
    n_steps: int
    trade_cost: float
    """:math:`c`, price concession per share traded in one step."""
    terminal_cost: float
    """:math:`c_T`, the same for the liquidation in the last step."""
    penalty: float
    """:math:`\\pi` of the running penalty :math:`\\pi x_{k+1}^2`."""
    permanent: float
    """:math:`\\gamma`."""
    kappa: float
    """:math:`\\kappa` (0 without transient impact)."""
    decay: float
    """:math:`a` (0 without transient impact)."""
    noise_sd: float
    """:math:`\\sigma\\sqrt{\\tau}`."""

    @property
    def parent_value(self) -> float:
        """Arrival value of the parent order, :math:`X S_0` (the unit of basis points)."""
        return self.parent_qty * self.arrival_price


def dynamics(world: World) -> Dynamics:
    """Reduce a world to its step coefficients (see the table in the module docstring)."""
    tau = world.tau
    common = dict(
        parent_qty=float(world.parent_qty),
        arrival_price=float(world.arrival_price),
        n_steps=world.n_steps,
        noise_sd=world.volatility * math.sqrt(tau),
    )
    if isinstance(world, ACWorld):
        c = world.temporary_impact / tau
        return Dynamics(
            **common,  # type: ignore[arg-type]
            trade_cost=c,
            terminal_cost=c,
            penalty=world.risk_aversion * world.volatility**2 * tau,
            permanent=world.permanent_impact,
            kappa=0.0,
            decay=0.0,
        )
    if isinstance(world, OWWorld):
        c = 0.5 * (world.transient_impact + world.permanent_impact)
        return Dynamics(
            **common,  # type: ignore[arg-type]
            trade_cost=c,
            terminal_cost=c,
            penalty=world.risk_aversion * world.volatility**2 * tau,
            permanent=world.permanent_impact,
            kappa=world.transient_impact,
            decay=math.exp(-world.resilience * tau),
        )
    return Dynamics(
        **common,  # type: ignore[arg-type]
        trade_cost=world.temporary_impact / tau,
        terminal_cost=world.terminal_penalty,
        penalty=world.inventory_penalty * tau,
        permanent=world.permanent_impact,
        kappa=0.0,
        decay=0.0,
    )


def make_world(name: str, **overrides: Any) -> World:
    """The preset world ``name`` (``"ac"``, ``"ow"`` or ``"cj"``) with fields overridden.

    The presets sell 5% of a day's volume of a $100 stock (2% daily volatility) in one hour
    of a 6.5-hour day, in 10 steps of 6 minutes; time is in days.
    """
    if name not in PRESETS:
        raise ConfigError(f"world must be one of {sorted(PRESETS)}, actually: {name!r}")
    data = {**PRESETS[name], **overrides}
    return WORLDS[name].from_mapping(data)  # type: ignore[return-value]


def world_from_dict(data: Mapping[str, Any]) -> World:
    """Inverse of ``World.to_dict``."""
    values = dict(data)
    name = values.pop("world", None)
    if name not in WORLDS:
        raise ConfigError(f"world must be one of {sorted(WORLDS)}, actually: {name!r}")
    return WORLDS[name].from_mapping(values)  # type: ignore[return-value]


_HOUR = 1.0 / 6.5
_COMMON: dict[str, Any] = dict(
    parent_qty=100_000.0,
    arrival_price=100.0,
    horizon=_HOUR,
    n_steps=10,
    volatility=2.0,
    market_volume=200_000.0,
)
PRESETS: dict[str, dict[str, Any]] = {
    # TWAP over the hour costs about 8 bp of temporary impact; permanent impact 5 bp;
    # risk aversion puts kappa*T near 2 (the optimum front-loads)
    "ac": dict(_COMMON, temporary_impact=1.25e-7, permanent_impact=1e-6, risk_aversion=5e-6),
    # a 100k block moves the price 30 bp; the book recovers with a half-life of 10 minutes
    "ow": dict(
        _COMMON,
        transient_impact=3e-6,
        resilience=math.log(2) / (10.0 / 390.0),
        permanent_impact=0.0,
        risk_aversion=0.0,
    ),
    # the terminal block costs 3 times a step's trading; the inventory penalty puts
    # sqrt(phi/k)*T near 1.5
    "cj": dict(
        _COMMON,
        temporary_impact=1.25e-7,
        permanent_impact=1e-6,
        terminal_penalty=3 * 1.25e-7 / (_HOUR / 10),
        inventory_penalty=1.25e-7 * (1.5 / _HOUR) ** 2,
    ),
}


# --- the linear-quadratic recursion -------------------------------------------------------


@dataclass(frozen=True)
class LQSolution:
    """Feedback gains and quadratic value functions of a linear policy in a world.

    ``gains[k] @ z`` is the child order at step ``k`` in state ``z = (x, P, D)``; the last
    row is ``(1, 0, 0)`` (the liquidation). The expected cost from step ``k`` on is
    ``z @ value[k] @ z + offset[k]`` in price units times shares.
    """

    gains: FloatArray
    value: FloatArray
    offset: FloatArray
    parent_value: float
    parent_qty: float

    @property
    def cost(self) -> float:
        """Expected cost from arrival, in price units times shares."""
        z0 = np.array([self.parent_qty, 0.0, 0.0])
        return float(z0 @ self.value[0] @ z0 + self.offset[0])

    @property
    def cost_bps(self) -> float:
        """Expected cost from arrival in basis points of the arrival value."""
        return self.cost / self.parent_value * BPS


def _lq_matrices(
    dyn: Dynamics,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Stage cost ``M`` over ``(x, P, D, n)``, dynamics ``[A B]``, noise covariance ``W`` and
    the liquidation cost ``L`` over ``(x, P, D)``."""
    c, pen = dyn.trade_cost, dyn.penalty
    # n(-P + D) + c n^2 + pen (x - n)^2
    m = np.zeros((4, 4))
    m[0, 0] = pen
    m[3, 3] = c + pen
    m[0, 3] = m[3, 0] = -pen
    m[1, 3] = m[3, 1] = -0.5
    m[2, 3] = m[3, 2] = 0.5
    ab = np.zeros((3, 4))
    ab[0, 0], ab[1, 1], ab[2, 2] = 1.0, 1.0, dyn.decay
    ab[:, 3] = (-1.0, -dyn.permanent, dyn.decay * dyn.kappa)
    w = np.zeros((3, 3))
    w[1, 1] = dyn.noise_sd**2
    # x(-P + D) + c_T x^2
    last = np.zeros((3, 3))
    last[0, 0] = dyn.terminal_cost
    last[0, 1] = last[1, 0] = -0.5
    last[0, 2] = last[2, 0] = 0.5
    return m, ab, w, last


def _solve(world: World, fixed_gains: FloatArray | None) -> LQSolution:
    dyn = dynamics(world)
    n = dyn.n_steps
    m, ab, w, last = _lq_matrices(dyn)
    gains = np.zeros((n, 3))
    value = np.zeros((n, 3, 3))
    offset = np.zeros(n)
    gains[-1] = (1.0, 0.0, 0.0)
    value[-1] = last
    for k in range(n - 2, -1, -1):
        h = m + ab.T @ value[k + 1] @ ab
        offset[k] = offset[k + 1] + float(np.sum(value[k + 1] * w))
        if fixed_gains is None:
            if h[3, 3] <= 0:
                raise ConfigError(
                    f"{world.kind}: the cost is not convex in the trade at step {k} "
                    f"(curvature {h[3, 3]:.3g}); check the impact and penalty parameters"
                )
            gains[k] = -h[3, :3] / h[3, 3]
        else:
            gains[k] = fixed_gains[k]
        lift = np.vstack([np.eye(3), gains[k][None, :]])
        value[k] = lift.T @ h @ lift
        value[k] = 0.5 * (value[k] + value[k].T)
    if dyn.kappa == 0 and fixed_gains is None:
        gains[:, 2] = 0.0  # no transient impact: D stays 0, so its gain is arbitrary
    return LQSolution(gains, value, offset, dyn.parent_value, dyn.parent_qty)


def riccati(world: World) -> LQSolution:
    """The exact optimum of a world: backward Riccati recursion of the finite-horizon LQ problem.

    With stage cost :math:`[z; n]^\\top M [z; n]` and :math:`z' = Az + Bn + w`, the value
    :math:`V_k(z) = z^\\top \\Pi_k z + o_k` satisfies :math:`H = M + [A\\,B]^\\top \\Pi_{k+1}
    [A\\,B]`, :math:`G_k = -H_{nz}/H_{nn}`, :math:`\\Pi_k = H_{zz} + H_{zn} G_k`,
    :math:`o_k = o_{k+1} + \\operatorname{tr}(\\Pi_{k+1} W)`, from the liquidation cost at
    :math:`k = N-1`.
    """
    return _solve(world, None)


def evaluate_gains(world: World, gains: FloatArray) -> LQSolution:
    """Exact expected cost of the linear feedback policy ``n_k = gains[k] @ z_k``.

    ``gains`` has shape ``(n_steps, 3)``; its last row is ignored (the last step liquidates).
    """
    g = np.asarray(gains, dtype=np.float64)
    if g.shape != (world.n_steps, 3):
        raise ConfigError(f"gains must have shape ({world.n_steps}, 3), actually: {g.shape}")
    return _solve(world, g)


def fraction_gains(fractions: FloatArray) -> FloatArray:
    """Gains of the policy that sells ``fractions[k]`` of what is left at step ``k``."""
    f = np.asarray(fractions, dtype=np.float64)
    out = np.zeros((f.size, 3))
    out[:, 0] = f
    return out


def schedule_fractions(trades: FloatArray) -> FloatArray:
    """The fractions of what is left that carry out the schedule ``trades`` exactly."""
    n = np.asarray(trades, dtype=np.float64)
    left = n[::-1].cumsum()[::-1]
    out: FloatArray = np.ones_like(n)
    np.divide(n, left, out=out, where=left > 0)
    return out


def mean_path(world: World, gains: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Expected holdings ``x_0..x_N`` and trades ``n_0..n_{N-1}`` under linear feedback."""
    dyn = dynamics(world)
    _, ab, _, _ = _lq_matrices(dyn)
    z = np.array([dyn.parent_qty, 0.0, 0.0])
    xs, ns = [z[0]], []
    for k in range(dyn.n_steps):
        nk = z[0] if k == dyn.n_steps - 1 else float(gains[k] @ z)
        z = ab @ np.append(z, nk)
        ns.append(nk)
        xs.append(z[0])
    return np.array(xs), np.array(ns)


# --- closed forms -------------------------------------------------------------------------


def ac_trajectory(world: ACWorld) -> FloatArray:
    """Almgren-Chriss's discrete optimal holdings :math:`x_j`, :math:`j = 0..N`.

    :math:`x_j = X \\sinh(\\kappa (T - t_j)) / \\sinh(\\kappa T)` with
    :math:`\\frac{2}{\\tau^2}(\\cosh \\kappa\\tau - 1) = \\lambda\\sigma^2/\\tilde\\eta`,
    :math:`\\tilde\\eta = \\eta - \\gamma\\tau/2`; a straight line (TWAP) when
    :math:`\\lambda\\sigma^2 = 0` (Almgren and Chriss 2000, eqs. 18-19).
    """
    tau, horizon, x0 = world.tau, world.horizon, world.parent_qty
    t = np.arange(world.n_steps + 1) * tau
    eta_t = world.temporary_impact - 0.5 * world.permanent_impact * tau
    k2 = world.risk_aversion * world.volatility**2 / eta_t
    if k2 == 0:
        return np.asarray(x0 * (horizon - t) / horizon, dtype=np.float64)
    kappa = math.acosh(1.0 + 0.5 * k2 * tau * tau) / tau
    return np.asarray(x0 * np.sinh(kappa * (horizon - t)) / math.sinh(kappa * horizon))


def ac_mean_variance(world: ACWorld, holdings: FloatArray) -> tuple[float, float]:
    """Almgren-Chriss's :math:`E = \\gamma X^2/2 + (\\tilde\\eta/\\tau)\\sum n_k^2` and
    :math:`V = \\sigma^2 \\tau \\sum_{k=1}^N x_k^2` of a deterministic schedule."""
    x = np.asarray(holdings, dtype=np.float64)
    n = -np.diff(x)
    tau = world.tau
    eta_t = world.temporary_impact - 0.5 * world.permanent_impact * tau
    e = 0.5 * world.permanent_impact * x[0] ** 2 + eta_t / tau * float(n @ n)
    v = world.volatility**2 * tau * float(x[1:] @ x[1:])
    return e, v


def afs_trades(world: OWWorld) -> FloatArray:
    """Alfonsi-Fruth-Schied's risk-neutral optimum of the discrete Obizhaeva-Wang model.

    Equal blocks :math:`X / ((N-2)(1-a) + 2)` at both ends and equal interior trades of
    :math:`1 - a` times a block, :math:`a = e^{-\\rho\\tau}` (N trades :math:`\\tau` apart).
    """
    a = math.exp(-world.resilience * world.tau)
    n = world.n_steps
    block = world.parent_qty / ((n - 2) * (1 - a) + 2)
    out = np.full(n, block * (1 - a))
    out[0] = out[-1] = block
    return out


def _cj_terms(world: CJWorld) -> tuple[float, float, float]:
    s = math.sqrt(world.temporary_impact * world.inventory_penalty)
    g = math.sqrt(world.inventory_penalty / world.temporary_impact)
    beta = world.terminal_penalty - 0.5 * world.permanent_impact
    return s, g, beta


def cj_continuous_inventory(world: CJWorld, t: FloatArray) -> FloatArray:
    """Cartea-Jaimungal-Penalva's optimal inventory (2015, sec. 6.5):

    .. math::

        Q_t = Q_0 \\frac{\\zeta e^{\\gamma(T-t)} - e^{-\\gamma(T-t)}}
                        {\\zeta e^{\\gamma T} - e^{-\\gamma T}}, \\quad
        \\gamma = \\sqrt{\\varphi/k}, \\quad
        \\zeta = \\frac{\\alpha - b/2 + \\sqrt{k\\varphi}}{\\alpha - b/2 - \\sqrt{k\\varphi}}.
    """
    s, g, beta = _cj_terms(world)
    u = world.horizon - np.asarray(t, dtype=np.float64)
    # (alpha - b/2 - sqrt(k phi)) times the book's numerator and denominator
    num = (beta + s) * np.exp(g * u) - (beta - s) * np.exp(-g * u)
    den = (beta + s) * math.exp(g * world.horizon) - (beta - s) * math.exp(-g * world.horizon)
    out: FloatArray = world.parent_qty * num / den
    return out


def cj_continuous_cost(world: CJWorld) -> float:
    """Optimal expected cost of the continuous Cartea-Jaimungal problem, price units x shares.

    The value function is :math:`x + qS + h(t) q^2` with :math:`h = (g - b)/2`,
    :math:`g(t) = 2\\sqrt{k\\varphi}\\,(1 + \\zeta e^{2\\gamma(T-t)})/(1 - \\zeta e^{2\\gamma(T-t)})`,
    so the cost (shortfall plus inventory penalty) is :math:`(b - g(0)) X^2 / 2`.
    """
    s, g, beta = _cj_terms(world)
    e = math.exp(2 * g * world.horizon)
    g0 = 2 * s * ((beta - s) + (beta + s) * e) / ((beta - s) - (beta + s) * e)
    return 0.5 * (world.permanent_impact - g0) * world.parent_qty**2
