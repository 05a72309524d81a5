"""The scorer protocol and helpers."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.sentiment import SentimentScorer, from_probabilities, label_from_score, make_scorer


def test_from_probabilities_when_rows_given_then_argmax_label_and_pos_minus_neg() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.6, 0.2]])
    out = from_probabilities(p)
    assert [s.label for s in out] == ["negative", "positive", "neutral"]
    assert [s.score for s in out] == pytest.approx([-0.6, 0.5, 0.0])


def test_from_probabilities_when_wrong_width_then_config_error() -> None:
    with pytest.raises(ConfigError, match=r"shape \(n, 3\)"):
        from_probabilities(np.ones((2, 2)))


def test_label_from_score_when_at_threshold_then_neutral() -> None:
    assert label_from_score(0.1, 0.1) == "neutral"
    assert label_from_score(0.11, 0.1) == "positive"
    assert label_from_score(-0.11, 0.1) == "negative"


@pytest.mark.parametrize("name", ["lm", "vader"])
def test_make_scorer_when_known_name_then_follows_protocol(name: str) -> None:
    scorer = make_scorer(name)
    assert isinstance(scorer, SentimentScorer)
    assert scorer.name == name


def test_make_scorer_when_unknown_name_then_config_error() -> None:
    with pytest.raises(ConfigError, match="scorer must be one of minilm, lm, vader"):
        make_scorer("finbert")
