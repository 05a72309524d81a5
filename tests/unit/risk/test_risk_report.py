"""Report sections: forecast against realized, VaR exceptions, anomaly scores on the price."""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from tradelearn.errors import ConfigError
from tradelearn.execution.worlds import ACWorld, make_world
from tradelearn.risk.anomaly import MarketTape
from tradelearn.risk.posture import build_posture
from tradelearn.risk.report import (
    anomaly_figure,
    anomaly_section,
    forecast_figure,
    forecast_section,
    interval_mids,
    posture_section,
    var_figure,
    var_section,
)
from tradelearn.risk.sizing import VarBudget
from tradelearn.risk.var import VarForecast
from tradelearn.risk.vol import ForecastSet

N = 300


def _forecast_set() -> ForecastSet:
    rng = np.random.default_rng(0)
    s2 = np.exp(np.sin(np.arange(N) / 30.0))
    target = np.column_stack([s2 * h * rng.chisquare(5, N) / 5 for h in (1, 5)])
    fc = {
        "good": np.column_stack([s2 * h for h in (1, 5)]),
        "flat": np.full((N, 2), 1.3) * np.array([1, 5]),
    }
    dates = np.datetime64("2010-01-04") + np.arange(N).astype("timedelta64[D]")
    return ForecastSet("sim", dates, np.arange(N), (1, 5), target, fc, 1000, 22, {})


def _var_forecast() -> VarForecast:
    rng = np.random.default_rng(1)
    r = rng.standard_t(4, N)
    var = np.column_stack([np.full(N, 2.5), np.full(N, 2.0)])
    dates = np.datetime64("2010-01-04") + np.arange(N).astype("timedelta64[D]")
    return VarForecast("evt", dates, r, (0.99, 0.975), var, var * 1.2, np.ones(N))


def test_forecast_section_when_two_horizons_then_tables_and_one_figure_each() -> None:
    fs = _forecast_set()
    report = {
        "qlike": {"good": [0.1, 0.05], "flat": [0.3, 0.2]},
        "comparison": [
            {"h": 1, "best_standard": "flat", "best_standard_qlike": 0.3,
             "best_candidate": "good", "best_candidate_qlike": 0.1, "ratio": 1 / 3,
             "dm_p_two_sided": 0.001},
        ],
    }  # fmt: skip
    sec = forecast_section(fs, report, models=("good", "flat", "absent"))
    assert (sec.n_tables, sec.n_figures) == (2, 2)
    html = sec.render()
    assert html.count("data:image/png;base64,") == 2
    assert "-66.6667" in html  # the difference in percent, 1/3 - 1


def test_forecast_figure_when_drawn_then_lines_are_daily_vol_of_proxy_and_models() -> None:
    fs = _forecast_set()
    fig = forecast_figure(fs, ["good"], h=5)
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["realized (proxy)", "good"]
    np.testing.assert_allclose(lines[1].get_ydata(), np.sqrt(fs.forecasts["good"][:, 1] / 5))
    with pytest.raises(ConfigError, match="horizon"):
        forecast_figure(fs, ["good"], h=22)
    with pytest.raises(ConfigError, match="absent"):
        forecast_figure(fs, ["absent"], h=1)


def test_var_figure_when_drawn_then_marks_exactly_the_exceptions() -> None:
    vf = _var_forecast()
    for j, level in enumerate(vf.levels):
        fig = var_figure(vf, level)
        pts = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
        hits = vf.hits()[:, j]
        assert len(pts) == 1 and len(pts[0].get_offsets()) == int(hits.sum()) > 0
        np.testing.assert_allclose(np.asarray(pts[0].get_offsets())[:, 1], vf.returns[hits])
        np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), -vf.var[:, j])
    with pytest.raises(ConfigError, match="level"):
        var_figure(vf, 0.95)


def test_var_section_when_results_given_then_row_per_method_and_level() -> None:
    vf = _var_forecast()
    r = {"hit_rate": 0.01, "kupiec_p": 0.5, "cc_p": 0.4, "es_mcneil_frey_p": 0.3}
    sec = var_section({"evt": vf}, {"evt": {"0.99": r, "0.975": r}, "hs": {"0.99": r}})
    assert (sec.n_tables, sec.n_figures) == (1, 2)
    assert sec.render().count("<tr>") == 4  # header + three rows


def _tape() -> MarketTape:
    ts = np.array([0, 1_000_000_000, 2_500_000_000, 4_000_000_000], dtype=np.int64)
    return MarketTape(
        "t", ts, np.array([99.0, 100.0, 101.0, 0.0]), np.array([101.0, 102.0, 103.0, 104.0]),
        np.ones(4), np.ones(4), ts[:0], ts[:0].astype(float), ts[:0].astype(float), ts,
    )  # fmt: skip


def test_interval_mids_when_quotes_given_then_last_two_sided_mid_at_each_end() -> None:
    ends = np.array([-1, 0, 2_000_000_000, 3_000_000_000, 5_000_000_000])
    mids = interval_mids(_tape(), ends)
    # the last quote has no bid: the previous two-sided mid carries on
    np.testing.assert_allclose(mids, [np.nan, 100.0, 101.0, 102.0, 102.0])


def test_anomaly_figure_when_top_fraction_then_marks_that_many_intervals() -> None:
    rng = np.random.default_rng(2)
    n = 1000
    ends = np.arange(n, dtype=np.int64) * 1_000_000_000
    mid = 100 + np.cumsum(rng.normal(0, 0.01, n))
    score = rng.normal(size=n)
    score[:5] = np.nan
    fig = anomaly_figure(ends, mid, {"z": score, "iso": rng.normal(size=n)}, top=0.02)
    pts = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert [len(p.get_offsets()) for p in pts] == [20, 20]
    flagged = np.asarray(pts[0].get_offsets())[:, 0]
    top = np.sort(np.argsort(np.nan_to_num(score, nan=-np.inf))[-20:])
    np.testing.assert_allclose(np.sort(flagged), top / 60.0)
    with pytest.raises(ConfigError, match="top"):
        anomaly_figure(ends, mid, {"z": score}, top=1.5)


def test_anomaly_figure_when_capped_score_ties_then_all_ties_marked_and_named() -> None:
    n = 1000
    ends = np.arange(n, dtype=np.int64) * 1_000_000_000
    score = np.zeros(n)
    score[::10] = 50.0  # a capped robust z: 100 intervals tie at the cap
    fig = anomaly_figure(ends, np.linspace(1, 2, n), {"z": score}, top=0.01)
    pts = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(pts[0].get_offsets()) == 100
    np.testing.assert_allclose(np.asarray(pts[0].get_offsets())[:, 0], np.arange(0, n, 10) / 60)
    assert "100 tied at the cutoff, for 10" in pts[0].get_label()


def test_anomaly_section_when_two_sources_then_one_table_two_figures() -> None:
    n = 200
    ends = np.arange(n, dtype=np.int64) * 1_000_000_000
    ew = {"auc_score": 0.7, "auc_baseline": 0.6, "diff": 0.1, "diff_low": 0.0, "diff_high": 0.2}
    rows = [
        {"source": s, "ends": ends, "mid": np.linspace(1, 2, n),
         "scores": {"z": np.arange(n, dtype=float)}, "auc": {"z": ew}}
        for s in ("a", "b")
    ]  # fmt: skip
    sec = anomaly_section(rows)
    assert (sec.n_tables, sec.n_figures) == (1, 2)


def test_posture_section_when_two_postures_then_schedules_plotted() -> None:
    world = cast(ACWorld, make_world("ac"))
    budget = VarBudget(budget=1e5)
    postures = {
        "calm": build_posture(1.0, world, budget),
        "storm": build_posture(9.0, world, budget),
    }
    sec = posture_section(postures)
    assert (sec.n_tables, sec.n_figures) == (1, 1)
    assert "HALTED" in sec.render() or "REDUCING" in sec.render()
