"""Validation helpers shared by the loaders.

A loader checks its input and, on the first problem, raises :class:`DataError`
naming the file, the 1-based row and the field. Under ``repair=True`` it instead
drops the bad rows and lists every one of them in a :class:`RepairReport`: rows
are never dropped silently.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tradelearn.errors import DataError


@dataclass(frozen=True)
class BadRow:
    """One row dropped under the repair policy."""

    path: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}, row {self.row}, field '{self.field}': {self.reason}"


@dataclass
class RepairReport:
    """Every row a loader dropped, with the reason."""

    dropped: list[BadRow] = field(default_factory=list)

    def add(self, path: str | Path, row: int, field_name: str, reason: str) -> None:
        self.dropped.append(BadRow(str(path), row, field_name, reason))

    def extend(self, other: RepairReport) -> None:
        self.dropped.extend(other.dropped)

    def __len__(self) -> int:
        return len(self.dropped)

    def summary(self, limit: int = 10) -> str:
        """Human-readable list of the first ``limit`` dropped rows."""
        if not self.dropped:
            return "no rows dropped"
        lines = [f"{len(self.dropped)} rows dropped:"]
        lines += [f"  {bad}" for bad in self.dropped[:limit]]
        if len(self.dropped) > limit:
            lines.append(f"  ... and {len(self.dropped) - limit} more")
        return "\n".join(lines)


def read_bytes(path: str | Path) -> bytes:
    """Read a plain or gzipped file, naming the file when it is missing or corrupt."""
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", path=p)
    raw = p.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"gzip data is truncated or corrupt ({exc})",
            path=p,
            expected="a complete gzip stream",
            got=f"{len(raw)} bytes that do not decompress",
        ) from exc


def first_true(mask: np.ndarray) -> int:
    """Index of the first True in ``mask`` (-1 if none)."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else -1


def check_rows(
    mask_bad: np.ndarray,
    *,
    path: str | Path,
    field_name: str,
    reason: str,
    expected: str,
    got: Callable[[int], object],
    repair: RepairReport | None,
    row_offset: int = 1,
) -> np.ndarray:
    """Raise on the first bad row, or record every bad row under the repair policy.

    Parameters
    ----------
    mask_bad
        True where a row breaks the rule.
    got
        Maps a 0-based row index to the offending value, for the message.
    repair
        ``None`` raises on the first bad row; a report collects them all.
    row_offset
        Added to the 0-based index to give the row number users see (1 for files
        without a header, 2 for files with one).

    Returns
    -------
    numpy.ndarray
        The bad-row mask (all False when nothing was bad).
    """
    if not mask_bad.any():
        return mask_bad
    if repair is None:
        i = first_true(mask_bad)
        raise DataError(
            reason, path=path, row=i + row_offset, field=field_name, expected=expected, got=got(i)
        )
    for i in map(int, np.flatnonzero(mask_bad)):
        repair.add(
            path,
            int(i) + row_offset,
            field_name,
            f"{reason} (expected {expected}, got {got(int(i))!r})",
        )
    return mask_bad
