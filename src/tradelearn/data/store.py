"""The local Parquet store and its DuckDB catalog.

Loaders parse a source once; the store keeps the result as Parquet so that later
runs read it back in milliseconds, and so that DuckDB can query it with SQL.

Layout
------
::

    <root>/catalog.duckdb
    <root>/events/source=<src>/symbol=<sym>/date=<YYYY-MM-DD>/part-0.parquet
    <root>/book/source=<src>/symbol=<sym>/date=<YYYY-MM-DD>/part-0.parquet
    <root>/daily/source=<src>/part-0.parquet                 (whole panel)
    <root>/daily/source=<src>/part-symbol-<sym>.parquet      (one series)
    <root>/text/source=<src>/part-0.parquet

``events`` hold canonical order-by-order events (:data:`~tradelearn.data.schema.EVENT_SCHEMA`);
``book`` holds the L2 snapshot after each event, row for row, as int64 columns
``ask_price_1, ask_size_1, bid_price_1, bid_size_1, ...`` for levels ``1..L`` (the
LOBSTER orderbook layout). Order-by-order data is large and read one day at a time,
so it is partitioned by source, symbol and date: reading a day opens one file.

``daily`` (OHLCV panel rows: ``date, symbol, open, high, low, close, volume`` and
optionally ``adj_close``) and ``text`` (``sentence, label``) are partitioned by
source only. A daily panel such as the S&P 500 set is 505 symbols of ~1,250 small
rows each; one file per symbol would make every cross-sectional query open 505
files and read 505 footers, while one file with 128k-row row groups lets DuckDB
prune on the min/max statistics of ``symbol`` and ``date`` instead (rows are
kept in the order given, so sorted input prunes best). The catalog
records each file's first and last date, so ``ls`` still says what period a source
covers. When ``ingest_table`` is given a ``symbol`` or ``date`` the dataset is one
series (or one day) of that source, kept in its own file next to the others.

Catalog
-------
``catalog.duckdb`` holds the table (and a ``store_info`` table with the format version)::

    datasets(kind, source, symbol, date, path, rows, levels,
             first_date, last_date, ingested_at, meta_json)

keyed by ``(kind, source, symbol, date)``; ``symbol`` and ``date`` are NULL for
source-level daily and text datasets. ``path`` is relative to the root, so a store
can be moved. ``ingested_at`` is UTC.

Atomicity
---------
A dataset is written to a hidden temporary file next to its final place and
fsync'ed; only then, inside one catalog transaction, are the old catalog rows
replaced, the temporary files renamed over the final names (``os.replace`` is
atomic on one filesystem) and the transaction committed; an exception at any
step rolls the catalog back and removes the temporary files. A file at a final
path is therefore always complete, and the catalog never lists a partial one. A
crash of the process (not an exception) between the renames and the commit can
leave new files under old catalog rows, or a new events file beside the old book.

Reading
-------
``read_events`` and ``read_book`` go straight to the file (its path follows from
the key) without opening the catalog, which costs about as much as reading a
day. Events and books are written in row groups of up to 2**20 rows with the
DELTA_BINARY_PACKED encoding and no codec: timestamps, ids and book levels change
little from row to row, so their deltas pack into a few bits, and unpacking them
is faster than decompressing. On the LOBSTER GOOG level-10 day (148k rows) that
reads ~30% faster than LZ4 or dictionary pages and over 2x faster than zstd, from
9.8 MB of files (8.5 MB with LZ4, 55 MB plain). Events are filled into a structured array
field by field, the book is interleaved into a row-major int64 array by Arrow
itself (``to_tensor``): no Python loop over rows, and the memory comes from
Arrow's pool. Daily and text tables are read rarely and compress well, so they
use zstd.

``query`` runs SQL in a private in-memory DuckDB connection (user SQL can never
change the catalog) over the views ``events``, ``book``, ``daily`` and ``text``,
built from the files the catalog lists, with the hive partition columns ``source``,
``symbol`` and ``date``; a view of a kind with no data is empty but has the
documented columns. The catalog itself is the view ``datasets``. (DuckDB would
also read ``key=value`` folders above the root as partitions; under such a root
the views add the key columns per file instead, which DuckDB prunes just as well.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tradelearn.data.schema import EVENT_DTYPE, EVENT_FIELDS, EVENT_SCHEMA, events_to_arrow
from tradelearn.errors import ConfigError, DataError

__all__ = [
    "CATALOG_NAME",
    "DAILY_COLUMNS",
    "KINDS",
    "TEXT_COLUMNS",
    "DatasetInfo",
    "DatasetNotFoundError",
    "Kind",
    "QueryError",
    "Store",
    "book_columns",
]

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

_BOOK_FIELDS: Final = ("ask_price", "ask_size", "bid_price", "bid_size")
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


def book_columns(levels: int) -> list[str]:
    """Return the book column names for ``levels`` levels, in LOBSTER order.

    Parameters
    ----------
    levels
        Number of price levels per side (positive).

    Returns
    -------
    list of str
        ``["ask_price_1", "ask_size_1", "bid_price_1", "bid_size_1", "ask_price_2", ...]``.
    """
    if levels <= 0:
        raise ConfigError(f"levels must be a positive integer, actually: {levels!r}")
    return [f"{name}_{level}" for level in range(1, levels + 1) for name in _BOOK_FIELDS]


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


class Store:
    """A folder of Parquet datasets with a DuckDB catalog.

    Parameters
    ----------
    root
        The store folder (see :func:`tradelearn.config.store_dir`). It is created
        on the first ingestion; reading an absent store finds it empty.

    Examples
    --------
    >>> store = Store(tmp_path)  # doctest: +SKIP
    >>> store.ingest_events("lobster", "GOOG", "2012-06-21", events, book=book)  # doctest: +SKIP
    >>> store.query("SELECT symbol, count(*) AS n FROM events GROUP BY symbol")  # doctest: +SKIP
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.catalog_path = self.root / CATALOG_NAME

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- paths --------------------------------------------------------------------------

    def path_for(
        self,
        kind: str,
        source: str,
        symbol: str | None = None,
        date: dt.date | str | None = None,
    ) -> Path:
        """Return where the dataset with this key lives (whether or not it exists).

        Parameters
        ----------
        kind
            One of :data:`KINDS`.
        source, symbol, date
            The dataset key; events and book need all three.
        """
        kind_ = _check_kind(kind)
        source = _check_name("source", source)
        if kind_ in TABLE_KINDS:
            sym = None if symbol is None else _check_name("symbol", symbol)
            day = None if date is None else _as_date(date)
            parts = [] if sym is None else [f"symbol-{sym}"]
            if day is not None:
                parts.append(f"date-{day.isoformat()}")
            name = PART_NAME if not parts else "part-" + "-".join(parts) + ".parquet"
            return self.root / kind_ / f"source={source}" / name
        if symbol is None or date is None:
            raise ConfigError(
                f"{kind_} datasets are keyed by source, symbol and date; "
                f"got symbol={symbol!r}, date={date!r}"
            )
        sym = _check_name("symbol", symbol)
        day = _as_date(date)
        return (
            self.root
            / kind_
            / f"source={source}"
            / f"symbol={sym}"
            / f"date={day.isoformat()}"
            / PART_NAME
        )

    # -- writing ------------------------------------------------------------------------

    def ingest_events(
        self,
        source: str,
        symbol: str,
        date: dt.date | str,
        events: np.ndarray,
        *,
        book: np.ndarray | None = None,
        levels: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> list[Path]:
        """Store one day of order-by-order events, and optionally its book.

        Re-ingesting the same ``(source, symbol, date)`` replaces the events; a
        book previously stored for that day is replaced by ``book``, or removed
        when ``book`` is ``None``, so events and book always belong together.

        Parameters
        ----------
        source, symbol, date
            The dataset key. ``source`` and ``symbol`` take letters, digits and
            ``. _ - ^ +``; ``date`` is a :class:`datetime.date` or ISO string.
        events
            Array of :data:`~tradelearn.data.schema.EVENT_DTYPE`.
        book
            Integer array of shape ``(len(events), 4 * levels)``: row ``k`` is the
            book after event ``k``, in LOBSTER column order (see :func:`book_columns`).
        levels
            Book depth; inferred from ``book`` when omitted.
        meta
            JSON-serialisable notes kept in the catalog (and in the file).

        Returns
        -------
        list of Path
            The events file, then the book file when one was given.
        """
        source = _check_name("source", source)
        symbol = _check_name("symbol", symbol)
        day = _as_date(date)
        if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE or events.ndim != 1:
            got = (
                type(events).__name__
                if not isinstance(events, np.ndarray)
                else f"{events.dtype}, ndim {events.ndim}"
            )
            raise DataError(
                "events must be a 1-D array", field="events", expected="EVENT_DTYPE", got=got
            )
        n = len(events)
        book_table: pa.Table | None = None
        if book is not None:
            levels = _check_book(book, n, levels)
            book_table = _book_to_arrow(book, levels)
        elif levels is not None and (not isinstance(levels, int) or levels <= 0):
            raise ConfigError(f"levels must be a positive integer, actually: {levels!r}")
        meta_json = _meta_json(meta)
        info = {
            "format": FORMAT_VERSION,
            "source": source,
            "symbol": symbol,
            "date": day.isoformat(),
        }

        writes: list[tuple[Kind, pa.Table, int | None]] = [
            ("events", events_to_arrow(events), levels)
        ]
        if book_table is not None:
            writes.append(("book", book_table, levels))
        staged: list[_Staged] = []
        try:
            for kind, table, lv in writes:
                final = self.path_for(kind, source, symbol, day)
                meta_blob = {**info, "kind": kind, "levels": lv, "meta": json.loads(meta_json)}
                staged.append(
                    _Staged(
                        key=(kind, source, symbol, day),
                        final=final,
                        temp=_write_temp(table, final, meta_blob, _FAST_WRITE),
                        rows=n,
                        levels=lv,
                        first_date=day,
                        last_date=day,
                    )
                )
            removals: list[tuple[Kind, str, str | None, dt.date | None]] = []
            if book_table is None:
                removals.append(("book", source, symbol, day))
            self._commit(staged, removals, meta_json)
        finally:
            for item in staged:
                item.temp.unlink(missing_ok=True)
        return [item.final for item in staged]

    def ingest_table(
        self,
        kind: str,
        source: str,
        table: pa.Table,
        *,
        symbol: str | None = None,
        date: dt.date | str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Path:
        """Store a daily panel or a text table.

        Parameters
        ----------
        kind
            ``"daily"`` (columns :data:`DAILY_COLUMNS`, more allowed) or ``"text"``
            (columns :data:`TEXT_COLUMNS`, more allowed).
        source
            Where the table came from; it becomes the hive partition ``source``,
            so the table itself must not have a ``source`` column.
        table
            The rows, kept in the given order.
        symbol, date
            Narrow the key to one series or one day. A table lacking a ``symbol``
            (or ``date``) column gets it as a constant column; one that has it must
            hold only that value.
        meta
            JSON-serialisable notes kept in the catalog.

        Returns
        -------
        Path
            The Parquet file written.
        """
        kind_ = _check_kind(kind)
        if kind_ not in TABLE_KINDS:
            raise ConfigError(
                f"ingest_table takes kind 'daily' or 'text', actually: {kind!r} "
                "(use ingest_events for events and book)"
            )
        source = _check_name("source", source)
        sym = None if symbol is None else _check_name("symbol", symbol)
        day = None if date is None else _as_date(date)
        if not isinstance(table, pa.Table):
            raise DataError(
                f"{kind_} data must be a pyarrow.Table",
                field="table",
                expected="pyarrow.Table",
                got=type(table).__name__,
            )
        table = _prepare_table(kind_, table, sym, day)
        first_date, last_date = _date_range(table)
        meta_json = _meta_json(meta)
        final = self.path_for(kind_, source, sym, day)
        meta_blob = {
            "format": FORMAT_VERSION,
            "kind": kind_,
            "source": source,
            "symbol": sym,
            "date": None if day is None else day.isoformat(),
            "meta": json.loads(meta_json),
        }
        temp = _write_temp(table, final, meta_blob, _COMPACT_WRITE)
        try:
            staged = _Staged(
                key=(kind_, source, sym, day),
                final=final,
                temp=temp,
                rows=table.num_rows,
                levels=None,
                first_date=first_date,
                last_date=last_date,
            )
            self._commit([staged], [], meta_json)
        finally:
            temp.unlink(missing_ok=True)
        return final

    def _commit(
        self,
        staged: Sequence[_Staged],
        removals: Sequence[tuple[Kind, str, str | None, dt.date | None]],
        meta_json: str,
    ) -> None:
        """Swap catalog rows and files in one transaction (see the module notes)."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        doomed: list[Path] = []
        with self._connect(create=True) as con:
            con.begin()
            try:
                for key in removals:
                    rows = con.execute(
                        f"SELECT path FROM datasets WHERE {_KEY_MATCH}", list(key)
                    ).fetchall()
                    doomed.extend(self.root / str(row[0]) for row in rows)
                    con.execute(f"DELETE FROM datasets WHERE {_KEY_MATCH}", list(key))
                for item in staged:
                    con.execute(f"DELETE FROM datasets WHERE {_KEY_MATCH}", list(item.key))
                    con.execute(
                        f"INSERT INTO datasets ({_CATALOG_COLUMNS}) VALUES ({_PLACEHOLDERS})",
                        [
                            *item.key,
                            item.final.relative_to(self.root).as_posix(),
                            item.rows,
                            item.levels,
                            item.first_date,
                            item.last_date,
                            now,
                            meta_json,
                        ],
                    )
                for item in staged:
                    os.replace(item.temp, item.final)
            except BaseException:
                con.rollback()
                raise
            con.commit()
        # Only once the catalog no longer lists them.
        for path in doomed:
            path.unlink(missing_ok=True)
            _remove_empty_dirs(path.parent, stop=self.root)

    # -- catalog ------------------------------------------------------------------------

    @contextmanager
    def _connect(self, *, create: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the catalog; create the store and its tables when ``create``."""
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.catalog_path))
        except duckdb.Error as exc:
            raise ConfigError(
                f"cannot open the store catalog '{self.catalog_path}': {exc}"
            ) from exc
        try:
            if create:
                con.execute(_CATALOG_DDL)
                con.execute(
                    "INSERT OR IGNORE INTO store_info VALUES ('format_version', ?)",
                    [str(FORMAT_VERSION)],
                )
            yield con
        finally:
            con.close()

    def ls(self, kind: str | None = None) -> list[DatasetInfo]:
        """List the datasets held, sorted by kind, source, symbol and date.

        Parameters
        ----------
        kind
            Only datasets of this kind.
        """
        if kind is not None:
            _check_kind(kind)
        if not self.catalog_path.exists():
            return []
        with self._connect(create=False) as con:
            has_table = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'datasets'"
            ).fetchall()[0][0]
            if not has_table:
                return []
            where = "" if kind is None else "WHERE kind = ?"
            rows = con.execute(
                f"SELECT {_CATALOG_COLUMNS} FROM datasets {where} "
                "ORDER BY array_position(['events', 'book', 'daily', 'text'], kind), "
                "source, symbol NULLS FIRST, date NULLS FIRST",
                [] if kind is None else [kind],
            ).fetchall()
        return [
            DatasetInfo(
                kind=r[0],
                source=r[1],
                symbol=r[2],
                date=r[3],
                path=self.root / r[4],
                rows=int(r[5]),
                levels=None if r[6] is None else int(r[6]),
                first_date=r[7],
                last_date=r[8],
                ingested_at=r[9].replace(tzinfo=dt.UTC),
                meta_json=r[10],
            )
            for r in rows
        ]

    # -- reading ------------------------------------------------------------------------

    def read_events(self, source: str, symbol: str, date: dt.date | str) -> np.ndarray:
        """Read one day of events back as an :data:`~tradelearn.data.schema.EVENT_DTYPE` array.

        Raises
        ------
        DatasetNotFoundError
            The store holds no such day; the message lists what it holds.
        """
        path = self.path_for("events", source, symbol, date)
        table = self._read_parquet(path, ("events", source, symbol, date))
        if not table.schema.equals(EVENT_SCHEMA, check_metadata=False):
            raise DataError(
                "events file does not have the event schema",
                path=path,
                expected=str(EVENT_SCHEMA.types),
                got=str(table.schema.types),
            )
        out = _pool_empty(table.num_rows, EVENT_DTYPE)
        for name, _ in EVENT_FIELDS:
            _fill(out[name], table.column(name), path, name)
        return out

    def read_book(self, source: str, symbol: str, date: dt.date | str) -> np.ndarray:
        """Read one day of book snapshots back as an int64 array of shape ``(n, 4 * levels)``.

        Raises
        ------
        DatasetNotFoundError
            The store holds no book for that day; the message lists what it holds.
        """
        path = self.path_for("book", source, symbol, date)
        table = self._read_parquet(path, ("book", source, symbol, date))
        width = table.num_columns
        if width == 0 or width % 4 or table.column_names != book_columns(width // 4):
            raise DataError(
                "book file does not have the book columns",
                path=path,
                expected="ask_price_1, ask_size_1, bid_price_1, bid_size_1, ...",
                got=", ".join(table.column_names[:8]),
            )
        for name, column in zip(table.column_names, table.columns, strict=True):
            if column.null_count or column.type != pa.int64():
                raise DataError(
                    "book column is not a null-free int64 column",
                    path=path,
                    field=name,
                    expected="int64 without nulls",
                    got=f"{column.type}, {column.null_count} nulls",
                )
        # Arrow's own row-major interleave beats a NumPy copy per column by ~30%.
        # One row group (days under 2**20 events) needs no joining first.
        batches = table.combine_chunks().to_batches() if table.num_rows else []
        if not batches:
            return np.empty((0, width), dtype=np.int64)
        out: np.ndarray = np.asarray(batches[0].to_tensor(row_major=True, null_to_nan=False))
        return out

    def read_table(
        self,
        kind: str,
        source: str,
        *,
        symbol: str | None = None,
        date: dt.date | str | None = None,
    ) -> pa.Table:
        """Read a daily or text dataset back as stored (without the ``source`` column)."""
        kind_ = _check_kind(kind)
        path = self.path_for(kind_, source, symbol, date)
        return self._read_parquet(path, (kind_, source, symbol, date))

    def _read_parquet(
        self, path: Path, asked: tuple[str, str, str | None, dt.date | str | None]
    ) -> pa.Table:
        try:
            # One file, so no dataset discovery; threads decode columns in parallel.
            return pq.ParquetFile(path).read(use_threads=True)
        except FileNotFoundError:
            raise self._not_found(*asked) from None
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"cannot read stored dataset: {exc}", path=path) from exc

    def _not_found(
        self, kind: str, source: str, symbol: str | None, date: dt.date | str | None
    ) -> DatasetNotFoundError:
        day = None if date is None else _as_date(date)
        asked = _key_text(kind, source, symbol, day)
        held = self.ls()
        if not held:
            return DatasetNotFoundError(
                f"no dataset {asked} in store '{self.root}': the store is empty"
            )
        same = [info.key for info in held if info.kind == kind]
        hint = ""
        if kind == "book" and any(i.key == _key_text("events", source, symbol, day) for i in held):
            hint = " (its events were ingested without a book: pass book= to ingest_events)"
        if same:
            listed = ", ".join(same[:_MAX_LISTED])
            more = f" and {len(same) - _MAX_LISTED} more" if len(same) > _MAX_LISTED else ""
            holds = f"the store holds {kind}: {listed}{more}"
        else:
            holds = f"the store holds no {kind} datasets, only {_kind_counts(held)}"
        return DatasetNotFoundError(f"no dataset {asked} in store '{self.root}'{hint}; {holds}")

    # -- SQL ----------------------------------------------------------------------------

    def query(
        self, sql: str, params: Sequence[object] | Mapping[str, object] | None = None
    ) -> pa.Table:
        """Run SQL over the store and return the result as an Arrow table.

        The views ``events``, ``book``, ``daily`` and ``text`` cover every dataset
        of their kind, with the hive partition columns ``source`` (all kinds) and
        ``symbol``, ``date`` (events and book); ``datasets`` is the catalog.

        Parameters
        ----------
        sql
            One DuckDB SQL query, e.g. ``SELECT symbol, count(*) FROM events GROUP BY symbol``.
        params
            Values for ``?`` or ``$name`` placeholders.

        Raises
        ------
        QueryError
            DuckDB rejected or failed the query; the message is DuckDB's, followed by
            what the store holds.
        """
        held = self.ls()
        con = duckdb.connect()
        try:
            # DuckDB reads every key=value folder of a path as a partition, the
            # root's ancestors included; under such a root, name the columns instead.
            hive = "=" not in str(self.root.absolute())
            for kind in KINDS:
                con.execute(_view_sql(kind, [i for i in held if i.kind == kind], hive=hive))
            con.register("datasets", _catalog_table(held))
            try:
                rel = con.sql(sql, params=params)
                return pa.table({}) if rel is None else rel.to_arrow_table()
            except duckdb.Error as exc:
                holds = _kind_counts(held) if held else "nothing (the store is empty)"
                raise QueryError(f"{exc}\n(store '{self.root}' holds {holds})") from None
        finally:
            con.close()


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
