"""Daily news-sentiment features joined to daily prices, without look-ahead.

Timing (the DJIA Reddit news set, Sun 2016): the headlines dated ``t`` are the 25
top r/worldnews posts of UTC day ``t``, so all of them exist by 00:00 UTC of ``t+1``
(19:00 or 20:00 New York time on ``t``), before the open of the next trading day.
The Kaggle ``Label`` of day ``t`` is *same-day* (Adj Close ``t`` >= Adj Close ``t-1``)
and is not used. :func:`join_next_day` pairs the features of day ``t`` (headlines of
``t``, prices up to the close of ``t``) with two targets on the next trading day:

``up_next``
    ``close[t+1] >= close[t]`` (close to close). A trade entered at the close of ``t``
    would see only the headlines posted before 16:00 New York time; the 3-4 hours of
    posts after the close are a small timing advantage, stated here, not hidden.
``up_next_oc``
    ``close[t+1] >= open[t+1]`` (open to close): every headline of ``t`` is older than
    the open of ``t+1``, so this target is free of any overlap.

:func:`walk_forward_proba` refits a model on an expanding window and predicts the
next block; :func:`paired_block_bootstrap` gives a confidence interval of the
difference of a metric between two such prediction series on the same days.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tradelearn.data.validation import read_bytes
from tradelearn.errors import ConfigError, DataError
from tradelearn.sentiment.scorer import SentimentScore

__all__ = [
    "NewsDays",
    "daily_sentiment_features",
    "join_next_day",
    "load_djia_news",
    "paired_block_bootstrap",
    "price_features",
    "walk_forward_proba",
]

F64 = NDArray[np.float64]
_BYTES_REPR = re.compile(r"""^b(['"]).*\1$""", re.DOTALL)


class NewsDays:
    """Headlines per day: ``dates`` (sorted, unique) and ``headlines[i]`` of ``dates[i]``."""

    def __init__(self, dates: Sequence[object], headlines: Sequence[Sequence[str]]) -> None:
        if len(dates) != len(headlines):
            raise ConfigError(
                f"dates and headlines must have one length, actually: {len(dates)}, "
                f"{len(headlines)}"
            )
        self.dates = pl.Series("date", list(dates)).cast(pl.Date)
        if np.any(np.diff(self.dates.to_physical().to_numpy()) <= 0):
            raise ConfigError("dates must be strictly increasing")
        self.headlines = [list(h) for h in headlines]

    def __len__(self) -> int:
        return len(self.headlines)

    def flat(self) -> tuple[list[str], NDArray[np.int64]]:
        """All headlines in one list, and the day index of each."""
        texts = [h for day in self.headlines for h in day]
        owner = np.repeat(np.arange(len(self)), [len(d) for d in self.headlines])
        return texts, owner.astype(np.int64)


def clean_headline(cell: str) -> str:
    """Undo the ``b'...'`` byte-string wrappers of the Kaggle file."""
    text = cell.strip()
    if _BYTES_REPR.match(text):
        try:
            value = ast.literal_eval(text)
            if isinstance(value, bytes):
                return value.decode("utf-8", errors="replace").strip()
        except (ValueError, SyntaxError):
            pass
        return text[2:-1].strip()
    return text


def load_djia_news(path: str | Path) -> NewsDays:
    """Read ``Combined_News_DJIA.csv(.gz)``: ``Date,Label,Top1..Top25``.

    Empty headline cells are skipped (a few days have fewer than 25).

    Raises
    ------
    DataError
        Missing file or ``Date`` column, an unparsable date, repeated or unsorted dates.
    """
    p = Path(path)
    data = read_bytes(p)
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"not a readable CSV file ({exc})", path=p) from exc
    if "Date" not in frame.columns:
        raise DataError(
            "missing column 'Date'", path=p, row=1, field="Date", expected="Date", got=frame.columns
        )
    dates = frame.get_column("Date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    bad = np.flatnonzero(dates.is_null().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataError(
            "unparsable date",
            path=p,
            row=i + 2,
            field="Date",
            expected="YYYY-MM-DD",
            got=frame.get_column("Date")[i],
        )
    steps = np.diff(dates.to_physical().to_numpy())
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise DataError(
            "dates not strictly increasing",
            path=p,
            row=i + 2,
            field="Date",
            expected="a date after the previous row's",
            got=str(dates[i]),
        )
    tops = [c for c in frame.columns if re.fullmatch(r"Top\d+", c)]
    if not tops:
        raise DataError(
            "no headline columns", path=p, row=1, expected="Top1..Top25", got=frame.columns
        )
    cells = frame.select(tops).rows()
    headlines = [[clean_headline(c) for c in row if c is not None and c.strip()] for row in cells]
    return NewsDays(dates.to_list(), headlines)


def daily_sentiment_features(
    news: NewsDays, scores: Sequence[SentimentScore], prefix: str
) -> pl.DataFrame:
    """Per-day mean score and shares of positive and negative headlines.

    Parameters
    ----------
    news
        The days and headlines.
    scores
        One score per headline of ``news.flat()``, in that order.
    prefix
        Column prefix (e.g. the scorer's name).

    Returns
    -------
    pl.DataFrame
        ``date``, ``{prefix}_mean``, ``{prefix}_pos``, ``{prefix}_neg`` (0 for a day
        without headlines).
    """
    texts, owner = news.flat()
    if len(scores) != len(texts):
        raise ConfigError(f"need one score per headline ({len(texts)}), actually: {len(scores)}")
    n = len(news)
    count = np.bincount(owner, minlength=n).astype(np.float64)
    value = np.array([s.score for s in scores], dtype=np.float64)
    pos = np.array([s.label == "positive" for s in scores], dtype=np.float64)
    neg = np.array([s.label == "negative" for s in scores], dtype=np.float64)
    safe = np.maximum(count, 1.0)
    return pl.DataFrame(
        {
            "date": news.dates,
            f"{prefix}_mean": np.bincount(owner, value, minlength=n) / safe,
            f"{prefix}_pos": np.bincount(owner, pos, minlength=n) / safe,
            f"{prefix}_neg": np.bincount(owner, neg, minlength=n) / safe,
        }
    )


def price_features(prices: pl.DataFrame) -> pl.DataFrame:
    """Features known at the close of each day, and next-day targets.

    Parameters
    ----------
    prices
        One series: columns ``date``, ``open``, ``high``, ``low``, ``close``.

    Returns
    -------
    pl.DataFrame
        ``date``, ``ret_1``, ``ret_5``, ``ret_20`` (log returns to the close of the
        day), ``vol_20`` (std of daily log returns), ``range_1`` (log high/low), and
        the targets ``up_next`` and ``up_next_oc`` (null on the last day).
    """
    need = {"date", "open", "high", "low", "close"}
    if not need <= set(prices.columns):
        raise ConfigError(f"prices need columns {sorted(need)}, actually: {prices.columns}")
    f = prices.sort("date").with_columns(pl.col("close").log().diff().alias("ret_1"))
    return f.select(
        "date",
        "ret_1",
        pl.col("close").log().diff(5).alias("ret_5"),
        pl.col("close").log().diff(20).alias("ret_20"),
        pl.col("ret_1").rolling_std(20).alias("vol_20"),
        (pl.col("high") / pl.col("low")).log().alias("range_1"),
        (pl.col("close").shift(-1) >= pl.col("close")).cast(pl.Int8).alias("up_next"),
        (pl.col("close").shift(-1) >= pl.col("open").shift(-1)).cast(pl.Int8).alias("up_next_oc"),
    )


def join_next_day(price_feats: pl.DataFrame, news_feats: pl.DataFrame) -> pl.DataFrame:
    """Inner-join price and news features on the same date; drop rows with nulls.

    Both frames hold only information up to day ``t``; the targets in ``price_feats``
    are about ``t+1`` (see the module documentation).
    """
    return price_feats.join(news_feats, on="date", how="inner").drop_nulls().sort("date")


def walk_forward_proba(
    x: NDArray[np.floating],
    y: NDArray[np.integer],
    fit_predict: Callable[[F64, NDArray[np.int64], F64], F64],
    *,
    first_train: int,
    step: int,
) -> F64:
    """Expanding-window predictions: refit on rows ``[0, s)``, predict ``[s, s+step)``.

    Returns the predicted probability of class 1 per row; NaN before ``first_train``.
    """
    n = len(y)
    if not 0 < first_train < n:
        raise ConfigError(f"first_train must be in (0, {n}), actually: {first_train}")
    if step < 1:
        raise ConfigError(f"step must be at least 1, actually: {step}")
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.int64)
    out = np.full(n, np.nan)
    for s in range(first_train, n, step):
        e = min(n, s + step)
        out[s:e] = fit_predict(xa[:s], ya[:s], xa[s:e])
    return out


def paired_block_bootstrap(
    y: NDArray[np.integer],
    p_a: NDArray[np.floating],
    p_b: NDArray[np.floating],
    metric: Callable[[NDArray[np.int64], F64], float],
    *,
    n_boot: int = 2000,
    block: int = 20,
    level: float = 0.95,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """``metric(y, p_a) - metric(y, p_b)`` and its circular moving-block bootstrap CI.

    Days are resampled in blocks of ``block`` consecutive days (serial dependence),
    the same days for both series (a paired difference).

    Returns
    -------
    tuple
        ``(difference, low, high)`` at confidence ``level`` (percentile interval).
    """
    ya = np.asarray(y, dtype=np.int64)
    a = np.asarray(p_a, dtype=np.float64)
    b = np.asarray(p_b, dtype=np.float64)
    n = len(ya)
    if a.shape != (n,) or b.shape != (n,):
        raise ConfigError(f"p_a and p_b must have shape ({n},), actually: {a.shape}, {b.shape}")
    if not 1 <= block <= n:
        raise ConfigError(f"block must be in [1, {n}], actually: {block}")
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), actually: {level}")
    diff = metric(ya, a) - metric(ya, b)
    n_blocks = -(-n // block)
    draws = np.empty(n_boot)
    offsets = np.arange(block)
    for i in range(n_boot):
        starts = rng.integers(0, n, size=n_blocks)
        idx = ((starts[:, None] + offsets[None, :]) % n).ravel()[:n]
        draws[i] = metric(ya[idx], a[idx]) - metric(ya[idx], b[idx])
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return float(diff), float(lo), float(hi)
