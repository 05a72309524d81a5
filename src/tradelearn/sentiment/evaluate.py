"""Evaluate sentiment scorers on the Financial PhraseBank (evaluation only).

The Financial PhraseBank (Malo et al., 2014) is licensed CC BY-NC-SA 3.0
(non-commercial): tradelearn reads it from the data folder to *evaluate* scorers and
never trains or tunes on it, nor ships it. Levels: sentences on which at least 50%,
66%, 75% or all annotators agreed (``Sentences_{50,66,75,All}Agree.txt``). Rows without
a label (the shared AllAgree copy has one stray line ``1``) are dropped and counted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tradelearn.data.text import TextCorpus, load_text
from tradelearn.sentiment.head import load_head
from tradelearn.sentiment.minilm import MiniLMScorer, cached_embed
from tradelearn.sentiment.scorer import LABELS, SentimentScore, make_scorer

__all__ = ["LEVELS", "PHRASEBANK", "evaluate", "f1_per_class", "load_levels"]

LEVELS: tuple[str, ...] = ("50Agree", "66Agree", "75Agree", "AllAgree")
"""PhraseBank agreement levels."""
PHRASEBANK = "news_sentiment/financial_phrasebank_v1.0/Sentences_{level}.txt"
"""Path of a level's file under the data folder."""


def f1_per_class(truth: list[str], pred: list[str]) -> NDArray[np.float64]:
    """F1 of each label of :data:`LABELS` (0 for a label never true nor predicted)."""
    t = np.asarray(truth)
    p = np.asarray(pred)
    out = np.zeros(len(LABELS))
    for k, label in enumerate(LABELS):
        tp = np.sum((t == label) & (p == label))
        denom = np.sum(t == label) + np.sum(p == label)
        out[k] = 0.0 if denom == 0 else 2.0 * tp / denom
    return out


def load_levels(base: Path) -> dict[str, TextCorpus]:
    """The four PhraseBank files under the data folder ``base`` (bad rows dropped)."""
    return {
        level: load_text(base / PHRASEBANK.format(level=level), fmt="phrasebank", repair=True)
        for level in LEVELS
    }


def evaluate(
    corpora: dict[str, TextCorpus],
    scorers: list[str],
    cache_dir: str | Path | None = None,
    head: str | Path | None = None,
) -> dict[str, dict[str, object]]:
    """Macro-F1, per-class F1 and accuracy per scorer and level.

    Parameters
    ----------
    corpora
        Level name to corpus (e.g. from :func:`load_levels`).
    scorers
        Scorer names (``lm``, ``vader``, ``minilm``).
    cache_dir
        Embedding cache folder for MiniLM (``None``: no cache).
    head
        A head file for MiniLM (``None``: the shipped head).

    Each distinct sentence is scored once; the levels share the scores.
    """
    unique = sorted({s for c in corpora.values() for s in c.sentences})
    out: dict[str, dict[str, object]] = {}
    for name in scorers:
        t0 = time.time()
        scores: list[SentimentScore]
        if name == "minilm":
            scorer = MiniLMScorer(head=load_head(head) if head else None)
            if cache_dir is None:
                scores = scorer.score(unique)
            else:
                # the encoder loads only on a cache miss
                scores = scorer.score_embeddings(cached_embed(unique, cache_dir))
        else:
            scores = make_scorer(name).score(unique)
        label_of = {s: sc.label for s, sc in zip(unique, scores, strict=True)}
        print(f"{name}: {len(unique)} sentences in {time.time() - t0:.0f} s", file=sys.stderr)
        per_level: dict[str, object] = {}
        for level, corpus in corpora.items():
            pred = [label_of[s] for s in corpus.sentences]
            per_class = f1_per_class(corpus.labels, pred)
            per_level[level] = {
                "macro_f1": round(float(np.mean(per_class)), 4),
                "f1_per_class": dict(zip(LABELS, np.round(per_class, 4).tolist(), strict=True)),
                "accuracy": round(float(np.mean(np.array(pred) == np.array(corpus.labels))), 4),
            }
        out[name] = per_level
    return out
