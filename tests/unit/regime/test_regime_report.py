"""Regime report sections: shading runs, per-regime table, figures embedded."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.errors import DataError
from tradelearn.regime.features import RegimeFeatures
from tradelearn.regime.models import RegimeModel
from tradelearn.regime.report import regime_runs, regime_section, regime_summary


def features(n: int = 300) -> tuple[RegimeFeatures, np.ndarray]:
    rng = np.random.default_rng(0)
    s = (np.arange(n) // 50) % 2  # calm and turbulent stretches of 50 days
    vals = np.column_stack([np.where(s == 1, 0.7, -0.5), np.where(s == 1, -0.1, 0.05)])
    vals = vals + rng.normal(0, 0.05, (n, 2))
    dates = np.datetime64("2001-01-01") + np.arange(n)
    return RegimeFeatures(
        ("log_vol", "trend"), vals, dates, 100 + np.arange(n) * 0.1, np.arange(n)
    ), s


def test_regime_runs_when_labels_change_then_maximal_runs_in_order() -> None:
    assert regime_runs(np.array([0, 0, 1, 1, 1, 0])) == [(0, 2, 0), (2, 5, 1), (5, 6, 0)]
    assert regime_runs(np.array([], dtype=int)) == []


def test_regime_summary_when_stretches_known_then_share_runs_and_vol_as_built() -> None:
    f, s = features()
    rows = regime_summary(f, s)
    assert [r["share"] for r in rows] == [0.5, 0.5]
    assert rows[0]["runs"] == 3 and rows[0]["mean_run"] == 50.0
    assert rows[1]["vol_ann_pct"] == pytest.approx(np.exp(0.7) * np.sqrt(252), rel=0.01)
    assert rows[1]["trend_ann_pct"] == pytest.approx(-0.1 * 252, rel=0.05)
    with pytest.raises(DataError, match="differ in length"):
        regime_summary(f, s[:10])


@pytest.mark.parametrize("kind", ["gmm", "hmm"])
def test_regime_section_when_rendered_then_two_figures_and_tables(kind: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    f, _ = features()
    m = RegimeModel(kind, 2, seed=0, n_init=1).fit(f.values)
    rep = regime_section(f, m, symbol="SYN", stability={"mean_agreement": 1.0})
    assert rep.n_figures == 2
    assert rep.n_tables == (3 if kind == "hmm" else 2)
    html = rep.save(tmp_path / "r.html").read_text()
    assert "Regime shading on the price" in html and html.count("data:image/png;base64") == 2


def test_adaptation_section_when_rendered_then_table_row_per_strategy_and_figure() -> None:
    from tradelearn.regime.adapt import STRATEGIES, AdaptResult, compare_strategies

    rng = np.random.default_rng(1)
    n = 400
    proxy = np.exp(rng.normal(0, 0.5, n))
    var = {s: np.full(n, 1.0 + 0.1 * k) for k, s in enumerate(STRATEGIES)}
    res = AdaptResult(
        symbol="SYN",
        dates=np.datetime64("2008-01-01") + np.arange(n),
        proxy=proxy,
        variance=var,
        log_forecast={s: np.log(v) for s, v in var.items()},
        refits={s: (["2008-03-01"] if "drift" in s else []) for s in STRATEGIES},
        regime_proba=np.tile([0.3, 0.7], (n, 1)),
    )
    cmp = compare_strategies(res, n_boot=200)
    assert cmp["best"] == "periodic"  # 1.1: nearest the mean of the proxy, exp(0.125)
    assert cmp["strategies"]["static"]["qlike_2008-2009"] == pytest.approx(
        cmp["strategies"]["static"]["qlike"]
    )
    from tradelearn.regime.report import adaptation_section

    rep = adaptation_section(res, cmp)
    assert rep.n_figures == 1 and rep.n_tables == 1
    assert all(s in rep.render() for s in STRATEGIES)
