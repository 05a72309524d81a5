"""The command line run as a user runs it: a separate process, files on disk, JSON out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tradelearn.testing.realdata import lobster_pair

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def run(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tradelearn", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def run_json(*args: str, cwd: Path | None = None) -> Any:
    proc = run(*args, cwd=cwd)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"--json must print exactly one line, got:\n{proc.stdout}"
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("sim")
    result = run_json(
        "sim",
        "generate",
        "--seed",
        "3",
        "--seconds",
        "1200",
        "--levels",
        "5",
        "--symbol",
        "ABC",
        "--out",
        str(out),
        "--json",
    )
    return Path(result["message_file"]), Path(result["orderbook_file"])


def test_sim_generate_then_book_replay_verifies_with_zero_differences(
    generated: tuple[Path, Path],
) -> None:
    m, o = generated
    result = run_json(
        "book", "replay", "--message", str(m), "--orderbook", str(o), "--verify", "--json"
    )
    for key in (
        "messages",
        "rows_compared",
        "rows_matched",
        "rows_matched_in_window",
        "match_rate",
        "match_rate_in_window",
        "corrections",
        "messages_per_second",
    ):
        assert key in result, key
    assert result["rows_compared"] == result["messages"] - 1
    assert result["rows_matched"] == result["rows_compared"] and result["unexplained"] == 0
    assert result["match_rate"] == 1.0 and result["messages_per_second"] > 0


def test_book_replay_without_orderbook_reports_throughput_only(
    generated: tuple[Path, Path],
) -> None:
    result = run_json("book", "replay", "--message", str(generated[0]), "--json")
    assert result["messages"] > 1000 and result["messages_per_second"] > 0
    assert "rows_compared" not in result


def test_sim_generate_is_deterministic(tmp_path: Path) -> None:
    a = run_json(
        "sim",
        "generate",
        "--seed",
        "9",
        "--seconds",
        "300",
        "--levels",
        "2",
        "--out",
        str(tmp_path / "a"),
        "--json",
    )
    b = run_json(
        "sim",
        "generate",
        "--seed",
        "9",
        "--seconds",
        "300",
        "--levels",
        "2",
        "--out",
        str(tmp_path / "b"),
        "--json",
    )
    assert Path(a["message_file"]).read_bytes() == Path(b["message_file"]).read_bytes()
    assert Path(a["orderbook_file"]).read_bytes() == Path(b["orderbook_file"]).read_bytes()


def test_data_ingest_ls_query_round_trip(generated: tuple[Path, Path], tmp_path: Path) -> None:
    m, o = generated
    store = str(tmp_path / "store")
    ingested = run_json(
        "data",
        "ingest",
        "lobster",
        "--message",
        str(m),
        "--orderbook",
        str(o),
        "--store",
        store,
        "--json",
    )
    assert ingested["symbol"] == "ABC" and ingested["rows_dropped"] == 0
    listed = run_json("data", "ls", "--store", store, "--json")
    kinds = sorted(d["kind"] for d in listed["datasets"])
    assert kinds == ["book", "events"]
    assert all(d["rows"] == ingested["rows"] for d in listed["datasets"])
    counted = run_json(
        "data",
        "query",
        "SELECT count(*) AS n FROM events WHERE symbol = 'ABC'",
        "--store",
        store,
        "--json",
    )
    assert counted["rows"] == [{"n": ingested["rows"]}]


def test_bad_input_fails_with_file_row_and_field(tmp_path: Path) -> None:
    m = tmp_path / "BAD_2020-01-02_34200000_57600000_message_1.csv"
    m.write_text("34200.1,1,5,100,1000000,1\n34200.2,1,6,-3,1000000,1\n")
    proc = run("book", "replay", "--message", str(m), check=False)
    assert proc.returncode == 2
    assert m.name in proc.stderr and "row 2" in proc.stderr and "'size'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_sql_is_a_clear_error(tmp_path: Path) -> None:
    proc = run("data", "query", "SELEC nonsense", "--store", str(tmp_path / "s"), check=False)
    assert (
        proc.returncode == 2 and "error" in proc.stderr.lower() and "Traceback" not in proc.stderr
    )


def test_missing_input_names_the_option(tmp_path: Path) -> None:
    proc = run("book", "replay", "--message", str(tmp_path / "nope.csv"), check=False)
    assert proc.returncode != 0 and "--message" in proc.stderr


def test_data_dir_option_resolves_relative_paths() -> None:
    m, o = lobster_pair("GOOG", 1)
    root = m.parent.parent
    result = run_json(
        "--data-dir",
        str(root),
        "book",
        "replay",
        "--message",
        f"lobster/{m.name}",
        "--orderbook",
        f"lobster/{o.name}",
        "--json",
    )
    assert result["unexplained"] == 0 and result["messages"] == 49_482


def test_ingest_lobster_dir_keeps_each_level_count_apart(tmp_path: Path) -> None:
    m, _ = lobster_pair("GOOG", 1)
    store = str(tmp_path / "store")
    result = run_json("data", "ingest", "lobster-dir", str(m.parent), "--store", store, "--json")
    sources = {(d["source"], d["symbol"]) for d in result["datasets"]}
    assert {("lobster-l1", "GOOG"), ("lobster-l10", "GOOG"), ("lobster-l1", "AAPL")} <= sources
    counted = run_json(
        "data",
        "query",
        "SELECT count(*) AS n FROM book WHERE source = 'lobster-l10'",
        "--store",
        store,
        "--json",
    )
    assert counted["rows"] == [{"n": 147_916}]


def test_risk_gate_check_validates_the_example_limits() -> None:
    root = Path(__file__).resolve().parents[2]
    result = run_json(
        "risk", "gate", "check", "--config", str(root / "configs" / "limits.example.toml"), "--json"
    )
    assert result["valid"] is True and result["limits"]["max_order_qty"] == 1000


def test_risk_gate_check_names_an_unknown_key(tmp_path: Path) -> None:
    bad = tmp_path / "limits.toml"
    bad.write_text("[limits]\nmax_ordr_qty = 5\n")
    proc = run("risk", "gate", "check", "--config", str(bad), check=False)
    assert proc.returncode == 2 and "max_ordr_qty" in proc.stderr
