"""The embedding head: fit, determinism, save/load and validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tradelearn.errors import ConfigError, DataError
from tradelearn.sentiment.head import SentimentHead, fit_head, load_head, save_head

torch.set_num_threads(1)


def _blobs(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(3, dim))
    y = rng.integers(0, 3, size=n)
    return centres[y] + rng.normal(size=(n, dim)), y


@pytest.mark.parametrize("hidden", [0, 16])
def test_fit_when_classes_separable_then_held_out_accuracy_high(hidden: int) -> None:
    x, y = _blobs(600, 8, seed=1)
    head = fit_head(x[:400], y[:400], hidden=hidden, epochs=20, seed=0)
    acc = np.mean(head.predict_proba(x[400:]).argmax(axis=1) == y[400:])
    assert acc > 0.95


def test_fit_when_labels_shuffled_then_no_signal_on_held_out() -> None:
    x, y = _blobs(900, 8, seed=2)
    y_shuffled = np.random.default_rng(3).permutation(y)
    head = fit_head(x[:600], y_shuffled[:600], epochs=10, seed=0)
    acc = np.mean(head.predict_proba(x[600:]).argmax(axis=1) == y[600:])
    assert acc < 0.5


def test_fit_when_same_seed_then_identical_head() -> None:
    x, y = _blobs(200, 6, seed=4)
    a = fit_head(x, y, hidden=8, epochs=3, seed=7)
    b = fit_head(x, y, hidden=8, epochs=3, seed=7)
    c = fit_head(x, y, hidden=8, epochs=3, seed=8)
    assert all(np.array_equal(wa, wb) for (wa, _), (wb, _) in zip(a.layers, b.layers, strict=True))
    assert not np.array_equal(a.layers[0][0], c.layers[0][0])


def test_fit_when_bad_labels_then_config_error() -> None:
    with pytest.raises(ConfigError, match="labels must be 0, 1 or 2"):
        fit_head(np.zeros((4, 2)), np.array([0, 1, 2, 3]))


def test_prior_shift_when_added_then_moves_predictions_to_shifted_class() -> None:
    x, y = _blobs(300, 4, seed=5)
    head = fit_head(x, y, epochs=5, seed=0)
    shifted = head.with_prior_shift(np.array([0.0, 0.0, 50.0]))
    assert np.all(shifted.predict_proba(x).argmax(axis=1) == 2)


def test_save_load_when_round_trip_then_same_probabilities(tmp_path: Path) -> None:
    x, y = _blobs(200, 5, seed=6)
    head = fit_head(x, y, hidden=4, epochs=3, seed=0).with_prior_shift(np.array([0.1, 0.0, -0.1]))
    path = save_head(head, tmp_path / "h.npz")
    back = load_head(path)
    np.testing.assert_allclose(back.predict_proba(x), head.predict_proba(x), atol=1e-5)
    assert back.meta["hidden"] == 4


def test_load_when_shapes_inconsistent_then_data_error_names_file(tmp_path: Path) -> None:
    head = SentimentHead(((np.zeros((5, 3)), np.zeros(3)),), np.zeros(5), np.ones(5))
    path = save_head(head, tmp_path / "h.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["W0"] = np.zeros((4, 3), dtype=np.float32)
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=r"h\.npz.*layer 0"):
        load_head(path)


def test_load_when_missing_file_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="head file not found"):
        load_head(tmp_path / "none.npz")


def test_load_when_shipped_head_then_takes_minilm_embeddings() -> None:
    head = load_head()
    assert head.dim == 384
    p = head.predict_proba(np.zeros((2, 384)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert "twitter" in str(head.meta["train_data"])


def test_logits_when_wrong_width_then_config_error() -> None:
    head = SentimentHead(((np.zeros((5, 3)), np.zeros(3)),), np.zeros(5), np.ones(5))
    with pytest.raises(ConfigError, match=r"shape \(n, 5\)"):
        head.logits(np.zeros((2, 4)))
