"""Our orders in the agent-based market, through the same API as the replay simulator."""

from __future__ import annotations

import numpy as np

from tradelearn.sim.agent_sim import AgentSimulator
from tradelearn.sim.generate import generate_day
from tradelearn.sim.replay import ReplaySimulator
from tradelearn.sim.types import (
    Liquidity,
    MarketSimulator,
    OrderRequest,
    OrderType,
    RejectReason,
    ReportKind,
    TimeInForce,
)

S = 10**9


def started(seed: int = 3, minutes: int = 10) -> tuple[AgentSimulator, int]:
    sim = AgentSimulator(levels=5, seed=seed)
    t0 = sim.market.open_ns + minutes * 60 * S
    sim.reset(t0)
    return sim, t0


def test_both_simulators_implement_the_market_protocol() -> None:
    sim, _ = started()
    assert isinstance(sim, MarketSimulator)
    day = generate_day(seed=1, seconds=60, levels=2, model="zi")
    assert isinstance(ReplaySimulator(day.events, tick=day.tick), MarketSimulator)


def test_without_our_orders_the_book_shown_is_the_market_book() -> None:
    sim, t0 = started()
    sim.advance_to(t0 + 120 * S)
    assert sim.book_snapshot(5).tolist() == sim.market.book_rows()[-1].tolist()


def test_market_order_walks_the_book_and_fills_as_taker() -> None:
    sim, t0 = started()
    book = sim.book_snapshot(5)
    sim.submit(
        OrderRequest(client_id=1, side=1, qty=150, order_type=OrderType.MARKET, tif=TimeInForce.IOC)
    )
    sim.advance_to(t0 + 1)
    fills = [r for r in sim.reports() if r.kind == ReportKind.FILL]
    assert sum(f.qty for f in fills) == 150 and all(f.liquidity == Liquidity.TAKER for f in fills)
    assert fills[0].price == book[0]  # the best ask first
    assert sim.position == 150


def test_passive_order_rests_and_is_filled_by_the_agents() -> None:
    sim, t0 = started(seed=5)
    bid = int(sim.book_snapshot(1)[2])
    sim.submit(OrderRequest(client_id=7, side=1, qty=100, price=bid))
    sim.advance_to(t0 + 1)
    assert [r.kind for r in sim.reports()] == [ReportKind.ACK]
    assert sim.open_orders()[0].leaves_qty == 100
    sim.advance_to(t0 + 3600 * S)
    fills = [r for r in sim.reports() if r.kind == ReportKind.FILL]
    assert fills and all(f.liquidity == Liquidity.MAKER and f.price == bid for f in fills)
    assert sim.position == sum(f.qty for f in fills)


def test_bad_requests_are_rejected_with_reasons_never_raised() -> None:
    sim, t0 = started()
    bid = int(sim.book_snapshot(1)[2])
    sim.submit(OrderRequest(client_id=1, side=1, qty=0, price=bid))
    sim.submit(OrderRequest(client_id=2, side=1, qty=10, price=bid + 1))
    sim.submit(OrderRequest(client_id=3, side=1, qty=10, price=bid))
    sim.submit(OrderRequest(client_id=3, side=1, qty=10, price=bid))
    sim.cancel(99)
    sim.submit(OrderRequest(client_id=4, side=-1, qty=10, price=bid, post_only=True))
    sim.advance_to(t0 + 1)
    reasons = {(r.client_id, r.reason) for r in sim.reports() if r.kind == ReportKind.REJECT}
    assert (1, RejectReason.NON_POSITIVE_QTY) in reasons
    assert (2, RejectReason.OFF_TICK) in reasons
    assert (3, RejectReason.DUPLICATE_ID) in reasons
    assert (99, RejectReason.UNKNOWN_ORDER) in reasons
    assert (4, RejectReason.POST_ONLY_WOULD_CROSS) in reasons


def test_requests_before_reset_are_rejected() -> None:
    sim = AgentSimulator(levels=2)
    sim.submit(OrderRequest(client_id=1, side=1, qty=10, price=5_000_000))
    assert sim.reports()[0].reason == RejectReason.BEFORE_START


def test_same_seed_gives_identical_reports() -> None:
    def run() -> list[tuple[int, int, int, int]]:
        sim, t0 = started(seed=11)
        bid = int(sim.book_snapshot(1)[2])
        sim.submit(OrderRequest(client_id=1, side=1, qty=200, price=bid))
        sim.submit(
            OrderRequest(
                client_id=2, side=-1, qty=50, order_type=OrderType.MARKET, tif=TimeInForce.IOC
            )
        )
        sim.advance_to(t0 + 1800 * S)
        return [(r.kind, r.qty, r.price, r.ts_exchange) for r in sim.reports()]

    assert run() == run()


def test_the_agents_react_to_our_buying() -> None:
    def mid_after(buy: bool) -> float:
        sim, t0 = started(seed=21)
        if buy:
            for k in range(10):
                sim.submit(
                    OrderRequest(
                        client_id=k,
                        side=1,
                        qty=300,
                        order_type=OrderType.MARKET,
                        tif=TimeInForce.IOC,
                    )
                )
                sim.advance_to(t0 + (k + 1) * 10 * S)
        sim.advance_to(t0 + 300 * S)
        mid = sim.mid()
        assert mid is not None
        return mid

    assert mid_after(True) > mid_after(False)


def test_modify_moves_the_order_and_cancel_removes_it() -> None:
    sim, t0 = started()
    bid = int(sim.book_snapshot(1)[2])
    sim.submit(OrderRequest(client_id=1, side=1, qty=100, price=bid - 500))
    sim.advance_to(t0 + 1)
    sim.modify(1, price=bid - 600, qty=50)
    sim.advance_to(t0 + 2)
    assert [(o.price, o.leaves_qty) for o in sim.open_orders()] == [(bid - 600, 50)]
    sim.cancel(1)
    sim.advance_to(t0 + 3)
    kinds = [r.kind for r in sim.reports()]
    assert kinds == [ReportKind.ACK, ReportKind.MODIFIED, ReportKind.CANCELLED]
    assert sim.open_orders() == []
    assert np.isfinite(sim.cash)
