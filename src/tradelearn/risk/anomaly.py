r"""Streaming anomaly scores on market microstructure, and an honest early-warning test.

Four features per interval, each built only from data up to the interval's end:
relative spread (spread blow-outs), top-of-book depth (depth collapse), message count
(message-rate bursts) and signed trade-flow imbalance (one-sided flow). Two scores:

* robust z-scores against the trailing window (median and MAD of the *previous*
  ``window`` intervals, so a score never sees its own or later data), combined as
  :math:`\max(z_{spread}, -z_{depth}, z_{msgs}, |z_{flow}|)`. Message counts and trade
  flow are discrete and often zero, so the MAD of a quiet window is often zero; the scale
  then falls back to the mean absolute deviation, floored by the feature's resolution
  (one message, one share, one tick), so every score is finite and a bigger departure
  scores higher. The z are compressed by ``asinh``, not capped: a cap tied a third of
  GOOG's seconds at the top;
* an isolation forest (Liu, Ting and Zhou, 2008) fitted on the first part of the
  sample and then scoring each later interval as it arrives.

The early-warning test asks whether a score at the end of interval :math:`t` ranks the
intervals whose *next* absolute mid return is in the top 1% above the rest (AUC), and
compares it with the obvious baseline, trailing realized volatility. Easley, Lopez de
Prado and O'Hara's VPIN was later found largely to restate volatility (Andersen and
Bondarenko, 2014); so the figure reported is the AUC *difference* over the baseline
with a moving-block bootstrap confidence interval (Kunsch, 1989).

References
----------
Liu, F. T., Ting, K. M., and Zhou, Z.-H. (2008). Isolation forest. *ICDM*, 413-422.
Andersen, T. G., and Bondarenko, O. (2014). VPIN and the flash crash. *Journal of
Financial Markets* 17, 1-46.
Hanley, J. A., and McNeil, B. J. (1982). The meaning and use of the area under a
receiver operating characteristic (ROC) curve. *Radiology* 143, 29-36.
"""

from __future__ import annotations

import gzip
import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats  # type: ignore[import-untyped, unused-ignore]
from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped, unused-ignore]

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID, LobsterDay
from tradelearn.data.schema import EventType
from tradelearn.errors import ConfigError, DataError

__all__ = [
    "FEATURES",
    "RESOLUTION",
    "EarlyWarning",
    "MarketTape",
    "StreamingRobustZ",
    "binance_tape",
    "early_warning_auc",
    "interval_features",
    "isolation_scores",
    "lobster_tape",
    "mbo_tape",
    "one_unit_of_log1p",
    "robust_scale",
    "robust_z",
    "robust_z_features",
    "robust_z_score",
]

FEATURES = ("log_spread", "log_depth", "log_msgs", "flow")
_MAD_TO_SD = 1.4826
_MEANAD_TO_SD = float(np.sqrt(np.pi / 2.0))


@dataclass(frozen=True, eq=False)
class MarketTape:
    """Top-of-book quotes, trades and message times of one instrument (ns timestamps).

    ``trade_sign`` is +1 for a buyer-initiated trade, -1 for a seller-initiated one.
    """

    name: str
    quote_ts: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    trade_ts: np.ndarray
    trade_size: np.ndarray
    trade_sign: np.ndarray
    message_ts: np.ndarray


def interval_features(
    tape: MarketTape, interval_ns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-interval features, mid log returns (percent) and interval end times.

    Quotes are the last ones at or before each interval's end. Returns ``X`` with the
    columns of :data:`FEATURES`, ``ret`` with the mid return over each interval, and
    ``ends``.
    """
    if interval_ns <= 0:
        raise ConfigError(f"interval_ns must be positive, actually: {interval_ns}")
    ok = (tape.ask > tape.bid) & (tape.bid > 0)
    qts = tape.quote_ts[ok]
    if qts.size < 2:
        raise DataError(f"{tape.name}: fewer than two two-sided quotes", field="quotes")
    t0 = int(qts[0]) // interval_ns * interval_ns + interval_ns
    ends = np.arange(t0, int(tape.message_ts.max()) + 1, interval_ns, dtype=np.int64)
    pos = np.searchsorted(qts, ends, side="right") - 1
    bid, ask = tape.bid[ok][pos], tape.ask[ok][pos]
    mid = (bid + ask) / 2.0
    depth = tape.bid_size[ok][pos] + tape.ask_size[ok][pos]
    edges = np.concatenate([[ends[0] - interval_ns], ends])
    msgs = np.histogram(tape.message_ts, bins=edges)[0]
    signed = np.histogram(tape.trade_ts, bins=edges, weights=tape.trade_size * tape.trade_sign)[0]
    volume = np.histogram(tape.trade_ts, bins=edges, weights=tape.trade_size)[0]
    X = np.column_stack(
        [
            np.log((ask - bid) / mid * 1e4),
            np.log1p(np.maximum(depth, 0.0)),
            np.log1p(msgs),
            np.divide(signed, volume, out=np.zeros_like(signed), where=volume > 0),
        ]
    )
    ret = np.concatenate([[np.nan], np.diff(np.log(mid))]) * 100.0
    return X, ret, ends


Step = float | Callable[[np.ndarray], np.ndarray]
"""A feature's resolution: a constant, or a function of the window's median."""


def one_unit_of_log1p(med: np.ndarray) -> np.ndarray:
    """Step of :math:`\\log(1 + n)` when the count ``n`` at the median grows by one.

    :math:`\\log(n + 2) - \\log(n + 1) = \\log(1 + e^{-m})` with :math:`m = \\log(1 + n)`:
    one message for ``log_msgs``, one share for ``log_depth``.
    """
    return np.log1p(np.exp(-np.asarray(med, dtype=np.float64)))


#: Resolution of each column of :data:`FEATURES`. A spread cannot be narrower than one
#: tick, so one tick on top of a one-tick spread (``log 2``) bounds the step of the log
#: spread from above where the tick is unknown; a trade-flow imbalance of 1 is one fully
#: one-sided interval.
RESOLUTION: tuple[Step, ...] = (float(np.log(2.0)), one_unit_of_log1p, one_unit_of_log1p, 1.0)


class StreamingRobustZ:
    """Robust z-score of each new value against the previous ``window`` values.

    Same numbers as :func:`robust_z_score` on the last ``window`` values; NaN until
    ``window`` values have been seen.
    """

    def __init__(self, window: int = 300, resolution: Step = 0.0) -> None:
        if window < 3:
            raise ConfigError(f"window must be >= 3, actually: {window}")
        self.window, self.resolution = window, resolution
        self._buf: deque[float] = deque(maxlen=window)

    def update(self, x: float) -> float:
        z = float("nan")
        if len(self._buf) == self.window:
            z = float(robust_z_score(np.asarray(self._buf), x, self.resolution))
        self._buf.append(float(x))
        return z


def robust_scale(history: np.ndarray, resolution: Step = 0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Median and robust standard-deviation scale of each row of ``history`` (last axis).

    The scale is :math:`1.4826\,\mathrm{MAD}`; where the MAD is zero (more than half the
    window at one value, as with message counts or trade flow in quiet seconds) it falls
    back to :math:`\sqrt{\pi/2}` times the mean absolute deviation from the median, and it
    is never below :math:`\sqrt{\pi/2}\,\delta/w`, the mean absolute deviation the window
    of ``w`` values would have if one of them were one resolution step :math:`\delta` off
    the median. Both constants make the scale the standard deviation for normal data.
    """
    h = np.asarray(history, dtype=np.float64)
    med = np.median(h, axis=-1)
    absdev = np.abs(h - med[..., None])
    mad = np.median(absdev, axis=-1) * _MAD_TO_SD
    scale = np.where(mad > 0, mad, np.mean(absdev, axis=-1) * _MEANAD_TO_SD)
    step = resolution(med) if callable(resolution) else np.full(med.shape, float(resolution))
    if np.any(step < 0):
        raise ConfigError(f"resolution must be >= 0, actually: {np.min(step)}")
    floor = _MEANAD_TO_SD * step / h.shape[-1]
    return med, np.maximum(scale, floor)


def robust_z_score(
    history: np.ndarray, x: float | np.ndarray, resolution: Step = 0.0
) -> np.ndarray:
    """Robust z of ``x`` against each row of ``history`` (last axis); see :func:`robust_scale`.

    Finite wherever ``resolution`` is positive. With ``resolution=0`` a window of one
    repeated value gives 0 for that value and ``+/-inf`` for any other.
    """
    med, scale = robust_scale(history, resolution)
    dev = np.asarray(x, dtype=np.float64) - med
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, dev / scale, np.where(dev == 0, 0.0, np.sign(dev) * np.inf))


def robust_z(x: np.ndarray, window: int = 300, resolution: Step = 0.0) -> np.ndarray:
    """Vectorized :class:`StreamingRobustZ` over a whole series (same numbers)."""
    v = np.asarray(x, dtype=np.float64)
    z = np.full(v.shape, np.nan)
    if v.size > window:
        hist = sliding_window_view(v, window)[:-1]
        z[window:] = robust_z_score(hist, v[window:], resolution)
    return z


def robust_z_features(
    X: np.ndarray, window: int = 300, resolution: Sequence[Step] = RESOLUTION
) -> tuple[np.ndarray, np.ndarray]:
    """Robust z of every feature column, compressed by ``asinh``, and the combined score.

    ``asinh`` is about ``z`` near zero and ``log(2|z|)`` in the tails: it bounds the
    growth of the rare huge z (a departure from a window of one repeated value) without
    flattening the upper tail, so intervals keep their order (see module).
    """
    if len(resolution) != X.shape[1]:
        raise ConfigError(
            f"resolution needs one step per feature column, expected: {X.shape[1]}, "
            f"actually: {len(resolution)}"
        )
    Z = np.column_stack(
        [np.arcsinh(robust_z(X[:, k], window, resolution[k])) for k in range(X.shape[1])]
    )
    combined = np.max(np.column_stack([Z[:, 0], -Z[:, 1], Z[:, 2], np.abs(Z[:, 3])]), axis=1)
    return Z, combined


def isolation_scores(
    Z: np.ndarray, train_frac: float = 0.3, *, rng: np.random.Generator | int = 0
) -> np.ndarray:
    """Isolation-forest anomaly score (higher is more anomalous) of each interval.

    Fitted on the first ``train_frac`` of the rows with finite features, then applied to
    every row; the training rows' own scores are in-sample and set to NaN.
    """
    ok = np.all(np.isfinite(Z), axis=1)
    idx = np.flatnonzero(ok)
    n_train = int(len(idx) * train_frac)
    if n_train < 50:
        raise DataError(
            "too few intervals to fit the isolation forest", expected=">= 50", got=n_train
        )
    seed = int(np.random.default_rng(rng).integers(2**31 - 1))
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(Z[idx[:n_train]])
    out = np.full(len(Z), np.nan)
    out[idx[n_train:]] = -forest.decision_function(Z[idx[n_train:]])
    return out


@dataclass(frozen=True)
class EarlyWarning:
    """AUCs for the next interval's top-1% absolute return, and their difference."""

    auc_score: float
    auc_baseline: float
    diff: float
    diff_low: float
    diff_high: float
    n: int
    positives: int


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    pos = int(label.sum())
    neg = label.size - pos
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = stats.rankdata(score)
    return float((ranks[label].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def _labelled(
    score: np.ndarray, ret: np.ndarray, vol_window: int, quantile: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score, trailing-vol baseline and next-interval extreme-move label of one segment."""
    s = np.asarray(score, dtype=np.float64)
    r = np.asarray(ret, dtype=np.float64)
    if s.shape != r.shape:
        raise DataError("score and returns differ in length", expected=str(r.shape), got=s.shape)
    c = np.concatenate([[0.0], np.cumsum(np.nan_to_num(r) ** 2)])
    base = np.full(r.size, np.nan)
    base[vol_window - 1 :] = np.sqrt(c[vol_window:] - c[:-vol_window])
    nxt = np.abs(np.concatenate([r[1:], [np.nan]]))
    ok = np.isfinite(s) & np.isfinite(base) & np.isfinite(nxt)
    s, base, nxt = s[ok], base[ok], nxt[ok]
    if nxt.size == 0:
        return s, base, np.zeros(0, dtype=bool)
    # a move of zero is never an extreme move, even when most intervals do not move
    return s, base, (nxt >= np.quantile(nxt, quantile)) & (nxt > 0)


def early_warning_auc(
    score: np.ndarray | Sequence[np.ndarray],
    ret: np.ndarray | Sequence[np.ndarray],
    *,
    vol_window: int = 60,
    quantile: float = 0.99,
    block: int = 100,
    n_boot: int = 1000,
    rng: np.random.Generator | int = 0,
) -> EarlyWarning:
    r"""AUC of ``score[t]`` for :math:`|r_{t+1}|` in its top ``1 - quantile``, against the baseline.

    The baseline is trailing realized volatility
    :math:`\sqrt{\sum_{k=0}^{w-1} r_{t-k}^2}` over ``vol_window`` intervals; the AUC is
    the Mann-Whitney probability that a positive outranks a negative (Hanley and
    McNeil, 1982). Rows where either score is NaN are dropped. Several segments (lists
    of arrays, e.g. separate captures) are labelled each against its own top quantile and
    then pooled. The CI of the difference comes from a moving-block bootstrap (blocks of
    ``block`` intervals) that resamples both scores together.
    """
    if isinstance(score, np.ndarray) and score.ndim == 1:
        score, ret = [score], [np.asarray(ret)]
    parts = [_labelled(s, r, vol_window, quantile) for s, r in zip(score, ret, strict=True)]
    s = np.concatenate([p[0] for p in parts])
    base = np.concatenate([p[1] for p in parts])
    label = np.concatenate([p[2] for p in parts])
    a, b = _auc(s, label), _auc(base, label)
    n = s.size
    if not np.isfinite(a - b) or n < 2 * block:
        return EarlyWarning(a, b, a - b, float("nan"), float("nan"), n, int(label.sum()))
    gen = np.random.default_rng(rng)
    nb = int(np.ceil(n / block))
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        starts = gen.integers(0, n - block + 1, size=nb)
        idx = (starts[:, None] + np.arange(block)).ravel()[:n]
        diffs[i] = _auc(s[idx], label[idx]) - _auc(base[idx], label[idx])
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        return EarlyWarning(a, b, a - b, float("nan"), float("nan"), n, int(label.sum()))
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return EarlyWarning(a, b, a - b, float(lo), float(hi), n, int(label.sum()))


# --------------------------------------------------------------------------- sources


def lobster_tape(day: LobsterDay) -> MarketTape:
    """Level-1 quotes after every message; executions (visible and hidden) as trades.

    LOBSTER's direction is the side of the resting order, so an executed buy limit order
    is a seller-initiated trade: the trade sign is minus the resting side.
    """
    if day.book is None:
        raise DataError("needs the orderbook file", path=day.message_path, field="book")
    ev = day.events
    ask, bid = day.book[:, 0].astype(np.float64), day.book[:, 2].astype(np.float64)
    one_sided = (day.book[:, 0] == DUMMY_ASK) | (day.book[:, 2] == DUMMY_BID)
    bid[one_sided] = 0.0
    ex = (ev["event"] == EventType.EXECUTE) | (ev["event"] == EventType.EXECUTE_HIDDEN)
    return MarketTape(
        name=f"lobster:{day.symbol}",
        quote_ts=ev["ts_exchange"], bid=bid, ask=ask,
        bid_size=day.book[:, 3].astype(np.float64), ask_size=day.book[:, 1].astype(np.float64),
        trade_ts=ev["ts_exchange"][ex], trade_size=ev["qty"][ex].astype(np.float64),
        trade_sign=-ev["side"][ex].astype(np.float64), message_ts=ev["ts_exchange"],
    )  # fmt: skip


def mbo_tape(events: np.ndarray, tick: int, interval_ns: int, name: str = "mbo") -> MarketTape:
    """Quotes sampled at interval ends from an L3 book replay of order-by-order events.

    Trades are the ``TRADE`` prints, whose side is the aggressor's (+1 buy). The grid
    starts at the first trade (the session's open) and message times before it are
    dropped, so that a closed market's silence is not scored.
    """
    from tradelearn.book.fast import FastBook

    book = FastBook.for_events(events, tick)
    ts = events["ts_exchange"]
    tr = events["event"] == EventType.TRADE
    # the grid starts at the first trade: before it the book is a snapshot of a closed market
    first = int(ts[tr][0]) if tr.any() else int(ts[0])
    ends = np.arange(first // interval_ns * interval_ns + interval_ns, int(ts[-1]) + 1, interval_ns)
    stops = np.searchsorted(ts, ends, side="right")
    quotes = np.zeros((len(ends), 4))
    i = 0
    for k, stop in enumerate(stops):
        book.apply(events, i, int(stop))
        i = int(stop)
        b, a = book.best_bid(), book.best_ask()
        if b is not None and a is not None:
            quotes[k] = (b, a, book.level_qty(1, b), book.level_qty(-1, a))
    return MarketTape(
        name=name, quote_ts=ends, bid=quotes[:, 0], ask=quotes[:, 1],
        bid_size=quotes[:, 2], ask_size=quotes[:, 3], trade_ts=ts[tr],
        trade_size=events["qty"][tr].astype(np.float64),
        trade_sign=events["side"][tr].astype(np.float64), message_ts=ts[ts >= first],
    )  # fmt: skip


def binance_tape(path: str | Path) -> MarketTape:
    """A Binance combined-stream capture (``<recv_ns> <json>`` per line, as hftbacktest stores it).

    ``bookTicker`` lines give quotes, ``trade``/``aggTrade`` lines trades (``m`` true:
    the buyer was the maker, so the seller initiated), and every line counts as a message.
    """
    p = Path(path)
    qts: list[int] = []
    quotes: list[tuple[float, float, float, float]] = []
    tts: list[int] = []
    trades: list[tuple[float, float]] = []
    msgs: list[int] = []
    with gzip.open(p, "rt") as fh:
        for row, line in enumerate(fh, start=1):
            head, _, body = line.partition(" ")
            try:
                ts = int(head)
                data = json.loads(body).get("data", {})
            except (ValueError, AttributeError) as exc:
                raise DataError(f"not a '<ns> <json>' line ({exc})", path=p, row=row) from exc
            msgs.append(ts)
            if "B" in data and "A" in data and "b" in data:
                qts.append(ts)
                quotes.append(
                    (float(data["b"]), float(data["a"]), float(data["B"]), float(data["A"]))
                )
            elif data.get("e") in ("trade", "aggTrade"):
                tts.append(ts)
                trades.append((float(data["q"]), -1.0 if data.get("m") else 1.0))
    if not quotes:
        raise DataError("no bookTicker quotes", path=p, expected="bookTicker stream")
    qa, ta = np.array(quotes), np.array(trades).reshape(-1, 2)
    q_ts = np.array(qts, dtype=np.int64)
    order = np.argsort(q_ts, kind="stable")
    return MarketTape(
        name=f"binance:{p.name}", quote_ts=q_ts[order], bid=qa[order, 0], ask=qa[order, 1],
        bid_size=qa[order, 2], ask_size=qa[order, 3], trade_ts=np.array(tts, dtype=np.int64),
        trade_size=ta[:, 0], trade_sign=ta[:, 1], message_ts=np.sort(np.array(msgs, dtype=np.int64)),
    )  # fmt: skip
