"""``tradelearn sentiment`` run as a user runs it: a separate process, a file, JSON out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tradelearn.testing.realdata import real_path

# a wide terminal: usage errors are drawn in a box that would wrap long temporary paths
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "COLUMNS": "400",
}
LABELS = {"negative", "neutral", "positive"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradelearn", "sentiment", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )


def run_json(*args: str) -> Any:
    proc = run(*args)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"--json must print one JSON value, got:\n{proc.stdout}"
    return json.loads(lines[0])


@pytest.fixture
def news_file(tmp_path: Path) -> Path:
    path = tmp_path / "news.txt"
    path.write_text(
        "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn a year earlier\n"
        "The company swung to a net loss and cut 500 jobs\n"
        "\n"
        "The annual general meeting will be held in Helsinki on Tuesday\n"
    )
    return path


def _check_rows(rows: Any, n: int) -> None:
    assert isinstance(rows, list) and len(rows) == n
    assert [r["line"] for r in rows] == list(range(1, n + 1))
    assert all(r["label"] in LABELS and -1.0 <= r["score"] <= 1.0 for r in rows)


def test_score_when_minilm_then_one_object_per_line_with_sensible_labels(news_file: Path) -> None:
    rows = run_json("score", "--file", str(news_file), "--json", "--device", "cpu")
    _check_rows(rows, 4)
    assert [r["label"] for r in rows] == ["positive", "negative", "neutral", "neutral"]
    assert rows[0]["score"] > 0.5 > -0.5 > rows[1]["score"]
    assert rows[2]["score"] == 0.0  # blank line


@pytest.mark.parametrize("scorer", ["lm", "vader"])
def test_score_when_lexicon_then_negative_line_scores_below_zero(
    news_file: Path, scorer: str
) -> None:
    rows = run_json("score", "--file", str(news_file), "--json", "--scorer", scorer)
    _check_rows(rows, 4)
    assert rows[1]["label"] == "negative" and rows[1]["score"] < 0


def test_score_when_file_missing_then_exit_2_with_message(tmp_path: Path) -> None:
    proc = run("score", "--file", str(tmp_path / "none.txt"), "--json", "--scorer", "lm")
    assert proc.returncode == 2
    assert "none.txt" in proc.stderr and proc.stdout == ""


def test_score_when_file_binary_then_exit_2_names_file(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"text\n\x00\x01\x02")
    proc = run("score", "--file", str(path), "--json", "--scorer", "lm")
    assert proc.returncode == 2
    assert "blob.bin, row 2: binary data" in proc.stderr.replace("\n", "")


def test_score_when_scorer_unknown_then_exit_2(news_file: Path) -> None:
    proc = run("score", "--file", str(news_file), "--scorer", "finbert")
    assert proc.returncode == 2
    assert "--scorer must be one of minilm, lm, vader" in proc.stderr.replace("\n", "")


def test_evaluate_when_lexicons_then_macro_f1_per_level() -> None:
    real_path("news_sentiment/financial_phrasebank_v1.0/Sentences_AllAgree.txt")
    out = run_json("evaluate", "--json", "--scorers", "lm,vader")
    assert set(out["macro_f1"]) == {"lm", "vader"}
    assert set(out["macro_f1"]["lm"]) == {"50Agree", "66Agree", "75Agree", "AllAgree"}
    assert out["macro_f1"]["lm"]["AllAgree"] == pytest.approx(0.4924, abs=0.005)
    assert out["n_sentences"]["AllAgree"] == 2263
