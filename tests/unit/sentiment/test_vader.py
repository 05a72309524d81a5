"""VADER scorer: compound score and label thresholds."""

from __future__ import annotations

import pytest

from tradelearn.errors import ConfigError
from tradelearn.sentiment.vader import VaderScorer


def test_score_when_clear_texts_then_signs_and_labels_match() -> None:
    out = VaderScorer().score(["A great, excellent quarter!", "A terrible, awful loss.", "Monday."])
    assert [s.label for s in out] == ["positive", "negative", "neutral"]
    assert out[0].score > 0.5 and out[1].score < -0.5 and out[2].score == 0.0
    assert all(-1.0 <= s.score <= 1.0 for s in out)


def test_score_when_threshold_above_compound_then_neutral() -> None:
    text = "an okay result"
    c = VaderScorer().score([text])[0].score
    assert 0 < c < 0.9
    assert VaderScorer(threshold=0.9).score([text])[0].label == "neutral"


def test_init_when_threshold_negative_then_config_error() -> None:
    with pytest.raises(ConfigError, match="threshold must be in"):
        VaderScorer(threshold=-0.5)
