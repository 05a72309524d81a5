r"""Gaussian mixture and Gaussian HMM regimes behind one fit / predict_proba / predict interface.

A :class:`RegimeModel` standardises its features (mean and deviation of the fit data),
fits scikit-learn's ``GaussianMixture`` or hmmlearn's ``GaussianHMM`` with a seed, and
then names its states canonically: state 0 has the lowest mean of feature ``order_by``
(volatility), state ``K - 1`` the highest. Two fits of the same data with different
seeds then usually agree label for label; :meth:`RegimeModel.align` makes sure of it
(and carries meaning across refits on different windows) by Hungarian matching of the
state Gaussians on the Bhattacharyya distance

.. math:: D_B = \tfrac18 (\mu_1-\mu_2)^\top \Sigma^{-1} (\mu_1-\mu_2)
          + \tfrac12 \ln\frac{\det\Sigma}{\sqrt{\det\Sigma_1 \det\Sigma_2}},
          \quad \Sigma = \tfrac12(\Sigma_1 + \Sigma_2),

which is invariant to affine changes of the feature units, so models standardised on
different windows compare directly.

Probabilities are *causal* by default: for the HMM the forward filter
:math:`P(s_t \mid x_{1..t})`, which a walk-forward test may use; ``causal=False`` gives
the smoothed :math:`P(s_t \mid x_{1..T})` for descriptive labels. The mixture has no
time structure, so both are the same for it.

References
----------
Hamilton, J. D. (1989). A new approach to the economic analysis of nonstationary time
series and the business cycle. *Econometrica* 57(2), 357-384.
Kuhn, H. W. (1955). The Hungarian method for the assignment problem. *Naval Research
Logistics Quarterly* 2, 83-97.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped, unused-ignore]

from tradelearn.errors import ConfigError, DataError

__all__ = ["MODEL_KINDS", "RegimeModel", "StabilityResult", "label_agreement", "seed_stability"]

MODEL_KINDS: tuple[str, ...] = ("gmm", "hmm")
ModelKind = Literal["gmm", "hmm"]
_MIN_COVAR = 1e-3  # in standardised units: keeps a state from collapsing onto a few points


def _bhattacharyya(m1: np.ndarray, c1: np.ndarray, m2: np.ndarray, c2: np.ndarray) -> float:
    c = 0.5 * (c1 + c2)
    d = m1 - m2
    maha = float(d @ np.linalg.solve(c, d))
    _, ld = np.linalg.slogdet(c)
    _, ld1 = np.linalg.slogdet(c1)
    _, ld2 = np.linalg.slogdet(c2)
    return float(0.125 * maha + 0.5 * (ld - 0.5 * (ld1 + ld2)))


def _gauss_logpdf(z: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    chol = np.linalg.cholesky(cov)
    sol = np.linalg.solve(chol, (z - mean).T)
    logdet = 2.0 * np.sum(np.log(np.diag(chol)))
    out: np.ndarray = -0.5 * (np.sum(sol**2, axis=0) + logdet + z.shape[1] * np.log(2.0 * np.pi))
    return out


class RegimeModel:
    """A seeded Gaussian regime model with canonical, alignable state labels.

    Parameters
    ----------
    kind
        ``"gmm"`` (Gaussian mixture, i.i.d. states) or ``"hmm"`` (Gaussian hidden Markov
        model, persistent states).
    n_states
        Number of regimes ``K`` (at least 2).
    seed
        Seed of the initialisation (k-means) and of the restarts.
    n_init
        Restarts; the fit with the highest likelihood is kept.
    max_iter
        EM iterations per restart.
    tol
        HMM only: EM stops when the total log-likelihood gains less than this (the
        mixture keeps scikit-learn's default, 1e-3 per row).
    order_by
        Feature whose state means order the labels (0: volatility).

    Attributes (after :meth:`fit`)
    ------------------------------
    means_, covars_
        State means ``(K, d)`` and covariances ``(K, d, d)`` in the units of the
        features, in label order.
    weights_
        Share of each state: mixture weights, or the HMM's stationary distribution.
    transmat_
        ``(K, K)`` transition matrix in label order (HMM only, else ``None``).
    converged_
        Whether EM converged on the kept restart.
    """

    def __init__(
        self,
        kind: str = "gmm",
        n_states: int = 2,
        *,
        seed: int = 0,
        n_init: int = 3,
        max_iter: int = 200,
        tol: float = 1e-4,
        order_by: int = 0,
    ) -> None:
        if kind not in MODEL_KINDS:
            raise ConfigError(f"kind must be one of {MODEL_KINDS}, actually: {kind!r}")
        for name, v, lo in (
            ("n_states", n_states, 2),
            ("n_init", n_init, 1),
            ("max_iter", max_iter, 1),
        ):
            if not isinstance(v, int | np.integer) or v < lo:
                raise ConfigError(f"{name} must be an integer >= {lo}, actually: {v!r}")
        if order_by < 0:
            raise ConfigError(f"order_by must be >= 0, actually: {order_by}")
        self.kind = kind
        self.n_states = int(n_states)
        self.seed = int(seed)
        self.n_init = int(n_init)
        self.max_iter = int(max_iter)
        if not tol > 0:
            raise ConfigError(f"tol must be > 0, actually: {tol}")
        self.tol = float(tol)
        self.order_by = int(order_by)
        self._est: Any = None
        self._perm = np.arange(self.n_states)  # label k is internal state _perm[k]
        self._mu = np.zeros(0)
        self._sd = np.ones(0)
        self.converged_ = False
        self.n_fit_ = 0

    # ------------------------------------------------------------------ fitting
    def _check_x(self, X: np.ndarray, fitting: bool) -> np.ndarray:
        x = np.asarray(X, dtype=np.float64)
        if x.ndim != 2:
            raise DataError(
                "features must be a 2-D array", field="X", expected="(n, d)", got=x.shape
            )
        if not np.all(np.isfinite(x)):
            row = int(np.flatnonzero(~np.all(np.isfinite(x), axis=1))[0])
            raise DataError("feature is NaN or infinite", row=row, field="X", expected="finite")
        if fitting:
            if x.shape[0] < 5 * self.n_states or x.shape[1] <= self.order_by:
                raise DataError(
                    "too few rows or columns to fit",
                    field="X",
                    expected=f">= {5 * self.n_states} rows and > {self.order_by} columns",
                    got=x.shape,
                )
        elif self._est is None:
            raise ConfigError("the model is not fitted: call fit(X) first")
        elif x.shape[1] != self._mu.size:
            raise DataError(
                "feature count differs from the fit",
                field="X",
                expected=str(self._mu.size),
                got=x.shape[1],
            )
        return x

    def fit(self, X: np.ndarray) -> RegimeModel:
        """Fit on ``X`` (rows in time order for the HMM) and order the states canonically."""
        x = self._check_x(X, fitting=True)
        self._mu = x.mean(axis=0)
        self._sd = np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
        z = (x - self._mu) / self._sd
        from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped, unused-ignore]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._est = self._fit_gmm(z) if self.kind == "gmm" else self._fit_hmm(z)
        self.n_fit_ = x.shape[0]
        means = self._internal_means()
        self._perm = np.argsort(means[:, self.order_by], kind="stable")
        return self

    def _fit_gmm(self, z: np.ndarray) -> Any:
        from sklearn.mixture import GaussianMixture  # type: ignore[import-untyped, unused-ignore]

        est = GaussianMixture(
            n_components=self.n_states,
            covariance_type="full",
            n_init=self.n_init,
            max_iter=self.max_iter,
            reg_covar=_MIN_COVAR,
            random_state=self.seed,
        ).fit(z)
        self.converged_ = bool(est.converged_)
        return est

    def _fit_hmm(self, z: np.ndarray) -> Any:
        from hmmlearn.hmm import GaussianHMM  # type: ignore[import-untyped, unused-ignore]

        seeds = np.random.default_rng(self.seed).integers(0, 2**31 - 1, size=self.n_init)
        best: Any = None
        best_score = -np.inf
        for s in seeds:
            est = GaussianHMM(
                n_components=self.n_states,
                covariance_type="full",
                n_iter=self.max_iter,
                tol=self.tol,
                min_covar=_MIN_COVAR,
                random_state=int(s),
            ).fit(z)
            score = float(est.score(z))
            if np.isfinite(score) and score > best_score:
                best, best_score = est, score
        if best is None:
            raise DataError("every HMM restart failed (non-finite likelihood)", field="X")
        self.converged_ = bool(best.monitor_.converged)
        return best

    # ------------------------------------------------------------------ parameters
    def _internal_means(self) -> np.ndarray:
        out: np.ndarray = self._est.means_ * self._sd + self._mu
        return out

    def _internal_covars(self) -> np.ndarray:
        c = self._est.covariances_ if self.kind == "gmm" else self._est.covars_
        out: np.ndarray = c * np.outer(self._sd, self._sd)
        return out

    @property
    def means_(self) -> np.ndarray:
        self._check_fitted()
        return self._internal_means()[self._perm]

    @property
    def covars_(self) -> np.ndarray:
        self._check_fitted()
        return self._internal_covars()[self._perm]

    @property
    def weights_(self) -> np.ndarray:
        self._check_fitted()
        if self.kind == "gmm":
            w: np.ndarray = self._est.weights_[self._perm]
            return w
        p = self._est.transmat_
        vals, vecs = np.linalg.eig(p.T)
        v = np.real(vecs[:, np.argmin(np.abs(vals - 1.0))])
        out: np.ndarray = (v / v.sum())[self._perm]
        return out

    @property
    def transmat_(self) -> np.ndarray | None:
        self._check_fitted()
        if self.kind != "hmm":
            return None
        out: np.ndarray = self._est.transmat_[np.ix_(self._perm, self._perm)]
        return out

    def _check_fitted(self) -> None:
        if self._est is None:
            raise ConfigError("the model is not fitted: call fit(X) first")

    # ------------------------------------------------------------------ inference
    def _internal_proba(self, X: np.ndarray, causal: bool) -> np.ndarray:
        x = self._check_x(X, fitting=False)
        z = (x - self._mu) / self._sd
        if self.kind == "gmm":
            out: np.ndarray = self._est.predict_proba(z)
            return out
        if not causal:
            out = self._est.predict_proba(z)
            return out
        return self._forward_filter(z)

    def _forward_filter(self, z: np.ndarray) -> np.ndarray:
        est = self._est
        loglik = np.column_stack(
            [_gauss_logpdf(z, est.means_[k], est.covars_[k]) for k in range(self.n_states)]
        )
        e = np.exp(loglik - loglik.max(axis=1, keepdims=True))
        a = est.transmat_
        out = np.empty_like(e)
        prior = est.startprob_
        for t in range(e.shape[0]):
            post = prior * e[t]
            s = post.sum()
            post = post / s if s > 0 else prior
            out[t] = post
            prior = post @ a
        result: np.ndarray = out
        return result

    def predict_proba(self, X: np.ndarray, *, causal: bool = True) -> np.ndarray:
        """Regime probabilities ``(n, K)`` in label order (filtered unless ``causal=False``)."""
        out: np.ndarray = self._internal_proba(X, causal)[:, self._perm]
        return out

    def predict(self, X: np.ndarray, *, causal: bool = True) -> np.ndarray:
        """The most probable regime label of each row."""
        out: np.ndarray = np.argmax(self.predict_proba(X, causal=causal), axis=1)
        return out

    def score(self, X: np.ndarray) -> float:
        """Mean log-likelihood per row in the original feature units."""
        x = self._check_x(X, fitting=False)
        z = (x - self._mu) / self._sd
        ll = float(self._est.score(z))
        total = ll * x.shape[0] if self.kind == "gmm" else ll
        return float(total / x.shape[0] - float(np.sum(np.log(self._sd))))

    def n_parameters(self) -> int:
        """Free parameters (for BIC)."""
        k, d = self.n_states, self._mu.size
        n = k * d + k * d * (d + 1) // 2
        return n + (k - 1 if self.kind == "gmm" else (k - 1) + k * (k - 1))

    def bic(self, X: np.ndarray) -> float:
        """Bayesian information criterion on ``X`` (lower is better)."""
        n = np.asarray(X).shape[0]
        return float(-2.0 * self.score(X) * n + self.n_parameters() * float(np.log(n)))

    # ------------------------------------------------------------------ alignment
    def align(self, reference: RegimeModel) -> np.ndarray:
        """Relabel the states to match ``reference`` (Hungarian matching on D_B).

        Returns ``mapping`` with ``mapping[i]`` the new label of what was label ``i``.
        Records the total matching cost in ``alignment_cost_``.

        Raises
        ------
        ConfigError
            Either model is unfitted, or they differ in states or features.
        """
        self._check_fitted()
        reference._check_fitted()
        if reference.n_states != self.n_states or reference._mu.size != self._mu.size:
            raise ConfigError(
                f"align needs the same states and features, actually: {self.n_states} states, "
                f"{self._mu.size} features against {reference.n_states}, {reference._mu.size}"
            )
        m, c = self.means_, self.covars_
        rm, rc = reference.means_, reference.covars_
        cost = np.array(
            [
                [_bhattacharyya(m[i], c[i], rm[j], rc[j]) for j in range(self.n_states)]
                for i in range(self.n_states)
            ]
        )
        rows, cols = linear_sum_assignment(cost)
        mapping = np.empty(self.n_states, dtype=np.int64)
        mapping[rows] = cols
        perm = np.empty_like(self._perm)
        perm[mapping] = self._perm
        self._perm = perm
        self.alignment_cost_ = float(cost[rows, cols].sum())
        return mapping


def label_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of rows on which two label sequences agree."""
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape or x.size == 0:
        raise DataError(
            "label sequences must be non-empty and aligned", expected=str(x.shape), got=y.shape
        )
    return float(np.mean(x == y))


@dataclass(frozen=True)
class StabilityResult:
    """Label agreement of fits with different seeds, after alignment to the first seed's.

    ``agreement[i]`` compares seed ``seeds[i]`` with ``seeds[0]`` (so ``agreement[0]``
    is 1); ``mean`` and ``min`` are over the other seeds, ``pairwise_min`` over every
    pair of seeds; ``unaligned_mean`` is the mean agreement of the estimators' own
    state numbers (before canonical ordering and matching), for comparison.
    """

    seeds: tuple[int, ...]
    agreement: tuple[float, ...]
    mean: float
    min: float
    pairwise_min: float
    unaligned_mean: float


def seed_stability(
    X: np.ndarray,
    kind: str,
    n_states: int,
    seeds: Sequence[int] = tuple(range(20)),
    *,
    causal: bool = False,
    on_step: Callable[[], None] | None = None,
    **model_kw: Any,
) -> StabilityResult:
    """Fit one model per seed on ``X``, align each to the first, and compare labels.

    Raises
    ------
    ConfigError
        Fewer than two seeds.
    """
    if len(seeds) < 2:
        raise ConfigError(f"seeds must hold at least 2 seeds, actually: {list(seeds)}")
    labels, raw = [], []
    ref: RegimeModel | None = None
    for s in seeds:
        m = RegimeModel(kind, n_states, seed=int(s), **model_kw).fit(X)
        raw.append(np.argmax(m._internal_proba(X, causal), axis=1))
        if ref is None:
            ref = m
        else:
            m.align(ref)
        labels.append(m.predict(X, causal=causal))
        if on_step is not None:
            on_step()
    agree = [label_agreement(labels[0], lab) for lab in labels]
    pairs = [label_agreement(labels[i], labels[j]) for i in range(len(labels)) for j in range(i)]
    return StabilityResult(
        seeds=tuple(int(s) for s in seeds),
        agreement=tuple(agree),
        mean=float(np.mean(agree[1:])),
        min=float(np.min(agree[1:])),
        pairwise_min=float(np.min(pairs)),
        unaligned_mean=float(np.mean([label_agreement(raw[0], r) for r in raw[1:]])),
    )
