r"""The forecasts set the risk posture: execution urgency and position size.

Two wirings from the day's forecasts to what the desk does:

1. **Execution urgency.** The Almgren-Chriss world of :mod:`tradelearn.execution.worlds`
   takes :math:`\sigma` from the volatility forecast for the day. With the forecast
   variance :math:`v` (percent squared per day, :mod:`tradelearn.risk.vol`) and the
   arrival price :math:`S_0`, :math:`\sigma = S_0 \sqrt{v} / 100` price units per square
   root of a day (the worlds' time unit). The forecast is of the Garman-Klass proxy, the
   variance from the open to the close, which is the variance an intraday schedule
   carries. The optimal holdings are :math:`x_j = X \sinh(\kappa(T - t_j))/\sinh(\kappa T)`
   with urgency :math:`\kappa \approx \sqrt{\lambda\sigma^2/\tilde\eta}`: a higher
   forecast front-loads the schedule. Optionally a *timing-risk budget* raises the risk
   aversion :math:`\lambda` until the schedule's standard deviation of cost,
   :math:`\sqrt{V}`, fits the budget (in basis points of :math:`X S_0`); the template's
   :math:`\lambda` is a floor.
2. **Position size.** :class:`~tradelearn.risk.sizing.VarBudgetSizer` sizes the position
   so its one-day VaR fits a currency budget: a higher VaR forecast gives fewer shares.

Example::

    from tradelearn.execution.worlds import make_world
    from tradelearn.risk.posture import build_posture
    from tradelearn.risk.sizing import VarBudget

    template = make_world("ac")                      # $100 stock, 100k shares in one hour
    calm = build_posture(1.0, template, VarBudget(budget=1e5), var_pct=2.3)
    storm = build_posture(9.0, template, VarBudget(budget=1e5), var_pct=7.0)
    storm.urgency > calm.urgency and storm.shares < calm.shares   # True

``tradelearn risk posture`` runs this end to end on a series and a date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from tradelearn.errors import ConfigError
from tradelearn.execution.policies import AlmgrenChriss
from tradelearn.execution.worlds import (
    BPS,
    ACWorld,
    ac_mean_variance,
    ac_trajectory,
    make_world,
    mean_path,
)
from tradelearn.risk.gate import TradingState
from tradelearn.risk.realized import VolData
from tradelearn.risk.sizing import VarBudget, VarBudgetSizer, risk_posture
from tradelearn.risk.var import empirical_var_es, var_forecasts
from tradelearn.risk.vol import MODELS, rolling_forecasts

__all__ = [
    "Posture",
    "PostureInputs",
    "ac_urgency",
    "build_posture",
    "parametric_var_pct",
    "posture_inputs",
    "rescale_world",
    "sigma_from_variance",
    "world_for_forecast",
]

_MAX_LAMBDA_STEPS = 200


def sigma_from_variance(variance_pct2: float, price: float) -> float:
    """Price-unit volatility per square root of a day from a daily variance in percent squared."""
    _check_positive(variance_pct2, "variance_pct2", allow_zero=True)
    _check_positive(price, "price")
    return price * math.sqrt(variance_pct2) / 100.0


def parametric_var_pct(variance_pct2: float, level: float = 0.99, nu: float = math.inf) -> float:
    r"""One-day VaR (percent) of a zero-mean return with variance ``variance_pct2``.

    Normal for ``nu = inf``, else a unit-variance Student-t:
    :math:`-\sqrt{v}\, \sqrt{(\nu - 2)/\nu}\; t_\nu^{-1}(1 - \text{level})`.
    """
    _check_positive(variance_pct2, "variance_pct2", allow_zero=True)
    if not 0.5 < level < 1.0:
        raise ConfigError(f"level must lie in (0.5, 1), actually: {level}")
    if not nu > 2.0:
        raise ConfigError(f"nu must exceed 2, actually: {nu}")
    if math.isinf(nu):
        q = float(stats.norm.ppf(1.0 - level))
    else:
        q = float(stats.t.ppf(1.0 - level, nu)) * math.sqrt((nu - 2.0) / nu)
    return -q * math.sqrt(variance_pct2)


def rescale_world(template: ACWorld, price: float, parent_qty: float | None = None) -> ACWorld:
    """Move a world to another price with the same costs in basis points.

    Impacts are in price units, so they scale with the price; :math:`\\lambda` is per price
    unit (:math:`E + \\lambda V` mixes price and squared price), so it scales inversely.
    """
    _check_positive(price, "price")
    c = price / template.arrival_price
    return replace(
        template,
        arrival_price=price,
        parent_qty=template.parent_qty if parent_qty is None else parent_qty,
        volatility=template.volatility * c,
        temporary_impact=template.temporary_impact * c,
        permanent_impact=template.permanent_impact * c,
        risk_aversion=template.risk_aversion / c,
    )


def ac_urgency(world: ACWorld) -> float:
    r"""Almgren-Chriss's :math:`\kappa` (per time unit) of the discrete optimum.

    :math:`\frac{2}{\tau^2}(\cosh\kappa\tau - 1) = \lambda\sigma^2/\tilde\eta`; zero (TWAP)
    without risk aversion or volatility.
    """
    tau = world.tau
    eta_t = world.temporary_impact - 0.5 * world.permanent_impact * tau
    k2 = world.risk_aversion * world.volatility**2 / eta_t
    return math.acosh(1.0 + 0.5 * k2 * tau * tau) / tau if k2 > 0 else 0.0


def _timing_risk_bps(world: ACWorld) -> tuple[float, float]:
    """Expected cost and the standard deviation of cost of the optimum, in bps."""
    e, v = ac_mean_variance(world, ac_trajectory(world))
    value = world.parent_qty * world.arrival_price
    return e / value * BPS, math.sqrt(v) / value * BPS


def world_for_forecast(
    template: ACWorld, variance_pct2: float, *, max_timing_risk_bps: float | None = None
) -> ACWorld:
    """The template world with :math:`\\sigma` from the forecast and, with a budget, the
    smallest :math:`\\lambda \\ge` the template's whose timing risk fits the budget."""
    world = replace(template, volatility=sigma_from_variance(variance_pct2, template.arrival_price))
    if max_timing_risk_bps is None:
        return world
    _check_positive(max_timing_risk_bps, "max_timing_risk_bps")
    if world.volatility == 0 or _timing_risk_bps(world)[1] <= max_timing_risk_bps:
        return world
    # the timing risk falls as lambda rises: double to bracket, then bisect in log lambda
    eta_t = world.temporary_impact - 0.5 * world.permanent_impact * world.tau
    lo = world.risk_aversion
    hi = max(lo, 1e-3 * eta_t / world.volatility**2 / world.horizon**2)
    for _ in range(_MAX_LAMBDA_STEPS):
        if _timing_risk_bps(replace(world, risk_aversion=hi))[1] <= max_timing_risk_bps:
            break
        lo, hi = hi, hi * 2.0
    else:
        raise ConfigError(f"max_timing_risk_bps {max_timing_risk_bps} cannot be reached")
    for _ in range(60):
        mid = math.sqrt(lo * hi) if lo > 0 else hi / 2.0
        if _timing_risk_bps(replace(world, risk_aversion=mid))[1] <= max_timing_risk_bps:
            hi = mid
        else:
            lo = mid
    return replace(world, risk_aversion=hi)


@dataclass(frozen=True, eq=False)
class Posture:
    """What the day's forecasts set: the execution schedule and the position size.

    Attributes
    ----------
    variance_pct2
        Forecast variance for the day (percent squared).
    world
        The Almgren-Chriss world with :math:`\\sigma` (and perhaps :math:`\\lambda`) set.
    urgency
        :math:`\\kappa` per day; ``urgency * world.horizon`` is :math:`\\kappa T`.
    holdings, trades
        The optimal schedule: shares held at each step's start (:math:`N + 1` values) and
        sold in each step (:math:`N`).
    expected_cost_bps, timing_risk_bps
        Almgren-Chriss's :math:`E` and :math:`\\sqrt V` in basis points of :math:`X S_0`.
    var_pct, var_level
        The one-day VaR used for sizing and its level.
    shares
        The VaR-budget position size.
    trading_state
        ACTIVE, REDUCING or HALTED from :func:`tradelearn.risk.sizing.risk_posture`.
    """

    variance_pct2: float
    world: ACWorld
    urgency: float
    holdings: np.ndarray
    trades: np.ndarray
    expected_cost_bps: float
    timing_risk_bps: float
    var_pct: float
    var_level: float
    shares: int
    trading_state: TradingState

    @property
    def front_load(self) -> float:
        """Share of the order sold in the first step (``1 / N`` for TWAP)."""
        return float(self.trades[0] / self.world.parent_qty)

    def policy(self) -> AlmgrenChriss:
        """The execution policy (exact optimum as linear feedback) for this world."""
        return AlmgrenChriss(self.world, name="ac_forecast")

    def policy_trades(self) -> np.ndarray:
        """Expected trades of :meth:`policy` run in its world (the schedule, step by step)."""
        return mean_path(self.world, self.policy().gains(self.world.n_steps))[1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "variance_pct2": self.variance_pct2,
            "daily_vol_pct": math.sqrt(self.variance_pct2),
            "sigma_price_per_sqrt_day": self.world.volatility,
            "risk_aversion": self.world.risk_aversion,
            "urgency_kappa_per_day": self.urgency,
            "kappa_T": self.urgency * self.world.horizon,
            "front_load": self.front_load,
            "trades": [float(x) for x in self.trades],
            "holdings": [float(x) for x in self.holdings],
            "expected_cost_bps": self.expected_cost_bps,
            "timing_risk_bps": self.timing_risk_bps,
            "var_pct": self.var_pct,
            "var_level": self.var_level,
            "var_budget_shares": self.shares,
            "trading_state": self.trading_state.name,
        }


def build_posture(
    variance_pct2: float,
    template: ACWorld,
    budget: VarBudget,
    *,
    var_pct: float | None = None,
    nu: float = math.inf,
    max_timing_risk_bps: float | None = None,
    reduce_above: float = 4.0,
    halt_above: float = 8.0,
) -> Posture:
    """Set the schedule and the size from one day's forecasts.

    Parameters
    ----------
    variance_pct2
        The volatility model's variance forecast for the day (percent squared).
    template
        The order and its market: quantity, price, horizon, steps, impacts, :math:`\\lambda`.
    budget
        VaR budget for the position size (its level is the VaR's).
    var_pct
        One-day VaR forecast in percent (e.g. the default EVT VaR); ``None`` takes
        :func:`parametric_var_pct` of ``variance_pct2`` with ``nu``.
    max_timing_risk_bps
        Optional cap on the schedule's standard deviation of cost; see
        :func:`world_for_forecast`.
    reduce_above, halt_above
        VaR thresholds (percent) of the trading state.
    """
    _check_positive(variance_pct2, "variance_pct2", allow_zero=True)
    world = world_for_forecast(template, variance_pct2, max_timing_risk_bps=max_timing_risk_bps)
    holdings = ac_trajectory(world)
    e_bps, sd_bps = _timing_risk_bps(world)
    var = parametric_var_pct(variance_pct2, budget.level, nu) if var_pct is None else var_pct
    sizer = VarBudgetSizer(budget)
    return Posture(
        variance_pct2=float(variance_pct2),
        world=world,
        urgency=ac_urgency(world),
        holdings=holdings,
        trades=-np.diff(holdings),
        expected_cost_bps=e_bps,
        timing_risk_bps=sd_bps,
        var_pct=float(var),
        var_level=budget.level,
        shares=sizer.shares(world.arrival_price, float(var)),
        trading_state=risk_posture(float(var), reduce_above=reduce_above, halt_above=halt_above),
    )


def _check_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = "a non-negative" if allow_zero else "a positive"
        raise ConfigError(f"{name} must be {bound} finite number, actually: {value!r}")


@dataclass(frozen=True)
class PostureInputs:
    """One day's forecasts, each made at the previous close, and what came after.

    ``variance`` is ``model``'s forecast of the day's variance (percent squared),
    ``var_pct`` the default EVT VaR at ``level``; ``static_variance`` and
    ``static_var_pct`` are the window's mean proxy and historical VaR (a posture that
    ignores the forecasts). ``realized_variance`` and ``realized_return`` are the day's own
    proxy and return, for checking afterwards.
    """

    date: str
    origin: str
    model: str
    variance: float
    forecasts: dict[str, float]
    var_pct: float
    level: float
    static_variance: float
    static_var_pct: float
    prev_close: float
    realized_variance: float
    realized_return: float

    def template(
        self,
        qty: float,
        price: float,
        horizon_days: float,
        n_steps: int,
        risk_aversion: float | None = None,
    ) -> ACWorld:
        """The preset Almgren-Chriss world moved to ``price`` and the order given."""
        base = cast(ACWorld, make_world("ac", horizon=horizon_days, n_steps=n_steps))
        world = rescale_world(base, price, qty)
        return world if risk_aversion is None else replace(world, risk_aversion=risk_aversion)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "date": self.date,
            "forecast_origin": self.origin,
            "model": self.model,
            "variance_forecast_pct2": self.variance,
            "forecasts_pct2": self.forecasts,
            "var_method": "evt",
            "var_level": self.level,
            "var_pct": self.var_pct,
            "static_variance_pct2": self.static_variance,
            "static_var_pct": self.static_var_pct,
            "previous_close": self.prev_close,
            "realized_variance_pct2": self.realized_variance,
            "realized_return_pct": self.realized_return,
        }


def posture_inputs(
    data: VolData,
    date: str | None = None,
    *,
    model: str = "tl_combo",
    window: int = 1000,
    level: float = 0.99,
    seed: int = 0,
) -> PostureInputs:
    """The forecasts for ``date`` (default: the series' last day), each from data before it.

    The series is cut after ``date`` so nothing later is read; the models are fitted on
    the ``window`` days before it, as in :func:`tradelearn.risk.vol.rolling_forecasts`.
    """
    if model not in MODELS:
        raise ConfigError(f"model must be one of {list(MODELS)}, actually: {model!r}")
    i = len(data) - 1 if date is None else data.index_of(date)
    if i >= len(data):
        raise ConfigError(f"date {date} is after the series' last day {data.dates[-1]}")
    need = window + 66
    if i < need:
        raise ConfigError(
            f"date needs {need} earlier days (window + 66 for features); "
            f"the first possible date is {data.dates[need]}, actually: {data.dates[i]}"
        )
    cut = VolData(
        data.symbol,
        data.dates[: i + 1],
        data.returns[: i + 1],
        data.proxy[: i + 1],
        data.overnight[: i + 1],
        data.close[: i + 1],
    )
    day = str(data.dates[i])
    # the standard HAR and GJR-t (on the proxy's scale) ride along for comparison
    models = tuple(dict.fromkeys((model, "har", "gjr_t_scaled")))
    fs = rolling_forecasts(cut, start=day, window=window, horizons=(1,), models=models, seed=seed)
    vf = var_forecasts(cut, ["evt"], start=day, window=window, levels=(level,))["evt"]
    lo = i - window
    return PostureInputs(
        date=day,
        origin=str(fs.dates[0]),
        model=model,
        variance=float(fs.forecasts[model][0, 0]),
        forecasts={m: float(f[0, 0]) for m, f in fs.forecasts.items()},
        var_pct=float(vf.var[0, 0]),
        level=level,
        static_variance=float(np.mean(data.proxy[lo:i])),
        static_var_pct=float(empirical_var_es(data.returns[lo:i], level)[0]),
        prev_close=float(data.close[i - 1]),
        realized_variance=float(data.proxy[i]),
        realized_return=float(data.returns[i]),
    )
