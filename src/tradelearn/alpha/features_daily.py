"""Daily cross-sectional features and forward-return labels from an OHLCV panel.

Features (an Alpha158-like family, each computed per symbol from that symbol's own past
and current rows only, then, by default, ranked across symbols within each day):

* momentum and reversal: returns over 1, 2, 3, 5, 10, 20, 60 and 120 days, the 60- and
  120-day returns skipping the last 20 days, and the 5-day return over 20-day volatility;
* moving-average gaps ``close / mean(close, k) - 1`` (k = 5, 10, 20, 60);
* volatility: standard deviation of daily returns (5, 20, 60 days), the mean log
  high/low range, the 20-day skewness;
* price-range (candle) features: ``KMID, KLEN, KUP, KLOW, KSFT``, the overnight gap, the
  distance to the 20/60-day high and low and the stochastic ``RSV`` (10, 20 days);
* volume and turnover: volume over its 5/20-day mean (log), the coefficient of
  variation of volume, log dollar volume (20 days), the 5-over-60-day dollar-volume
  ratio, the Amihud illiquidity and the 20-day correlation of returns with volume change.

Labels look forward: the return from the close ``skip`` rows after the decision day to the
close ``skip + horizon`` rows after it (``skip=1`` by default: a signal computed after the
close of day t trades at the close of t+1, as qlib's default label does). ``label_end``
records the last day a label reads, for purging. Nothing in a feature on day t reads a
price after day t (``tests/unit/alpha/test_features_daily.py`` changes future prices and
checks that past features stay the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tradelearn.alpha.dataset import AlphaDataset, cs_rank
from tradelearn.data.daily import DailyPanel
from tradelearn.errors import ConfigError, DataError

__all__ = [
    "DailyData",
    "LabelKind",
    "build_daily_dataset",
    "daily_features",
    "feature_names",
    "synthetic_panel",
]

LabelKind = Literal["raw", "rank", "zscore", "vol_scaled", "class"]
_EPS = 1e-12
WARMUP = 120
"""Rows of history a symbol needs before its features are used (the longest window)."""


def _feature_exprs() -> list[pl.Expr]:
    c, o, h, lo, v = (pl.col(k) for k in ("close", "open", "high", "low", "volume"))
    r = pl.col("_r")
    dv = pl.col("_dv")
    ex: list[pl.Expr] = []
    for k in (1, 2, 3, 5, 10, 20, 60, 120):
        ex.append((c / c.shift(k) - 1).alias(f"ret_{k}"))
    ex.append((c.shift(20) / c.shift(60) - 1).alias("mom_60_20"))
    ex.append((c.shift(20) / c.shift(120) - 1).alias("mom_120_20"))
    ex.append(((c / c.shift(5) - 1) / (r.rolling_std(20) + _EPS)).alias("rev_5_volscaled"))
    for k in (5, 10, 20, 60):
        ex.append((c / c.rolling_mean(k) - 1).alias(f"ma_{k}"))
    for k in (5, 20, 60):
        ex.append(r.rolling_std(k).alias(f"vol_{k}"))
    ex.append((h / lo).log().rolling_mean(20).alias("hl_range_20"))
    ex.append(r.rolling_skew(20).alias("skew_20"))
    top = pl.max_horizontal(o, c)
    bottom = pl.min_horizontal(o, c)
    ex += [
        ((c - o) / o).alias("kmid"),
        ((h - lo) / o).alias("klen"),
        ((h - top) / o).alias("kup"),
        ((bottom - lo) / o).alias("klow"),
        ((2 * c - h - lo) / o).alias("ksft"),
        (o / c.shift(1) - 1).alias("gap"),
    ]
    for k in (20, 60):
        ex.append((c / h.rolling_max(k) - 1).alias(f"to_high_{k}"))
        ex.append((c / lo.rolling_min(k) - 1).alias(f"to_low_{k}"))
    for k in (10, 20):
        hh, ll = h.rolling_max(k), lo.rolling_min(k)
        ex.append(((c - ll) / (hh - ll + _EPS)).alias(f"rsv_{k}"))
    lv = (v + 1).log()
    for k in (5, 20):
        ex.append((lv - (v + 1).rolling_mean(k).log()).alias(f"vma_{k}"))
    ex.append((v.rolling_std(20) / (v.rolling_mean(20) + _EPS)).alias("vstd_20"))
    ex.append((dv.rolling_mean(20) + 1).log().alias("dollar_vol_20"))
    ex.append(((dv.rolling_mean(5) + 1) / (dv.rolling_mean(60) + 1)).log().alias("turnover_5_60"))
    ex.append((r.abs() / (dv + 1) * 1e9).rolling_mean(20).log1p().alias("amihud_20"))
    ex.append(pl.rolling_corr(r, lv - lv.shift(1), window_size=20).alias("corr_ret_dvol_20"))
    return ex


def feature_names() -> tuple[str, ...]:
    """Names of the daily features, in column order."""
    frame = pl.DataFrame({k: [1.0] for k in ("close", "open", "high", "low", "volume")})
    frame = frame.with_columns(pl.lit(0.0).alias("_r"), pl.lit(1.0).alias("_dv"))
    return tuple(frame.select(_feature_exprs()).columns)


def _frame(panel: DailyPanel | pl.DataFrame) -> pl.DataFrame:
    frame = panel.frame if isinstance(panel, DailyPanel) else panel
    need = ("date", "symbol", "open", "high", "low", "close", "volume")
    missing = [k for k in need if k not in frame.columns]
    if missing:
        raise DataError(
            "daily panel lacks columns",
            field=missing[0],
            expected=", ".join(need),
            got=frame.columns,
        )
    if frame.height == 0:
        raise DataError("daily panel is empty", expected="rows", got=0)
    return frame.select(need).with_columns(pl.col("volume").cast(pl.Float64)).sort("symbol", "date")


def daily_features(panel: DailyPanel | pl.DataFrame, rank: bool = True) -> pl.DataFrame:
    """Features per (date, symbol): ``date``, ``symbol``, ``_row`` (history length), features.

    With ``rank=True`` every feature is ranked across symbols within each day and scaled
    to ``[-0.5, 0.5]`` (NaN where a window is not yet full).
    """
    frame = _frame(panel)
    c = pl.col("close")
    base = frame.with_columns(
        (c / c.shift(1) - 1).over("symbol").alias("_r"),
        (c * pl.col("volume")).alias("_dv"),
    )
    exprs = [e.over("symbol") for e in _feature_exprs()]
    out = base.select(
        "date",
        "symbol",
        pl.int_range(pl.len()).over("symbol").alias("_row"),
        *exprs,
    )
    names = list(feature_names())
    out = out.with_columns(
        [
            pl.col(n).cast(pl.Float64).fill_null(np.nan).replace([np.inf, -np.inf], np.nan)
            for n in names
        ]
    )
    if rank:
        dates = out.get_column("date").to_numpy().astype("datetime64[D]")
        ranked = cs_rank(out.select(names).to_numpy(), dates)
        out = out.with_columns([pl.Series(n, ranked[:, j]) for j, n in enumerate(names)])
    return out


def _labels(frame: pl.DataFrame, horizon: int, skip: int) -> pl.DataFrame:
    c = pl.col("close")
    a, b = skip, skip + horizon
    return frame.select(
        (c.shift(-b) / c.shift(-a) - 1).over("symbol").alias("fwd"),
        (c.shift(-(a + 1)) / c.shift(-a) - 1).over("symbol").alias("next_ret"),
        pl.col("date").shift(-b).over("symbol").alias("label_end"),
        ((c / c.shift(1) - 1).rolling_std(20)).over("symbol").alias("_vol20"),
    )


@dataclass(frozen=True)
class DailyData:
    """A daily dataset and what evaluation needs besides it.

    Attributes
    ----------
    dataset
        Features, training labels ``y`` and the raw forward return as ``target``.
    next_return
        Each sample's return over the first day of its label window (what a portfolio
        rebalanced on the decision day earns that day).
    horizon, skip, label
        The label definition.
    """

    dataset: AlphaDataset
    next_return: NDArray[np.float64]
    horizon: int
    skip: int
    label: LabelKind


def build_daily_dataset(
    panel: DailyPanel | pl.DataFrame,
    horizon: int = 5,
    skip: int = 1,
    label: LabelKind = "rank",
    n_classes: int = 3,
    rank_features: bool = True,
    warmup: int = WARMUP,
    min_names: int = 20,
) -> DailyData:
    """Features and forward-return labels for every (day, symbol) with a full label.

    ``label`` chooses the training target ``y``: ``raw`` forward return, its
    cross-sectional ``rank`` or ``zscore`` per day, the return over 20-day volatility
    (``vol_scaled``, ranked per day), or ``class`` (per-day quantile bins
    ``0..n_classes-1``, the top bin the highest returns). Rows with fewer than ``warmup``
    rows of history, or days with fewer than ``min_names`` symbols, are left out.
    """
    if horizon < 1 or skip < 0 or warmup < 0 or n_classes < 2 or min_names < 2:
        raise ConfigError(
            "need horizon >= 1, skip >= 0, warmup >= 0, n_classes >= 2, min_names >= 2; got "
            f"{horizon}, {skip}, {warmup}, {n_classes}, {min_names}"
        )
    if label not in ("raw", "rank", "zscore", "vol_scaled", "class"):
        raise ConfigError(
            f"label must be raw, rank, zscore, vol_scaled or class, actually: {label!r}"
        )
    frame = _frame(panel)
    feats = daily_features(frame, rank=rank_features)
    both = pl.concat([feats, _labels(frame, horizon, skip)], how="horizontal")
    both = both.filter(
        (pl.col("_row") >= warmup) & pl.col("fwd").is_not_null() & pl.col("fwd").is_finite()
    )
    both = both.filter(pl.len().over("date") >= min_names).sort("date", "symbol")
    if both.height == 0:
        raise DataError(
            "no (day, symbol) has a full feature history and label",
            expected=f">= {warmup + skip + horizon + 1} rows per symbol and >= {min_names} "
            "symbols a day",
            got=f"{frame.height} rows, {frame.get_column('symbol').n_unique()} symbols",
        )
    names = feature_names()
    dates = both.get_column("date").to_numpy().astype("datetime64[D]")
    fwd = both.get_column("fwd").to_numpy().astype(np.float64)
    y = _transform_label(fwd, both.get_column("_vol20").to_numpy(), dates, label, n_classes)
    ds = AlphaDataset(
        X=both.select(names).to_numpy().astype(np.float64),
        y=y,
        dates=dates,
        symbols=both.get_column("symbol").to_numpy().astype(str),
        label_end=both.get_column("label_end").to_numpy().astype("datetime64[D]"),
        target=fwd,
        feature_names=names,
    )
    nxt = both.get_column("next_ret").fill_null(np.nan).to_numpy().astype(np.float64)
    return DailyData(ds, nxt, horizon, skip, label)


def _transform_label(
    fwd: NDArray[np.float64],
    vol: NDArray[Any],
    dates: NDArray[np.datetime64],
    label: LabelKind,
    n_classes: int,
) -> NDArray[Any]:
    if label == "raw":
        return fwd
    if label == "vol_scaled":
        v = np.asarray(vol, dtype=np.float64)
        floor = np.nanmedian(v) * 0.2 if np.isfinite(v).any() else 1.0
        scaled = fwd / np.maximum(np.nan_to_num(v, nan=floor), floor)
        return cs_rank(scaled, dates)
    ranked = cs_rank(fwd, dates)
    if label == "rank":
        return ranked
    if label == "class":
        bins = np.floor((ranked + 0.5) * n_classes).clip(0, n_classes - 1)
        return bins.astype(np.int64)
    # zscore per day, clipped at 3
    out = np.empty_like(fwd)
    order = np.argsort(dates, kind="stable")
    d = dates[order]
    for grp in np.split(order, np.flatnonzero(d[1:] != d[:-1]) + 1):
        x = fwd[grp]
        sd = x.std()
        out[grp] = np.clip((x - x.mean()) / sd, -3, 3) if sd > 0 else 0.0
    return out


def synthetic_panel(
    n_symbols: int = 50,
    n_days: int = 400,
    seed: int = 0,
    reversal: float = 0.0,
    start: str = "2014-01-02",
) -> pl.DataFrame:
    """A random daily OHLCV panel (business days) with an optional planted reversal.

    Each symbol's daily log return is ``-reversal * (mean of its last 5 returns) + noise``
    (plus a common market factor), so with ``reversal > 0`` a short-term reversal feature
    predicts forward returns; with ``reversal = 0`` nothing does.
    """
    if n_symbols < 2 or n_days < 2:
        raise ConfigError(f"need n_symbols >= 2 and n_days >= 2, got {n_symbols}, {n_days}")
    rng = np.random.default_rng(seed)
    days = np.busday_offset(np.datetime64(start, "D"), np.arange(n_days), roll="forward")
    market = rng.normal(0.0003, 0.008, n_days)
    sig = rng.uniform(0.01, 0.025, n_symbols)
    eps = rng.standard_normal((n_days, n_symbols)) * sig
    r = np.zeros((n_days, n_symbols))
    for t in range(n_days):
        past = r[max(t - 5, 0) : t].mean(axis=0) if t else 0.0
        r[t] = market[t] - reversal * past + eps[t]
    close = 50 * np.exp(np.cumsum(r, axis=0)) * rng.uniform(0.5, 4, n_symbols)
    prev = np.vstack([close[:1], close[:-1]])
    open_ = prev * np.exp(rng.normal(0, 0.002, close.shape))
    spread = np.abs(rng.normal(0, 0.006, close.shape))
    high = np.maximum(open_, close) * (1 + spread)
    low = np.minimum(open_, close) * (1 - spread)
    volume = np.round(rng.lognormal(13, 0.4, close.shape) * (1 + 20 * np.abs(r))).astype(np.int64)
    syms = [f"S{j:03d}" for j in range(n_symbols)]
    return pl.DataFrame(
        {
            "date": np.repeat(days, n_symbols).astype("datetime64[D]"),
            "symbol": np.tile(syms, n_days),
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "volume": volume.ravel(),
        }
    ).sort("symbol", "date")
