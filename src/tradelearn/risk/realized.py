"""Daily variance measures: the Garman-Klass range proxy and realized variance.

Every model in :mod:`tradelearn.risk.vol` is scored against a *proxy* of the latent
daily variance. Where intraday data exist (LOBSTER) the proxy is the realized variance
of five-minute mid-quote returns; where only daily bars exist it is the Garman-Klass
estimator built from open, high, low and close.

Units: log returns and variances are in percent (returns x 100, variances x 10^4), the
scale at which GARCH likelihoods converge well.

References
----------
Garman, M. B., and Klass, M. J. (1980). On the estimation of security price
volatilities from historical data. *Journal of Business* 53(1), 67-78.
Andersen, T. G., Bollerslev, T., Diebold, F. X., and Labys, P. (2003). Modeling and
forecasting realized volatility. *Econometrica* 71(2), 579-625.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from tradelearn.data.daily import DailyPanel
from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID, LobsterDay, midnight_ns
from tradelearn.errors import ConfigError, DataError

__all__ = [
    "IntradayVariance",
    "VolData",
    "garman_klass",
    "lobster_realized_variance",
    "realized_variance",
    "vol_data",
]

PERCENT = 100.0
"""Returns are quoted in percent, variances in percent squared."""
_GK_C = 2.0 * np.log(2.0) - 1.0
_NS = 1_000_000_000


def garman_klass(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray
) -> np.ndarray:
    r"""Garman-Klass daily variance (in the squared units of log prices).

    .. math::
        \hat\sigma^2_{GK} = \tfrac12 \left(\ln\frac{H}{L}\right)^2
                            - (2\ln 2 - 1)\left(\ln\frac{C}{O}\right)^2

    It is about 7.4 times as efficient as the squared open-to-close return under a
    driftless Brownian motion (Garman and Klass, 1980). It measures the variance from
    the open to the close only: overnight moves are not in it.

    Raises
    ------
    DataError
        A price is not positive or a high is below a low.
    """
    o, h, lo, c = (np.asarray(x, dtype=np.float64) for x in (open_, high, low, close))
    if np.any(~(np.minimum.reduce([o, h, lo, c]) > 0)):
        raise DataError("price is not positive", field="open/high/low/close", expected="> 0")
    if np.any(h < lo):
        i = int(np.flatnonzero(h < lo)[0])
        raise DataError("high is below low", row=i, field="high", expected=">= low", got=h[i])
    out: np.ndarray = 0.5 * np.log(h / lo) ** 2 - _GK_C * np.log(c / o) ** 2
    return out


@dataclass(frozen=True, eq=False)
class VolData:
    """One daily series prepared for volatility work (index i is the close of day i).

    Attributes
    ----------
    symbol
        The series name.
    dates
        ``datetime64[D]`` trading days; day 0 of the file is dropped (it has no return).
    returns
        Close-to-close log returns in percent.
    proxy
        Daily variance proxy in percent squared (Garman-Klass unless realized variance
        replaced it on some days).
    overnight
        Close-to-open log return in percent (zero where the file's open repeats the
        previous close, as the S&P 500 index file does before 2012).
    close
        Closing prices.
    """

    symbol: str
    dates: np.ndarray
    returns: np.ndarray
    proxy: np.ndarray
    overnight: np.ndarray
    close: np.ndarray

    def __len__(self) -> int:
        return int(self.returns.shape[0])

    def index_of(self, date: dt.date | str) -> int:
        """First index whose date is on or after ``date``."""
        d = np.datetime64(date if isinstance(date, str) else date.isoformat(), "D")
        return int(np.searchsorted(self.dates, d))

    def with_proxy(self, realized: dict[dt.date, float]) -> VolData:
        """Replace the proxy by realized variance (percent squared) on the days given."""
        proxy = self.proxy.copy()
        for day, rv in realized.items():
            i = self.index_of(day)
            if i < len(self) and self.dates[i] == np.datetime64(day.isoformat(), "D"):
                proxy[i] = rv
        return VolData(self.symbol, self.dates, self.returns, proxy, self.overnight, self.close)


def vol_data(panel: DailyPanel, symbol: str | None = None, *, floor: float = 1e-4) -> VolData:
    """Build :class:`VolData` from a daily OHLCV panel.

    Parameters
    ----------
    panel
        A panel from :func:`tradelearn.data.daily.load_daily`.
    symbol
        Which symbol; optional when the panel holds one.
    floor
        Lower bound (percent squared) on the proxy: a day with ``H = L`` would give a
        zero proxy, on which QLIKE is undefined.
    """
    frame = panel.frame
    symbols = panel.symbols
    if symbol is None:
        if len(symbols) != 1:
            raise ConfigError(f"symbol is required for a panel of {len(symbols)} symbols")
        symbol = symbols[0]
    elif symbol not in symbols:
        raise ConfigError(f"symbol {symbol!r} is not in {panel.path}")
    f = frame.filter(pl.col("symbol") == symbol).sort("date")
    if f.height < 3:
        raise DataError("too few rows for returns", path=panel.path, expected=">= 3", got=f.height)
    o, h, lo, c = (
        f.get_column(k).to_numpy().astype(np.float64) for k in ("open", "high", "low", "close")
    )
    gk = np.maximum(garman_klass(o, h, lo, c) * PERCENT**2, floor)
    dates = f.get_column("date").to_numpy().astype("datetime64[D]")
    return VolData(
        symbol=symbol,
        dates=dates[1:],
        returns=np.diff(np.log(c)) * PERCENT,
        proxy=gk[1:],
        overnight=np.log(o[1:] / c[:-1]) * PERCENT,
        close=c[1:],
    )


def realized_variance(
    ts_ns: np.ndarray, price: np.ndarray, start_ns: int, end_ns: int, interval_ns: int
) -> tuple[float, int]:
    r"""Realized variance of previous-tick sampled log prices on a regular grid.

    .. math:: RV = \sum_{j=1}^{m} (\ln p_{t_j} - \ln p_{t_{j-1}})^2,
              \quad t_j = t_0 + j\,\Delta

    where :math:`p_{t}` is the last price observed at or before :math:`t`, or the first
    price for grid points before any (Andersen et al., 2003). Five minutes (:math:`\Delta` = 300 s) keeps the
    microstructure-noise bias small for liquid stocks.

    Returns
    -------
    (rv, m)
        RV in squared log units and the number of returns summed.
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    p = np.asarray(price, dtype=np.float64)
    if interval_ns <= 0 or end_ns <= start_ns:
        raise ConfigError(
            f"need interval_ns > 0 and end_ns > start_ns, actually: {interval_ns}, {start_ns}..{end_ns}"
        )
    if ts.size == 0 or np.any(np.diff(ts) < 0):
        raise DataError("timestamps are empty or go backwards", field="ts", expected="sorted")
    grid = np.arange(start_ns, end_ns + 1, interval_ns, dtype=np.int64)
    pos = np.searchsorted(ts, grid, side="right") - 1
    # grid points before the first observation take the first price (the opening quote)
    lp = np.log(p[np.maximum(pos, 0)])
    rets = np.diff(lp)
    return float(np.sum(rets**2)), int(rets.size)


@dataclass(frozen=True)
class IntradayVariance:
    """Variance measures of one intraday day (percent squared).

    ``realized`` is the RV of ``interval_s`` mid-quote returns; ``garman_klass`` is the
    range proxy built from the same mids, for comparison with the daily proxy.
    """

    date: dt.date
    realized: float
    n_returns: int
    garman_klass: float
    interval_s: float


def lobster_realized_variance(
    day: LobsterDay,
    *,
    interval_s: float = 300.0,
    start_s: float = 34_200.0,
    end_s: float = 57_600.0,
) -> IntradayVariance:
    """Realized variance of five-minute mid-quote returns of a LOBSTER day.

    The mid is taken from level 1 of the orderbook file after each message; rows with an
    empty side (LOBSTER's dummy prices) are skipped.

    Raises
    ------
    DataError
        The day was loaded without its orderbook file, or has no two-sided quote.
    """
    if day.book is None:
        raise DataError(
            "realized variance needs the orderbook file",
            path=day.message_path,
            expected="load_lobster(message, orderbook)",
            got="messages only",
        )
    ask, bid = day.book[:, 0], day.book[:, 2]
    ok = (ask != DUMMY_ASK) & (bid != DUMMY_BID) & (ask > bid)
    if not ok.any():
        raise DataError("no two-sided quote in the day", path=day.orderbook_path, field="price")
    mid = (ask[ok] + bid[ok]) / 2.0
    ts = day.events["ts_exchange"][ok]
    t0 = midnight_ns(day.date)
    rv, m = realized_variance(
        ts, mid, t0 + int(start_s * _NS), t0 + int(end_s * _NS), int(interval_s * _NS)
    )
    inside = (ts >= t0 + int(start_s * _NS)) & (ts <= t0 + int(end_s * _NS))
    mids = mid[inside]
    gk = garman_klass(mids[:1], mids.max(keepdims=True), mids.min(keepdims=True), mids[-1:])
    return IntradayVariance(
        date=day.date,
        realized=rv * PERCENT**2,
        n_returns=m,
        garman_klass=float(gk[0]) * PERCENT**2,
        interval_s=interval_s,
    )
