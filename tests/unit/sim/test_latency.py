"""Latency models: constant and random draws, seeding, bad configuration."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.sim.latency import ConstantLatency, LatencyModel, RandomLatency


def test_constant_latency_returns_the_same_ns_on_every_draw() -> None:
    lat = ConstantLatency(feed_ns=10, entry_ns=20, response_ns=30)
    assert [lat.feed(), lat.entry(), lat.response()] * 2 == [10, 20, 30] * 2
    assert isinstance(lat, LatencyModel)


def test_constant_latency_when_negative_then_config_error() -> None:
    with pytest.raises(ConfigError, match=r"entry_ns must be a number >= 0 .*actually: -1"):
        ConstantLatency(entry_ns=-1)


def test_constant_latency_when_float_then_config_error() -> None:
    with pytest.raises(ConfigError, match=r"feed_ns must be an int, actually: 1.5"):
        ConstantLatency(feed_ns=1.5)  # type: ignore[arg-type]


def test_random_latency_same_seed_gives_same_draws() -> None:
    a = RandomLatency(1_000, 50_000, 60_000, sigma=0.7, seed=3)
    b = RandomLatency(1_000, 50_000, 60_000, sigma=0.7, seed=3)
    draws_a = [(a.feed(), a.entry(), a.response()) for _ in range(100)]
    draws_b = [(b.feed(), b.entry(), b.response()) for _ in range(100)]
    assert draws_a == draws_b
    assert all(isinstance(x, int) and x >= 0 for row in draws_a for x in row)


def test_random_latency_reseed_restarts_the_stream() -> None:
    lat = RandomLatency(1_000, 50_000, 60_000, seed=9)
    first = [lat.entry() for _ in range(5)]
    lat.reseed(9)
    assert [lat.entry() for _ in range(5)] == first


def test_random_latency_is_lognormal_around_the_median() -> None:
    lat = RandomLatency(0, 100_000, 0, sigma=0.5, seed=1)
    draws = np.array([lat.entry() for _ in range(20_000)], dtype=float)
    assert abs(np.median(draws) / 100_000 - 1) < 0.03
    assert abs(np.std(np.log(draws)) - 0.5) < 0.02
    assert lat.feed() == 0 and lat.response() == 0


def test_random_latency_with_zero_sigma_gives_the_medians() -> None:
    lat = RandomLatency(7, 8, 9, sigma=0.0, seed=np.random.default_rng(0))
    assert (lat.feed(), lat.entry(), lat.response()) == (7, 8, 9)


def test_empirical_latency_draws_only_recorded_values() -> None:
    lat = RandomLatency.empirical(feed=[5, 6], entry=[100, 200, 300], response=[7], seed=2)
    assert {lat.entry() for _ in range(200)} == {100, 200, 300}
    assert {lat.feed() for _ in range(50)} <= {5, 6}
    assert lat.response() == 7


def test_empirical_latency_when_empty_then_config_error() -> None:
    with pytest.raises(ConfigError, match=r"entry must be a non-empty 1-D array"):
        RandomLatency.empirical(feed=[1], entry=[], response=[1])


def test_random_latency_when_negative_median_then_config_error() -> None:
    with pytest.raises(ConfigError, match=r"RandomLatency.response_ns must be a number >= 0"):
        RandomLatency(0, 0, -5)
