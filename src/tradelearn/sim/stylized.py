"""Stylized facts of a trading day, measured on one-minute mid-price returns.

Three facts that real order-driven markets show and that the synthetic market must show too
(Cont 2001, "Empirical properties of asset returns: stylized facts and statistical issues"):

* **heavy tails**: the excess kurtosis of one-minute log returns exceeds 1;
* **no linear autocorrelation**: the Ljung-Box test (Ljung & Box 1978) at 10 lags on the
  returns does *not* reject (p > 0.05);
* **volatility clustering**: the same test on the absolute returns rejects (p < 0.05).

The mid is LOBSTER's level-1 mid (the mean of best bid and best ask) after the last message
at or before each minute boundary from 09:30 (the book before any message: the first row);
a row with an empty side carries the last two-sided mid forward. A full day gives 390
returns. The Ljung-Box statistic is
:math:`Q = n (n + 2) \\sum_{k=1}^{h} \\hat\\rho_k^2 / (n - k)`, compared with
:math:`\\chi^2_h` (``scipy.stats.chi2``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats  # type: ignore[import-untyped, unused-ignore]

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID, midnight_ns

NS = 1_000_000_000
OPEN_S = 34_200
DAY_S = 23_400
KURTOSIS_MIN = 1.0
ALPHA = 0.05
LAGS = 10


def session_open_ns(events: np.ndarray) -> int:
    """09:30 New York time on the day of the first event, in ns since the epoch."""
    if events.shape[0] == 0:
        raise ValueError("no events: cannot tell the trading day")
    first = int(events["ts_exchange"][0]) // NS
    day = dt.datetime.fromtimestamp(first, tz=ZoneInfo("America/New_York")).date()
    return midnight_ns(day) + OPEN_S * NS


def level1_mid(book: np.ndarray) -> np.ndarray:
    """Level-1 mid of every book row, empty-sided rows carrying the last two-sided mid.

    Rows before the first two-sided one take its value; a book never two-sided is an error."""
    ask = book[:, 0]
    bid = book[:, 2]
    ok = (ask != DUMMY_ASK) & (bid != DUMMY_BID)
    if not ok.any():
        raise ValueError("the book is never two-sided: no mid price")
    mid = np.where(ok, 0.5 * (ask + bid), np.nan)
    idx = np.where(ok, np.arange(mid.shape[0]), -1)
    np.maximum.accumulate(idx, out=idx)
    idx[idx < 0] = int(np.flatnonzero(ok)[0])
    return np.asarray(mid[idx], dtype=np.float64)


def minute_mids(
    events: np.ndarray,
    book: np.ndarray,
    *,
    open_ns: int | None = None,
    seconds: float = DAY_S,
    step_s: float = 60.0,
) -> np.ndarray:
    """The mid at every ``step_s`` boundary from the open to ``open + seconds`` inclusive."""
    if book.shape[0] != events.shape[0]:
        raise ValueError(f"book has {book.shape[0]} rows for {events.shape[0]} events")
    t0 = session_open_ns(events) if open_ns is None else open_ns
    mid = level1_mid(book)
    n = round(seconds / step_s)
    edges = t0 + np.rint(np.arange(n + 1) * step_s * NS).astype(np.int64)
    idx = np.searchsorted(events["ts_exchange"], edges, side="right") - 1
    return np.asarray(mid[np.maximum(idx, 0)], dtype=np.float64)


def minute_returns(
    events: np.ndarray,
    book: np.ndarray,
    *,
    open_ns: int | None = None,
    seconds: float = DAY_S,
    step_s: float = 60.0,
) -> np.ndarray:
    """Log returns of the mid over consecutive ``step_s`` intervals from the open."""
    m = minute_mids(events, book, open_ns=open_ns, seconds=seconds, step_s=step_s)
    return np.diff(np.log(m))


def excess_kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis (Fisher, moment estimator): 0 for a normal law."""
    return float(stats.kurtosis(np.asarray(x, dtype=np.float64), fisher=True, bias=True))


def ljung_box(x: np.ndarray, lags: int = LAGS) -> tuple[float, float]:
    """Ljung-Box portmanteau statistic and its chi-square p-value at ``lags`` lags."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n <= lags + 1:
        raise ValueError(f"need more than {lags + 1} observations, actually: {n}")
    y = x - x.mean()
    denom = float(y @ y)
    if denom == 0.0:
        return 0.0, 1.0
    k = np.arange(1, lags + 1)
    rho = np.array([float(y[j:] @ y[:-j]) / denom for j in k])
    q = float(n * (n + 2) * np.sum(rho * rho / (n - k)))
    return q, float(stats.chi2.sf(q, lags))


@dataclass(frozen=True)
class StylizedFacts:
    """The three facts of one day, their figures and verdicts."""

    n_returns: int
    return_std: float
    excess_kurtosis: float
    ljung_box_q: float
    ljung_box_p: float
    ljung_box_abs_q: float
    ljung_box_abs_p: float
    heavy_tails: bool
    no_autocorrelation: bool
    volatility_clustering: bool

    @property
    def all_pass(self) -> bool:
        return self.heavy_tails and self.no_autocorrelation and self.volatility_clustering

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = asdict(self)
        d["all_pass"] = self.all_pass
        return d


def facts_from_returns(r: np.ndarray, lags: int = LAGS) -> StylizedFacts:
    """The three facts of a series of returns."""
    r = np.asarray(r, dtype=np.float64)
    kurt = excess_kurtosis(r)
    q, p = ljung_box(r, lags)
    qa, pa = ljung_box(np.abs(r), lags)
    return StylizedFacts(
        n_returns=int(r.shape[0]),
        return_std=float(r.std()),
        excess_kurtosis=kurt,
        ljung_box_q=q,
        ljung_box_p=p,
        ljung_box_abs_q=qa,
        ljung_box_abs_p=pa,
        heavy_tails=kurt > KURTOSIS_MIN,
        no_autocorrelation=p > ALPHA,
        volatility_clustering=pa < ALPHA,
    )


def stylized_facts(
    events: np.ndarray,
    book: np.ndarray,
    *,
    open_ns: int | None = None,
    seconds: float = DAY_S,
    lags: int = LAGS,
) -> StylizedFacts:
    """The three facts of a day given as events and LOBSTER book rows (any level count)."""
    r = minute_returns(events, book, open_ns=open_ns, seconds=seconds)
    return facts_from_returns(r, lags)


__all__ = [
    "StylizedFacts",
    "excess_kurtosis",
    "facts_from_returns",
    "level1_mid",
    "ljung_box",
    "minute_mids",
    "minute_returns",
    "session_open_ns",
    "stylized_facts",
]
