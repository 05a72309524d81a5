"""On-disk format of the store: layout constants, catalog rows, and the helpers that
check, convert and write the files (see :mod:`tradelearn.data.store` for the design)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradelearn.data.schema import (
    BOOK_FIELDS,
    EVENT_FIELDS,
    book_columns,
)
from tradelearn.errors import ConfigError, DataError

Kind = Literal["events", "book", "daily", "text"]
KINDS: Final[tuple[Kind, ...]] = ("events", "book", "daily", "text")
TABLE_KINDS: Final[tuple[Kind, ...]] = ("daily", "text")

CATALOG_NAME: Final = "catalog.duckdb"
PART_NAME: Final = "part-0.parquet"
FORMAT_VERSION: Final = 1
METADATA_KEY: Final = b"tradelearn"

DAILY_COLUMNS: Final[tuple[str, ...]] = ("date", "symbol", "open", "high", "low", "close", "volume")
"""Columns every daily table has (``adj_close`` and others may follow)."""
TEXT_COLUMNS: Final[tuple[str, ...]] = ("sentence", "label")
"""Columns every text table has."""

_BOOK_FIELDS: Final = BOOK_FIELDS
_NAME_RE: Final = re.compile(r"[A-Za-z0-9^_+][A-Za-z0-9._^+-]*")
_MAX_LISTED: Final = 10

# Hot-path files: decode speed first (see "Reading" above). Cold tables: size first.
_FAST_WRITE: Final[dict[str, Any]] = {
    "compression": "none",
    "use_dictionary": False,
    "column_encoding": "DELTA_BINARY_PACKED",
    "row_group_size": 1 << 20,
}
_COMPACT_WRITE: Final[dict[str, Any]] = {
    "compression": "zstd",
    "row_group_size": 1 << 17,
}

_CATALOG_DDL: Final = """
CREATE TABLE IF NOT EXISTS datasets (
    kind VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    symbol VARCHAR,
    date DATE,
    path VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    levels INTEGER,
    first_date DATE,
    last_date DATE,
    ingested_at TIMESTAMP NOT NULL,
    meta_json VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
"""
_CATALOG_COLUMNS: Final = (
    "kind, source, symbol, date, path, rows, levels, first_date, last_date, ingested_at, meta_json"
)
_PLACEHOLDERS: Final = ", ".join("?" * len(_CATALOG_COLUMNS.split(", ")))
_KEY_MATCH: Final = (
    "kind = ? AND source = ? AND symbol IS NOT DISTINCT FROM ? AND date IS NOT DISTINCT FROM ?"
)

# Columns of the empty views, so that SQL over a kind with no data still binds.
_EMPTY_VIEW_COLUMNS: Final[dict[Kind, tuple[tuple[str, str], ...]]] = {
    "events": (
        *(
            (name, {"i8": "BIGINT", "u1": "UTINYINT", "i1": "TINYINT"}[code])
            for name, code in EVENT_FIELDS
        ),
        ("date", "DATE"),
        ("source", "VARCHAR"),
        ("symbol", "VARCHAR"),
    ),
    "book": (
        *((f"{name}_1", "BIGINT") for name in _BOOK_FIELDS),
        ("date", "DATE"),
        ("source", "VARCHAR"),
        ("symbol", "VARCHAR"),
    ),
    "daily": (
        ("date", "DATE"),
        ("symbol", "VARCHAR"),
        *((name, "DOUBLE") for name in ("open", "high", "low", "close")),
        ("volume", "BIGINT"),
        ("source", "VARCHAR"),
    ),
    "text": (("sentence", "VARCHAR"), ("label", "VARCHAR"), ("source", "VARCHAR")),
}
_HIVE_TYPES: Final[dict[Kind, str]] = {
    "events": "{'source': VARCHAR, 'symbol': VARCHAR, 'date': DATE}",
    "book": "{'source': VARCHAR, 'symbol': VARCHAR, 'date': DATE}",
    "daily": "{'source': VARCHAR}",
    "text": "{'source': VARCHAR}",
}


class DatasetNotFoundError(ConfigError):
    """A read asked for a dataset the store does not hold."""


class QueryError(ConfigError):
    """SQL given to :meth:`Store.query` failed; the message carries DuckDB's."""


@dataclass(frozen=True, kw_only=True)
class DatasetInfo:
    """One row of the catalog: a dataset held by the store.

    Attributes
    ----------
    kind
        ``"events"``, ``"book"``, ``"daily"`` or ``"text"``.
    source
        Where the data came from (``"lobster"``, ``"sp500"``, ...).
    symbol, date
        The rest of the key; ``None`` for a source-level daily or text dataset.
    path
        The Parquet file.
    rows
        Number of rows in it.
    levels
        Book levels (events and book datasets with a book), else ``None``.
    first_date, last_date
        Period the dataset covers, where it has dates.
    ingested_at
        When it was written (UTC, timezone-aware).
    meta_json
        The ``meta`` mapping given at ingestion, as JSON (see :attr:`meta`).
    """

    kind: str
    source: str
    symbol: str | None
    date: dt.date | None
    path: Path
    rows: int
    levels: int | None
    first_date: dt.date | None
    last_date: dt.date | None
    ingested_at: dt.datetime
    meta_json: str = "{}"

    @property
    def meta(self) -> dict[str, Any]:
        """The ``meta`` mapping given at ingestion."""
        value = json.loads(self.meta_json)
        return value if isinstance(value, dict) else {}

    @property
    def key(self) -> str:
        """``kind/source[/symbol][/date]``, as error messages and ``ls`` show it."""
        return _key_text(self.kind, self.source, self.symbol, self.date)


# -- helpers ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Staged:
    """A file written to its temporary name, waiting for the catalog commit."""

    key: tuple[Kind, str, str | None, dt.date | None]
    final: Path
    temp: Path
    rows: int
    levels: int | None
    first_date: dt.date | None
    last_date: dt.date | None


def _check_kind(kind: str) -> Kind:
    for known in KINDS:
        if kind == known:
            return known
    raise ConfigError(f"kind must be one of {', '.join(KINDS)}, actually: {kind!r}")


def _check_name(what: str, value: object) -> str:
    # Names become folder names and hive partition values: keep them path-safe.
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise ConfigError(
            f"{what} must be letters, digits and '. _ - ^ +' (not starting with '.' or '-'), "
            f"actually: {value!r}"
        )
    return value


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        with suppress(ValueError):
            return dt.date.fromisoformat(value)
    raise ConfigError(f"date must be a datetime.date or 'YYYY-MM-DD', actually: {value!r}")


def _key_text(kind: str, source: str, symbol: str | None, date: dt.date | None) -> str:
    parts = [kind, source]
    if symbol is not None:
        parts.append(symbol)
    if date is not None:
        parts.append(date.isoformat())
    return "/".join(parts)


def _kind_counts(held: Sequence[DatasetInfo]) -> str:
    counts = {kind: sum(1 for info in held if info.kind == kind) for kind in KINDS}
    return ", ".join(f"{kind} ({n})" for kind, n in counts.items() if n)


def _meta_json(meta: Mapping[str, Any] | None) -> str:
    if meta is None:
        return "{}"
    if not isinstance(meta, Mapping):
        raise ConfigError(f"meta must be a mapping, actually: {type(meta).__name__}")
    try:
        return json.dumps(dict(meta), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"meta must be JSON-serialisable: {exc}") from exc


def _check_book(book: object, n: int, levels: int | None) -> int:
    """Validate a book array against the events; return its number of levels."""
    if not isinstance(book, np.ndarray) or book.ndim != 2:
        got = type(book).__name__ if not isinstance(book, np.ndarray) else f"ndim {book.ndim}"
        raise DataError(
            "book must be a 2-D integer array",
            field="book",
            expected="shape (n, 4 * levels)",
            got=got,
        )
    if not np.issubdtype(book.dtype, np.integer) or book.dtype == np.uint64:
        raise DataError(
            "book must hold integers that fit int64",
            field="book",
            expected="int64",
            got=str(book.dtype),
        )
    rows, width = (int(d) for d in book.shape)
    if rows != n:
        raise DataError(
            "book must have one row per event", field="book", expected=f"{n} rows", got=rows
        )
    if width == 0 or width % 4:
        raise DataError(
            "book width must be 4 columns per level",
            field="book",
            expected="a positive multiple of 4",
            got=width,
        )
    if levels is None:
        return width // 4
    if not isinstance(levels, int) or levels <= 0 or width != 4 * levels:
        raise DataError(
            f"book width does not match levels={levels!r}",
            field="book",
            expected="4 * levels columns",
            got=width,
        )
    return levels


def _book_to_arrow(book: np.ndarray, levels: int) -> pa.Table:
    columns = [
        pa.array(np.ascontiguousarray(book[:, j], dtype=np.int64)) for j in range(book.shape[1])
    ]
    fields = [pa.field(name, pa.int64(), nullable=False) for name in book_columns(levels)]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _pool_empty(n: int, dtype: np.dtype[Any]) -> np.ndarray:
    """Return an uninitialised writable 1-D array whose memory comes from Arrow's pool.

    Arrow's allocator keeps freed pages mapped, so reading day after day does not pay
    for fresh page faults on every output array as ``np.empty`` of tens of MB does.
    """
    if n == 0:
        return np.empty(0, dtype=dtype)
    return np.frombuffer(pa.allocate_buffer(n * dtype.itemsize), dtype=dtype)


def _fill(out: np.ndarray, column: pa.ChunkedArray, path: Path, name: str) -> None:
    """Copy an Arrow column into a NumPy view chunk by chunk (no concatenation copy)."""
    if column.null_count:
        raise DataError(
            "stored column has nulls",
            path=path,
            field=name,
            expected="no nulls",
            got=column.null_count,
        )
    start = 0
    for chunk in column.chunks:
        stop = start + len(chunk)
        out[start:stop] = chunk.to_numpy(zero_copy_only=False)
        start = stop


def _prepare_table(
    kind: Kind, table: pa.Table, symbol: str | None, day: dt.date | None
) -> pa.Table:
    """Check required columns, add the constant key columns, normalise ``date``."""
    names = table.column_names
    if "source" in names:
        raise DataError(
            f"a {kind} table must not have a 'source' column: "
            "the store adds it as the partition column",
            field="source",
        )
    for name, value, typ in (("symbol", symbol, pa.string()), ("date", day, pa.date32())):
        if value is None:
            continue
        if name in names:
            column = table.column(name)
            if name == "date":
                column = _date_column(column)
            mismatch = pc.sum(
                pc.cast(
                    pc.invert(pc.fill_null(pc.equal(column, pa.scalar(value, typ)), False)),
                    pa.int64(),
                )
            ).as_py()
            if mismatch:
                raise DataError(
                    f"{mismatch} rows of the {kind} table disagree with the {name} argument",
                    field=name,
                    expected=str(value),
                    got="other values",
                )
        else:
            table = table.append_column(
                pa.field(name, typ, nullable=False), pa.array([value] * table.num_rows, typ)
            )
    required = DAILY_COLUMNS if kind == "daily" else TEXT_COLUMNS
    missing = [name for name in required if name not in table.column_names]
    if missing:
        raise DataError(
            f"{kind} table lacks columns {missing}",
            field=missing[0],
            expected=", ".join(required),
            got=", ".join(table.column_names),
        )
    if "date" in table.column_names:
        idx = table.column_names.index("date")
        table = table.set_column(
            idx, table.field(idx).with_type(pa.date32()), _date_column(table.column(idx))
        )
    return table


def _date_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    typ = column.type
    if pa.types.is_date32(typ):
        return column
    try:
        if (
            pa.types.is_timestamp(typ)
            or pa.types.is_date64(typ)
            or pa.types.is_string(typ)
            or pa.types.is_large_string(typ)
            or pa.types.is_string_view(typ)
        ):
            return pc.cast(column, pa.date32())
    except pa.ArrowInvalid as exc:
        raise DataError(f"cannot read the 'date' column as dates: {exc}", field="date") from exc
    raise DataError(
        "the 'date' column must hold dates",
        field="date",
        expected="date32, timestamp or ISO strings",
        got=str(typ),
    )


def _date_range(table: pa.Table) -> tuple[dt.date | None, dt.date | None]:
    if "date" not in table.column_names or table.num_rows == 0:
        return None, None
    bounds = pc.min_max(table.column("date"))
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    return lo, hi


def _write_temp(
    table: pa.Table, final: Path, meta: Mapping[str, Any], options: Mapping[str, Any]
) -> Path:
    """Write ``table`` to a hidden temporary file beside ``final`` and fsync it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    # A leading dot and no .parquet suffix keep the file out of any *.parquet glob.
    temp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[METADATA_KEY] = json.dumps(meta, sort_keys=True).encode()
    table = table.replace_schema_metadata(schema_meta)
    try:
        pq.write_table(table, temp, **options)
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _remove_empty_dirs(folder: Path, *, stop: Path) -> None:
    """Remove ``folder`` and its empty parents, up to but excluding ``stop``."""
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): leave the rest
            return
        folder = folder.parent


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _view_sql(kind: Kind, held: Sequence[DatasetInfo], *, hive: bool) -> str:
    """Return the SQL creating the view of ``kind`` over the files in ``held``."""
    if not held:
        cols = ", ".join(
            f"CAST(NULL AS {typ}) AS {name}" for name, typ in _EMPTY_VIEW_COLUMNS[kind]
        )
        return f"CREATE TEMP VIEW {kind} AS SELECT {cols} WHERE false"
    if hive:
        files = ", ".join(_sql_string(str(info.path)) for info in held)
        return (
            f"CREATE TEMP VIEW {kind} AS SELECT * FROM read_parquet([{files}], "
            f"hive_partitioning = true, union_by_name = true, hive_types = {_HIVE_TYPES[kind]})"
        )
    # The key columns as constants per file; DuckDB drops the branches a filter on
    # them rules out, so this prunes files as hive partitioning does, only slower to plan.
    branches = []
    for info in held:
        keys = [f"{_sql_string(info.source)} AS source"]
        if kind not in TABLE_KINDS and info.symbol is not None and info.date is not None:
            keys += [f"{_sql_string(info.symbol)} AS symbol", f"DATE '{info.date}' AS date"]
        branches.append(
            f"SELECT *, {', '.join(keys)} FROM read_parquet("
            f"{_sql_string(str(info.path))}, hive_partitioning = false)"
        )
    return f"CREATE TEMP VIEW {kind} AS " + " UNION ALL BY NAME ".join(branches)


def _catalog_table(held: Sequence[DatasetInfo]) -> pa.Table:
    return pa.table(
        {
            "kind": pa.array([i.kind for i in held], pa.string()),
            "source": pa.array([i.source for i in held], pa.string()),
            "symbol": pa.array([i.symbol for i in held], pa.string()),
            "date": pa.array([i.date for i in held], pa.date32()),
            "path": pa.array([str(i.path) for i in held], pa.string()),
            "rows": pa.array([i.rows for i in held], pa.int64()),
            "levels": pa.array([i.levels for i in held], pa.int32()),
            "first_date": pa.array([i.first_date for i in held], pa.date32()),
            "last_date": pa.array([i.last_date for i in held], pa.date32()),
            "ingested_at": pa.array([i.ingested_at for i in held], pa.timestamp("us", tz="UTC")),
            "meta_json": pa.array([i.meta_json for i in held], pa.string()),
        }
    )
