"""One protocol for every sentiment scorer, and helpers shared by them.

A scorer maps texts to :class:`SentimentScore` values: a label in
``negative``/``neutral``/``positive`` and a score in ``[-1, 1]`` (negative to
positive tone). :func:`make_scorer` builds one by name: ``"minilm"`` (embedding and
trained head), ``"lm"`` (Loughran-McDonald word lists) or ``"vader"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError

__all__ = [
    "LABELS",
    "SCORERS",
    "SentimentScore",
    "SentimentScorer",
    "from_probabilities",
    "label_from_score",
    "make_scorer",
]

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
"""Sentiment labels, in the column order of every probability array."""

SCORERS: tuple[str, ...] = ("minilm", "lm", "vader")
"""Names accepted by :func:`make_scorer`."""


class SentimentScore(NamedTuple):
    """The sentiment of one text."""

    label: str
    """``negative``, ``neutral`` or ``positive``."""
    score: float
    """Tone in ``[-1, 1]``: below zero negative, above zero positive."""


@runtime_checkable
class SentimentScorer(Protocol):
    """Anything that scores texts."""

    name: str

    def score(self, texts: Sequence[str]) -> list[SentimentScore]:
        """One :class:`SentimentScore` per text, in order."""
        ...


def label_from_score(score: float, threshold: float) -> str:
    """``positive`` above ``threshold``, ``negative`` below ``-threshold``, else neutral."""
    if score > threshold:
        return "positive"
    if score < -threshold:
        return "negative"
    return "neutral"


def from_probabilities(proba: NDArray[np.floating]) -> list[SentimentScore]:
    """Scores from class probabilities (columns in :data:`LABELS` order).

    The label is the most probable class; the score is ``p(positive) - p(negative)``.
    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != len(LABELS):
        raise ConfigError(f"probabilities must have shape (n, 3), actually: {p.shape}")
    best = np.argmax(p, axis=1)
    tone = np.clip(p[:, 2] - p[:, 0], -1.0, 1.0)
    # "+ 0.0" turns -0.0 into 0.0
    return [SentimentScore(LABELS[int(k)], float(s) + 0.0) for k, s in zip(best, tone, strict=True)]


def make_scorer(name: str, **options: Any) -> SentimentScorer:
    """Build a scorer by name.

    Parameters
    ----------
    name
        One of :data:`SCORERS`.
    **options
        Passed to the scorer's constructor (e.g. ``threshold`` for the lexicons,
        ``encoder`` or ``device`` for MiniLM).

    Raises
    ------
    ConfigError
        Unknown name.
    """
    if name == "lm":
        from tradelearn.sentiment.lexicon import LMScorer

        return LMScorer(**options)
    if name == "vader":
        from tradelearn.sentiment.vader import VaderScorer

        return VaderScorer(**options)
    if name == "minilm":
        from tradelearn.sentiment.minilm import MiniLMScorer

        return MiniLMScorer(**options)
    raise ConfigError(f"scorer must be one of {', '.join(SCORERS)}, actually: {name!r}")
