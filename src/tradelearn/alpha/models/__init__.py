"""Supervised alpha models behind one fit/predict/save/load protocol.

See :mod:`tradelearn.alpha.models.base` for the protocol and the registry; each model
module registers its class with :func:`~tradelearn.alpha.models.base.register_model`.
"""

from tradelearn.alpha.models.base import (
    MODEL_REGISTRY,
    AlphaModel,
    load_model,
    make_model,
    register_model,
)

__all__ = ["MODEL_REGISTRY", "AlphaModel", "load_model", "make_model", "register_model"]
