"""Deep sequence classifiers behind the alpha-model protocol: LSTM, DeepLOB CNN-LSTM, Transformer.

All three read ``X`` of shape ``(n, window, features)`` (a 2-D ``(n, features)`` array is
read as windows of length 1) and integer classes ``0..C-1``. Shared behaviour:

* inputs are standardized with the mean and deviation of the training rows' last time step;
* Adam on a cross-entropy loss, weighted by inverse class frequency when ``class_weight``;
* early stopping on the validation loss (``patience`` epochs without improvement) when a
  validation segment is given; the best epoch's weights are kept;
* ``max_train_seconds`` stops training after that much wall time (the best weights so far
  are kept), so an experiment can give every model a budget;
* CPU with ``threads`` torch threads (1 by default) unless ``device`` names another one;
  ``device=None`` picks ``cuda`` when a GPU is present;
* with the same ``seed`` on CPU, two fits give the same weights bit for bit.

Batches are copied from ``X`` one at a time, so ``X`` may be a strided view (see
:func:`tradelearn.alpha.features_lob.sequence_windows`) far larger than memory as a copy.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from tradelearn.alpha.models.base import (
    InputKind,
    Task,
    read_manifest,
    register_model,
    write_manifest,
)
from tradelearn.alpha.models.deep_nets import DeepLOBNet, LSTMNet, TransformerNet
from tradelearn.errors import ConfigError, DataError

WEIGHTS_FILE = "weights.pt"


def _check_positive(name: str, value: float, *, integer: bool = True) -> None:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if not ok or isinstance(value, bool) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"{name} must be {kind}, actually: {value!r}")


def _as_sequences(X: NDArray[Any], n_features: int | None = None) -> NDArray[Any]:
    a = np.asarray(X)
    if a.ndim == 2:
        a = a[:, None, :]
    if a.ndim != 3 or a.shape[0] == 0:
        raise DataError(
            "bad input shape", field="X", expected="(n, window, features) with n > 0", got=a.shape
        )
    if n_features is not None and a.shape[2] != n_features:
        raise DataError(
            "feature count differs from the fitted model's",
            field="X",
            expected=f"{n_features} features",
            got=a.shape[2],
        )
    return a


class _SequenceClassifier:
    """Training loop, standardization, persistence; subclasses build the network."""

    name: str
    task: Task = "classification"
    input_kind: InputKind = "sequence"
    _arch: dict[str, Any]

    def __init__(
        self,
        *,
        epochs: int = 10,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        patience: int = 3,
        seed: int = 0,
        device: str | None = None,
        threads: int = 1,
        max_train_seconds: float | None = None,
        class_weight: bool = True,
        task: str = "classification",
    ) -> None:
        if task != "classification":
            raise ConfigError(
                f"task must be 'classification' (deep models are classifiers), actually: {task!r}"
            )
        _check_positive("epochs", epochs)
        _check_positive("batch_size", batch_size)
        _check_positive("patience", patience)
        _check_positive("threads", threads)
        _check_positive("lr", lr, integer=False)
        if not isinstance(weight_decay, int | float) or weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, actually: {weight_decay!r}")
        if max_train_seconds is not None:
            _check_positive("max_train_seconds", max_train_seconds, integer=False)
        if device is not None and not isinstance(device, str):
            raise ConfigError(f"device must be None or a torch device name, actually: {device!r}")
        self._common: dict[str, Any] = {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "weight_decay": weight_decay,
            "patience": patience,
            "seed": seed,
            "device": device,
            "threads": threads,
            "max_train_seconds": max_train_seconds,
            "class_weight": class_weight,
        }
        self.net_: nn.Module | None = None
        self.n_features_: int | None = None
        self.n_classes_: int | None = None
        self.mean_ = np.zeros(0, dtype=np.float32)
        self.std_ = np.ones(0, dtype=np.float32)
        self.history_: list[dict[str, float]] = []
        self.fit_seconds_ = 0.0
        self.stopped_by_ = ""

    # ------------------------------------------------------------------ protocol

    def params(self) -> dict[str, Any]:
        """The constructor parameters (saved in ``model.json``)."""
        return {**self._common, **self._arch}

    def _build(self, n_features: int, n_classes: int) -> nn.Module:
        raise NotImplementedError

    def _check_window(self, window: int) -> None:
        """Subclasses reject windows their network cannot read."""

    def _device(self) -> torch.device:
        dev = self._common["device"]
        if dev is None:
            dev = "cuda" if torch.cuda.is_available() else "cpu"
        return torch.device(dev)

    def _batch(
        self, X: NDArray[Any], idx: NDArray[np.int64] | slice, dev: torch.device
    ) -> torch.Tensor:
        xb = (np.asarray(X[idx], dtype=np.float32) - self.mean_) / self.std_
        if not np.isfinite(xb).all():
            raise DataError(
                "non-finite input", field="X", expected="finite values", got="NaN or inf"
            )
        return torch.from_numpy(xb).to(dev)

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        X_valid: NDArray[Any] | None = None,
        y_valid: NDArray[Any] | None = None,
    ) -> _SequenceClassifier:
        """Train on ``(X, y)``; stop early on ``(X_valid, y_valid)`` when given."""
        c = self._common
        Xs = _as_sequences(X)
        yi = self._labels(y, Xs.shape[0], "y")
        self._check_window(Xs.shape[1])
        valid = X_valid is not None and y_valid is not None
        if valid:
            Xv = _as_sequences(X_valid, Xs.shape[2])  # type: ignore[arg-type]
            yv = self._labels(y_valid, Xv.shape[0], "y_valid")  # type: ignore[arg-type]
            self._check_window(Xv.shape[1])
        n_classes = int(max(yi.max(), yv.max() if valid else 0)) + 1
        n_classes = max(n_classes, 2)
        torch.set_num_threads(c["threads"])
        torch.manual_seed(c["seed"])
        rng = np.random.default_rng(c["seed"])
        dev = self._device()
        last = np.asarray(Xs[:, -1, :], dtype=np.float64)
        self.mean_ = last.mean(axis=0).astype(np.float32)
        sd = last.std(axis=0)
        self.std_ = np.where(sd > 1e-12, sd, 1.0).astype(np.float32)
        self.n_features_, self.n_classes_ = int(Xs.shape[2]), n_classes
        net = self._build(self.n_features_, n_classes).to(dev)
        self.net_ = net
        counts = np.bincount(yi, minlength=n_classes).astype(np.float64)
        w = (
            len(yi) / (n_classes * np.maximum(counts, 1.0))
            if c["class_weight"]
            else np.ones(n_classes)
        )
        loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32, device=dev))
        opt = torch.optim.Adam(net.parameters(), lr=c["lr"], weight_decay=c["weight_decay"])
        t0 = time.perf_counter()
        best_loss, best_state, wait = np.inf, None, 0
        self.history_, self.stopped_by_ = [], "epochs"
        yt = torch.from_numpy(yi).to(dev)
        bs = c["batch_size"]
        for epoch in range(c["epochs"]):
            net.train()
            perm = rng.permutation(len(yi))
            total, seen, out_of_time = 0.0, 0, False
            for s in range(0, len(perm), bs):
                idx = np.sort(perm[s : s + bs])
                opt.zero_grad()
                loss = loss_fn(net(self._batch(Xs, idx, dev)), yt[idx])
                loss.backward()
                opt.step()
                total += float(loss.item()) * len(idx)
                seen += len(idx)
                limit = c["max_train_seconds"]
                if limit is not None and time.perf_counter() - t0 > limit:
                    out_of_time = True
                    break
            rec = {"epoch": float(epoch), "train_loss": total / max(seen, 1)}
            if valid:
                vloss = self._loss(Xv, yv, loss_fn, dev)
                rec["valid_loss"] = vloss
                if vloss < best_loss - 1e-5:
                    best_loss, wait = vloss, 0
                    best_state = copy.deepcopy(net.state_dict())
                else:
                    wait += 1
            rec["seconds"] = time.perf_counter() - t0
            self.history_.append(rec)
            if out_of_time:
                self.stopped_by_ = "time"
                break
            if valid and wait >= c["patience"]:
                self.stopped_by_ = "early_stopping"
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    @staticmethod
    def _labels(y: NDArray[Any], n: int, field: str) -> NDArray[np.int64]:
        a = np.asarray(y)
        if a.shape != (n,):
            raise DataError("labels do not match X", field=field, expected=f"({n},)", got=a.shape)
        if a.dtype.kind not in "iub" and not np.all(np.mod(a, 1) == 0):
            raise DataError("labels must be integers", field=field, expected="0..C-1", got=a.dtype)
        yi = a.astype(np.int64)
        if yi.min() < 0:
            raise DataError(
                "negative class label", field=field, expected="0..C-1", got=int(yi.min())
            )
        return yi

    def _loss(
        self, X: NDArray[Any], y: NDArray[np.int64], loss_fn: nn.Module, dev: torch.device
    ) -> float:
        logits = self._logits(X, dev)
        yt = torch.from_numpy(y).to(dev)
        return float(loss_fn(logits, yt).item())

    def _logits(self, X: NDArray[Any], dev: torch.device, chunk: int = 2048) -> torch.Tensor:
        assert self.net_ is not None
        self.net_.eval()
        outs = []
        with torch.no_grad():
            for s in range(0, X.shape[0], chunk):
                outs.append(self.net_(self._batch(X, slice(s, s + chunk), dev)))
        return torch.cat(outs)

    def predict_proba(self, X: NDArray[Any]) -> NDArray[np.float64]:
        """Class probabilities, ``(n, n_classes)``."""
        if self.net_ is None:
            raise ConfigError(f"{self.name}: predict called before fit")
        Xs = _as_sequences(X, self.n_features_)
        self._check_window(Xs.shape[1])
        torch.set_num_threads(self._common["threads"])
        logits = self._logits(Xs, self._device())
        return np.asarray(torch.softmax(logits, dim=1).cpu().numpy(), dtype=np.float64)

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        """Most probable class per row."""
        return np.asarray(self.predict_proba(X).argmax(axis=1), dtype=np.int64)

    def save(self, path: Path) -> None:
        """Write ``model.json`` and ``weights.pt`` into folder ``path``."""
        if self.net_ is None:
            raise ConfigError(f"{self.name}: save called before fit")
        p = Path(path)
        write_manifest(
            p,
            self,
            extra={
                "n_features": self.n_features_,
                "n_classes": self.n_classes_,
                "history": self.history_,
                "stopped_by": self.stopped_by_,
            },
        )
        state = {
            "net": self.net_.state_dict(),
            "mean": torch.from_numpy(self.mean_),
            "std": torch.from_numpy(self.std_),
        }
        torch.save(state, p / WEIGHTS_FILE)

    @classmethod
    def load(cls, path: Path) -> _SequenceClassifier:
        """Read a model written by :meth:`save`."""
        p = Path(path)
        doc = read_manifest(p)
        model = cls(**doc["params"])
        for key in ("n_features", "n_classes"):
            if not isinstance(doc.get(key), int):
                raise ConfigError(f"{p / 'model.json'}: field '{key}' missing or not an integer")
        model.n_features_, model.n_classes_ = int(doc["n_features"]), int(doc["n_classes"])
        dev = model._device()
        state = torch.load(p / WEIGHTS_FILE, map_location=dev, weights_only=True)
        net = model._build(model.n_features_, model.n_classes_).to(dev)
        net.load_state_dict(state["net"])
        model.net_ = net
        model.mean_ = state["mean"].cpu().numpy()
        model.std_ = state["std"].cpu().numpy()
        model.history_ = list(doc.get("history", []))
        model.stopped_by_ = str(doc.get("stopped_by", ""))
        return model


@register_model("lstm")
class LSTMModel(_SequenceClassifier):
    """LSTM over the window of features (``hidden`` units, ``layers`` layers)."""

    def __init__(
        self, *, hidden: int = 64, layers: int = 1, dropout: float = 0.1, **train: Any
    ) -> None:
        super().__init__(**train)
        _check_positive("hidden", hidden)
        _check_positive("layers", layers)
        if not 0 <= dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), actually: {dropout!r}")
        self._arch = {"hidden": hidden, "layers": layers, "dropout": dropout}

    def _build(self, n_features: int, n_classes: int) -> nn.Module:
        a = self._arch
        return LSTMNet(n_features, n_classes, a["hidden"], a["layers"], a["dropout"])


@register_model("deeplob")
class DeepLOBModel(_SequenceClassifier):
    """DeepLOB-style CNN-LSTM on raw book levels (``4 x levels`` columns, LOBSTER order)."""

    def __init__(
        self, *, filters: int = 16, inception: int = 32, hidden: int = 64, **train: Any
    ) -> None:
        super().__init__(**train)
        for k, v in (("filters", filters), ("inception", inception), ("hidden", hidden)):
            _check_positive(k, v)
        self._arch = {"filters": filters, "inception": inception, "hidden": hidden}

    def _build(self, n_features: int, n_classes: int) -> nn.Module:
        a = self._arch
        return DeepLOBNet(n_features, n_classes, a["filters"], a["inception"], a["hidden"])


@register_model("transformer")
class TransformerModel(_SequenceClassifier):
    """Small Transformer encoder over the window (``max_len`` = longest window accepted)."""

    def __init__(
        self,
        *,
        d_model: int = 32,
        heads: int = 4,
        layers: int = 2,
        dropout: float = 0.1,
        max_len: int = 256,
        **train: Any,
    ) -> None:
        super().__init__(**train)
        for k, v in (
            ("d_model", d_model),
            ("heads", heads),
            ("layers", layers),
            ("max_len", max_len),
        ):
            _check_positive(k, v)
        if d_model % heads:
            raise ConfigError(f"d_model must be a multiple of heads ({heads}), actually: {d_model}")
        if not 0 <= dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), actually: {dropout!r}")
        self._arch = {
            "d_model": d_model,
            "heads": heads,
            "layers": layers,
            "dropout": dropout,
            "max_len": max_len,
        }

    def _check_window(self, window: int) -> None:
        if window > self._arch["max_len"]:
            raise ConfigError(
                f"window must be at most max_len={self._arch['max_len']}, actually: {window}"
            )

    def _build(self, n_features: int, n_classes: int) -> nn.Module:
        a = self._arch
        return TransformerNet(
            n_features, n_classes, a["d_model"], a["heads"], a["layers"], a["dropout"], a["max_len"]
        )


__all__ = ["WEIGHTS_FILE", "DeepLOBModel", "LSTMModel", "TransformerModel"]
