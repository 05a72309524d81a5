"""Segments, purging, embargo, walk-forward splits and train-only processors."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.alpha.dataset import (
    AlphaDataset,
    CSRank,
    FillNaN,
    RobustZScore,
    Segments,
    ZScore,
    cs_rank,
    prepare,
    purge_mask,
    split_segments,
    walk_forward_splits,
)
from tradelearn.errors import ConfigError, DataError

HORIZON = 5


def _panel(n_days: int = 600, n_names: int = 4, seed: int = 0) -> AlphaDataset:
    rng = np.random.default_rng(seed)
    cal = np.busday_offset(np.datetime64("2014-01-01"), np.arange(n_days), roll="forward")
    dates = np.repeat(cal, n_names).astype("datetime64[D]")
    # label window: HORIZON trading days ahead (the last rows' windows are cut at the end)
    end_idx = np.minimum(np.arange(n_days) + HORIZON, n_days - 1)
    label_end = np.repeat(cal[end_idx], n_names).astype("datetime64[D]")
    n = n_days * n_names
    return AlphaDataset(
        X=rng.standard_normal((n, 3)),
        y=rng.standard_normal(n),
        dates=dates,
        symbols=np.tile([f"S{i}" for i in range(n_names)], n_days),
        label_end=label_end,
        feature_names=("a", "b", "c"),
    )


def test_segments_out_of_order_then_config_error_names_them() -> None:
    with pytest.raises(ConfigError, match="segment test must start after valid ends"):
        Segments(
            train=("2014-01-01", "2014-12-31"),
            valid=("2015-01-01", "2015-06-30"),
            test=("2015-06-01", "2015-12-31"),
        ).bounds()
    with pytest.raises(ConfigError, match="end 2014-01-01 is before start"):
        Segments(train=("2014-02-01", "2014-01-01"), test=("2015-01-01", "2015-02-01")).bounds()
    with pytest.raises(ConfigError, match="train start must be a date"):
        Segments(train=("soon", "2014-01-01"), test=("2015-01-01", "2015-02-01")).bounds()


def test_purge_drops_training_labels_that_reach_into_the_test() -> None:
    ds = _panel()
    start, end = np.datetime64("2015-01-05"), np.datetime64("2015-06-30")
    keep = purge_mask(ds.dates, ds.label_end, start, end)
    before = ds.dates < start
    # every kept earlier sample's label ends before the test; every dropped one reaches in
    assert np.all(ds.label_end[keep & before] < start)
    assert np.all(ds.label_end[~keep & before] >= start)
    assert np.sum(~keep & before) == HORIZON * 4  # the last 5 days before the test, 4 names


def test_embargo_widens_the_gap_by_that_many_trading_days() -> None:
    ds = _panel()
    start, end = np.datetime64("2015-01-05"), np.datetime64("2015-06-30")
    plain = purge_mask(ds.dates, ds.label_end, start, end)
    emb = purge_mask(ds.dates, ds.label_end, start, end, embargo=3)
    before = ds.dates < start
    assert np.sum(plain & before) - np.sum(emb & before) == 3 * 4
    after = ds.dates > end
    assert np.sum(plain & after) - np.sum(emb & after) == 3 * 4  # the classic embargo
    with pytest.raises(ConfigError, match="embargo must be >= 0"):
        purge_mask(ds.dates, ds.label_end, start, end, embargo=-1)


def test_walk_forward_trains_only_on_earlier_data() -> None:
    ds = _panel()
    periods = [("2015-06-01", "2015-12-31"), ("2016-01-01", "2016-04-30")]
    splits = walk_forward_splits(ds, periods, valid_days=60, embargo=2)
    assert len(splits) == 2
    for split, (a, _) in zip(splits, periods, strict=True):
        t0 = np.datetime64(a)
        valid_start = ds.dates[split.valid].min()
        assert ds.dates[split.train].max() < valid_start
        assert ds.label_end[split.train].max() < valid_start
        assert ds.label_end[split.valid].max() < t0
        assert ds.dates[split.test].min() >= t0
        assert len(np.unique(ds.dates[split.valid])) <= 60
    # the second split trains on strictly more history
    assert len(splits[1].train) > len(splits[0].train)
    with pytest.raises(ConfigError, match="need more than valid_days"):
        walk_forward_splits(ds, [("2014-02-01", "2014-03-01")], valid_days=60)


def test_processors_learn_only_from_the_training_segment() -> None:
    ds = _panel()
    segs = Segments(
        train=("2014-01-01", "2014-12-31"),
        valid=("2015-01-15", "2015-06-30"),
        test=("2015-07-15", "2016-03-01"),
    )
    split = split_segments(ds, segs)
    X = ds.X.copy()
    X[split.test] += 100.0  # a test segment on another scale must not move the statistics
    shifted = AlphaDataset(X, ds.y, ds.dates, ds.symbols, ds.label_end)
    a = prepare(ds, split, [ZScore()])
    b = prepare(shifted, split, [ZScore()])
    np.testing.assert_allclose(a["train"].X, b["train"].X)
    np.testing.assert_allclose(b["test"].X, a["test"].X + 100.0 / ds.X[split.train].std(axis=0))
    train = a["train"].X
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(train.std(axis=0), 1, atol=1e-12)


def test_robust_zscore_clips_and_fillnan_uses_train_median() -> None:
    X = np.array([[1.0, np.nan], [2.0, 4.0], [3.0, 6.0], [100.0, np.nan]])
    d = np.zeros(4, dtype="datetime64[D]")
    out = RobustZScore(clip=3.0).fit(X[:3], d[:3]).transform(X, d)
    assert out[3, 0] == 3.0 and out[1, 0] == 0.0
    filled = FillNaN(None).fit(X[:3], d[:3]).transform(X, d)
    assert filled[0, 1] == 5.0 and filled[3, 1] == 5.0
    with pytest.raises(ConfigError, match="not fitted"):
        FillNaN().transform(X, d)


def test_cs_rank_ranks_within_each_day_only() -> None:
    dates = np.array(["2020-01-01"] * 3 + ["2020-01-02"] * 3, dtype="datetime64[D]")
    v = np.array([3.0, 1.0, 2.0, 10.0, np.nan, -5.0])
    np.testing.assert_allclose(cs_rank(v, dates), [0.5, -0.5, 0.0, 0.5, np.nan, -0.5])
    X = np.column_stack([v, -v])
    np.testing.assert_allclose(CSRank().fit(X, dates).transform(X, dates)[:, 1], -cs_rank(v, dates))


def test_dataset_arrays_of_different_lengths_then_data_error() -> None:
    ds = _panel(20)
    with pytest.raises(DataError, match="field 'y'"):
        AlphaDataset(ds.X, ds.y[:-1], ds.dates, ds.symbols, ds.label_end)
    with pytest.raises(DataError, match="label ends before its sample is known"):
        AlphaDataset(ds.X, ds.y, ds.dates, ds.symbols, ds.dates - np.timedelta64(1, "D"))
