"""The pre-trade gate: one test per check, the trading states, the kill switch, the journal."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tradelearn.errors import ConfigError
from tradelearn.risk.gate import OrderIntent, PreTradeGate, TradingState
from tradelearn.risk.journal import FileJournal, MemoryJournal, read_journal
from tradelearn.risk.limits import GateLimits

S = 1_000_000_000  # one second in ns
T0 = 100 * S

LIMITS = dict(
    max_order_qty=1_000,
    max_order_notional=100_000.0,
    max_position=2_000,
    max_gross_notional=300_000.0,
    max_daily_loss=5_000.0,
    max_orders_per_window=5,
    max_messages_per_window=8,
    rate_window_s=1.0,
    price_collar_bps=100.0,
    reference_max_age_s=2.0,
    max_adv_fraction=0.01,
    max_open_orders=3,
    restricted=["BAD"],
)


def make_gate(**overrides: object) -> PreTradeGate:
    gate = PreTradeGate(GateLimits.from_mapping({**LIMITS, **overrides}))
    gate.on_mark("ABC", 50.0, T0)
    gate.on_mark("XYZ", 100.0, T0)
    gate.set_adv("ABC", 1_000_000)
    gate.set_adv("XYZ", 1_000_000)
    gate.add_account("acct")
    return gate


_ids = iter(range(10**9))


def order(
    side: int = 1, qty: float = 100, price: float | None = 50.0, symbol: str = "ABC", **kw: object
) -> OrderIntent:
    fields = {
        "client_id": f"c{next(_ids)}",
        "account": "acct",
        "symbol": symbol,
        "side": side,
        "qty": qty,
        "price": price,
    }
    fields.update(kw)
    return OrderIntent(**fields)  # type: ignore[arg-type]


def test_order_within_every_limit_is_allowed_and_becomes_open() -> None:
    gate = make_gate()
    o = order()
    d = gate.check(o, T0)
    assert d.allowed and d.reason == "" and o.client_id in gate.open_orders


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"qty": math.nan}, "quantity must be a positive whole number"),
        ({"qty": -5}, "quantity must be a positive whole number"),
        ({"qty": 0}, "quantity must be a positive whole number"),
        ({"qty": 10.5}, "quantity must be a positive whole number"),
        ({"qty": math.inf}, "quantity must be a positive whole number"),
        ({"price": -1.0}, "price must be positive and finite"),
        ({"price": math.nan}, "price must be positive and finite"),
        ({"side": 0}, "side must be +1 or -1"),
        ({"side": 2}, "side must be +1 or -1"),
        ({"symbol": ""}, "missing symbol"),
    ],
)
def test_malformed_order_is_denied_with_the_field_named(
    kwargs: dict[str, object], reason: str
) -> None:
    d = make_gate().check(order(**kwargs), T0)  # type: ignore[arg-type]
    assert not d.allowed and d.check == "input" and reason in d.reason


def test_missing_account_is_a_denial() -> None:
    d = make_gate().check(order(account="nobody"), T0)
    assert not d.allowed and d.check == "account"


def test_duplicate_client_id_is_denied() -> None:
    gate = make_gate()
    assert gate.check(order(client_id="dup"), T0).allowed
    d = gate.check(order(client_id="dup"), T0)
    assert not d.allowed and d.check == "duplicate_id"


def test_restricted_symbol_is_denied() -> None:
    gate = make_gate()
    gate.on_mark("BAD", 10.0, T0)
    d = gate.check(order(symbol="BAD", price=10.0), T0)
    assert not d.allowed and d.check == "restricted"


def test_missing_reference_price_is_a_denial() -> None:
    d = make_gate().check(order(symbol="NEW", price=10.0), T0)
    assert not d.allowed and d.check == "reference" and "no reference price" in d.reason


def test_stale_reference_price_is_a_denial() -> None:
    d = make_gate().check(order(), T0 + 3 * S)
    assert not d.allowed and d.check == "reference" and "stale" in d.reason


def test_order_quantity_limit() -> None:
    d = make_gate().check(order(qty=1_001, price=50.0), T0)
    assert not d.allowed and d.check == "order_qty"


def test_order_notional_limit_uses_the_reference_for_market_orders() -> None:
    gate = make_gate()
    d = gate.check(
        order(symbol="XYZ", qty=1_000, price=None), T0
    )  # 1000 x 100 = 100,000: at the limit
    assert d.allowed
    d = gate.check(order(symbol="XYZ", qty=1_000, price=100.5), T0)
    assert not d.allowed and d.check == "order_notional"


def test_price_collar_against_reference() -> None:
    gate = make_gate()
    assert gate.check(order(price=50.49), T0).allowed  # 98 bp
    d = gate.check(order(price=50.6), T0)  # 120 bp
    assert not d.allowed and d.check == "price_collar"


def test_fat_finger_against_average_daily_volume() -> None:
    gate = make_gate()
    gate.set_adv("ABC", 50_000)  # 1% = 500 shares
    d = gate.check(order(qty=600), T0)
    assert not d.allowed and d.check == "fat_finger"


def test_missing_adv_is_a_denial() -> None:
    gate = make_gate()
    gate.on_mark("NOADV", 50.0, T0)
    d = gate.check(order(symbol="NOADV"), T0)
    assert not d.allowed and d.check == "fat_finger" and "no average daily volume" in d.reason


def test_position_limit_counts_open_orders_on_the_same_side() -> None:
    gate = make_gate()
    gate.add_account("acct", positions={"ABC": 1_500})
    assert gate.check(order(qty=400), T0).allowed
    d = gate.check(order(qty=200), T0)  # 1500 + 400 open + 200 = 2100 > 2000
    assert not d.allowed and d.check == "position"


def test_gross_notional_limit_across_symbols() -> None:
    gate = make_gate(max_position=10_000)
    gate.add_account("acct", positions={"XYZ": 2_500})  # 250,000 notional
    d = gate.check(order(qty=1_000, price=50.0), T0)  # + 50,000 + ... = 300,000 at the limit
    assert d.allowed
    d = gate.check(order(qty=100, price=50.0), T0)
    assert not d.allowed and d.check == "gross"


def test_daily_loss_limit_blocks_new_risk_but_not_reduction() -> None:
    gate = make_gate()
    gate.add_account("acct", positions={"ABC": 1_000})  # starts at 50,000
    gate.on_mark("ABC", 44.0, T0 + 1)  # loss 6,000 > 5,000
    d = gate.check(order(qty=10, price=44.0), T0 + 1)
    assert not d.allowed and d.check == "daily_loss"
    assert gate.check(order(side=-1, qty=500, price=44.0), T0 + 1).allowed  # reduces


def test_max_open_orders_per_symbol() -> None:
    gate = make_gate()
    for _ in range(3):
        assert gate.check(order(qty=10, price=49.8), T0).allowed
    d = gate.check(order(qty=10, price=49.8), T0)
    assert not d.allowed and d.check == "open_orders"


def test_self_trade_prevention() -> None:
    gate = make_gate()
    assert gate.check(order(side=-1, qty=10, price=50.2), T0).allowed
    d = gate.check(order(side=1, qty=10, price=50.3), T0)
    assert not d.allowed and d.check == "self_trade"
    assert gate.check(order(side=1, qty=10, price=50.1), T0).allowed  # does not cross


def test_order_rate_over_a_sliding_window() -> None:
    gate = make_gate(max_open_orders=100, max_position=100_000, max_gross_notional=1e9)
    for k in range(5):
        assert gate.check(order(qty=1, price=49.8), T0 + k).allowed
    d = gate.check(order(qty=1, price=49.8), T0 + 10)
    assert not d.allowed and d.check == "order_rate"
    assert gate.check(order(qty=1, price=49.8), T0 + S + 1).allowed  # the window slid


def test_message_rate_counts_cancels_and_modifies() -> None:
    gate = make_gate(max_open_orders=100, max_position=100_000, max_gross_notional=1e9)
    for k in range(8):
        gate.note_message(T0 + k)
    d = gate.check(order(qty=1, price=49.8), T0 + 20)
    assert not d.allowed and d.check == "message_rate"


def test_kill_switch_halts_and_returns_open_orders_to_cancel() -> None:
    gate = make_gate()
    gate.add_account("acct", positions={"ABC": 300})
    ids = [gate.check(order(qty=10, price=49.8), T0).client_id for _ in range(2)]
    assert sorted(gate.kill(T0 + 1)) == sorted(ids)
    assert gate.state is TradingState.HALTED
    d = gate.check(order(qty=10, price=49.8), T0 + 2)
    assert not d.allowed and d.check == "state"
    for cid in ids:
        gate.on_cancel(cid, T0 + 2)
    assert gate.check(order(side=-1, qty=100, price=50.0), T0 + 3).allowed  # risk-reducing


def test_reducing_state_only_lets_risk_reducing_orders_pass() -> None:
    gate = make_gate()
    gate.add_account("acct", positions={"ABC": -200})
    gate.set_state(TradingState.REDUCING, T0)
    assert not gate.check(order(side=-1, qty=10), T0).allowed
    assert gate.check(order(side=1, qty=200), T0).allowed
    assert not gate.check(order(side=1, qty=1), T0).allowed  # would flip past flat


def test_fills_move_position_and_cash() -> None:
    gate = make_gate()
    o = order(qty=100, price=50.0)
    gate.check(o, T0)
    gate.on_fill(o.client_id, 60, 50.0, T0 + 1)
    assert gate.position("acct", "ABC") == 60 and o.client_id in gate.open_orders
    gate.on_fill(o.client_id, 40, 50.0, T0 + 2)
    assert gate.position("acct", "ABC") == 100 and o.client_id not in gate.open_orders


def test_every_decision_is_journaled_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with FileJournal(path) as journal:
        gate = PreTradeGate(GateLimits.from_mapping(LIMITS), journal)
        gate.add_account("acct")
        gate.check(order(), T0)  # no reference price yet
        gate.on_mark("ABC", 50.0, T0)
        gate.set_adv("ABC", 1e6)
        gate.check(order(), T0)
    records, torn = read_journal(path)
    decisions = [r for r in records if r["event"] == "decision"]
    assert torn == 0 and [d["allowed"] for d in decisions] == [False, True]
    assert decisions[0]["check"] == "reference"


def test_journal_reader_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"event":"a"}\n{"event":"b"}\n{"event":"c", "tor')
    records, torn = read_journal(path)
    assert [r["event"] for r in records] == ["a", "b"] and torn == 1


def test_limits_reject_unknown_keys_naming_them() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['max_ordr_qty'\]"):
        GateLimits.from_mapping({**LIMITS, "max_ordr_qty": 5})


def test_limits_reject_missing_keys() -> None:
    data = dict(LIMITS)
    del data["max_daily_loss"]
    with pytest.raises(ConfigError, match="max_daily_loss"):
        GateLimits.from_mapping(data)


@pytest.mark.parametrize("value", [0, -1, math.nan, "10", True])
def test_limits_reject_non_positive_or_non_numeric_values(value: object) -> None:
    with pytest.raises(ConfigError, match=r"limits\.max_order_qty must be"):
        GateLimits.from_mapping({**LIMITS, "max_order_qty": value})


def test_limits_load_from_toml(tmp_path: Path) -> None:
    body = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in LIMITS.items())
    path = tmp_path / "limits.toml"
    path.write_text("[limits]\n" + body + "\n")
    limits = GateLimits.load(path)
    assert limits.max_order_qty == 1_000 and limits.restricted == frozenset({"BAD"})
    with pytest.raises(Exception, match=r"frozen|cannot assign"):
        limits.max_order_qty = 5  # type: ignore[misc]


def test_memory_journal_is_the_default() -> None:
    assert isinstance(make_gate().journal, MemoryJournal)
