"""Real-data regime figures on the S&P 500 and NASDAQ index files (1999-2018).

These assert what this code measured on the shared files (see
``experiments/regime_adaptation.py``); a change that breaks them must say why.
"""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.data.daily import load_daily
from tradelearn.data.lobster import load_lobster
from tradelearn.regime.adapt import AdaptConfig, compare_strategies, walk_forward
from tradelearn.regime.features import daily_features, intraday_features, lobster_bars
from tradelearn.regime.models import RegimeModel, seed_stability
from tradelearn.risk.realized import VolData, vol_data
from tradelearn.testing.realdata import lobster_pair, real_path

pytestmark = pytest.mark.shared_data

_CACHE: dict[str, VolData] = {}


def series(name: str) -> VolData:
    if name not in _CACHE:
        path = real_path(f"daily_ohlcv/index_macro_arch/{name}.csv.gz")
        _CACHE[name] = vol_data(load_daily(path))
    return _CACHE[name]


@pytest.mark.parametrize("name", ["sp500", "nasdaq"])
@pytest.mark.parametrize("kind", ["gmm", "hmm"])
def test_two_regimes_over_20_seeds_then_aligned_labels_agree_at_least_95pct(
    name: str, kind: str
) -> None:
    feats = daily_features(series(name))
    st = seed_stability(feats.values, kind, 2, range(20))
    assert st.min >= 0.95, st
    assert st.pairwise_min >= 0.95, st


@pytest.mark.parametrize("name", ["sp500", "nasdaq"])
def test_hmm_turbulent_regime_when_fitted_then_it_holds_the_2008_crash(name: str) -> None:
    feats = daily_features(series(name))
    labels = RegimeModel("hmm", 2, seed=0).fit(feats.values).predict(feats.values, causal=False)
    crash = (feats.dates >= np.datetime64("2008-09-15")) & (
        feats.dates <= np.datetime64("2009-03-31")
    )
    calm = (feats.dates >= np.datetime64("2017-01-01")) & (
        feats.dates <= np.datetime64("2017-12-31")
    )
    assert labels[crash].mean() >= 0.95
    assert labels[calm].mean() <= 0.05


def test_sp500_refit_on_drift_when_walked_forward_from_2004_then_beats_static() -> None:
    cmp = compare_strategies(walk_forward(series("sp500"), AdaptConfig()), n_boot=500)
    rows = cmp["strategies"]
    assert cmp["first_target"] == "2004-01-02" and cmp["n_forecasts"] >= 3700
    assert rows["drift"]["qlike_ratio_to_static"] < 0.98
    assert rows["drift"]["dm_p"] < 0.05 and rows["drift"]["diff_ci95"][1] < 0
    assert rows["periodic"]["dm_p"] < 0.01 and rows["periodic"]["diff_vs_static"] < 0
    assert 1 <= rows["drift"]["refits"] <= 10  # refits on alarms, not every month


@pytest.mark.parametrize("sym", ["GOOG", "AAPL"])
def test_lobster_day_bars_then_volume_is_every_execution_and_busy_regime_trades_more(
    sym: str,
) -> None:
    day = load_lobster(*lobster_pair(sym, 1))
    bars = lobster_bars(day, bar_s=60.0)
    assert len(bars) == 390  # 09:30 to 16:00
    ev = day.events
    assert bars.volume.sum() == ev["qty"][np.isin(ev["event"], [4, 5])].sum()
    assert np.all(bars.spread_bps > 0)
    feats = intraday_features(bars, window=5)
    m = RegimeModel("gmm", 2, seed=0).fit(feats.values)
    # the more volatile state is also the busier one (log volume, feature 3)
    assert m.means_[1, 3] > m.means_[0, 3] + 0.5
    if sym == "GOOG":  # measured: 1.0 over 20 seeds (AAPL: min 0.82, reported, not asserted)
        assert seed_stability(feats.values, "gmm", 2, range(20)).min >= 0.95
