"""Load daily OHLCV panels (one row per symbol and day) from CSV files.

Two layouts are known and others with the same columns work too:

* a panel with a symbol column, e.g. the S&P 500 constituents file
  ``date,open,high,low,close,volume,Name`` (ISO dates);
* a single series, e.g. the arch index files
  ``Date,Open,High,Low,Close,Adj Close,Volume`` (``m/d/Y`` dates), whose symbol comes
  from the ``symbol`` argument or the file name.

Column names are matched case-insensitively; ``Name`` and ``ticker`` are read as
``symbol`` and ``Adj Close`` as ``adj_close``. Files may be plain or gzipped.

Checks run in stages, each over the rows that passed the earlier ones: dates parse;
numbers parse; no value is missing (empty or NaN); prices are positive;
``high >= max(open, close)`` and ``low <= min(open, close)``; volume is not negative;
no (symbol, date) repeats. By default the earliest row breaking a stage raises
:class:`DataError` naming the row (1-based, the header is row 1) and the field. With
``repair=True`` the rows are dropped and every problem is listed in the report (a
row with three missing cells is listed three times, once per field).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

from tradelearn.data.validation import RepairReport, read_bytes
from tradelearn.errors import ConfigError, DataError

__all__ = ["DAILY_COLUMNS", "DailyPanel", "load_daily"]

DAILY_COLUMNS: tuple[str, ...] = ("date", "symbol", "open", "high", "low", "close", "volume")
"""Columns of :attr:`DailyPanel.frame`, in order (``adj_close`` follows when present)."""

_REQUIRED = ("date", "open", "high", "low", "close", "volume")
_PRICES = ("open", "high", "low", "close")
_ALIASES = {
    "name": "symbol",
    "ticker": "symbol",
    "symbol": "symbol",
    "adj close": "adj_close",
    "adj_close": "adj_close",
    "adjclose": "adj_close",
    "adjusted close": "adj_close",
}
# Tried in order; the first that parses the file's first date is used for every row,
# so that a file never mixes day-first and month-first readings.
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%Y%m%d")
_HEADER_ROWS = 1


@dataclass(frozen=True, eq=False)
class DailyPanel:
    """A validated daily OHLCV panel.

    Attributes
    ----------
    frame
        Polars frame with columns ``date`` (Date), ``symbol`` (str), ``open``,
        ``high``, ``low``, ``close`` (float64), ``volume`` (int64, or float64 when the
        file has fractional volumes) and, when the file has it, ``adj_close``
        (float64); sorted by symbol, then date.
    path
        The source file.
    report
        Rows dropped under ``repair=True`` (empty otherwise).
    """

    frame: pl.DataFrame
    path: Path
    report: RepairReport = field(default_factory=RepairReport)

    def __len__(self) -> int:
        return self.frame.height

    @property
    def symbols(self) -> list[str]:
        """Distinct symbols, sorted."""
        return [str(s) for s in self.frame.get_column("symbol").unique().sort().to_list()]

    def to_arrow(self) -> pa.Table:
        """The frame as an Arrow table (``date`` as date32)."""
        return self.frame.to_arrow()


class _Rule(NamedTuple):
    field: str
    mask: np.ndarray
    reason: str
    expected: str
    got: Callable[[int], object]


def load_daily(path: str | Path, *, symbol: str | None = None, repair: bool = False) -> DailyPanel:
    """Load a daily OHLCV CSV file (plain or gzip) into a :class:`DailyPanel`.

    Parameters
    ----------
    path
        The CSV file, with a header row.
    symbol
        Symbol of a single-series file (one without a symbol column); defaults to
        the file name up to its first dot (``sp500.csv.gz`` gives ``"sp500"``).
    repair
        When False (default) the first bad row raises :class:`DataError`; when True
        bad rows are dropped and listed in :attr:`DailyPanel.report`.

    Returns
    -------
    DailyPanel
        The normalised panel, sorted by symbol and date.

    Raises
    ------
    DataError
        The file is missing, corrupt or not CSV, lacks a required column (the message
        names it and lists the columns that came), or a row breaks a rule (the
        message names the row and field).
    ConfigError
        ``symbol`` is given for a file that has its own symbol column.
    """
    p = Path(path)
    raw = _read_csv(p)
    df = _normalise_columns(raw, p)
    n = df.height
    report = RepairReport()
    rep = report if repair else None
    bad = np.zeros(n, dtype=bool)

    if "symbol" in df.columns:
        if symbol is not None:
            raise ConfigError(
                f"symbol={symbol!r} given but {p} has its own symbol column; "
                "pass symbol only for single-series files"
            )
        symbols = df.get_column("symbol")
        bad |= _stage(
            [_rule("symbol", symbols.fill_null("") == "", "symbol is empty", "a symbol", symbols)],
            bad,
            p,
            rep,
        )
    else:
        sym = symbol if symbol is not None else p.name.split(".")[0]
        if not sym:
            raise ConfigError(f"symbol must be a non-empty string, actually: {sym!r}")
        symbols = pl.Series("symbol", [sym] * n, dtype=pl.String)

    dates, fmt = _parse_dates(df.get_column("date"))
    bad |= _stage(
        [
            _rule(
                "date",
                dates.is_null(),
                "date does not parse",
                f"a date like {fmt}",
                df.get_column("date"),
            )
        ],
        bad,
        p,
        rep,
    )

    value_cols = [*_PRICES, *(["adj_close"] if "adj_close" in df.columns else [])]
    values = {c: df.get_column(c).cast(pl.Float64, strict=False) for c in value_cols}
    volume = _parse_volume(df.get_column("volume"))
    numbers = {**values, "volume": volume}
    # A cell that is present but becomes null did not parse as a number.
    bad |= _stage(
        [
            _rule(
                c,
                df.get_column(c).is_not_null() & s.is_null(),
                "value is not a number",
                "a number",
                df.get_column(c),
            )
            for c, s in numbers.items()
        ],
        bad,
        p,
        rep,
    )
    bad |= _stage(
        [
            _rule(c, _missing(s), "value is missing (empty or NaN)", "a number", df.get_column(c))
            for c, s in numbers.items()
        ],
        bad,
        p,
        rep,
    )
    bad |= _stage(
        [_rule(c, s <= 0, "price is not positive", "a price > 0", s) for c, s in values.items()],
        bad,
        p,
        rep,
    )
    o, h, lo, c = (values[k] for k in _PRICES)
    top = pl.DataFrame([o, c]).max_horizontal()
    bottom = pl.DataFrame([o, c]).min_horizontal()
    bad |= _stage(
        [
            _rule("high", h < top, "high is below max(open, close)", "high >= max(open, close)", h),
            _rule(
                "low", lo > bottom, "low is above min(open, close)", "low <= min(open, close)", lo
            ),
        ],
        bad,
        p,
        rep,
    )
    bad |= _stage(
        [_rule("volume", volume < 0, "volume is negative", "a volume >= 0", volume)], bad, p, rep
    )
    # Repeats are judged among the rows still kept, so a repaired duplicate of a
    # dropped row is not reported twice.
    key = pl.DataFrame({"symbol": symbols, "date": dates, "keep": ~bad}).with_row_index("i")
    first = key.select(pl.col("i").first().over("symbol", "date", "keep")).to_series().to_numpy()
    repeat = (first != np.arange(n)) & ~bad
    bad |= _stage(
        [
            _Rule(
                "date",
                repeat,
                "(symbol, date) repeats an earlier row",
                "one row per symbol and date",
                lambda i: f"{symbols[i]} {dates[i]} (first at row {first[i] + 1 + _HEADER_ROWS})",
            )
        ],
        bad,
        p,
        rep,
    )

    frame = pl.DataFrame(
        {
            "date": dates,
            "symbol": symbols,
            **{k: values[k] for k in _PRICES},
            "volume": volume,
            **({"adj_close": values["adj_close"]} if "adj_close" in values else {}),
        }
    )
    frame = frame.filter(pl.Series(~bad)).sort(["symbol", "date"], maintain_order=True)
    return DailyPanel(frame=frame, path=p, report=report)


# --------------------------------------------------------------------------- helpers


def _read_csv(p: Path) -> pl.DataFrame:
    """Read every column as text; conversion happens later, with row-level errors."""
    data = read_bytes(p)
    if not data.strip():
        raise DataError("file is empty", path=p, expected="a CSV header and rows", got="0 rows")
    try:
        df = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise DataError(f"not a readable CSV file ({exc})", path=p) from exc
    return df.with_columns(pl.all().str.strip_chars())


def _normalise_columns(df: pl.DataFrame, p: Path) -> pl.DataFrame:
    renames: dict[str, str] = {}
    for col in df.columns:
        key = col.strip().lower()
        name = _ALIASES.get(key, key.replace(" ", "_"))
        if name in renames.values():
            raise DataError(
                f"two columns both read as '{name}'",
                path=p,
                row=1,
                field=col,
                expected="each column once",
                got=df.columns,
            )
        renames[col] = name
    df = df.rename(renames)
    for col in _REQUIRED:
        if col not in df.columns:
            raise DataError(
                f"missing column '{col}'",
                path=p,
                row=1,
                field=col,
                expected="columns " + ", ".join(_REQUIRED),
                got=list(renames),
            )
    return df


def _parse_dates(text: pl.Series) -> tuple[pl.Series, str]:
    """Parse with the first format that reads the first non-empty date."""
    first = text.drop_nulls().head(1)
    for fmt in _DATE_FORMATS:
        if first.len() and first.str.to_date(fmt, strict=False).null_count() == 0:
            return text.str.to_date(fmt, strict=False), fmt
    return pl.Series(text.name, [None] * text.len(), dtype=pl.Date), " or ".join(_DATE_FORMATS)


def _parse_volume(text: pl.Series) -> pl.Series:
    """Int64 volumes, or Float64 when some volume is fractional (or NaN)."""
    as_int = text.cast(pl.Int64, strict=False)
    as_float = text.cast(pl.Float64, strict=False)
    if (as_int.is_null() & as_float.is_not_null()).any():
        return as_float
    return as_int


def _missing(s: pl.Series) -> pl.Series:
    return s.is_null() | s.is_nan() if s.dtype == pl.Float64 else s.is_null()


def _rule(name: str, mask: pl.Series, reason: str, expected: str, values: pl.Series) -> _Rule:
    def got(i: int) -> object:
        value = values[i]
        return "" if value is None else value  # an empty cell reads as null

    return _Rule(name, mask.fill_null(False).to_numpy(), reason, expected, got)


def _stage(rules: list[_Rule], bad: np.ndarray, p: Path, repair: RepairReport | None) -> np.ndarray:
    """Apply one stage of rules to the rows not yet bad; return the newly bad rows.

    Raises at the earliest offending row of the stage (ties go to the first rule),
    or, under repair, records every offence.
    """
    masks = [r.mask & ~bad for r in rules]
    hit = np.zeros_like(bad)
    for m in masks:
        hit |= m
    if not hit.any():
        return hit
    if repair is None:
        row = int(np.flatnonzero(hit)[0])
        rule = next(r for r, m in zip(rules, masks, strict=True) if m[row])
        raise DataError(
            rule.reason,
            path=p,
            row=row + 1 + _HEADER_ROWS,
            field=rule.field,
            expected=rule.expected,
            got=rule.got(row),
        )
    for rule, m in zip(rules, masks, strict=True):
        for i in np.flatnonzero(m):
            repair.add(
                p,
                int(i) + 1 + _HEADER_ROWS,
                rule.field,
                f"{rule.reason} (expected {rule.expected}, got {rule.got(int(i))!r})",
            )
    return hit
