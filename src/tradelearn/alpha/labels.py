"""Mid-price direction labels at a horizon of k events, the FI-2010 convention.

The smoothed return at row ``t`` compares the *mean* of the next ``k`` mids with the
current one (Ntakaris et al. 2018, the FI-2010 benchmark)::

    l_t = (mean(mid[t+1 .. t+k]) - mid[t]) / mid[t]

``method="past_future"`` uses the mean of the previous ``k`` mids (``t-k+1 .. t``) in
place of ``mid[t]`` (the variant of Zhang, Zohren and Roberts' DeepLOB paper); it needs
``k - 1`` rows of history and is smoother still. Rows whose future runs past the end of the
array have no label (NaN return, class ``-1``): computing labels on each segment separately
therefore purges the last ``k`` rows of a training segment, which would otherwise look
into the test segment.

Classes are 0 down (``l < -alpha``), 1 stationary (``|l| <= alpha``), 2 up (``l > alpha``).
:func:`fit_threshold` picks ``alpha`` on the *training* returns so the three classes are
as balanced as the data allow; the same ``alpha`` is then applied, unchanged, to
validation and test segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError, DataError

Method = Literal["future", "past_future"]
DOWN, STATIONARY, UP = 0, 1, 2
CLASS_NAMES = ("down", "stationary", "up")
MISSING = -1


def smoothed_return(
    mid: NDArray[np.float64], k: int, method: Method = "future"
) -> NDArray[np.float64]:
    """Smoothed relative mid change at horizon ``k`` events (NaN where undefined).

    Parameters
    ----------
    mid
        Mid prices, one per event (positive; NaN where undefined).
    k
        Horizon in events (>= 1).
    method
        ``"future"``: mean of the next ``k`` mids against ``mid[t]``; ``"past_future"``:
        against the mean of the last ``k`` mids.
    """
    m = np.asarray(mid, dtype=np.float64)
    if m.ndim != 1:
        raise DataError("mid must be 1-D", field="mid", expected="(n,)", got=m.shape)
    if k < 1:
        raise ConfigError(f"horizon k must be >= 1, actually: {k}")
    if method not in ("future", "past_future"):
        raise ConfigError(f"method must be 'future' or 'past_future', actually: {method!r}")
    n = m.shape[0]
    out = np.full(n, np.nan)
    if n <= k:
        return out
    cs = np.concatenate([[0.0], np.cumsum(m)])
    t = np.arange(n - k)
    future = (cs[t + k + 1] - cs[t + 1]) / k
    if method == "future":
        ref = m[t]
    else:
        lo = t - k + 1
        ref = np.where(lo >= 0, (cs[t + 1] - cs[np.maximum(lo, 0)]) / k, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[t] = (future - ref) / ref
    return out


def classify(returns: NDArray[np.float64], alpha: float) -> NDArray[np.int64]:
    """Classes down/stationary/up (0/1/2) at threshold ``alpha``; ``-1`` where undefined."""
    if not alpha >= 0:
        raise ConfigError(f"alpha must be >= 0, actually: {alpha}")
    r = np.asarray(returns, dtype=np.float64)
    y = np.full(r.shape, STATIONARY, dtype=np.int64)
    y[r > alpha] = UP
    y[r < -alpha] = DOWN
    y[~np.isfinite(r)] = MISSING
    return y


@dataclass(frozen=True)
class Threshold:
    """A fitted label threshold and the class shares it gave on the training returns."""

    k: int
    alpha: float
    method: Method
    train_shares: tuple[float, float, float]

    def labels(self, mid: NDArray[np.float64]) -> NDArray[np.int64]:
        """Labels of another segment's mids with this (training) threshold."""
        return classify(smoothed_return(mid, self.k, self.method), self.alpha)


def class_shares(y: NDArray[np.int64]) -> tuple[float, float, float]:
    """Fractions of down, stationary and up among the defined labels."""
    ok = y[y >= 0]
    if ok.size == 0:
        return (0.0, 0.0, 0.0)
    c = np.bincount(ok, minlength=3)[:3] / ok.size
    return (float(c[0]), float(c[1]), float(c[2]))


def fit_threshold(
    train_mid: NDArray[np.float64], k: int, method: Method = "future", *, n_grid: int = 200
) -> Threshold:
    """Choose ``alpha`` on the training mids so the three classes are roughly balanced.

    ``alpha`` minimizes the largest deviation of a class share from 1/3 over candidate
    thresholds taken from the quantiles of ``|l|`` between its 5th and 95th percentiles
    (plus 0); mids are discrete, so exact balance is rarely possible.
    """
    r = smoothed_return(train_mid, k, method)
    a = np.abs(r[np.isfinite(r)])
    if a.size < 3:
        raise DataError(
            "too few training rows to fit a label threshold",
            field="train_mid",
            expected=f"more than {k + 2} rows",
            got=int(np.asarray(train_mid).shape[0]),
        )
    cands = np.unique(np.concatenate([[0.0], np.quantile(a, np.linspace(0.05, 0.95, n_grid))]))
    best, best_dev = 0.0, np.inf
    for c in cands:
        sh = class_shares(classify(r, float(c)))
        dev = max(abs(s - 1 / 3) for s in sh)
        if dev < best_dev:
            best, best_dev = float(c), dev
    return Threshold(k=k, alpha=best, method=method, train_shares=class_shares(classify(r, best)))


__all__ = [
    "CLASS_NAMES",
    "DOWN",
    "MISSING",
    "STATIONARY",
    "UP",
    "Threshold",
    "class_shares",
    "classify",
    "fit_threshold",
    "smoothed_return",
]
