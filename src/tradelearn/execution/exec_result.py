"""What one simulated parent order did: :class:`EpisodeResult`.

``tradelearn/Execution-v0`` (:mod:`~tradelearn.execution.sim_env`) hands one out at the end
of every episode (``info["episode"]`` and ``info["exec_result"]``), and
:func:`~tradelearn.execution.runner.run_episodes` returns lists of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class EpisodeResult:
    """One finished parent order. Prices in price units; ``*_bps`` in bp of
    :math:`X S_0`; ``is_bps == spread_bps + impact_bps + timing_bps`` (up to rounding).

    Subscripting with ``"r"``, ``"l"`` or ``"t"`` gives Stable-Baselines3's episode
    statistics (``-is_bps``, steps, 0), so SB3's logger reads it where no ``Monitor`` did.
    """

    start_ns: int
    side: int
    parent_qty: int
    arrival_mid: float
    executed_qty: int
    avg_price: float
    is_bps: float
    spread_bps: float
    impact_bps: float
    timing_bps: float
    remaining: np.ndarray
    """Inventory left after each step (length ``n_steps``, zeros after an early end)."""
    market_volume: float
    """Shares the rest of the market traded from the start to the end."""
    denials: int
    fees_bps: float = 0.0
    filled: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Shares executed in each step (the last includes the liquidation)."""
    n_orders: int = 0
    """Child orders sent (liquidation included)."""
    terminal_qty: int = 0
    """Shares left at the horizon's end and liquidated there."""
    fallback_qty: int = 0
    """Of those, shares the book could not absorb (booked at the penalty price)."""
    end_ns: int = 0
    market_seed: int = 0
    steps: int = 0
    """Steps the episode took."""

    def __getitem__(self, key: str) -> float:
        stats = {"r": -self.is_bps, "l": self.steps, "t": 0.0}
        return float(stats[key])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (arrays as lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EpisodeResult) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


__all__ = ["EpisodeResult"]
