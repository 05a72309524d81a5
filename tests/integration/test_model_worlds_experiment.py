"""The model-worlds experiment runs end to end on a tiny budget (a smoke test, as CleanRL's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_experiment_trains_evaluates_and_writes_its_json(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable, str(ROOT / "experiments" / "model_worlds.py"),
            "--worlds", "ow", "--ppo-timesteps", "512", "--dqn-timesteps", "512",
            "--eval-episodes", "200", "--out", str(tmp_path),
        ],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "results.json").read_text())
    rows = {r["algo"]: r for r in report["results"]}
    assert set(rows) == {"ppo", "dqn"}
    for row in rows.values():
        assert row["world"] == "ow" and row["eval_episodes"] == 200
        assert row["timesteps"] >= 512 and row["gap_pct"] > -1e-6
        assert (tmp_path / f"ow-{row['algo']}" / "model.zip").is_file()
    assert "gap" in proc.stdout
