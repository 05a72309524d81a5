"""LOBSTER message and orderbook files.

A LOBSTER day is a pair of headerless CSV files, plain or gzipped:

* ``SYM_DATE_START_END_message_L.csv`` with six columns: time (seconds after
  midnight, up to nanosecond decimals), event type (1 add, 2 partial cancel,
  3 delete, 4 visible execution, 5 hidden execution, 6 cross trade, 7 halt),
  order id, size, price (USD x 10000) and direction (1 buy, -1 sell);
* ``SYM_DATE_START_END_orderbook_L.csv`` with ``4 L`` columns: for each level
  ask price, ask size, bid price, bid size. Row k is the book after message k.
  Empty levels carry LOBSTER's dummy prices (9999999999 on the ask side,
  -9999999999 on the bid side) with size 0.

:func:`load_lobster` parses the pair into the canonical event array and an int64
book array (the orderbook file as it is), checking everything a replay relies on.
:func:`write_lobster` writes the same format back (the synthetic market uses it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from tradelearn.data.schema import EVENT_DTYPE, EventType, Instrument, book_columns, empty_events
from tradelearn.data.validation import RepairReport, check_rows, read_bytes
from tradelearn.errors import DataError

DUMMY_ASK = 9_999_999_999
"""LOBSTER's price for an empty ask level."""
DUMMY_BID = -9_999_999_999
"""LOBSTER's price for an empty bid level."""
PRICE_SCALE = 10_000
"""LOBSTER prices are USD x 10000."""
DEFAULT_TICK = 100
"""One cent in LOBSTER price units."""

MESSAGE_COLUMNS = ("time", "type", "order_id", "size", "price", "direction")
_NAME_RE = re.compile(
    r"^(?P<symbol>[A-Za-z0-9.\-]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
    r"(?P<kind>message|orderbook)_(?P<levels>\d+)(?:_[A-Za-z0-9]+)*\.csv(\.gz)?$"
)
_EXCHANGE_TZ = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class LobsterName:
    """What a LOBSTER file name says about its contents."""

    symbol: str
    date: dt.date
    levels: int
    kind: str


def parse_name(path: str | Path) -> LobsterName | None:
    """Parse a LOBSTER file name; ``None`` when it does not follow the convention."""
    m = _NAME_RE.match(Path(path).name)
    if m is None:
        return None
    return LobsterName(
        symbol=m["symbol"],
        date=dt.date.fromisoformat(m["date"]),
        levels=int(m["levels"]),
        kind=m["kind"],
    )


@dataclass(frozen=True)
class LobsterDay:
    """One parsed LOBSTER day.

    Attributes
    ----------
    events
        Canonical events (:data:`~tradelearn.data.schema.EVENT_DTYPE`), one per message row.
    book
        The orderbook file as int64 (rows, 4 x levels), LOBSTER's column order and dummy
        prices kept; ``None`` when only messages were loaded.
    report
        Rows dropped under the repair policy (empty unless ``repair=True``).
    """

    symbol: str
    date: dt.date
    levels: int
    instrument: Instrument
    events: np.ndarray
    book: np.ndarray | None
    message_path: Path
    orderbook_path: Path | None
    report: RepairReport = field(default_factory=RepairReport)

    @property
    def n(self) -> int:
        return int(self.events.shape[0])


def midnight_ns(date: dt.date) -> int:
    """Nanoseconds since the epoch of local midnight at the exchange (New York)."""
    local = dt.datetime(date.year, date.month, date.day, tzinfo=_EXCHANGE_TZ)
    return int(local.timestamp()) * 1_000_000_000


# --------------------------------------------------------------------------- parsing


def _decode(path: Path) -> str:
    raw = read_bytes(path)
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            "file is not plain ASCII CSV",
            path=path,
            row=line,
            expected="ASCII digits, signs, dots and commas",
            got=raw[exc.start : exc.start + 8],
        ) from exc


def _diagnose(
    text: str, path: Path, names: list[str], kinds: list[str], repair: RepairReport | None
) -> tuple[np.ndarray, np.ndarray]:
    """Slow, row-by-row parse that finds the row and field a fast parse choked on.

    Returns float64 and int64 matrices of the good rows plus the 0-based indices of the
    rows kept (under repair); raises on the first bad row otherwise.
    """
    ncol = len(names)
    floats: list[list[float]] = []
    kept: list[int] = []
    for i, row in enumerate(csv.reader(io.StringIO(text))):
        if not row:
            if repair is None:
                raise DataError(
                    "empty line", path=path, row=i + 1, expected=f"{ncol} columns", got=""
                )
            repair.add(path, i + 1, "*", "empty line")
            continue
        if len(row) != ncol:
            if repair is None:
                raise DataError(
                    "wrong number of columns",
                    path=path,
                    row=i + 1,
                    expected=f"{ncol} columns",
                    got=f"{len(row)} columns: {','.join(row)[:80]}",
                )
            repair.add(
                path, i + 1, "*", f"wrong number of columns (expected {ncol}, got {len(row)})"
            )
            continue
        values: list[float] = []
        bad: tuple[str, str, str] | None = None
        for name, kind, cell in zip(names, kinds, row, strict=True):
            try:
                v = float(cell) if kind == "f" else float(int(cell))
            except ValueError:
                bad = (name, "an integer" if kind == "i" else "a number", cell)
                break
            if v != v:  # NaN
                bad = (name, "a number", cell)
                break
            values.append(v)
        if bad is not None:
            if repair is None:
                raise DataError(
                    "unparsable value",
                    path=path,
                    row=i + 1,
                    field=bad[0],
                    expected=bad[1],
                    got=bad[2],
                )
            repair.add(path, i + 1, bad[0], f"unparsable value (expected {bad[1]}, got {bad[2]!r})")
            continue
        floats.append(values)
        kept.append(i)
    matrix = np.array(floats, dtype=np.float64).reshape(len(floats), ncol)
    return matrix, np.array(kept, dtype=np.int64)


def _read_matrix(
    path: Path, names: list[str], kinds: list[str], repair: RepairReport | None
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Parse a headerless numeric CSV into columns.

    Returns the columns and, when the slow path dropped rows under repair, the
    0-based source row index of every row kept (``None`` when all rows came through).
    """
    text = _decode(path)
    if not text.strip():
        raise DataError("file is empty", path=path, expected="at least one row", got="0 rows")
    schema = {n: (pl.Float64 if k == "f" else pl.Int64) for n, k in zip(names, kinds, strict=True)}
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("ascii")),
            has_header=False,
            new_columns=names,
            schema=schema,
            truncate_ragged_lines=False,
        )
        if frame.width != len(names):
            raise ValueError("column count")
        cols = {n: frame[n].to_numpy() for n in names}
        nulls = [n for n in names if frame[n].null_count() > 0]
        if nulls:  # a missing cell: let the slow path name it
            raise ValueError("nulls")
        for n, k in zip(names, kinds, strict=True):
            if k == "f" and np.isnan(cols[n]).any():
                raise ValueError("nan")
        return cols, None
    except (pl.exceptions.PolarsError, ValueError):
        matrix, kept = _diagnose(text, path, names, kinds, repair)
        if repair is None:  # the slow path found nothing: the fast parser disagreed with it
            raise DataError("could not parse file", path=path) from None
        cols = {}
        for j, (n, k) in enumerate(zip(names, kinds, strict=True)):
            cols[n] = matrix[:, j] if k == "f" else matrix[:, j].astype(np.int64)
        return cols, kept


# --------------------------------------------------------------------------- checks


def _check_messages(
    cols: dict[str, np.ndarray],
    path: Path,
    tick_size: int,
    repair: RepairReport | None,
    rows: np.ndarray,
) -> np.ndarray:
    """Return the mask of bad message rows (all False unless repairing)."""
    t, typ, size, price, direction = (
        cols[k] for k in ("time", "type", "size", "price", "direction")
    )

    def row_of(i: int) -> int:
        return int(rows[i])

    bad = np.zeros(t.shape[0], dtype=bool)

    def rule(mask: np.ndarray, name: str, reason: str, expected: str, values: np.ndarray) -> None:
        nonlocal bad
        mask = mask & ~bad
        if mask.any():
            if repair is None:
                i = int(np.flatnonzero(mask)[0])
                raise DataError(
                    reason,
                    path=path,
                    row=row_of(i) + 1,
                    field=name,
                    expected=expected,
                    got=values[i].item(),
                )
            for i in map(int, np.flatnonzero(mask)):
                repair.add(
                    path,
                    row_of(int(i)) + 1,
                    name,
                    f"{reason} (expected {expected}, got {values[i].item()!r})",
                )
            bad |= mask

    rule(
        ~np.isfinite(t) | (t < 0) | (t > 86_400 * 2),
        "time",
        "bad timestamp",
        "seconds after midnight",
        t,
    )
    known = (typ >= 1) & (typ <= 7)
    rule(~known, "type", "unknown event type", "one of 1,2,3,4,5,6,7", typ)
    rule(
        ~np.isin(direction, (1, -1)),
        "direction",
        "unknown direction",
        "1 (buy) or -1 (sell)",
        direction,
    )
    trades = typ != 7
    rule(trades & (size <= 0), "size", "non-positive size", "a positive size", size)
    rule(~trades & (size < 0), "size", "negative size on a halt message", "size >= 0", size)
    rule(trades & (price <= 0), "price", "non-positive price", "a positive price", price)
    visible = typ <= 4
    rule(
        visible & (price % tick_size != 0),
        "price",
        "off-tick price",
        f"a multiple of the tick {tick_size}",
        price,
    )
    rule(~trades & ~np.isin(price, (-1, 0, 1)), "price", "bad halt indicator", "-1, 0 or 1", price)
    rule(
        visible & (cols["order_id"] <= 0),
        "order_id",
        "non-positive order id",
        "a positive order id",
        cols["order_id"],
    )
    # non-decreasing time, judged against the last good row so one bad row is one report
    good_t = np.where(bad, -np.inf, t)
    running = np.maximum.accumulate(np.concatenate(([-np.inf], good_t[:-1])))
    rule(t < running, "time", "timestamp goes backwards", "time >= the previous row's", t)
    return bad


def _check_book(
    book: np.ndarray,
    levels: int,
    path: Path,
    tick_size: int,
    repair: RepairReport | None,
    rows: np.ndarray,
) -> np.ndarray:
    """Return the mask of bad orderbook rows (all False unless repairing)."""
    n = book.shape[0]
    bad = np.zeros(n, dtype=bool)
    names = book_columns(levels)
    for j in range(4 * levels):
        side_is_ask = (j % 4) < 2
        is_price = j % 2 == 0
        col = book[:, j]
        if is_price:
            size = book[:, j + 1]
            dummy = DUMMY_ASK if side_is_ask else DUMMY_BID
            empty = col == dummy
            mask_bad = (~empty & ((col <= 0) | (col % tick_size != 0))) | (empty & (size != 0))
            expected = (
                f"a positive multiple of {tick_size}, or {dummy} with size 0 for an empty level"
            )
        else:
            price = book[:, j - 1]
            dummy = DUMMY_ASK if side_is_ask else DUMMY_BID
            mask_bad = (price != dummy) & (col <= 0)
            expected = "a positive size on a non-empty level"
        mask_bad &= ~bad
        if mask_bad.any():
            if repair is None:
                i = int(np.flatnonzero(mask_bad)[0])
                raise DataError(
                    "bad orderbook value",
                    path=path,
                    row=int(rows[i]) + 1,
                    field=names[j],
                    expected=expected,
                    got=int(col[i]),
                )
            for i in map(int, np.flatnonzero(mask_bad)):
                repair.add(
                    path,
                    int(rows[i]) + 1,
                    names[j],
                    f"bad orderbook value (expected {expected}, got {int(col[i])})",
                )
            bad |= mask_bad
    # levels must be strictly ordered and the book must not be crossed
    ask, bid = book[:, 0::4], book[:, 2::4]
    if levels > 1:
        ask_real = ask[:, 1:] != DUMMY_ASK
        order_bad = (ask_real & (ask[:, 1:] <= ask[:, :-1])).any(axis=1)
        bid_real = bid[:, 1:] != DUMMY_BID
        order_bad |= (bid_real & (bid[:, 1:] >= bid[:, :-1])).any(axis=1)
        order_bad &= ~bad
        check_rows(
            order_bad,
            path=path,
            field_name="ask_price_*/bid_price_*",
            reason="levels out of order",
            expected="asks ascending and bids descending",
            got=lambda i: book[i, : 4 * min(levels, 3)].tolist(),
            repair=repair,
        )
        bad |= order_bad
    crossed = (ask[:, 0] != DUMMY_ASK) & (bid[:, 0] != DUMMY_BID) & (ask[:, 0] <= bid[:, 0]) & ~bad
    if crossed.any():
        if repair is None:
            i = int(np.flatnonzero(crossed)[0])
            raise DataError(
                "crossed book",
                path=path,
                row=int(rows[i]) + 1,
                field="ask_price_1",
                expected=f"best ask above best bid {int(bid[i, 0])}",
                got=int(ask[i, 0]),
            )
        for i in map(int, np.flatnonzero(crossed)):
            repair.add(
                path,
                int(rows[i]) + 1,
                "ask_price_1",
                f"crossed book (ask {ask[i, 0]} <= bid {bid[i, 0]})",
            )
        bad |= crossed
    return bad


# --------------------------------------------------------------------------- public API


def load_lobster(
    message_path: str | Path,
    orderbook_path: str | Path | None = None,
    *,
    symbol: str | None = None,
    date: dt.date | None = None,
    levels: int | None = None,
    tick_size: int = DEFAULT_TICK,
    repair: bool = False,
) -> LobsterDay:
    """Load and validate a LOBSTER message file and, optionally, its orderbook file.

    Parameters
    ----------
    message_path, orderbook_path
        The two files (plain or ``.gz``).
    symbol, date, levels
        Taken from the LOBSTER file names when not given.
    tick_size
        Quoting grid in LOBSTER price units (100 = one cent). Visible events and book
        prices must sit on it; hidden executions may trade between ticks.
    repair
        Drop bad rows (and their partner rows in the other file) and list them in
        ``report`` instead of raising on the first one.

    Raises
    ------
    DataError
        Naming file, row and field, on the first problem when ``repair`` is False, and
        always for problems no row drop can fix (row counts that differ, corrupt gzip).
    """
    mpath = Path(message_path)
    opath = None if orderbook_path is None else Path(orderbook_path)
    if tick_size <= 0:
        raise ValueError(f"tick_size must be positive, actually: {tick_size}")
    mname = parse_name(mpath)
    oname = None if opath is None else parse_name(opath)
    symbol = symbol or (mname.symbol if mname else None) or (oname.symbol if oname else None)
    date = date or (mname.date if mname else None) or (oname.date if oname else None)
    if symbol is None or date is None:
        raise DataError(
            "cannot tell symbol and date from the file name; pass symbol= and date=",
            path=mpath,
            expected="SYMBOL_YYYY-MM-DD_START_END_message_L.csv[.gz]",
            got=mpath.name,
        )
    report = RepairReport()
    rep = report if repair else None

    mcols, mkept = _read_matrix(mpath, list(MESSAGE_COLUMNS), ["f", "i", "i", "i", "i", "i"], rep)
    nmsg = mcols["time"].shape[0]
    mrows = mkept if mkept is not None else np.arange(nmsg)

    book: np.ndarray | None = None
    if opath is not None:
        if levels is None:
            levels = oname.levels if oname else None
        if levels is None:
            first = _decode(opath).split("\n", 1)[0]
            ncols = first.count(",") + 1
            if ncols % 4:
                raise DataError(
                    "orderbook column count is not a multiple of 4",
                    path=opath,
                    row=1,
                    expected="4 x levels columns",
                    got=ncols,
                )
            levels = ncols // 4
        names = book_columns(levels)
        bcols, bkept = _read_matrix(opath, names, ["i"] * len(names), rep)
        nbook = bcols[names[0]].shape[0]
        brows = bkept if bkept is not None else np.arange(nbook)
        if mkept is None and bkept is None and nmsg != nbook:
            raise DataError(
                "message and orderbook files have different row counts",
                path=opath,
                expected=f"{nmsg} rows, as in {mpath.name}",
                got=f"{nbook} rows",
            )
        book = np.column_stack([bcols[n] for n in names]).astype(np.int64, copy=False)
        if mkept is not None or bkept is not None:
            # the slow path dropped lines: keep only rows present in both files
            common = np.intersect1d(mrows, brows)
            for drop in np.setdiff1d(mrows, common):
                report.add(mpath, int(drop) + 1, "*", "partner orderbook row was dropped")
            for drop in np.setdiff1d(brows, common):
                report.add(opath, int(drop) + 1, "*", "partner message row was dropped")
            mi = np.searchsorted(mrows, common)
            bi = np.searchsorted(brows, common)
            mcols = {k: v[mi] for k, v in mcols.items()}
            book = book[bi]
            mrows = brows = common
        bad_book = _check_book(book, levels, opath, tick_size, rep, brows)
    else:
        levels = levels or (mname.levels if mname else 0)
        bad_book = np.zeros(nmsg, dtype=bool)

    bad_msg = _check_messages(mcols, mpath, tick_size, rep, mrows)
    bad = bad_msg | bad_book
    if bad.any():
        for i in map(int, np.flatnonzero(bad_msg & ~bad_book)):
            if opath is not None:
                report.add(opath, int(mrows[i]) + 1, "*", "partner message row was dropped")
        for i in map(int, np.flatnonzero(bad_book & ~bad_msg)):
            report.add(mpath, int(mrows[i]) + 1, "*", "partner orderbook row was dropped")
        keep = ~bad
        mcols = {k: v[keep] for k, v in mcols.items()}
        if book is not None:
            book = book[keep]

    events = to_events(mcols, date)
    instrument = Instrument(symbol=symbol, price_scale=PRICE_SCALE, tick_size=tick_size)
    return LobsterDay(
        symbol=symbol,
        date=date,
        levels=int(levels or 0),
        instrument=instrument,
        events=events,
        book=book,
        message_path=mpath,
        orderbook_path=opath,
        report=report,
    )


def to_events(cols: dict[str, np.ndarray], date: dt.date) -> np.ndarray:
    """Convert parsed LOBSTER message columns to canonical events."""
    n = cols["time"].shape[0]
    ev = empty_events(n)
    # the nearest double to a LOBSTER decimal is within 4e-12 s of it, so rounding to
    # the nanosecond recovers the exact value written in the file
    ts = np.rint(cols["time"] * 1e9).astype(np.int64) + midnight_ns(date)
    ev["ts_exchange"] = ts
    ev["ts_local"] = ts
    ev["event"] = cols["type"].astype(np.uint8)
    ev["side"] = cols["direction"].astype(np.int8)
    ev["order_id"] = cols["order_id"]
    ev["price"] = cols["price"]
    ev["qty"] = cols["size"]
    return ev


def write_lobster(
    out_dir: str | Path,
    *,
    symbol: str,
    date: dt.date,
    levels: int,
    events: np.ndarray,
    book: np.ndarray,
    start_s: int = 34_200,
    end_s: int = 57_600,
    gzip_files: bool = False,
) -> tuple[Path, Path]:
    """Write events and book snapshots as a LOBSTER message/orderbook pair.

    Returns the paths of the message and orderbook files.
    """
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"events must be EVENT_DTYPE, actually: {events.dtype}")
    if book.shape != (events.shape[0], 4 * levels):
        raise ValueError(
            f"book must have shape ({events.shape[0]}, {4 * levels}), actually: {book.shape}"
        )
    unknown = ~np.isin(events["event"], np.arange(1, 8))
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise ValueError(f"LOBSTER has no event type {int(events['event'][i])} (event {i})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{symbol}_{date.isoformat()}_{start_s * 1000}_{end_s * 1000}"
    suffix = ".csv.gz" if gzip_files else ".csv"
    mpath = out / f"{stem}_message_{levels}{suffix}"
    opath = out / f"{stem}_orderbook_{levels}{suffix}"
    ns = events["ts_exchange"] - midnight_ns(date)
    secs, frac = np.divmod(ns, 1_000_000_000)
    time_txt = np.char.add(np.char.add(secs.astype(str), "."), np.char.zfill(frac.astype(str), 9))
    msg = pl.DataFrame(
        {
            "time": time_txt,
            "type": events["event"].astype(np.int64),
            "order_id": events["order_id"],
            "size": events["qty"],
            "price": events["price"],
            "direction": events["side"].astype(np.int64),
        }
    )
    ob = pl.DataFrame({name: book[:, j] for j, name in enumerate(book_columns(levels))})
    for frame, path in ((msg, mpath), (ob, opath)):
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False)
        data = buf.getvalue()
        if gzip_files:
            import gzip

            data = gzip.compress(data, compresslevel=5)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return mpath, opath


def find_lobster_pairs(folder: str | Path) -> list[tuple[Path, Path]]:
    """Every (message, orderbook) pair in ``folder``, matched by name."""
    base = Path(folder)
    pairs = []
    for m in sorted(base.glob("*_message_*.csv*")):
        o = m.with_name(m.name.replace("_message_", "_orderbook_"))
        if o.exists():
            pairs.append((m, o))
    return pairs


__all__ = [
    "DUMMY_ASK",
    "DUMMY_BID",
    "LobsterDay",
    "book_columns",
    "find_lobster_pairs",
    "load_lobster",
    "parse_name",
    "to_events",
    "write_lobster",
]

_ = EventType  # re-exported vocabulary for readers of this module
