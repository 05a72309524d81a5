"""``tradelearn exec evaluate`` and ``exec train`` over the simulated market, as a user runs
them: separate processes, files on disk."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
TINY = ("--horizon-s", "300", "--n-steps", "5", "--no-progress")
FIELDS = {
    "name", "is_bps", "spread_bps", "impact_bps", "timing_bps", "timing_risk_bps",
    "outperformance_prob", "gain_loss_ratio", "p_values", "episodes_bps",
}  # fmt: skip


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradelearn", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )


def test_train_on_the_agent_market_then_evaluate_against_baselines(tmp_path: Path) -> None:
    model = tmp_path / "ppo"
    proc = _run(
        "exec", "train", "--env", "tradelearn/Execution-v0", "--market", "agents",
        "--seed", "5", "--algo", "ppo", "--timesteps", "64", "--n-envs", "2",
        "--both-sides", "--out", str(model), "--json", *TINY,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["market"]["kind"] == "agents" and summary["market"]["seed"] == 5
    assert (model / "model.zip").is_file()
    saved = json.loads((model / "config.json").read_text())
    assert saved["env_id"] == "tradelearn/Execution-v0" and saved["env"]["n_steps"] == 5
    assert saved["both_sides"] is True
    assert any((model / "tb").rglob("events.out.tfevents.*"))
    assert (model / "monitor.csv").read_text().startswith("timesteps,is_bps,reward,length")

    out, report = tmp_path / "eval.json", tmp_path / "report.html"
    proc = _run(
        "exec", "evaluate", "--market", "agents", "--seed", "6", "--episodes", "3",
        "--calibration-episodes", "2", "--policies", f"twap,vwap,pov,ac,{model}",
        "--json", str(out), "--report", str(report), *TINY,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    names = [p["name"] for p in doc["policies"]]
    assert names == ["twap", "vwap", "pov0.02", "ac", "ppo:ppo"]
    for p in doc["policies"]:
        assert set(p) >= FIELDS
        assert set(p["p_values"]) == {"twap", "vwap", "pov0.02", "ac"}
        assert len(p["episodes_bps"]) == 3
    twap = doc["policies"][0]
    assert twap["outperformance_prob"] == 0.0 and twap["p_values"]["twap"] == 1.0
    # VWAP and AC were fitted on the agent's training market (seed 5), not the held-out one
    assert doc["calibration"]["market"]["seed"] == 5
    html = report.read_text()
    assert "<th>shortfall bp</th>" in html and "<th>adaptability</th>" in html
    assert len(re.findall(r"data:image/png;base64,", html)) >= 3
    assert "ppo:ppo: training" in html  # the agent's training curve


def test_evaluate_prints_one_json_object_with_dash(tmp_path: Path) -> None:
    proc = _run(
        "exec", "evaluate", "--market", "agents", "--seed", "2", "--episodes", "2",
        "--policies", "twap,pov:0.05", "--json", "-", *TINY,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert [p["name"] for p in doc["policies"]] == ["twap", "pov0.05"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--policies", "twap,nope"), "unknown policy 'nope'"),
        (("--episodes", "0"), "--episodes must be at least 1"),
        (("--market", "replay", "--message", "no_such.csv", "--orderbook", "x.csv"), "--message"),
        (("--market", "moon"), "--market must be 'replay' or 'agents'"),
        (("--start-window", "noon"), "--start-window must be HH:MM-HH:MM"),
    ],
)
def test_bad_inputs_exit_2_with_a_clear_message(args: tuple[str, ...], message: str) -> None:
    proc = _run("exec", "evaluate", *args, "--no-progress")
    assert proc.returncode == 2, proc.stderr
    assert message in " ".join(proc.stderr.split()), proc.stderr
    assert "Traceback" not in proc.stderr
