"""Market regimes: rolling features, Gaussian mixture and HMM regimes, drift detectors.

Data flow::

    daily bars / LOBSTER day -> features (causal rolling windows) -> RegimeModel
        -> regime labels and probabilities (aligned across refits) -> report
    model errors -> drift detector -> refit (adapt.walk_forward)

Every state label is canonical: after a fit the states are ordered by the mean of the
volatility feature (0 = calmest), and :meth:`RegimeModel.align` matches a refit to an
earlier model by Hungarian matching so that regime ``k`` keeps its meaning.
"""

from __future__ import annotations

from tradelearn.regime.drift import ADWIN, DriftDetector, PageHinkley, make_detector
from tradelearn.regime.features import (
    IntradayBars,
    RegimeFeatures,
    bars_from_quotes,
    daily_features,
    intraday_features,
    lobster_bars,
)
from tradelearn.regime.models import (
    RegimeModel,
    StabilityResult,
    label_agreement,
    seed_stability,
)

__all__ = [
    "ADWIN",
    "DriftDetector",
    "IntradayBars",
    "PageHinkley",
    "RegimeFeatures",
    "RegimeModel",
    "StabilityResult",
    "bars_from_quotes",
    "daily_features",
    "intraday_features",
    "label_agreement",
    "lobster_bars",
    "make_detector",
    "seed_stability",
]
