"""A small classification head on sentence embeddings: fit, save, load, predict.

The head is a multinomial logistic regression (``hidden=0``) or a one-hidden-layer
ReLU network, trained with torch and stored as plain NumPy arrays in an ``.npz`` file
so that scoring needs only NumPy. Inputs are centred and scaled with the training
mean and standard deviation. ``log_prior_shift`` is added to the logits: a prior
correction ``log(target prior) - log(training prior)`` (zero: none).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError, DataError

__all__ = ["HEAD_FILE", "SentimentHead", "fit_head", "load_head", "save_head"]

HEAD_FILE = "minilm_head.npz"
"""File name of the head shipped in ``tradelearn/sentiment/data``."""

_N_CLASSES = 3
F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SentimentHead:
    """A trained head.

    Attributes
    ----------
    layers
        ``(W, b)`` pairs; ``W`` has shape ``(in, out)``; ReLU between layers; the last
        layer has 3 outputs (negative/neutral/positive).
    mean, scale
        Input centring and scaling, shape ``(dim,)``.
    log_prior_shift
        Added to the logits, shape ``(3,)``.
    meta
        Free-form provenance (training data, settings, validation figures).
    """

    layers: tuple[tuple[F64, F64], ...]
    mean: F64
    scale: F64
    log_prior_shift: F64 = field(default_factory=lambda: np.zeros(_N_CLASSES))
    meta: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_shapes(self.layers, self.mean, self.scale, self.log_prior_shift, "head")

    @property
    def dim(self) -> int:
        """Input width."""
        return int(self.mean.shape[0])

    def logits(self, x: NDArray[np.floating]) -> F64:
        """Logits of inputs of shape ``(n, dim)``."""
        a = np.asarray(x, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != self.dim:
            raise ConfigError(f"embeddings must have shape (n, {self.dim}), actually: {a.shape}")
        h = (a - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return h + self.log_prior_shift

    def predict_proba(self, x: NDArray[np.floating]) -> F64:
        """Softmax probabilities, columns negative/neutral/positive."""
        z = self.logits(x)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)

    def with_prior_shift(self, shift: NDArray[np.floating]) -> SentimentHead:
        """The same head with another logit shift."""
        return SentimentHead(
            self.layers, self.mean, self.scale, np.asarray(shift, np.float64), dict(self.meta)
        )


def _check_shapes(
    layers: tuple[tuple[F64, F64], ...], mean: F64, scale: F64, shift: F64, where: str
) -> None:
    def bad(what: str, expected: str, got: object) -> DataError:
        return DataError(f"{where}: bad {what}", field=what, expected=expected, got=got)

    if mean.ndim != 1 or scale.shape != mean.shape:
        raise bad("mean/scale", "two vectors of one length", (mean.shape, scale.shape))
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise bad("scale", "positive finite values", "non-positive or non-finite")
    if shift.shape != (_N_CLASSES,):
        raise bad("log_prior_shift", "shape (3,)", shift.shape)
    if not layers:
        raise bad("layers", "at least one layer", 0)
    width = mean.shape[0]
    for i, (w, b) in enumerate(layers):
        if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
            raise bad(f"layer {i}", f"W of shape ({width}, k) and b of shape (k,)", w.shape)
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise bad(f"layer {i}", "finite weights", "NaN or inf")
        width = w.shape[1]
    if width != _N_CLASSES:
        raise bad("last layer", "3 outputs", width)


def fit_head(
    x: NDArray[np.floating],
    y: NDArray[np.integer],
    *,
    hidden: int = 0,
    weight_decay: float = 1e-3,
    class_weight: bool = True,
    epochs: int = 40,
    lr: float = 3e-3,
    batch_size: int = 128,
    seed: int = 0,
) -> SentimentHead:
    """Train a head on embeddings ``x`` and labels ``y`` (0 neg, 1 neutral, 2 pos).

    Parameters
    ----------
    x, y
        Inputs ``(n, dim)`` and integer labels ``(n,)``.
    hidden
        Width of the hidden ReLU layer; 0 gives a logistic regression.
    weight_decay
        L2 penalty (AdamW decoupled weight decay).
    class_weight
        Weight the loss by inverse class frequency (a balanced-class fit).
    epochs, lr, batch_size
        Adam schedule.
    seed
        Seeds initial weights, minibatch order and dropout-free training: equal
        inputs and seed give an equal head.
    """
    import torch

    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.int64)
    if xa.ndim != 2 or ya.shape != (xa.shape[0],) or xa.shape[0] == 0:
        raise ConfigError(f"x must be (n, dim) and y (n,), actually: {xa.shape}, {ya.shape}")
    if ya.min() < 0 or ya.max() >= _N_CLASSES:
        raise ConfigError(f"labels must be 0, 1 or 2, actually: {sorted(set(ya.tolist()))}")
    for name, v, lo in (
        ("hidden", hidden, 0),
        ("epochs", epochs, 1),
        ("batch_size", batch_size, 1),
    ):
        if v < lo:
            raise ConfigError(f"{name} must be at least {lo}, actually: {v}")
    mean = xa.mean(axis=0)
    scale = xa.std(axis=0) + 1e-6
    xs = torch.tensor((xa - mean) / scale, dtype=torch.float32)
    yt = torch.tensor(ya)
    counts = np.bincount(ya, minlength=_N_CLASSES).astype(np.float64)
    if class_weight:
        wts = np.where(counts > 0, len(ya) / (_N_CLASSES * np.maximum(counts, 1)), 0.0)
    else:
        wts = np.ones(_N_CLASSES)

    gen = torch.Generator().manual_seed(seed)
    dims = [xa.shape[1], *([hidden] if hidden else []), _N_CLASSES]
    params: list[torch.Tensor] = []
    for d_in, d_out in itertools.pairwise(dims):
        bound = 1.0 / np.sqrt(d_in)
        w = (torch.rand(d_in, d_out, generator=gen) * 2 - 1) * bound
        params += [w.requires_grad_(), torch.zeros(d_out, requires_grad=True)]
    class_w = torch.tensor(wts, dtype=torch.float32)
    # AdamW written out: torch.optim's first use imports torch._dynamo (~20 s)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    m1 = [torch.zeros_like(p) for p in params]
    m2 = [torch.zeros_like(p) for p in params]
    t = 0
    rng = np.random.default_rng(seed)

    def forward(inp: torch.Tensor) -> torch.Tensor:
        h = inp
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = torch.relu(h)
        return h

    n = xa.shape[0]
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss = torch.nn.functional.cross_entropy(forward(xs[idx]), yt[idx], weight=class_w)
            grads = torch.autograd.grad(loss, params)
            t += 1
            with torch.no_grad():
                for p, g, a, b in zip(params, grads, m1, m2, strict=True):
                    p.mul_(1.0 - lr * weight_decay)
                    a.mul_(beta1).add_(g, alpha=1.0 - beta1)
                    b.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
                    denom = (b / (1.0 - beta2**t)).sqrt_().add_(eps)
                    p.addcdiv_(a, denom, value=-lr / (1.0 - beta1**t))
    arrays = [p.detach().numpy().astype(np.float64) for p in params]
    layers = tuple((arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2))
    meta: dict[str, object] = {
        "hidden": hidden,
        "weight_decay": weight_decay,
        "class_weight": class_weight,
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "train_counts": counts.astype(int).tolist(),
    }
    return SentimentHead(layers, mean, scale, np.zeros(_N_CLASSES), meta)


def save_head(head: SentimentHead, path: str | Path) -> Path:
    """Write a head to an ``.npz`` file (arrays plus JSON metadata)."""
    p = Path(path)
    arrays: dict[str, NDArray[np.float64]] = {
        "mean": head.mean,
        "scale": head.scale,
        "log_prior_shift": head.log_prior_shift,
    }
    for i, (w, b) in enumerate(head.layers):
        arrays[f"W{i}"] = w.astype(np.float32).astype(np.float64)
        arrays[f"b{i}"] = b
    payload: dict[str, NDArray[Any]] = {k: v.astype(np.float32) for k, v in arrays.items()}
    payload["meta"] = np.array(
        json.dumps({"n_layers": len(head.layers), **head.meta}, sort_keys=True)
    )
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("wb") as fh:
        np.savez_compressed(fh, allow_pickle=False, **payload)
    return p


def load_head(path: str | Path | None = None) -> SentimentHead:
    """Load a head; ``None`` loads the one shipped in the package.

    Raises
    ------
    DataError
        The file is missing, unreadable, or its arrays have inconsistent shapes.
    """
    if path is None:
        ref = resources.files("tradelearn.sentiment") / "data" / HEAD_FILE
        with resources.as_file(ref) as real:
            return _load(Path(real))
    return _load(Path(path))


def _load(p: Path) -> SentimentHead:
    if not p.is_file():
        raise DataError("head file not found", path=p, expected="an .npz head", got="no file")
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"not a readable .npz file ({exc})", path=p) from exc
    try:
        meta = json.loads(str(data["meta"]))
        n_layers = int(meta.pop("n_layers"))
        layers = tuple(
            (data[f"W{i}"].astype(np.float64), data[f"b{i}"].astype(np.float64))
            for i in range(n_layers)
        )
        mean = data["mean"].astype(np.float64)
        scale = data["scale"].astype(np.float64)
        shift = data["log_prior_shift"].astype(np.float64)
    except (KeyError, ValueError, TypeError) as exc:
        raise DataError(f"head file lacks an entry ({exc})", path=p) from exc
    try:
        return SentimentHead(layers, mean, scale, shift, meta)
    except DataError as exc:
        raise DataError(
            exc.reason, path=p, field=exc.field, expected=exc.expected, got=exc.got
        ) from exc
