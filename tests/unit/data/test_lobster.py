"""LOBSTER loader: parsing, every validation rule, the repair policy and the writer."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import pytest

from tradelearn.data.lobster import (
    DUMMY_ASK,
    DUMMY_BID,
    book_columns,
    load_lobster,
    midnight_ns,
    parse_name,
    write_lobster,
)
from tradelearn.data.schema import EVENT_DTYPE, EventType
from tradelearn.errors import DataError

MSG = "TEST_2012-06-21_34200000_57600000_message_2.csv"
OB = "TEST_2012-06-21_34200000_57600000_orderbook_2.csv"

GOOD_MESSAGES = [
    "34200.000000001,1,11,100,1000100,-1",
    "34200.5,1,12,50,999900,1",
    "34201.25,4,11,30,1000100,-1",
    "34201.25,5,0,10,1000050,1",
    "34202,2,12,20,999900,1",
    "34203,3,11,70,1000100,-1",
]
# two levels: ask px, ask qty, bid px, bid qty, ask px 2, ask qty 2, bid px 2, bid qty 2
GOOD_BOOK = [
    "1000100,100,999800,40,1000200,5,-9999999999,0",
    "1000100,100,999900,50,1000200,5,999800,40",
    "1000100,70,999900,50,1000200,5,999800,40",
    "1000100,70,999900,50,1000200,5,999800,40",
    "1000100,70,999900,30,1000200,5,999800,40",
    "1000200,5,999900,30,9999999999,0,999800,40",
]


def write_pair(
    tmp_path: Path,
    messages: list[str] = GOOD_MESSAGES,
    book: list[str] = GOOD_BOOK,
    gz: bool = False,
) -> tuple[Path, Path]:
    suffix = ".gz" if gz else ""
    m = tmp_path / (MSG + suffix)
    o = tmp_path / (OB + suffix)
    for path, rows in ((m, messages), (o, book)):
        data = ("\n".join(rows) + "\n").encode()
        path.write_bytes(gzip.compress(data) if gz else data)
    return m, o


def test_parse_name_reads_symbol_date_levels() -> None:
    name = parse_name("GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz")
    assert name is not None
    assert (name.symbol, name.date, name.levels, name.kind) == (
        "GOOG",
        dt.date(2012, 6, 21),
        10,
        "orderbook",
    )
    assert parse_name("notlobster.csv") is None


@pytest.mark.parametrize("gz", [False, True])
def test_load_when_pair_is_good_then_events_and_book_match_the_files(
    tmp_path: Path, gz: bool
) -> None:
    m, o = write_pair(tmp_path, gz=gz)
    day = load_lobster(m, o)
    assert day.symbol == "TEST" and day.levels == 2 and day.n == 6
    assert day.events.dtype == EVENT_DTYPE
    assert day.events["event"].tolist() == [1, 1, 4, 5, 2, 3]
    assert day.events["side"].tolist() == [-1, 1, -1, 1, 1, -1]
    # nanosecond timestamps are exact, including the 1 ns one
    assert day.events["ts_exchange"][0] == midnight_ns(dt.date(2012, 6, 21)) + 34_200_000_000_001
    assert day.events["ts_exchange"][1] - day.events["ts_exchange"][0] == 499_999_999
    assert np.array_equal(day.events["ts_local"], day.events["ts_exchange"])
    assert day.book is not None and day.book.shape == (6, 8)
    assert day.book[0, 6] == DUMMY_BID and day.book[5, 4] == DUMMY_ASK
    assert len(day.report) == 0


def test_midnight_is_new_york_midnight() -> None:
    # 2012-06-21 is in daylight saving time: UTC-4
    assert midnight_ns(dt.date(2012, 6, 21)) == 1_340_251_200 * 10**9


def test_hidden_execution_may_trade_between_ticks(tmp_path: Path) -> None:
    m, o = write_pair(tmp_path)
    day = load_lobster(m, o)
    assert day.events["price"][3] == 1000050
    assert day.events["event"][3] == EventType.EXECUTE_HIDDEN


def _with(rows: list[str], index: int, row: str) -> list[str]:
    out = list(rows)
    out[index] = row
    return out


@pytest.mark.parametrize(
    ("row", "field", "expected"),
    [
        ("34201.25,9,11,30,1000100,-1", "type", "one of 1,2,3,4,5,6,7"),
        ("34201.25,4,11,0,1000100,-1", "size", "a positive size"),
        ("34201.25,4,11,-5,1000100,-1", "size", "a positive size"),
        ("34201.25,4,11,30,-100,-1", "price", "a positive price"),
        ("34201.25,4,11,30,1000150,-1", "price", "a multiple of the tick 100"),
        ("34201.25,4,11,30,1000100,2", "direction", "1 (buy) or -1 (sell)"),
        ("34199,4,11,30,1000100,-1", "time", "time >= the previous row's"),
        ("nan,4,11,30,1000100,-1", "time", "a number"),
        ("34201.25,4,x,30,1000100,-1", "order_id", "an integer"),
    ],
)
def test_load_when_message_row_is_bad_then_error_names_file_row_field(
    tmp_path: Path, row: str, field: str, expected: str
) -> None:
    m, o = write_pair(tmp_path, messages=_with(GOOD_MESSAGES, 2, row))
    with pytest.raises(DataError) as info:
        load_lobster(m, o)
    err = info.value
    assert err.row == 3 and err.field == field
    assert MSG in str(err) and "row 3" in str(err) and expected in str(err)


def test_load_when_message_row_has_wrong_column_count_then_error_says_expected_and_got(
    tmp_path: Path,
) -> None:
    m, o = write_pair(tmp_path, messages=_with(GOOD_MESSAGES, 4, "34202,2,12,20,999900"))
    with pytest.raises(DataError, match=r"row 5.*expected 6 columns, got '5 columns"):
        load_lobster(m, o)


def test_load_when_cell_is_empty_then_error_names_the_field(tmp_path: Path) -> None:
    m, o = write_pair(tmp_path, messages=_with(GOOD_MESSAGES, 1, "34200.5,1,12,,999900,1"))
    with pytest.raises(DataError) as info:
        load_lobster(m, o)
    assert info.value.row == 2 and info.value.field == "size"


def test_load_when_row_counts_differ_then_error_names_both(tmp_path: Path) -> None:
    m, o = write_pair(tmp_path, book=GOOD_BOOK[:-1])
    with pytest.raises(DataError, match=r"different row counts.*expected 6 rows.*got '5 rows'"):
        load_lobster(m, o)


def test_load_when_book_is_crossed_then_error_names_row(tmp_path: Path) -> None:
    crossed = "999900,70,999900,50,1000200,5,999800,40"
    m, o = write_pair(tmp_path, book=_with(GOOD_BOOK, 2, crossed))
    with pytest.raises(DataError, match=r"row 3, field 'ask_price_1': crossed book"):
        load_lobster(m, o)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("1000100,70,999900,0,1000200,5,999800,40", "bid_size_1"),
        ("1000150,70,999900,50,1000200,5,999800,40", "ask_price_1"),
        ("1000100,70,999900,50,9999999999,5,999800,40", "ask_price_2"),
    ],
)
def test_load_when_book_value_is_bad_then_error_names_the_column(
    tmp_path: Path, row: str, field: str
) -> None:
    m, o = write_pair(tmp_path, book=_with(GOOD_BOOK, 2, row))
    with pytest.raises(DataError) as info:
        load_lobster(m, o)
    assert info.value.row == 3 and info.value.field == field


def test_load_when_levels_out_of_order_then_error(tmp_path: Path) -> None:
    m, o = write_pair(
        tmp_path, book=_with(GOOD_BOOK, 1, "1000100,100,999900,50,1000000,5,999800,40")
    )
    with pytest.raises(DataError, match="levels out of order"):
        load_lobster(m, o)


@pytest.mark.parametrize("cut", [10, -6])
def test_load_when_gzip_is_truncated_then_error_names_file(tmp_path: Path, cut: int) -> None:
    m, o = write_pair(tmp_path, gz=True)
    data = m.read_bytes()
    m.write_bytes(data[:cut])
    with pytest.raises(DataError, match=r"gzip data is truncated or corrupt") as info:
        load_lobster(m, o)
    assert str(m) in str(info.value)


def test_load_when_gzip_is_corrupt_then_error(tmp_path: Path) -> None:
    m, o = write_pair(tmp_path, gz=True)
    data = bytearray(m.read_bytes())
    data[20] ^= 0xFF
    data[21] ^= 0xFF
    m.write_bytes(bytes(data))
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_lobster(m, o)


def test_load_when_file_missing_then_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_lobster(tmp_path / MSG)


def test_repair_drops_bad_rows_and_their_partners_and_reports_each(tmp_path: Path) -> None:
    messages = _with(GOOD_MESSAGES, 2, "34201.25,9,11,30,1000100,-1")
    messages = _with(messages, 4, "34202,2,12,20")
    book = _with(GOOD_BOOK, 3, "999900,70,999900,50,1000200,5,999800,40")
    m, o = write_pair(tmp_path, messages=messages, book=book)
    day = load_lobster(m, o, repair=True)
    assert day.n == 3
    assert day.book is not None and day.book.shape == (3, 8)
    assert day.events["order_id"].tolist() == [11, 12, 11]
    reasons = [(Path(b.path).name, b.row, b.field) for b in day.report.dropped]
    assert (MSG, 3, "type") in reasons
    assert (MSG, 5, "*") in reasons  # wrong column count
    assert (OB, 4, "ask_price_1") in reasons  # crossed
    # partners of dropped rows are reported too: nothing vanishes silently
    assert (OB, 3, "*") in reasons and (OB, 5, "*") in reasons and (MSG, 4, "*") in reasons
    assert "rows dropped" in day.report.summary()


def test_load_halts_keep_their_indicator(tmp_path: Path) -> None:
    messages = [*GOOD_MESSAGES[:5], "34202.5,7,0,0,-1,-1", GOOD_MESSAGES[5]]
    book = [*GOOD_BOOK[:5], GOOD_BOOK[4], GOOD_BOOK[5]]
    m, o = write_pair(tmp_path, messages=messages, book=book)
    day = load_lobster(m, o)
    assert day.events["event"][5] == EventType.HALT and day.events["price"][5] == -1


def test_load_when_halt_indicator_is_bad_then_error(tmp_path: Path) -> None:
    messages = [*GOOD_MESSAGES[:5], "34202.5,7,0,0,5,-1", GOOD_MESSAGES[5]]
    book = [*GOOD_BOOK[:5], GOOD_BOOK[4], GOOD_BOOK[5]]
    m, o = write_pair(tmp_path, messages=messages, book=book)
    with pytest.raises(DataError, match=r"row 6, field 'price': bad halt indicator"):
        load_lobster(m, o)


def test_write_then_load_round_trips_exactly(tmp_path: Path) -> None:
    m, o = write_pair(tmp_path)
    day = load_lobster(m, o)
    assert day.book is not None
    m2, o2 = write_lobster(
        tmp_path / "out",
        symbol="TEST",
        date=day.date,
        levels=2,
        events=day.events,
        book=day.book,
        gzip_files=True,
    )
    back = load_lobster(m2, o2)
    assert np.array_equal(back.events, day.events)
    assert back.book is not None and np.array_equal(back.book, day.book)


def test_book_columns_follow_lobster_order() -> None:
    assert book_columns(2) == [
        "ask_price_1",
        "ask_size_1",
        "bid_price_1",
        "bid_size_1",
        "ask_price_2",
        "ask_size_2",
        "bid_price_2",
        "bid_size_2",
    ]


def test_load_without_symbol_in_name_then_error_asks_for_it(tmp_path: Path) -> None:
    path = tmp_path / "messages.csv"
    path.write_text("\n".join(GOOD_MESSAGES) + "\n")
    with pytest.raises(DataError, match="pass symbol= and date="):
        load_lobster(path)
    day = load_lobster(path, symbol="X", date=dt.date(2020, 1, 2))
    assert day.n == 6 and day.book is None
