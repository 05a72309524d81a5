r"""Position sizes from a VaR budget, and a risk posture from the forecasts.

A VaR budget is the most a position may lose on a one-day horizon at the VaR level.
With the one-day VaR forecast :math:`v` in percent of the price (from
:func:`tradelearn.risk.var.var_forecasts`) the VaR of one share is :math:`v p / 100`,
so

.. math:: \text{shares} = \left\lfloor \frac{B}{v\,p/100} \middle/ \ell \right\rfloor \ell

for a budget :math:`B`, price :math:`p` and lot size :math:`\ell`. When volatility
doubles, the position halves; the loss at the VaR level stays at the budget.

Wiring (the sizer proposes, the pre-trade gate still decides)::

    from tradelearn.risk.gate import PreTradeGate
    from tradelearn.risk.sizing import VarBudget, VarBudgetSizer, risk_posture
    from tradelearn.risk.var import var_forecasts

    vf = var_forecasts(data, ["evt"])["evt"]            # one-day VaR, percent
    var_today = float(vf.var[-1, 0])                    # 99% VaR for tomorrow
    sizer = VarBudgetSizer(VarBudget(budget=10_000.0, level=0.99))
    intent = sizer.intent("c-1", "acct", "SPY", side=1, price=450.0, var_pct=var_today)
    gate.set_state(risk_posture(var_today, reduce_above=4.0, halt_above=8.0), now_ns)
    decision = gate.check(intent, now_ns) if intent is not None else None

A forecast that is missing, NaN or not positive sizes to nothing (fail closed), as the
gate does with a NaN from a model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tradelearn.errors import ConfigError
from tradelearn.risk.gate import OrderIntent, TradingState

__all__ = ["VarBudget", "VarBudgetSizer", "risk_posture", "shares_for_budget"]


def shares_for_budget(budget: float, var_pct: float, price: float, lot_size: int = 1) -> int:
    """Whole lots whose one-day VaR fits in ``budget`` (0 for any non-finite or non-positive input)."""
    if lot_size < 1:
        raise ConfigError(f"lot_size must be >= 1, actually: {lot_size}")
    values = (budget, var_pct, price)
    if not all(math.isfinite(x) and x > 0 for x in values):
        return 0
    per_share = var_pct / 100.0 * price
    return int(budget / per_share // lot_size) * lot_size


@dataclass(frozen=True, kw_only=True)
class VarBudget:
    """A VaR budget: currency loss allowed at ``level`` over one day, per position."""

    budget: float
    level: float = 0.99
    lot_size: int = 1
    max_shares: int | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.budget) and self.budget > 0):
            raise ConfigError(f"budget must be a positive number, actually: {self.budget}")
        if not 0.5 < self.level < 1.0:
            raise ConfigError(f"level must lie in (0.5, 1), actually: {self.level}")
        if self.lot_size < 1:
            raise ConfigError(f"lot_size must be >= 1, actually: {self.lot_size}")
        if self.max_shares is not None and self.max_shares < 0:
            raise ConfigError(f"max_shares must be >= 0, actually: {self.max_shares}")


class VarBudgetSizer:
    """Sizes positions so each one's one-day VaR equals (at most) the budget."""

    def __init__(self, budget: VarBudget) -> None:
        self.budget = budget

    def shares(self, price: float, var_pct: float) -> int:
        """Shares for a VaR forecast ``var_pct`` (percent of price) at ``budget.level``."""
        n = shares_for_budget(self.budget.budget, var_pct, price, self.budget.lot_size)
        if self.budget.max_shares is not None:
            n = min(n, self.budget.max_shares)
        return n

    def intent(
        self,
        client_id: str,
        account: str,
        symbol: str,
        *,
        side: int,
        price: float,
        var_pct: float,
        limit_price: float | None = None,
    ) -> OrderIntent | None:
        """An order for the budgeted size, or ``None`` when the size is zero."""
        if side not in (1, -1):
            raise ConfigError(f"side must be 1 (buy) or -1 (sell), actually: {side}")
        qty = self.shares(price, var_pct)
        if qty == 0:
            return None
        return OrderIntent(
            client_id=client_id, account=account, symbol=symbol, side=side, qty=float(qty),
            price=limit_price,
        )  # fmt: skip


def risk_posture(var_pct: float, *, reduce_above: float, halt_above: float) -> TradingState:
    """Trading state implied by a VaR forecast: ACTIVE, REDUCING above ``reduce_above``,
    HALTED above ``halt_above`` (both in percent); a missing forecast halts (fail closed)."""
    if not 0 < reduce_above <= halt_above:
        raise ConfigError(
            f"need 0 < reduce_above <= halt_above, actually: {reduce_above}, {halt_above}"
        )
    if not math.isfinite(var_pct) or var_pct <= 0:
        return TradingState.HALTED
    if var_pct > halt_above:
        return TradingState.HALTED
    return TradingState.REDUCING if var_pct > reduce_above else TradingState.ACTIVE
