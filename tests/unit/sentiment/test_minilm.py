"""MiniLM scorer plumbing with a stand-in encoder (the real model runs in integration tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tradelearn.sentiment.head import SentimentHead
from tradelearn.sentiment.minilm import EMBEDDING_DIM, MiniLMScorer, cached_embed, clean_text


class CountingEncoder:
    """Embeds a text as a unit vector that says whether it contains 'up' or 'down'."""

    def __init__(self) -> None:
        self.calls = 0
        self.seen: list[str] = []

    def encode(self, texts: list[str], **_: Any) -> np.ndarray:
        self.calls += 1
        self.seen += texts
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, 0 if "up" in t else 1 if "down" in t else 2] = 1.0
        return out


def _head() -> SentimentHead:
    w = np.zeros((EMBEDDING_DIM, 3))
    w[0, 2] = w[1, 0] = w[2, 1] = 5.0  # dim 0 -> positive, 1 -> negative, 2 -> neutral
    return SentimentHead(((w, np.zeros(3)),), np.zeros(EMBEDDING_DIM), np.ones(EMBEDDING_DIM))


def test_clean_text_when_links_and_spaces_then_removed() -> None:
    assert clean_text("$AAPL up  https://t.co/x1 \n now www.a.com") == "$AAPL up now"


def test_score_when_encoder_given_then_labels_follow_head() -> None:
    enc = CountingEncoder()
    scorer = MiniLMScorer(head=_head(), encoder=enc)  # type: ignore[arg-type]
    out = scorer.score(["prices up https://t.co/abc", "prices down", "flat"])
    assert [s.label for s in out] == ["positive", "negative", "neutral"]
    assert out[0].score > 0.9 and out[1].score < -0.9
    assert enc.seen[0] == "prices up"  # cleaned before embedding


def test_cached_embed_when_called_twice_then_encoder_runs_once(tmp_path: Path) -> None:
    enc = CountingEncoder()
    a = cached_embed(["up", "down"], tmp_path, enc)  # type: ignore[arg-type]
    b = cached_embed(["up", "down"], tmp_path, enc)  # type: ignore[arg-type]
    c = cached_embed(["down", "up"], tmp_path, enc)  # type: ignore[arg-type]
    assert enc.calls == 2
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, a[::-1])
