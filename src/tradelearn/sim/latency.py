"""Latency as a plug-in: how late we see the market, reach the exchange and hear back.

Three channels, each an integer number of nanoseconds per draw:

* ``feed()``: market data travels from the exchange to us. The replay simulator shows
  the agent the exchange's book as it was ``feed()`` ago.
* ``entry()``: one of our requests (new order, cancel, modify) travels to the exchange.
* ``response()``: an execution report travels back to us.

A model is anything with these three methods and :meth:`LatencyModel.reseed`;
:class:`ConstantLatency` and :class:`RandomLatency` are the two shipped here. Randomness
is passed in (a seed or a :class:`numpy.random.Generator`); the same seed gives the same
draws, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from tradelearn.errors import ConfigError


@runtime_checkable
class LatencyModel(Protocol):
    """Latency of the three channels, in integer nanoseconds (>= 0) per draw."""

    def feed(self) -> int:
        """Exchange to us, for market data."""
        ...

    def entry(self) -> int:
        """Us to the exchange, for one request."""
        ...

    def response(self) -> int:
        """Exchange to us, for one execution report."""
        ...

    def reseed(self, seed: int) -> None:
        """Restart the random stream from ``seed`` (a no-op for a deterministic model)."""
        ...


def _non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigError(f"{name} must be a number >= 0 (nanoseconds), actually: {value!r}")


@dataclass(frozen=True)
class ConstantLatency:
    """The same latency on every draw.

    Parameters
    ----------
    feed_ns, entry_ns, response_ns
        Nanoseconds for market data, requests and reports (all >= 0).
    """

    feed_ns: int = 0
    entry_ns: int = 0
    response_ns: int = 0

    def __post_init__(self) -> None:
        for name in ("feed_ns", "entry_ns", "response_ns"):
            value = getattr(self, name)
            _non_negative(f"ConstantLatency.{name}", value)
            if not isinstance(value, int):
                raise ConfigError(f"ConstantLatency.{name} must be an int, actually: {value!r}")

    def feed(self) -> int:
        return self.feed_ns

    def entry(self) -> int:
        return self.entry_ns

    def response(self) -> int:
        return self.response_ns

    def reseed(self, seed: int) -> None:
        return None


class RandomLatency:
    """Latency drawn per message: lognormal around given medians, or from recorded samples.

    ``RandomLatency(feed_ns, entry_ns, response_ns, sigma=0.5, seed=0)`` draws each channel
    as ``median * exp(sigma * Z)`` with ``Z`` standard normal, rounded to whole nanoseconds
    (a lognormal with that median; heavier right tail for larger ``sigma``).
    :meth:`empirical` draws instead from measured latencies, with replacement.

    Parameters
    ----------
    feed_ns, entry_ns, response_ns
        Median latency of each channel in nanoseconds (>= 0).
    sigma
        Log-scale standard deviation (>= 0; 0 gives the medians every time).
    seed
        Seed or generator of the draws; the same seed gives the same draws.
    """

    def __init__(
        self,
        feed_ns: float,
        entry_ns: float,
        response_ns: float,
        *,
        sigma: float = 0.5,
        seed: int | np.random.Generator = 0,
    ) -> None:
        for name, value in (
            ("feed_ns", feed_ns),
            ("entry_ns", entry_ns),
            ("response_ns", response_ns),
            ("sigma", sigma),
        ):
            _non_negative(f"RandomLatency.{name}", value)
        self._median = (float(feed_ns), float(entry_ns), float(response_ns))
        self._sigma = float(sigma)
        self._samples: tuple[npt.NDArray[np.int64], ...] | None = None
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    @classmethod
    def empirical(
        cls,
        *,
        feed: npt.ArrayLike,
        entry: npt.ArrayLike,
        response: npt.ArrayLike,
        seed: int | np.random.Generator = 0,
    ) -> RandomLatency:
        """Draw each channel from measured latencies (nanoseconds), with replacement."""
        samples = []
        for name, values in (("feed", feed), ("entry", entry), ("response", response)):
            arr = np.asarray(values)
            if arr.ndim != 1 or arr.size == 0:
                raise ConfigError(
                    f"RandomLatency.empirical: {name} must be a non-empty 1-D array of "
                    f"nanoseconds, actually: shape {arr.shape}"
                )
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ConfigError(
                    f"RandomLatency.empirical: {name} must hold finite values >= 0, "
                    f"actually: min {arr.min()!r}"
                )
            samples.append(np.rint(arr).astype(np.int64))
        model = cls(0, 0, 0, sigma=0.0, seed=seed)
        model._samples = tuple(samples)
        return model

    def _draw(self, channel: int) -> int:
        if self._samples is not None:
            pool = self._samples[channel]
            return int(pool[self._rng.integers(pool.shape[0])])
        median = self._median[channel]
        if median == 0.0:
            return 0
        return round(median * float(np.exp(self._sigma * self._rng.standard_normal())))

    def feed(self) -> int:
        return self._draw(0)

    def entry(self) -> int:
        return self._draw(1)

    def response(self) -> int:
        return self._draw(2)

    def reseed(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)


__all__ = ["ConstantLatency", "LatencyModel", "RandomLatency"]
