"""The agent-based market: determinism, replay parity, outside orders and configuration."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tradelearn.book.replay import verify, verify_reference
from tradelearn.errors import ConfigError
from tradelearn.sim import abm_kernels as K
from tradelearn.sim.abm_params import AgentParams, build_tables
from tradelearn.sim.agents import NS, AgentMarket
from tradelearn.sim.generate import FlowParams, generate_day, write_day

MINUTE = 60 * NS


def _market(seed: int, levels: int = 5) -> AgentMarket:
    market = AgentMarket(levels=levels)
    market.reset(seed)
    return market


def test_same_seed_gives_the_same_messages_bit_for_bit_and_another_seed_does_not() -> None:
    a, b, c = _market(7), _market(7), _market(8)
    for m in (a, b, c):
        m.run_until(m.open_ns + 20 * MINUTE)
    assert a.events().tobytes() == b.events().tobytes()
    assert a.book_rows().tobytes() == b.book_rows().tobytes()
    assert a.events().tobytes() != c.events().tobytes()


def test_running_in_many_steps_gives_the_same_stream_as_one_run() -> None:
    one, steps = _market(3), _market(3)
    end = one.open_ns + 15 * MINUTE
    one.run_until(end)
    for t in np.linspace(steps.open_ns, end, 97).astype(np.int64):
        steps.run_until(int(t))
    assert one.events().tobytes() == steps.events().tobytes()


def test_reset_reuses_the_market_and_starts_it_afresh() -> None:
    m = _market(5)
    m.run_until(m.open_ns + 5 * MINUTE)
    first = m.events()
    m.reset(5)
    m.run_until(m.open_ns + 5 * MINUTE)
    assert m.events().tobytes() == first.tobytes()


@contextmanager
def _interpreted() -> Iterator[None]:
    compiled = {name: obj for name, obj in vars(K).items() if hasattr(obj, "py_func")}
    try:
        for name, obj in compiled.items():
            setattr(K, name, obj.py_func)
        yield
    finally:
        for name, obj in compiled.items():
            setattr(K, name, obj)


def test_compiled_engine_equals_its_plain_python_original_bit_for_bit() -> None:
    p = dataclasses.replace(AgentParams(), warmup=120.0)
    runs = []
    for ctx in (contextmanager(lambda: iter([None]))(), _interpreted()):
        with ctx:
            m = AgentMarket(p, levels=3)
            m.reset(17)
            m.run_until(m.open_ns + 2 * MINUTE)
            m.inject(side=-1, qty=250)
            m.run_until(m.open_ns + 3 * MINUTE)
            runs.append((m.events().tobytes(), m.book_rows().tobytes(), m.n_events))
    assert runs[0] == runs[1] and runs[0][2] > 500


def test_generated_messages_replay_with_zero_differences_on_both_books() -> None:
    m = _market(11, levels=10)
    m.run_until(m.open_ns + 30 * MINUTE)
    ev, book = m.events(), m.book_rows()
    fast = verify(ev, book, 10, 100)
    assert fast.rows_compared == ev.shape[0] - 1
    assert fast.rows_matched == fast.rows_compared and fast.unexplained == 0
    assert fast.corrections == 0 and fast.anomalies == 0
    stop = min(ev.shape[0], 4_000)
    ref, _ = verify_reference(ev, book, 10, stop=stop)
    assert ref.rows_matched == stop - 1 and ref.unexplained == 0 and ref.corrections == 0


def test_open_book_is_written_as_adds_at_the_open_and_every_kind_of_message_occurs() -> None:
    m = _market(2)
    n_open = m.n_events
    m.run_until(m.open_ns + 30 * MINUTE)
    ev = m.events()
    assert n_open > 0 and (ev["event"][:n_open] == 1).all()
    assert (ev["ts_exchange"][:n_open] == m.open_ns).all()
    assert set(np.unique(ev["event"]).tolist()) >= {1, 3, 4, 5}
    assert (np.diff(ev["ts_exchange"]) >= 0).all()


def test_market_buy_takes_the_asks_front_of_queue_and_moves_the_mid_up() -> None:
    m = _market(4)
    m.run_until(m.open_ns + MINUTE)
    ask0, mid0 = m.best_ask, m.mid
    assert ask0 is not None and mid0 is not None
    fill = m.inject(side=1, qty=600)
    assert fill.filled == 600 and fill.order_id == 0
    ex = m.events()[fill.first_event :]
    assert (ex["event"] == 4).all() and (ex["side"] == -1).all()
    assert ex["qty"].sum() == 600 and ex["price"][0] == ask0
    assert (np.diff(ex["price"]) >= 0).all()
    assert m.mid is not None and m.mid > mid0


def test_resting_outside_order_is_never_cancelled_by_agents_and_cancel_removes_it() -> None:
    m = _market(6)
    m.run_until(m.open_ns + MINUTE)
    assert m.best_bid is not None
    price = m.best_bid - 50 * 100
    fill = m.inject(side=1, qty=300, price=price)
    assert fill.filled == 0 and fill.order_id > 0
    m.run_until(m.open_ns + 10 * MINUTE)
    ours = m.events()["order_id"] == fill.order_id
    assert ours.sum() == 1 + (m.events()["event"][ours] == 4).sum()  # only its add and fills
    left = 300 - int(m.events()["qty"][ours & (m.events()["event"] == 4)].sum())
    assert m.cancel(fill.order_id) == left
    assert m.cancel(fill.order_id) == 0
    ev, book = m.events(), m.book_rows()
    assert verify(ev, book, 5, 100).unexplained == 0


def test_marketable_limit_order_trades_up_to_its_price_and_rests_the_rest() -> None:
    m = _market(9)
    m.run_until(m.open_ns + MINUTE)
    ask = m.best_ask
    assert ask is not None
    fill = m.inject(side=1, qty=100_000, price=ask)
    assert 0 < fill.filled < 100_000 and fill.order_id > 0
    assert m.best_bid == ask
    ioc = m.inject(side=-1, qty=10, price=ask, rest=False)
    assert ioc.filled == 10 and ioc.order_id == 0


def test_our_buying_moves_the_price_but_never_the_exogenous_fundamental() -> None:
    quiet, pushed = _market(12), _market(12)
    t = quiet.open_ns + MINUTE
    for m in (quiet, pushed):
        m.run_until(t)
    for k in range(20):
        pushed.inject(side=1, qty=200, t_ns=t + k * 15 * NS)
    end = t + 6 * MINUTE
    quiet.run_until(end)
    pushed.run_until(end)
    assert pushed.fundamental == quiet.fundamental  # its generator never sees our orders
    assert pushed.mid is not None and quiet.mid is not None
    assert pushed.mid - quiet.mid > 5 * 100  # the agents learned from our flow


def test_inject_when_bad_side_quantity_price_or_time_then_config_error() -> None:
    m = _market(1)
    with pytest.raises(ConfigError, match="side must be"):
        m.inject(side=0, qty=1)
    with pytest.raises(ConfigError, match="qty must be positive"):
        m.inject(side=1, qty=0)
    with pytest.raises(ConfigError, match="off the tick grid"):
        m.inject(side=1, qty=1, price=(m.best_bid or 0) + 1)
    m.run_until(m.open_ns + MINUTE)
    with pytest.raises(ConfigError, match="before the market's clock"):
        m.inject(side=1, qty=1, t_ns=m.open_ns)
    with pytest.raises(ConfigError, match="reset"):
        AgentMarket().run_until(0)


def test_unrecorded_market_runs_the_same_flow_without_messages() -> None:
    rec, quiet = AgentMarket(levels=1), AgentMarket(levels=1, record=False)
    for m in (rec, quiet):
        m.reset(13)
        m.run_until(m.open_ns + 10 * MINUTE)
    assert quiet.n_events == 0 and rec.n_events > 0
    assert quiet.mid == rec.mid and quiet.fundamental == rec.fundamental


def test_params_round_trip_through_json_and_unknown_keys_are_rejected(tmp_path: Path) -> None:
    p = dataclasses.replace(AgentParams(), noise_rate=0.2, profile=(1.0, 2.0))
    path = tmp_path / "params.json"
    path.write_text(json.dumps(p.to_json()))
    assert AgentParams.from_json(path) == p
    with pytest.raises(ConfigError, match=r"unknown AgentParams fields \['noise_rat'\]"):
        AgentParams.from_json({"noise_rat": 1.0})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("noise_rate", -1.0, "noise_rate must be >= 0"),
        ("hawkes_branching", 1.0, "hawkes_branching must be < 1"),
        ("class_inside", (0.5, 0.5, 0.5), "class_inside must sum to 1"),
        ("dist_quantiles", (1.0, 0.0), "dist_quantiles must be 23 non-decreasing values"),
        ("profile", (), "profile must be positive values"),
        ("anchor", 1.5, "anchor must be in"),
    ],
)
def test_params_when_out_of_range_then_config_error_names_the_field(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(AgentParams(), **{field: value}).validate()


def test_fitted_tables_are_proper_distributions_with_the_default_moments() -> None:
    t = build_tables(AgentParams())
    for cdf in (t.d_cdf, t.lo_cdf, t.mo_cdf):
        assert cdf[-1] == 1.0 and (np.diff(cdf) >= 0).all()
    lo_mean = float(np.sum(t.lo_vals * np.diff(t.lo_cdf, prepend=0.0)))
    assert 50 < lo_mean < 90  # GOOG's limit orders average 63 shares


def test_generate_day_defaults_to_agents_and_takes_zi_params_or_model() -> None:
    agents = generate_day(seed=1, seconds=300, levels=2)
    zi = generate_day(seed=1, seconds=300, levels=2, model="zi")
    assert (
        zi.events.tobytes()
        == generate_day(seed=1, seconds=300, levels=2, params=FlowParams()).events.tobytes()
    )
    assert agents.events.tobytes() != zi.events.tobytes()
    capped = generate_day(seed=1, seconds=300, levels=2, max_events=100)
    assert capped.events.tobytes() == agents.events[:100].tobytes()
    with pytest.raises(ConfigError, match="does not take FlowParams"):
        generate_day(seed=1, seconds=10, model="agents", params=FlowParams())
    with pytest.raises(ConfigError, match="model must be one of"):
        generate_day(seed=1, seconds=10, model="abm")


def test_written_day_is_identical_bytes_for_the_same_seed(tmp_path: Path) -> None:
    paths = [write_day(generate_day(seed=21, seconds=1_800, levels=3), tmp_path / d) for d in "ab"]
    for x, y in zip(paths[0], paths[1], strict=True):
        assert x.read_bytes() == y.read_bytes()
