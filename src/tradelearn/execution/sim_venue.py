"""The market behind ``tradelearn/Execution-v0``: a simulator plus what the env reads beside it.

A venue wraps one :class:`~tradelearn.sim.types.MarketSimulator` and adds the two things
the environment needs that the simulator does not say:

* the **unaffected mid**, the price the market would show without us (impact
  decomposition): in replay the recorded mid (the book as recorded, before what we took and
  before the impact model's offset, which is ours); in the agent market a *shadow* market
  with the same seed that receives no orders, run in lockstep;
* the **market's traded volume** (executions, visible and hidden), cumulative, from the
  recorded events in replay and from the agent market's messages (which include our own
  fills: :attr:`Venue.includes_ours`).

Loaded LOBSTER days are cached per process (keyed by path, size and modification time), so
several environments over the same files share one copy of the arrays.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID, load_lobster, midnight_ns
from tradelearn.errors import ConfigError
from tradelearn.execution.exec_config import OPEN_S, MarketConfig, resolve_file
from tradelearn.sim.latency import ConstantLatency
from tradelearn.sim.types import ImpactModel, MarketSimulator

NS = 1_000_000_000
_EXEC_EVENTS = (4, 5)  # visible and hidden executions
_CACHE_SIZE = 4


@dataclass(frozen=True)
class ReplayDay:
    """A LOBSTER day as the replay venue needs it (arrays shared, never written)."""

    symbol: str
    date: dt.date
    levels: int
    tick: int
    events: np.ndarray
    book: NDArray[np.int64]
    exec_cum: NDArray[np.float64]
    """Executed shares before event ``i`` (length ``n + 1``)."""
    rec_mid: NDArray[np.float64]
    """Recorded mid after event ``i``, carried over one-sided rows."""


_DAYS: OrderedDict[tuple[str, str, int, int, int], ReplayDay] = OrderedDict()


def load_day(message: str, orderbook: str, tick: int) -> ReplayDay:
    """Load (or take from the cache) a LOBSTER pair with its volume and mid series."""
    m, o = resolve_file(message, "message"), resolve_file(orderbook, "orderbook")
    st = m.stat()
    key = (str(m.resolve()), str(o.resolve()), st.st_size, st.st_mtime_ns, tick)
    day = _DAYS.get(key)
    if day is not None:
        _DAYS.move_to_end(key)
        return day
    lob = load_lobster(m, o, tick_size=tick)
    assert lob.book is not None
    ev = lob.events
    q = np.where(np.isin(ev["event"], _EXEC_EVENTS), ev["qty"], 0).astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(q)])
    book = np.ascontiguousarray(lob.book, dtype=np.int64)
    ask, bid = book[:, 0], book[:, 2]
    ok = (ask != DUMMY_ASK) & (bid != DUMMY_BID)
    mid = np.where(ok, 0.5 * (ask + bid), np.nan)
    idx = np.where(ok, np.arange(mid.shape[0]), -1)
    np.maximum.accumulate(idx, out=idx)
    first = int(np.argmax(ok)) if ok.any() else -1
    if first < 0:
        raise ConfigError(f"market.orderbook: {o} never shows a two-sided book")
    idx[idx < 0] = first
    for arr in (cum, book):
        arr.setflags(write=False)
    day = ReplayDay(lob.symbol, lob.date, lob.levels, tick, ev, book, cum, mid[idx])
    _DAYS[key] = day
    while len(_DAYS) > _CACHE_SIZE:
        _DAYS.popitem(last=False)
    return day


class Venue:
    """What the environment drives: ``sim`` plus the unaffected mid and the market volume."""

    sim: MarketSimulator
    symbol: str
    tick: int
    price_scale: float
    midnight_ns: int
    t_min: int
    """Earliest local time the market can start from (ns)."""
    t_max: int
    """Latest local time an episode may end at (ns)."""
    rate: float
    """Expected market volume, shares per second."""
    includes_ours: bool

    def start(self, t_ns: int, market_seed: int) -> None:
        """Start the market at ``t_ns``, flat and without orders."""
        raise NotImplementedError

    def advance_to(self, t_ns: int) -> None:
        raise NotImplementedError

    def unaffected_mid(self) -> float:
        """The mid without us (NaN where unknown)."""
        raise NotImplementedError

    def cum_volume(self) -> float:
        """Shares executed in the market so far (this episode's clock)."""
        raise NotImplementedError


class ReplayVenue(Venue):
    """LOBSTER files through :class:`~tradelearn.sim.replay.ReplaySimulator`."""

    includes_ours = False

    def __init__(self, cfg: MarketConfig, lot: int = 1) -> None:
        from tradelearn.sim.impact import (
            DEFAULT_IMPACT,
            DEFAULT_IMPACT_POWER,
            ImpactParams,
            PropagatorImpact,
        )
        from tradelearn.sim.replay import ReplaySimulator

        assert cfg.message is not None and cfg.orderbook is not None
        day = load_day(cfg.message, cfg.orderbook, cfg.tick_size)
        self.day = day
        impact: ImpactModel | None = None
        if cfg.impact == "default":
            impact = PropagatorImpact.from_params(DEFAULT_IMPACT)
        elif cfg.impact == "power":
            impact = PropagatorImpact.from_params(DEFAULT_IMPACT_POWER)
        elif isinstance(cfg.impact, dict):
            impact = PropagatorImpact.from_params(ImpactParams.from_dict(cfg.impact))
        ts = day.events["ts_exchange"]
        self._sim = ReplaySimulator(
            day.events,
            tick=day.tick,
            lot=lot,
            levels=day.levels,
            latency=ConstantLatency(*cfg.latency_ns),
            impact=impact,
            maker_fee=cfg.maker_fee,
            taker_fee=cfg.taker_fee,
            book_rows=day.book,
            queue_model=cfg.queue_model,
        )
        self.sim = self._sim
        self.symbol = day.symbol
        self.tick = day.tick
        self.price_scale = 10_000.0
        self.midnight_ns = midnight_ns(day.date)
        self.t_min, self.t_max = int(ts[0]), int(ts[-1])
        span = max((self.t_max - self.t_min) / NS, 1.0)
        self.rate = float(day.exec_cum[-1]) / span
        self.levels_available = day.levels

    def start(self, t_ns: int, market_seed: int) -> None:
        self._sim.reset(t_ns, seed=market_seed)

    def advance_to(self, t_ns: int) -> None:
        self._sim.advance_to(t_ns)

    def unaffected_mid(self) -> float:
        return float(self.day.rec_mid[max(self._sim.events_applied - 1, 0)])

    def cum_volume(self) -> float:
        return float(self.day.exec_cum[self._sim.events_applied])


_REFERENCE_RATES: dict[tuple[str | None, int, str, float], float] = {}


class AgentVenue(Venue):
    """The agent-based market, with a shadow market of the same seed for the unaffected mid."""

    includes_ours = True

    def __init__(self, cfg: MarketConfig, levels: int, lot: int) -> None:
        from tradelearn.sim.abm_params import AgentParams
        from tradelearn.sim.agent_sim import AgentSimulator
        from tradelearn.sim.agents import AgentMarket

        params = (
            AgentParams.from_json(Path(resolve_file(cfg.agent_params, "agent_params")))
            if cfg.agent_params is not None
            else AgentParams()
        )
        date = dt.date.fromisoformat(cfg.date)
        self.midnight_ns = midnight_ns(date)
        self.t_min = self.midnight_ns + round(OPEN_S * NS)
        self.t_max = self.midnight_ns + round(cfg.session_end_s * NS)
        self._sim = AgentSimulator(
            params,
            levels=levels,
            date=date,
            lot=lot,
            latency=ConstantLatency(*cfg.latency_ns),
            maker_fee=cfg.maker_fee,
            taker_fee=cfg.taker_fee,
            session_end_ns=self.t_max,
            seed=cfg.seed,
        )
        self.sim = self._sim
        self._shadow = AgentMarket(params, levels=0, date=date, record=False)
        self.symbol = "SYN"
        self.tick = int(params.tick)
        self.price_scale = 10_000.0
        self._seed_base = cfg.seed
        self._scan = 0
        self._cum = 0.0
        key = (cfg.agent_params, cfg.seed, cfg.date, cfg.session_s)
        if key not in _REFERENCE_RATES:
            ref = AgentMarket(params, levels=0, date=date, record=True)
            ref.reset(cfg.seed)
            ref.run_until(self.t_max)
            ev = ref.events()
            vol = float(ev["qty"][np.isin(ev["event"], _EXEC_EVENTS)].sum())
            _REFERENCE_RATES[key] = vol / cfg.session_s
        self.rate = _REFERENCE_RATES[key]

    def episode_seed(self, market_seed: int) -> int:
        """The agent market's seed of an episode: the base seed mixed with the draw."""
        ss = np.random.SeedSequence([self._seed_base, int(market_seed)])
        return int(ss.generate_state(1, dtype=np.uint32)[0])

    def start(self, t_ns: int, market_seed: int) -> None:
        seed = self.episode_seed(market_seed)
        self._sim.reset(t_ns, seed=seed)
        self._shadow.reset(seed)
        self._shadow.run_until(max(t_ns, self._shadow.open_ns))
        self._scan = self._sim.market.n_events
        self._cum = 0.0

    def advance_to(self, t_ns: int) -> None:
        self._sim.advance_to(t_ns)
        if t_ns > self._shadow.now_ns:
            self._shadow.run_until(t_ns)

    def unaffected_mid(self) -> float:
        m = self._shadow.mid
        return math.nan if m is None else float(m)

    def cum_volume(self) -> float:
        market = self._sim.market
        n = market.n_events
        if n > self._scan:
            # the market's message buffer, read in place (events() would copy the day)
            ev = market._ev[self._scan : n]
            self._cum += float(ev["qty"][(ev["event"] == 4) | (ev["event"] == 5)].sum())
            self._scan = n
        return self._cum


def make_venue(cfg: MarketConfig, levels: int, lot: int) -> Venue:
    """The venue a market config describes."""
    if cfg.kind == "replay":
        v = ReplayVenue(cfg, lot)
        if levels > v.levels_available:
            raise ConfigError(
                f"levels must be at most the orderbook file's {v.levels_available} levels, "
                f"actually: {levels}"
            )
        return v
    return AgentVenue(cfg, levels, lot)


__all__ = ["AgentVenue", "ReplayDay", "ReplayVenue", "Venue", "load_day", "make_venue"]
