"""Tests of the daily OHLCV loader (fixtures written into tmp_path)."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from tradelearn.data.daily import DAILY_COLUMNS, load_daily
from tradelearn.errors import ConfigError, DataError
from tradelearn.testing.realdata import real_path

PANEL_HEADER = "date,open,high,low,close,volume,Name"
GOOD_PANEL = [
    "2013-02-11,14.89,15.01,14.26,14.46,8882000,AAL",
    "2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL",
    "2013-02-08,67.7142,68.4014,66.8928,67.8542,158168416,AAPL",
]
INDEX_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"
GOOD_INDEX = [
    "1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000",
    "1/5/1999,1228.099976,1246.109985,1228.099976,1244.780029,1244.780029,775000000",
]


def write_csv(path: Path, header: str, rows: list[str], *, gz: bool = False) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def real_file(relative: str) -> Path:
    return real_path(relative)


# --------------------------------------------------------------------------- loading


def test_load_daily_normalises_a_panel_and_sorts_by_symbol_then_date(tmp_path: Path) -> None:
    panel = load_daily(write_csv(tmp_path / "p.csv", PANEL_HEADER, GOOD_PANEL))

    frame = panel.frame
    assert frame.columns == list(DAILY_COLUMNS)
    assert frame.schema["date"] == pl.Date
    assert frame.schema["close"] == pl.Float64
    assert frame.schema["volume"] == pl.Int64
    assert frame["symbol"].to_list() == ["AAL", "AAL", "AAPL"]
    assert frame["date"].to_list() == [
        dt.date(2013, 2, 8),
        dt.date(2013, 2, 11),
        dt.date(2013, 2, 8),
    ]
    assert panel.symbols == ["AAL", "AAPL"]
    assert len(panel) == 3
    assert len(panel.report) == 0


def test_load_daily_reads_a_gzipped_single_series_with_us_dates_and_adj_close(
    tmp_path: Path,
) -> None:
    panel = load_daily(write_csv(tmp_path / "sp500.csv.gz", INDEX_HEADER, GOOD_INDEX, gz=True))

    assert panel.frame.columns == [*DAILY_COLUMNS, "adj_close"]
    assert panel.symbols == ["sp500"]  # the file name up to its first dot
    assert panel.frame["date"].to_list() == [dt.date(1999, 1, 4), dt.date(1999, 1, 5)]
    assert panel.frame["adj_close"][1] == pytest.approx(1244.780029)


def test_load_daily_uses_the_symbol_argument_for_a_single_series(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "sp500.csv", INDEX_HEADER, GOOD_INDEX)

    assert load_daily(path, symbol="^GSPC").symbols == ["^GSPC"]


def test_load_daily_when_symbol_argument_meets_a_symbol_column_then_config_error(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "p.csv", PANEL_HEADER, GOOD_PANEL)

    with pytest.raises(ConfigError, match="has its own symbol column"):
        load_daily(path, symbol="X")


def test_load_daily_keeps_fractional_volume_as_float(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", PANEL_HEADER, ["2020-01-02,1,2,0.5,1.5,10.5,BTC"])

    assert load_daily(path).frame.schema["volume"] == pl.Float64


def test_load_daily_to_arrow_gives_date32_and_float64_prices(tmp_path: Path) -> None:
    table = load_daily(write_csv(tmp_path / "p.csv", PANEL_HEADER, GOOD_PANEL)).to_arrow()

    assert table.schema.field("date").type == pa.date32()
    assert table.schema.field("open").type == pa.float64()
    assert table.num_rows == 3


# --------------------------------------------------------------------------- errors


def test_load_daily_when_a_column_is_missing_then_error_names_it_and_lists_columns(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path / "nc.csv", "date,open,high,low,volume,Name", ["2013-02-08,1,2,1,5,A"]
    )

    with pytest.raises(DataError) as info:
        load_daily(path)

    message = str(info.value)
    assert "nc.csv, row 1, field 'close': missing column 'close'" in message
    assert "['date', 'open', 'high', 'low', 'volume', 'Name']" in message


def test_load_daily_when_close_is_nan_then_error_names_row_and_field(tmp_path: Path) -> None:
    rows = [*GOOD_PANEL, "2013-02-12,14.45,14.51,14.1,NaN,7000000,AAL"]
    path = write_csv(tmp_path / "nan.csv", PANEL_HEADER, rows)

    with pytest.raises(DataError, match=r"nan\.csv, row 5, field 'close': value is missing"):
        load_daily(path)


def test_load_daily_when_open_is_empty_then_error_names_row_and_field(tmp_path: Path) -> None:
    rows = [*GOOD_PANEL, "2016-01-12,,,,88.55,0,DHR"]
    path = write_csv(tmp_path / "e.csv", PANEL_HEADER, rows)

    with pytest.raises(DataError, match=r"e\.csv, row 5, field 'open': value is missing"):
        load_daily(path)


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("2013-02-30,1,2,0.5,1.5,100,X", "date", "date does not parse"),
        ("2013-02-12,1,abc,0.5,1.5,100,X", "high", "value is not a number"),
        ("2013-02-12,0,2,0.5,1.5,100,X", "open", "price is not positive"),
        ("2013-02-12,1,1.2,0.5,1.5,100,X", "high", "high is below max(open, close)"),
        ("2013-02-12,1,2,1.1,1.5,100,X", "low", "low is above min(open, close)"),
        ("2013-02-12,1,2,0.5,1.5,-1,X", "volume", "volume is negative"),
        (
            "2013-02-11,14.89,15.01,14.26,14.46,8882000,AAL",
            "date",
            "(symbol, date) repeats an earlier row",
        ),
        ("2013-02-12,1,2,0.5,1.5,100,", "symbol", "symbol is empty"),
    ],
    ids=["date", "number", "price", "high", "low", "volume", "duplicate", "symbol"],
)
def test_load_daily_when_row_breaks_a_rule_then_error_names_file_row_and_field(
    tmp_path: Path, row: str, field: str, reason: str
) -> None:
    path = write_csv(tmp_path / "bad.csv", PANEL_HEADER, [*GOOD_PANEL, row])

    with pytest.raises(DataError) as info:
        load_daily(path)

    assert (info.value.row, info.value.field) == (5, field)
    assert f"bad.csv, row 5, field '{field}': {reason}" in str(info.value)


def test_load_daily_when_gzip_is_truncated_then_error_names_the_file(tmp_path: Path) -> None:
    whole = gzip.compress(("\n".join([PANEL_HEADER, *GOOD_PANEL * 50])).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(DataError, match=r"cut\.csv\.gz: gzip data is truncated or corrupt"):
        load_daily(path)


def test_load_daily_when_file_is_empty_then_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")

    with pytest.raises(DataError, match=r"empty\.csv: file is empty"):
        load_daily(path)


# --------------------------------------------------------------------------- repair


def test_load_daily_when_repairing_then_bad_rows_are_dropped_and_each_problem_reported(
    tmp_path: Path,
) -> None:
    rows = [
        *GOOD_PANEL,
        "2016-01-12,,,,88.55,0,DHR",  # row 5: three missing cells
        "2014-05-19,23.89,23.595,23.85,24.445,1944854,AOS",  # row 6: high below open/close
        "2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL",  # row 7: repeats row 3
    ]

    panel = load_daily(write_csv(tmp_path / "r.csv", PANEL_HEADER, rows), repair=True)

    assert len(panel) == 3
    assert [(b.row, b.field) for b in panel.report.dropped] == [
        (5, "open"),
        (5, "high"),
        (5, "low"),
        (6, "high"),
        (7, "date"),
    ]
    assert "expected high >= max(open, close), got 23.595" in panel.report.dropped[3].reason
    assert "got 'AAL 2013-02-08 (first at row 3)'" in panel.report.dropped[4].reason


# --------------------------------------------------------------------------- real data

SP500_PANEL = "daily_ohlcv/sp500_kaggle_camnugent_2013-02-08_2018-02-07.csv.gz"


@pytest.mark.shared_data
def test_load_daily_real_sp500_panel_errors_on_its_first_nan_cell() -> None:
    with pytest.raises(DataError) as info:
        load_daily(real_file(SP500_PANEL))

    assert (info.value.row, info.value.field) == (82_951, "open")  # BHF 2017-07-26
    assert "value is missing (empty or NaN)" in str(info.value)


@pytest.mark.shared_data
def test_load_daily_real_sp500_panel_repair_reports_27_nan_cells_and_12_bad_ranges() -> None:
    panel = load_daily(real_file(SP500_PANEL), repair=True)

    nan_cells = [b for b in panel.report.dropped if "value is missing" in b.reason]
    ranges = [b for b in panel.report.dropped if "(open, close)" in b.reason]
    assert len(nan_cells) == 27
    assert len({b.row for b in nan_cells}) == 11
    assert len(ranges) == 12
    assert len(panel.report) == 39
    assert len(panel) == 619_040 - 23
    assert len(panel.symbols) == 505
    assert panel.frame["date"].min() == dt.date(2013, 2, 8)
    assert panel.frame["date"].max() == dt.date(2018, 2, 7)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["sp500", "nasdaq"])
def test_load_daily_real_arch_index_loads_5031_days_named_after_the_file(name: str) -> None:
    panel = load_daily(real_file(f"daily_ohlcv/index_macro_arch/{name}.csv.gz"))

    assert len(panel) == 5_031
    assert panel.symbols == [name]
    assert "adj_close" in panel.frame.columns
    assert panel.frame["date"].min() == dt.date(1999, 1, 4)
    assert panel.frame["date"].max() == dt.date(2018, 12, 31)
