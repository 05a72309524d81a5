"""``tradelearn exec evaluate-model`` in process: JSON out, errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from tradelearn.cli.execution import app as exec_app

root = typer.Typer()
root.add_typer(exec_app, name="exec")


def test_evaluate_model_prints_one_json_object_with_gaps_to_the_optimum() -> None:
    result = CliRunner().invoke(
        root,
        [
            "exec",
            "evaluate-model",
            "--world",
            "ow",
            "--policies",
            "twap,ow",
            "--episodes",
            "300",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0])
    scores = {s["policy"]: s for s in report["scores"]}
    assert report["world"]["world"] == "ow" and report["episodes"] == 300
    assert abs(scores["ow"]["gap_pct"]) < 1e-9
    assert scores["twap"]["gap_pct"] > 1.0
    assert scores["twap"]["exact_bps"] is not None


def test_evaluate_model_table_names_every_policy() -> None:
    result = CliRunner().invoke(
        root,
        ["exec", "evaluate-model", "--world", "cj", "--policies", "twap,cj", "--episodes", "100"],
    )
    assert result.exit_code == 0, result.output
    assert "twap" in result.stdout and "cj" in result.stdout


def test_unknown_world_or_policy_exits_2_with_the_reason() -> None:
    bad_world = CliRunner().invoke(root, ["exec", "evaluate-model", "--world", "zz"])
    assert bad_world.exit_code == 2
    assert "world must be one of" in bad_world.output
    bad_policy = CliRunner().invoke(
        root, ["exec", "evaluate-model", "--policies", "twap,nope", "--episodes", "10"]
    )
    assert bad_policy.exit_code == 2
    assert "unknown policy 'nope'" in bad_policy.output


def test_train_rejects_an_unknown_algorithm_before_training(tmp_path: Path) -> None:
    result = CliRunner().invoke(root, ["exec", "train", "--algo", "sac", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--algo must be one of" in result.output
