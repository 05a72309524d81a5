"""Classic alpha models: they learn a planted signal, round-trip through save/load, read
sequence input by its last step, and reject bad parameters and data with named fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tradelearn.alpha.models import load_model, make_model
from tradelearn.alpha.models.classic import LgbmModel, SvmModel, as_tabular
from tradelearn.errors import ConfigError, DataError

CLASSIC = ["logreg", "lgbm", "rf", "svm", "ensemble"]
SMALL: dict[str, dict[str, Any]] = {
    "lgbm": {"n_estimators": 40, "min_child_samples": 20},
    "rf": {"n_estimators": 15, "min_samples_leaf": 10},
    "svm": {"max_train": 400},
    "ensemble": {"members": ["logreg", "rf"], "member_params": {"rf": {"n_estimators": 10}}},
}


def _data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    value = X[:, 0] - 0.5 * X[:, 1] + 0.5 * rng.standard_normal(n)
    classes = np.digitize(value, np.quantile(value, [1 / 3, 2 / 3]))
    return X, classes.astype(np.int64), value


@pytest.mark.parametrize("name", CLASSIC)
def test_classifier_learns_signal_and_round_trips(name: str, tmp_path: Path) -> None:
    X, y, _ = _data()
    model = make_model(name, seed=1, **SMALL.get(name, {}))
    model.fit(X[:1500], y[:1500], X[1500:1750], y[1500:1750])
    proba = model.predict_proba(X[1750:])
    assert proba.shape == (250, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert np.mean(model.predict(X[1750:]) == y[1750:]) > 0.6  # chance is 1/3
    model.save(tmp_path / name)
    doc = json.loads((tmp_path / name / "model.json").read_text())
    assert doc["name"] == name and doc["params"]["seed"] == 1
    again = load_model(tmp_path / name)
    np.testing.assert_allclose(again.predict_proba(X[1750:]), proba)


@pytest.mark.parametrize("name", CLASSIC)
def test_regressor_learns_signal_and_round_trips(name: str, tmp_path: Path) -> None:
    X, _, value = _data(seed=2)
    model = make_model(name, task="regression", seed=0, **SMALL.get(name, {}))
    model.fit(X[:1500], value[:1500], X[1500:1750], value[1500:1750])
    pred = model.predict(X[1750:])
    assert np.corrcoef(pred, value[1750:])[0, 1] > 0.6
    with pytest.raises(ConfigError, match="predict_proba needs task='classification'"):
        model.predict_proba(X[:5])
    model.save(tmp_path / name)
    np.testing.assert_allclose(load_model(tmp_path / name).predict(X[1750:]), pred)


def test_same_seed_then_same_predictions() -> None:
    X, y, _ = _data()
    a = make_model("rf", seed=4, n_estimators=5).fit(X, y).predict_proba(X[:50])
    b = make_model("rf", seed=4, n_estimators=5).fit(X, y).predict_proba(X[:50])
    np.testing.assert_array_equal(a, b)


def test_sequence_input_then_last_step_is_used() -> None:
    X, y, _ = _data(600)
    rng = np.random.default_rng(0)
    seq = np.concatenate([rng.standard_normal((600, 3, 4)), X[:, None, :]], axis=1)
    np.testing.assert_array_equal(as_tabular(seq), X)
    flat = make_model("logreg").fit(X, y).predict_proba(X)
    from_seq = make_model("logreg").fit(seq, y).predict_proba(seq)
    np.testing.assert_allclose(flat, from_seq)


def test_lgbm_early_stops_on_noise_labels() -> None:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3000, 5))
    y = rng.integers(0, 3, 3000)
    model = make_model("lgbm", n_estimators=400, early_stopping_rounds=10)
    model.fit(X[:2000], y[:2000], X[2000:], y[2000:])
    assert isinstance(model, LgbmModel)
    assert model.best_iteration is not None and model.best_iteration < 100


def test_svm_subsample_is_capped_and_seeded() -> None:
    X, y, _ = _data(3000)
    model = SvmModel(max_train=500, seed=3)
    Xs, ys = model._sample(X, y)
    assert Xs.shape == (500, 4) and ys.shape == (500,)
    Xs2, _ = SvmModel(max_train=500, seed=3)._sample(X, y)
    np.testing.assert_array_equal(Xs, Xs2)


def test_ensemble_averages_member_probabilities() -> None:
    X, y, _ = _data()
    ens = make_model(
        "ensemble", members=["logreg", "rf"], member_params={"rf": {"n_estimators": 5}}
    )
    ens.fit(X, y)
    logreg = make_model("logreg").fit(X, y).predict_proba(X[:20])
    rf = make_model("rf", n_estimators=5).fit(X, y).predict_proba(X[:20])
    np.testing.assert_allclose(ens.predict_proba(X[:20]), (logreg + rf) / 2)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("logreg", {"task": "ranking"}, "task must be 'classification' or 'regression'"),
        ("rf", {"n_jobs": 0}, "n_jobs must be >= 1"),
        ("svm", {"kernel": "poly"}, "kernel must be 'rbf' or 'linear'"),
        ("lgbm", {"subsample": 1.5}, "subsample"),
        ("ensemble", {"members": ["ensemble"]}, "members must name other registered models"),
        ("ensemble", {"members": ["logreg"], "member_params": {"rf": {}}}, "member_params"),
        ("nope", {}, "unknown alpha model 'nope'"),
    ],
)
def test_bad_parameters_then_config_error(name: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_model(name, **params)


def test_bad_data_then_data_error_names_the_field() -> None:
    X, y, _ = _data(100)
    with pytest.raises(DataError, match="field 'y'"):
        make_model("logreg").fit(X, y[:50])
    with pytest.raises(DataError, match="field 'X'"):
        make_model("logreg").fit(X[:, 0], y)
    with pytest.raises(DataError, match="class labels must be >= 0"):
        make_model("rf").fit(X, y - 1)
    with pytest.raises(DataError, match="finite"):
        make_model("lgbm", task="regression").fit(X, np.full(100, np.nan))
    with pytest.raises(ConfigError, match="not fitted"):
        make_model("rf").predict(X)
