"""Journals: every gate decision and order event is written before it is acted on.

:class:`FileJournal` appends one JSON object per line, flushes it to the operating system
at once and, with ``fsync_every=1`` (the default), forces it to disk before returning, so
a crash loses nothing that was acknowledged. A torn last line (a crash mid-write) is
detected and skipped, with a count, by :func:`read_journal`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol


class Journal(Protocol):
    def write(self, record: dict[str, Any]) -> None: ...


class MemoryJournal:
    """Keeps records in a list (tests, backtests)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)


class FileJournal:
    """Append-only JSON-lines journal on disk."""

    def __init__(self, path: str | Path, *, fsync_every: int = 1) -> None:
        if fsync_every < 0:
            raise ValueError(f"fsync_every must be >= 0 (0: never), actually: {fsync_every}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held open for the journal's life
        self._fsync_every = fsync_every
        self._since_sync = 0

    def write(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self._fh.flush()
        self._since_sync += 1
        if self._fsync_every and self._since_sync >= self._fsync_every:
            os.fsync(self._fh.fileno())
            self._since_sync = 0

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> FileJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_journal(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """Records of a journal file and the number of torn lines skipped (0 or 1: the last)."""
    records: list[dict[str, Any]] = []
    torn = 0
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if i < len(lines) - 2:  # only the last line may be torn by a crash
                raise ValueError(f"{path}: line {i + 1} is corrupt: {line[:80]!r}") from None
            torn += 1
    return records, torn
