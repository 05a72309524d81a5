"""VADER sentiment (Hutto and Gilbert, 2014), a general-purpose social-media lexicon.

Uses the ``vaderSentiment`` package (MIT licence). The score is VADER's compound
score in ``[-1, 1]``; the label follows the authors' convention: positive at
``compound >= threshold``, negative at ``compound <= -threshold`` (threshold 0.05).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tradelearn.errors import ConfigError
from tradelearn.sentiment.scorer import SentimentScore

__all__ = ["VaderScorer"]


class VaderScorer:
    """VADER compound-score scorer.

    Parameters
    ----------
    threshold
        Compound score at or above which a text is positive (at or below minus it:
        negative); in ``[0, 1)``.
    """

    name = "vader"

    def __init__(self, threshold: float = 0.05) -> None:
        if not 0.0 <= threshold < 1.0:
            raise ConfigError(f"threshold must be in [0, 1), actually: {threshold}")
        self.threshold = threshold
        self._analyzer: Any = None

    def _get(self) -> Any:
        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._analyzer = SentimentIntensityAnalyzer()
        return self._analyzer

    def score(self, texts: Sequence[str]) -> list[SentimentScore]:
        """Label and compound score of each text."""
        analyzer = self._get()
        out = []
        for text in texts:
            c = float(analyzer.polarity_scores(text)["compound"])
            c = min(1.0, max(-1.0, c))
            if c >= self.threshold and c > 0:
                label = "positive"
            elif c <= -self.threshold and c < 0:
                label = "negative"
            else:
                label = "neutral"
            out.append(SentimentScore(label, c))
        return out
