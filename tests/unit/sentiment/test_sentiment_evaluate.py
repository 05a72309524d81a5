"""PhraseBank evaluation helpers on a tiny made-up corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradelearn.data.text import load_text
from tradelearn.sentiment.evaluate import evaluate, f1_per_class


def test_f1_per_class_when_known_confusion_then_known_values() -> None:
    truth = ["negative", "negative", "neutral", "positive"]
    pred = ["negative", "neutral", "neutral", "neutral"]
    # negative: tp 1, 2 true, 1 pred -> 2/3; neutral: tp 1, 1 true, 3 pred -> 1/2; positive 0
    np.testing.assert_allclose(f1_per_class(truth, pred), [2 / 3, 0.5, 0.0])


def test_evaluate_when_lexicon_on_small_corpus_then_macro_f1_per_level(tmp_path: Path) -> None:
    path = tmp_path / "Sentences_AllAgree.txt"
    path.write_text(
        "The company achieved a profitable year .@positive\n"
        "The unit reported a heavy loss .@negative\n"
        "The meeting is on Monday .@neutral\n"
    )
    corpora = {"AllAgree": load_text(path)}
    result = evaluate(corpora, ["lm"])
    level = result["lm"]["AllAgree"]
    assert isinstance(level, dict)
    assert level["macro_f1"] == pytest.approx(1.0)
    assert level["accuracy"] == pytest.approx(1.0)
