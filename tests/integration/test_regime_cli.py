"""``tradelearn regime fit | adapt`` and the regime experiment, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def write_daily(path: Path, n: int = 1300, seed: int = 0) -> Path:
    """A daily OHLCV file whose volatility switches between a calm and a wild regime."""
    rng = np.random.default_rng(seed)
    wild = (np.arange(n) // 150) % 2 == 1
    sd = np.where(wild, 0.025, 0.007)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, sd)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, sd / 4))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, sd / 2)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, sd / 2)))
    dates = np.datetime64("2000-01-03") + np.arange(n)
    lines = ["Date,Open,High,Low,Close,Volume"]
    for i in range(n):
        lines.append(f"{dates[i]},{open_[i]:.4f},{high[i]:.4f},{low[i]:.4f},{close[i]:.4f},1000")
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradelearn", *args],
        capture_output=True, text=True, env=ENV, timeout=600,
    )  # fmt: skip


def invoke(*args: str) -> Any:
    """In process (fast) for the error paths."""
    from typer.testing import CliRunner

    from tradelearn.cli import app

    return CliRunner().invoke(app, list(args))


def one_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def daily_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_daily(tmp_path_factory.mktemp("regime") / "syn.csv")


def test_fit_json_with_report_then_one_object_regimes_stability_and_html(
    daily_file: Path, tmp_path: Path
) -> None:
    out = one_json(
        run(
            "regime", "fit", "--series", str(daily_file), "--model", "hmm", "--states", "2",
            "--seed", "3", "--stability-seeds", "3", "--json", "--report", str(tmp_path / "r.html"),
        )
    )  # fmt: skip
    assert out["series"] == "syn" and out["model"] == "hmm" and out["seed"] == 3
    calm, wild = out["regimes"]
    assert calm["vol_ann_pct"] < wild["vol_ann_pct"]
    assert calm["share"] == pytest.approx(0.5, abs=0.1)
    assert out["stability"]["min_agreement"] >= 0.95
    assert len(out["transmat"]) == 2 and out["current"]["regime"] in (0, 1)
    html = (tmp_path / "r.html").read_text()
    assert "Regime shading on the price" in html


def test_fit_text_output_then_one_line_per_regime(daily_file: Path) -> None:
    proc = run("regime", "fit", "--series", str(daily_file), "--model", "gmm", "--states", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("regime ") >= 3 and "GMM K=3" in proc.stdout


def test_adapt_json_then_every_strategy_scored_against_static(daily_file: Path) -> None:
    out = one_json(
        run(
            "regime", "adapt", "--series", str(daily_file), "--start", "2002-06-01",
            "--window", "300", "--model", "gmm", "--json",
        )
    )  # fmt: skip
    rows = out["strategies"]
    assert set(rows) == {"static", "periodic", "drift", "regime", "regime_drift"}
    assert out["first_target"] == "2002-06-01"
    for s, r in rows.items():
        assert r["qlike"] > 0
        if s != "static":
            assert 0 <= r["dm_p"] <= 1 and r["diff_ci95"][0] <= r["diff_ci95"][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "kmeans"], "--model must be 'gmm' or 'hmm'"),
        (["--states", "1"], "--states must be >= 2"),
        (["--stability-seeds", "1"], "--stability-seeds must be 0 or >= 2"),
    ],
)
def test_fit_bad_option_then_exit_2_naming_it(
    daily_file: Path, args: list[str], message: str
) -> None:
    res = invoke("regime", "fit", "--series", str(daily_file), *args)
    assert res.exit_code == 2
    assert message in res.stderr


def test_fit_missing_or_bad_file_then_exit_2(tmp_path: Path) -> None:
    res = invoke("regime", "fit", "--series", str(tmp_path / "none.csv"))
    assert res.exit_code == 2 and "no file" in res.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Open,High,Low,Close,Volume\n2000-01-03,1,2,0.5,x,10\n")
    res = invoke("regime", "fit", "--series", str(bad))
    assert res.exit_code == 2 and "close" in res.stderr


def test_experiment_smoke_run_then_results_json_and_report(
    daily_file: Path, tmp_path: Path
) -> None:
    proc = subprocess.run(
        [
            sys.executable, str(ROOT / "experiments" / "regime_adaptation.py"),
            "--series", str(daily_file), "--models", "gmm", "--states", "2", "--n-seeds", "2",
            "--start", "2002-06-01", "--window", "300", "--detectors", "ph",
            "--monitors", "abs_error", "--regime-kind", "gmm", "--n-boot", "100",
            "--out", str(tmp_path),
        ],
        capture_output=True, text=True, env=ENV, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "results.json").read_text())
    assert len(res["stability"]) == 1 and res["stability"][0]["seeds"] == 2
    assert res["adaptation"][0]["config"]["detector"] == "ph"
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert "stability:" in proc.stdout


def test_intraday_on_the_goog_day_then_regimes_with_spread_and_volume(tmp_path: Path) -> None:
    from tradelearn.testing.realdata import lobster_pair

    msg, book = lobster_pair("GOOG", 1)
    res = invoke(
        "regime", "intraday", "--message", str(msg), "--orderbook", str(book), "--json",
        "--report", str(tmp_path / "i.html"),
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["symbol"] == "GOOG" and out["bars"] == 385
    calm, busy = out["regimes"]
    assert busy["volume_per_bar"] > calm["volume_per_bar"] and calm["spread_bps"] > 0
    assert (tmp_path / "i.html").exists()


def test_adapt_bad_monitor_then_exit_2_naming_it(daily_file: Path) -> None:
    res = invoke("regime", "adapt", "--series", str(daily_file), "--monitor", "loss")
    assert res.exit_code == 2 and "monitor must be one of" in res.stderr
