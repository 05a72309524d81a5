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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
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

from tradelearn.data.schema import book_columns
from tradelearn.data.store_format import (  # noqa: F401 - re-exported
    _CATALOG_COLUMNS,
    _CATALOG_DDL,
    _COMPACT_WRITE,
    _FAST_WRITE,
    _KEY_MATCH,
    _MAX_LISTED,
    _PLACEHOLDERS,
    CATALOG_NAME,
    DAILY_COLUMNS,
    FORMAT_VERSION,
    KINDS,
    METADATA_KEY,
    PART_NAME,
    TABLE_KINDS,
    TEXT_COLUMNS,
    DatasetInfo,
    DatasetNotFoundError,
    Kind,
    QueryError,
    _as_date,
    _book_to_arrow,
    _catalog_table,
    _check_book,
    _check_kind,
    _check_name,
    _date_range,
    _fill,
    _key_text,
    _kind_counts,
    _meta_json,
    _pool_empty,
    _prepare_table,
    _remove_empty_dirs,
    _Staged,
    _view_sql,
    _write_temp,
)


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
