"""``tradelearn exec`` as a user runs it: a separate process, files on disk, JSON out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def _run_json(*args: str) -> dict[str, object]:
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
    out: dict[str, object] = json.loads(lines[0])
    return out


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_exec_train_writes_a_model_that_evaluate_model_scores(algo: str, tmp_path: Path) -> None:
    out = tmp_path / algo
    summary = _run_json(
        "exec", "train", "--env", "tradelearn/ModelExecution-v0", "--world", "ac",
        "--algo", algo, "--timesteps", "2000", "--seed", "1", "--out", str(out), "--json",
        "--n-envs", "8",
    )  # fmt: skip
    # PPO finishes its last rollout (8 envs x 128 steps), DQN stops at the count
    assert 2000 <= int(summary["timesteps"]) <= 2048  # type: ignore[call-overload]
    assert (out / "model.zip").is_file() and (out / "config.json").is_file()
    assert any((out / "tb").rglob("events.out.tfevents.*"))
    assert list((out / "checkpoints").glob("*.zip"))
    report = _run_json(
        "exec", "evaluate-model", "--world", "ac", "--policies", f"twap,ac,{out}",
        "--episodes", "500", "--json",
    )  # fmt: skip
    scores = report["scores"]
    assert isinstance(scores, list) and len(scores) == 3
    assert abs(scores[1]["gap_pct"]) < 0.1  # AC fitted on this world's fills
