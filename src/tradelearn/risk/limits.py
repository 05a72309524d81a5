"""Limits of the pre-trade gate: one frozen, strict configuration.

Unknown keys, missing keys and values of the wrong type or sign fail when the file
loads, naming the key, so a typo never silently disables a control.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tradelearn.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class GateLimits:
    """Hard limits checked on every order before it leaves.

    Quantities are in shares/contracts, prices and notionals in currency units.
    """

    max_order_qty: int
    """Largest quantity of one order."""
    max_order_notional: float
    """Largest quantity x price of one order."""
    max_position: int
    """Largest absolute position per symbol after the order fills in full."""
    max_gross_notional: float
    """Largest sum over symbols of |position| x mark after the order fills in full."""
    max_daily_loss: float
    """Largest loss of the day (realized plus unrealized at the mark), a positive number."""
    max_orders_per_window: int
    """New orders allowed in any sliding window of ``rate_window_s``."""
    max_messages_per_window: int
    """Orders, modifies and cancels allowed in any sliding window of ``rate_window_s``."""
    rate_window_s: float = 1.0
    price_collar_bps: float
    """Largest distance of a limit price from the reference price (mid or last)."""
    reference_max_age_s: float
    """A reference price older than this is stale: orders are denied."""
    max_adv_fraction: float
    """Fat-finger check: largest order quantity as a fraction of average daily volume."""
    max_open_orders: int
    """Largest number of resting orders per symbol."""
    restricted: frozenset[str] = field(default_factory=frozenset)
    """Symbols that may not be traded at all."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "restricted":
                if not isinstance(value, frozenset) or not all(isinstance(s, str) for s in value):
                    raise ConfigError(
                        f"limits.restricted must be a set of symbols, actually: {value!r}"
                    )
                continue
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not numeric or not math.isfinite(value) or value <= 0:
                raise ConfigError(
                    f"limits.{f.name} must be a positive finite number, actually: {value!r}"
                )
            if f.type == "int" and not isinstance(value, int):
                raise ConfigError(f"limits.{f.name} must be a whole number, actually: {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "limits") -> GateLimits:
        """Build limits from a mapping, rejecting unknown and missing keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {unknown}; known keys are {sorted(known)}")
        values = dict(data)
        if "restricted" in values:
            raw = values["restricted"]
            if not isinstance(raw, list | tuple | set | frozenset):
                raise ConfigError(
                    f"{source}: restricted must be a list of symbols, actually: {raw!r}"
                )
            values["restricted"] = frozenset(raw)
        try:
            return cls(**values)
        except TypeError as exc:  # a missing required key
            raise ConfigError(f"{source}: {exc}".replace("__init__() ", "")) from None

    @classmethod
    def load(cls, path: str | Path) -> GateLimits:
        """Load limits from a TOML (``[limits]`` table or top level) or JSON file."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"limits file not found: {p}")
        text = p.read_text()
        try:
            data: Any = json.loads(text) if p.suffix == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"{p}: not valid {'JSON' if p.suffix == '.json' else 'TOML'}: {exc}"
            ) from exc
        if isinstance(data, dict) and set(data) == {"limits"}:
            data = data["limits"]
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: expected a table of limits, got {type(data).__name__}")
        return cls.from_mapping(data, source=str(p))

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["restricted"] = sorted(self.restricted)
        return out
