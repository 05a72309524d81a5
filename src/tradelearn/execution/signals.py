"""A causal alpha signal for the execution environment's signal channel.

:func:`fit_alpha_signal` fits a LightGBM regression on one window of a LOBSTER-style day
(:func:`~tradelearn.alpha.features_lob.lob_features` as inputs, the mid's log move over the
next ``horizon_s`` seconds in bp as the target) and predicts every event row of the day.
The result, :class:`AlphaSignal`, answers ``signal(t_ns)`` with the prediction of the last
event at or before ``t_ns``: features are causal row by row, so the value at ``t`` depends
only on events up to ``t`` (the model's parameters come from the training window alone).

The environment's signal is a function of the decision time only; :func:`side_signed`
turns the predicted move into the move *against* an order of a given side (positive: the
price is expected to run away, so waiting costs), which is what the agent should read when
it trains on buys and sells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tradelearn.alpha.features_lob import BPS, NS, FeatureSpec, lob_features, mid_price, split_book
from tradelearn.alpha.models.base import make_model
from tradelearn.errors import ConfigError, DataError

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class AlphaSignal:
    """Predicted mid move (bp over ``horizon_s``) of every event row, looked up by time.

    ``signal(t_ns)`` returns the prediction in units of ``unit_bps`` (the standard deviation
    of the training rows' predictions, so the network reads a value of order one).

    Attributes
    ----------
    ts
        Event times (ns), non-decreasing.
    prediction
        The model's prediction at each event row (bp).
    horizon_s
        Horizon of the predicted move (s).
    train_window_ns
        The ``[lo, hi)`` window (ns) whose rows fitted the model.
    unit_bps
        The signal's unit (bp).
    """

    ts: I64
    prediction: F64
    horizon_s: float
    train_window_ns: tuple[int, int]
    unit_bps: float = 1.0

    def __call__(self, t_ns: int) -> float:
        """The prediction of the last event at or before ``t_ns`` over ``unit_bps`` (0
        before the first event)."""
        i = int(np.searchsorted(self.ts, t_ns, side="right")) - 1
        return float(self.prediction[i] / self.unit_bps) if i >= 0 else 0.0


def forward_move_bps(mid: F64, ts: I64, horizon_s: float) -> F64:
    """The mid's log move from each row to the last row at or before ``ts + horizon_s``, bp.

    NaN where the horizon passes the last event or a mid is missing.
    """
    if not horizon_s > 0:
        raise ConfigError(f"horizon_s must be positive, actually: {horizon_s}")
    j = np.searchsorted(ts, ts + round(horizon_s * NS), side="right") - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        logm = np.log(mid)
        out = BPS * (logm[j] - logm)
    out[ts + round(horizon_s * NS) > ts[-1]] = np.nan
    return out


def _rows(ts: I64, window_ns: tuple[int, int], max_rows: int) -> I64:
    """At most ``max_rows`` evenly spaced row indices with ``lo <= ts < hi``."""
    lo = int(np.searchsorted(ts, window_ns[0], side="left"))
    hi = int(np.searchsorted(ts, window_ns[1]))
    if hi - lo < 10:
        raise DataError(
            "too few events in the window",
            field="window_ns",
            expected="at least 10 events",
            got=f"{hi - lo} events in {window_ns}",
        )
    step = max((hi - lo) // max_rows, 1)
    return np.arange(lo, hi, step, dtype=np.int64)


def fit_alpha_signal(
    book: NDArray[np.int64],
    events: NDArray[np.void],
    train_window_ns: tuple[int, int],
    *,
    horizon_s: float = 120.0,
    spec: FeatureSpec | None = None,
    seed: int = 0,
    max_rows: int = 40_000,
    valid_share: float = 0.2,
) -> AlphaSignal:
    """Fit the alpha model on ``train_window_ns`` and predict every row of the day.

    Parameters
    ----------
    book, events
        The day's LOBSTER orderbook array and canonical events (same rows).
    train_window_ns
        ``(lo, hi)`` in ns: rows with ``lo <= ts < hi`` whose whole horizon also ends before
        ``hi`` fit the model (the last ``valid_share`` of them, in time, early-stops it).
    horizon_s
        Horizon of the predicted mid move (s).
    spec
        Feature set (default :class:`~tradelearn.alpha.features_lob.FeatureSpec` with the
        book's levels, at most 10).
    seed
        Seeds LightGBM.
    max_rows
        Training rows are subsampled evenly to at most this many.
    valid_share
        Share of the training rows, the latest, used for early stopping.
    """
    if not 0 < valid_share < 1:
        raise ConfigError(f"valid_share must be in (0, 1), actually: {valid_share}")
    lo, hi = train_window_ns
    if not lo < hi:
        raise ConfigError(f"train_window_ns must be (lo, hi) with lo < hi, actually: {lo, hi}")
    levels = min(book.shape[1] // 4, 10)
    X, _ = lob_features(book, events, spec or FeatureSpec(levels=levels))
    ts = events["ts_exchange"].astype(np.int64)
    y = forward_move_bps(mid_price(split_book(book, levels)), ts, horizon_s)
    # labels must not reach past the window: its last horizon belongs to what follows
    rows = _rows(ts, (lo, hi - round(horizon_s * NS)), max_rows)
    rows = rows[np.isfinite(y[rows])]
    cut = int(len(rows) * (1 - valid_share))
    fit_rows, valid_rows = rows[:cut], rows[cut:]
    model = make_model("lgbm", task="regression", seed=seed)
    model.fit(X[fit_rows], y[fit_rows], X[valid_rows], y[valid_rows])
    pred = np.asarray(model.predict(X), dtype=np.float64)
    unit = float(np.std(pred[rows]))
    unit = unit if unit > 0 else 1.0  # a constant model (no split found) stays at 0
    return AlphaSignal(ts, pred, float(horizon_s), (int(lo), int(hi)), unit)


def information_coefficient(
    signal: AlphaSignal, mid: F64, window_ns: tuple[int, int], *, max_rows: int = 40_000
) -> dict[str, float]:
    """Spearman and Pearson correlation of the prediction with the realized move in a window.

    ``mid`` is the day's mid per event row (as the signal's ``ts``).
    """
    from scipy.stats import spearmanr  # type: ignore[import-untyped, unused-ignore]

    y = forward_move_bps(mid, signal.ts, signal.horizon_s)
    rows = _rows(signal.ts, window_ns, max_rows)
    rows = rows[np.isfinite(y[rows])]
    p, r = signal.prediction[rows], y[rows]
    rho = float(spearmanr(p, r).statistic)
    return {
        "spearman_ic": float(rho),
        "pearson_ic": float(np.corrcoef(p, r)[0, 1]),
        "rows": float(len(rows)),
        "prediction_std_bps": float(np.std(p)),
        "move_std_bps": float(np.std(r)),
    }


def side_signed(signal: Callable[[int], float], side: int) -> Callable[[int], float]:
    """The predicted move against an order of ``side`` (+1 buy, -1 sell), bp."""
    if side not in (1, -1):
        raise ConfigError(f"side must be +1 or -1, actually: {side!r}")
    return lambda t_ns: side * signal(t_ns)


__all__ = [
    "AlphaSignal",
    "fit_alpha_signal",
    "forward_move_bps",
    "information_coefficient",
    "side_signed",
]
