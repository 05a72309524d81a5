"""Order-book alpha on the shared LOBSTER day: features, labels and a small experiment run.

The full experiment (``experiments/alpha_lob.py``) takes about 40 minutes; here it runs with
tiny budgets, level-1 features and one horizon, end to end on real GOOG and AAPL files.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tradelearn.alpha.features_lob import FeatureSpec, lob_features, mid_price, split_book
from tradelearn.alpha.labels import class_shares, fit_threshold
from tradelearn.data.lobster import load_lobster
from tradelearn.testing.realdata import lobster_pair

pytestmark = pytest.mark.shared_data
ROOT = Path(__file__).resolve().parents[2]


def experiment() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "alpha_lob", ROOT / "experiments" / "alpha_lob.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the file runs
    spec.loader.exec_module(mod)
    return mod


def test_goog_level10_features_are_finite_and_in_range() -> None:
    day = load_lobster(*lobster_pair("GOOG", 10))
    assert day.book is not None
    X, names = lob_features(day.book, day.events, FeatureSpec(levels=10))
    assert X.shape == (day.n, 86) and np.isfinite(X).all()
    col = {n: X[:, i] for i, n in enumerate(names)}
    assert col["spread_ticks"].min() >= 0  # 0 only where a side is empty
    assert np.median(col["spread_ticks"]) == pytest.approx(28.0, abs=3)
    for n in names:
        if n.startswith("imbalance") or n.startswith("tfi"):
            assert np.abs(col[n]).max() <= 1.0 + 1e-12, n


@pytest.mark.parametrize("k", [10, 50, 100])
def test_goog_morning_threshold_balances_the_classes(k: int) -> None:
    day = load_lobster(*lobster_pair("GOOG", 10))
    assert day.book is not None
    mid = mid_price(split_book(day.book, 1))
    morning = mid[:75_000]
    th = fit_threshold(morning, k)
    assert max(abs(s - 1 / 3) for s in th.train_shares) < 0.08
    # applied unchanged to the afternoon the classes stay within reach of balance
    assert min(class_shares(th.labels(mid[77_500:]))) > 0.15


def test_small_experiment_runs_end_to_end_and_logreg_beats_chance(tmp_path: Path) -> None:
    mod = experiment()
    args = mod.Args(
        out=str(tmp_path),
        horizons=(50,),
        variants=("L1",),
        models=("logreg", "lgbm", "ensemble", "lstm", "deeplob"),
        train_step=10,
        deep_step=40,
        test_step=40,
        deep_epochs=1,
        deep_seconds=5.0,
        deeplob_seconds=5.0,
    )
    res = mod.main(args)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["goal"] == json.loads(json.dumps(res["goal"]))
    cell = res["cells"]["L1"]["50"]
    assert set(cell["models"]) == {"logreg", "lgbm", "ensemble", "lstm", "deeplob"}
    for name, rec in cell["models"].items():
        for test in ("GOOG_test", "AAPL_test"):
            assert 0.0 <= rec[test]["macro_f1"] <= 1.0, name
    # a linear model on order-flow features is well above the 1/3 of chance on both stocks
    assert cell["models"]["logreg"]["GOOG_test"]["macro_f1"] > 0.40
    assert cell["models"]["logreg"]["AAPL_test"]["macro_f1"] > 0.38
