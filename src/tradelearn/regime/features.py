"""Rolling regime features: volatility and trend from daily bars; spread and volume intraday.

Every feature at row ``t`` uses data up to and including ``t`` only (trailing windows),
so a model fitted on rows ``< t`` and applied at ``t`` sees no future. Volatility comes
first in every feature matrix: :class:`~tradelearn.regime.models.RegimeModel` orders its
states by feature 0.

Daily (:func:`daily_features`), from :class:`~tradelearn.risk.realized.VolData`:

* ``log_vol``: :math:`\\tfrac12 \\ln` of the mean Garman-Klass variance over the last
  ``vol_window`` days (log daily volatility, percent);
* ``trend``: mean close-to-close log return over the last ``trend_window`` days
  (percent per day).

Intraday (:func:`intraday_features`), from bars built out of a LOBSTER day
(:func:`lobster_bars`): ``log_vol`` of mid-quote returns, ``trend`` of the mid,
``log_spread`` (mean quoted spread in basis points of the mid) and ``log_volume``
(traded shares per bar), each over the last ``window`` bars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID, LobsterDay, midnight_ns
from tradelearn.data.schema import EventType
from tradelearn.errors import ConfigError, DataError
from tradelearn.risk.realized import VolData

__all__ = [
    "IntradayBars",
    "RegimeFeatures",
    "bars_from_quotes",
    "daily_features",
    "intraday_features",
    "lobster_bars",
    "rolling_mean",
]

_NS = 1_000_000_000


@dataclass(frozen=True, eq=False)
class RegimeFeatures:
    """A feature matrix with its time stamps and the price it describes.

    Attributes
    ----------
    names
        Feature names, volatility first.
    values
        ``(n, d)`` float64, no NaN.
    dates
        Time stamps of the rows (``datetime64[D]`` for daily, ``datetime64[ns]`` intraday).
    close
        The price at each row (close or last mid), for plots.
    source_index
        Row of each feature row in the source series (the first ``window - 1`` rows of
        the source have no full window and are left out).
    """

    names: tuple[str, ...]
    values: np.ndarray
    dates: np.ndarray
    close: np.ndarray
    source_index: np.ndarray

    def __len__(self) -> int:
        return int(self.values.shape[0])


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` rows; the first ``window - 1`` rows are NaN."""
    if window < 1:
        raise ConfigError(f"window must be >= 1, actually: {window}")
    a = np.asarray(x, dtype=np.float64)
    out = np.full(a.shape, np.nan)
    if a.shape[0] < window:
        return out
    c = np.cumsum(np.concatenate([[0.0], a]))
    out[window - 1 :] = (c[window:] - c[:-window]) / window
    return out


def _check_windows(**windows: int) -> None:
    for name, w in windows.items():
        if not isinstance(w, int | np.integer) or w < 1:
            raise ConfigError(f"{name} must be an integer >= 1, actually: {w!r}")


def daily_features(
    data: VolData, *, vol_window: int = 21, trend_window: int = 63
) -> RegimeFeatures:
    """Daily volatility and trend features of one series.

    Parameters
    ----------
    data
        A series from :func:`tradelearn.risk.realized.vol_data`.
    vol_window
        Days in the mean Garman-Klass variance behind ``log_vol``.
    trend_window
        Days in the mean return behind ``trend``.

    Raises
    ------
    ConfigError
        A window is not a positive integer.
    DataError
        The series is shorter than the longest window.
    """
    _check_windows(vol_window=vol_window, trend_window=trend_window)
    w = max(vol_window, trend_window)
    if len(data) < w + 1:
        raise DataError(
            "series too short for the feature windows",
            field="rows",
            expected=f">= {w + 1}",
            got=len(data),
        )
    log_vol = 0.5 * np.log(rolling_mean(data.proxy, vol_window))
    trend = rolling_mean(data.returns, trend_window)
    values = np.column_stack([log_vol, trend])[w - 1 :]
    idx = np.arange(w - 1, len(data))
    return RegimeFeatures(("log_vol", "trend"), values, data.dates[idx], data.close[idx], idx)


@dataclass(frozen=True, eq=False)
class IntradayBars:
    """Fixed-length intraday bars of one day.

    Attributes
    ----------
    start_ns
        Bar start times, epoch nanoseconds.
    mid
        Last mid-quote in each bar (carried forward through bars without a quote).
    spread_bps
        Mean quoted spread over the quotes in the bar, basis points of the mid
        (carried forward through bars without a quote).
    volume
        Shares traded in the bar (visible and hidden executions).
    """

    start_ns: np.ndarray
    mid: np.ndarray
    spread_bps: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.start_ns.shape[0])


def bars_from_quotes(
    ts_ns: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    traded: np.ndarray,
    *,
    start_ns: int,
    end_ns: int,
    bar_ns: int,
) -> IntradayBars:
    """Aggregate a quote-and-trade stream into bars of ``bar_ns`` nanoseconds.

    Parameters
    ----------
    ts_ns
        Sorted event times (epoch ns).
    bid, ask
        Best bid and ask after each event (any price unit, ``ask > bid``).
    traded
        Shares traded by each event (zero for quote-only events).
    start_ns, end_ns, bar_ns
        The session and bar length; events outside ``[start_ns, end_ns)`` are ignored.

    Raises
    ------
    ConfigError
        ``bar_ns <= 0`` or ``end_ns <= start_ns``.
    DataError
        The arrays differ in length, times go backwards, or no quote falls in the
        first bar (its mid and spread would be undefined).
    """
    if bar_ns <= 0 or end_ns <= start_ns:
        raise ConfigError(
            f"need bar_ns > 0 and end_ns > start_ns, actually: {bar_ns}, {start_ns}..{end_ns}"
        )
    ts = np.asarray(ts_ns, dtype=np.int64)
    b, a, q = (np.asarray(x, dtype=np.float64) for x in (bid, ask, traded))
    if not (ts.shape == b.shape == a.shape == q.shape):
        raise DataError("ts, bid, ask and traded differ in length", expected="equal", got=ts.shape)
    if np.any(np.diff(ts) < 0):
        raise DataError("timestamps go backwards", field="ts", expected="sorted")
    n_bars = int(-(-(end_ns - start_ns) // bar_ns))
    inside = (ts >= start_ns) & (ts < end_ns)
    k = (ts[inside] - start_ns) // bar_ns
    mid_all, spr_all = (a[inside] + b[inside]) / 2.0, (a[inside] - b[inside])
    volume = np.bincount(k, weights=q[inside], minlength=n_bars)
    count = np.bincount(k, minlength=n_bars).astype(np.float64)
    spread_sum = np.bincount(k, weights=spr_all / mid_all * 1e4, minlength=n_bars)
    if count[0] == 0:
        raise DataError("no quote in the first bar", field="ts", expected=">= 1 in bar 0")
    last = np.full(n_bars, -1, dtype=np.int64)
    last[k] = np.arange(k.size)  # later events overwrite earlier ones: the bar's last quote
    has = count > 0
    spread = np.where(has, spread_sum / np.maximum(count, 1.0), np.nan)
    mid = np.where(last >= 0, mid_all[np.maximum(last, 0)], np.nan)
    # carry the last known value through empty bars
    fill = np.maximum.accumulate(np.where(has, np.arange(n_bars), 0))
    return IntradayBars(
        start_ns=start_ns + np.arange(n_bars, dtype=np.int64) * bar_ns,
        mid=mid[fill],
        spread_bps=spread[fill],
        volume=volume,
    )


def lobster_bars(
    day: LobsterDay, *, bar_s: float = 60.0, start_s: float = 34_200.0, end_s: float = 57_600.0
) -> IntradayBars:
    """Bars of a LOBSTER day: mid, spread and traded volume from level 1 and the messages.

    Raises
    ------
    DataError
        The day was loaded without its orderbook file.
    """
    if day.book is None:
        raise DataError(
            "intraday bars need the orderbook file",
            path=day.message_path,
            expected="load_lobster(message, orderbook)",
            got="messages only",
        )
    ask, bid = day.book[:, 0], day.book[:, 2]
    ok = (ask != DUMMY_ASK) & (bid != DUMMY_BID) & (ask > bid)
    ev = day.events
    trade = np.isin(ev["event"], [int(EventType.EXECUTE), int(EventType.EXECUTE_HIDDEN)])
    qty = np.where(trade, ev["qty"], 0)
    t0 = midnight_ns(day.date)
    return bars_from_quotes(
        ev["ts_exchange"][ok],
        bid[ok],
        ask[ok],
        qty[ok],
        start_ns=t0 + int(start_s * _NS),
        end_ns=t0 + int(end_s * _NS),
        bar_ns=int(bar_s * _NS),
    )


def intraday_features(bars: IntradayBars, *, window: int = 5) -> RegimeFeatures:
    """Rolling intraday features: ``log_vol``, ``trend``, ``log_spread``, ``log_volume``.

    ``log_vol`` is half the log of the mean squared mid log return (percent) over the
    last ``window`` bars (floored at 1e-8 so a flat stretch stays finite); ``trend`` the
    mean mid return; ``log_spread`` the log of the mean spread in basis points;
    ``log_volume`` the log of one plus the mean traded shares per bar.
    """
    _check_windows(window=window)
    if len(bars) < window + 1:
        raise DataError(
            "too few bars for the window", field="bars", expected=f">= {window + 1}", got=len(bars)
        )
    r = np.diff(np.log(bars.mid)) * 100.0
    log_vol = 0.5 * np.log(np.maximum(rolling_mean(r**2, window), 1e-8))
    trend = rolling_mean(r, window)
    log_spread = np.log(rolling_mean(bars.spread_bps[1:], window))
    log_volume = np.log1p(rolling_mean(bars.volume[1:], window))
    values = np.column_stack([log_vol, trend, log_spread, log_volume])[window - 1 :]
    idx = np.arange(window, len(bars))  # return j ends at bar j + 1
    return RegimeFeatures(
        ("log_vol", "trend", "log_spread", "log_volume"),
        values,
        bars.start_ns[idx].astype("datetime64[ns]"),
        bars.mid[idx],
        idx,
    )
