"""``risk forecast | var-backtest | anomaly --report`` and ``risk posture`` run as a user runs
them: a separate process, files on disk, one JSON object out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tradelearn.testing.realdata import lobster_pair, real_path

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def run_json(*args: str) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "tradelearn", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"--json must print exactly one line, got:\n{proc.stdout}"
    return json.loads(lines[0])


def _pngs(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("data:image/png;base64,")


@pytest.fixture(scope="module")
def daily_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GARCH-like daily OHLC series of 600 days (volatility clusters, range-based highs)."""
    rng = np.random.default_rng(7)
    n = 600
    s2 = np.empty(n)
    r = np.empty(n)
    s2[0] = 1.0
    for t in range(n):
        if t:
            s2[t] = 0.05 + (0.05 + 0.1 * (r[t - 1] < 0)) * r[t - 1] ** 2 + 0.85 * s2[t - 1]
        r[t] = np.sqrt(s2[t]) * rng.standard_normal()
    close = 100 * np.exp(np.cumsum(r) / 100)
    opn = np.r_[100.0, close[:-1]]
    wiggle = np.sqrt(s2) / 100 * np.abs(rng.normal(1.0, 0.3, n))
    high = np.maximum(opn, close) * (1 + wiggle)
    low = np.minimum(opn, close) * (1 - wiggle)
    dates = np.datetime64("2001-01-02") + np.arange(n).astype("timedelta64[D]")
    rows = ["date,open,high,low,close,volume"]
    rows += [f"{d},{o},{h},{lo},{c},1000" for d, o, h, lo, c in zip(dates, opn, high, low, close, strict=True)]  # fmt: skip
    path = tmp_path_factory.mktemp("risk") / "sim.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_forecast_report_when_asked_then_html_with_a_figure_per_horizon(
    daily_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "forecast.html"
    res = run_json(
        "risk", "forecast", "--series", str(daily_file), "--start", "2001-08-01",
        "--window", "150", "--refit-every", "100", "--report", str(out), "--json",
    )  # fmt: skip
    assert res["report"] == str(out)
    html = out.read_text(encoding="utf-8")
    assert _pngs(out) == 3
    assert "tl_combo" in html and "DM p" in html


def test_var_backtest_report_when_asked_then_exceptions_plotted_per_level(
    daily_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "var.html"
    res = run_json(
        "risk", "var-backtest", "--series", str(daily_file), "--start", "2001-08-01",
        "--window", "250", "--methods", "hs,evt", "--report", str(out), "--json",
    )  # fmt: skip
    assert set(res["results"]) == {"hs", "evt"}
    assert _pngs(out) == 2  # the default method at 99% and 97.5%


def test_posture_when_synthetic_series_then_schedule_size_and_report(
    daily_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "posture.html"
    res = run_json(
        "risk", "posture", "--series", str(daily_file), "--date", "2002-08-01",
        "--window", "150", "--qty", "5000", "--steps", "6", "--budget", "50000",
        "--report", str(out), "--json",
    )  # fmt: skip
    assert res["date"] == "2002-08-01" and res["forecast_origin"] == "2002-07-31"
    fp = res["forecast_posture"]
    assert len(fp["trades"]) == 6 and sum(fp["trades"]) == pytest.approx(5000.0)
    np.testing.assert_allclose(res["policy_mean_trades"], fp["trades"], rtol=1e-8)
    assert fp["variance_pct2"] == res["variance_forecast_pct2"] > 0
    expected = int(50000 / (fp["var_pct"] / 100 * res["arrival_price"]))
    assert fp["var_budget_shares"] == expected
    assert _pngs(out) == 1


def test_posture_when_october_2008_then_forecast_front_loads_and_shrinks_size(
    tmp_path: Path,
) -> None:
    real_path("daily_ohlcv/index_macro_arch/sp500.csv.gz")
    res = run_json("risk", "posture", "--series", "sp500", "--date", "2008-10-10", "--json")
    fp, sp = res["forecast_posture"], res["static_posture"]
    # the forecast made on 9 October 2008 is far above the window's average variance
    assert res["variance_forecast_pct2"] > 5 * res["static_variance_pct2"]
    assert fp["kappa_T"] > 2 * sp["kappa_T"]
    assert fp["front_load"] > sp["front_load"]
    assert fp["var_budget_shares"] < sp["var_budget_shares"]
    assert fp["trading_state"] == "HALTED" and sp["trading_state"] == "ACTIVE"


def test_anomaly_report_when_lobster_day_then_price_plot(tmp_path: Path) -> None:
    message, _ = lobster_pair("GOOG", 1)
    out = tmp_path / "anomaly.html"
    res = run_json("risk", "anomaly", str(message), "--report", str(out), "--json")
    assert res["results"][0]["source"] == "lobster:GOOG"
    html = out.read_text(encoding="utf-8")
    assert _pngs(out) == 1 and "top 1% of each score on the mid price" in html
