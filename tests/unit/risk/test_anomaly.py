"""Anomaly scores: streaming/vectorized parity, no look-ahead, features on a hand-built tape, AUC."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from tradelearn.risk.anomaly import (
    MarketTape,
    StreamingRobustZ,
    binance_tape,
    early_warning_auc,
    interval_features,
    isolation_scores,
    one_unit_of_log1p,
    robust_scale,
    robust_z,
    robust_z_features,
    robust_z_score,
)

S = 1_000_000_000


def test_streaming_robust_z_equals_the_vectorized_one() -> None:
    x = np.random.default_rng(0).standard_t(3, 400)
    x[100:160] = 0.25  # a flat stretch: the MAD is zero and the floor binds
    stream = StreamingRobustZ(window=50, resolution=one_unit_of_log1p)
    z_stream = np.array([stream.update(v) for v in x])
    assert np.allclose(z_stream, robust_z(x, 50, one_unit_of_log1p), equal_nan=True)
    assert np.isnan(z_stream[:50]).all()


def test_robust_z_does_not_look_ahead() -> None:
    x = np.random.default_rng(1).normal(size=300)
    y = x.copy()
    y[200:] += 100.0
    assert np.array_equal(robust_z(x, 30)[:200], robust_z(y, 30)[:200], equal_nan=True)
    assert robust_z(y, 30)[200] > 20  # the jump itself scores high


def test_robust_z_of_a_flat_history_is_zero_or_infinite_without_a_resolution() -> None:
    x = np.r_[np.ones(20), 1.0, 2.0]
    z = robust_z(x, 20)
    assert z[20] == 0.0
    assert z[21] == np.inf


def test_robust_z_of_a_flat_history_is_finite_and_scaled_by_one_resolution_step() -> None:
    x = np.r_[np.ones(20), 1.0, 2.0, 4.0]
    z = robust_z(x, 20, resolution=0.5)
    # floor: the mean absolute deviation of 20 values with one of them 0.5 off the median
    floor = np.sqrt(np.pi / 2) * 0.5 / 20
    assert z[20] == 0.0
    assert z[21] == pytest.approx(1.0 / floor)
    assert np.isfinite(z[22]) and z[22] > z[21]  # no cap: a bigger departure scores higher


def test_robust_z_falls_back_to_the_mean_absolute_deviation_when_the_mad_is_zero() -> None:
    hist = np.r_[np.zeros(15), 1.0, 1.0, 2.0, 3.0, -1.0]  # 15 of 20 at the median: MAD 0
    assert robust_scale(hist)[1] == pytest.approx(np.sqrt(np.pi / 2) * 8 / 20)
    assert robust_z_score(hist, 4.0) == pytest.approx(4.0 / (np.sqrt(np.pi / 2) * 0.4))
    normal = np.random.default_rng(6).normal(size=(200, 400))
    # where the MAD is positive it is the scale, and both estimate the s.d. of normal data
    assert np.median(robust_scale(normal)[1]) == pytest.approx(1.0, abs=0.03)
    assert np.mean(np.abs(normal)) * np.sqrt(np.pi / 2) == pytest.approx(1.0, abs=0.01)


def test_one_unit_of_log1p_is_one_more_message_at_the_median() -> None:
    n = np.array([0.0, 1.0, 9.0])
    assert one_unit_of_log1p(np.log1p(n)) == pytest.approx(np.log1p(n + 1) - np.log1p(n))


def test_discrete_counts_with_zero_mad_score_finite_and_rank_distinct_bursts() -> None:
    # a quiet feed: message counts mostly 0 (MAD 0 in nearly every window); spread, depth
    # and flow ordinary. Message bursts must rank above the rest, untied.
    rng = np.random.default_rng(7)
    n = 3000
    msgs = rng.poisson(0.3, n).astype(float)
    flow = np.clip(rng.normal(0.0, 0.3, n), -1.0, 1.0)
    X = np.column_stack([rng.normal(0.0, 0.1, n), rng.normal(5.0, 0.1, n), np.log1p(msgs), flow])
    # one window apart, so that no burst sits in another's window
    bursts = {400 + 320 * i: size for i, size in enumerate([5, 20, 80, 320, 1280, 5120])}
    for t, size in bursts.items():
        X[t, 2] = np.log1p(size)
    Z, combined = robust_z_features(X, 300)
    zero_mad = robust_scale(sliding_window_view(X[:, 2], 300)[:-1])[1]
    assert np.mean(np.median(sliding_window_view(X[:, 2], 300)[:-1], axis=1) == 0) > 0.9
    assert np.all(zero_mad > 0)
    assert np.all(np.isfinite(Z[300:])) and np.all(np.isfinite(combined[300:]))
    at = list(bursts)
    assert np.unique(combined[at]).size == len(at)  # no two bursts tie (a cap tied them all)
    # against one window whose MAD is zero, a bigger burst scores strictly higher
    hist = X[at[-1] - 300 : at[-1], 2]
    assert np.median(np.abs(hist - np.median(hist))) == 0
    z = robust_z_score(hist, np.log1p(list(bursts.values())), one_unit_of_log1p)
    assert np.all(np.isfinite(z)) and np.all(np.diff(z) > 0)
    top = np.sort(combined[300:])[::-1][: len(at)]
    assert set(np.flatnonzero(combined >= top[-1])) == set(at)  # the bursts are the top
    k = int(0.01 * (n - 300))  # the top 1% holds few ties
    assert np.unique(np.sort(combined[300:])[::-1][:k]).size >= k - 3


def _tape() -> MarketTape:
    # two seconds: quotes at 0.1 s and 1.5 s, trades in each second, 5 messages
    return MarketTape(
        name="hand",
        quote_ts=np.array([100_000_000, 1_500_000_000]),
        bid=np.array([99.0, 99.0]),
        ask=np.array([101.0, 100.0]),
        bid_size=np.array([10.0, 3.0]),
        ask_size=np.array([20.0, 4.0]),
        trade_ts=np.array([200_000_000, 1_600_000_000, 1_700_000_000]),
        trade_size=np.array([5.0, 2.0, 6.0]),
        trade_sign=np.array([1.0, 1.0, -1.0]),
        message_ts=np.array(
            [100_000_000, 200_000_000, 1_500_000_000, 1_600_000_000, 1_700_000_000]
        ),
    )


def test_interval_features_on_a_hand_built_tape() -> None:
    _, _, ends = interval_features(_tape(), S)
    assert ends.tolist() == [S]  # the grid starts after the first quote; one full second
    X2, ret2, ends2 = interval_features(
        MarketTape(**{**_tape().__dict__, "message_ts": np.r_[_tape().message_ts, 2 * S]}), S
    )
    assert ends2.tolist() == [S, 2 * S]
    spread_bp = np.exp(X2[:, 0])
    assert spread_bp == pytest.approx([2 / 100 * 1e4, 1 / 99.5 * 1e4])
    assert np.exp(X2[:, 1]) - 1 == pytest.approx([30.0, 7.0])
    assert np.exp(X2[:, 2]) - 1 == pytest.approx([2.0, 4.0])  # the message at 2 s closes the second
    assert X2[:, 3] == pytest.approx([1.0, (2 - 6) / 8])
    assert ret2[1] == pytest.approx(np.log(99.5 / 100.0) * 100)


def test_isolation_forest_scores_an_injected_outlier_highest() -> None:
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(1000, 4))
    Z[800] = [8.0, -8.0, 8.0, 8.0]
    s = isolation_scores(Z, 0.3, rng=0)
    assert np.isnan(s[:300]).all()
    assert int(np.nanargmax(s)) == 800


def test_early_warning_auc_of_an_oracle_is_one_and_of_noise_is_a_half() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    ret = rng.standard_t(3, n)
    oracle = np.abs(np.r_[ret[1:], 0.0])
    ew = early_warning_auc(oracle, ret, rng=0, n_boot=200)
    assert ew.auc_score == pytest.approx(1.0)
    assert ew.positives == pytest.approx(0.01 * ew.n, abs=2)
    noise = early_warning_auc(rng.normal(size=n), ret, rng=0, n_boot=200)
    assert noise.auc_score == pytest.approx(0.5, abs=0.06)
    assert noise.diff_low < noise.diff < noise.diff_high


def test_early_warning_baseline_sees_volatility_clusters() -> None:
    rng = np.random.default_rng(4)
    vol = np.repeat(rng.choice([0.5, 3.0], size=200), 100)
    ret = vol * rng.normal(size=vol.size)
    ew = early_warning_auc(np.zeros(vol.size), ret, rng=0, n_boot=100)
    # every extreme move is in a calm-or-wild regime the baseline sees: half the negatives
    # are in the wild regime, so the AUC is about 1/2 + 1/4
    assert ew.auc_baseline == pytest.approx(0.75, abs=0.06)
    assert ew.diff_high < 0  # a constant score is worse than the baseline


def test_robust_z_features_combine_the_four_directions() -> None:
    X = np.random.default_rng(5).normal(size=(400, 4))
    X[350, 1] = -30.0  # depth collapse
    _, combined = robust_z_features(X, 100)
    assert int(np.nanargmax(combined)) == 350


def test_binance_tape_reads_book_ticker_and_trade_lines(tmp_path: Path) -> None:
    lines = [
        (1, {"stream": "btcusdt@bookTicker", "data": {"u": 1, "s": "BTCUSDT", "b": "100.0", "B": "2", "a": "100.5", "A": "3"}}),
        (2, {"stream": "btcusdt@trade", "data": {"e": "trade", "p": "100.5", "q": "0.7", "m": False}}),
        (3, {"stream": "btcusdt@depth", "data": {"e": "depthUpdate", "b": [], "a": []}}),
        (4, {"stream": "btcusdt@trade", "data": {"e": "trade", "p": "100.0", "q": "0.2", "m": True}}),
    ]  # fmt: skip
    path = tmp_path / "feed.gz"
    with gzip.open(path, "wt") as fh:
        for ts, obj in lines:
            fh.write(f"{ts} {json.dumps(obj)}\n")
    tape = binance_tape(path)
    assert tape.quote_ts.tolist() == [1]
    assert tape.bid_size.tolist() == [2.0]
    assert tape.trade_sign.tolist() == [1.0, -1.0]
    assert tape.trade_size.tolist() == [0.7, 0.2]
    assert tape.message_ts.tolist() == [1, 2, 3, 4]
