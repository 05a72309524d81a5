"""Find the shared real data for tests; skip (with the reason) where it is absent."""

from __future__ import annotations

from pathlib import Path

from tradelearn.config import data_dir

LOBSTER_NAME = "{sym}_2012-06-21_34200000_57600000_{kind}_{levels}.csv.gz"


def real_path(relative: str) -> Path:
    """A file under the real-data folder, or skip the calling test with the reason."""
    import pytest

    root = data_dir()
    if root is None:
        pytest.skip("real data ../shared/data not present (set TRADELEARN_DATA_DIR to run this)")
    path = root / relative
    if not path.exists():
        pytest.skip(f"real data file {relative} not present under {root}")
    return path


def lobster_pair(sym: str, levels: int) -> tuple[Path, Path]:
    """The shared LOBSTER message/orderbook pair of a symbol and level count."""
    return (
        real_path("lobster/" + LOBSTER_NAME.format(sym=sym, kind="message", levels=levels)),
        real_path("lobster/" + LOBSTER_NAME.format(sym=sym, kind="orderbook", levels=levels)),
    )
