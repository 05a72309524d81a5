"""The daily alpha pipeline on the shared S&P 500 panel (2013-2018); skips without the data.

Pinned figures are what this code measured on the panel (``experiments/alpha_daily.py``
runs the full comparison); a change that moves them must be explained in its commit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tradelearn.alpha.dataset import FillNaN, prepare, walk_forward_splits
from tradelearn.alpha.evaluate import ic_summary
from tradelearn.alpha.features_daily import DailyData, build_daily_dataset
from tradelearn.alpha.models import make_model
from tradelearn.data.daily import load_daily
from tradelearn.testing.realdata import real_path

PANEL = "daily_ohlcv/sp500_kaggle_camnugent_2013-02-08_2018-02-07.csv.gz"
PERIODS = [("2016-01-01", "2016-12-31"), ("2017-01-01", "2018-01-31")]

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def daily() -> DailyData:
    panel = load_daily(real_path(PANEL), repair=True)
    assert len(panel) == 619_017  # 23 rows with missing or inconsistent prices dropped
    return build_daily_dataset(panel, horizon=5, skip=1, label="rank")


@pytest.fixture(scope="module")
def splits(daily: DailyData) -> list[Any]:
    return walk_forward_splits(daily.dataset, PERIODS, valid_days=252, embargo=5)


def test_dataset_shape_and_span(daily: DailyData) -> None:
    ds = daily.dataset
    assert ds.X.shape == (555_486, 39)
    assert str(ds.dates.min()) == "2013-08-01" and str(ds.dates.max()) == "2018-01-30"
    assert ds.target is not None and np.isfinite(ds.target).all()
    assert len(np.unique(ds.symbols)) > 470


def test_walk_forward_is_purged_and_trains_only_on_the_past(
    daily: DailyData, splits: list[Any]
) -> None:
    ds = daily.dataset
    sizes = [(len(s.train), len(s.valid), len(s.test)) for s in splits]
    assert sizes == [(166_985, 117_631, 124_712), (289_962, 119_239, 135_410)]
    for s, (start, _) in zip(splits, PERIODS, strict=True):
        assert ds.label_end[s.train].max() < ds.dates[s.valid].min()
        assert ds.label_end[s.valid].max() < np.datetime64(start)


def _ridge_ic(daily: DailyData, split: Any, shuffle: bool) -> float:
    seg = prepare(daily.dataset, split, [FillNaN(0.0)])
    y = seg["train"].y.copy()
    if shuffle:  # permute labels within each day
        rng = np.random.default_rng(0)
        d = seg["train"].dates
        for day in np.unique(d):
            idx = np.flatnonzero(d == day)
            y[idx] = y[rng.permutation(idx)]
    model = make_model("logreg", task="regression", alpha=1000.0).fit(seg["train"].X, y)
    test = seg["test"]
    return ic_summary(model.predict(test.X), test.target, test.dates)["ic"]


def test_ridge_on_ranks_2017_ic_is_pinned(daily: DailyData, splits: list[Any]) -> None:
    assert _ridge_ic(daily, splits[1], shuffle=False) == pytest.approx(0.0222, abs=1e-3)


def test_ridge_with_shuffled_labels_has_no_signal(daily: DailyData, splits: list[Any]) -> None:
    assert abs(_ridge_ic(daily, splits[0], shuffle=True)) < 0.01
