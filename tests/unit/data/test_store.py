"""Tests of the Parquet store and its DuckDB catalog."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tradelearn.data.store as store_module
from tradelearn.data.schema import EVENT_DTYPE, EventType
from tradelearn.data.store import (
    DatasetInfo,
    DatasetNotFoundError,
    QueryError,
    Store,
    book_columns,
)
from tradelearn.errors import ConfigError, DataError, TradelearnError

DAY = dt.date(2012, 6, 21)


def make_events(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    events = np.zeros(n, dtype=EVENT_DTYPE)
    ts = 1_340_285_400_000_000_000 + np.cumsum(rng.integers(0, 10**6, n))
    events["ts_exchange"] = ts
    events["ts_local"] = ts + rng.integers(0, 1000, n)
    events["event"] = rng.integers(EventType.ADD, EventType.CROSS + 1, n)
    events["side"] = rng.choice(np.array([-1, 1], dtype=np.int8), n)
    events["order_id"] = rng.integers(1, 2**40, n)
    events["price"] = rng.integers(5_700_000, 5_900_000, n) // 100 * 100
    events["qty"] = rng.integers(1, 1000, n)
    events["flags"] = rng.integers(0, 8, n)
    return events


def make_book(n: int, levels: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-(2**62), 2**62, size=(n, 4 * levels), dtype=np.int64)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def daily_table() -> pa.Table:
    dates = [dt.date(2013, 2, 8), dt.date(2013, 2, 11), dt.date(2013, 2, 12)]
    return pa.table(
        {
            "date": pa.array(dates * 2, pa.date32()),
            "symbol": ["AAL"] * 3 + ["AAPL"] * 3,
            "open": [14.89, 14.45, 14.30, 67.0, 68.1, 68.0],
            "high": [14.89, 14.51, 14.94, 67.2, 69.3, 68.4],
            "low": [14.25, 14.10, 14.25, 66.5, 67.6, 66.9],
            "close": [14.75, 14.46, 14.27, 67.1, 68.6, 67.0],
            "volume": pa.array([8407500, 8882000, 8126000, 1, 2, 3], pa.int64()),
        }
    )


# -- events and book round trips ---------------------------------------------------------


def test_read_events_after_ingest_returns_identical_array(store: Store) -> None:
    events = make_events(5000)
    store.ingest_events("lobster", "GOOG", DAY, events)

    got = store.read_events("lobster", "GOOG", DAY)

    assert got.dtype == EVENT_DTYPE
    np.testing.assert_array_equal(got, events)
    assert got.flags.writeable


def test_read_book_after_ingest_returns_identical_c_ordered_int64_array(store: Store) -> None:
    events = make_events(3000)
    book = make_book(3000, levels=10)
    store.ingest_events("lobster", "GOOG", DAY, events, book=book)

    got = store.read_book("lobster", "GOOG", DAY)

    assert got.dtype == np.int64
    assert got.shape == (3000, 40)
    assert got.flags.c_contiguous and got.flags.writeable
    np.testing.assert_array_equal(got, book)


def test_read_when_file_has_several_row_groups_then_chunks_are_joined_in_order(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(store_module._FAST_WRITE, "row_group_size", 333)
    events, book = make_events(2000), make_book(2000, levels=2)
    paths = store.ingest_events("lobster", "GOOG", DAY, events, book=book)

    assert pq.ParquetFile(paths[0]).metadata.num_row_groups > 1
    np.testing.assert_array_equal(store.read_events("lobster", "GOOG", DAY), events)
    np.testing.assert_array_equal(store.read_book("lobster", "GOOG", DAY), book)


def test_read_after_ingest_keeps_extreme_integers_exactly(store: Store) -> None:
    # Delta encoding must survive deltas that overflow int64.
    events = np.zeros(6, dtype=EVENT_DTYPE)
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    for name in ("ts_exchange", "ts_local", "order_id", "price", "qty"):
        events[name] = [lo, hi, lo, 0, hi, -1]
    events["event"] = [0, 255, 0, 255, 1, 2]
    events["side"] = [-128, 127, -128, 0, 127, -1]
    events["flags"] = [255, 0, 255, 0, 1, 2]
    book = np.array([[lo, hi, lo, hi]] * 3 + [[hi, lo, hi, lo]] * 3, dtype=np.int64)
    store.ingest_events("edge", "MAX", DAY, events, book=book)

    assert store.read_events("edge", "MAX", DAY).tobytes() == events.tobytes()
    np.testing.assert_array_equal(store.read_book("edge", "MAX", DAY), book)


def test_ingest_events_when_empty_then_reads_back_empty(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(0), book=make_book(0, 1))

    assert store.read_events("lobster", "GOOG", DAY).shape == (0,)
    assert store.read_book("lobster", "GOOG", DAY).shape == (0, 4)


def test_ingest_events_writes_hive_partitioned_files_under_root(store: Store) -> None:
    paths = store.ingest_events("lobster", "GOOG", DAY, make_events(10), book=make_book(10, 1))

    assert paths == [
        store.root / "events/source=lobster/symbol=GOOG/date=2012-06-21/part-0.parquet",
        store.root / "book/source=lobster/symbol=GOOG/date=2012-06-21/part-0.parquet",
    ]
    assert all(path.is_file() for path in paths)
    assert (store.root / "catalog.duckdb").is_file()
    assert pq.read_schema(paths[1]).names == book_columns(1)


def test_read_events_accepts_the_date_as_iso_string(store: Store) -> None:
    events = make_events(10)
    store.ingest_events("lobster", "GOOG", "2012-06-21", events)

    np.testing.assert_array_equal(store.read_events("lobster", "GOOG", DAY), events)
    np.testing.assert_array_equal(store.read_events("lobster", "GOOG", "2012-06-21"), events)


def test_store_when_folder_is_moved_then_reads_and_lists_from_new_place(tmp_path: Path) -> None:
    events = make_events(50)
    Store(tmp_path / "a").ingest_events("lobster", "GOOG", DAY, events)
    shutil.move(tmp_path / "a", tmp_path / "b")

    moved = Store(tmp_path / "b")

    np.testing.assert_array_equal(moved.read_events("lobster", "GOOG", DAY), events)
    assert moved.ls()[0].path.is_relative_to(tmp_path / "b")


# -- re-ingestion and atomicity -------------------------------------------------------------


def test_ingest_events_when_reingested_then_file_and_catalog_row_are_replaced(
    store: Store,
) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(100, seed=1), meta={"v": 1})
    newer = make_events(70, seed=2)
    store.ingest_events("lobster", "GOOG", DAY, newer, meta={"v": 2})

    np.testing.assert_array_equal(store.read_events("lobster", "GOOG", DAY), newer)
    [info] = store.ls()
    assert (info.rows, info.meta) == (70, {"v": 2})


def test_ingest_events_when_reingested_without_book_then_stale_book_is_removed(
    store: Store,
) -> None:
    paths = store.ingest_events("lobster", "GOOG", DAY, make_events(20), book=make_book(20, 1))
    store.ingest_events("lobster", "GOOG", DAY, make_events(5))

    assert [info.kind for info in store.ls()] == ["events"]
    assert not paths[1].exists()
    assert not (store.root / "book").exists()  # empty folders go too
    with pytest.raises(DatasetNotFoundError):
        store.read_book("lobster", "GOOG", DAY)


def test_ingest_events_when_parquet_write_fails_then_old_data_stays_and_no_temp_is_left(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = make_events(30, seed=1)
    store.ingest_events("lobster", "GOOG", DAY, old)

    def broken_write(table: pa.Table, where: Path, **kwargs: object) -> None:
        Path(where).write_bytes(b"PAR1 half a file")  # a crash mid-write
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        store.ingest_events("lobster", "GOOG", DAY, make_events(40, seed=2))

    monkeypatch.undo()
    np.testing.assert_array_equal(store.read_events("lobster", "GOOG", DAY), old)
    assert store.ls()[0].rows == 30
    leftovers = [p for p in store.root.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []


def test_ingest_events_when_rename_fails_then_catalog_is_rolled_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = make_events(30, seed=1)
    store.ingest_events("lobster", "GOOG", DAY, old, meta={"v": 1})

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("rename refused")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename refused"):
        store.ingest_events("lobster", "GOOG", DAY, make_events(40, seed=2), meta={"v": 2})

    monkeypatch.undo()
    [info] = store.ls()
    assert (info.rows, info.meta) == (30, {"v": 1})
    np.testing.assert_array_equal(store.read_events("lobster", "GOOG", DAY), old)
    assert not [p for p in store.root.rglob(".*") if p.is_file()]


# -- ls ---------------------------------------------------------------------------------------


def test_ls_lists_every_ingested_dataset_in_key_order(store: Store) -> None:
    store.ingest_table("daily", "sp500", daily_table())
    store.ingest_events("lobster", "GOOG", DAY, make_events(20), book=make_book(20, 10))
    store.ingest_events("lobster", "AAPL", DAY, make_events(15), levels=1, meta={"note": "x"})

    infos = store.ls()

    assert [info.key for info in infos] == [
        "events/lobster/AAPL/2012-06-21",
        "events/lobster/GOOG/2012-06-21",
        "book/lobster/GOOG/2012-06-21",
        "daily/sp500",
    ]
    aapl, goog, book, daily = infos
    assert isinstance(aapl, DatasetInfo)
    assert (aapl.rows, aapl.levels, aapl.meta) == (15, 1, {"note": "x"})
    assert (goog.rows, goog.levels, book.levels) == (20, 10, 10)
    assert (daily.symbol, daily.date, daily.rows) == (None, None, 6)
    assert (daily.first_date, daily.last_date) == (dt.date(2013, 2, 8), dt.date(2013, 2, 12))
    assert all(info.path.is_file() for info in infos)
    assert all(info.ingested_at.tzinfo is dt.UTC for info in infos)
    assert [info.key for info in store.ls("book")] == ["book/lobster/GOOG/2012-06-21"]


def test_ls_when_store_does_not_exist_then_empty_and_nothing_created(tmp_path: Path) -> None:
    store = Store(tmp_path / "nowhere")

    assert store.ls() == []
    assert store.query("SELECT count(*) AS n FROM events").column("n").to_pylist() == [0]
    assert not (tmp_path / "nowhere").exists()


def test_dataset_info_is_frozen(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(3))
    info = store.ls()[0]

    with pytest.raises(AttributeError):
        info.rows = 4  # type: ignore[misc]


# -- query ------------------------------------------------------------------------------------


def test_query_counts_events_per_symbol_from_hive_partition_columns(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(20))
    store.ingest_events("lobster", "AAPL", DAY, make_events(15))
    store.ingest_events("lobster", "AAPL", DAY + dt.timedelta(days=1), make_events(5))

    result = store.query("SELECT symbol, count(*) AS n FROM events GROUP BY symbol ORDER BY symbol")

    assert result.to_pydict() == {"symbol": ["AAPL", "GOOG"], "n": [20, 20]}
    dates = store.query("SELECT DISTINCT date, source FROM events ORDER BY date").to_pydict()
    assert dates == {"date": [DAY, DAY + dt.timedelta(days=1)], "source": ["lobster"] * 2}


def test_query_event_columns_keep_their_types_and_values(store: Store) -> None:
    events = make_events(100)
    store.ingest_events("lobster", "GOOG", DAY, events)

    result = store.query("SELECT * FROM events ORDER BY ts_exchange")

    assert result.schema.field("event").type == pa.uint8()
    assert result.schema.field("side").type == pa.int8()
    np.testing.assert_array_equal(result.column("price").to_numpy(), events["price"])


def test_query_book_view_spans_days_of_different_depth(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(4), book=make_book(4, 10))
    store.ingest_events("lobster", "AAPL", DAY, make_events(3), book=make_book(3, 1))

    result = store.query(
        "SELECT symbol, count(*) AS n, count(ask_price_10) AS deep FROM book "
        "GROUP BY symbol ORDER BY symbol"
    )

    assert result.to_pydict() == {"symbol": ["AAPL", "GOOG"], "n": [3, 4], "deep": [0, 4]}


def test_query_when_kind_has_no_data_then_view_is_empty_with_its_columns(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(4))

    for kind, column in (("daily", "close"), ("text", "sentence"), ("book", "bid_size_1")):
        result = store.query(f"SELECT {column}, source FROM {kind}")
        assert result.num_rows == 0, kind


def test_query_datasets_view_lists_the_catalog(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(4), book=make_book(4, 2))

    result = store.query("SELECT kind, rows, levels FROM datasets ORDER BY kind")

    assert result.to_pydict() == {"kind": ["book", "events"], "rows": [4, 4], "levels": [2, 2]}


def test_query_accepts_parameters(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(10))
    store.ingest_events("lobster", "AAPL", DAY, make_events(3))

    result = store.query("SELECT count(*) AS n FROM events WHERE symbol = ?", ["AAPL"])

    assert result.column("n").to_pylist() == [3]


def test_query_when_sql_is_bad_then_query_error_carries_duckdb_message(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(4))

    with pytest.raises(QueryError, match="syntax error") as info:
        store.query("SELEC symbol FROM events")

    assert isinstance(info.value, TradelearnError)
    assert "events (1)" in str(info.value)


def test_query_when_column_is_unknown_then_error_names_it_and_what_is_held(store: Store) -> None:
    store.ingest_table("daily", "sp500", daily_table())

    with pytest.raises(QueryError, match="no_such_column") as info:
        store.query("SELECT no_such_column FROM daily")

    assert "daily (1)" in str(info.value)


def test_query_cannot_change_the_catalog(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(4))

    store.query("CREATE TABLE scratch AS SELECT 1 AS x")
    with pytest.raises(QueryError):
        store.query("DROP TABLE datasets")

    assert [info.key for info in store.ls()] == ["events/lobster/GOOG/2012-06-21"]


# -- errors -----------------------------------------------------------------------------------


def test_read_events_when_not_ingested_then_error_names_dataset_and_what_is_held(
    store: Store,
) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(4))

    with pytest.raises(DatasetNotFoundError) as info:
        store.read_events("lobster", "AAPL", DAY)

    message = str(info.value)
    assert "events/lobster/AAPL/2012-06-21" in message
    assert "events/lobster/GOOG/2012-06-21" in message
    assert isinstance(info.value, ConfigError)


def test_read_events_when_store_is_empty_then_error_says_so(store: Store) -> None:
    with pytest.raises(DatasetNotFoundError, match="the store is empty"):
        store.read_events("lobster", "GOOG", DAY)


def test_read_book_when_events_came_without_book_then_error_says_to_pass_book(
    store: Store,
) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(4))

    with pytest.raises(DatasetNotFoundError, match=r"without a book.*only events \(1\)"):
        store.read_book("lobster", "GOOG", DAY)


def test_read_events_when_many_held_then_error_lists_a_few_and_counts_the_rest(
    store: Store,
) -> None:
    for day in range(1, 13):
        store.ingest_events("gen", "SYN", dt.date(2024, 1, day), make_events(1))

    with pytest.raises(DatasetNotFoundError, match="and 2 more"):
        store.read_events("gen", "SYN", dt.date(2024, 2, 1))


def test_ingest_events_when_dtype_is_not_event_dtype_then_data_error(store: Store) -> None:
    with pytest.raises(DataError, match="EVENT_DTYPE"):
        store.ingest_events("lobster", "GOOG", DAY, np.zeros(3, dtype=np.int64))
    assert not store.root.exists()


@pytest.mark.parametrize(
    ("book", "levels", "match"),
    [
        (np.zeros((5, 8), dtype=np.int64), None, "one row per event"),
        (np.zeros((4, 6), dtype=np.int64), None, "4 columns per level"),
        (np.zeros((4, 8), dtype=np.int64), 3, "does not match levels=3"),
        (np.zeros((4, 8), dtype=np.float64), None, "integers"),
        (np.zeros(32, dtype=np.int64), None, "2-D"),
    ],
)
def test_ingest_events_when_book_does_not_fit_then_data_error(
    store: Store, book: np.ndarray, levels: int | None, match: str
) -> None:
    with pytest.raises(DataError, match=match):
        store.ingest_events("lobster", "GOOG", DAY, make_events(4), book=book, levels=levels)


def test_ingest_events_when_book_is_int32_then_stored_as_int64(store: Store) -> None:
    book = make_book(6, 1).astype(np.int32)
    store.ingest_events("lobster", "GOOG", DAY, make_events(6), book=book)

    got = store.read_book("lobster", "GOOG", DAY)

    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, book)


@pytest.mark.parametrize("name", ["", "../up", "a/b", "x=y", ".hidden", "-dash", "sp ace"])
def test_ingest_events_when_symbol_is_not_path_safe_then_config_error(
    store: Store, name: str
) -> None:
    with pytest.raises(ConfigError, match="symbol must be"):
        store.ingest_events("lobster", name, DAY, make_events(1))


def test_ingest_events_when_date_is_malformed_then_config_error(store: Store) -> None:
    with pytest.raises(ConfigError, match="date must be"):
        store.ingest_events("lobster", "GOOG", "21/06/2012", make_events(1))


def test_ingest_events_when_meta_is_not_json_then_config_error(store: Store) -> None:
    with pytest.raises(ConfigError, match="JSON"):
        store.ingest_events("lobster", "GOOG", DAY, make_events(1), meta={"x": object()})


def test_read_events_when_file_is_corrupt_then_data_error_names_file(store: Store) -> None:
    [path] = store.ingest_events("lobster", "GOOG", DAY, make_events(10))
    path.write_bytes(b"not parquet")

    with pytest.raises(DataError, match=r"part-0\.parquet"):
        store.read_events("lobster", "GOOG", DAY)


def test_unknown_kind_is_a_config_error(store: Store) -> None:
    with pytest.raises(ConfigError, match="kind must be one of"):
        store.ls("ticks")
    with pytest.raises(ConfigError, match="ingest_events"):
        store.ingest_table("events", "lobster", pa.table({"x": [1]}))


# -- daily and text tables --------------------------------------------------------------------


def test_ingest_table_daily_panel_round_trips_in_one_source_file(store: Store) -> None:
    table = daily_table()

    path = store.ingest_table("daily", "sp500", table, meta={"adjusted": "split"})

    assert path == store.root / "daily/source=sp500/part-0.parquet"
    assert store.read_table("daily", "sp500").equals(table)
    result = store.query(
        "SELECT symbol, max(close) AS top FROM daily WHERE source = 'sp500' "
        "GROUP BY symbol ORDER BY symbol"
    )
    assert result.to_pydict() == {"symbol": ["AAL", "AAPL"], "top": [14.75, 68.6]}


def test_ingest_table_daily_with_symbol_adds_symbol_column_and_own_file(store: Store) -> None:
    table = daily_table().filter(pc.equal(daily_table().column("symbol"), "AAL"))
    series = table.drop_columns(["symbol"])
    store.ingest_table("daily", "sp500", daily_table())

    path = store.ingest_table("daily", "djia", series, symbol="DJI")

    assert path.name == "part-symbol-DJI.parquet"
    assert (
        store.read_table("daily", "djia", symbol="DJI").column("symbol").to_pylist() == ["DJI"] * 3
    )
    result = store.query(
        "SELECT source, count(DISTINCT symbol) AS n FROM daily GROUP BY 1 ORDER BY 1"
    )
    assert result.to_pydict() == {"source": ["djia", "sp500"], "n": [1, 2]}


def test_ingest_table_daily_when_dates_are_strings_then_stored_as_dates(store: Store) -> None:
    table = daily_table().set_column(0, "date", pa.array(["2013-02-08"] * 6))

    store.ingest_table("daily", "sp500", table)

    assert store.read_table("daily", "sp500").schema.field("date").type == pa.date32()
    assert store.ls()[0].first_date == dt.date(2013, 2, 8)


def test_ingest_table_when_symbol_column_disagrees_with_argument_then_data_error(
    store: Store,
) -> None:
    with pytest.raises(DataError, match=r"3 rows .* disagree with the symbol argument"):
        store.ingest_table("daily", "sp500", daily_table(), symbol="AAL")


def test_ingest_table_when_required_columns_missing_then_error_names_them(store: Store) -> None:
    with pytest.raises(DataError, match=r"lacks columns \['close', 'volume'\]"):
        store.ingest_table("daily", "sp500", daily_table().drop_columns(["close", "volume"]))


def test_ingest_table_when_table_has_source_column_then_data_error(store: Store) -> None:
    with pytest.raises(DataError, match="'source' column"):
        store.ingest_table(
            "text", "fpb", pa.table({"sentence": ["a"], "label": ["x"], "source": ["y"]})
        )


def test_ingest_table_text_round_trips_and_is_queryable(store: Store) -> None:
    table = pa.table(
        {
            "sentence": ["Profit rose.", "Sales fell.", "Nothing new."],
            "label": ["pos", "neg", "neu"],
        }
    )

    store.ingest_table("text", "phrasebank", table)
    store.ingest_table("text", "phrasebank", table.slice(0, 2))  # replaces

    assert store.read_table("text", "phrasebank").equals(table.slice(0, 2))
    result = store.query("SELECT label, count(*) AS n FROM text GROUP BY label ORDER BY label")
    assert result.to_pydict() == {"label": ["neg", "pos"], "n": [1, 1]}
    [info] = store.ls("text")
    assert (info.rows, info.first_date) == (2, None)


def test_read_table_when_not_ingested_then_error_lists_held_kinds(store: Store) -> None:
    store.ingest_events("lobster", "GOOG", DAY, make_events(2))

    with pytest.raises(DatasetNotFoundError, match=r"daily/sp500.*no daily datasets"):
        store.read_table("daily", "sp500")


# -- properties -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(tmp_path_factory.mktemp("prop") / "store")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=hnp.arrays(EVENT_DTYPE, st.integers(0, 300)))
def test_any_event_array_round_trips_exactly(shared_store: Store, events: np.ndarray) -> None:
    shared_store.ingest_events("prop", "ANY", DAY, events)

    got = shared_store.read_events("prop", "ANY", DAY)

    assert got.dtype == EVENT_DTYPE
    assert got.tobytes() == events.tobytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n=st.integers(0, 50),
    levels=st.integers(1, 12),
)
def test_any_book_round_trips_exactly(
    shared_store: Store, data: st.DataObject, n: int, levels: int
) -> None:
    book = data.draw(hnp.arrays(np.int64, (n, 4 * levels)))
    shared_store.ingest_events("prop", "BOOK", DAY, make_events(n), book=book)

    got = shared_store.read_book("prop", "BOOK", DAY)

    np.testing.assert_array_equal(got, book)
    assert got.shape == (n, 4 * levels)


def test_temp_files_are_hidden_from_parquet_globs(store: Store) -> None:
    final = store.path_for("events", "lobster", "GOOG", DAY)
    temp = store_module._write_temp(
        pa.table({"x": [1]}), final, {"kind": "events"}, store_module._FAST_WRITE
    )
    try:
        assert temp.parent == final.parent
        assert temp.name.startswith(".") and not temp.name.endswith(".parquet")
    finally:
        os.unlink(temp)


def test_query_when_root_path_has_key_value_folders_then_views_keep_store_keys(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "run=3" / "date=x" / "store")
    store.ingest_events("lobster", "GOOG", DAY, make_events(4), book=make_book(4, 2))
    store.ingest_events("lobster", "AAPL", DAY, make_events(3), book=make_book(3, 1))
    store.ingest_table("daily", "sp500", daily_table())

    events = store.query("SELECT symbol, date, count(*) AS n FROM events GROUP BY ALL ORDER BY 1")
    book = store.query("SELECT symbol, count(ask_price_2) AS deep FROM book GROUP BY 1 ORDER BY 1")
    daily = store.query("SELECT DISTINCT source FROM daily")

    assert events.to_pydict() == {"symbol": ["AAPL", "GOOG"], "date": [DAY, DAY], "n": [3, 4]}
    assert "run" not in events.column_names
    assert book.to_pydict() == {"symbol": ["AAPL", "GOOG"], "deep": [0, 4]}
    assert daily.to_pydict() == {"source": ["sp500"]}
