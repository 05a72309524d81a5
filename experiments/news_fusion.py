"""Do daily news-sentiment features help a next-day DJIA direction model?

Data: ``news_sentiment/djia_reddit_news/`` (Combined_News_DJIA.csv.gz: 25 r/worldnews
headlines per trading day 2008-08-08..2016-07-01; DJIA_table.csv: the index's daily
OHLC). Each headline is scored by each scorer; the day's features are the mean score
and the shares of positive and negative headlines (``tradelearn.sentiment.fusion``).
Features of day ``t`` (headlines of ``t``, prices up to the close of ``t``) predict
the direction of day ``t+1`` (see the timing note in ``fusion``); two targets:
close-to-close ``up_next`` and open-to-close ``up_next_oc``.

Model: standardised logistic regression, refitted every ``step`` days on an
expanding window starting with ``first_train`` days (walk-forward). Two feature sets
on the same days: price only, and price plus sentiment. The difference (with minus
without) of accuracy and AUC gets a paired circular block-bootstrap 95% interval.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python experiments/news_fusion.py [--scorers lm,vader,minilm]
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from tradelearn.config import data_dir
from tradelearn.data.daily import load_daily
from tradelearn.experiment_args import parse_dataclass_args
from tradelearn.sentiment.fusion import (
    daily_sentiment_features,
    join_next_day,
    load_djia_news,
    paired_block_bootstrap,
    price_features,
    walk_forward_proba,
)
from tradelearn.sentiment.minilm import MiniLMScorer, cached_embed
from tradelearn.sentiment.scorer import SentimentScore, make_scorer

ROOT = Path(__file__).resolve().parents[1]
NEWS = "news_sentiment/djia_reddit_news/Combined_News_DJIA.csv.gz"
PRICES = "news_sentiment/djia_reddit_news/DJIA_table.csv"
PRICE_COLS = ["ret_1", "ret_5", "ret_20", "vol_20", "range_1"]


@dataclass
class Args:
    """Command-line arguments (``--name value``)."""

    scorers: str = "lm,vader,minilm"
    """Comma-separated scorers whose features are added (each alone and all together)."""
    first_train: int = 500
    """Days in the first training window."""
    step: int = 21
    """Days between refits (and predicted per fit)."""
    C: float = 1.0
    """Inverse L2 strength of the logistic regression."""
    n_boot: int = 2000
    """Bootstrap resamples."""
    block: int = 20
    """Bootstrap block length in days."""
    seed: int = 0
    """Bootstrap seed."""
    cache_dir: str = str(ROOT / ".tradelearn" / "cache" / "embeddings")
    """Embedding cache for the MiniLM scorer (outside git)."""


def parse_args(argv: list[str] | None = None) -> Args:
    """Parse ``--field value`` pairs into :class:`Args`."""
    return parse_dataclass_args(Args, __doc__.splitlines()[0], argv, help_from_docs=False)


def score_all(name: str, texts: list[str], cache_dir: str) -> list[SentimentScore]:
    """Score headlines; MiniLM embeddings go through the on-disk cache."""
    if name == "minilm":
        scorer = MiniLMScorer(encoder=None)
        return scorer.score_embeddings(cached_embed(texts, cache_dir))
    return make_scorer(name).score(texts)


def logit_model(C: float):  # type: ignore[no-untyped-def]
    """A fit-and-predict function: standardise on the training rows, then LR."""

    def fit_predict(
        x: NDArray[np.float64], y: NDArray[np.int64], x_new: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        mu = x.mean(axis=0)
        sd = x.std(axis=0) + 1e-12
        model = LogisticRegression(C=C, max_iter=1000)
        model.fit((x - mu) / sd, y)
        return np.asarray(model.predict_proba((x_new - mu) / sd)[:, 1], dtype=np.float64)

    return fit_predict


def accuracy(y: NDArray[np.int64], p: NDArray[np.float64]) -> float:
    """Share of days whose direction the 0.5 threshold gets right."""
    return float(np.mean((p >= 0.5) == (y == 1)))


def auc(y: NDArray[np.int64], p: NDArray[np.float64]) -> float:
    """ROC AUC (0.5 when one class is absent from a resample)."""
    if y.min() == y.max():
        return 0.5
    return float(roc_auc_score(y, p))


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print one JSON object."""
    args = parse_args(argv)
    base = data_dir(required=True)
    assert base is not None
    news = load_djia_news(base / NEWS)
    prices = load_daily(base / PRICES, symbol="DJIA").frame
    texts, _ = news.flat()
    names = [s.strip() for s in args.scorers.split(",") if s.strip()]
    feats = price_features(prices)
    news_cols: dict[str, list[str]] = {}
    for name in names:
        t0 = time.time()
        daily = daily_sentiment_features(news, score_all(name, texts, args.cache_dir), name)
        print(
            f"scored {len(texts)} headlines with {name} in {time.time() - t0:.0f} s",
            file=sys.stderr,
        )
        feats = feats.join(daily, on="date", how="left")
        news_cols[name] = [c for c in daily.columns if c != "date"]
    frame = join_next_day(feats, pl.DataFrame({"date": news.dates}))
    model = logit_model(args.C)
    sets = {"price": PRICE_COLS}
    for name, cols in news_cols.items():
        sets[f"price+{name}"] = PRICE_COLS + cols
    if len(news_cols) > 1:
        sets["price+" + "+".join(news_cols)] = PRICE_COLS + [
            c for v in news_cols.values() for c in v
        ]

    result: dict[str, object] = {
        "days": frame.height,
        "first_day": str(frame["date"][0]),
        "last_day": str(frame["date"][-1]),
        "first_train": args.first_train,
        "step": args.step,
    }
    for target in ("up_next", "up_next_oc"):
        y = frame[target].to_numpy().astype(np.int64)
        preds = {
            k: walk_forward_proba(
                frame.select(cols).to_numpy(),
                y,
                model,
                first_train=args.first_train,
                step=args.step,
            )
            for k, cols in sets.items()
        }
        test = slice(args.first_train, None)
        yt = y[test]
        rows: dict[str, object] = {"test_days": len(yt), "base_rate_up": round(float(yt.mean()), 4)}
        base_p = preds["price"][test]
        for k, p in preds.items():
            entry: dict[str, object] = {
                "accuracy": round(accuracy(yt, p[test]), 4),
                "auc": round(auc(yt, p[test]), 4),
            }
            if k != "price":
                for mname, metric in (("accuracy", accuracy), ("auc", auc)):
                    rng = np.random.default_rng(args.seed)
                    d, lo, hi = paired_block_bootstrap(
                        yt, p[test], base_p, metric, n_boot=args.n_boot, block=args.block, rng=rng
                    )
                    entry[f"{mname}_diff_vs_price"] = [round(d, 4), round(lo, 4), round(hi, 4)]
            rows[k] = entry
        result[target] = rows
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
