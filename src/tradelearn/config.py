"""Where tradelearn finds real data and keeps its store.

Real data is read in place, never copied into the repository. Its folder comes from
``--data-dir`` on the command line, else the ``TRADELEARN_DATA_DIR`` environment
variable, else ``../shared/data`` next to the current directory when it exists.
The Parquet store lives under ``--store``, else ``TRADELEARN_STORE``, else
``.tradelearn/store`` in the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from tradelearn.errors import ConfigError

DATA_DIR_ENV = "TRADELEARN_DATA_DIR"
STORE_ENV = "TRADELEARN_STORE"
DEFAULT_STORE = Path(".tradelearn") / "store"


def data_dir(override: str | Path | None = None, *, required: bool = False) -> Path | None:
    """Return the real-data folder, or ``None`` when none is configured or found.

    Parameters
    ----------
    override
        A folder given explicitly (the CLI's ``--data-dir``); it must exist.
    required
        Raise :class:`ConfigError` instead of returning ``None``.
    """
    if override is not None:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise ConfigError(f"--data-dir must be an existing folder, actually: '{path}'")
        return path
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise ConfigError(f"{DATA_DIR_ENV} must name an existing folder, actually: '{path}'")
        return path
    for candidate in (
        Path.cwd() / ".." / "shared" / "data",
        Path(__file__).resolve().parents[2] / ".." / "shared" / "data",
    ):
        if candidate.is_dir():
            return candidate.resolve()
    if required:
        raise ConfigError(
            f"no real-data folder: pass --data-dir or set {DATA_DIR_ENV} "
            "(expected a folder such as ../shared/data)"
        )
    return None


def store_dir(override: str | Path | None = None) -> Path:
    """Return the store folder (created on first write, not here)."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(STORE_ENV)
    return Path(env).expanduser() if env else DEFAULT_STORE
