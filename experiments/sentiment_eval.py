"""Macro-F1 of each sentiment scorer on the Financial PhraseBank, per agreement level.

The PhraseBank (Malo et al., 2014; CC BY-NC-SA 3.0, non-commercial) is used here for
evaluation only: no scorer was trained or tuned on it. Levels: sentences on which at
least 50%, 66%, 75% or all annotators agreed (``Sentences_{50,66,75,All}Agree.txt``).
The AllAgree file has one stray line (``1``, line 38) with no label; it is dropped
(``repair=True``) and the count of dropped rows is printed.

Scorers: ``lm`` (Loughran-McDonald net tone), ``vader`` (compound score) and
``minilm`` (the head shipped in the package, trained on the twitter set). MiniLM
embeddings go through an on-disk cache so a second run takes seconds.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python experiments/sentiment_eval.py [--scorers lm,vader,minilm]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tradelearn.config import data_dir
from tradelearn.experiment_args import parse_dataclass_args
from tradelearn.sentiment.evaluate import evaluate, load_levels

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    """Command-line arguments (``--name value``)."""

    scorers: str = "lm,vader,minilm"
    """Comma-separated scorers to evaluate."""
    cache_dir: str = str(ROOT / ".tradelearn" / "cache" / "embeddings")
    """Embedding cache (outside git)."""
    head: str = ""
    """A head .npz to evaluate instead of the shipped one."""


def parse_args(argv: list[str] | None = None) -> Args:
    """Parse ``--field value`` pairs into :class:`Args`."""
    return parse_dataclass_args(Args, __doc__.splitlines()[0], argv, help_from_docs=False)


def main(argv: list[str] | None = None) -> int:
    """Evaluate and print one JSON object."""
    args = parse_args(argv)
    base = data_dir(required=True)
    assert base is not None
    corpora = load_levels(base)
    names = [s.strip() for s in args.scorers.split(",") if s.strip()]
    result: dict[str, object] = {
        "n_sentences": {k: len(c) for k, c in corpora.items()},
        "dropped_rows": {k: len(c.report.dropped) for k, c in corpora.items()},
        "scorers": evaluate(corpora, names, args.cache_dir, args.head),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
