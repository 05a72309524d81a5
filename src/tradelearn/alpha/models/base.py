"""The protocol every alpha model follows, and the registry that builds and loads them.

A model is built by name with keyword parameters (:func:`make_model`), fitted on a training
segment (with an optional validation segment for early stopping), and predicts on any other
segment. ``X`` is a float array: ``(n, features)`` for tabular models, ``(n, window,
features)`` for sequence models (LSTM, CNN-LSTM, Transformer), whose ``input_kind`` is
``"sequence"``. Classifiers take integer class labels ``0..n_classes-1`` and return them
from :meth:`predict`, probabilities from :meth:`predict_proba`; regressors (``task ==
"regression"``) return real values from :meth:`predict`.

A saved model is a folder holding ``model.json`` (the registry name, the parameters and the
tradelearn version) and whatever weight files the model writes; :func:`load_model` reads the
name and hands the folder to that class's :meth:`load`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from tradelearn import __version__
from tradelearn.errors import ConfigError

Task = Literal["classification", "regression"]
InputKind = Literal["tabular", "sequence"]


@runtime_checkable
class AlphaModel(Protocol):
    """Fit on one segment, predict on others, save to and load from a folder."""

    name: str
    task: Task
    input_kind: InputKind

    def fit(
        self,
        X: NDArray[np.float64],
        y: NDArray[Any],
        X_valid: NDArray[np.float64] | None = None,
        y_valid: NDArray[Any] | None = None,
    ) -> AlphaModel:
        """Fit on the training segment; returns ``self``."""
        ...

    def predict(self, X: NDArray[np.float64]) -> NDArray[Any]:
        """Class labels (classifiers) or values (regressors)."""
        ...

    def predict_proba(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """Class probabilities, shape ``(n, n_classes)`` (classifiers only)."""
        ...

    def params(self) -> dict[str, Any]:
        """The constructor parameters, JSON-serializable (saved in ``model.json``)."""
        ...

    def save(self, path: Path) -> None:
        """Write the fitted model into folder ``path`` (created if missing)."""
        ...


ModelFactory = Callable[..., AlphaModel]
MODEL_REGISTRY: dict[str, type[Any]] = {}
"""Model classes by name; filled by :func:`register_model`."""


def register_model(name: str) -> Callable[[type[Any]], type[Any]]:
    """Class decorator: make the class buildable and loadable under ``name``."""

    def wrap(cls: type[Any]) -> type[Any]:
        if name in MODEL_REGISTRY and MODEL_REGISTRY[name] is not cls:
            raise ConfigError(f"alpha model name '{name}' is registered twice")
        MODEL_REGISTRY[name] = cls
        cls.name = name
        return cls

    return wrap


def _ensure_loaded() -> None:
    # importing the implementations registers them
    import tradelearn.alpha.models.classic
    import tradelearn.alpha.models.deep  # noqa: F401


def make_model(name: str, **params: Any) -> AlphaModel:
    """Build the registered model ``name`` with ``params``."""
    _ensure_loaded()
    if name not in MODEL_REGISTRY:
        raise ConfigError(f"unknown alpha model '{name}': expected one of {sorted(MODEL_REGISTRY)}")
    model: AlphaModel = MODEL_REGISTRY[name](**params)
    return model


def write_manifest(path: Path, model: AlphaModel, extra: dict[str, Any] | None = None) -> None:
    """Write ``model.json`` for ``model`` into folder ``path`` (models call this in save)."""
    path.mkdir(parents=True, exist_ok=True)
    doc = {
        "name": model.name,
        "task": model.task,
        "input_kind": model.input_kind,
        "params": model.params(),
        "tradelearn_version": __version__,
        **(extra or {}),
    }
    (path / "model.json").write_text(json.dumps(doc, indent=1, sort_keys=True))


def read_manifest(path: Path) -> dict[str, Any]:
    """Read and check ``model.json`` in folder ``path``."""
    f = Path(path) / "model.json"
    if not f.is_file():
        raise ConfigError(f"{path}: not a saved alpha model (no model.json)")
    try:
        doc: dict[str, Any] = json.loads(f.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{f}: invalid JSON ({exc})") from exc
    for key in ("name", "params"):
        if key not in doc:
            raise ConfigError(f"{f}: field '{key}' missing")
    return doc


def load_model(path: str | Path) -> AlphaModel:
    """Load a model saved with its :meth:`AlphaModel.save`."""
    _ensure_loaded()
    p = Path(path)
    doc = read_manifest(p)
    name = doc["name"]
    if name not in MODEL_REGISTRY:
        raise ConfigError(
            f"{p / 'model.json'}: field 'name' is '{name}', expected one of {sorted(MODEL_REGISTRY)}"
        )
    model: AlphaModel = MODEL_REGISTRY[name].load(p)
    return model
