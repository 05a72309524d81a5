"""Fit the agent-based market's defaults to a LOBSTER day.

What is fitted from what (``tradelearn sim calibrate --message M --orderbook O``):

* **Market orders**: visible executions (type 4) sharing a timestamp and a resting side are
  one market order, its size their sum. An exponential-kernel Hawkes process is fitted to
  their times by maximum likelihood (Ozaki 1979): immigrant rate, branching ratio, decay.
* **Sizes** of limit orders (type 1) and of market orders: the share of round lots
  (multiples of 100), their mean lot count, and a log-normal fit of the odd lots below 100.
* **Placement distance**: each limit order's distance from the mid of the orderbook row
  before it (ticks; negative past the mid), as 23 quantiles. A level-L file only holds adds
  that land within its L levels, so the deep tail is unseen.
* **Cancellation**: the lifetime of every order added within the day, ended by its delete
  (type 3) or censored by an execution or the close; a three-class exponential mixture
  with shared rates and separate class weights for quote-improving and other orders, by
  EM. A level-L file misses deletes beyond level L, so the patient rate is an upper bound.
* **Learning from trades**: one-minute mid changes regressed on changes of the fading sum
  of signed square-root market-order sizes; the memory (300 to 3,600 s) with the highest
  correlation wins and the slope is ``kappa``. The per-trade power is not identified by
  the data (see :func:`fit_learning`) and stays at 1/2.
* **Rates**: partial cancels (share of cancels), hidden executions (type 5) per second.
* **Activity**: the intraday profile of message counts per half hour; the latent
  log-activity's correlation time and size from the autocorrelation of per-minute counts.
  The intraday profile of the fundamental's variance: mean squared one-minute return per
  half hour. Its volatility: five-minute mid returns.
* **Simulated moments**: a few fixed-point rounds then scale the limit-order rate, the noise
  takers' rate and the fundamental's volatility until a simulated day (seed 0) has the
  data's add rate, market-order rate and one-minute return volatility.
* **Spread and depth** are reported (mean spread, mean size per level); the market makers'
  half spread is half the mean spread.

The agents' behavioural constants that anonymous data cannot tell apart (anchor, stale
withdrawal, informed, momentum and market-making constants, fundamental share, jumps) keep
their defaults. The fit takes a few seconds and is deterministic.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from scipy import optimize  # type: ignore[import-untyped, unused-ignore]

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.sim.abm_params import DIST_PROBS, AgentParams
from tradelearn.sim.stylized import level1_mid, minute_mids, session_open_ns

NS = 1_000_000_000


@dataclass(frozen=True)
class MarketOrders:
    """Market orders rebuilt from visible executions."""

    times_s: np.ndarray
    sizes: np.ndarray
    signs: np.ndarray
    """+1 a buy (it took asks), -1 a sell."""


def market_orders(events: np.ndarray, open_ns: int) -> MarketOrders:
    """Executions sharing a timestamp and resting side, in a row, are one market order."""
    ex = events[events["event"] == 4]
    if ex.shape[0] == 0:
        z = np.zeros(0)
        return MarketOrders(z, z.astype(np.int64), z.astype(np.int64))
    t, side = ex["ts_exchange"], ex["side"]
    new = np.ones(ex.shape[0], dtype=bool)
    new[1:] = (t[1:] != t[:-1]) | (side[1:] != side[:-1])
    gid = np.cumsum(new) - 1
    sizes = np.bincount(gid, weights=ex["qty"]).astype(np.int64)
    return MarketOrders((t[new] - open_ns) / NS, sizes, -side[new].astype(np.int64))


def fit_sizes(sizes: np.ndarray) -> tuple[float, float, float, float]:
    """Round-lot share, mean lot count, and log-normal (mu, sigma) of odd lots below 100."""
    sizes = np.asarray(sizes, dtype=np.int64)
    rnd = sizes % 100 == 0
    odd = sizes[(~rnd) & (sizes < 100)]
    logs = np.log(odd) if odd.size else np.zeros(1)
    mean_lots = float((sizes[rnd] // 100).mean()) if rnd.any() else 1.0
    return float(rnd.mean()), mean_lots, float(logs.mean()), float(max(logs.std(), 0.05))


def fit_distances(events: np.ndarray, book: np.ndarray, tick: int) -> np.ndarray:
    """Quantiles (at :data:`DIST_PROBS`) of each limit order's distance from the mid in the
    orderbook row before it, in ticks (negative: beyond the mid)."""
    k = np.flatnonzero(events["event"] == 1)
    k = k[k > 0]
    prev = book[k - 1]
    ok = (prev[:, 0] != DUMMY_ASK) & (prev[:, 2] != DUMMY_BID)
    mid = 0.5 * (prev[:, 0] + prev[:, 2])
    side = events["side"][k]
    x = np.where(side == 1, mid - events["price"][k], events["price"][k] - mid)[ok] / tick
    q = np.quantile(x, DIST_PROBS)
    # the end knots at the 0.5th and 99.5th percentiles, not the extremes
    q[0], q[-1] = np.quantile(x, 0.005), np.quantile(x, 0.995)
    return np.asarray(q, dtype=np.float64)


def order_lifetimes(
    events: np.ndarray, book: np.ndarray, end_ns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lifetime (s), whether it ended in a delete (else censored) and whether the order
    improved its side's best quote, for every order added after the first row."""
    k = np.flatnonzero(events["event"] == 1)
    k = k[k > 0]
    ids, t_add = events["order_id"][k], events["ts_exchange"][k]
    side, price, prev = events["side"][k], events["price"][k], book[k - 1]
    inside = np.where(side == 1, price > prev[:, 2], price < prev[:, 0])
    gone = np.isin(events["event"], (3, 4))
    gid, first = np.unique(events["order_id"][gone], return_index=True)
    g_t = events["ts_exchange"][gone][first]
    g_kind = events["event"][gone][first]
    if gid.shape[0] == 0:
        return (end_ns - t_add) / NS, np.zeros(k.shape[0], bool), inside
    pos = np.minimum(np.searchsorted(gid, ids), gid.shape[0] - 1)
    hit = (gid[pos] == ids) & (g_t[pos] >= t_add)
    life = np.maximum((np.where(hit, g_t[pos], end_ns) - t_add) / NS, 1e-9)
    return life, hit & (g_kind[pos] == 3), inside


def fit_lifetimes(
    life: np.ndarray, deleted: np.ndarray, group: np.ndarray, iters: int = 500
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A three-class exponential mixture of lifetimes with right censoring, by EM
    (Dempster, Laird & Rubin 1977): the rates are shared, the class weights differ between
    the two groups (``group`` True: orders that improved the quote). Returns the rates
    (fastest first) and the weights of the ``True`` and ``False`` groups."""
    rates = np.array([20.0, 0.2, 0.001])
    w = np.full((2, 3), 1 / 3)
    g = group.astype(np.int64)
    obs = deleted.astype(np.float64)
    for _ in range(iters):
        surv = np.exp(-np.outer(life, rates))  # P(T > t) per class
        like = np.where(obs[:, None] > 0, rates * surv, surv) * w[g]
        resp = like / np.maximum(like.sum(axis=1, keepdims=True), 1e-300)
        rates = (resp * obs[:, None]).sum(axis=0) / np.maximum(
            (resp * life[:, None]).sum(axis=0), 1e-12
        )
        rates = np.maximum(rates, 1e-7)
        for grp in (0, 1):
            sel = g == grp
            if sel.any():
                w[grp] = resp[sel].mean(axis=0)
    order = np.argsort(-rates)
    return rates[order], w[1][order], w[0][order]


@njit(cache=True)
def _hawkes_sums(t: np.ndarray, beta: float) -> np.ndarray:
    """``A_i = sum_{j<i} exp(-beta (t_i - t_j))`` by Ozaki's recursion."""
    a = np.zeros(t.shape[0])
    for i in range(1, t.shape[0]):
        a[i] = np.exp(-beta * (t[i] - t[i - 1])) * (a[i - 1] + 1.0)
    return a


def hawkes_nll(theta: np.ndarray, t: np.ndarray, horizon: float) -> float:
    """Negative log-likelihood of an exponential Hawkes process (Ozaki 1979 recursion).

    ``theta`` = (log mu, logit branching, log beta); intensity
    ``mu + n beta sum exp(-beta (t - t_i))``."""
    mu = np.exp(theta[0])
    n = 1 / (1 + np.exp(-theta[1]))
    beta = np.exp(theta[2])
    a = _hawkes_sums(t, beta)
    lam = mu + n * beta * a
    comp = mu * horizon + n * np.sum(1 - np.exp(-beta * (horizon - t)))
    return float(comp - np.sum(np.log(lam)))


def fit_hawkes(t: np.ndarray, horizon: float) -> tuple[float, float, float]:
    """Maximum-likelihood (mu, branching ratio, beta) of an exponential Hawkes process."""
    t = np.sort(np.asarray(t, dtype=np.float64))
    rate = t.shape[0] / horizon
    best = None
    for beta0 in (0.1, 1.0, 10.0):
        x0 = np.array([np.log(rate / 2), 0.0, np.log(beta0)])
        res = optimize.minimize(hawkes_nll, x0, args=(t, horizon), method="Nelder-Mead",
                                options={"xatol": 1e-5, "fatol": 1e-5, "maxiter": 3000})  # fmt: skip
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    th = best.x
    return float(np.exp(th[0])), float(1 / (1 + np.exp(-th[1]))), float(np.exp(th[2]))


def flow_memory(mos: MarketOrders, grid_s: np.ndarray, tau: float, power: float) -> np.ndarray:
    """``sum_i sign_i q_i^power exp(-(t - t_i) / tau)`` over market orders before each time."""
    out = np.zeros(grid_s.shape[0])
    acc, last, j = 0.0, 0.0, 0
    t, x = mos.times_s, mos.signs * mos.sizes.astype(np.float64) ** power
    for g, tg in enumerate(grid_s):
        while j < t.shape[0] and t[j] <= tg:
            acc = acc * np.exp(-(t[j] - last) / tau) + x[j]
            last = t[j]
            j += 1
        out[g] = acc * np.exp(-(tg - last) / tau)
    return out


def fit_learning(
    mos: MarketOrders, mids_ticks: np.ndarray, step_s: float, lag: int, power: float = 0.5
) -> tuple[float, float, float]:
    """What one trade moves the price by: least squares of ``lag``-step mid changes (ticks)
    on changes of :func:`flow_memory` for memories on a grid; the memory with the highest
    correlation wins. Returns (kappa, tau, correlation).

    The per-trade power is an input: on the shared days the correlation hardly depends on
    it (GOOG, one-minute changes: 0.585 at 0.2, 0.571 at 0.5, 0.539 at 1; flat at five
    minutes), so it is not identified and stays at the square root of the literature."""
    grid = np.arange(mids_ticks.shape[0]) * step_s
    dm = mids_ticks[lag:] - mids_ticks[:-lag]
    best = (0.0, 1_800.0, -1.0)
    for tau in (300.0, 600.0, 1_800.0, 3_600.0):
        dx = flow_memory(mos, grid, tau, power)
        dx = dx[lag:] - dx[:-lag]
        if not np.any(dx):
            continue
        corr = float(np.corrcoef(dm, dx)[0, 1])
        if corr > best[2]:
            best = (float(dm @ dx / (dx @ dx)), tau, corr)
    return best


def fit_activity(
    events: np.ndarray, open_ns: int, seconds: float, bin_s: float
) -> tuple[np.ndarray, float, float]:
    """Intraday profile (messages per bin over their mean) and the latent log-activity's
    correlation time (s) and standard deviation, from per-minute message counts."""
    t = (events["ts_exchange"] - open_ns) / NS
    t = t[(t >= 0) & (t < seconds)]
    n_bins = max(1, round(seconds / bin_s))
    prof = np.bincount(np.minimum((t // bin_s).astype(np.int64), n_bins - 1), minlength=n_bins)
    prof = prof / prof.mean()
    n_min = int(seconds // 60)
    counts = np.bincount(np.minimum((t // 60).astype(np.int64), n_min - 1), minlength=n_min)
    expected = (
        counts.mean() * prof[np.minimum((np.arange(n_min) * 60 // bin_s).astype(int), n_bins - 1)]
    )
    y = np.log((counts + 1.0) / (expected + 1.0))
    y = y - y.mean()
    var = float(y @ y) / y.shape[0]
    lags = np.arange(1, 11)
    acf = np.array([float(y[k:] @ y[:-k]) / (y.shape[0] * var) for k in lags])
    good = acf > 0.01
    if good.sum() >= 2:
        slope, icpt = np.polyfit(lags[good], np.log(acf[good]), 1)
        phi = float(np.exp(min(slope, -1e-3)))
        c = float(min(np.exp(icpt), 1.0))
    else:
        phi, c = 0.5, 0.1
    return prof, -60.0 / np.log(phi), float(np.sqrt(c * var))


def _round3(x: np.ndarray) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in x)
    return a, b, c


def simulated_moments(params: AgentParams, *, seed: int, seconds: float) -> dict[str, float]:
    """Add rate, market-order rate and one-minute return volatility of a simulated day."""
    from tradelearn.sim.agents import AgentMarket

    market = AgentMarket(params, levels=1)
    market.reset(seed)
    market.run_until(market.open_ns + int(seconds * NS))
    ev, book = market.events(), market.book_rows()
    mos = market_orders(ev, market.open_ns)
    r = np.diff(np.log(minute_mids(ev, book, open_ns=market.open_ns, seconds=seconds)))
    return {
        "add_rate": float((ev["event"] == 1).sum() / seconds),
        "market_order_rate": float(mos.sizes.shape[0] / seconds),
        "one_minute_return_std": float(np.std(r)),
    }


def match_moments(
    params: AgentParams, targets: dict[str, float], *, seconds: float, rounds: int, seed: int = 0
) -> tuple[AgentParams, dict[str, float]]:
    """Fixed-point steps of the simulated method of moments: each round simulates a day and
    scales ``limit_rate``, ``noise_rate`` and ``sigma_v`` by target / simulated."""
    p = params
    sim = simulated_moments(p, seed=seed, seconds=seconds)
    for _ in range(rounds):
        p = dataclasses.replace(
            p,
            limit_rate=p.limit_rate * targets["add_rate"] / sim["add_rate"],
            noise_rate=p.noise_rate * targets["market_order_rate"] / sim["market_order_rate"],
            sigma_v=p.sigma_v * targets["one_minute_return_std"] / sim["one_minute_return_std"],
        )
        sim = simulated_moments(p, seed=seed, seconds=seconds)
    return p, sim


@dataclass(frozen=True)
class Calibration:
    """Fitted parameters and the figures they came from."""

    params: AgentParams
    figures: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params.to_json(), "figures": self.figures}


def calibrate(
    events: np.ndarray,
    book: np.ndarray,
    *,
    tick: int = 100,
    seconds: float = 23_400.0,
    base: AgentParams | None = None,
    match_rounds: int = 3,
) -> Calibration:
    """Fit the data-identified parameters of :class:`AgentParams` to one LOBSTER day.

    ``base`` supplies the behavioural constants the data cannot identify (default: the
    shipped defaults). ``match_rounds`` simulated-moment steps then rescale the noise
    takers' rate, the limit-order rate and the fundamental's volatility so that a simulated
    day has the data's market-order rate, add rate and one-minute return volatility."""
    p0 = base or AgentParams()
    open_ns = session_open_ns(events)
    ev = events
    kind = ev["event"]
    mos = market_orders(ev, open_ns)
    mu, n_br, beta = fit_hawkes(mos.times_s[(mos.times_s >= 0) & (mos.times_s < seconds)], seconds)
    lo = fit_sizes(ev["qty"][kind == 1])
    mo = fit_sizes(mos.sizes)
    dist_q = fit_distances(ev, book, tick)
    life, deleted, improved = order_lifetimes(ev, book, open_ns + int(seconds * NS))
    rates, w_in, w_out = fit_lifetimes(life, deleted, improved)
    prof, tau_x, sigma_x = fit_activity(ev, open_ns, seconds, p0.profile_bin)
    mids10 = minute_mids(ev, book, open_ns=open_ns, seconds=seconds, step_s=10.0) / tick
    kappa, tau_i, corr = fit_learning(mos, mids10, 10.0, 6, p0.learn_power)
    mids = minute_mids(ev, book, open_ns=open_ns, seconds=seconds, step_s=300.0)
    sigma_v = float(np.std(np.diff(mids)) / tick / np.sqrt(300.0))
    r = np.diff(np.log(minute_mids(ev, book, open_ns=open_ns, seconds=seconds)))
    n_bins = len(prof)
    per = max(1, r.shape[0] // n_bins)
    var = np.array([np.mean(r[k * per : (k + 1) * per] ** 2) for k in range(n_bins)])
    vol_prof = var / var.mean()
    mid = level1_mid(book)
    ok = (book[:, 0] != DUMMY_ASK) & (book[:, 2] != DUMMY_BID)
    spread = float(((book[ok, 0] - book[ok, 2]) / tick).mean())
    n_cancel = int(np.isin(kind, (2, 3)).sum())
    params = dataclasses.replace(
        p0,
        start_price=round(mid[0] / tick) * tick,
        tick=tick,
        limit_rate=float((kind == 1).sum() / seconds),
        dist_quantiles=tuple(round(float(v), 3) for v in dist_q),
        mm_half_spread=spread / 2,
        lo_round_frac=lo[0],
        lo_round_mean=lo[1],
        lo_odd_mu=lo[2],
        lo_odd_sigma=lo[3],
        mo_round_frac=mo[0],
        mo_round_mean=mo[1],
        mo_odd_mu=mo[2],
        mo_odd_sigma=mo[3],
        noise_rate=mu,
        learn_kappa=kappa,
        learn_tau=tau_i,
        hawkes_branching=min(n_br, 0.95),
        hawkes_beta=beta,
        cancel_rates=_round3(rates),
        class_inside=_round3(w_in / w_in.sum()),
        class_other=_round3(w_out / w_out.sum()),
        partial_frac=float((kind == 2).sum() / max(n_cancel, 1)),
        hidden_rate=float((kind == 5).sum() / seconds),
        sigma_v=sigma_v,
        activity_tau=tau_x,
        activity_sigma=sigma_x,
        profile=tuple(float(x) for x in prof),
        vol_profile=tuple(float(x) for x in vol_prof),
    )
    targets = {
        "add_rate": float((kind == 1).sum() / seconds),
        "market_order_rate": float(mos.sizes.shape[0] / seconds),
        "one_minute_return_std": float(np.std(r)),
    }
    params, matched = match_moments(params, targets, seconds=seconds, rounds=match_rounds)
    levels = book.shape[1] // 4
    figures: dict[str, Any] = {
        "targets": targets,
        "simulated": matched,
        "messages": int(ev.shape[0]),
        "market_orders": int(mos.sizes.shape[0]),
        "market_order_rate": float(mos.sizes.shape[0] / seconds),
        "market_order_mean_size": float(mos.sizes.mean()) if mos.sizes.size else 0.0,
        "limit_order_mean_size": float(ev["qty"][kind == 1].mean()),
        "add_rate": float((kind == 1).sum() / seconds),
        "cancel_rate": float(n_cancel / seconds),
        "hawkes": {"mu": mu, "branching": n_br, "beta": beta},
        "learning": {"kappa": kappa, "tau": tau_i, "power": p0.learn_power, "correlation": corr},
        "mean_spread_ticks": spread,
        "one_minute_return_std": float(
            np.std(np.diff(np.log(minute_mids(ev, book, open_ns=open_ns, seconds=seconds))))
        ),
        "depth_profile": [
            {
                "level": k + 1,
                "ask_size": float(book[ok, 4 * k + 1].mean()),
                "bid_size": float(book[ok, 4 * k + 3].mean()),
            }
            for k in range(levels)
        ],
    }
    return Calibration(params=params, figures=figures)


__all__ = ["Calibration", "MarketOrders", "calibrate", "fit_hawkes", "market_orders"]
