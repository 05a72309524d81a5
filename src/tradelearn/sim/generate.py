"""Synthetic trading days written as LOBSTER files: the market tradelearn uses without data.

Two order flows write the same kind of day (canonical events plus the book after every
message, replayed by :func:`tradelearn.book.replay.verify` with zero differences):

* ``"agents"`` (the default): the agent-based market of :mod:`tradelearn.sim.agents`,
  calibrated to the shared GOOG day, with the stylized facts of real one-minute returns
  and a square-root impact law (:mod:`tradelearn.sim.stylized`, :mod:`tradelearn.sim.metaorder`);
* ``"zi"``: the zero-intelligence flow of :mod:`tradelearn.sim.zi` (Poisson arrivals, no
  reaction), kept for benchmarks that want a simple, configurable flow.

The same seed and arguments give the same day, bit for bit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradelearn.data.lobster import midnight_ns, write_lobster
from tradelearn.data.schema import EVENT_DTYPE
from tradelearn.errors import ConfigError
from tradelearn.sim.abm_params import AgentParams
from tradelearn.sim.agents import NS, OPEN_S, AgentMarket
from tradelearn.sim.zi import FlowParams, generate_zi

MODELS = ("agents", "zi")


@dataclass(frozen=True)
class SyntheticDay:
    """A generated day: canonical events and (optionally) LOBSTER book rows."""

    symbol: str
    date: dt.date
    levels: int
    events: np.ndarray
    book: np.ndarray | None
    tick: int


def _model_of(model: str | None, params: AgentParams | FlowParams | None) -> str:
    kind = None if params is None else ("zi" if isinstance(params, FlowParams) else "agents")
    if model is None:
        return kind or "agents"
    if model not in MODELS:
        raise ConfigError(f"model must be one of {MODELS}, actually: {model!r}")
    if kind is not None and kind != model:
        raise ConfigError(f"model {model!r} does not take {type(params).__name__}")
    return model


def generate_day(
    *,
    seed: int | np.random.Generator,
    seconds: float = 23_400.0,
    levels: int = 10,
    symbol: str = "SYN",
    date: dt.date = dt.date(2024, 1, 2),
    params: AgentParams | FlowParams | None = None,
    model: str | None = None,
    max_events: int | None = None,
    with_book: bool = True,
) -> SyntheticDay:
    """Generate a synthetic trading session starting at 09:30 New York time.

    Parameters
    ----------
    seed
        Seed or generator; the same seed and arguments give the same day, bit for bit.
    seconds
        Session length (23,400 s is 09:30-16:00).
    levels
        Levels per side in the book rows (0 with ``with_book=False``).
    params
        :class:`~tradelearn.sim.abm_params.AgentParams` (agent-based market) or
        :class:`~tradelearn.sim.zi.FlowParams` (zero-intelligence flow); default: the
        calibrated agent-based market.
    model
        ``"agents"`` or ``"zi"``; taken from ``params`` when not given.
    max_events
        Keep at most this many messages (the zero-intelligence flow stops there; the
        agent-based market runs the session and keeps the first ones).
    with_book
        Also record the top ``levels`` after every message.
    """
    kind = _model_of(model, params)
    if not seconds > 0:
        raise ConfigError(f"seconds must be positive, actually: {seconds}")
    if with_book and not 1 <= levels <= 200:
        raise ConfigError(f"levels must be in 1..200, actually: {levels}")
    if not symbol or "_" in symbol:
        raise ConfigError(f"symbol must be non-empty without '_', actually: {symbol!r}")
    if max_events is not None and max_events < 1:
        raise ConfigError(f"max_events must be positive, actually: {max_events}")
    lv = levels if with_book else 0
    if kind == "zi":
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        zp = params if isinstance(params, FlowParams) else FlowParams()
        t0 = midnight_ns(date) + OPEN_S * NS
        events, book = generate_zi(
            rng, zp, seconds=seconds, t0_ns=t0, levels=lv, max_events=max_events
        )
        tick = zp.tick
    else:
        ap = params if isinstance(params, AgentParams) else AgentParams()
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(0, 2**63 - 1))
        market = AgentMarket(ap, levels=lv, date=date)
        market.reset(seed)
        market.reserve(int(8 * seconds) + 10_000)
        market.run_until(market.open_ns + round(seconds * NS))
        n = market.n_events if max_events is None else min(market.n_events, max_events)
        events, book = market.events()[:n], market.book_rows()[:n]
        tick = ap.tick
    assert events.dtype == EVENT_DTYPE
    return SyntheticDay(
        symbol=symbol,
        date=date,
        levels=lv,
        events=events,
        book=book if with_book else None,
        tick=tick,
    )


def write_day(
    day: SyntheticDay, out_dir: str | Path, *, gzip_files: bool = False
) -> tuple[Path, Path]:
    """Write a generated day as a LOBSTER message/orderbook pair."""
    if day.book is None:
        raise ConfigError("the day was generated with with_book=False; LOBSTER files need the book")
    return write_lobster(
        out_dir,
        symbol=day.symbol,
        date=day.date,
        levels=day.levels,
        events=day.events,
        book=day.book,
        start_s=OPEN_S,
        end_s=57_600,
        gzip_files=gzip_files,
    )


__all__ = [
    "EVENT_DTYPE",
    "MODELS",
    "AgentParams",
    "FlowParams",
    "SyntheticDay",
    "generate_day",
    "write_day",
]
