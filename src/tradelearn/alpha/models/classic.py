"""Classic alpha models: logistic/ridge, LightGBM, random forest, SVM and an ensemble.

Every model takes ``task`` (``"classification"`` or ``"regression"``), ``seed`` and
``n_jobs`` (default 1), and follows :class:`~tradelearn.alpha.models.base.AlphaModel`.

These models are tabular (``input_kind == "tabular"``). Given sequence input ``(n, window,
features)`` they use only the last step of each window, ``X[:, -1, :]``: the most recent
snapshot, which is what a tabular model sees when it is handed the same samples as a
sequence model (to compare both on one dataset).

Saved folders hold ``model.json`` plus ``model.joblib`` (scikit-learn models), LightGBM's
own text format ``model.txt``, or one sub-folder per ensemble member.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib  # type: ignore[import-untyped, unused-ignore]
import numpy as np
from numpy.typing import NDArray

from tradelearn.alpha.models.base import (
    AlphaModel,
    InputKind,
    Task,
    load_model,
    make_model,
    read_manifest,
    register_model,
    write_manifest,
)
from tradelearn.errors import ConfigError, DataError

__all__ = [
    "EnsembleModel",
    "LgbmModel",
    "LinearModel",
    "RandomForestModel",
    "SvmModel",
    "as_tabular",
]


def as_tabular(X: NDArray[Any]) -> NDArray[np.float64]:
    """``(n, f)`` as float64; ``(n, window, f)`` becomes its last step ``X[:, -1, :]``."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[:, -1, :]
    if arr.ndim != 2:
        raise DataError(
            "model input has the wrong shape",
            field="X",
            expected="(n, features) or (n, window, features)",
            got=arr.shape,
        )
    if arr.shape[0] == 0:
        raise DataError("model input is empty", field="X", expected="n >= 1", got=arr.shape)
    return arr


def _check_task(task: str) -> Task:
    if task not in ("classification", "regression"):
        raise ConfigError(f"task must be 'classification' or 'regression', actually: {task!r}")
    return task  # type: ignore[return-value]


def _labels(y: NDArray[Any], n: int, task: Task) -> NDArray[Any]:
    arr = np.asarray(y)
    if arr.shape != (n,):
        raise DataError("labels do not match X", field="y", expected=f"shape ({n},)", got=arr.shape)
    if task == "regression":
        out = arr.astype(np.float64)
        if not np.isfinite(out).all():
            raise DataError("regression targets must be finite", field="y", expected="finite")
        return out
    if not np.issubdtype(arr.dtype, np.integer) and not np.all(np.mod(arr, 1) == 0):
        raise DataError("class labels must be integers", field="y", expected="0..k-1", got=arr[:5])
    out_i = arr.astype(np.int64)
    if out_i.min() < 0:
        raise DataError("class labels must be >= 0", field="y", expected=">= 0", got=out_i.min())
    return out_i


class _Base:
    """Shared parameter handling, checks and proba->label logic."""

    name: str = ""
    input_kind: InputKind = "tabular"

    def __init__(self, task: str = "classification", seed: int = 0, n_jobs: int = 1) -> None:
        self.task: Task = _check_task(task)
        if not isinstance(seed, int | np.integer):
            raise ConfigError(f"seed must be an integer, actually: {seed!r}")
        if int(n_jobs) < 1:
            raise ConfigError(f"n_jobs must be >= 1, actually: {n_jobs}")
        self.seed = int(seed)
        self.n_jobs = int(n_jobs)
        self.n_classes: int | None = None
        self._fitted = False

    def _extra_params(self) -> dict[str, Any]:
        return {}

    def params(self) -> dict[str, Any]:
        """Constructor parameters, JSON-serializable."""
        return {"task": self.task, "seed": self.seed, "n_jobs": self.n_jobs, **self._extra_params()}

    def _prepare_fit(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[NDArray[np.float64], Any]:
        Xt = as_tabular(X)
        yt = _labels(y, Xt.shape[0], self.task)
        if self.task == "classification":
            self.n_classes = max(int(yt.max()) + 1, 2)
        return Xt, yt

    def _need_fitted(self) -> None:
        if not self._fitted:
            raise ConfigError(f"model '{self.name}' is not fitted: call fit first")

    def predict_proba(self, X: NDArray[Any]) -> NDArray[np.float64]:
        """Class probabilities ``(n, n_classes)``."""
        self._need_fitted()
        if self.task != "classification":
            raise ConfigError(f"predict_proba needs task='classification', model has {self.task}")
        return self._proba(as_tabular(X))

    def predict(self, X: NDArray[Any]) -> NDArray[Any]:
        """Class labels (classification) or values (regression)."""
        self._need_fitted()
        Xt = as_tabular(X)
        if self.task == "classification":
            labels: NDArray[np.int64] = np.argmax(self._proba(Xt), axis=1).astype(np.int64)
            return labels
        return self._value(Xt)

    def _proba(self, X: NDArray[np.float64]) -> NDArray[np.float64]:  # pragma: no cover
        raise NotImplementedError

    def _value(self, X: NDArray[np.float64]) -> NDArray[np.float64]:  # pragma: no cover
        raise NotImplementedError

    def _manifest_extra(self) -> dict[str, Any]:
        return {"n_classes": self.n_classes}

    def _restore(self, doc: dict[str, Any]) -> None:
        self.n_classes = doc.get("n_classes")
        self._fitted = True


def _full_proba(est: Any, X: NDArray[np.float64], n_classes: int) -> NDArray[np.float64]:
    """``est.predict_proba`` widened to every class (classes missing from training get 0)."""
    p = np.asarray(est.predict_proba(X), dtype=np.float64)
    out = np.zeros((X.shape[0], n_classes))
    out[:, np.asarray(est.classes_, dtype=np.int64)] = p
    return out


class _SklearnModel(_Base):
    """A scikit-learn estimator saved with joblib."""

    def __init__(self, task: str = "classification", seed: int = 0, n_jobs: int = 1) -> None:
        super().__init__(task, seed, n_jobs)
        self.estimator: Any = None

    def _build(self) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _sample(self, X: NDArray[np.float64], y: Any) -> tuple[NDArray[np.float64], Any]:
        return X, y

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        X_valid: NDArray[Any] | None = None,
        y_valid: NDArray[Any] | None = None,
    ) -> AlphaModel:
        """Fit on the training segment (the validation segment is not used)."""
        Xt, yt = self._prepare_fit(X, y)
        Xs, ys = self._sample(Xt, yt)
        self.estimator = self._build().fit(Xs, ys)
        self._fitted = True
        return self

    def _proba(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        assert self.n_classes is not None
        return _full_proba(self.estimator, X, self.n_classes)

    def _value(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(self.estimator.predict(X), dtype=np.float64)

    def save(self, path: Path) -> None:
        """Write ``model.json`` and ``model.joblib``."""
        self._need_fitted()
        write_manifest(Path(path), self, self._manifest_extra())
        joblib.dump(self.estimator, Path(path) / "model.joblib")

    @classmethod
    def load(cls, path: Path) -> AlphaModel:
        """Read a folder written by :meth:`save`."""
        doc = read_manifest(path)
        model = cls(**doc["params"])
        model.estimator = joblib.load(Path(path) / "model.joblib")
        model._restore(doc)
        return model


@register_model("logreg")
class LinearModel(_SklearnModel):
    """Multinomial logistic regression (classification) or ridge regression (regression).

    Inputs are standardized inside the model. ``C`` is the inverse L2 strength of the
    logistic regression, ``alpha`` the ridge penalty.
    """

    def __init__(
        self,
        task: str = "classification",
        seed: int = 0,
        n_jobs: int = 1,
        C: float = 1.0,
        alpha: float = 1.0,
        max_iter: int = 500,
    ) -> None:
        super().__init__(task, seed, n_jobs)
        if C <= 0 or alpha < 0 or max_iter < 1:
            raise ConfigError(
                f"need C > 0, alpha >= 0, max_iter >= 1; got {C}, {alpha}, {max_iter}"
            )
        self.C, self.alpha, self.max_iter = float(C), float(alpha), int(max_iter)

    def _extra_params(self) -> dict[str, Any]:
        return {"C": self.C, "alpha": self.alpha, "max_iter": self.max_iter}

    def _build(self) -> Any:
        from sklearn.linear_model import LogisticRegression, Ridge  # type: ignore[import-untyped, unused-ignore]
        from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped, unused-ignore]
        from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped, unused-ignore]

        if self.task == "classification":
            est: Any = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.seed)
        else:
            est = Ridge(alpha=self.alpha)
        return make_pipeline(StandardScaler(), est)


@register_model("rf")
class RandomForestModel(_SklearnModel):
    """Random forest; ``max_samples`` (fraction or count) bounds each tree's bootstrap."""

    def __init__(
        self,
        task: str = "classification",
        seed: int = 0,
        n_jobs: int = 1,
        n_estimators: int = 100,
        max_depth: int | None = 8,
        min_samples_leaf: int = 50,
        max_features: float = 0.5,
        max_samples: float | int | None = None,
    ) -> None:
        super().__init__(task, seed, n_jobs)
        if n_estimators < 1 or min_samples_leaf < 1 or not 0 < max_features <= 1:
            raise ConfigError(
                "need n_estimators >= 1, min_samples_leaf >= 1, 0 < max_features <= 1; got "
                f"{n_estimators}, {min_samples_leaf}, {max_features}"
            )
        self.n_estimators, self.max_depth = int(n_estimators), max_depth
        self.min_samples_leaf, self.max_features = int(min_samples_leaf), float(max_features)
        self.max_samples = max_samples

    def _extra_params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "min_samples_leaf": self.min_samples_leaf,
            "max_features": self.max_features,
            "max_samples": self.max_samples,
        }

    def _build(self) -> Any:
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # type: ignore[import-untyped, unused-ignore]

        cls = RandomForestClassifier if self.task == "classification" else RandomForestRegressor
        return cls(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            max_samples=self.max_samples,
            random_state=self.seed,
            n_jobs=self.n_jobs,
        )


@register_model("svm")
class SvmModel(_SklearnModel):
    """Support-vector machine on a seeded subsample of at most ``max_train`` rows.

    ``kernel="rbf"``: SVC calibrated by Platt scaling on held-out folds
    (``CalibratedClassifierCV(SVC(), ensemble=False)``) or SVR; ``kernel="linear"``:
    LinearSVC with calibration or LinearSVR. Inputs are standardized inside the model.
    """

    def __init__(
        self,
        task: str = "classification",
        seed: int = 0,
        n_jobs: int = 1,
        kernel: str = "rbf",
        C: float = 1.0,
        max_train: int = 5000,
    ) -> None:
        super().__init__(task, seed, n_jobs)
        if kernel not in ("rbf", "linear"):
            raise ConfigError(f"kernel must be 'rbf' or 'linear', actually: {kernel!r}")
        if C <= 0 or max_train < 10:
            raise ConfigError(f"need C > 0 and max_train >= 10; got {C}, {max_train}")
        self.kernel, self.C, self.max_train = kernel, float(C), int(max_train)

    def _extra_params(self) -> dict[str, Any]:
        return {"kernel": self.kernel, "C": self.C, "max_train": self.max_train}

    def _sample(self, X: NDArray[np.float64], y: Any) -> tuple[NDArray[np.float64], Any]:
        if X.shape[0] <= self.max_train:
            return X, y
        idx = np.sort(np.random.default_rng(self.seed).choice(X.shape[0], self.max_train, False))
        return X[idx], y[idx]

    def _build(self) -> Any:
        from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped, unused-ignore]
        from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped, unused-ignore]
        from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped, unused-ignore]
        from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR  # type: ignore[import-untyped, unused-ignore]

        est: Any
        if self.task == "classification" and self.kernel == "rbf":
            est = CalibratedClassifierCV(
                SVC(C=self.C, random_state=self.seed), cv=3, ensemble=False
            )
        elif self.task == "classification":
            est = CalibratedClassifierCV(LinearSVC(C=self.C, random_state=self.seed), cv=3)
        elif self.kernel == "rbf":
            est = SVR(C=self.C)
        else:
            est = LinearSVR(C=self.C, random_state=self.seed, dual="auto")
        return make_pipeline(StandardScaler(), est)


@register_model("lgbm")
class LgbmModel(_Base):
    """LightGBM gradient boosting (multiclass or L2 regression), early-stopped on the valid set.

    Defaults are strongly regularized for noisy financial targets: shallow trees, large
    leaves, row and column subsampling and an L2 penalty.
    """

    def __init__(
        self,
        task: str = "classification",
        seed: int = 0,
        n_jobs: int = 1,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 200,
        subsample: float = 0.8,
        colsample: float = 0.8,
        reg_lambda: float = 10.0,
        early_stopping_rounds: int = 30,
    ) -> None:
        super().__init__(task, seed, n_jobs)
        if n_estimators < 1 or learning_rate <= 0 or num_leaves < 2 or min_child_samples < 1:
            raise ConfigError(
                "need n_estimators >= 1, learning_rate > 0, num_leaves >= 2, "
                f"min_child_samples >= 1; got {n_estimators}, {learning_rate}, {num_leaves}, "
                f"{min_child_samples}"
            )
        if not (0 < subsample <= 1 and 0 < colsample <= 1) or reg_lambda < 0:
            raise ConfigError(
                f"need 0 < subsample, colsample <= 1, reg_lambda >= 0; got {subsample}, "
                f"{colsample}, {reg_lambda}"
            )
        self.n_estimators, self.learning_rate = int(n_estimators), float(learning_rate)
        self.num_leaves, self.min_child_samples = int(num_leaves), int(min_child_samples)
        self.subsample, self.colsample, self.reg_lambda = subsample, colsample, reg_lambda
        self.early_stopping_rounds = int(early_stopping_rounds)
        self.booster: Any = None
        self.best_iteration: int | None = None

    def _extra_params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "subsample": self.subsample,
            "colsample": self.colsample,
            "reg_lambda": self.reg_lambda,
            "early_stopping_rounds": self.early_stopping_rounds,
        }

    def _lgb_params(self) -> dict[str, Any]:
        p: dict[str, Any] = {
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample,
            "lambda_l2": self.reg_lambda,
            "seed": self.seed,
            "num_threads": self.n_jobs,
            "deterministic": True,
            "force_col_wise": True,
            "verbose": -1,
        }
        if self.task == "classification":
            p.update(objective="multiclass", num_class=self.n_classes, metric="multi_logloss")
        else:
            p.update(objective="regression", metric="l2")
        return p

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        X_valid: NDArray[Any] | None = None,
        y_valid: NDArray[Any] | None = None,
    ) -> AlphaModel:
        """Fit; with a validation segment, stop when its loss has not improved for a while."""
        import lightgbm as lgb

        Xt, yt = self._prepare_fit(X, y)
        train = lgb.Dataset(Xt, yt, free_raw_data=True)
        callbacks: list[Any] = []
        valid_sets: list[Any] = []
        if X_valid is not None and y_valid is not None and self.early_stopping_rounds > 0:
            Xv = as_tabular(X_valid)
            yv = _labels(y_valid, Xv.shape[0], self.task)
            valid_sets = [lgb.Dataset(Xv, yv, reference=train)]
            callbacks = [lgb.early_stopping(self.early_stopping_rounds, verbose=False)]
        self.booster = lgb.train(
            self._lgb_params(),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=valid_sets or None,
            callbacks=callbacks or None,
        )
        best = int(self.booster.best_iteration or 0)
        self.best_iteration = best if best > 0 else self.n_estimators
        self._fitted = True
        return self

    def _raw(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(self.booster.predict(X, num_iteration=self.best_iteration), np.float64)

    def _proba(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return self._raw(X).reshape(X.shape[0], -1)

    def _value(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return self._raw(X)

    def save(self, path: Path) -> None:
        """Write ``model.json`` and the booster in LightGBM's text format (``model.txt``)."""
        self._need_fitted()
        extra = {**self._manifest_extra(), "best_iteration": self.best_iteration}
        write_manifest(Path(path), self, extra)
        self.booster.save_model(str(Path(path) / "model.txt"))

    @classmethod
    def load(cls, path: Path) -> AlphaModel:
        """Read a folder written by :meth:`save`."""
        import lightgbm as lgb

        doc = read_manifest(path)
        model = cls(**doc["params"])
        model.booster = lgb.Booster(model_file=str(Path(path) / "model.txt"))
        model.best_iteration = doc.get("best_iteration")
        model._restore(doc)
        return model


def _member_kwargs(name: str, task: Task, seed: int, n_jobs: int) -> dict[str, Any]:
    """``task``, ``seed`` and ``n_jobs`` for a member, each only where its class takes it."""
    import inspect

    from tradelearn.alpha.models.base import MODEL_REGISTRY, _ensure_loaded

    _ensure_loaded()
    if name not in MODEL_REGISTRY:
        raise ConfigError(f"ensemble member '{name}' is not one of {sorted(MODEL_REGISTRY)}")
    accepted = inspect.signature(MODEL_REGISTRY[name].__init__).parameters
    kw: dict[str, Any] = {"task": task, "seed": seed, "n_jobs": n_jobs}
    return {k: v for k, v in kw.items() if k in accepted}


@register_model("ensemble")
class EnsembleModel(_Base):
    """Average of registered member models.

    Classification averages the members' probabilities. Regression averages the members'
    predictions after z-scoring each with the mean and standard deviation of its own
    predictions on the training segment, so that members on different scales weigh alike.
    ``member_params`` maps a member name to extra parameters (``task``, ``seed`` and
    ``n_jobs`` are passed to every member).
    """

    def __init__(
        self,
        task: str = "classification",
        seed: int = 0,
        n_jobs: int = 1,
        members: list[str] | tuple[str, ...] = ("logreg", "lgbm", "rf"),
        member_params: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(task, seed, n_jobs)
        self.members = [str(m) for m in members]
        if not self.members or "ensemble" in self.members:
            raise ConfigError(f"members must name other registered models, actually: {members}")
        if len(set(self.members)) != len(self.members):
            raise ConfigError(f"members must not repeat, actually: {self.members}")
        self.member_params = {k: dict(v) for k, v in (member_params or {}).items()}
        unknown = set(self.member_params) - set(self.members)
        if unknown:
            raise ConfigError(f"member_params names {sorted(unknown)}, not among {self.members}")
        self.models: list[AlphaModel] = []
        self.scales: list[tuple[float, float]] = []

    def _extra_params(self) -> dict[str, Any]:
        return {"members": list(self.members), "member_params": self.member_params}

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        X_valid: NDArray[Any] | None = None,
        y_valid: NDArray[Any] | None = None,
    ) -> AlphaModel:
        """Fit every member on the same segments."""
        Xt, yt = self._prepare_fit(X, y)
        self.models, self.scales = [], []
        for name in self.members:
            kw = _member_kwargs(name, self.task, self.seed, self.n_jobs)
            model = make_model(name, **{**kw, **self.member_params.get(name, {})})
            # sequence members get the original array; tabular members take the last step
            Xm = X if model.input_kind == "sequence" else Xt
            model.fit(Xm, yt, X_valid, y_valid)
            if self.task == "regression":
                p = np.asarray(model.predict(Xm), dtype=np.float64)
                self.scales.append((float(p.mean()), float(p.std()) or 1.0))
            self.models.append(model)
        self._fitted = True
        return self

    def predict_proba(self, X: NDArray[Any]) -> NDArray[np.float64]:
        """The members' average class probabilities."""
        self._need_fitted()
        if self.task != "classification":
            raise ConfigError(f"predict_proba needs task='classification', model has {self.task}")
        assert self.n_classes is not None
        total = np.zeros((np.asarray(X).shape[0], self.n_classes))
        for m in self.models:
            p = m.predict_proba(X)
            total[:, : p.shape[1]] += p
        return total / len(self.models)

    def predict(self, X: NDArray[Any]) -> NDArray[Any]:
        """Argmax of the average probabilities, or the average z-scored prediction."""
        self._need_fitted()
        if self.task == "classification":
            labels: NDArray[np.int64] = np.argmax(self.predict_proba(X), axis=1).astype(np.int64)
            return labels
        total = np.zeros(np.asarray(X).shape[0])
        for m, (mu, sd) in zip(self.models, self.scales, strict=True):
            total += (np.asarray(m.predict(X), dtype=np.float64) - mu) / sd
        return total / len(self.models)

    def save(self, path: Path) -> None:
        """Write ``model.json`` and each member into ``member_<i>/``."""
        self._need_fitted()
        extra = {**self._manifest_extra(), "scales": self.scales}
        write_manifest(Path(path), self, extra)
        for i, m in enumerate(self.models):
            m.save(Path(path) / f"member_{i}")

    @classmethod
    def load(cls, path: Path) -> AlphaModel:
        """Read a folder written by :meth:`save`."""
        doc = read_manifest(path)
        model = cls(**doc["params"])
        model.models = [load_model(Path(path) / f"member_{i}") for i in range(len(model.members))]
        model.scales = [(float(a), float(b)) for a, b in doc.get("scales", [])]
        model._restore(doc)
        return model
