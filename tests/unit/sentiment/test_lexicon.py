"""Loughran-McDonald scorer: word lists, negation and labels."""

from __future__ import annotations

import pytest

from tradelearn.errors import ConfigError
from tradelearn.sentiment.lexicon import LMScorer, lm_counts, lm_word_lists


def test_word_lists_when_loaded_then_hold_known_lm_words() -> None:
    pos, neg = lm_word_lists()
    assert {"achieve", "profitable", "improvement"} <= pos
    assert {"loss", "impairment", "litigation"} <= neg
    assert len(pos) > 300 and len(neg) > 2000
    assert not pos & {"rose", "increase"}  # LM leaves generic direction words out


def test_counts_when_plain_words_then_each_counts_once() -> None:
    c = lm_counts("The merger was profitable but brought a loss and litigation.")
    assert (c.positive, c.negative) == (1, 2)
    assert c.tone == pytest.approx(-1 / 3)


def test_counts_when_positive_word_negated_then_counts_negative() -> None:
    assert lm_counts("the plan was not profitable").positive == 0
    assert lm_counts("the plan was not profitable").negative == 1
    assert lm_counts("we didn't achieve the target").negative == 1


def test_counts_when_negation_beyond_three_words_then_no_flip() -> None:
    c = lm_counts("never did the board ever think it profitable")
    assert (c.positive, c.negative) == (1, 0)


def test_counts_when_negative_word_negated_then_dropped() -> None:
    c = lm_counts("the asset was not impaired")
    assert (c.positive, c.negative) == (0, 0)
    assert c.tone == 0.0


def test_scorer_when_scoring_then_labels_follow_net_tone() -> None:
    out = LMScorer().score(["A profitable year.", "Heavy losses.", "The meeting is on Monday."])
    assert [s.label for s in out] == ["positive", "negative", "neutral"]
    assert [s.score for s in out] == [1.0, -1.0, 0.0]


def test_scorer_when_threshold_high_then_mixed_text_neutral() -> None:
    text = "profitable, strong, but a loss"  # 2 positive, 1 negative: tone 1/3
    assert LMScorer(threshold=0.0).score([text])[0].label == "positive"
    assert LMScorer(threshold=0.5).score([text])[0].label == "neutral"


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_scorer_when_threshold_out_of_range_then_config_error(bad: float) -> None:
    with pytest.raises(ConfigError, match="threshold must be in"):
        LMScorer(threshold=bad)
