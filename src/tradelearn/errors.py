"""Exceptions shared by every stage of tradelearn.

Exceptions are for programmer, configuration and data errors. Outcomes of trading
(a rejected or denied order) are events with reasons, never exceptions.
"""

from __future__ import annotations

from pathlib import Path


class TradelearnError(Exception):
    """Base class of every tradelearn exception."""


class ConfigError(TradelearnError, ValueError):
    """A configuration value is missing, unknown or out of range."""


class DataError(TradelearnError, ValueError):
    """Input data is malformed.

    The message names the file, the row (1-based, as an editor shows it) and the
    field, and says what was expected and what came.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
        expected: str | None = None,
        got: object = None,
    ) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        self.row = row
        self.field = field
        self.expected = expected
        self.got = got
        parts = []
        if self.path is not None:
            parts.append(self.path)
        if row is not None:
            parts.append(f"row {row}")
        if field is not None:
            parts.append(f"field '{field}'")
        where = ", ".join(parts)
        text = f"{where}: {reason}" if where else reason
        if expected is not None:
            text += f" (expected {expected}, got {got!r})"
        super().__init__(text)
