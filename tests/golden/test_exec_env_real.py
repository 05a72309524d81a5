"""``tradelearn/Execution-v0`` over the real GOOG day: TWAP's 30-minute sell, decomposed.

One episode from 11:00 (2012-06-21), the parent order 2% of the day's average volume over
30 minutes, 30 child orders crossing the spread. Measured here: GOOG fell about 39 bp from
11:00 to 11:30, so TWAP's shortfall is mostly timing; crossing the spread costs about
2.7 bp (GOOG's half spread); the replay without an impact model shows no impact, and the
calibrated propagator adds about 3 bp.
"""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.execution.policies import TWAP
from tradelearn.execution.runner import run_episodes
from tradelearn.execution.sim_env import ExecEnvConfig, ExecutionEnv, MarketConfig
from tradelearn.testing.realdata import lobster_pair

pytestmark = pytest.mark.shared_data


@pytest.mark.parametrize("impact", [None, "default"])
def test_twap_on_goog_decomposes_with_sane_magnitudes(impact: str | None) -> None:
    message, orderbook = lobster_pair("GOOG", 10)
    cfg = ExecEnvConfig(
        market=MarketConfig(
            kind="replay", message=str(message), orderbook=str(orderbook), impact=impact
        )
    )
    env = ExecutionEnv(cfg)
    start = env.venue.midnight_ns + 11 * 3600 * 10**9
    (res,) = run_episodes(cfg, [TWAP()], [start], seed=0)["twap"]
    assert res.parent_qty == env.parent_qty
    assert 500 < res.parent_qty < 3000  # 2% of ~30 shares/s over 1800 s
    assert res.executed_qty == res.parent_qty and res.fallback_qty == 0 and res.denials == 0
    assert res.is_bps == pytest.approx(res.spread_bps + res.impact_bps + res.timing_bps, abs=1e-9)
    # 30 nearly equal children, each filled at once
    assert np.all(np.abs(np.diff(np.concatenate([[res.parent_qty], res.remaining])) + 36) <= 1)
    assert 5_700_000 < res.arrival_mid < 5_800_000  # GOOG near $575
    assert 1.0 < res.spread_bps < 5.0  # crossing GOOG's spread
    assert 30.0 < res.timing_bps < 50.0  # the fall from 11:00 to 11:30
    if impact is None:
        assert res.impact_bps == pytest.approx(0.0, abs=0.5)
    else:
        assert 0.5 < res.impact_bps < 10.0
    assert 20_000 < res.market_volume < 200_000
