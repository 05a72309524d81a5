"""The alpha signal for the execution environment: causal lookup, fit, IC, the env's channel."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.alpha.features_lob import mid_price, split_book
from tradelearn.data.lobster import midnight_ns
from tradelearn.errors import ConfigError, DataError
from tradelearn.execution.exec_config import ExecEnvConfig, MarketConfig
from tradelearn.execution.signals import (
    AlphaSignal,
    fit_alpha_signal,
    forward_move_bps,
    information_coefficient,
    side_signed,
)
from tradelearn.execution.sim_env import ExecutionEnv
from tradelearn.sim.generate import SyntheticDay, generate_day, write_day

NS = 1_000_000_000
OPEN = 34_200.0


@pytest.fixture(scope="module")
def day() -> SyntheticDay:
    """A generated 15-minute day (5 levels)."""
    return generate_day(seed=5, seconds=900, levels=5)


def window(d: SyntheticDay, lo_s: float, hi_s: float) -> tuple[int, int]:
    m0 = midnight_ns(d.date)
    return m0 + round((OPEN + lo_s) * NS), m0 + round((OPEN + hi_s) * NS)


def fit(book: np.ndarray, events: np.ndarray, d: SyntheticDay) -> AlphaSignal:
    assert d.book is not None
    return fit_alpha_signal(book, events, window(d, 0, 400), horizon_s=20.0, seed=3, max_rows=5_000)


def test_lookup_when_between_events_then_last_event_at_or_before_t() -> None:
    sig = AlphaSignal(
        ts=np.array([10, 20, 20, 30], dtype=np.int64),
        prediction=np.array([1.0, 2.0, 3.0, 4.0]),
        horizon_s=1.0,
        train_window_ns=(0, 10),
        unit_bps=2.0,
    )
    assert sig(9) == 0.0  # nothing known yet
    assert sig(10) == 0.5
    assert sig(19) == 0.5
    assert sig(20) == 1.5  # the last of the events stamped 20
    assert sig(10**12) == 2.0


def test_forward_move_when_known_path_then_bps_to_last_row_in_horizon() -> None:
    ts = np.array([0, NS, 2 * NS, 3 * NS], dtype=np.int64)
    mid = np.array([100.0, 101.0, 102.0, 103.0])
    y = forward_move_bps(mid, ts, 2.0)
    assert y[0] == pytest.approx(1e4 * np.log(102.0 / 100.0))
    assert y[1] == pytest.approx(1e4 * np.log(103.0 / 101.0))
    assert np.isnan(y[2]) and np.isnan(y[3])  # the horizon passes the last event
    with pytest.raises(ConfigError, match="horizon_s"):
        forward_move_bps(mid, ts, 0.0)


def test_signal_when_events_after_t_change_then_value_at_t_unchanged(day: SyntheticDay) -> None:
    assert day.book is not None
    ts = day.events["ts_exchange"].astype(np.int64)
    t = window(day, 0, 600)[1]
    i = int(np.searchsorted(ts, t, side="right"))  # rows >= i are after t
    book2, events2 = day.book.copy(), day.events.copy()
    # rewrite the future: the rows after t in reverse order, the clock kept
    book2[i:] = day.book[i:][::-1]
    for name in events2.dtype.names or ():
        if name != "ts_exchange":
            events2[name][i:] = day.events[name][i:][::-1]
    a, b = fit(day.book, day.events, day), fit(book2, events2, day)
    probes = np.linspace(window(day, 0, 0)[0], t, 50).astype(np.int64)
    assert [a(int(p)) for p in probes] == [b(int(p)) for p in probes]
    assert a.unit_bps == b.unit_bps
    # the rewrite did change what comes after t (so the check above can fail)
    assert not np.array_equal(a.prediction[i:], b.prediction[i:])


def test_fit_when_future_leaks_into_window_then_model_changes(day: SyntheticDay) -> None:
    """Guard of the test above: rewriting rows inside the training window does change it."""
    assert day.book is not None
    book2 = day.book.copy()
    j = int(np.searchsorted(day.events["ts_exchange"], window(day, 0, 200)[1]))
    book2[j:] = day.book[j:][::-1]
    a, b = fit(day.book, day.events, day), fit(book2, day.events, day)
    assert not np.array_equal(a.prediction[:j], b.prediction[:j])


def test_ic_when_prediction_is_the_realized_move_then_one(day: SyntheticDay) -> None:
    assert day.book is not None
    ts = day.events["ts_exchange"].astype(np.int64)
    mid = mid_price(split_book(day.book))
    perfect = np.nan_to_num(forward_move_bps(mid, ts, 20.0))
    sig = AlphaSignal(ts, perfect, 20.0, window(day, 0, 400))
    ic = information_coefficient(sig, mid, window(day, 400, 800))
    assert ic["spearman_ic"] == pytest.approx(1.0)
    shuffled = AlphaSignal(
        ts, np.random.default_rng(0).permutation(perfect), 20.0, sig.train_window_ns
    )
    assert abs(information_coefficient(shuffled, mid, window(day, 400, 800))["spearman_ic"]) < 0.1


def test_fit_when_window_empty_or_reversed_then_errors(day: SyntheticDay) -> None:
    assert day.book is not None
    lo, hi = window(day, 0, 400)
    with pytest.raises(ConfigError, match="train_window_ns"):
        fit_alpha_signal(day.book, day.events, (hi, lo))
    with pytest.raises(DataError, match="too few events"):
        fit_alpha_signal(day.book, day.events, (lo - 10 * NS, lo - 5 * NS), horizon_s=1.0)
    with pytest.raises(ConfigError, match="side"):
        side_signed(lambda t: 1.0, 0)


def test_env_when_signal_given_then_observation_shows_it_signed_by_side(
    day: SyntheticDay, tmp_path_factory: pytest.TempPathFactory
) -> None:
    m, o = write_day(day, tmp_path_factory.mktemp("market"))
    cfg = ExecEnvConfig(
        market=MarketConfig(kind="replay", message=str(m), orderbook=str(o)),
        horizon_s=120.0,
        n_steps=4,
        vol_window=3,
        start_window_s=(OPEN + 200.0, OPEN + 600.0),
        signal=True,
    )
    assert day.book is not None
    sig = fit(day.book, day.events, day)
    for side in (1, -1):
        env = ExecutionEnv(cfg.with_overrides(side=side))
        assert env.obs_names[-1] == "signal"
        env.signal_fn = side_signed(sig, side)
        obs, info = env.reset(seed=0)
        dt = round(cfg.horizon_s / cfg.n_steps * NS)
        seen, expected = [], []
        for k in range(cfg.n_steps):
            seen.append(float(obs[-1]))
            expected.append(np.clip(side * sig(info["start_ns"] + k * dt), -10, 10))
            obs, _, done, _, _ = env.step(np.zeros(2, dtype=np.float32))
            if done:
                break
        np.testing.assert_allclose(seen, expected, rtol=1e-6, atol=1e-6)
        assert any(abs(v) > 1e-3 for v in seen)  # the channel is not silently zero
    blind = ExecutionEnv(cfg.with_overrides(signal=False))
    blind.signal_fn = sig
    assert "signal" not in blind.obs_names
    assert blind.reset(seed=0)[0].shape == (len(blind.obs_names),)
