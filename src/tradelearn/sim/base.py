"""What both simulators share: the report queue on the local clock and the account."""

from __future__ import annotations

import heapq
from typing import Protocol

from tradelearn.sim.types import ExecReport, Liquidity, ReportKind


class _Responds(Protocol):
    def response(self) -> int: ...


class SimulatorBase:
    """Reports wait in a heap until the local clock reaches them; the account is kept here.

    Subclasses set ``_lat`` (a latency model) and update ``_now``, ``_position``, ``_cash``
    and ``_fees``.
    """

    _lat: _Responds
    _out: list[tuple[int, int, ExecReport]]
    _seq: int
    _now: int
    _position: int
    _cash: float
    _fees: float

    def _reset_account(self) -> None:
        self._out = []
        self._seq = 0
        self._position = 0
        self._cash = 0.0
        self._fees = 0.0

    def _report(
        self,
        kind: ReportKind,
        client_id: int,
        t: int,
        *,
        price: int = 0,
        qty: int = 0,
        leaves: int = 0,
        liquidity: Liquidity = Liquidity.NONE,
        fee: float = 0.0,
        reason: str = "",
        local: int | None = None,
    ) -> None:
        """Queue a report of what the exchange did at ``t``; it reaches us after the response latency."""
        rep = ExecReport(
            kind=kind,
            client_id=client_id,
            ts_exchange=t,
            ts_local=t + self._lat.response() if local is None else local,
            price=price,
            qty=qty,
            leaves_qty=leaves,
            liquidity=liquidity,
            fee=fee,
            reason=reason,
        )
        heapq.heappush(self._out, (rep.ts_local, self._seq, rep))
        self._seq += 1

    def reports(self) -> list[ExecReport]:
        """Reports that have reached us by now (local time), oldest first; drains them."""
        out = []
        while self._out and self._out[0][0] <= self._now:
            out.append(heapq.heappop(self._out)[2])
        return out

    @property
    def position(self) -> int:
        """Shares held (+ long)."""
        return self._position

    @property
    def cash(self) -> float:
        """Currency units: minus what we paid for buys, plus sales, minus fees."""
        return self._cash

    @property
    def fees_paid(self) -> float:
        """Fees paid, currency units (negative: net rebates)."""
        return self._fees

    @property
    def now(self) -> int:
        """Local clock, nanoseconds."""
        return self._now
