"""VaR-budget sizing: shares scale inversely with VaR, bad forecasts size to zero, postures."""

from __future__ import annotations

import math

import pytest

from tradelearn.errors import ConfigError
from tradelearn.risk.gate import TradingState
from tradelearn.risk.sizing import VarBudget, VarBudgetSizer, risk_posture, shares_for_budget


def test_shares_are_the_budget_over_the_var_of_one_share() -> None:
    # 2% VaR on a 50.0 price: 1.00 per share; 10,000 budget -> 10,000 shares
    assert shares_for_budget(10_000.0, 2.0, 50.0) == 10_000
    assert shares_for_budget(10_000.0, 4.0, 50.0) == 5_000  # twice the VaR, half the size
    assert shares_for_budget(10_000.0, 3.0, 50.0, lot_size=100) == 6_600


@pytest.mark.parametrize("var_pct", [math.nan, 0.0, -1.0, math.inf])
def test_missing_or_bad_var_sizes_to_zero(var_pct: float) -> None:
    assert shares_for_budget(10_000.0, var_pct, 50.0) == 0


def test_sizer_caps_at_max_shares_and_builds_an_intent() -> None:
    sizer = VarBudgetSizer(VarBudget(budget=10_000.0, max_shares=500))
    intent = sizer.intent("c1", "acct", "SPY", side=1, price=50.0, var_pct=2.0)
    assert intent is not None and intent.qty == 500 and intent.side == 1
    assert sizer.intent("c2", "acct", "SPY", side=1, price=50.0, var_pct=math.nan) is None


def test_budget_with_bad_values_then_config_error() -> None:
    with pytest.raises(ConfigError, match="budget must be a positive number"):
        VarBudget(budget=-1.0)
    with pytest.raises(ConfigError, match="level must lie in"):
        VarBudget(budget=1.0, level=99.0)


def test_risk_posture_reduces_then_halts_as_var_rises() -> None:
    kw = {"reduce_above": 3.0, "halt_above": 6.0}
    assert risk_posture(2.0, **kw) is TradingState.ACTIVE
    assert risk_posture(4.0, **kw) is TradingState.REDUCING
    assert risk_posture(7.0, **kw) is TradingState.HALTED
    assert risk_posture(math.nan, **kw) is TradingState.HALTED
