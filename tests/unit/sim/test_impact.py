"""PropagatorImpact: kernel math on known answers, the O(1) and bounded-history updates,
and the strict, JSON-serialisable ImpactParams."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.sim.impact import (
    DEFAULT_IMPACT,
    DEFAULT_IMPACT_POWER,
    ImpactParams,
    Kernel,
    PropagatorImpact,
    kernel_weight,
    size_transform,
)
from tradelearn.sim.types import ImpactModel

T0 = 1_340_285_400 * 10**9  # 2012-06-21 09:30 New York, in ns
S = 10**9


def brute_force(params: ImpactParams, trades: list[tuple[int, float]], t: int) -> float:
    """The defining sum, term by term."""
    total = 0.0
    for s, q in trades:
        if s <= t:
            f = float(size_transform(q, params.concavity))
            g = float(kernel_weight(params, (t - s) / S))
            total += f * (params.permanent + params.transient * g)
    return total


def random_trades(rng: np.random.Generator, n: int, mean_gap_s: float) -> list[tuple[int, float]]:
    gaps = rng.exponential(mean_gap_s * S, n).astype(np.int64)
    times = T0 + np.cumsum(gaps)
    sizes = rng.choice([-300, -100, -20, -1, 1, 50, 100, 500], n)
    return [(int(t), float(q)) for t, q in zip(times, sizes, strict=True)]


def test_propagator_impact_satisfies_the_impact_model_protocol() -> None:
    model: ImpactModel = PropagatorImpact(permanent=1.0, transient=1.0, decay_s=1.0)
    model.on_trade(T0, 100.0)
    assert model.offset(T0) > 0


def test_no_trades_no_offset() -> None:
    model = PropagatorImpact(permanent=2.0, transient=3.0, decay_s=1.0)
    assert model.offset(T0) == 0.0


def test_impact_right_after_a_trade_is_permanent_plus_transient() -> None:
    model = PropagatorImpact(permanent=2.0, transient=3.0, decay_s=1.0, concavity=1.0)
    model.on_trade(T0, 10.0)
    assert model.offset(T0) == pytest.approx(50.0)


@pytest.mark.parametrize("kernel", ["exp", "power"])
def test_sell_pushes_price_down_by_the_mirror_amount(kernel: Kernel) -> None:
    buy = PropagatorImpact(permanent=1.0, transient=4.0, decay_s=2.0, kernel=kernel)
    sell = PropagatorImpact(permanent=1.0, transient=4.0, decay_s=2.0, kernel=kernel)
    buy.on_trade(T0, 100.0)
    sell.on_trade(T0, -100.0)
    assert sell.offset(T0 + 3 * S) == pytest.approx(-buy.offset(T0 + 3 * S))


def test_exponential_transient_halves_after_ln2_decay_times() -> None:
    decay_s = 2.0
    model = PropagatorImpact(permanent=0.0, transient=10.0, decay_s=decay_s, concavity=1.0)
    model.on_trade(T0, 1.0)
    half_life = round(math.log(2) * decay_s * S)
    assert model.offset(T0) == pytest.approx(10.0)
    assert model.offset(T0 + half_life) == pytest.approx(5.0, rel=1e-9)
    assert model.offset(T0 + 2 * half_life) == pytest.approx(2.5, rel=1e-9)


def test_power_law_kernel_at_its_time_scale_is_two_to_minus_beta() -> None:
    model = PropagatorImpact(
        permanent=0.0, transient=8.0, decay_s=3.0, kernel="power", beta=1.5, concavity=1.0
    )
    model.on_trade(T0, 1.0)
    assert model.offset(T0 + 3 * S) == pytest.approx(8.0 * 2.0**-1.5)


@pytest.mark.parametrize("kernel", ["exp", "power"])
def test_permanent_part_stays_after_the_transient_is_gone(kernel: Kernel) -> None:
    model = PropagatorImpact(
        permanent=3.0,
        transient=50.0,
        decay_s=1.0,
        kernel=kernel,
        beta=2.0,
        concavity=1.0,
    )
    model.on_trade(T0, 2.0)
    late = model.offset(T0 + 10**7 * S)  # four months later
    assert late == pytest.approx(6.0, abs=1e-6)


@pytest.mark.parametrize("kernel", ["exp", "power"])
def test_impacts_of_two_trades_superpose(kernel: Kernel) -> None:
    params = ImpactParams(
        permanent=1.5, transient=7.0, decay_s=4.0, kernel=kernel, beta=0.7, concavity=0.6
    )
    both, first, second = (PropagatorImpact.from_params(params) for _ in range(3))
    both.on_trade(T0, 200.0)
    both.on_trade(T0 + 2 * S, -50.0)
    first.on_trade(T0, 200.0)
    second.on_trade(T0 + 2 * S, -50.0)
    for t in (T0 + 2 * S, T0 + 5 * S, T0 + 100 * S):
        assert both.offset(t) == pytest.approx(first.offset(t) + second.offset(t), rel=1e-12)


def test_concavity_half_makes_four_times_the_size_twice_the_impact() -> None:
    small = PropagatorImpact(permanent=1.0, transient=1.0, decay_s=1.0, concavity=0.5)
    large = PropagatorImpact(permanent=1.0, transient=1.0, decay_s=1.0, concavity=0.5)
    small.on_trade(T0, 100.0)
    large.on_trade(T0, 400.0)
    assert large.offset(T0 + S) == pytest.approx(2.0 * small.offset(T0 + S))


def test_concavity_one_is_linear_in_size() -> None:
    assert size_transform([-3.0, 0.0, 5.0], 1.0) == pytest.approx([-3.0, 0.0, 5.0])
    assert size_transform([-4.0, 0.0, 9.0], 0.5) == pytest.approx([-2.0, 0.0, 3.0])
    assert size_transform([-4.0, 0.0, 9.0], 0.0) == pytest.approx([-1.0, 0.0, 1.0])


def test_exponential_running_sum_equals_the_brute_force_sum() -> None:
    rng = np.random.default_rng(7)
    params = ImpactParams(permanent=0.8, transient=5.0, decay_s=3.0, concavity=0.5)
    model = PropagatorImpact.from_params(params)
    trades = random_trades(rng, 400, mean_gap_s=1.0)
    for i, (t, q) in enumerate(trades):
        model.on_trade(t, q)
        if i % 20 == 0:
            query = t + int(rng.integers(0, 5 * S))
            expected = brute_force(params, trades[: i + 1], query)
            assert model.offset(query) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert model.history_len == 0  # the exponential kernel keeps no history


def test_power_law_history_is_bounded_and_its_error_small() -> None:
    rng = np.random.default_rng(11)
    params = ImpactParams(
        permanent=0.5, transient=6.0, decay_s=1.0, kernel="power", beta=1.5, tolerance=1e-3
    )
    model = PropagatorImpact.from_params(params)
    trades = random_trades(rng, 3000, mean_gap_s=0.5)
    for t, q in trades:
        model.on_trade(t, q)
    # a trade is kept while G >= 1e-3, i.e. for 1 s * (1e-3^(-1/1.5) - 1) = 99 s
    assert 0 < model.history_len < 400
    query = trades[-1][0] + 2 * S
    exact = brute_force(params, trades, query)
    error = abs(model.offset(query) - exact)
    assert error <= model.dropped_bound + 1e-9
    amplitude = params.transient * float(
        np.sum(np.abs(size_transform([q for _, q in trades], 0.5)))
    )
    assert model.dropped_bound <= params.tolerance * amplitude


def test_power_law_history_never_exceeds_max_history() -> None:
    model = PropagatorImpact(
        permanent=0.0, transient=1.0, decay_s=10.0, kernel="power", beta=0.2, max_history=50
    )
    for i in range(500):
        model.on_trade(T0 + i * S, 1.0)
    assert model.history_len == 50
    assert model.dropped_bound > 0


def test_tiny_power_law_exponent_keeps_every_trade_without_overflow() -> None:
    model = PropagatorImpact(permanent=0.0, transient=1.0, decay_s=1.0, kernel="power", beta=1e-5)
    for i in range(10):
        model.on_trade(T0 + i * 1000 * S, 1.0)
    assert model.history_len == 10
    assert model.offset(T0 + 10**4 * S) == pytest.approx(10.0, rel=1e-3)


def test_reset_forgets_every_trade() -> None:
    model = PropagatorImpact(permanent=1.0, transient=1.0, decay_s=1.0, kernel="power")
    model.on_trade(T0, 100.0)
    model.reset()
    assert model.offset(T0 + S) == 0.0
    assert model.history_len == 0
    model.on_trade(T0 - S, 1.0)  # a new episode may start earlier


def test_zero_size_trade_changes_nothing() -> None:
    model = PropagatorImpact(permanent=1.0, transient=1.0, decay_s=1.0)
    model.on_trade(T0, 0.0)
    assert model.offset(T0) == 0.0


def test_trade_earlier_than_the_last_one_is_rejected() -> None:
    model = PropagatorImpact(permanent=1.0, transient=1.0, decay_s=1.0)
    model.on_trade(T0, 1.0)
    with pytest.raises(ValueError, match="on_trade expects ts_ns >= the last trade's"):
        model.on_trade(T0 - 1, 1.0)
    with pytest.raises(ValueError, match="offset expects ts_ns >= the last trade's"):
        model.offset(T0 - 1)


# --------------------------------------------------------------------------- ImpactParams


def test_params_round_trip_through_json_text_and_file(tmp_path: Path) -> None:
    params = ImpactParams(
        permanent=1.25, transient=3.5, decay_s=12.0, kernel="power", beta=0.4, concavity=0.3
    )
    assert ImpactParams.from_json(params.to_json()) == params
    path = params.save(tmp_path / "impact.json")
    assert ImpactParams.load(path) == params


def test_params_reject_unknown_keys_naming_them() -> None:
    data = {"permanent": 1.0, "transient": 1.0, "decay_s": 1.0, "decay": 5.0}
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['decay'\]; expected some of"):
        ImpactParams.from_dict(data)


def test_params_reject_missing_required_keys() -> None:
    with pytest.raises(ConfigError, match=r"lacks required key\(s\) \['decay_s'\]"):
        ImpactParams.from_dict({"permanent": 1.0, "transient": 1.0})


@pytest.mark.parametrize("decay_s", [0.0, -1.0])
def test_non_positive_decay_is_rejected_with_the_value(decay_s: float) -> None:
    with pytest.raises(
        ConfigError, match=f"ImpactParams.decay_s must be positive, actually: {decay_s}"
    ):
        ImpactParams(permanent=1.0, transient=1.0, decay_s=decay_s)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("permanent", -1.0, "must be >= 0"),
        ("transient", float("nan"), "must be finite"),
        ("kernel", "gauss", "kernel must be one of"),
        ("beta", 0.0, "beta must be positive"),
        ("concavity", 1.5, r"concavity must be in \[0, 1\]"),
        ("tolerance", 1.0, r"tolerance must be in \(0, 1\)"),
        ("max_history", 0, "max_history must be an integer >= 1"),
        ("decay_s", "5", "decay_s must be a number"),
    ],
)
def test_out_of_range_params_are_rejected(field: str, value: object, message: str) -> None:
    kw: dict[str, object] = {"permanent": 1.0, "transient": 1.0, "decay_s": 1.0, field: value}
    with pytest.raises(ConfigError, match=message):
        ImpactParams.from_dict(kw)


def test_params_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_IMPACT.decay_s = 2.0  # type: ignore[misc]


def test_unreadable_params_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read impact parameters"):
        ImpactParams.load(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="does not parse"):
        ImpactParams.load(bad)


@pytest.mark.parametrize("params", [DEFAULT_IMPACT, DEFAULT_IMPACT_POWER])
def test_calibrated_defaults_build_a_model_whose_buy_raises_the_price(
    params: ImpactParams,
) -> None:
    model = PropagatorImpact.from_params(params)
    model.on_trade(T0, 100.0)
    assert model.offset(T0) > 0
    assert model.offset(T0 + 60 * S) >= 0
