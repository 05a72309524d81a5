"""Daily features read no future price; labels are the forward returns they claim to be."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tradelearn.alpha.evaluate import ic_summary
from tradelearn.alpha.features_daily import (
    build_daily_dataset,
    daily_features,
    feature_names,
    synthetic_panel,
)
from tradelearn.errors import ConfigError, DataError

CUT = np.datetime64("2014-09-01")


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    return synthetic_panel(n_symbols=24, n_days=300, seed=3)


def _alter_future(frame: pl.DataFrame) -> pl.DataFrame:
    """Scale every price after CUT by a symbol-specific factor and scramble volumes."""
    after = pl.col("date") > pl.lit(CUT)
    factor = 1.0 + (pl.col("symbol").str.slice(1).cast(pl.Int64) % 5) * 0.1
    return frame.with_columns(
        *[pl.when(after).then(pl.col(k) * factor).otherwise(pl.col(k)).alias(k)
          for k in ("open", "high", "low", "close")],
        pl.when(after).then(pl.col("volume") * 3 + 7).otherwise(pl.col("volume")).alias("volume"),
    )  # fmt: skip


@pytest.mark.parametrize("rank", [False, True])
def test_changing_future_prices_never_changes_past_features(
    panel: pl.DataFrame, rank: bool
) -> None:
    names = list(feature_names())
    a = daily_features(panel, rank=rank)
    b = daily_features(_alter_future(panel), rank=rank)
    past = pl.col("date") <= pl.lit(CUT)
    fa = a.filter(past).select(names).to_numpy()
    fb = b.filter(past).select(names).to_numpy()
    np.testing.assert_array_equal(np.isnan(fa), np.isnan(fb))
    np.testing.assert_allclose(np.nan_to_num(fa), np.nan_to_num(fb), rtol=1e-12, atol=1e-12)
    # and the change is visible after the cut, so the comparison can fail
    later = pl.col("date") > pl.lit(CUT)
    assert not np.allclose(
        np.nan_to_num(a.filter(later).select(names).to_numpy()),
        np.nan_to_num(b.filter(later).select(names).to_numpy()),
    )


def test_labels_unchanged_while_their_window_ends_before_the_change(panel: pl.DataFrame) -> None:
    a = build_daily_dataset(panel, label="raw").dataset
    b = build_daily_dataset(_alter_future(panel), label="raw").dataset
    done = a.label_end <= CUT
    assert done.sum() > 1000
    np.testing.assert_array_equal(a.dates, b.dates)
    np.testing.assert_allclose(a.y[done], b.y[done])
    assert not np.allclose(a.y[~done], b.y[~done])


def test_forward_return_label_known_answer(panel: pl.DataFrame) -> None:
    dd = build_daily_dataset(panel, horizon=5, skip=1, label="raw", warmup=120)
    ds = dd.dataset
    one = panel.filter(pl.col("symbol") == "S004").sort("date")
    close = one.get_column("close").to_numpy()
    days = one.get_column("date").to_numpy().astype("datetime64[D]")
    i = 150  # a decision day well after the warm-up
    row = np.flatnonzero((ds.symbols == "S004") & (ds.dates == days[i]))[0]
    assert ds.target is not None
    assert ds.target[row] == pytest.approx(close[i + 6] / close[i + 1] - 1)
    assert ds.label_end[row] == days[i + 6]
    assert dd.next_return[row] == pytest.approx(close[i + 2] / close[i + 1] - 1)
    # no sample before the warm-up, none whose label runs past the panel
    assert ds.dates.min() == days[120]
    assert ds.dates.max() == days[-7]


def test_ranked_features_lie_in_half_unit_interval(panel: pl.DataFrame) -> None:
    ds = build_daily_dataset(panel, label="class").dataset
    assert ds.X.shape[1] == len(feature_names()) == len(ds.feature_names)
    assert np.nanmin(ds.X) >= -0.5 and np.nanmax(ds.X) <= 0.5
    counts = np.bincount(ds.y, minlength=3)
    assert counts.min() > 0.3 * len(ds) and set(np.unique(ds.y)) == {0, 1, 2}


def test_planted_reversal_is_found_by_the_reversal_feature() -> None:
    frame = synthetic_panel(n_symbols=40, n_days=400, seed=5, reversal=0.4)
    ds = build_daily_dataset(frame, label="raw", skip=0).dataset
    j = ds.feature_names.index("ret_5")
    assert ds.target is not None
    ic = ic_summary(ds.X[:, j], ds.target, ds.dates)["ic"]
    assert ic < -0.1
    flat = build_daily_dataset(synthetic_panel(40, 400, seed=5), label="raw", skip=0).dataset
    assert flat.target is not None
    assert abs(ic_summary(flat.X[:, j], flat.target, flat.dates)["ic"]) < 0.03


def test_bad_inputs_then_named_errors(panel: pl.DataFrame) -> None:
    with pytest.raises(DataError, match="field 'volume'"):
        build_daily_dataset(panel.drop("volume"))
    with pytest.raises(ConfigError, match="horizon >= 1"):
        build_daily_dataset(panel, horizon=0)
    with pytest.raises(ConfigError, match="label must be"):
        build_daily_dataset(panel, label="future")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="no \\(day, symbol\\) has a full feature history"):
        build_daily_dataset(panel.filter(pl.col("date") < pl.lit(np.datetime64("2014-03-01"))))
