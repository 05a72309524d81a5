"""Regime models on synthetic data with known regimes: recovery, alignment, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.errors import ConfigError, DataError
from tradelearn.regime.models import RegimeModel, label_agreement, seed_stability

MEANS = np.array([[-1.0, 0.4], [0.0, 0.0], [1.2, -0.8]])  # ordered by feature 0 (volatility)


def regimes(
    n: int, seed: int, means: np.ndarray = MEANS, stay: float = 0.97
) -> tuple[np.ndarray, np.ndarray]:
    """A persistent Markov chain of regimes and Gaussian features around ``means``."""
    rng = np.random.default_rng(seed)
    k = means.shape[0]
    s = np.empty(n, dtype=np.int64)
    s[0] = 0
    for t in range(1, n):
        s[t] = s[t - 1] if rng.random() < stay else rng.integers(k)
    x = means[s] + rng.normal(0.0, 0.25, size=(n, means.shape[1]))
    return x, s


@pytest.mark.parametrize("kind", ["gmm", "hmm"])
def test_three_regimes_when_fitted_then_labels_recovered_in_volatility_order(kind: str) -> None:
    x, s = regimes(900, seed=1)
    m = RegimeModel(kind, 3, seed=0).fit(x)
    assert label_agreement(m.predict(x, causal=False), s) >= 0.97
    np.testing.assert_allclose(m.means_, MEANS, atol=0.1)
    assert np.all(np.diff(m.means_[:, 0]) > 0)
    assert m.weights_.sum() == pytest.approx(1.0)
    assert m.converged_


def test_hmm_when_fitted_then_transition_matrix_is_persistent_and_in_label_order() -> None:
    x, _ = regimes(900, seed=2)
    m = RegimeModel("hmm", 3, seed=0).fit(x)
    p = m.transmat_
    assert p is not None
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.all(np.diag(p) > 0.9)
    assert RegimeModel("gmm", 3).fit(x).transmat_ is None


@pytest.mark.parametrize("kind", ["gmm", "hmm"])
def test_same_seed_when_refitted_then_identical_probabilities(kind: str) -> None:
    x, _ = regimes(600, seed=3)
    a = RegimeModel(kind, 3, seed=7).fit(x).predict_proba(x)
    b = RegimeModel(kind, 3, seed=7).fit(x).predict_proba(x)
    np.testing.assert_array_equal(a, b)


def test_hmm_filter_when_future_rows_change_then_past_probabilities_do_not() -> None:
    x, _ = regimes(600, seed=4)
    m = RegimeModel("hmm", 3, seed=0).fit(x)
    y = x.copy()
    y[400:] += 3.0
    np.testing.assert_allclose(m.predict_proba(x)[:400], m.predict_proba(y)[:400])
    smooth = m.predict_proba(x, causal=False)
    # the smoother looks ahead, so the same change reaches back before row 400
    assert not np.array_equal(smooth[:400], m.predict_proba(y, causal=False)[:400])


def test_refit_when_internal_labels_permuted_then_align_restores_reference_labels() -> None:
    x, _ = regimes(900, seed=5)
    ref = RegimeModel("gmm", 3, seed=0).fit(x[:600])
    m = RegimeModel("gmm", 3, seed=11).fit(x[300:])
    m._perm = m._perm[[2, 0, 1]]  # scramble, as an unordered estimator would
    mapping = m.align(ref)
    assert sorted(mapping.tolist()) == [0, 1, 2]
    assert label_agreement(m.predict(x), ref.predict(x)) >= 0.97
    assert m.alignment_cost_ < 0.1


def test_states_tied_in_volatility_when_refitted_on_another_window_then_align_keeps_meaning() -> (
    None
):
    # same volatility, opposite trends: the canonical order cannot tell them apart
    means = np.array([[0.0, -1.0], [0.0, 1.0]])
    x, s = regimes(1200, seed=6, means=means)
    ref = RegimeModel("gmm", 2, seed=0).fit(x[:700])
    truth_of_label = [int(np.round(np.mean(s[ref.predict(x) == k]))) for k in range(2)]
    for seed in range(6):
        m = RegimeModel("gmm", 2, seed=seed).fit(x[500:])
        m.align(ref)
        assert label_agreement(m.predict(x), ref.predict(x)) >= 0.97
        assert [int(np.round(np.mean(s[m.predict(x) == k]))) for k in range(2)] == truth_of_label


def test_seed_stability_on_three_regimes_then_aligned_labels_agree() -> None:
    x, _ = regimes(600, seed=8)
    st = seed_stability(x, "gmm", 3, seeds=range(5), n_init=1)
    assert st.agreement[0] == 1.0 and len(st.agreement) == 5
    assert st.min >= 0.99 and st.pairwise_min >= 0.99 and st.mean >= st.min


def test_score_and_bic_when_more_states_fit_three_regimes_then_bic_prefers_three() -> None:
    x, _ = regimes(900, seed=9)
    bics = [RegimeModel("gmm", k, seed=0).fit(x).bic(x) for k in (2, 3)]
    assert bics[1] < bics[0]


def test_bad_parameters_and_data_then_named_errors() -> None:
    with pytest.raises(ConfigError, match="kind must be one of"):
        RegimeModel("kmeans")
    with pytest.raises(ConfigError, match="n_states must be an integer >= 2, actually: 1"):
        RegimeModel("gmm", 1)
    with pytest.raises(ConfigError, match="not fitted"):
        RegimeModel("gmm").predict(np.zeros((10, 2)))
    x, _ = regimes(100, seed=0)
    x[17, 1] = np.nan
    with pytest.raises(DataError, match="row 17"):
        RegimeModel("gmm").fit(x)
    with pytest.raises(DataError, match="too few rows"):
        RegimeModel("gmm", 3).fit(np.zeros((6, 2)))
    a = RegimeModel("gmm", 2).fit(regimes(100, 0)[0])
    b = RegimeModel("gmm", 3).fit(regimes(100, 0)[0])
    with pytest.raises(ConfigError, match="same states"):
        b.align(a)
    with pytest.raises(ConfigError, match="at least 2 seeds"):
        seed_stability(x, "gmm", 2, seeds=[0])


def test_tol_when_not_positive_then_config_error() -> None:
    with pytest.raises(ConfigError, match="tol must be > 0, actually: 0"):
        RegimeModel("hmm", 2, tol=0.0)
