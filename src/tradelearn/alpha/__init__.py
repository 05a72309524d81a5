"""Alpha: features, labels, datasets with leakage-safe segments, supervised models, signals.

Modules upstream first: feature builders (``features_lob``, ``features_daily``), labels,
datasets and walk-forward splits, models behind one protocol (:mod:`tradelearn.alpha.models`),
evaluation and experiments.
"""
