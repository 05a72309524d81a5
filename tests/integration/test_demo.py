"""``tradelearn demo``'s execution story on a short generated session."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path


def test_demo_verifies_the_book_trains_ppo_and_reports_it_against_the_baselines(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable, "-m", "tradelearn", "demo", "--out", str(tmp_path / "demo"),
            "--seconds", "600", "--train-timesteps", "1500", "--train-budget-s", "60",
            "--episodes", "4", "--json",
        ],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["verify"]["unexplained"] == 0
    assert result["verify"]["rows_compared"] == result["messages"] - 1
    assert (tmp_path / "demo" / "demo_report.json").exists()
    assert {"stylized_facts", "twap_replay"} <= set(result)
    ex = result["execution"]
    assert set(ex["policies"]) == {"twap", "vwap", "ac", "ppo:ppo"}
    assert ex["episodes"] == 4 and ex["train_timesteps"] >= 1500
    assert ex["policies"]["twap"]["outperformance_prob"] == 0.0
    report = Path(ex["report"])
    assert report == tmp_path / "demo" / "execution_report.html"
    html = report.read_text()
    assert len(re.findall(r"data:image/png;base64,", html)) >= 4  # incl. PPO's training curve
    assert (tmp_path / "demo" / "ppo" / "model.zip").is_file()
