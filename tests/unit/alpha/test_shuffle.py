"""The label-shuffle guard over every registered alpha model.

Synthetic panel: each sample is a window of 5 features over 12 steps; the continuous
target is ``0.6 * x[-1, 0] + noise`` (correlation about 0.5 with the last step of feature
0) and the class label is its per-day tercile. Models train on the first days and are
scored on later days.

* With the true labels every model finds the planted signal (IC and macro-F1 well above
  chance).
* With the labels permuted across all samples before the split (the y-randomization test),
  nothing links features to labels any more; a leak-free pipeline must then score at
  chance on the test days: ``|IC| < 0.01`` and macro-F1 and accuracy at chance.
* The guard can fail: when the test rows are also in the training segment (the leak the
  purged splits exist to prevent), a model that memorizes rows scores well above chance
  against the permuted labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from tradelearn.alpha.dataset import cs_rank
from tradelearn.alpha.evaluate import ic_summary, macro_f1, model_scores
from tradelearn.alpha.models import MODEL_REGISTRY, make_model
from tradelearn.alpha.models.base import _ensure_loaded

N_NAMES, WINDOW, N_FEAT = 300, 12, 5
TRAIN_DAYS, VALID_DAYS, TEST_DAYS = 40, 10, 300

FAST: dict[str, dict[str, Any]] = {
    "logreg": {},
    "lgbm": {"n_estimators": 60, "min_child_samples": 50, "early_stopping_rounds": 10},
    "rf": {"n_estimators": 20, "max_depth": 6, "min_samples_leaf": 20},
    "svm": {"max_train": 600},
    "ensemble": {
        "members": ["logreg", "lgbm"],
        "member_params": {"lgbm": {"n_estimators": 40, "min_child_samples": 50}},
    },
    "lstm": {"epochs": 2, "hidden": 8, "lr": 1e-2, "batch_size": 256},
    "deeplob": {"epochs": 2, "filters": 4, "inception": 4, "hidden": 8, "lr": 1e-2},
    "transformer": {"epochs": 2, "d_model": 8, "heads": 2, "layers": 1, "lr": 1e-2},
}


def _registered() -> list[str]:
    _ensure_loaded()
    return sorted(MODEL_REGISTRY)


@pytest.fixture(scope="module")
def panel() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    days = TRAIN_DAYS + VALID_DAYS + TEST_DAYS
    n = days * N_NAMES
    X = rng.standard_normal((n, WINDOW, N_FEAT)).astype(np.float64)
    target = 0.6 * X[:, -1, 0] + rng.standard_normal(n)
    dates = np.repeat(np.datetime64("2020-01-01") + np.arange(days), N_NAMES)
    return {"X": X, "target": target, "dates": dates}


def _classes(target: np.ndarray, dates: np.ndarray) -> np.ndarray:
    return np.floor((cs_rank(target, dates) + 0.5) * 3).clip(0, 2).astype(np.int64)


def _run(name: str, data: dict[str, np.ndarray], shuffle: bool) -> dict[str, float]:
    torch.set_num_threads(1)
    X, target, dates = data["X"], data["target"], data["dates"]
    if shuffle:
        perm = np.random.default_rng(11).permutation(len(target))
        target = target[perm]
    y = _classes(target, dates)
    a, b = TRAIN_DAYS * N_NAMES, (TRAIN_DAYS + VALID_DAYS) * N_NAMES
    model = make_model(name, seed=0, **FAST.get(name, {}))
    model.fit(X[:a], y[:a], X[a:b], y[a:b])
    proba = model.predict_proba(X[b:])
    score = proba[:, -1] - proba[:, 0]
    pred = np.argmax(proba, axis=1)
    truth = y[b:]
    expected_acc = float(
        sum(np.mean(pred == k) * np.mean(truth == k) for k in range(3))
    )  # accuracy of a guess independent of the truth
    return {
        "ic": ic_summary(score, target[b:], dates[b:])["ic"],
        "f1": macro_f1(truth, pred, 3),
        "acc": float(np.mean(pred == truth)),
        "acc_chance": expected_acc,
    }


def test_every_registered_model_is_covered() -> None:
    assert set(_registered()) <= set(FAST), (
        f"add new models to FAST: {set(_registered()) - set(FAST)}"
    )
    assert {"logreg", "lgbm", "rf", "svm", "ensemble"} <= set(_registered())


@pytest.mark.parametrize("name", _registered())
def test_true_labels_then_signal_found_and_shuffled_labels_then_signal_vanishes(
    name: str, panel: dict[str, np.ndarray]
) -> None:
    true = _run(name, panel, shuffle=False)
    assert true["ic"] > 0.15, true
    assert true["f1"] > 0.38, true
    shuffled = _run(name, panel, shuffle=True)
    assert abs(shuffled["ic"]) < 0.01, shuffled
    assert shuffled["f1"] < 1 / 3 + 0.015, shuffled
    assert abs(shuffled["acc"] - shuffled["acc_chance"]) < 0.01, shuffled


def test_guard_fails_when_test_rows_leak_into_training(panel: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(3)
    n = 8_000
    X = panel["X"][:n, -1, :]
    dates = panel["dates"][:n]
    target = panel["target"][:n][rng.permutation(n)]
    y = _classes(target, dates)
    test = slice(n // 2, n)
    model = make_model("rf", n_estimators=10, max_depth=None, min_samples_leaf=1, max_features=1.0)
    model.fit(X, y)  # the whole panel, test rows included: the leak
    leaked = ic_summary(model_scores(model, X[test]), target[test], dates[test])["ic"]
    assert leaked > 0.1
