"""News/price fusion: loading, daily features, timing, walk-forward and bootstrap."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tradelearn.errors import ConfigError, DataError
from tradelearn.sentiment.fusion import (
    NewsDays,
    clean_headline,
    daily_sentiment_features,
    join_next_day,
    load_djia_news,
    paired_block_bootstrap,
    price_features,
    walk_forward_proba,
)
from tradelearn.sentiment.scorer import SentimentScore

HEADER = "Date,Label,Top1,Top2,Top3\n"


def test_clean_headline_when_bytes_repr_then_unwrapped() -> None:
    assert clean_headline("b'Markets fall'") == "Markets fall"
    assert clean_headline('b"It\'s up"') == "It's up"
    assert clean_headline("plain text") == "plain text"
    assert clean_headline("b'broken \\x'") == "broken \\x"


def test_load_when_gzipped_file_then_days_and_headlines(tmp_path: Path) -> None:
    path = tmp_path / "news.csv.gz"
    body = HEADER + "2010-01-04,1,b'a up',b'b down',\n2010-01-05,0,x,y,z\n"
    path.write_bytes(gzip.compress(body.encode()))
    news = load_djia_news(path)
    assert news.dates.to_list() == [dt.date(2010, 1, 4), dt.date(2010, 1, 5)]
    assert news.headlines == [["a up", "b down"], ["x", "y", "z"]]
    texts, owner = news.flat()
    assert texts == ["a up", "b down", "x", "y", "z"]
    assert owner.tolist() == [0, 0, 1, 1, 1]


def test_load_when_dates_repeat_then_data_error_names_row(tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    path.write_text(HEADER + "2010-01-04,1,a,b,c\n2010-01-04,1,a,b,c\n")
    with pytest.raises(DataError, match=r"row 3, field 'Date': dates not strictly increasing"):
        load_djia_news(path)


def test_load_when_bad_date_then_data_error(tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    path.write_text(HEADER + "04/01/2010,1,a,b,c\n")
    with pytest.raises(DataError, match=r"row 2, field 'Date': unparsable date"):
        load_djia_news(path)


def test_daily_features_when_scored_then_means_and_shares_per_day() -> None:
    news = NewsDays([dt.date(2010, 1, 4), dt.date(2010, 1, 5)], [["a", "b"], ["c"]])
    scores = [
        SentimentScore("positive", 0.8),
        SentimentScore("negative", -0.4),
        SentimentScore("neutral", 0.0),
    ]
    f = daily_sentiment_features(news, scores, "lm")
    assert f["lm_mean"].to_list() == pytest.approx([0.2, 0.0])
    assert f["lm_pos"].to_list() == [0.5, 0.0]
    assert f["lm_neg"].to_list() == [0.5, 0.0]


def test_daily_features_when_score_count_wrong_then_config_error() -> None:
    news = NewsDays([dt.date(2010, 1, 4)], [["a", "b"]])
    with pytest.raises(ConfigError, match="one score per headline"):
        daily_sentiment_features(news, [SentimentScore("neutral", 0.0)], "x")


def _prices(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * np.exp(rng.normal(0, 0.005, n))
    return pl.DataFrame(
        {
            "date": pl.date_range(
                dt.date(2010, 1, 1), dt.date(2010, 1, 1) + dt.timedelta(n - 1), eager=True
            ),
            "open": open_,
            "high": np.maximum(open_, close) * 1.01,
            "low": np.minimum(open_, close) * 0.99,
            "close": close,
        }
    )


def test_price_features_when_future_prices_change_then_past_features_unchanged() -> None:
    p = _prices(60, seed=0)
    changed = p.with_columns(
        pl.when(pl.int_range(pl.len()) >= 40).then(pl.col(c) * 1.5).otherwise(pl.col(c)).alias(c)
        for c in ("open", "high", "low", "close")
    )
    a, b = price_features(p), price_features(changed)
    cols = ["ret_1", "ret_5", "ret_20", "vol_20", "range_1"]
    assert a.slice(0, 40).select(cols).equals(b.slice(0, 40).select(cols))
    # the target of day 39 is about day 40, so it may change; day 38's may not
    assert a["up_next"][38] == b["up_next"][38]


def test_price_features_when_targets_then_next_day_direction() -> None:
    p = _prices(30, seed=1)
    f = price_features(p)
    close, open_ = p["close"].to_numpy(), p["open"].to_numpy()
    assert f["up_next"][:-1].to_list() == (close[1:] >= close[:-1]).astype(int).tolist()
    assert f["up_next_oc"][:-1].to_list() == (close[1:] >= open_[1:]).astype(int).tolist()
    assert f["up_next"][-1] is None


def test_join_when_news_missing_a_day_then_day_dropped() -> None:
    f = price_features(_prices(30, seed=2))
    news = pl.DataFrame({"date": f["date"][21:25], "s": [0.1, 0.2, 0.3, 0.4]})
    j = join_next_day(f, news)
    assert j["date"].to_list() == f["date"][21:25].to_list()


def _logit(x: np.ndarray, y: np.ndarray, x_new: np.ndarray) -> np.ndarray:
    # a tiny fit: sign of the correlation of the one feature with y
    c = np.corrcoef(x[:, 0], y)[0, 1] if y.min() != y.max() else 0.0
    return 1 / (1 + np.exp(-np.sign(c) * x_new[:, 0]))


def test_walk_forward_when_future_labels_change_then_past_predictions_unchanged() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 1))
    y = (x[:, 0] > 0).astype(int)
    a = walk_forward_proba(x, y, _logit, first_train=40, step=10)
    y2 = y.copy()
    y2[70:] = 1 - y2[70:]
    b = walk_forward_proba(x, y2, _logit, first_train=40, step=10)
    assert np.all(np.isnan(a[:40]))
    np.testing.assert_array_equal(a[40:70], b[40:70])


def test_walk_forward_when_rows_shuffled_against_labels_then_no_skill() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 1))
    y = (x[:, 0] > 0).astype(int)
    good = walk_forward_proba(x, y, _logit, first_train=100, step=50)
    bad = walk_forward_proba(rng.permutation(x), y, _logit, first_train=100, step=50)
    acc = lambda p: np.mean((p[100:] >= 0.5) == (y[100:] == 1))  # noqa: E731
    assert acc(good) > 0.95
    assert abs(acc(bad) - 0.5) < 0.15


def test_walk_forward_when_first_train_out_of_range_then_config_error() -> None:
    with pytest.raises(ConfigError, match="first_train must be in"):
        walk_forward_proba(np.zeros((5, 1)), np.zeros(5, dtype=int), _logit, first_train=5, step=1)


def _acc(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p >= 0.5) == (y == 1)))


def test_bootstrap_when_same_predictions_then_zero_interval() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = rng.random(200)
    assert paired_block_bootstrap(y, p, p, _acc, n_boot=50, rng=rng) == (0.0, 0.0, 0.0)


def test_bootstrap_when_one_model_better_then_interval_excludes_zero() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    good = np.where(rng.random(500) < 0.8, y, 1 - y).astype(float)
    coin = rng.random(500)
    d, lo, hi = paired_block_bootstrap(y, good, coin, _acc, n_boot=300, block=10, rng=rng)
    assert lo <= d <= hi
    assert lo > 0.15
    assert d == pytest.approx(_acc(y, good) - _acc(y, coin))


def test_bootstrap_when_block_too_long_then_config_error() -> None:
    y = np.zeros(10, dtype=int)
    with pytest.raises(ConfigError, match="block must be in"):
        paired_block_bootstrap(y, y * 1.0, y * 1.0, _acc, block=11, rng=np.random.default_rng(0))
