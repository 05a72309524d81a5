"""Microstructure features from a LOBSTER-style book and its event stream, vectorized.

Inputs are the orderbook array as :func:`tradelearn.data.lobster.load_lobster` returns it
(``(n, 4 L)`` int64, per level ask price, ask size, bid price, bid size, LOBSTER dummy prices
on empty levels) and, for trade and clock features, the canonical event array
(:data:`~tradelearn.data.schema.EVENT_DTYPE`, row ``k`` = the message that produced book row
``k``).

Every feature at row ``t`` uses rows ``0..t`` only (no look-ahead): rolling sums are
differences of cumulative sums, clock windows look back from ``ts[t]``, and rolling
normalizers (average depth, event rate) are trailing means. Prices enter as basis points of
the mid and sizes relative to trailing averages, so a model fitted on one stock reads
another (GOOG level 10 to AAPL level 1) on the same scale.

Definitions
-----------
mid
    ``(ask_1 + bid_1) / 2``; carried forward while one side is empty.
microprice
    The size-weighted mid ``(ask_1 q^b_1 + bid_1 q^a_1) / (q^b_1 + q^a_1)``; it leans toward
    the side with less depth, where the next price change is likelier.
depth imbalance (level ``k``)
    ``(q^b_k - q^a_k) / (q^b_k + q^a_k)`` in ``[-1, 1]``; ``cum`` sums levels ``1..k`` first.
order-flow imbalance (Cont, Kukanov and Stoikov 2014)
    Per event ``e_n = q^b_n 1[P^b_n >= P^b_{n-1}] - q^b_{n-1} 1[P^b_n <= P^b_{n-1}]
    - q^a_n 1[P^a_n <= P^a_{n-1}] + q^a_{n-1} 1[P^a_n >= P^a_{n-1}]`` (``e_0 = 0``), at any
    level for the multi-level variant; summed over a window and divided by the trailing
    average depth of that level.
trade-flow imbalance
    Buyer-initiated minus seller-initiated executed volume over total executed volume in a
    window (LOBSTER records the *resting* side, so the aggressor is the opposite one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.errors import ConfigError, DataError

F64 = NDArray[np.float64]
NS = 1_000_000_000
BPS = 1e4


@dataclass(frozen=True)
class BookSides:
    """The book split by side: ``(n, levels)`` float arrays, NaN prices on empty levels."""

    ask_price: F64
    ask_size: F64
    bid_price: F64
    bid_size: F64

    @property
    def levels(self) -> int:
        return int(self.ask_price.shape[1])


def split_book(book: NDArray[np.int64], levels: int | None = None) -> BookSides:
    """Split a LOBSTER orderbook array into per-side price and size arrays.

    Parameters
    ----------
    book
        ``(n, 4 L)`` array in LOBSTER column order.
    levels
        Keep the first ``levels`` levels (default all ``L``).
    """
    b = np.asarray(book)
    if b.ndim != 2 or b.shape[1] == 0 or b.shape[1] % 4:
        raise DataError(
            "orderbook array has the wrong shape",
            field="book",
            expected="(rows, 4 x levels)",
            got=b.shape,
        )
    avail = b.shape[1] // 4
    lv = avail if levels is None else levels
    if not 1 <= lv <= avail:
        raise ConfigError(f"levels must be in 1..{avail}, actually: {levels}")
    cols = b[:, : 4 * lv].reshape(b.shape[0], lv, 4)
    ap = cols[:, :, 0].astype(np.float64)
    bp = cols[:, :, 2].astype(np.float64)
    ap[cols[:, :, 0] == DUMMY_ASK] = np.nan
    bp[cols[:, :, 2] == DUMMY_BID] = np.nan
    return BookSides(ap, cols[:, :, 1].astype(np.float64), bp, cols[:, :, 3].astype(np.float64))


def ffill(x: F64) -> F64:
    """Carry the last finite value forward along axis 0 (leading NaNs stay NaN)."""
    valid = np.isfinite(x)
    rows = np.arange(x.shape[0]).reshape(-1, *([1] * (x.ndim - 1)))
    idx = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    out = np.take_along_axis(x, np.maximum(idx, 0), axis=0)
    return np.asarray(np.where(idx < 0, np.nan, out), dtype=np.float64)


def mid_price(sides: BookSides) -> F64:
    """Mid of the best quotes, carried forward while a side is empty."""
    return ffill((sides.ask_price[:, 0] + sides.bid_price[:, 0]) / 2.0)


def spread(sides: BookSides) -> F64:
    """Best ask minus best bid in price units (NaN while a side is empty)."""
    return np.asarray(sides.ask_price[:, 0] - sides.bid_price[:, 0], dtype=np.float64)


def microprice(sides: BookSides) -> F64:
    """Size-weighted mid ``(ask q_b + bid q_a) / (q_b + q_a)`` at level 1."""
    qa, qb = sides.ask_size[:, 0], sides.bid_size[:, 0]
    tot = qa + qb
    with np.errstate(invalid="ignore", divide="ignore"):
        mp = (sides.ask_price[:, 0] * qb + sides.bid_price[:, 0] * qa) / tot
    return np.asarray(mp, dtype=np.float64)


def depth_imbalance(sides: BookSides, *, cumulative: bool = False) -> F64:
    """``(q_b - q_a) / (q_b + q_a)`` per level, ``(n, levels)``; 0 where both are empty."""
    qa, qb = sides.ask_size, sides.bid_size
    if cumulative:
        qa, qb = np.cumsum(qa, axis=1), np.cumsum(qb, axis=1)
    tot = qa + qb
    with np.errstate(invalid="ignore", divide="ignore"):
        imb = np.where(tot > 0, (qb - qa) / tot, 0.0)
    return np.asarray(imb, dtype=np.float64)


def order_flow_imbalance(sides: BookSides) -> F64:
    """Per-event order-flow imbalance of Cont, Kukanov and Stoikov at every level, ``(n, L)``.

    Row 0 is 0. An empty bid level counts as price ``-inf`` with size 0, an empty ask level
    as ``+inf``, so a side emptying out counts as its whole depth leaving.
    """
    bp = np.where(np.isnan(sides.bid_price), -np.inf, sides.bid_price)
    ap = np.where(np.isnan(sides.ask_price), np.inf, sides.ask_price)
    qb, qa = sides.bid_size, sides.ask_size
    e = np.zeros_like(qb)
    up_b, dn_b = bp[1:] >= bp[:-1], bp[1:] <= bp[:-1]
    dn_a, up_a = ap[1:] <= ap[:-1], ap[1:] >= ap[:-1]
    e[1:] = qb[1:] * up_b - qb[:-1] * dn_b - qa[1:] * dn_a + qa[:-1] * up_a
    return e


def signed_trade_volume(events: NDArray[np.void]) -> F64:
    """Aggressor-signed executed volume per event: + buyer-initiated, - seller-initiated."""
    ev = events["event"]
    trade = (ev == 4) | (ev == 5)
    # LOBSTER's direction is the resting order's side; the aggressor is the other one
    return np.where(trade, -events["side"].astype(np.float64) * events["qty"], 0.0)


# --------------------------------------------------------------------------- windows


def rolling_sum(x: F64, window: int) -> F64:
    """Trailing sum over rows ``t - window + 1 .. t`` (shorter at the start), along axis 0."""
    if window < 1:
        raise ConfigError(f"window must be >= 1, actually: {window}")
    cs = np.concatenate([np.zeros((1, *x.shape[1:])), np.cumsum(x, axis=0)])
    n = x.shape[0]
    hi = np.arange(1, n + 1)
    lo = np.maximum(hi - window, 0)
    return np.asarray(cs[hi] - cs[lo], dtype=np.float64)


def clock_start(ts: NDArray[np.int64], seconds: float) -> NDArray[np.int64]:
    """For each row ``t``, the first row whose time is after ``ts[t] - seconds``."""
    if not seconds > 0:
        raise ConfigError(f"clock window must be positive seconds, actually: {seconds}")
    return np.searchsorted(ts, ts - round(seconds * NS), side="right").astype(np.int64)


def clock_sum(x: F64, ts: NDArray[np.int64], seconds: float) -> F64:
    """Sum of ``x`` over rows with time in ``(ts[t] - seconds, ts[t]]`` and index ``<= t``."""
    cs = np.concatenate([np.zeros((1, *x.shape[1:])), np.cumsum(x, axis=0)])
    lo = clock_start(ts, seconds)
    hi = np.arange(1, x.shape[0] + 1)
    return np.asarray(cs[hi] - cs[lo], dtype=np.float64)


def log_returns_bps(mid: F64) -> F64:
    """One-event log returns of the mid in basis points (row 0 and undefined rows: 0)."""
    r = np.zeros_like(mid)
    with np.errstate(invalid="ignore", divide="ignore"):
        r[1:] = BPS * np.diff(np.log(mid))
    return np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0)


def _ratio(num: F64, den: F64) -> F64:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / den, 0.0)
    return np.asarray(out, dtype=np.float64)


# --------------------------------------------------------------------------- feature sets


@dataclass(frozen=True)
class FeatureSpec:
    """Which features :func:`lob_features` computes.

    Attributes
    ----------
    levels
        Book levels used (1 gives the set that every LOBSTER file has).
    event_windows
        Windows in events for OFI, trade flow, returns and realized volatility.
    clock_windows
        Windows in seconds for the same (clock time).
    norm_window
        Events in the trailing average that sizes and event rates are divided by.
    level_ofi_window
        Event window of the per-level OFI at levels 2 and deeper.
    tick
        Tick size in price units (spread in ticks).
    """

    levels: int = 10
    event_windows: tuple[int, ...] = (10, 50, 100)
    clock_windows: tuple[float, ...] = (1.0, 10.0, 60.0)
    norm_window: int = 1000
    level_ofi_window: int = 50
    tick: float = 100.0

    def __post_init__(self) -> None:
        if self.levels < 1:
            raise ConfigError(f"FeatureSpec.levels must be >= 1, actually: {self.levels}")
        if not self.event_windows or min(self.event_windows) < 2:
            raise ConfigError(
                f"FeatureSpec.event_windows must be non-empty and >= 2, actually: {self.event_windows}"
            )
        if any(not w > 0 for w in self.clock_windows):
            raise ConfigError(
                f"FeatureSpec.clock_windows must be positive, actually: {self.clock_windows}"
            )
        if self.norm_window < 1 or self.level_ofi_window < 1 or not self.tick > 0:
            raise ConfigError(
                "FeatureSpec.norm_window, level_ofi_window and tick must be positive, actually: "
                f"{self.norm_window}, {self.level_ofi_window}, {self.tick}"
            )


def lob_features(
    book: NDArray[np.int64], events: NDArray[np.void], spec: FeatureSpec | None = None
) -> tuple[F64, list[str]]:
    """Compute the microstructure feature matrix, causal row by row.

    Parameters
    ----------
    book
        ``(n, 4 L)`` LOBSTER orderbook array with ``L >= spec.levels``.
    events
        ``n`` canonical events (the messages behind the book rows).
    spec
        Feature choices (default :class:`FeatureSpec`).

    Returns
    -------
    X, names
        ``(n, features)`` float64 with no NaN, and the column names.
    """
    spec = spec or FeatureSpec()
    sides = split_book(book, spec.levels)
    n = sides.ask_price.shape[0]
    if events.shape != (n,):
        raise DataError(
            "events and book rows differ", field="events", expected=f"{n} events", got=events.shape
        )
    ts = events["ts_exchange"].astype(np.int64)
    mid = mid_price(sides)
    cols: dict[str, F64] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["spread_bps"] = BPS * spread(sides) / mid
        cols["spread_ticks"] = spread(sides) / spec.tick
        cols["micro_dev_bps"] = BPS * (microprice(sides) - mid) / mid
    imb = depth_imbalance(sides)
    cols["imbalance_1"] = imb[:, 0]
    depth = sides.ask_size + sides.bid_size
    avg_depth = (
        rolling_sum(depth, spec.norm_window)
        / np.minimum(np.arange(1, n + 1), spec.norm_window)[:, None]
    )
    cols["depth_1_rel"] = _ratio(depth[:, 0], avg_depth[:, 0])
    ofi = order_flow_imbalance(sides)
    trades = signed_trade_volume(events)
    ret = log_returns_bps(mid)
    logmid = np.log(mid)
    for w in spec.event_windows:
        cols[f"ofi_1_e{w}"] = _ratio(rolling_sum(ofi[:, 0], w), avg_depth[:, 0])
        cols[f"tfi_e{w}"] = _ratio(rolling_sum(trades, w), rolling_sum(np.abs(trades), w))
        lag = np.concatenate([np.full(min(w, n), logmid[0]), logmid[: max(n - w, 0)]])
        cols[f"ret_e{w}_bps"] = BPS * (logmid - lag)
        cols[f"rv_e{w}_bps"] = np.sqrt(rolling_sum(ret**2, w))
    ones = np.ones(n)
    rate_norm = rolling_sum(ones, spec.norm_window) / np.maximum(
        (ts - ts[np.maximum(np.arange(n) - spec.norm_window + 1, 0)]) / NS, 1e-3
    )
    for s in spec.clock_windows:
        tag = f"{s:g}s"
        lo = clock_start(ts, s)
        cols[f"ofi_1_{tag}"] = _ratio(clock_sum(ofi[:, 0], ts, s), avg_depth[:, 0])
        cols[f"tfi_{tag}"] = _ratio(clock_sum(trades, ts, s), clock_sum(np.abs(trades), ts, s))
        # mid just before the window opened (the row start-1; the first mid at the start)
        cols[f"ret_{tag}_bps"] = BPS * (logmid - logmid[np.maximum(lo - 1, 0)])
        cols[f"rv_{tag}_bps"] = np.sqrt(clock_sum(ret**2, ts, s))
        cols[f"rate_{tag}_rel"] = _ratio(clock_sum(ones, ts, s) / s, rate_norm)
    if spec.levels > 1:
        cimb = depth_imbalance(sides, cumulative=True)
        w = spec.level_ofi_window
        for k in range(1, spec.levels):
            cols[f"imbalance_{k + 1}"] = imb[:, k]
            cols[f"imbalance_cum_{k + 1}"] = cimb[:, k]
            cols[f"ofi_{k + 1}_e{w}"] = _ratio(rolling_sum(ofi[:, k], w), avg_depth[:, k])
            with np.errstate(invalid="ignore"):
                cols[f"ask_{k + 1}_dist_bps"] = BPS * (sides.ask_price[:, k] - mid) / mid
                cols[f"bid_{k + 1}_dist_bps"] = BPS * (mid - sides.bid_price[:, k]) / mid
            cols[f"depth_{k + 1}_rel"] = _ratio(depth[:, k], avg_depth[:, 0])
    names = list(cols)
    X = np.column_stack([cols[k] for k in names])
    return np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0), names


def raw_levels(
    book: NDArray[np.int64], levels: int | None = None, *, norm_window: int = 1000
) -> F64:
    """The book levels as a model reads them raw (DeepLOB input), ``(n, 4 L)``.

    Columns keep LOBSTER's order (ask price, ask size, bid price, bid size per level);
    prices become distances from the mid in basis points (ask positive, bid negative) and
    sizes are divided by the trailing average size over all shown levels. Empty levels
    read 0.
    """
    sides = split_book(book, levels)
    n, lv = sides.ask_price.shape
    mid = mid_price(sides)[:, None]
    sizes = np.concatenate([sides.ask_size, sides.bid_size], axis=1).mean(axis=1)
    avg = rolling_sum(sizes, norm_window) / np.minimum(np.arange(1, n + 1), norm_window)
    out = np.empty((n, lv, 4))
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, :, 0] = BPS * (sides.ask_price - mid) / mid
        out[:, :, 2] = BPS * (sides.bid_price - mid) / mid
    out[:, :, 1] = _ratio(sides.ask_size, avg[:, None])
    out[:, :, 3] = _ratio(sides.bid_size, avg[:, None])
    return np.nan_to_num(out.reshape(n, 4 * lv), nan=0.0, posinf=0.0, neginf=0.0)


def sequence_windows(X: F64, window: int, start: int, stop: int, step: int = 1) -> F64:
    """Windows ``X[t - window + 1 .. t]`` for ``t`` in ``range(start, stop, step)``, as a view.

    Returns ``(len(range), window, features)`` without copying ``X``; ``start`` must be at
    least ``window - 1`` so every window is full.
    """
    if X.ndim != 2:
        raise DataError("expected a 2-D feature matrix", field="X", expected="(n, f)", got=X.shape)
    if window < 1 or step < 1:
        raise ConfigError(f"window and step must be >= 1, actually: {window}, {step}")
    if start < window - 1 or stop > X.shape[0] or start >= stop:
        raise ConfigError(
            f"rows must satisfy window-1 <= start < stop <= {X.shape[0]}, actually: "
            f"start={start}, stop={stop}, window={window}"
        )
    view = sliding_window_view(X, window, axis=0).transpose(0, 2, 1)
    lo = start - window + 1
    return np.asarray(view[lo : stop - window + 1 : step])


__all__ = [
    "BookSides",
    "FeatureSpec",
    "clock_sum",
    "depth_imbalance",
    "ffill",
    "lob_features",
    "log_returns_bps",
    "microprice",
    "mid_price",
    "order_flow_imbalance",
    "raw_levels",
    "rolling_sum",
    "sequence_windows",
    "signed_trade_volume",
    "split_book",
    "spread",
]
