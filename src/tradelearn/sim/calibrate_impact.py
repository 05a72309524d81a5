"""Calibrate :class:`~tradelearn.sim.impact.PropagatorImpact` on a recorded LOBSTER day.

Steps (all on the recorded flow; nothing is simulated):

1. **Market orders.** Executions (LOBSTER types 4 and, by default, 5) sharing a timestamp
   are one market order; its aggressor sign :math:`\\epsilon` is minus the side of the
   resting orders it hit, its size :math:`v` the net shares. The mid :math:`m` comes from
   book level 1 (rows with an empty side carry the last valid mid forward); :math:`m^-_n`
   is the mid before the order's first message, :math:`m^+_n` after its last one.
2. **Response functions** (Bouchaud et al. 2004), in trade time and in clock time:
   :math:`R(\\ell) = E[\\epsilon_n (m^-_{n+\\ell} - m^-_n)]`,
   :math:`R(\\tau) = E[\\epsilon_n (m(t_n + \\tau) - m^-_n)]`, and the sign autocorrelation
   :math:`C(\\ell)`. :math:`R` mixes the impact of one order with that of the orders that
   follow it in the same direction (split metaorders), so it is reported, not fitted.
3. **Concavity** :math:`\\delta`: orders are bucketed by size; the weighted least-squares
   slope of :math:`\\log E[\\epsilon (m^+ - m^-) \\mid v]` on :math:`\\log v` over buckets.
4. **Impact kernel.** Clock time is cut into bins of ``bin_s``; :math:`x_k` is the summed
   :math:`f(v) = \\epsilon |v|^\\delta` of the orders in bin :math:`k`, :math:`r_k` the mid
   change over it. The distributed-lag regression (Hasbrouck 1991)
   :math:`r_k = c + \\sum_{j \\ge 0} g_j x_{k-j} + e_k`, with :math:`g` constant on lag
   windows ending at ``horizons_s``, holds the other orders fixed, so
   :math:`I(h) = \\sum_{j < h/\\Delta} g_j` is the response to one extra unit of :math:`f(v)`
   (the bare propagator): what the simulator adds for our trades, to which the replayed
   flow does not react. :math:`g = 0` beyond the last horizon, so :math:`I(h_{max})` is the
   permanent impact.
5. **Kernel fits** of :math:`I(h) = \\kappa_P + \\kappa_T G(h)` with the exponential
   (Obizhaeva and Wang 2013) and the power-law (Bouchaud et al. 2004) :math:`G`: weighted
   least squares (weights :math:`1/\\mathrm{se}^2`) with :math:`\\kappa_P, \\kappa_T \\ge 0`,
   closed form in :math:`(\\kappa_P, \\kappa_T)` on a log grid of ``decay_s`` (and
   :math:`\\beta`), so it needs only NumPy. Goodness of fit: :math:`\\chi^2`/dof, :math:`R^2`,
   RMSE.
6. **Permanent cross-check**: the OLS slope (with intercept, HC1 standard error) of mid
   changes over long intervals on their summed :math:`f(v)`.

Standard errors come from a block bootstrap over ``n_blocks`` contiguous pieces of the day
(seeded): per-block sufficient statistics are resampled, so each bootstrap is a matrix
product. The fits weight the :math:`I(h)` by their variances only (their correlation is
ignored there); the bootstrap standard errors of the fitted parameters include it.

References
----------
J.-P. Bouchaud, Y. Gefen, M. Potters and M. Wyart, "Fluctuations and response in financial
markets: the subtle nature of 'random' price changes", Quantitative Finance 4(2), 2004.
A. A. Obizhaeva and J. Wang, "Optimal trading strategy and supply/demand dynamics",
Journal of Financial Markets 16(1), 2013.
J. Hasbrouck, "Measuring the information content of stock trades", Journal of Finance
46(1), 1991.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID, LobsterDay
from tradelearn.data.schema import EventType
from tradelearn.errors import ConfigError, DataError
from tradelearn.sim.impact import ImpactParams, Kernel, size_transform

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_NS = 1_000_000_000
MIN_ORDERS = 50
"""Fewer market orders than this give no usable estimate."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, kw_only=True)
class Curve:
    """A measured curve: ``value`` at ``x`` with bootstrap standard errors."""

    x: tuple[float, ...]
    value: tuple[float, ...]
    se: tuple[float, ...]
    count: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class KernelFit:
    """A fit of :math:`I(h) = \\kappa_P + \\kappa_T G(h)`; ``*_se`` from the bootstrap."""

    kernel: Kernel
    permanent: float
    permanent_se: float
    transient: float
    transient_se: float
    decay_s: float
    decay_s_se: float
    beta: float | None
    beta_se: float | None
    chi2_per_dof: float
    dof: int
    r2: float
    rmse: float
    at_grid_edge: bool
    """The best decay (or beta) is on the edge of the search grid: not well identified."""


@dataclass(frozen=True, kw_only=True)
class ConcavityFit:
    """Log-log slope of mean immediate impact on order size, over size buckets."""

    concavity: float
    se: float
    r2: float
    buckets: Curve
    """x: geometric mean size per bucket (shares); value: mean signed mid move (price units)."""


@dataclass(frozen=True, kw_only=True)
class LongHorizonSlope:
    """OLS slope of mid changes over ``horizon_s`` intervals on their summed f(v)."""

    horizon_s: float
    slope: float
    se: float
    n_intervals: int


@dataclass(frozen=True, kw_only=True)
class ImpactCalibration:
    """Everything :func:`calibrate_impact` measured. Prices in the day's price units."""

    symbol: str
    date: str
    n_events: int
    n_orders: int
    n_mixed: int
    """Timestamps whose executions had both aggressor signs (netted into one order)."""
    include_hidden: bool
    merge_within_s: float
    bin_s: float
    n_blocks: int
    n_boot: int
    seed: int
    """The bootstrap seed (-1 when a ``numpy.random.Generator`` was passed)."""
    concavity: ConcavityFit
    concavity_used: float
    """The δ of f(v) in the kernel regression (and in :meth:`to_params`)."""
    response_event: Curve
    """R(lag) in market orders."""
    response_time: Curve
    """R(tau) in seconds."""
    sign_autocorrelation: Curve
    kernel: Curve
    """Bare impulse response I(h) per unit f(v); x is the mean elapsed time (seconds)."""
    regression_r2: float
    exp_fit: KernelFit
    power_fit: KernelFit
    permanent_long: tuple[LongHorizonSlope, ...]
    notes: tuple[str, ...]

    @property
    def best_kernel(self) -> Kernel:
        """The kernel with the smaller chi-square per degree of freedom."""
        return "power" if self.power_fit.chi2_per_dof < self.exp_fit.chi2_per_dof else "exp"

    def to_params(self, kernel: Kernel | None = None) -> ImpactParams:
        """The fitted parameters (``kernel`` default: :attr:`best_kernel`), with :attr:`concavity_used`."""
        kind = kernel or self.best_kernel
        fit = self.exp_fit if kind == "exp" else self.power_fit
        return ImpactParams(
            permanent=float(fit.permanent),
            transient=float(fit.transient),
            decay_s=float(fit.decay_s),
            kernel=kind,
            beta=float(fit.beta) if fit.beta is not None else 0.5,
            concavity=self.concavity_used,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite numbers become ``None``), with ``params`` added."""
        out = _finite(asdict(self))
        out["best_kernel"] = self.best_kernel
        out["params"] = self.to_params().to_dict()
        return dict(out)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)


def _finite(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# --------------------------------------------------------------------------- market orders


@dataclass(frozen=True)
class MarketOrders:
    """Market orders rebuilt from executions, one per timestamp."""

    ts: I64
    sign: I64
    size: I64
    mid_before: F64
    mid_after: F64
    n_mixed: int


def mid_prices(book: npt.NDArray[np.int64]) -> F64:
    """Level-1 mid per book row; rows with an empty side take the last valid mid."""
    ask, bid = book[:, 0], book[:, 2]
    valid = (ask < DUMMY_ASK) & (bid > DUMMY_BID) & (ask > bid)
    if not valid.any():
        raise DataError("no book row has both a bid and an ask", expected="a two-sided book")
    mid = (ask.astype(np.float64) + bid.astype(np.float64)) / 2.0
    idx = np.where(valid, np.arange(book.shape[0]), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.flatnonzero(valid)[0])
    return np.asarray(mid[idx], dtype=np.float64)


def market_orders(
    day: LobsterDay, *, include_hidden: bool = True, merge_within_s: float = 0.0
) -> MarketOrders:
    """Group the day's executions into market orders (see the module docstring).

    Executions sharing a timestamp are one order; with ``merge_within_s`` > 0, consecutive
    orders of the same sign less than that apart merge too (time of the first, mid before
    the first and after the last).
    """
    if day.book is None:
        raise DataError(
            "impact calibration needs the orderbook file",
            path=day.message_path,
            expected="a LOBSTER day loaded with its orderbook",
            got="messages only",
        )
    ev = day.events
    if day.book.shape[0] != ev.shape[0]:
        raise DataError(
            "events and book rows differ in number",
            path=day.orderbook_path,
            expected=f"{ev.shape[0]} book rows",
            got=f"{day.book.shape[0]} rows",
        )
    kinds = [EventType.EXECUTE] + ([EventType.EXECUTE_HIDDEN] if include_hidden else [])
    idx = np.flatnonzero(np.isin(ev["event"], kinds))
    row_ts = ev["ts_exchange"]
    mid = mid_prices(day.book)
    if idx.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return MarketOrders(empty, empty, empty, np.zeros(0), np.zeros(0), 0)
    ts = row_ts[idx]
    signed = -ev["side"][idx].astype(np.int64) * ev["qty"][idx]
    starts = np.flatnonzero(np.r_[True, np.diff(ts) != 0])
    net = np.add.reduceat(signed, starts)
    n_buy = np.add.reduceat((signed > 0).astype(np.int64), starts)
    n_all = np.diff(np.r_[starts, ts.size])
    mixed = (n_buy > 0) & (n_buy < n_all)
    t = ts[starts]
    first = np.searchsorted(row_ts, t, "left")
    last = np.searchsorted(row_ts, t, "right") - 1
    before = mid[np.maximum(first - 1, 0)]
    after = mid[last]
    keep = net != 0
    t, net, before, after = t[keep], net[keep], before[keep], after[keep]
    if merge_within_s > 0 and t.size:
        # a burst of same-sign orders closer than the window is one parent order (a sweep)
        sign = np.sign(net)
        gap = np.diff(t) > round(merge_within_s * _NS)
        head = np.flatnonzero(np.r_[True, gap | (sign[1:] != sign[:-1])])
        tail = np.r_[head[1:], t.size] - 1
        t, net = t[head], np.add.reduceat(net, head)
        before, after = before[head], after[tail]
    return MarketOrders(
        ts=t,
        sign=np.sign(net),
        size=np.abs(net),
        mid_before=before,
        mid_after=after,
        n_mixed=int(mixed.sum()),
    )


# --------------------------------------------------------------------------- bootstrap


def _boot_weights(n_blocks: int, n_boot: int, rng: np.random.Generator) -> F64:
    """(n_boot, n_blocks) counts of each block in each resample."""
    p = np.full(n_blocks, 1.0 / n_blocks)
    return rng.multinomial(n_blocks, p, size=n_boot).astype(np.float64)


def _ratio(num: F64, den: F64, W: F64) -> tuple[F64, F64]:
    """Full-sample ratio of block sums (rows: quantities, columns: blocks) and its bootstrap se."""
    value = num.sum(axis=1) / np.maximum(den.sum(axis=1), 1e-300)
    rn, rd = W @ num.T, W @ den.T
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = np.where(rd > 0, rn / np.where(rd > 0, rd, 1.0), np.nan)
    return value, _std(reps)


def _std(reps: F64) -> F64:
    ok = np.isfinite(reps)
    n = ok.sum(axis=0)
    filled = np.where(ok, reps, 0.0)
    mean = filled.sum(axis=0) / np.maximum(n, 1)
    var = (np.where(ok, reps - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n - 1, 1)
    return np.where(n > 1, np.sqrt(var), np.nan)


def _mid_at(row_ts: I64, mid: F64, t: I64) -> F64:
    """Mid after every message with timestamp <= t."""
    return np.asarray(mid[np.maximum(np.searchsorted(row_ts, t, "right") - 1, 0)], np.float64)


def _tuple(a: npt.ArrayLike) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(a, dtype=np.float64))


# --------------------------------------------------------------------------- measurements


def _responses(
    mo: MarketOrders,
    blk: I64,
    B: int,
    W: F64,
    lags: I64,
    row_ts: I64,
    mid: F64,
    taus_s: F64,
    t_end: int,
) -> tuple[Curve, Curve, Curve]:
    n = mo.ts.size
    lags = lags[lags < n]
    eps = mo.sign.astype(np.float64)
    num_r, num_c, den = (np.zeros((lags.size, B)) for _ in range(3))
    for i, lag in enumerate(lags):
        b = blk[:-lag]
        num_r[i] = np.bincount(b, eps[:-lag] * (mo.mid_before[lag:] - mo.mid_before[:-lag]), B)
        num_c[i] = np.bincount(b, eps[:-lag] * eps[lag:], B)
        den[i] = np.bincount(b, None, B)
    r, r_se = _ratio(num_r, den, W)
    c, c_se = _ratio(num_c, den, W)
    c = c - float(eps.mean()) ** 2
    count = tuple(int(v) for v in den.sum(axis=1))
    resp_event = Curve(x=_tuple(lags), value=_tuple(r), se=_tuple(r_se), count=count)
    acf = Curve(x=_tuple(lags), value=_tuple(c), se=_tuple(c_se), count=count)
    num_t, den_t = np.zeros((taus_s.size, B)), np.zeros((taus_s.size, B))
    for i, tau in enumerate(taus_s):
        t = mo.ts + round(tau * _NS)
        ok = t <= t_end
        moved = eps[ok] * (_mid_at(row_ts, mid, t[ok]) - mo.mid_before[ok])
        num_t[i] = np.bincount(blk[ok], moved, B)
        den_t[i] = np.bincount(blk[ok], None, B)
    rt, rt_se = _ratio(num_t, den_t, W)
    resp_time = Curve(
        x=_tuple(taus_s),
        value=_tuple(rt),
        se=_tuple(rt_se),
        count=tuple(int(v) for v in den_t.sum(axis=1)),
    )
    return resp_event, resp_time, acf


def _concavity(
    mo: MarketOrders, blk: I64, B: int, W: F64, n_buckets: int, min_count: int
) -> ConcavityFit:
    impact = mo.sign * (mo.mid_after - mo.mid_before)
    logv = np.log(mo.size.astype(np.float64))
    edges = np.unique(np.quantile(logv, np.linspace(0.0, 1.0, n_buckets + 1)))
    bucket = np.clip(np.searchsorted(edges, logv, "right") - 1, 0, max(edges.size - 2, 0))
    nb = int(bucket.max()) + 1
    key = bucket * B + blk
    s_imp = np.asarray(np.bincount(key, impact, nb * B), np.float64).reshape(nb, B)
    s_log = np.asarray(np.bincount(key, logv, nb * B), np.float64).reshape(nb, B)
    cnt = np.asarray(np.bincount(key, None, nb * B), np.float64).reshape(nb, B)
    s_sq = np.bincount(bucket, impact**2, nb)
    n = cnt.sum(axis=1)
    mean = s_imp.sum(axis=1) / np.maximum(n, 1)
    var = np.maximum(s_sq / np.maximum(n, 1) - mean**2, 0.0) / np.maximum(n - 1, 1)
    x = s_log.sum(axis=1) / np.maximum(n, 1)
    use = (n >= min_count) & (mean > 0)
    # delta method: var(log mean) = var(mean) / mean^2
    w = np.where(use, mean**2 / np.maximum(var, 1e-300), 0.0)
    slope, r2 = _wls_slope(x, np.log(np.where(use, mean, 1.0)), w)
    reps = []
    for wrow in W:
        nr = wrow @ cnt.T
        mr = (wrow @ s_imp.T) / np.maximum(nr, 1)
        xr = (wrow @ s_log.T) / np.maximum(nr, 1)
        ok = use & (mr > 0) & (nr > 0)
        if ok.sum() >= 2:
            reps.append(_wls_slope(xr, np.log(np.where(ok, mr, 1.0)), np.where(ok, w, 0.0))[0])
    se = float(np.std(reps, ddof=1)) if len(reps) > 1 else math.nan
    _, mean_se = _ratio(s_imp, cnt, W)
    buckets = Curve(
        x=_tuple(np.exp(x)),
        value=_tuple(mean),
        se=_tuple(mean_se),
        count=tuple(int(v) for v in n),
    )
    return ConcavityFit(concavity=slope, se=se, r2=r2, buckets=buckets)


def _wls_slope(x: F64, y: F64, w: F64) -> tuple[float, float]:
    """Weighted least-squares slope of y on x (with intercept) and its weighted R^2."""
    sw = w.sum()
    if np.count_nonzero(w) < 2 or sw <= 0:
        return math.nan, math.nan
    xm, ym = (w @ x) / sw, (w @ y) / sw
    sxx = w @ (x - xm) ** 2
    if sxx <= 0:
        return math.nan, math.nan
    slope = float(w @ ((x - xm) * (y - ym)) / sxx)
    resid = y - ym - slope * (x - xm)
    syy = float(w @ (y - ym) ** 2)
    return slope, (1.0 - float(w @ resid**2) / syy) if syy > 0 else math.nan


def _kernel_regression(
    mo: MarketOrders,
    fv: F64,
    row_ts: I64,
    mid: F64,
    bin_s: float,
    lag_bins: I64,
    B: int,
    W: F64,
) -> tuple[F64, F64, F64, float]:
    """Impulse response I at the window ends, its bootstrap replicates and se, and R^2."""
    bin_ns = round(bin_s * _NS)
    t0 = int(row_ts[0])
    nb = int((int(row_ts[-1]) - t0) // bin_ns) + 1
    x = np.bincount((mo.ts - t0) // bin_ns, fv, nb)
    C = np.r_[0.0, np.cumsum(x)]
    starts = np.r_[0, lag_bins[:-1]]
    p = lag_bins.size + 1
    XtX = np.zeros((B, p, p))
    Xty = np.zeros((B, p))
    sum_r = sum_rr = 0.0
    bounds = np.linspace(0, nb, B + 1).astype(np.int64)
    for b in range(B):  # one block at a time: the design matrix never exists whole
        k = np.arange(bounds[b], bounds[b + 1])
        edges = t0 + np.r_[k, k[-1] + 1 if k.size else 0] * bin_ns
        r = np.diff(mid[np.maximum(np.searchsorted(row_ts, edges, "left") - 1, 0)])
        X = np.empty((k.size, p))
        X[:, 0] = 1.0
        for i, (lo, hi) in enumerate(zip(starts, lag_bins, strict=True)):
            X[:, i + 1] = C[np.maximum(k - lo + 1, 0)] - C[np.maximum(k - hi + 1, 0)]
        XtX[b] = X.T @ X
        Xty[b] = X.T @ r
        sum_r += float(r.sum())
        sum_rr += float(r @ r)
    A, c = XtX.sum(axis=0), Xty.sum(axis=0)
    coef = np.linalg.pinv(A) @ c
    sst = sum_rr - sum_r**2 / nb
    ssr = sum_rr - 2 * float(coef @ c) + float(coef @ A @ coef)
    r2 = 1.0 - ssr / sst if sst > 0 else math.nan
    Ar = np.einsum("rb,bij->rij", W, XtX)
    cr = W @ Xty
    reps = (np.linalg.pinv(Ar) @ cr[..., None])[..., 0]
    # g is constant on each window: the response grows by g times the window's width
    width = (lag_bins - starts).astype(np.float64)
    curve_reps = np.cumsum(reps[:, 1:] * width, axis=1)
    return np.cumsum(coef[1:] * width), curve_reps, _std(curve_reps), r2


def _fit_grid(t: F64, y: F64, w: F64, G: F64) -> tuple[F64, F64, F64]:
    """Best non-negative (P, T) of y ~ P + T G[m] per kernel candidate m; returns P, T, chi2."""
    S1, Sg, Sgg = w.sum(), G @ w, (G * G) @ w
    Sy, Sgy = w @ y, (G * y) @ w
    det = S1 * Sgg - Sg * Sg
    with np.errstate(invalid="ignore", divide="ignore"):
        cands = [
            ((Sgg * Sy - Sg * Sgy) / det, (S1 * Sgy - Sg * Sy) / det),
            (np.zeros_like(Sg), Sgy / Sgg),
            (np.full_like(Sg, Sy / S1), np.zeros_like(Sg)),
            (np.zeros_like(Sg), np.zeros_like(Sg)),
        ]
    best_P, best_T = np.zeros_like(Sg), np.zeros_like(Sg)
    best = np.full_like(Sg, np.inf)
    for P, T in cands:
        ok = np.isfinite(P) & np.isfinite(T) & (P >= 0) & (T >= 0)
        resid = y[None, :] - np.where(ok, P, 0.0)[:, None] - np.where(ok, T, 0.0)[:, None] * G
        chi2 = np.where(ok, (resid**2) @ w, np.inf)
        better = chi2 < best
        best_P, best_T, best = (
            np.where(better, v, o) for v, o in ((P, best_P), (T, best_T), (chi2, best))
        )
    return best_P, best_T, best


def _kernel_matrix(kind: Kernel, t: F64, decay: F64, beta: F64) -> F64:
    """G at times t (columns) for each candidate (decay, beta) (rows)."""
    if kind == "exp":
        return np.exp(-t[None, :] / decay[:, None])
    return (1.0 + t[None, :] / decay[:, None]) ** (-beta[:, None])


def _best_fit(
    kind: Kernel, t: F64, y: F64, w: F64, decay_grid: F64, beta_grid: F64
) -> tuple[float, float, float, float, bool]:
    """(P, T, decay, beta, on-edge) minimising chi2: a log grid, then a finer one around its best."""
    betas = beta_grid if kind == "power" else np.array([np.nan])
    step_d = float(decay_grid[1] / decay_grid[0])
    step_b = float(beta_grid[1] / beta_grid[0])
    d_lo, d_hi, b_lo, b_hi = decay_grid[0], decay_grid[-1], beta_grid[0], beta_grid[-1]
    d_axis, b_axis = decay_grid, betas
    for _ in range(2):
        dd, bb = np.meshgrid(d_axis, b_axis, indexing="ij")
        decay, beta = dd.ravel(), bb.ravel()
        P, T, chi2 = _fit_grid(t, y, w, _kernel_matrix(kind, t, decay, beta))
        m = int(np.argmin(chi2))
        d_axis = np.geomspace(max(decay[m] / step_d, d_lo), min(decay[m] * step_d, d_hi), 21)
        if kind == "power":
            b_axis = np.geomspace(max(beta[m] / step_b, b_lo), min(beta[m] * step_b, b_hi), 21)
    edge = bool(np.isclose(decay[m], d_lo) or np.isclose(decay[m], d_hi))
    if kind == "power":
        edge = edge or bool(np.isclose(beta[m], b_lo) or np.isclose(beta[m], b_hi))
    return float(P[m]), float(T[m]), float(decay[m]), float(beta[m]), edge


def _fit_kernel(
    kind: Kernel, t: F64, y: F64, se: F64, reps: F64, decay_grid: F64, beta_grid: F64
) -> KernelFit:
    ok_se = np.isfinite(se) & (se > 0)
    w = np.where(ok_se, 1.0 / np.where(ok_se, se, 1.0) ** 2, 0.0)
    if not ok_se.any():
        w = np.ones_like(y)
    P, T, decay, beta, edge = _best_fit(kind, t, y, w, decay_grid, beta_grid)
    boot = np.array([_best_fit(kind, t, row, w, decay_grid, beta_grid)[:4] for row in reps])
    boot_se = np.std(boot, axis=0, ddof=1) if boot.shape[0] > 1 else np.full(4, np.nan)
    G = _kernel_matrix(kind, t, np.array([decay]), np.array([beta]))[0]
    resid = y - P - T * G
    dof = max(y.size - (3 if kind == "exp" else 4), 1)
    sst = float(((y - y.mean()) ** 2).sum())
    return KernelFit(
        kernel=kind,
        permanent=P,
        permanent_se=float(boot_se[0]),
        transient=T,
        transient_se=float(boot_se[1]),
        decay_s=decay,
        decay_s_se=float(boot_se[2]),
        beta=None if kind == "exp" else beta,
        beta_se=None if kind == "exp" else float(boot_se[3]),
        chi2_per_dof=float((resid**2) @ w) / dof,
        dof=dof,
        r2=1.0 - float(resid @ resid) / sst if sst > 0 else math.nan,
        rmse=float(np.sqrt(np.mean(resid**2))),
        at_grid_edge=edge,
    )


def _long_slopes(
    mo: MarketOrders, fv: F64, row_ts: I64, mid: F64, horizons_s: tuple[float, ...]
) -> tuple[LongHorizonSlope, ...]:
    out = []
    t0, t_end = int(row_ts[0]), int(row_ts[-1])
    for h in horizons_s:
        h_ns = round(h * _NS)
        n = (t_end - t0) // h_ns
        if n < 4:
            continue
        edges = t0 + np.arange(n + 1, dtype=np.int64) * h_ns
        dm = np.diff(mid[np.maximum(np.searchsorted(row_ts, edges, "left") - 1, 0)])
        k = (mo.ts - t0) // h_ns
        x = np.bincount(k[k < n], fv[k < n], n)
        X = np.column_stack([np.ones(n), x])
        XtX_inv = np.linalg.pinv(X.T @ X)
        coef = XtX_inv @ X.T @ dm
        e = dm - X @ coef
        cov = XtX_inv @ (X.T * e**2) @ X @ XtX_inv * n / max(n - 2, 1)  # HC1
        out.append(
            LongHorizonSlope(
                horizon_s=float(h),
                slope=float(coef[1]),
                se=float(np.sqrt(cov[1, 1])),
                n_intervals=int(n),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- entry point

# fmt: off
DEFAULT_HORIZONS_S: tuple[float, ...] = (
    0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)
# fmt: on
"""Kernel lag-window ends and R(tau) lags, seconds."""
DEFAULT_LAGS: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
"""Trade-time lags of R(lag) and the sign autocorrelation, in market orders."""


def calibrate_impact(
    day: LobsterDay,
    *,
    horizons_s: tuple[float, ...] = DEFAULT_HORIZONS_S,
    lags: tuple[int, ...] = DEFAULT_LAGS,
    bin_s: float = 0.1,
    include_hidden: bool = True,
    merge_within_s: float = 0.0,
    concavity: float | None = None,
    n_buckets: int = 10,
    min_bucket_count: int = 30,
    long_horizons_s: tuple[float, ...] = (300.0, 900.0, 1800.0),
    n_blocks: int = 26,
    n_boot: int = 200,
    seed: int | np.random.Generator = 0,
) -> ImpactCalibration:
    """Estimate permanent and transient impact, its decay and its concavity from one day.

    Parameters
    ----------
    day
        A LOBSTER day loaded with its orderbook (level 1 suffices).
    horizons_s
        Ends of the lag windows of the kernel regression, increasing, seconds (each a
        multiple of ``bin_s`` after rounding); also the clock-time lags of R(tau).
    lags
        Trade-time lags (in market orders) of R(lag) and the sign autocorrelation.
    bin_s
        Clock bin of the kernel regression, seconds.
    include_hidden
        Count hidden executions (type 5) as trades.
    merge_within_s
        Merge same-sign orders closer than this (seconds) into one; 0 keeps one order per
        timestamp.
    concavity
        Use this :math:`\\delta` in f(v) instead of the fitted one (the fit is still reported).
    n_buckets, min_bucket_count
        Size buckets (quantiles of log size) of the concavity fit, and the fewest orders a
        bucket needs to enter it.
    long_horizons_s
        Interval lengths of the long-horizon permanent cross-check.
    n_blocks, n_boot, seed
        Block bootstrap: contiguous pieces of the day, resamples, and the seed (or a
        ``numpy.random.Generator``).

    Returns
    -------
    ImpactCalibration
        Parameters, fit diagnostics and curves; :meth:`ImpactCalibration.to_params` gives
        an :class:`~tradelearn.sim.impact.ImpactParams`.
    """
    h = np.asarray(horizons_s, dtype=np.float64)
    if bin_s <= 0 or not math.isfinite(bin_s):
        raise ConfigError(f"bin_s must be positive, actually: {bin_s!r}")
    lag_bins = np.rint(h / bin_s).astype(np.int64)
    if h.size < 4 or (lag_bins < 1).any() or (np.diff(lag_bins) <= 0).any():
        raise ConfigError(
            "horizons_s must be at least 4 increasing values, each >= bin_s and at least "
            f"bin_s apart, actually: {tuple(horizons_s)!r} with bin_s={bin_s}"
        )
    if n_blocks < 2 or n_boot < 2:
        raise ConfigError(f"n_blocks and n_boot must be >= 2, actually: {n_blocks}, {n_boot}")
    if concavity is not None and not 0 <= concavity <= 1:
        raise ConfigError(f"concavity must be in [0, 1], actually: {concavity!r}")
    mo = market_orders(day, include_hidden=include_hidden, merge_within_s=merge_within_s)
    if mo.ts.size < MIN_ORDERS:
        raise DataError(
            "too few market orders to calibrate impact",
            path=day.message_path,
            expected=f"at least {MIN_ORDERS}",
            got=int(mo.ts.size),
        )
    assert day.book is not None  # market_orders checked it
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    row_ts = np.asarray(day.events["ts_exchange"], dtype=np.int64)
    mid = mid_prices(day.book)
    t0, t_end = int(row_ts[0]), int(row_ts[-1])
    blk = np.minimum((mo.ts - t0) * n_blocks // max(t_end - t0 + 1, 1), n_blocks - 1)
    W = _boot_weights(n_blocks, n_boot, rng)

    resp_event, resp_time, acf = _responses(
        mo, blk, n_blocks, W, np.asarray(lags, np.int64), row_ts, mid, h, t_end
    )
    conc = _concavity(mo, blk, n_blocks, W, n_buckets, min_bucket_count)
    delta = concavity if concavity is not None else float(np.clip(conc.concavity, 0.0, 1.0))
    if not math.isfinite(delta):
        delta = 0.5
    fv = size_transform(mo.sign * mo.size, delta)
    curve, reps, curve_se, r2 = _kernel_regression(
        mo, fv, row_ts, mid, bin_s, lag_bins, n_blocks, W
    )
    t_eff = np.asarray((lag_bins - 0.5) * bin_s, dtype=np.float64)
    decay_grid = np.geomspace(bin_s / 2, 10 * h[-1], 121)
    beta_grid = np.geomspace(0.05, 5.0, 41)
    fits = [
        _fit_kernel(k, t_eff, curve, curve_se, reps, decay_grid, beta_grid)
        for k in ("exp", "power")
    ]
    notes = _notes(conc, delta, concavity, curve, curve_se, fits, mo.n_mixed, float(h[-1]))
    return ImpactCalibration(
        symbol=day.symbol,
        date=day.date.isoformat(),
        n_events=day.n,
        n_orders=int(mo.ts.size),
        n_mixed=mo.n_mixed,
        include_hidden=include_hidden,
        merge_within_s=float(merge_within_s),
        bin_s=float(bin_s),
        n_blocks=n_blocks,
        n_boot=n_boot,
        seed=seed if isinstance(seed, int) else -1,
        concavity_used=float(delta),
        concavity=conc,
        response_event=resp_event,
        response_time=resp_time,
        sign_autocorrelation=acf,
        kernel=Curve(x=_tuple(t_eff), value=_tuple(curve), se=_tuple(curve_se)),
        regression_r2=r2,
        exp_fit=fits[0],
        power_fit=fits[1],
        permanent_long=_long_slopes(mo, fv, row_ts, mid, long_horizons_s),
        notes=notes,
    )


def _notes(
    conc: ConcavityFit,
    delta: float,
    fixed: float | None,
    curve: F64,
    se: F64,
    fits: list[KernelFit],
    n_mixed: int,
    h_max: float,
) -> tuple[str, ...]:
    notes = []
    if fixed is not None:
        notes.append(f"concavity fixed at {fixed} by the caller (fitted: {conc.concavity:.3f})")
    elif not math.isfinite(conc.concavity):
        notes.append(
            f"concavity could not be fitted (under 2 usable size buckets); f(v) uses {delta}"
        )
    elif not 0 <= conc.concavity <= 1:
        notes.append(f"fitted concavity {conc.concavity:.3f} is outside [0, 1]; f(v) uses {delta}")
    if curve[-1] < 2 * se[-1]:
        notes.append(
            f"the long-lag plateau I({h_max:g} s) = {curve[-1]:.3g} +- {se[-1]:.2g} "
            "is not 2 se above 0: the permanent part is not resolved"
        )
    for f in fits:
        if f.transient < 2 * f.transient_se:
            notes.append(f"{f.kernel} fit: transient amplitude is within 2 se of 0")
        if f.permanent == 0.0:
            notes.append(f"{f.kernel} fit: permanent part sits on its bound 0")
        if f.at_grid_edge:
            notes.append(f"{f.kernel} fit: best decay/beta on the search grid's edge")
        elif f.transient > 0 and f.decay_s > h_max:
            notes.append(
                f"{f.kernel} fit: decay_s {f.decay_s:.3g} is beyond the longest horizon "
                f"{h_max:g} s, so its split into transient and permanent is an extrapolation"
            )
    if n_mixed:
        notes.append(f"{n_mixed} timestamps had executions of both signs (netted)")
    return tuple(notes)


__all__ = [
    "DEFAULT_HORIZONS_S",
    "DEFAULT_LAGS",
    "ConcavityFit",
    "Curve",
    "ImpactCalibration",
    "KernelFit",
    "LongHorizonSlope",
    "MarketOrders",
    "calibrate_impact",
    "market_orders",
    "mid_prices",
]
