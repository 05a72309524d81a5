"""The canonical event schema: NumPy and Arrow describe the same thing."""

from __future__ import annotations

import numpy as np
import pytest

from tradelearn.data.schema import (
    EVENT_DTYPE,
    EVENT_FIELDS,
    EVENT_SCHEMA,
    Instrument,
    empty_events,
    events_from_arrow,
    events_to_arrow,
)


def test_numpy_and_arrow_have_the_same_fields_in_order() -> None:
    assert list(EVENT_DTYPE.names or ()) == [name for name, _ in EVENT_FIELDS] == EVENT_SCHEMA.names
    for name in EVENT_SCHEMA.names:
        assert EVENT_SCHEMA.field(name).type.to_pandas_dtype() == EVENT_DTYPE[name].type


def test_events_round_trip_through_arrow() -> None:
    rng = np.random.default_rng(3)
    ev = empty_events(100)
    for name in EVENT_DTYPE.names or ():
        info = np.iinfo(EVENT_DTYPE[name])
        ev[name] = rng.integers(
            info.min, info.max, size=100, dtype=EVENT_DTYPE[name], endpoint=True
        )
    assert np.array_equal(events_from_arrow(events_to_arrow(ev)), ev)


def test_events_to_arrow_when_dtype_is_wrong_then_type_error() -> None:
    with pytest.raises(TypeError, match="expected an array of EVENT_DTYPE"):
        events_to_arrow(np.zeros(3))


def test_instrument_when_tick_not_positive_then_error_says_actual() -> None:
    with pytest.raises(
        ValueError, match=r"Instrument.tick_size must be a positive integer, actually: 0"
    ):
        Instrument(symbol="X", price_scale=10_000, tick_size=0)
