"""The execution report: one file with the comparison table and embedded plots."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradelearn.execution.metrics import summarize
from tradelearn.execution.report import build_report, training_curve


@dataclass(frozen=True)
class FakeEpisode:
    is_bps: float
    spread_bps: float
    impact_bps: float
    timing_bps: float
    parent_qty: float
    remaining: np.ndarray


def _results(seed: int) -> dict[str, list[FakeEpisode]]:
    rng = np.random.default_rng(seed)
    out: dict[str, list[FakeEpisode]] = {"twap": [], "vwap": [], "ppo:run": []}
    for _ in range(20):
        noise = rng.normal()
        for name, shift in (("twap", 0.0), ("vwap", -0.2), ("ppo:run", -1.0)):
            rem = np.linspace(100.0, 0.0, 10, endpoint=False)
            if name == "ppo:run":
                rem = rem * rng.uniform(0.5, 1.0)
            cost = 3.0 + shift + noise
            out[name].append(FakeEpisode(cost, 1.0, 1.0 + shift, 1.0 + noise, 100.0, rem))
    return out


def test_report_has_the_trader_table_and_embedded_pngs(tmp_path: Path) -> None:
    results = _results(0)
    ev = summarize(results)
    model = tmp_path / "model"
    model.mkdir()
    with (model / "monitor.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timesteps", "is_bps", "reward"])
        for i in range(50):
            w.writerow([30 * (i + 1), 5.0 - i * 0.05, -5.0])
    report = build_report(ev, results, model_dirs={"ppo:run": model})
    path = report.save(tmp_path / "r.html")
    text = path.read_text()
    for col in ("policy", "shortfall bp", "impact bp", "timing risk bp", "adaptability"):
        assert f"<th>{col}</th>" in text
    for name in ("twap", "vwap", "ppo:run"):
        assert f"<td>{name}</td>" in text
    pngs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]{200,})"', text)
    assert len(pngs) >= 5  # split, distribution, savings, inventory, training curve
    assert "ppo:run: training shortfall" in text
    assert "<script" not in text and "href=" not in text  # one self-contained file


def test_training_curve_reads_tensorboard_when_no_monitor(tmp_path: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "tb" / "ppo_1"))
    for step in range(5):
        writer.add_scalar("rollout/ep_rew_mean", -float(step), step * 10)
    writer.close()
    curve = training_curve(tmp_path)
    assert curve is not None
    label, x, y = curve
    assert label == "rollout/ep_rew_mean"
    assert list(x) == [0, 10, 20, 30, 40] and list(y) == [0, -1, -2, -3, -4]
    assert training_curve(tmp_path / "nothing") is None


def test_report_without_agents_says_so(tmp_path: Path) -> None:
    results = {k: v for k, v in _results(1).items() if k != "ppo:run"}
    text = build_report(summarize(results), results).render()
    assert "No learned agent" in text
    assert text.count("data:image/png;base64,") >= 3
