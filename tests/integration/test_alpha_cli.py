"""``tradelearn alpha train`` and ``evaluate`` on a small synthetic panel with a planted signal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradelearn.alpha.features_daily import synthetic_panel
from tradelearn.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def panel_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alpha") / "panel.csv"
    synthetic_panel(n_symbols=30, n_days=420, seed=2, reversal=0.4).write_csv(path)
    return path


def _train(panel: Path, out: Path, *extra: str) -> dict[str, object]:
    args = ["alpha", "train", "--data", str(panel), "--out", str(out), "--valid-days", "60"]
    result = runner.invoke(app, [*args, *extra, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_train_then_evaluate_finds_the_planted_reversal(panel_csv: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    doc = _train(panel_csv, run, "--model", "logreg", "--param", "alpha=1.0", "--skip", "0")
    assert (run / "model" / "model.json").is_file() and (run / "predictions.npz").is_file()
    segs = doc["segments"]
    assert isinstance(segs, dict) and segs["train"][1] < segs["valid"][0] < segs["test"][0]
    report = tmp_path / "report.html"
    result = runner.invoke(
        app, ["alpha", "evaluate", "--run", str(run), "--json", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # exactly one JSON object on stdout
    test = out["test"]
    assert test["ic"] > 0.05 and test["rank_ic"] > 0.05 and test["icir"] > 0.2
    assert test["ls_net_annual"] > 0
    assert sum(map(sum, test["confusion"])) > 0
    html = report.read_text()
    assert html.count("<img") == 2 and "IC through time" in html


def test_classifier_run_reports_f1(panel_csv: Path, tmp_path: Path) -> None:
    run = tmp_path / "cls"
    _train(panel_csv, run, "--model", "lgbm", "--task", "classification", "--label", "class",
           "--param", "n_estimators=30", "--param", "min_child_samples=50")  # fmt: skip
    result = runner.invoke(app, ["alpha", "evaluate", "--run", str(run), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["test"]["macro_f1"] > 0.34


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "nope"], "unknown alpha model 'nope'"),
        (["--param", "alpha"], "--param must look like key=value"),
        (["--source", "lob"], "--source lob needs --message and --orderbook"),
        (["--source", "lob", "--task", "regression"], "--task must be classification"),
        (["--task", "classification"], "--task classification needs --label class"),
        (["--test-start", "2014-02-01"], "--test-start 2014-02-01: only"),
    ],
)
def test_bad_train_options_then_exit_2(
    panel_csv: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    cmd = ["alpha", "train", "--data", str(panel_csv), "--out", str(tmp_path / "x")]
    cmd += ["--valid-days", "60", *args]
    result = runner.invoke(app, cmd)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_evaluate_without_run_folder_then_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["alpha", "evaluate", "--run", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a run folder" in result.output


def test_lob_source_trains_and_evaluates_a_sequence_model(tmp_path: Path) -> None:
    gen = runner.invoke(app, ["sim", "generate", "--seed", "1", "--seconds", "900", "--levels",
                              "5", "--symbol", "TEST", "--out", str(tmp_path)])  # fmt: skip
    assert gen.exit_code == 0, gen.output
    message = next(tmp_path.glob("*_message_5.csv"))
    orderbook = next(tmp_path.glob("*_orderbook_5.csv"))
    run = tmp_path / "lob"
    result = runner.invoke(app, ["alpha", "train", "--source", "lob", "--message", str(message),
                                 "--orderbook", str(orderbook), "--model", "lstm", "--window",
                                 "10", "--step", "5", "--param", "epochs=1", "--param",
                                 "hidden=8", "--out", str(run), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    sizes = json.loads(result.stdout)["sizes"]
    assert sizes["train"] > sizes["valid"] > 0 and sizes["test"] > 0
    report = tmp_path / "lob.html"
    result = runner.invoke(
        app, ["alpha", "evaluate", "--run", str(run), "--json", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    test = json.loads(result.stdout)["test"]
    assert 0 <= test["macro_f1"] <= 1 and len(test["confusion"]) == 3
    assert sum(map(sum, test["confusion"])) == sizes["test"]
    assert report.read_text().count("<img") == 2
