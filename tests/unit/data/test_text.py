"""Tests of the labelled text-corpus loader (fixtures written into tmp_path)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from tradelearn.data.text import LABELS, load_text
from tradelearn.errors import ConfigError, DataError
from tradelearn.testing.realdata import real_path

PHRASES = [
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn .@positive",
    "The company is based in Helsinki .@neutral",
    "Net sales fell by 5 % .@negative",
]
TWEETS = "text,label\n$BYND - JPMorgan reels in expectations,0\n$AAPL beats,1\nMarkets open,2\n"


def write_lines(path: Path, lines: list[str], *, encoding: str = "iso-8859-1") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def real_file(relative: str) -> Path:
    return real_path(relative)


# --------------------------------------------------------------------------- loading


def test_load_text_reads_phrasebank_lines_as_sentence_and_label(tmp_path: Path) -> None:
    corpus = load_text(write_lines(tmp_path / "Sentences_AllAgree.txt", PHRASES))

    assert corpus.fmt == "phrasebank"
    assert corpus.sentences[0] == "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn ."
    assert corpus.labels == ["positive", "neutral", "negative"]
    assert corpus.label_counts() == {"negative": 1, "neutral": 1, "positive": 1}


def test_load_text_decodes_iso_8859_1_and_splits_at_the_last_at_sign(tmp_path: Path) -> None:
    lines = ["Seppälä 's sales rose ; mail info@seppala.fi .@positive"]

    corpus = load_text(write_lines(tmp_path / "s.txt", lines, encoding="iso-8859-1"))

    assert corpus.sentences == ["Seppälä 's sales rose ; mail info@seppala.fi ."]
    assert corpus.labels == ["positive"]


def test_load_text_reads_a_utf8_copy_of_the_phrasebank_alike(tmp_path: Path) -> None:
    lines = ["Seppälä 's sales rose .@positive"]

    corpus = load_text(write_lines(tmp_path / "s.txt", lines, encoding="utf-8"))

    assert corpus.sentences == ["Seppälä 's sales rose ."]


def test_load_text_skips_blank_lines_but_counts_them_in_line_numbers(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.txt", [PHRASES[0], "", "   ", "no separator here"])

    with pytest.raises(DataError, match=r"s\.txt, row 4, field 'label'"):
        load_text(path)


def test_load_text_maps_twitter_labels_0_1_2_to_negative_positive_neutral(tmp_path: Path) -> None:
    path = tmp_path / "sent_train.csv"
    path.write_text(TWEETS)

    corpus = load_text(path)

    assert corpus.fmt == "twitter"
    assert corpus.labels == ["negative", "positive", "neutral"]
    assert corpus.sentences[0] == "$BYND - JPMorgan reels in expectations"


def test_load_text_reads_a_generic_csv_with_sentence_and_text_labels(tmp_path: Path) -> None:
    path = tmp_path / "g.csv.gz"
    text = 'sentence,label\n"Profit up, a lot",Positive\nFlat quarter,neutral\n'
    path.write_bytes(gzip.compress(text.encode()))

    corpus = load_text(path)

    assert corpus.fmt == "csv"
    assert corpus.sentences == ["Profit up, a lot", "Flat quarter"]
    assert corpus.labels == ["positive", "neutral"]


def test_load_text_to_arrow_has_string_sentence_and_label(tmp_path: Path) -> None:
    table = load_text(write_lines(tmp_path / "s.txt", PHRASES)).to_arrow()

    assert table.schema == pa.schema([("sentence", pa.string()), ("label", pa.string())])
    assert table.column("label").to_pylist() == ["positive", "neutral", "negative"]
    assert set(table.column("label").to_pylist()) <= set(LABELS)


# --------------------------------------------------------------------------- errors


def test_load_text_when_phrasebank_line_has_no_separator_then_error_names_line_and_field(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "p.txt", [PHRASES[0], "1", PHRASES[1]])

    with pytest.raises(DataError) as info:
        load_text(path)

    assert (info.value.row, info.value.field) == (2, "label")
    assert "p.txt, row 2, field 'label': missing '@' separator" in str(info.value)
    assert "got '1'" in str(info.value)


def test_load_text_when_phrasebank_label_is_unknown_then_error_names_line_and_field(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "p.txt", [*PHRASES, "Shares jumped .@bullish"])

    with pytest.raises(DataError, match=r"p\.txt, row 4, field 'label': unknown label.*'bullish'"):
        load_text(path)


def test_load_text_when_phrasebank_sentence_is_empty_then_error_names_line_and_field(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "p.txt", [PHRASES[0], "  @neutral"])

    with pytest.raises(DataError, match=r"p\.txt, row 2, field 'sentence': empty sentence"):
        load_text(path)


def test_load_text_when_twitter_label_is_unknown_then_error_names_row_and_field(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sent_valid.csv"
    path.write_text(TWEETS + "Guidance cut,3\n")

    with pytest.raises(DataError, match=r"sent_valid\.csv, row 5, field 'label': unknown label"):
        load_text(path)


def test_load_text_when_csv_text_is_empty_then_error_names_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text('text,label\n"Profit up",positive\n"  ",negative\n')

    with pytest.raises(DataError, match=r"g\.csv, row 3, field 'text': empty sentence"):
        load_text(path)


def test_load_text_when_csv_lacks_a_text_column_then_error_lists_columns(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("headline,label\nProfit up,positive\n")

    with pytest.raises(DataError) as info:
        load_text(path)

    assert "g.csv, row 1, field 'sentence': missing column 'sentence'" in str(info.value)
    assert "['headline', 'label']" in str(info.value)


def test_load_text_when_format_cannot_be_told_then_config_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.json", PHRASES)

    with pytest.raises(ConfigError, match="pass fmt"):
        load_text(path)
    assert len(load_text(path, fmt="phrasebank")) == 3


def test_load_text_when_fmt_is_unknown_then_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fmt must be one of"):
        load_text(tmp_path / "s.txt", fmt="xml")  # type: ignore[arg-type]


def test_load_text_when_file_is_missing_then_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"gone\.txt: file not found"):
        load_text(tmp_path / "gone.txt")


# --------------------------------------------------------------------------- repair


def test_load_text_when_repairing_then_bad_lines_are_dropped_and_reported(tmp_path: Path) -> None:
    lines = [PHRASES[0], "1", "Up .@bullish", "@neutral", PHRASES[2]]

    corpus = load_text(write_lines(tmp_path / "p.txt", lines), repair=True)

    assert corpus.labels == ["positive", "negative"]
    assert [(b.row, b.field) for b in corpus.report.dropped] == [
        (2, "label"),
        (3, "label"),
        (4, "sentence"),
    ]


# --------------------------------------------------------------------------- real data

PHRASEBANK = "news_sentiment/financial_phrasebank_v1.0"


@pytest.mark.shared_data
def test_load_text_real_phrasebank_allagree_errors_on_the_stray_line_38() -> None:
    # This copy of Sentences_AllAgree.txt has 2,264 lines, but line 38 is a bare "1"
    # where the published corpus has a (neutral) sentence.
    with pytest.raises(DataError) as info:
        load_text(real_file(f"{PHRASEBANK}/Sentences_AllAgree.txt"))

    assert (info.value.row, info.value.field) == (38, "label")
    assert "Sentences_AllAgree.txt, row 38, field 'label': missing '@' separator" in str(info.value)


@pytest.mark.shared_data
def test_load_text_real_phrasebank_allagree_repair_keeps_2263_of_2264_lines() -> None:
    corpus = load_text(real_file(f"{PHRASEBANK}/Sentences_AllAgree.txt"), repair=True)

    assert len(corpus) == 2_263
    assert [(b.row, b.field) for b in corpus.report.dropped] == [(38, "label")]
    assert corpus.label_counts() == {"negative": 303, "neutral": 1_390, "positive": 570}


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("Sentences_50Agree.txt", 4_846),
        ("Sentences_66Agree.txt", 4_217),
        ("Sentences_75Agree.txt", 3_453),
    ],
)
def test_load_text_real_phrasebank_agreement_levels_load_every_line(name: str, count: int) -> None:
    corpus = load_text(real_file(f"{PHRASEBANK}/{name}"))

    assert len(corpus) == count
    assert len(corpus.report) == 0


@pytest.mark.shared_data
def test_load_text_real_twitter_train_has_9543_rows() -> None:
    path = real_file("news_sentiment/twitter_financial_news_sentiment/sent_train.csv")

    corpus = load_text(path)

    assert corpus.fmt == "twitter"
    assert len(corpus) == 9_543
    assert corpus.label_counts() == {"negative": 1_442, "neutral": 6_178, "positive": 1_923}
