"""``risk forecast``, ``risk var-backtest`` and ``risk anomaly`` on small synthetic inputs."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from tradelearn.cli.risk_forecast import register

GjrSimulator = Callable[..., tuple[np.ndarray, np.ndarray]]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    return a


@pytest.fixture()
def daily_file(tmp_path: Path, simulate_gjr_t: GjrSimulator) -> Path:
    r, s2 = simulate_gjr_t(700, 0.02, 0.05, 0.08, 0.88, 7.0, 3)
    close = 100 * np.exp(np.cumsum(r) / 100)
    opn = np.r_[100.0, close[:-1]]
    rng = np.random.default_rng(0)
    spread = np.sqrt(s2) / 100 * np.abs(rng.normal(1.0, 0.3, r.size))
    high = np.maximum(opn, close) * (1 + spread)
    low = np.minimum(opn, close) * (1 - spread)
    dates = np.datetime64("2001-01-02") + np.arange(r.size).astype("timedelta64[D]")
    path = tmp_path / "sim.csv"
    rows = ["date,open,high,low,close,volume"]
    rows += [
        f"{d},{o},{h},{lo},{c},1000"
        for d, o, h, lo, c in zip(dates, opn, high, low, close, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def _json(app: typer.Typer, args: list[str]) -> Any:
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, res.stdout
    return json.loads(lines[0])


def test_forecast_json_reports_qlike_per_model_and_horizon(
    app: typer.Typer, daily_file: Path
) -> None:
    out = _json(
        app,
        ["forecast", "--series", str(daily_file), "--start", "2001-08-01", "--window", "150", "--refit-every", "100", "--json"],
    )  # fmt: skip
    assert out["horizons"] == [1, 5, 22]
    assert set(out["qlike"]) >= {"har", "gjr_t", "har_lg", "tl_combo"}
    assert [c["h"] for c in out["comparison"]] == [1, 5, 22]
    assert all(v > 0 for v in out["next_forecast"]["gjr_t"])


def test_var_backtest_json_reports_every_method_and_level(
    app: typer.Typer, daily_file: Path
) -> None:
    out = _json(
        app,
        ["var-backtest", "--series", str(daily_file), "--start", "2001-08-01", "--window", "250", "--json"],
    )  # fmt: skip
    assert out["default_method"] == "evt"
    assert set(out["results"]) == {"hs", "fhs", "garch_t", "gjr_t", "evt"}
    assert set(out["results"]["evt"]) == {"0.99", "0.975"}
    assert isinstance(out["default_passes_kupiec_and_cc"], bool)


def test_var_backtest_with_bad_levels_exits_2(app: typer.Typer, daily_file: Path) -> None:
    res = CliRunner().invoke(app, ["var-backtest", "--series", str(daily_file), "--levels", "x"])
    assert res.exit_code == 2


def test_forecast_with_missing_file_exits_2(app: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["forecast", "--series", str(tmp_path / "none.csv")])
    assert res.exit_code == 2


def test_anomaly_json_on_a_binance_capture(app: typer.Typer, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / "cap.gz"
    mid = 100.0
    with gzip.open(path, "wt") as fh:
        for k in range(3000):
            ts = k * 200_000_000
            mid *= np.exp(rng.normal(0, 1e-4))
            book = {
                "u": k,
                "s": "X",
                "b": f"{mid - 0.01}",
                "B": "1",
                "a": f"{mid + 0.01}",
                "A": "2",
            }
            fh.write(f"{ts} {json.dumps({'stream': 'x@bookTicker', 'data': book})}\n")
            trade = {"e": "trade", "p": f"{mid}", "q": "0.1", "m": bool(k % 2)}
            fh.write(f"{ts + 1} {json.dumps({'stream': 'x@trade', 'data': trade})}\n")
    out = _json(app, ["anomaly", str(path), "--window", "60", "--json"])
    (row,) = out["results"]
    assert row["intervals"] > 500
    assert 0.0 <= row["robust_z"]["auc_baseline"] <= 1.0
