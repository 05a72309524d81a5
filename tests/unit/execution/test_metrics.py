"""Execution metrics on hand-computed paired episodes."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from tradelearn.errors import ConfigError
from tradelearn.execution.metrics import (
    adaptability,
    gain_loss_ratio,
    is_baseline,
    outperformance_prob,
    summarize,
    wilcoxon_p,
)


@dataclass(frozen=True)
class FakeEpisode:
    """The fields of an episode result the metrics read."""

    is_bps: float
    spread_bps: float = 0.0
    impact_bps: float = 0.0
    timing_bps: float = 0.0
    parent_qty: float = 100.0
    remaining: np.ndarray = field(default_factory=lambda: np.array([100.0, 50.0]))


def episodes(costs: list[float], **kw: float) -> list[FakeEpisode]:
    return [FakeEpisode(is_bps=c, **kw) for c in costs]


TWAP = [3.0, 5.0, -1.0, 2.0, 4.0, 6.0, 0.5, 1.0, 7.0, 2.5]


def test_policy_identical_to_twap_never_outperforms_and_has_p_one() -> None:
    ev = summarize({"twap": episodes(TWAP), "copy": episodes(TWAP)}, baselines=["twap"])
    copy = ev.by_name("copy")
    assert copy.outperformance_prob == 0.0
    assert copy.p_values == {"twap": 1.0}
    assert math.isnan(copy.gain_loss_ratio)
    assert ev.by_name("twap").p_values == {"twap": 1.0}


def test_policy_better_on_every_episode_has_prob_one_and_small_p() -> None:
    better = [c - 1.0 - 0.1 * i for i, c in enumerate(TWAP)]
    ev = summarize({"twap": episodes(TWAP), "agent": episodes(better)})
    agent = ev.by_name("agent")
    assert agent.outperformance_prob == 1.0
    # all 10 differences of one sign: exact two-sided p = 2 / 2**10
    assert agent.p_values["twap"] == pytest.approx(2.0 / 1024)
    assert agent.gain_loss_ratio == math.inf
    assert agent.is_bps == pytest.approx(np.mean(TWAP) - 1.45)


def test_gain_loss_and_outperformance_by_hand() -> None:
    twap = np.array([2.0, 2.0, 2.0, 2.0])
    pol = np.array([1.0, 0.0, 3.0, 2.0])  # savings 1, 2, -1, 0
    assert gain_loss_ratio(pol, twap) == pytest.approx(3.0)
    assert outperformance_prob(pol, twap) == pytest.approx(0.5)
    assert gain_loss_ratio(twap + 1, twap) == 0.0


def test_wilcoxon_drops_nan_pairs_and_matches_scipy() -> None:
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 7.0])
    b = np.array([0.0, 0.5, 3.0, 1.0, 1.0, 1.0])
    from scipy.stats import wilcoxon

    assert wilcoxon_p(a, b) == pytest.approx(
        wilcoxon(a[[0, 1, 3, 4, 5]] - b[[0, 1, 3, 4, 5]]).pvalue
    )
    assert math.isnan(wilcoxon_p(np.array([np.nan]), np.array([1.0])))


def test_timing_risk_is_sample_std_and_parts_are_means() -> None:
    res = [
        FakeEpisode(is_bps=c, spread_bps=1.0, impact_bps=c / 2, timing_bps=c / 2 - 1.0)
        for c in TWAP
    ]
    s = summarize({"twap": res}).by_name("twap")
    assert s.timing_risk_bps == pytest.approx(np.std(TWAP, ddof=1))
    assert s.spread_bps == 1.0 and s.impact_bps == pytest.approx(np.mean(TWAP) / 2)
    assert s.se_bps == pytest.approx(np.std(TWAP, ddof=1) / math.sqrt(10))


def test_adaptability_zero_for_static_schedule_positive_for_reactive() -> None:
    static = np.tile([1.0, 0.5, 0.0], (5, 1))
    assert adaptability(static) == 0.0
    reactive = np.array([[1.0, 0.2, 0.0], [1.0, 0.8, 0.0]])
    assert adaptability(reactive) == pytest.approx(0.3 / 3)

    ev = summarize(
        {
            "twap": episodes([1.0, 2.0]),
            "rl": [
                FakeEpisode(1.0, remaining=np.array([100.0, 20.0])),
                FakeEpisode(2.0, remaining=np.array([100.0, 80.0])),
            ],
        }
    )
    assert ev.by_name("twap").adaptability == 0.0
    assert ev.by_name("rl").adaptability == pytest.approx(0.1)  # (0 + 0.3 + 0) / 3
    assert ev.by_name("rl").mean_remaining == pytest.approx([1.0, 1.0, 0.5])


def test_json_has_exactly_the_documented_fields() -> None:
    ev = summarize(
        {"twap": episodes(TWAP), "vwap": episodes(TWAP[::-1]), "ppo:m": episodes(TWAP)},
        meta={"episodes": 10},
    )
    doc = json.loads(json.dumps(ev.to_dict(), allow_nan=False))
    assert doc["episodes"] == 10 and doc["baselines"] == ["twap", "vwap"]
    required = {
        "name", "is_bps", "spread_bps", "impact_bps", "timing_bps", "timing_risk_bps",
        "outperformance_prob", "gain_loss_ratio", "p_values", "episodes_bps",
    }  # fmt: skip
    for p in doc["policies"]:
        assert required <= set(p)
        assert set(p["p_values"]) == {"twap", "vwap"}
        assert len(p["episodes_bps"]) == 10
    assert [p["name"] for p in doc["policies"]] == ["twap", "vwap", "ppo:m"]
    assert doc["policies"][2]["gain_loss_ratio"] is None  # identical to TWAP: undefined


def test_baseline_names() -> None:
    assert all(is_baseline(n) for n in ("twap", "vwap", "pov0.05", "ac", "submit_and_leave"))
    assert not any(is_baseline(n) for n in ("ppo:run1", "dqn", "acme", "povray"))


def test_bad_inputs_raise_config_errors() -> None:
    with pytest.raises(ConfigError, match="same positive number of episodes"):
        summarize({"twap": episodes([1.0]), "x": episodes([1.0, 2.0])})
    with pytest.raises(ConfigError, match="benchmark 'twap' must be among"):
        summarize({"x": episodes([1.0])})
    with pytest.raises(ConfigError, match="no policies"):
        summarize({})
