"""Configuration of ``tradelearn/Execution-v0``: the market and the parent order.

Two frozen, keyword-only, strict configs (unknown keys fail when a dict loads, naming the
key): :class:`MarketConfig` says which simulator runs (LOBSTER files replayed, or the
agent-based market) and how it charges and delays us; :class:`ExecEnvConfig` says what the
agent must do (side, size, horizon, steps) and what it sees and may do (book levels,
action form). Both round-trip through ``to_dict``/``from_dict`` (JSON-ready values).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from tradelearn.errors import ConfigError

MarketKind = Literal["replay", "agents"]
ActionType = Literal["discrete", "continuous"]
PLACEMENTS = ("passive", "mid", "cross")
"""Where a child order is priced: the own best quote, the mid, or through the spread."""
DEFAULT_EXEC_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
"""Discrete child sizes: multiples of the remaining-TWAP quantity ``x / steps_left``."""
OPEN_S = 34_200.0
"""Session open, seconds after midnight (09:30 New York)."""


def _num(name: str, value: Any, *, positive: bool = False, non_negative: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (positive and not value > 0) or (non_negative and not value >= 0):
        want = "positive" if positive else "non-negative" if non_negative else "finite"
        raise ConfigError(f"{name} must be a {want} number, actually: {value!r}")
    return float(value)


def _int(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, actually: {value!r}")
    return value


def _strict(cls: type, data: Mapping[str, Any], source: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source} must be a mapping, actually: {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {unknown}; known keys are {sorted(known)}")
    return dict(data)


@dataclass(frozen=True, kw_only=True)
class MarketConfig:
    """The simulated market.

    ``kind="replay"`` replays a LOBSTER ``message``/``orderbook`` pair through
    :class:`~tradelearn.sim.replay.ReplaySimulator` (paths as given, else under the data
    folder); ``kind="agents"`` runs :class:`~tradelearn.sim.agent_sim.AgentSimulator`,
    whose agents react to our orders.
    """

    kind: MarketKind
    message: str | None = None
    """LOBSTER message file (replay)."""
    orderbook: str | None = None
    """LOBSTER orderbook file (replay; the book shown to the agent)."""
    seed: int = 0
    """Agents: the market's base seed (each episode's market seed mixes it with the
    episode's draw); replay: ignored."""
    tick_size: int = 100
    """Replay: the files' price grid in price units (LOBSTER: 100 = one cent)."""
    latency_ns: tuple[int, int, int] = (0, 0, 0)
    """Constant latency (feed, entry, response) in nanoseconds."""
    maker_fee: float = 0.0
    """Currency units per share on passive fills (negative: a rebate)."""
    taker_fee: float = 0.0
    """Currency units per share on aggressive fills."""
    impact: str | dict[str, Any] | None = None
    """Replay only: our trades' impact on the replayed prices. ``None`` (none),
    ``"default"`` / ``"power"`` (the GOOG calibration of :mod:`tradelearn.sim.impact`) or
    the fields of an :class:`~tradelearn.sim.impact.ImpactParams`."""
    queue_model: Literal["l3", "l2"] = "l3"
    """Replay: queue position from order ids (``l3``) or probabilistic (``l2``)."""
    agent_params: str | None = None
    """Agents: a JSON file of :class:`~tradelearn.sim.abm_params.AgentParams` (``None``:
    the calibrated default)."""
    date: str = "2024-01-02"
    """Agents: the simulated trading date (ISO)."""
    session_s: float = 23_400.0
    """Agents: the day's length from 09:30, seconds (orders after it are rejected)."""

    def __post_init__(self) -> None:
        if self.kind not in ("replay", "agents"):
            raise ConfigError(f"market.kind must be 'replay' or 'agents', actually: {self.kind!r}")
        if self.kind == "replay":
            for name in ("message", "orderbook"):
                value = getattr(self, name)
                if not isinstance(value, str) or not value:
                    raise ConfigError(
                        f"market.{name} must name a LOBSTER file for kind='replay', "
                        f"actually: {value!r}"
                    )
            if self.agent_params is not None:
                raise ConfigError("market.agent_params is for kind='agents', not 'replay'")
        else:
            if self.message is not None or self.orderbook is not None:
                raise ConfigError("market.message/orderbook are for kind='replay', not 'agents'")
            if self.impact is not None:
                raise ConfigError(
                    "market.impact is for kind='replay': in the agent market impact is endogenous"
                )
        _int("market.seed", self.seed, minimum=0)
        _int("market.tick_size", self.tick_size, minimum=1)
        lat = self.latency_ns
        if (
            not isinstance(lat, tuple | list)
            or len(lat) != 3
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in lat)
        ):
            raise ConfigError(
                f"market.latency_ns must be three integers >= 0 (feed, entry, response), "
                f"actually: {lat!r}"
            )
        object.__setattr__(self, "latency_ns", tuple(lat))
        _num("market.maker_fee", self.maker_fee)
        _num("market.taker_fee", self.taker_fee)
        if not (self.impact is None or self.impact in ("default", "power")) and not isinstance(
            self.impact, dict
        ):
            raise ConfigError(
                f"market.impact must be None, 'default', 'power' or a dict of ImpactParams, "
                f"actually: {self.impact!r}"
            )
        if isinstance(self.impact, dict):
            from tradelearn.sim.impact import ImpactParams

            ImpactParams.from_dict(self.impact)  # fails early, naming the key
        if self.queue_model not in ("l3", "l2"):
            raise ConfigError(
                f"market.queue_model must be 'l3' or 'l2', actually: {self.queue_model!r}"
            )
        try:
            dt.date.fromisoformat(self.date)
        except (TypeError, ValueError):
            raise ConfigError(f"market.date must be an ISO date, actually: {self.date!r}") from None
        _num("market.session_s", self.session_s, positive=True)

    @property
    def session_end_s(self) -> float:
        """Agents: the session's end, seconds after midnight."""
        return OPEN_S + self.session_s

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["latency_ns"] = list(self.latency_ns)
        if isinstance(self.impact, dict):
            out["impact"] = dict(self.impact)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MarketConfig:
        """Build from a mapping; unknown keys raise :class:`ConfigError`."""
        values = _strict(cls, data, "market")
        if "latency_ns" in values and isinstance(values["latency_ns"], list):
            values["latency_ns"] = tuple(values["latency_ns"])
        if "kind" not in values:
            raise ConfigError("market: missing key 'kind' ('replay' or 'agents')")
        return cls(**values)


@dataclass(frozen=True, kw_only=True)
class ExecEnvConfig:
    """A parent order to work over the simulated market, and what the agent sees and does.

    ``parent_qty`` ``None`` sizes the order at ``participation`` times the market's expected
    volume over the horizon (the replayed day's average rate, or the agent market's on a
    reference day of ``market.seed``).
    """

    market: MarketConfig
    side: int = -1
    """+1 buy, -1 sell."""
    horizon_s: float = 1800.0
    n_steps: int = 30
    """Decisions per episode, one every ``horizon_s / n_steps`` seconds."""
    parent_qty: int | None = None
    participation: float = 0.02
    levels: int = 5
    """Book levels per side in the observation."""
    action_type: ActionType = "continuous"
    start_window_s: tuple[float, float] = (36_000.0, 55_500.0)
    """Seconds after midnight where episodes may start (default 10:00 to 15:25, so a
    30-minute order ends before 16:00 even on a file whose last message is before 16:00)."""
    signal: bool = False
    """Add the external signal channel to the observation (``reset(options={"signal":
    value, sequence or callable})``)."""
    grid: tuple[float, ...] = DEFAULT_EXEC_GRID
    """Discrete actions: child sizes as multiples of the remaining-TWAP quantity."""
    vol_window: int = 5
    """Step intervals behind the short-term volatility (the market runs that long before
    the episode starts)."""
    lot: int = 1
    """Child orders are whole multiples of this many shares."""
    limits: dict[str, Any] = field(default_factory=dict)
    """Overrides of the gate limits derived from the parent order (keys of
    :class:`~tradelearn.risk.limits.GateLimits`)."""
    liquidation_penalty_bps: float = 50.0
    """What the book cannot absorb at the horizon's end is booked this far beyond the
    worst price the liquidation reached."""

    def __post_init__(self) -> None:
        if isinstance(self.market, Mapping):
            object.__setattr__(self, "market", MarketConfig.from_dict(self.market))
        if not isinstance(self.market, MarketConfig):
            raise ConfigError(
                f"market must be a MarketConfig or a dict, actually: {type(self.market).__name__}"
            )
        if self.side not in (1, -1) or isinstance(self.side, bool):
            raise ConfigError(f"side must be +1 (buy) or -1 (sell), actually: {self.side!r}")
        _num("horizon_s", self.horizon_s, positive=True)
        _int("n_steps", self.n_steps, minimum=1)
        if self.parent_qty is not None:
            _int("parent_qty", self.parent_qty, minimum=1)
        p = _num("participation", self.participation, positive=True)
        if p > 1:
            raise ConfigError(f"participation must be in (0, 1], actually: {p!r}")
        _int("levels", self.levels, minimum=1)
        if self.action_type not in ("discrete", "continuous"):
            raise ConfigError(
                f"action_type must be 'discrete' or 'continuous', actually: {self.action_type!r}"
            )
        w = self.start_window_s
        if not isinstance(w, tuple | list) or len(w) != 2:
            raise ConfigError(f"start_window_s must be (first, last) seconds, actually: {w!r}")
        lo, hi = (_num("start_window_s", v, non_negative=True) for v in w)
        if hi < lo:
            raise ConfigError(f"start_window_s must be (first, last) with first <= last: {w!r}")
        object.__setattr__(self, "start_window_s", (lo, hi))
        if not isinstance(self.signal, bool):
            raise ConfigError(f"signal must be true or false, actually: {self.signal!r}")
        g = tuple(self.grid) if isinstance(self.grid, tuple | list) else None
        if g is None or len(g) < 2 or any(_num("grid", v, non_negative=True) < 0 for v in g):
            raise ConfigError(
                f"grid must hold at least two multiples >= 0, actually: {self.grid!r}"
            )
        object.__setattr__(self, "grid", tuple(float(v) for v in g))
        _int("vol_window", self.vol_window, minimum=1)
        _int("lot", self.lot, minimum=1)
        if not isinstance(self.limits, Mapping):
            raise ConfigError(f"limits must be a mapping, actually: {self.limits!r}")
        from tradelearn.risk.limits import GateLimits

        known = {f.name for f in fields(GateLimits)}
        unknown = sorted(set(self.limits) - known)
        if unknown:
            raise ConfigError(f"limits: unknown key(s) {unknown}; known keys are {sorted(known)}")
        _num("liquidation_penalty_bps", self.liquidation_penalty_bps, non_negative=True)

    @property
    def step_s(self) -> float:
        """Seconds between decisions."""
        return self.horizon_s / self.n_steps

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["market"] = self.market.to_dict()
        out["start_window_s"] = list(self.start_window_s)
        out["grid"] = list(self.grid)
        out["limits"] = dict(self.limits)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExecEnvConfig:
        """Build from a mapping (``market`` a nested mapping); unknown keys raise."""
        values = _strict(cls, data, "config")
        if "market" not in values:
            raise ConfigError("config: missing key 'market'")
        values["market"] = (
            values["market"]
            if isinstance(values["market"], MarketConfig)
            else MarketConfig.from_dict(values["market"])
        )
        for key in ("start_window_s", "grid"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> ExecEnvConfig:
        """A copy with fields replaced; ``market`` may be a kind name, a dict or a config,
        and :class:`MarketConfig` field names go to the market."""
        market_keys = {f.name for f in fields(MarketConfig)}
        own_keys = {f.name for f in fields(ExecEnvConfig)}
        mk = {k: overrides.pop(k) for k in list(overrides) if k in market_keys and k != "kind"}
        unknown = sorted(set(overrides) - own_keys)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {unknown}; known: {sorted(own_keys | market_keys)}"
            )
        market = overrides.pop("market", self.market)
        if isinstance(market, str):
            base = self.market.to_dict() if market == self.market.kind else {"kind": market}
            market = MarketConfig.from_dict({**base, **mk})
        elif isinstance(market, Mapping):
            market = MarketConfig.from_dict({**market, **mk})
        elif mk:
            market = MarketConfig.from_dict({**market.to_dict(), **mk})
        for key in ("start_window_s", "grid"):
            if isinstance(overrides.get(key), list):
                overrides[key] = tuple(overrides[key])
        return replace(self, market=market, **overrides)


def resolve_file(name: str, what: str) -> Path:
    """A market file: the path as given, else under the data folder; else ConfigError."""
    p = Path(name).expanduser()
    if p.is_file():
        return p
    from tradelearn.config import data_dir

    root = data_dir()
    if root is not None and (root / name).is_file():
        return root / name
    raise ConfigError(f"market.{what}: file not found: {name!r} (nor under the data folder)")


__all__ = [
    "DEFAULT_EXEC_GRID",
    "PLACEMENTS",
    "ActionType",
    "ExecEnvConfig",
    "MarketConfig",
    "MarketKind",
    "resolve_file",
]
