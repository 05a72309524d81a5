"""calibrate_impact: market orders from executions, recovery of a known kernel on a
synthetic day, determinism, errors, the command, and a real GOOG day."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tradelearn.cli.impact import app
from tradelearn.data.lobster import DUMMY_ASK, LobsterDay, load_lobster, midnight_ns
from tradelearn.data.schema import Instrument, empty_events
from tradelearn.errors import ConfigError, DataError
from tradelearn.sim.calibrate_impact import calibrate_impact, market_orders, mid_prices
from tradelearn.sim.generate import generate_day, write_day
from tradelearn.sim.impact import (
    DEFAULT_IMPACT,
    DEFAULT_IMPACT_POWER,
    ImpactParams,
    Kernel,
    PropagatorImpact,
)
from tradelearn.testing.realdata import lobster_pair

DATE = dt.date(2012, 6, 21)
T0 = midnight_ns(DATE) + 34_200 * 10**9
S = 10**9


def make_day(events: np.ndarray, book: np.ndarray) -> LobsterDay:
    return LobsterDay(
        symbol="SYN",
        date=DATE,
        levels=1,
        instrument=Instrument(symbol="SYN", price_scale=10_000, tick_size=1),
        events=events,
        book=book,
        message_path=Path("synthetic"),
        orderbook_path=None,
    )


def synthetic_day(
    *,
    seed: int = 0,
    seconds: float = 3600.0,
    trade_rate: float = 1.0,
    permanent: float = 30.0,
    transient: float = 60.0,
    decay_s: float = 5.0,
    concavity: float = 0.5,
    sign_persistence: float = 0.3,
    noise: float = 3.0,
    quote_every_s: float = 0.05,
) -> LobsterDay:
    """A day whose mid is a random walk plus the impact of its trades under a known model.

    Trades (Poisson, lognormal sizes, signs that repeat with probability
    ``sign_persistence``) are visible executions; quote updates every ``quote_every_s``
    carry the random walk and let the mid show the decaying transient between trades.
    Each row's book shows the mid after that row, so a trade's own row includes its impact.
    """
    rng = np.random.default_rng(seed)
    n_tr = int(rng.poisson(trade_rate * seconds))
    t_tr = T0 + np.sort(rng.integers(1, int(seconds * S), n_tr))
    sign = np.where(rng.random(n_tr) < 0.5, 1, -1)
    repeat = rng.random(n_tr) < sign_persistence
    for i in range(1, n_tr):
        if repeat[i]:
            sign[i] = sign[i - 1]
    size = np.maximum(1, np.rint(np.exp(rng.normal(math.log(60.0), 1.0, n_tr)))).astype(np.int64)
    t_q = T0 + np.arange(int(seconds / quote_every_s), dtype=np.int64) * int(quote_every_s * S)
    ts = np.r_[t_q, t_tr]
    is_tr = np.r_[np.zeros(t_q.size, bool), np.ones(n_tr, bool)]
    order = np.argsort(ts, kind="stable")
    ts, is_tr = ts[order], is_tr[order]
    j = np.maximum(np.cumsum(is_tr) - 1, 0)  # index of the latest trade at each row
    walk = np.cumsum(np.where(is_tr, 0.0, rng.normal(0.0, noise, ts.size)))
    model = PropagatorImpact(
        permanent=permanent, transient=transient, decay_s=decay_s, concavity=concavity
    )
    impact = np.empty(ts.size)
    for k in range(ts.size):
        if is_tr[k]:
            model.on_trade(int(ts[k]), float(sign[j[k]] * size[j[k]]))
        impact[k] = model.offset(int(ts[k]))
    mid = np.rint(5_000_000 + walk + impact).astype(np.int64)
    ev = empty_events(ts.size)
    ev["ts_exchange"] = ts
    ev["ts_local"] = ts
    ev["event"] = np.where(is_tr, 4, 1)
    ev["side"] = np.where(is_tr, -sign[j], 1)  # executions carry the resting side
    ev["qty"] = np.where(is_tr, size[j], 100)
    ev["price"] = np.where(is_tr & (ev["side"] < 0), mid + 500, mid - 500)
    ev["order_id"] = np.arange(1, ts.size + 1)
    book = np.column_stack([mid + 500, np.full(ts.size, 100), mid - 500, np.full(ts.size, 100)])
    return make_day(ev, book)


def tiny_day(
    rows: list[tuple[float, int, int, int]], asks: list[int], bids: list[int]
) -> LobsterDay:
    """Rows of (seconds after the open, event, side, qty) with the level-1 book after each."""
    ev = empty_events(len(rows))
    for i, (sec, kind, side, qty) in enumerate(rows):
        ev[i]["ts_exchange"] = ev[i]["ts_local"] = T0 + round(sec * S)
        ev[i]["event"], ev[i]["side"], ev[i]["qty"] = kind, side, qty
        ev[i]["price"] = asks[i] if side < 0 else bids[i]
    book = np.column_stack([asks, np.full(len(rows), 10), bids, np.full(len(rows), 10)])
    return make_day(ev, book.astype(np.int64))


# --------------------------------------------------------------------------- market orders


def test_executions_sharing_a_timestamp_form_one_market_order() -> None:
    day = tiny_day(
        [(0.0, 1, -1, 10), (1.0, 4, -1, 10), (1.0, 4, -1, 5), (1.0, 1, -1, 10), (2.0, 4, 1, 3)],
        asks=[1000, 1100, 1200, 1150, 1150],
        bids=[900, 900, 900, 900, 800],
    )
    mo = market_orders(day)
    assert mo.ts.tolist() == [T0 + S, T0 + 2 * S]
    assert mo.sign.tolist() == [1, -1]  # hitting resting asks is a buy; resting bids, a sell
    assert mo.size.tolist() == [15, 3]
    assert mo.mid_before.tolist() == [950.0, 1025.0]
    assert mo.mid_after.tolist() == [1025.0, 975.0]  # after every message at that timestamp


def test_hidden_executions_count_unless_excluded() -> None:
    day = tiny_day(
        [(0.0, 1, -1, 10), (1.0, 5, 1, 7), (2.0, 4, -1, 5)],
        asks=[1000, 1000, 1100],
        bids=[900, 900, 900],
    )
    assert market_orders(day).sign.tolist() == [-1, 1]
    assert market_orders(day, include_hidden=False).size.tolist() == [5]


def test_close_same_sign_orders_merge_within_the_window() -> None:
    day = tiny_day(
        [(0.0, 1, -1, 10), (1.0, 4, -1, 4), (1.0005, 4, -1, 6), (1.5, 4, -1, 2)],
        asks=[1000, 1000, 1100, 1200],
        bids=[900, 900, 900, 900],
    )
    assert market_orders(day).size.tolist() == [4, 6, 2]
    merged = market_orders(day, merge_within_s=0.001)
    assert merged.size.tolist() == [10, 2]
    assert merged.mid_before.tolist() == [950.0, 1000.0]
    assert merged.mid_after.tolist() == [1000.0, 1050.0]


def test_mid_carries_forward_over_rows_with_an_empty_side() -> None:
    book = np.array([[1000, 1, 900, 1], [DUMMY_ASK, 0, 900, 1], [1100, 1, 900, 1]], np.int64)
    assert mid_prices(book).tolist() == [950.0, 950.0, 1000.0]


# --------------------------------------------------------------------------- recovery


def test_recovers_a_known_exponential_kernel_permanent_part_and_concavity() -> None:
    cal = calibrate_impact(synthetic_day(), n_boot=40)
    fit = cal.exp_fit
    assert fit.permanent == pytest.approx(30.0, rel=0.05)
    assert fit.transient == pytest.approx(60.0, rel=0.05)
    assert fit.decay_s == pytest.approx(5.0, rel=0.1)
    assert cal.concavity.concavity == pytest.approx(0.5, abs=0.03)
    assert cal.best_kernel == "exp"
    assert not fit.at_grid_edge
    assert cal.notes == ()


def test_recovery_holds_under_noise_and_correlated_signs() -> None:
    day = synthetic_day(seed=3, noise=20.0, sign_persistence=0.6, transient=40.0, decay_s=20.0)
    cal = calibrate_impact(day, n_boot=40)
    fit = cal.exp_fit
    assert fit.permanent == pytest.approx(30.0, abs=4 * fit.permanent_se + 1.0)
    assert fit.transient == pytest.approx(40.0, abs=4 * fit.transient_se + 1.0)
    assert fit.decay_s == pytest.approx(20.0, rel=0.25)
    # signs repeat, so the raw response R keeps rising while the bare kernel decays
    assert cal.sign_autocorrelation.value[0] == pytest.approx(0.6, abs=0.05)
    assert cal.response_time.value[4] > cal.response_time.value[0]


def test_purely_permanent_impact_gives_a_flat_kernel() -> None:
    cal = calibrate_impact(synthetic_day(seed=5, transient=0.0), n_boot=40)
    assert cal.kernel.value[-1] == pytest.approx(30.0, rel=0.05)
    assert cal.exp_fit.permanent == pytest.approx(30.0, rel=0.05)
    assert cal.exp_fit.transient < 2.0


def test_fixed_concavity_is_used_and_the_fit_still_reported() -> None:
    cal = calibrate_impact(synthetic_day(seconds=1200.0), concavity=1.0, n_boot=10)
    assert cal.concavity_used == 1.0
    assert cal.to_params().concavity == 1.0
    assert cal.concavity.concavity == pytest.approx(0.5, abs=0.05)
    assert any("concavity fixed at 1.0" in note for note in cal.notes)


def test_same_seed_same_result_and_params_round_trip_through_json(tmp_path: Path) -> None:
    day = synthetic_day(seconds=1200.0)
    a = calibrate_impact(day, n_boot=20, seed=4)
    b = calibrate_impact(day, n_boot=20, seed=np.random.default_rng(4))
    assert a.exp_fit == b.exp_fit
    assert a.to_json() == calibrate_impact(day, n_boot=20, seed=4).to_json()
    data = json.loads(a.to_json())
    assert data["params"] == a.to_params().to_dict()
    assert data["kernel"]["x"][0] == pytest.approx(0.05)
    kernels: tuple[Kernel, ...] = ("exp", "power")
    for kernel in kernels:
        params = a.to_params(kernel)
        assert ImpactParams.load(params.save(tmp_path / f"{kernel}.json")) == params


# --------------------------------------------------------------------------- errors


def test_too_few_market_orders_is_a_data_error_with_the_count() -> None:
    day = tiny_day([(0.0, 1, -1, 10), (1.0, 4, -1, 5)], asks=[1000, 1100], bids=[900, 900])
    with pytest.raises(DataError, match=r"too few market orders.*expected at least 50, got 1"):
        calibrate_impact(day)


def test_day_without_its_orderbook_is_rejected() -> None:
    day = synthetic_day(seconds=60.0)
    bare = LobsterDay(**{**day.__dict__, "book": None})
    with pytest.raises(DataError, match="needs the orderbook file"):
        calibrate_impact(bare)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizons_s": (1.0, 0.5, 2.0, 3.0)}, "horizons_s must be at least 4 increasing"),
        ({"horizons_s": (0.01, 1.0, 2.0, 3.0)}, "each >= bin_s"),
        ({"bin_s": 0.0}, "bin_s must be positive, actually: 0.0"),
        ({"n_boot": 1}, "n_blocks and n_boot must be >= 2"),
        ({"concavity": 2.0}, r"concavity must be in \[0, 1\], actually: 2.0"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        calibrate_impact(synthetic_day(seconds=60.0), **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- command


def test_command_writes_params_and_prints_one_json_object(tmp_path: Path) -> None:
    day = generate_day(seed=1, seconds=900.0, levels=1, symbol="SYN")
    mpath, opath = write_day(day, tmp_path)
    out = tmp_path / "params.json"
    args = ["--message", str(mpath), "--orderbook", str(opath), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--json", "--n-boot", "20"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["out"] == str(out)
    assert ImpactParams.load(out).to_dict() == data["params"]
    assert data["n_orders"] > 100
    table = CliRunner().invoke(app, [*args, "--kernel", "power", "--n-boot", "10"])
    assert table.exit_code == 0, table.output
    assert "concavity" in table.stdout
    assert ImpactParams.load(out).kernel == "power"


def test_command_rejects_an_unknown_kernel(tmp_path: Path) -> None:
    day = generate_day(seed=1, seconds=60.0, levels=1, symbol="SYN")
    mpath, opath = write_day(day, tmp_path)
    args = ["--message", str(mpath), "--orderbook", str(opath), "--kernel", "gauss"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--kernel must be exp, power or best, actually: 'gauss'" in result.output


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_goog_level1_fit_is_finite_transient_decays_and_permanent_is_non_negative() -> None:
    day = load_lobster(*lobster_pair("GOOG", 1))
    cal = calibrate_impact(day, n_boot=50)
    assert cal.n_orders > 5000
    assert cal.response_event.value[0] > 0  # buys push the mid up, sells down
    for fit in (cal.exp_fit, cal.power_fit):
        values = [fit.permanent, fit.transient, fit.decay_s, fit.chi2_per_dof, fit.r2]
        assert all(math.isfinite(v) for v in values)
        assert fit.permanent >= 0
        assert fit.transient >= 0
        model = PropagatorImpact.from_params(cal.to_params(fit.kernel))
        model.on_trade(T0, 100.0)
        now, later = model.offset(T0), model.offset(T0 + 3600 * S)
        assert now > 0
        assert later <= now
    assert max(cal.kernel.value) > cal.kernel.value[-1]  # the measured response comes down
    assert 0 <= cal.concavity_used <= 1


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("kernel", "default"), [("exp", DEFAULT_IMPACT), ("power", DEFAULT_IMPACT_POWER)]
)
def test_module_defaults_are_what_the_goog_calibration_gives(
    kernel: Kernel, default: ImpactParams
) -> None:
    day = load_lobster(*lobster_pair("GOOG", 1))
    params = calibrate_impact(day).to_params(kernel)
    assert params.kernel == default.kernel
    for name in ("permanent", "transient", "decay_s", "beta", "concavity"):
        assert getattr(params, name) == pytest.approx(getattr(default, name), rel=1e-3, abs=1e-9)
