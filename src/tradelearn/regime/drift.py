r"""Streaming drift detectors: Page-Hinkley and ADWIN, each ``update(x) -> bool``.

Both watch a stream of numbers (here: a forecaster's standardised errors) and answer,
after every value, whether its mean has just changed. After an alarm a detector forgets
the old regime (Page-Hinkley restarts; ADWIN has already dropped the old part of its
window), so the next alarm is about the next change.

Page-Hinkley (Page, 1954; Hinkley, 1971) keeps the cumulative deviation from the running
mean, less a tolerance :math:`\delta` per step,

.. math:: m_T = \sum_{t=1}^{T} (x_t - \bar x_T - \delta), \qquad M_T = \min_{t \le T} m_t,

and alarms when :math:`m_T - M_T > \lambda` (a rise; the mirrored sum catches a fall).

ADWIN (Bifet and Gavaldà, 2007) keeps a window of recent values and drops its older part
whenever some split into an older part of :math:`n_0` and a newer part of :math:`n_1`
values has means further apart than

.. math:: \epsilon_{cut} = \sqrt{\frac{2}{m}\,\sigma_W^2 \ln\frac{2}{\delta'}}
          + \frac{2}{3m}\ln\frac{2}{\delta'}, \qquad
          m = \Big(\frac1{n_0} + \frac1{n_1}\Big)^{-1}, \quad \delta' = \frac{\delta}{n},

the variance form of their bound, for unbounded data. This version checks every split
(every ``clock`` values) on exact cumulative sums rather than the exponential histogram
of the paper: :math:`O(W)` per check, plenty for daily series.

References
----------
Page, E. S. (1954). Continuous inspection schemes. *Biometrika* 41(1/2), 100-115.
Bifet, A., and Gavaldà, R. (2007). Learning from time-changing data with adaptive
windowing. *SIAM International Conference on Data Mining*, 443-448.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from tradelearn.errors import ConfigError, DataError

__all__ = ["ADWIN", "DETECTORS", "DriftDetector", "PageHinkley", "make_detector"]

DETECTORS: tuple[str, ...] = ("ph", "adwin")


class DriftDetector(Protocol):
    """What the walk-forward loop needs of a detector."""

    detections: list[int]
    """Stream positions (0-based, counted over the detector's life) of each alarm."""

    def update(self, x: float) -> bool:
        """Take the next value; True when a change is detected at it."""
        ...

    def reset(self) -> None:
        """Forget everything seen (the detection log is kept)."""
        ...


def _finite(x: float) -> float:
    v = float(x)
    if not math.isfinite(v):
        raise DataError(
            "drift detector value is NaN or infinite", field="x", expected="finite", got=v
        )
    return v


class PageHinkley:
    """Page-Hinkley test for a change in the mean of a stream.

    Parameters
    ----------
    delta
        Tolerated drift per step (in the stream's units): changes smaller than this are
        ignored.
    threshold
        Alarm level :math:`\\lambda` of the cumulative deviation; larger means fewer false
        alarms and longer delays.
    direction
        ``"up"``, ``"down"`` or ``"both"``.
    min_samples
        Values needed after a (re)start before an alarm may sound.
    """

    def __init__(
        self,
        delta: float = 0.05,
        threshold: float = 25.0,
        *,
        direction: str = "both",
        min_samples: int = 30,
    ) -> None:
        if not delta >= 0:
            raise ConfigError(f"delta must be >= 0, actually: {delta}")
        if not threshold > 0:
            raise ConfigError(f"threshold must be > 0, actually: {threshold}")
        if direction not in ("up", "down", "both"):
            raise ConfigError(f"direction must be 'up', 'down' or 'both', actually: {direction!r}")
        if min_samples < 1:
            raise ConfigError(f"min_samples must be >= 1, actually: {min_samples}")
        self.delta = float(delta)
        self.threshold = float(threshold)
        self.direction = direction
        self.min_samples = int(min_samples)
        self.detections: list[int] = []
        self._seen = 0
        self.reset()

    def reset(self) -> None:
        """Restart the test (the detection log is kept)."""
        self.n = 0
        self.mean = 0.0
        self._up = 0.0
        self._up_min = 0.0
        self._down = 0.0
        self._down_min = 0.0

    @property
    def statistic(self) -> float:
        """The larger of the rise and fall statistics now (compare with ``threshold``)."""
        up = self._up - self._up_min if self.direction != "down" else 0.0
        down = self._down - self._down_min if self.direction != "up" else 0.0
        return max(up, down)

    def update(self, x: float) -> bool:
        """Add one value; True (and a restart) when the statistic passes the threshold."""
        v = _finite(x)
        self.n += 1
        self.mean += (v - self.mean) / self.n
        self._up += v - self.mean - self.delta
        self._up_min = min(self._up_min, self._up)
        self._down += self.mean - v - self.delta
        self._down_min = min(self._down_min, self._down)
        pos = self._seen
        self._seen += 1
        if self.n >= self.min_samples and self.statistic > self.threshold:
            self.detections.append(pos)
            self.reset()
            return True
        return False


class ADWIN:
    """Adaptive windowing: alarm when an older and a newer part of the window differ in mean.

    Parameters
    ----------
    delta
        Confidence: the chance of a false cut per check is at most about ``delta``.
    clock
        Check for a cut every ``clock`` values.
    min_side
        Fewest values on each side of a split.
    max_window
        Longest window kept (the oldest value goes first beyond it).
    """

    def __init__(
        self, delta: float = 0.002, *, clock: int = 1, min_side: int = 10, max_window: int = 5000
    ) -> None:
        if not 0 < delta < 1:
            raise ConfigError(f"delta must be in (0, 1), actually: {delta}")
        if clock < 1 or min_side < 1 or max_window < 2 * min_side:
            raise ConfigError(
                "need clock >= 1, min_side >= 1 and max_window >= 2 * min_side, actually: "
                f"clock={clock}, min_side={min_side}, max_window={max_window}"
            )
        self.delta = float(delta)
        self.clock = int(clock)
        self.min_side = int(min_side)
        self.max_window = int(max_window)
        self.detections: list[int] = []
        self._seen = 0
        self.reset()

    def reset(self) -> None:
        """Empty the window (the detection log is kept)."""
        self._buf = np.empty(self.max_window)
        self._n = 0
        self._since_check = 0

    @property
    def width(self) -> int:
        """Values in the window now."""
        return self._n

    @property
    def window_mean(self) -> float:
        """Mean of the window (NaN when empty)."""
        return float(self._buf[: self._n].mean()) if self._n else float("nan")

    def _cut(self) -> int:
        """Index of the best split to drop at, or 0 when no split passes the bound."""
        n = self._n
        w = self._buf[:n]
        c = np.cumsum(w)
        i = np.arange(self.min_side, n - self.min_side + 1)
        if i.size == 0:
            return 0
        n0, n1 = i.astype(np.float64), (n - i).astype(np.float64)
        mu0 = c[i - 1] / n0
        mu1 = (c[-1] - c[i - 1]) / n1
        m = 1.0 / (1.0 / n0 + 1.0 / n1)
        log_term = math.log(2.0 * n / self.delta)
        var = float(w.var())
        eps = np.sqrt(2.0 / m * var * log_term) + 2.0 / (3.0 * m) * log_term
        excess = np.abs(mu0 - mu1) - eps
        j = int(np.argmax(excess))
        return int(i[j]) if excess[j] > 0 else 0

    def update(self, x: float) -> bool:
        """Add one value; True when part of the window was dropped for a change in mean."""
        v = _finite(x)
        if self._n == self.max_window:
            self._buf[:-1] = self._buf[1:].copy()
            self._n -= 1
        self._buf[self._n] = v
        self._n += 1
        pos = self._seen
        self._seen += 1
        self._since_check += 1
        if self._since_check < self.clock or self._n < 2 * self.min_side:
            return False
        self._since_check = 0
        changed = False
        while (cut := self._cut()) > 0:
            keep = self._n - cut
            self._buf[:keep] = self._buf[cut : self._n].copy()
            self._n = keep
            changed = True
        if changed:
            self.detections.append(pos)
        return changed


def make_detector(name: str, **kwargs: float | int | str) -> PageHinkley | ADWIN:
    """A detector by name: ``"ph"`` (Page-Hinkley) or ``"adwin"``, with its parameters."""
    if name == "ph":
        return PageHinkley(**kwargs)  # type: ignore[arg-type]
    if name == "adwin":
        return ADWIN(**kwargs)  # type: ignore[arg-type]
    raise ConfigError(f"detector must be one of {DETECTORS}, actually: {name!r}")
