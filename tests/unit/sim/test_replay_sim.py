"""The replay simulator: queue position, matching, reconciliation, rejects, clocks, resets.

Hand-built books: bids at 10,000 and asks at 10,100/10,200 (tick 100), resting from
t = 1..4; the simulator starts at t = 5 and the recorded flow of each test follows.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from tradelearn.book.fast import FastBook
from tradelearn.data.lobster import LobsterDay, load_lobster
from tradelearn.data.schema import EventType, empty_events
from tradelearn.sim.generate import SyntheticDay, generate_day
from tradelearn.sim.latency import ConstantLatency, RandomLatency
from tradelearn.sim.replay import ReplaySimulator
from tradelearn.sim.types import (
    ExecReport,
    Liquidity,
    OrderRequest,
    OrderType,
    RejectReason,
    ReportKind,
    TimeInForce,
)
from tradelearn.testing.realdata import lobster_pair

ADD, CANCEL, DELETE, EXECUTE = EventType.ADD, EventType.CANCEL, EventType.DELETE, EventType.EXECUTE
MODIFY, CLEAR = EventType.MODIFY, EventType.CLEAR
BID, ASK = 1, -1
PB, PA, PA2 = 10_000, 10_100, 10_200
BASE = [
    (1, ADD, BID, 1, PB, 100),
    (2, ADD, BID, 2, PB, 50),
    (3, ADD, ASK, 3, PA, 80),
    (4, ADD, ASK, 4, PA2, 60),
]
Row = tuple[int, int, int, int, int, int]


def events(*rows: Row) -> np.ndarray:
    ev = empty_events(len(rows))
    for i, (t, code, side, oid, px, qty) in enumerate(rows):
        ev[i] = (t, t, code, side, oid, px, qty, 0)
    return ev


def make_sim(*flow: Row, **kw: Any) -> ReplaySimulator:
    sim = ReplaySimulator(events(*BASE, *flow), tick=100, **kw)
    sim.start(5)
    return sim


def order(cid: int, side: int, qty: int, price: int | None = None, **kw: Any) -> OrderRequest:
    return OrderRequest(client_id=cid, side=side, qty=qty, price=price, **kw)


def send(sim: ReplaySimulator, req: OrderRequest) -> list[ExecReport]:
    sim.submit(req)
    sim.advance_to(sim.now + 1)
    return sim.reports()


def kinds(reports: list[ExecReport]) -> list[ReportKind]:
    return [r.kind for r in reports]


def ahead(sim: ReplaySimulator, cid: int) -> int:
    return next(o.queue_ahead for o in sim.open_orders() if o.client_id == cid)


def level(sim: ReplaySimulator, side: int, price: int) -> int:
    snap = sim.book_snapshot(3)
    off = 2 if side == BID else 0
    for lvl in range(3):
        if snap[4 * lvl + off] == price:
            return int(snap[4 * lvl + off + 1])
    return 0


# ----------------------------------------------------------------------------- queue position
def test_passive_order_joins_behind_everything_resting_at_its_price() -> None:
    sim = make_sim()
    assert kinds(send(sim, order(1, BID, 20, PB))) == [ReportKind.ACK]
    assert ahead(sim, 1) == 150


def test_executions_take_the_queue_ahead_first_then_fill_us() -> None:
    sim = make_sim(
        (10, EXECUTE, BID, 1, PB, 100),
        (11, ADD, BID, 5, PB, 40),
        (12, EXECUTE, BID, 2, PB, 50),
        (13, EXECUTE, BID, 5, PB, 15),
    )
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(12)
    assert ahead(sim, 1) == 0 and sim.position == 0
    sim.advance_to(13)
    fills = sim.reports()
    assert [(r.kind, r.qty, r.price, r.leaves_qty, r.liquidity) for r in fills] == [
        (ReportKind.FILL, 15, PB, 5, Liquidity.MAKER)
    ]
    assert fills[0].ts_exchange == 13 and sim.position == 15


def test_cancel_of_an_order_ahead_moves_us_up() -> None:
    sim = make_sim((10, CANCEL, BID, 1, PB, 30), (11, DELETE, BID, 2, PB, 50))
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(11)
    assert ahead(sim, 1) == 70


def test_cancel_of_an_order_behind_leaves_our_place() -> None:
    sim = make_sim((10, ADD, BID, 5, PB, 40), (11, DELETE, BID, 5, PB, 40))
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(11)
    assert ahead(sim, 1) == 150
    assert level(sim, BID, PB) == 150


def test_cancel_of_ghost_liquidity_counts_as_ahead() -> None:
    # the orderbook rows hold 30 more at the bid than the messages explain (resting from
    # before the replay: ghost liquidity at the front); id 77 was never added
    ev = events((1, ADD, BID, 1, PB, 100), (10, DELETE, BID, 77, PB, 30), (11, ADD, BID, 2, PB, 5))
    rows = np.array([[PA, 10, PB, 130], [PA, 10, PB, 100], [PA, 10, PB, 105]], dtype=np.int64)
    sim = ReplaySimulator(ev, tick=100, levels=1, book_rows=rows)
    sim.start(5)
    send(sim, order(1, BID, 10, PB))
    assert ahead(sim, 1) == 130
    sim.advance_to(10)
    assert ahead(sim, 1) == 100


def test_trade_through_our_price_fills_us_in_full() -> None:
    sim = make_sim(
        (10, ADD, BID, 5, 9_900, 100),
        (11, EXECUTE, BID, 1, PB, 100),
        (11, EXECUTE, BID, 2, PB, 50),
        (11, EXECUTE, BID, 5, 9_900, 10),
    )
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(11)
    fills = [r for r in sim.reports() if r.kind == ReportKind.FILL]
    assert [(r.qty, r.price, r.leaves_qty) for r in fills] == [(20, PB, 0)]
    assert sim.open_orders() == []


def test_an_order_added_through_our_price_fills_us() -> None:
    sim = make_sim((10, DELETE, ASK, 3, PA, 80), (20, ADD, ASK, 5, PA, 25))
    sim.advance_to(11)
    send(sim, order(1, BID, 40, PA))  # improves the bid: nothing ahead
    assert ahead(sim, 1) == 0
    sim.advance_to(20)
    fills = [r for r in sim.reports() if r.kind == ReportKind.FILL]
    assert [(r.qty, r.price, r.leaves_qty, r.liquidity) for r in fills] == [
        (25, PA, 15, Liquidity.MAKER)
    ]


# ----------------------------------------------------------------------------- aggressive orders
def test_market_order_walks_the_book_and_hides_what_it_took() -> None:
    sim = make_sim()
    reps = send(sim, order(1, BID, 100, order_type=OrderType.MARKET))
    fills = [(r.price, r.qty, r.liquidity) for r in reps if r.kind == ReportKind.FILL]
    assert fills == [(PA, 80, Liquidity.TAKER), (PA2, 20, Liquidity.TAKER)]
    assert level(sim, ASK, PA) == 0 and level(sim, ASK, PA2) == 40
    assert sim.mid() == (PB + PA2) / 2
    assert sim.position == 100


def test_recorded_execution_of_liquidity_we_took_pays_the_debt() -> None:
    sim = make_sim((10, EXECUTE, ASK, 3, PA, 80), (11, ADD, ASK, 5, PA, 30))
    send(sim, order(1, BID, 80, PA, tif=TimeInForce.IOC))
    assert level(sim, ASK, PA) == 0
    sim.advance_to(10)
    assert level(sim, ASK, PA) == 0  # not removed a second time
    sim.advance_to(11)
    assert level(sim, ASK, PA) == 30  # new liquidity shows in full


def test_recorded_cancel_pays_only_the_orders_we_took() -> None:
    sim = make_sim(
        (6, ADD, ASK, 5, PA, 40),
        (10, DELETE, ASK, 5, PA, 40),
        (11, DELETE, ASK, 3, PA, 80),
        (12, ADD, ASK, 6, PA, 10),
    )
    sim.advance_to(6)
    send(sim, order(1, BID, 100, PA, tif=TimeInForce.IOC))  # takes id 3 (80) and 20 of id 5
    assert level(sim, ASK, PA) == 20
    sim.advance_to(10)  # id 5 leaves: 20 of it was ours, 20 was visible
    assert level(sim, ASK, PA) == 0
    sim.advance_to(11)
    assert level(sim, ASK, PA) == 0
    sim.advance_to(12)
    assert level(sim, ASK, PA) == 10


def test_debt_is_cleared_when_the_recorded_level_empties() -> None:
    # L2 queue model: cancels carry no id we trust, so only the empty level clears the debt
    sim = make_sim((10, DELETE, ASK, 3, PA, 80), (11, ADD, ASK, 5, PA, 30), queue_model="l2")
    send(sim, order(1, BID, 50, PA, tif=TimeInForce.IOC))
    assert level(sim, ASK, PA) == 30
    sim.advance_to(10)
    assert level(sim, ASK, PA) == 0
    sim.advance_to(11)
    assert level(sim, ASK, PA) == 30


def test_gtc_limit_takes_what_crosses_and_rests_the_rest() -> None:
    sim = make_sim()
    reps = send(sim, order(1, BID, 100, PA))
    assert kinds(reps) == [ReportKind.ACK, ReportKind.FILL]
    assert [(o.price, o.leaves_qty, o.queue_ahead) for o in sim.open_orders()] == [(PA, 20, 0)]


def test_ioc_cancels_what_does_not_trade() -> None:
    sim = make_sim()
    reps = send(sim, order(1, BID, 100, PA, tif=TimeInForce.IOC))
    assert kinds(reps) == [ReportKind.ACK, ReportKind.FILL, ReportKind.CANCELLED]
    assert reps[1].qty == 80 and sim.open_orders() == []


def test_fok_fills_in_full_or_is_rejected() -> None:
    sim = make_sim()
    rejected = send(sim, order(1, BID, 100, PA, tif=TimeInForce.FOK))
    assert [(r.kind, r.reason) for r in rejected] == [
        (ReportKind.REJECT, RejectReason.FOK_NOT_FILLABLE)
    ]
    filled = send(sim, order(2, BID, 100, PA2, tif=TimeInForce.FOK))
    assert kinds(filled) == [ReportKind.ACK, ReportKind.FILL, ReportKind.FILL]
    assert sum(r.qty for r in filled if r.kind == ReportKind.FILL) == 100


def test_post_only_rests_when_passive_and_is_rejected_when_it_would_take() -> None:
    sim = make_sim()
    assert kinds(send(sim, order(1, BID, 10, PB, post_only=True))) == [ReportKind.ACK]
    reps = send(sim, order(2, BID, 10, PA, post_only=True))
    assert [(r.kind, r.reason) for r in reps] == [
        (ReportKind.REJECT, RejectReason.POST_ONLY_WOULD_CROSS)
    ]


def test_self_trade_cancels_our_resting_order_first() -> None:
    sim = make_sim()
    send(sim, order(1, ASK, 10, PA))  # our ask at the best ask
    reps = send(sim, order(2, BID, 30, PA))
    assert [(r.client_id, r.kind, r.reason) for r in reps[:2]] == [
        (2, ReportKind.ACK, ""),
        (1, ReportKind.CANCELLED, RejectReason.SELF_TRADE),
    ]
    assert [r.kind for r in reps[2:]] == [ReportKind.FILL]
    assert [o.client_id for o in sim.open_orders()] == []


# ----------------------------------------------------------------------------- modify and cancel
def test_modify_to_a_smaller_size_keeps_priority() -> None:
    sim = make_sim((10, ADD, BID, 5, PB, 40))
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(10)
    sim.modify(1, qty=5)
    sim.advance_to(11)
    assert kinds(sim.reports()) == [ReportKind.MODIFIED]
    assert [(o.leaves_qty, o.queue_ahead) for o in sim.open_orders()] == [(5, 150)]


def test_modify_to_a_larger_size_goes_to_the_back() -> None:
    sim = make_sim((10, ADD, BID, 5, PB, 40))
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(10)
    sim.modify(1, qty=30)
    sim.advance_to(11)
    assert [(o.leaves_qty, o.queue_ahead) for o in sim.open_orders()] == [(30, 190)]


def test_modify_to_a_new_price_requeues_there() -> None:
    sim = make_sim()
    send(sim, order(1, BID, 20, PB))
    sim.modify(1, price=PB - 100)
    sim.advance_to(sim.now + 1)
    assert [(o.price, o.queue_ahead) for o in sim.open_orders()] == [(PB - 100, 0)]


def test_cancel_removes_the_order() -> None:
    sim = make_sim()
    send(sim, order(1, BID, 20, PB))
    sim.cancel(1)
    sim.advance_to(sim.now + 1)
    assert kinds(sim.reports()) == [ReportKind.CANCELLED] and sim.open_orders() == []


def test_recorded_modify_of_an_order_ahead_that_grows_leaves_the_queue_ahead() -> None:
    sim = make_sim((10, MODIFY, BID, 1, PB, 120), (11, MODIFY, BID, 2, PB, 20))
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(10)
    assert ahead(sim, 1) == 50  # id 1 went to the back
    sim.advance_to(11)
    assert ahead(sim, 1) == 20  # id 2 shrank in place


def test_recorded_clear_empties_the_queue_ahead() -> None:
    sim = make_sim((10, CLEAR, 0, 0, 0, 0))
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(10)
    assert ahead(sim, 1) == 0 and level(sim, BID, PB) == 0


def test_modify_to_an_off_tick_price_is_rejected_and_the_order_stays() -> None:
    sim = make_sim()
    send(sim, order(1, BID, 20, PB))
    sim.modify(1, price=PB + 1)
    sim.advance_to(sim.now + 1)
    assert [(r.kind, r.reason) for r in sim.reports()] == [
        (ReportKind.REJECT, RejectReason.OFF_TICK)
    ]
    assert [(o.price, o.queue_ahead) for o in sim.open_orders()] == [(PB, 150)]


def test_post_only_modify_that_would_cross_is_rejected() -> None:
    sim = make_sim()
    send(sim, order(1, BID, 20, PB, post_only=True))
    sim.modify(1, price=PA)
    sim.advance_to(sim.now + 1)
    assert [r.reason for r in sim.reports()] == [RejectReason.POST_ONLY_WOULD_CROSS]


def test_market_order_cancels_our_resting_order_on_the_other_side() -> None:
    sim = make_sim()
    send(sim, order(1, ASK, 10, PA2 + 100))
    reps = send(sim, order(2, BID, 10, order_type=OrderType.MARKET))
    assert (reps[1].client_id, reps[1].reason) == (1, RejectReason.SELF_TRADE)
    assert [(r.price, r.qty) for r in reps if r.kind == ReportKind.FILL] == [(PA, 10)]


# ----------------------------------------------------------------------------- rejects
@pytest.mark.parametrize(
    ("req", "reason"),
    [
        (order(1, BID, 0, PB), RejectReason.NON_POSITIVE_QTY),
        (order(1, BID, 12, PB), RejectReason.OFF_LOT),
        (order(1, BID, 10, PB + 50), RejectReason.OFF_TICK),
        (order(1, BID, 10, -100), RejectReason.NON_POSITIVE_PRICE),
        (order(1, BID, 10), RejectReason.MISSING_PRICE),
        (order(1, 0, 10, PB), RejectReason.BAD_SIDE),
        (
            order(1, BID, 10, order_type=OrderType.MARKET, post_only=True),
            RejectReason.POST_ONLY_WOULD_CROSS,
        ),
    ],
)
def test_bad_order_is_rejected_with_its_reason(req: OrderRequest, reason: str) -> None:
    sim = make_sim(lot=5)
    reps = send(sim, req)
    assert [(r.kind, r.reason, r.client_id) for r in reps] == [(ReportKind.REJECT, reason, 1)]


def test_duplicate_client_id_is_rejected() -> None:
    sim = make_sim()
    send(sim, order(1, BID, 10, PB))
    reps = send(sim, order(1, BID, 10, PB))
    assert [r.reason for r in reps] == [RejectReason.DUPLICATE_ID]


def test_cancel_or_modify_of_unknown_id_is_rejected() -> None:
    sim = make_sim()
    sim.cancel(42)
    sim.modify(43, qty=1)
    sim.advance_to(sim.now + 1)
    assert [(r.client_id, r.reason) for r in sim.reports()] == [
        (42, RejectReason.UNKNOWN_ORDER),
        (43, RejectReason.UNKNOWN_ORDER),
    ]


def test_market_order_into_an_empty_side_is_rejected() -> None:
    sim = ReplaySimulator(events((1, ADD, BID, 1, PB, 100)), tick=100)
    sim.start(5)
    reps = send(sim, order(1, BID, 10, order_type=OrderType.MARKET))
    assert [r.reason for r in reps] == [RejectReason.NO_LIQUIDITY]


def test_requests_before_start_are_rejected_not_raised() -> None:
    sim = ReplaySimulator(events(*BASE), tick=100)
    sim.submit(order(1, BID, 10, PB))
    sim.cancel(1)
    assert [r.reason for r in sim.reports()] == [RejectReason.BEFORE_START] * 2
    with pytest.raises(RuntimeError, match="call start"):
        sim.advance_to(10)


def test_session_end_expires_resting_orders_and_rejects_later_ones() -> None:
    sim = make_sim(session_end_ns=20)
    send(sim, order(1, BID, 10, PB))
    sim.advance_to(30)
    reps = sim.reports()
    assert [(r.kind, r.ts_exchange) for r in reps] == [(ReportKind.EXPIRED, 20)]
    late = send(sim, order(2, BID, 10, PB))
    assert [r.reason for r in late] == [RejectReason.AFTER_SESSION]


def test_wrong_events_dtype_is_a_programmer_error() -> None:
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        ReplaySimulator(np.zeros(3), tick=100)


def test_events_out_of_time_order_are_a_programmer_error() -> None:
    with pytest.raises(ValueError, match="event 1 goes back in time"):
        ReplaySimulator(events((5, ADD, BID, 1, PB, 1), (4, ADD, BID, 2, PB, 1)), tick=100)


# ----------------------------------------------------------------------------- fees, clocks
def test_fees_are_per_share_in_currency_and_enter_cash() -> None:
    sim = make_sim(
        (10, ADD, BID, 5, PB, 10),
        (11, EXECUTE, BID, 1, PB, 100),
        (11, EXECUTE, BID, 2, PB, 50),
        (11, EXECUTE, BID, 5, PB, 10),
        maker_fee=-0.002,
        taker_fee=0.003,
    )
    taker = [
        r
        for r in send(sim, order(1, BID, 80, PA, tif=TimeInForce.IOC))
        if r.kind == ReportKind.FILL
    ]
    assert taker[0].fee == pytest.approx(80 * 0.003)
    send(sim, order(2, ASK, 10, PA))  # rests at the ask we emptied
    send(sim, order(3, BID, 10, PB))
    sim.advance_to(11)
    maker = [r for r in sim.reports() if r.kind == ReportKind.FILL]
    assert [(r.client_id, r.liquidity) for r in maker] == [(3, Liquidity.MAKER)]
    assert maker[0].fee == pytest.approx(10 * -0.002)
    assert sim.fees_paid == pytest.approx(0.24 - 0.02)
    assert sim.cash == pytest.approx(-80 * PA / 10_000 - 10 * PB / 10_000 - 0.22)
    assert sim.position == 90


def test_latency_orders_exchange_and_local_times() -> None:
    sim = make_sim(latency=ConstantLatency(feed_ns=0, entry_ns=7, response_ns=3))
    sim.submit(order(1, BID, 10, PB))
    sim.advance_to(14)  # acked at 12 on the exchange, we hear of it at 15
    assert sim.reports() == []
    sim.advance_to(15)
    (ack,) = sim.reports()
    assert (ack.kind, ack.ts_exchange, ack.ts_local) == (ReportKind.ACK, 12, 15)


def test_feed_latency_shows_the_book_as_it_was() -> None:
    sim = make_sim((20, DELETE, ASK, 3, PA, 80), latency=ConstantLatency(feed_ns=5))
    sim.advance_to(24)
    assert level(sim, ASK, PA) == 80 and sim.exchange_time == 19
    sim.advance_to(25)
    assert level(sim, ASK, PA) == 0


class LinearImpact:
    """Permanent impact of ``k`` price units per share, noting every trade."""

    def __init__(self, k: float) -> None:
        self.k = k
        self.trades: list[tuple[int, float]] = []

    def reset(self) -> None:
        self.trades = []

    def on_trade(self, ts_ns: int, signed_qty: float) -> None:
        self.trades.append((ts_ns, signed_qty))

    def offset(self, ts_ns: int) -> float:
        return self.k * sum(q for _, q in self.trades)


def test_impact_shifts_prices_by_whole_ticks_after_our_trades() -> None:
    impact = LinearImpact(2.6)  # 80 shares: 208 price units -> 2 ticks
    sim = make_sim(impact=impact)
    send(sim, order(1, BID, 80, PA, tif=TimeInForce.IOC))
    assert impact.trades == [(5, 80.0)]
    snap = sim.book_snapshot(2)
    assert snap[0] == PA2 + 200 and snap[2] == PB + 200


# ----------------------------------------------------------------------------- determinism, resets
def _script(sim: ReplaySimulator, t0: int, seed: int) -> tuple[list[ExecReport], dict[int, int]]:
    """A random quoting and taking episode; returns its reports and the side of each order."""
    sim.reset(t0, seed=seed)
    rng = np.random.default_rng(seed)
    out: list[ExecReport] = []
    sides: dict[int, int] = {}
    for k in range(60):
        snap = sim.book_snapshot(1)
        side = BID if rng.random() < 0.5 else ASK
        px = int(snap[2] if side == BID else snap[0])
        if abs(px) < 9_000_000_000:
            sim.submit(order(k, side, 100, px))
            sides[k] = side
        if k % 3 == 0:
            sim.submit(order(1000 + k, -side, 50, order_type=OrderType.MARKET))
            sides[1000 + k] = -side
        if k % 5 == 4:
            sim.cancel(k - 1)
        sim.advance_to(sim.now + 2_000_000_000)
        out += sim.reports()
    return out, sides


@pytest.fixture(scope="module")
def day() -> SyntheticDay:
    return generate_day(seed=11, seconds=600, levels=5, model="zi")


def test_same_inputs_and_seed_give_identical_reports(day: SyntheticDay) -> None:
    def run() -> list[ExecReport]:
        sim = ReplaySimulator(
            day.events,
            tick=100,
            latency=RandomLatency(100_000, 50_000, 50_000, seed=0),
            impact=LinearImpact(0.05),
        )
        t0 = int(day.events["ts_exchange"][0])
        return _script(sim, t0 + 10**9, seed=4)[0] + _script(sim, t0 + 5 * 10**9, seed=4)[0]

    first, second = run(), run()
    assert first == second
    assert [r.ts_local for r in first[:40]] == sorted(r.ts_local for r in first[:40])
    assert sum(r.kind == ReportKind.FILL for r in first) > 10


def test_reset_replays_an_episode_bit_for_bit(day: SyntheticDay) -> None:
    sim = ReplaySimulator(day.events, tick=100, latency=RandomLatency(1e5, 5e4, 5e4, seed=1))
    t0 = int(day.events["ts_exchange"][100])
    assert _script(sim, t0, seed=3) == _script(sim, t0, seed=3)


def test_reset_to_any_time_is_cheap_and_lands_on_the_recorded_book(day: SyntheticDay) -> None:
    assert day.book is not None
    sim = ReplaySimulator(day.events, tick=100, levels=5, checkpoint_every=2_000)
    ts = day.events["ts_exchange"]
    rng = np.random.default_rng(0)
    times = []
    for t in rng.integers(int(ts[0]), int(ts[-1]), 60):
        t0 = time.perf_counter()
        sim.reset(int(t))
        times.append(time.perf_counter() - t0)
        assert np.array_equal(sim.book_snapshot(5), day.book[sim.events_applied - 1])
    assert float(np.median(times)) < 1e-3


def test_with_no_orders_the_agent_sees_the_recorded_book_at_every_step(day: SyntheticDay) -> None:
    assert day.book is not None
    rng = np.random.default_rng(5)
    for rows in (None, day.book):
        sim = ReplaySimulator(day.events, tick=100, levels=5, book_rows=rows)
        sim.start(int(day.events["ts_exchange"][0]))
        checked = 0
        while sim.events_applied < day.events.shape[0]:
            sim.advance(int(rng.integers(1, 40)))
            assert np.array_equal(sim.book_snapshot(5), day.book[sim.events_applied - 1])
            checked += 1
        assert checked > 200


def test_orders_on_a_generated_day_fill_and_add_up(day: SyntheticDay) -> None:
    sim = ReplaySimulator(
        day.events, tick=100, levels=5, book_rows=day.book, maker_fee=-0.002, taker_fee=0.003
    )
    reps, sides = _script(sim, int(day.events["ts_exchange"][0]), seed=8)
    fills = [r for r in reps if r.kind == ReportKind.FILL]
    assert {r.liquidity for r in fills} == {Liquidity.MAKER, Liquidity.TAKER}
    assert sim.position == sum(sides[r.client_id] * r.qty for r in fills)
    paid = sum(sides[r.client_id] * r.qty * r.price for r in fills) / 10_000
    assert sim.cash == pytest.approx(-paid - sum(r.fee for r in fills))
    assert all(r.ts_local >= r.ts_exchange for r in reps)


def test_l2_queue_model_is_seeded() -> None:
    flow = [(10 + k, ADD, BID, 10 + k, PB, 10) for k in range(20)]
    flow += [(40 + k, CANCEL, BID, 10 + k, PB, 5) for k in range(20)]

    def run(seed: int) -> int:
        sim = make_sim(*flow, queue_model="l2", seed=seed)
        send(sim, order(1, BID, 20, PB))
        sim.advance_to(100)
        return ahead(sim, 1)

    assert run(1) == run(1)
    drawn = {run(s) for s in range(8)}
    assert len(drawn) > 1 and all(0 <= a <= 150 for a in drawn)


def test_l2_cancel_with_nothing_behind_is_always_ahead() -> None:
    sim = make_sim((10, CANCEL, BID, 1, PB, 30), queue_model="l2")
    send(sim, order(1, BID, 20, PB))
    sim.advance_to(10)
    assert ahead(sim, 1) == 120


def test_queue_ahead_follows_the_orders_ahead_in_the_l3_book(day: SyntheticDay) -> None:
    # the generated market is complete L3 with FIFO executions: what is ahead of us is
    # exactly what is left of the orders that rested at our price when we arrived
    sim = ReplaySimulator(day.events, tick=100, levels=5)
    checked = 0
    for start in range(200, day.events.shape[0] - 3_000, 400):
        sim.reset(int(day.events["ts_exchange"][start]))
        ref = FastBook.for_events(day.events, 100)
        ref.apply(day.events, 0, sim.events_applied)
        bid = int(sim.book_snapshot(1)[2])
        noted = {oid for oid, _ in ref.queue(BID, bid)}
        sim.submit(order(1, BID, 100, bid))
        while True:
            done = sim.events_applied
            sim.advance(3)
            ref.apply(day.events, done, sim.events_applied)
            if not sim.open_orders():
                break
            expected = sum(q for oid, q in ref.queue(BID, bid) if oid in noted)
            assert ahead(sim, 1) == expected
            checked += 1
    assert checked > 500


@pytest.fixture(scope="module")
def goog() -> LobsterDay:
    return load_lobster(*lobster_pair("GOOG", 10))


@pytest.mark.shared_data
def test_goog_counterfactual_book_is_the_recorded_orderbook(goog: LobsterDay) -> None:
    assert goog.book is not None
    sim = ReplaySimulator(goog.events, tick=100, levels=10, book_rows=goog.book)
    ts = goog.events["ts_exchange"]
    sim.start(int(ts[0]))
    for t in np.linspace(int(ts[0]), int(ts[-1]), 400).astype(np.int64):
        sim.advance_to(int(t))
        assert np.array_equal(sim.book_snapshot(10), goog.book[sim.events_applied - 1])
    assert sim.events_applied == goog.n


@pytest.mark.shared_data
def test_goog_quoting_hour_fills_and_repeats_bit_for_bit(goog: LobsterDay) -> None:
    sim = ReplaySimulator(
        goog.events,
        tick=100,
        levels=10,
        book_rows=goog.book,
        latency=RandomLatency(200_000, 100_000, 100_000, seed=0),
        impact=LinearImpact(0.01),
    )
    t0 = int(goog.events["ts_exchange"][0]) + 600 * 10**9

    def hour() -> tuple[list[ExecReport], dict[int, int]]:
        sim.reset(t0, seed=1)
        out: list[ExecReport] = []
        sides: dict[int, int] = {}
        for k in range(360):
            for o in sim.open_orders():
                sim.cancel(o.client_id)
            snap = sim.book_snapshot(1)
            for side, px in ((BID, snap[2]), (ASK, snap[0])):
                sides[2 * k + (side == ASK)] = side
                sim.submit(order(2 * k + (side == ASK), side, 100, int(px)))
            sim.advance_to(sim.now + 10 * 10**9)
            out += sim.reports()
        return out, sides

    first, sides = hour()
    assert first == hour()[0]
    fills = [r for r in first if r.kind == ReportKind.FILL]
    assert len(fills) > 20 and all(r.liquidity == Liquidity.MAKER for r in fills)
    assert sim.position == sum(sides[r.client_id] * r.qty for r in fills)
