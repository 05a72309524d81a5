"""Load labelled financial-sentiment text corpora.

Formats (``fmt``):

``"phrasebank"``
    Financial PhraseBank ``Sentences_*.txt``: one ``sentence@label`` per line, label
    in ``positive``/``neutral``/``negative``; split at the *last* ``@``. Blank lines
    carry no record and are skipped. Rows are line numbers.
``"twitter"``
    Twitter financial news ``sent_*.csv``: columns ``text,label`` with 0 = Bearish
    (negative), 1 = Bullish (positive), 2 = Neutral (neutral).
``"csv"``
    Any CSV with a ``sentence`` or ``text`` column and a ``label`` column holding
    ``negative``/``neutral``/``positive`` (any case).

With ``fmt=None`` the format follows from the file: ``.txt`` is PhraseBank; a CSV
whose labels are all digits is the twitter set, other CSVs are generic. For CSV
files rows are record numbers with the header as row 1.

Bytes are decoded as UTF-8 and, where that fails, as ISO-8859-1 (the PhraseBank's
encoding; every byte string decodes in it, and ISO-8859-1 text with accents is
practically never valid UTF-8, so a UTF-8 re-encoded copy also reads correctly).
Files may be gzipped.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

from tradelearn.data.validation import RepairReport, read_bytes
from tradelearn.errors import ConfigError, DataError

__all__ = ["LABELS", "TextCorpus", "TextFormat", "load_text"]

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
"""The normalised sentiment labels."""

TextFormat = Literal["phrasebank", "twitter", "csv"]
_FORMATS: tuple[str, ...] = ("phrasebank", "twitter", "csv")
_TWITTER_LABELS = {"0": "negative", "1": "positive", "2": "neutral"}
_SEPARATOR = "@"


@dataclass(frozen=True, eq=False)
class TextCorpus:
    """Sentences with normalised sentiment labels.

    Attributes
    ----------
    sentences
        The texts, stripped of surrounding whitespace, in file order.
    labels
        One of :data:`LABELS` per sentence.
    path
        The source file.
    fmt
        The format it was read as.
    report
        Rows dropped under ``repair=True`` (empty otherwise).
    """

    sentences: list[str]
    labels: list[str]
    path: Path
    fmt: str
    report: RepairReport = field(default_factory=RepairReport)

    def __len__(self) -> int:
        return len(self.sentences)

    def label_counts(self) -> dict[str, int]:
        """Number of sentences per label (every label of :data:`LABELS` present)."""
        counts = dict.fromkeys(LABELS, 0)
        for label in self.labels:
            counts[label] += 1
        return counts

    def to_arrow(self) -> pa.Table:
        """The corpus as an Arrow table with string columns ``sentence`` and ``label``."""
        return pa.table(
            {
                "sentence": pa.array(self.sentences, type=pa.string()),
                "label": pa.array(self.labels, type=pa.string()),
            }
        )


class _Parsed(NamedTuple):
    sentences: list[str]
    labels: list[str | None]
    rows: np.ndarray
    label_field: str
    sentence_field: str
    missing_separator: np.ndarray


def load_text(
    path: str | Path, *, fmt: TextFormat | None = None, repair: bool = False
) -> TextCorpus:
    """Load a labelled text corpus.

    Parameters
    ----------
    path
        The file (plain or gzip).
    fmt
        ``"phrasebank"``, ``"twitter"`` or ``"csv"``; ``None`` infers it (see the
        module documentation).
    repair
        When False (default) the first bad row raises :class:`DataError`; when True
        bad rows are dropped and listed in :attr:`TextCorpus.report`.

    Returns
    -------
    TextCorpus
        Sentences and labels normalised to :data:`LABELS`.

    Raises
    ------
    DataError
        The file is missing or corrupt, lacks a required column, or a row has no
        ``@`` separator, an unknown label or an empty sentence; the message names
        the file, row (line) and field.
    ConfigError
        ``fmt`` is not a known format, or cannot be inferred from the file name.
    """
    p = Path(path)
    if fmt is not None and fmt not in _FORMATS:
        raise ConfigError(f"fmt must be one of {', '.join(_FORMATS)}, actually: {fmt!r}")
    text = _decode(read_bytes(p))
    kind = fmt or _infer_format(p)
    if kind == "phrasebank":
        parsed = _parse_phrasebank(text)
        mapping = {label: label for label in LABELS}
        expected = "one of " + ", ".join(LABELS)
    else:
        frame = _read_csv(text, p)
        if fmt is None:
            kind = "twitter" if _digit_labels(frame) else "csv"
        parsed = _parse_csv(frame, p, twitter=kind == "twitter")
        if kind == "twitter":
            mapping = _TWITTER_LABELS
            expected = "0 (bearish), 1 (bullish) or 2 (neutral)"
        else:
            mapping = {label: label for label in LABELS}
            expected = "one of " + ", ".join(LABELS)
    return _validate(parsed, mapping, expected, p, kind, repair)


# --------------------------------------------------------------------------- parsing


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


def _infer_format(p: Path) -> str:
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    if last == ".txt":
        return "phrasebank"
    if last == ".csv":
        return "csv"  # twitter or generic, told apart by the labels
    raise ConfigError(
        f"cannot tell the text format of '{p}' from its name; "
        f"pass fmt as one of {', '.join(_FORMATS)}"
    )


def _parse_phrasebank(text: str) -> _Parsed:
    # Split on "\n" only: str.splitlines would also split at U+0085 and U+2028,
    # which ISO-8859-1 text can contain inside a sentence.
    lines = text.split("\n")
    numbered = [(i + 1, line.rstrip("\r")) for i, line in enumerate(lines) if line.strip()]
    parts = [line.rpartition(_SEPARATOR) for _, line in numbered]
    return _Parsed(
        sentences=[(s if sep else label).strip() for s, sep, label in parts],
        labels=[label.strip().lower() if sep else None for _, sep, label in parts],
        rows=np.array([n for n, _ in numbered], dtype=np.int64),
        label_field="label",
        sentence_field="sentence",
        missing_separator=np.array([not sep for _, sep, _ in parts], dtype=bool),
    )


def _read_csv(text: str, p: Path) -> pl.DataFrame:
    if not text.strip():
        raise DataError("file is empty", path=p, expected="a CSV header and rows", got="0 rows")
    try:
        return pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"not a readable CSV file ({exc})", path=p) from exc


def _column(frame: pl.DataFrame, names: tuple[str, ...], p: Path) -> str:
    """The frame's column matching one of ``names`` (case-insensitively)."""
    by_lower = {c.strip().lower(): c for c in frame.columns}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    raise DataError(
        f"missing column '{names[0]}'",
        path=p,
        row=1,
        field=names[0],
        expected="a column named " + " or ".join(f"'{n}'" for n in names),
        got=frame.columns,
    )


def _digit_labels(frame: pl.DataFrame) -> bool:
    by_lower = {c.strip().lower(): c for c in frame.columns}
    if "text" not in by_lower or "label" not in by_lower:
        return False
    labels = frame.get_column(by_lower["label"]).drop_nulls().str.strip_chars()
    return labels.len() > 0 and bool(labels.str.contains(r"^\d+$").all())


def _parse_csv(frame: pl.DataFrame, p: Path, *, twitter: bool) -> _Parsed:
    text_col = _column(frame, ("text",) if twitter else ("sentence", "text"), p)
    label_col = _column(frame, ("label",), p)
    sentences = frame.get_column(text_col).fill_null("").str.strip_chars()
    labels = frame.get_column(label_col).str.strip_chars()
    if not twitter:
        labels = labels.str.to_lowercase()
    return _Parsed(
        sentences=sentences.to_list(),
        labels=labels.to_list(),
        rows=np.arange(2, frame.height + 2, dtype=np.int64),
        label_field=label_col,
        sentence_field=text_col,
        missing_separator=np.zeros(frame.height, dtype=bool),
    )


# --------------------------------------------------------------------------- checking


def _validate(
    parsed: _Parsed,
    mapping: dict[str, str],
    expected_label: str,
    p: Path,
    kind: str,
    repair: bool,
) -> TextCorpus:
    labels = pl.Series("label", parsed.labels, dtype=pl.String)
    sentences = pl.Series("sentence", parsed.sentences, dtype=pl.String)
    no_sep = parsed.missing_separator
    unknown = ~labels.is_in(list(mapping)).fill_null(False).to_numpy() & ~no_sep
    empty = (sentences == "").to_numpy() & ~no_sep & ~unknown
    report = RepairReport()
    rules: list[tuple[np.ndarray, str, str, str, Callable[[int], object]]] = [
        (
            no_sep,
            parsed.label_field,
            f"missing '{_SEPARATOR}' separator before the label",
            f"'sentence{_SEPARATOR}label'",
            lambda i: _excerpt(parsed.sentences[i]),
        ),
        (
            unknown,
            parsed.label_field,
            "unknown label",
            expected_label,
            lambda i: parsed.labels[i] if parsed.labels[i] is not None else "",
        ),
        (
            empty,
            parsed.sentence_field,
            "empty sentence",
            "a non-empty text",
            lambda i: parsed.sentences[i],
        ),
    ]
    bad = no_sep | unknown | empty
    if bad.any():
        if not repair:
            i = int(np.flatnonzero(bad)[0])
            mask, name, reason, expected, got = next(r for r in rules if r[0][i])
            raise DataError(
                reason,
                path=p,
                row=int(parsed.rows[i]),
                field=name,
                expected=expected,
                got=got(i),
            )
        for mask, name, reason, expected, got in rules:
            for j in np.flatnonzero(mask):
                report.add(
                    p,
                    int(parsed.rows[j]),
                    name,
                    f"{reason} (expected {expected}, got {got(int(j))!r})",
                )
    keep = pl.Series(~bad)
    return TextCorpus(
        sentences=sentences.filter(keep).to_list(),
        labels=labels.filter(keep).replace_strict(mapping, return_dtype=pl.String).to_list(),
        path=p,
        fmt=kind,
        report=report,
    )


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
