"""Drift detectors on synthetic streams with a known change point."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.errors import ConfigError, DataError
from tradelearn.regime.drift import ADWIN, PageHinkley, make_detector

CHANGE = 1000


def _stream(seed: int, shift: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 1, CHANGE), rng.normal(shift, 1, 500)])


def _alarms(det: PageHinkley | ADWIN, x: np.ndarray) -> list[int]:
    return [i for i, v in enumerate(x) if det.update(float(v))]


@pytest.mark.parametrize(
    ("name", "max_delay", "median_delay"), [("ph", 60, 30), ("adwin", 100, 70)]
)
def test_mean_shift_of_one_sd_when_streamed_then_detected_within_delay_bound(
    name: str, max_delay: int, median_delay: int
) -> None:
    delays = []
    for seed in range(20):
        det = make_detector(name)
        post = [a for a in _alarms(det, _stream(seed)) if a >= CHANGE]
        assert post, (name, seed)
        delays.append(post[0] - CHANGE)
        assert det.detections[-1] == post[-1]
    assert max(delays) <= max_delay, delays
    assert float(np.median(delays)) <= median_delay, delays


@pytest.mark.parametrize(("name", "max_rate"), [("ph", 2e-3), ("adwin", 5e-5)])
def test_stationary_stream_when_streamed_then_false_alarm_rate_is_small(
    name: str, max_rate: float
) -> None:
    alarms, n = 0, 0
    for seed in range(6):
        x = np.random.default_rng(100 + seed).normal(0.3, 1.0, 4000)
        alarms += len(_alarms(make_detector(name), x))
        n += x.size
    assert alarms / n <= max_rate


def test_page_hinkley_up_only_when_mean_falls_then_no_alarm_but_both_alarms() -> None:
    x = _stream(1, shift=-1.5)
    assert not [a for a in _alarms(PageHinkley(direction="up"), x) if a >= CHANGE]
    assert [a for a in _alarms(PageHinkley(direction="both"), x) if a >= CHANGE]


def test_page_hinkley_alarm_when_raised_then_statistic_restarts() -> None:
    det = PageHinkley(delta=0.0, threshold=5.0, min_samples=1)
    fired = [det.update(v) for v in [0.0] * 10 + [3.0] * 5]
    assert any(fired)
    assert det.n < 5 and det.statistic < 5.0


def test_adwin_after_a_change_then_window_holds_only_the_new_regime() -> None:
    det = ADWIN()
    _alarms(det, _stream(3, shift=2.0))
    assert det.width <= 500  # the old regime's 1000 values are gone
    assert det.window_mean == pytest.approx(2.0, abs=0.2)


def test_adwin_max_window_when_exceeded_then_oldest_value_dropped() -> None:
    det = ADWIN(max_window=40, min_side=5)
    for v in np.zeros(100):
        det.update(float(v))
    assert det.width == 40


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_detectors_when_value_not_finite_then_data_error(bad: float) -> None:
    for det in (PageHinkley(), ADWIN()):
        with pytest.raises(DataError, match="NaN or infinite"):
            det.update(bad)


def test_detector_parameters_when_out_of_range_then_config_error_names_them() -> None:
    with pytest.raises(ConfigError, match="threshold must be > 0, actually: 0"):
        PageHinkley(threshold=0)
    with pytest.raises(ConfigError, match="direction"):
        PageHinkley(direction="sideways")
    with pytest.raises(ConfigError, match=r"delta must be in \(0, 1\), actually: 1.5"):
        ADWIN(delta=1.5)
    with pytest.raises(ConfigError, match="detector must be one of"):
        make_detector("cusum")
