"""Deep sequence models: they learn a planted signal, repeat with a seed, stop early, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tradelearn.alpha.models.base import MODEL_REGISTRY, load_model, make_model
from tradelearn.alpha.models.deep import DeepLOBModel, LSTMModel, TransformerModel
from tradelearn.errors import ConfigError, DataError

DEEP = ("lstm", "deeplob", "transformer")
SMALL = {
    "lstm": {"hidden": 16},
    "deeplob": {"filters": 8, "inception": 8, "hidden": 16},
    "transformer": {"d_model": 16, "heads": 2, "layers": 1},
}


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


def planted(n: int, seed: int, window: int = 6, features: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Class = sign of feature 0 summed over the last three steps (0 down, 1 flat, 2 up)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window, features))
    s = X[:, -3:, 0].sum(axis=1)
    y = np.where(s > 0.7, 2, np.where(s < -0.7, 0, 1))
    return X, y


@pytest.mark.parametrize("name", DEEP)
def test_model_learns_a_planted_signal(name: str) -> None:
    X, y = planted(1000, 0)
    Xt, yt = planted(400, 1)
    m = make_model(name, epochs=10, lr=5e-3, batch_size=64, seed=0, device="cpu", **SMALL[name])
    m.fit(X, y, Xt, yt)
    acc = float((m.predict(Xt) == yt).mean())
    assert acc > 0.7, f"{name} accuracy {acc:.3f}"
    p = m.predict_proba(Xt)
    assert p.shape == (400, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", DEEP)
def test_same_seed_gives_identical_predictions_on_cpu(name: str) -> None:
    X, y = planted(300, 2)
    probs = []
    for _ in range(2):
        m = make_model(name, epochs=2, seed=7, device="cpu", **SMALL[name])
        probs.append(m.fit(X, y).predict_proba(X))
    np.testing.assert_array_equal(probs[0], probs[1])
    other = make_model(name, epochs=2, seed=8, device="cpu", **SMALL[name]).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), probs[0])


@pytest.mark.parametrize("name", DEEP)
def test_save_then_load_predicts_the_same(name: str, tmp_path: Path) -> None:
    X, y = planted(200, 3)
    m = make_model(name, epochs=1, seed=0, device="cpu", **SMALL[name]).fit(X, y)
    m.save(tmp_path / name)
    back = load_model(tmp_path / name)
    assert type(back) is type(m) and back.params() == m.params()
    np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))


def test_early_stopping_keeps_the_best_validation_epoch() -> None:
    rng = np.random.default_rng(4)
    X, Xv = rng.normal(size=(400, 4, 8)), rng.normal(size=(200, 4, 8))
    y, yv = rng.integers(0, 3, 400), rng.integers(0, 3, 200)  # pure noise: it overfits
    m = LSTMModel(hidden=32, epochs=60, lr=1e-2, patience=2, seed=0, device="cpu")
    m.fit(X, y, Xv, yv)
    assert m.stopped_by_ == "early_stopping"
    losses = [h["valid_loss"] for h in m.history_]
    assert len(losses) < 60
    best = int(np.argmin(losses))
    assert best == len(losses) - 1 - 2  # patience epochs after the best one
    # the kept weights are the best epoch's
    import torch.nn as nn

    w = torch.tensor(len(y) / (3 * np.bincount(y, minlength=3)), dtype=torch.float32)
    logits = torch.log(torch.from_numpy(m.predict_proba(Xv)).float())
    kept = float(nn.functional.nll_loss(logits, torch.from_numpy(yv), weight=w))
    assert kept == pytest.approx(losses[best], rel=1e-4)


def test_time_budget_stops_training() -> None:
    X, y = planted(2000, 5)
    m = TransformerModel(d_model=16, heads=2, epochs=50, batch_size=16, max_train_seconds=0.2)
    m.fit(X, y)
    assert m.stopped_by_ == "time"
    assert len(m.history_) == 1


def test_deeplob_reads_level_structured_and_other_widths() -> None:
    X, y = planted(100, 6, features=4)  # one level: ask price/size, bid price/size
    DeepLOBModel(filters=4, inception=4, hidden=8, epochs=1).fit(X, y)
    X, y = planted(100, 6, features=7)  # not 4 x levels: the plain stem
    DeepLOBModel(filters=4, inception=4, hidden=8, epochs=1).fit(X, y)


def test_two_dimensional_input_is_a_window_of_one() -> None:
    X, y = planted(100, 7)
    m = LSTMModel(hidden=8, epochs=1).fit(X[:, -1, :], y)
    assert m.predict(X[:, -1, :]).shape == (100,)


def test_registry_and_protocol_fields() -> None:
    for name in DEEP:
        cls = MODEL_REGISTRY[name]
        assert cls.name == name and cls.input_kind == "sequence" and cls.task == "classification"


def test_bad_parameters_and_inputs_raise_with_the_field_named() -> None:
    with pytest.raises(ConfigError, match="epochs"):
        LSTMModel(epochs=0)
    with pytest.raises(ConfigError, match="d_model"):
        TransformerModel(d_model=10, heads=4)
    with pytest.raises(ConfigError, match="task"):
        LSTMModel(task="regression")
    with pytest.raises(TypeError):
        LSTMModel(bogus=1)
    X, y = planted(50, 8)
    m = LSTMModel(hidden=8, epochs=1)
    with pytest.raises(ConfigError, match="before fit"):
        m.predict(X)
    with pytest.raises(DataError, match="y"):
        m.fit(X, y[:10])
    m.fit(X, y)
    with pytest.raises(DataError, match="feature count"):
        m.predict(X[:, :, :5])
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="non-finite"):
        m.predict(bad)
    with pytest.raises(ConfigError, match="max_len"):
        TransformerModel(max_len=4, epochs=1).fit(X, y)
