"""Load Databento MBO (market-by-order) files into the canonical event layout.

A DBN file is a header (``b"DBN"``, a version byte, a little-endian ``u32`` metadata
length and the metadata) followed by fixed-layout records, the whole optionally
compressed with Zstandard (``.dbn.zst``). The header is decoded by
:mod:`databento_dbn`; the records, which for the MBO schema all share the 56-byte
``MboMsg`` layout, are viewed as a NumPy structured array so that conversion and
validation are vectorised (decoding one Python object per record and reading its
fields is ~7x slower: about 9 ms against 64 ms for 68,792 records).
Tests check the result against ``databento_dbn.DBNDecoder`` record by record.

Mapping to :data:`~tradelearn.data.schema.EVENT_DTYPE`
-----------------------------------------------------
=======  =====================  ==============================================
action   event                  notes
=======  =====================  ==============================================
``A``    ``ADD``
``C``    ``CANCEL``             ``qty`` is the size cancelled (may be partial)
``M``    ``MODIFY``             ``price``/``qty`` are the new values
``R``    ``CLEAR``              price is usually ``UNDEF_PRICE``, kept as is
``T``    ``TRADE``              side of the aggressor, may be ``N``
``F``    ``EXECUTE``            side of the resting order, may be ``N``
``N``    (skipped)              carries no book change; see below
=======  =====================  ==============================================

``ts_exchange`` is ``ts_event`` and ``ts_local`` is ``ts_recv`` (ns since the epoch);
side ``B`` is +1, ``A`` is -1 and ``N`` is 0; prices stay in Databento's 1e-9 units.
``F_SNAPSHOT`` becomes :attr:`EventFlag.SNAPSHOT` and ``F_LAST`` becomes
:attr:`EventFlag.LAST`.

Records whose action is ``N`` (none) are skipped and counted in
:attr:`MboData.skipped_none`. When a skipped (or, under repair, dropped) record
ends an exchange packet (``F_LAST``), the flag moves to the preceding kept event so
that consumers still see where the book is consistent.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import databento_dbn
import numpy as np
import pyarrow as pa

from tradelearn.data.schema import (
    EventFlag,
    EventType,
    Instrument,
    Side,
    empty_events,
    events_to_arrow,
)
from tradelearn.data.validation import RepairReport, first_true
from tradelearn.errors import DataError

__all__ = [
    "MBO_PRICE_SCALE",
    "MboData",
    "load_mbo",
    "mbo_instruments",
    "split_by_instrument",
]

MBO_PRICE_SCALE: int = int(databento_dbn.FIXED_PRICE_SCALE)
"""Databento price units per currency unit (1e9)."""

UNDEF_PRICE: int = int(databento_dbn.UNDEF_PRICE)
_I64_MAX = np.iinfo(np.int64).max
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_DBN_MAGIC = b"DBN"
_MBO_RTYPE = 0xA0
_MBO_SIZE = 56
_TS_OUT_SIZE = 8

# The C layout of DBN's MboMsg (identical in DBN versions 1 to 3), little-endian.
_MBO_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("length", "u1", 0),
    ("rtype", "u1", 1),
    ("publisher_id", "<u2", 2),
    ("instrument_id", "<u4", 4),
    ("ts_event", "<u8", 8),
    ("order_id", "<u8", 16),
    ("price", "<i8", 24),
    ("size", "<u4", 32),
    ("flags", "u1", 36),
    ("channel_id", "u1", 37),
    ("action", "u1", 38),
    ("side", "u1", 39),
    ("ts_recv", "<u8", 40),
    ("ts_in_delta", "<i4", 48),
    ("sequence", "<u4", 52),
)


def _record_dtype(itemsize: int) -> np.dtype[np.void]:
    """MboMsg dtype; ``itemsize`` is 64 when each record carries a trailing ts_out."""
    return np.dtype(
        {
            "names": [n for n, _, _ in _MBO_FIELDS],
            "formats": [f for _, f, _ in _MBO_FIELDS],
            "offsets": [o for _, _, o in _MBO_FIELDS],
            "itemsize": itemsize,
        }
    )


# Lookup tables indexed by the action/side byte; 0 in _ACTION_TABLE means unknown.
_SKIP = 255
_ACTION_TABLE = np.zeros(256, dtype=np.uint8)
for _code, _event in {
    "A": EventType.ADD,
    "C": EventType.CANCEL,
    "M": EventType.MODIFY,
    "R": EventType.CLEAR,
    "T": EventType.TRADE,
    "F": EventType.EXECUTE,
}.items():
    _ACTION_TABLE[ord(_code)] = int(_event)
_ACTION_TABLE[ord("N")] = _SKIP

_BAD_SIDE = 2
_SIDE_TABLE = np.full(256, _BAD_SIDE, dtype=np.int8)
_SIDE_TABLE[ord("B")] = int(Side.BID)
_SIDE_TABLE[ord("A")] = int(Side.ASK)
_SIDE_TABLE[ord("N")] = int(Side.NONE)


@dataclass(frozen=True, eq=False)
class MboData:
    """Events of one Databento MBO file in the canonical layout.

    Attributes
    ----------
    events
        :data:`EVENT_DTYPE` array in file order.
    instrument_id
        Databento instrument id of each event (``uint32``, aligned with ``events``).
    symbols
        Instrument id to symbol, from the file's symbology mappings; ids without a
        mapping map to their decimal string.
    dataset
        Databento dataset code, e.g. ``"GLBX.MDP3"``.
    path
        The source file.
    report
        Records dropped under ``repair=True`` (empty otherwise).
    skipped_none
        Number of records with action ``N`` that were skipped by design.
    """

    events: np.ndarray
    instrument_id: np.ndarray
    symbols: dict[int, str]
    dataset: str
    path: Path
    report: RepairReport = field(default_factory=RepairReport)
    skipped_none: int = 0

    def __len__(self) -> int:
        return int(self.events.shape[0])

    @property
    def instrument_ids(self) -> list[int]:
        """Distinct instrument ids present, ascending."""
        return [int(i) for i in np.unique(self.instrument_id)]

    def symbol(self, instrument_id: int) -> str:
        """Symbol of ``instrument_id`` (its decimal string when the file has no mapping)."""
        return self.symbols.get(int(instrument_id), str(int(instrument_id)))

    def to_arrow(self) -> pa.Table:
        """Events as an Arrow table (:data:`EVENT_SCHEMA` plus ``instrument_id``)."""
        table = events_to_arrow(self.events)
        return table.append_column(
            pa.field("instrument_id", pa.uint32(), nullable=False),
            pa.array(np.ascontiguousarray(self.instrument_id, dtype=np.uint32)),
        )


def load_mbo(path: str | Path, *, repair: bool = False) -> MboData:
    """Load a Databento MBO file (``.dbn`` or ``.dbn.zst``) into canonical events.

    Parameters
    ----------
    path
        The DBN file, plain or Zstandard-compressed.
    repair
        When False (default) the first bad record raises :class:`DataError`; when
        True every bad record is dropped and listed in :attr:`MboData.report`.

    Returns
    -------
    MboData
        The events, per-event instrument ids, symbol mapping and repair report.

    Raises
    ------
    DataError
        The file is missing, truncated or corrupt, is not of the MBO schema, or a
        record breaks a rule; the message names the file, the record (``row``,
        1-based, counting records after the header) and the field. Rules: known
        action and side characters; defined timestamps and order id; ADD/MODIFY
        price defined (not ``UNDEF_PRICE``) and positive; ADD/CANCEL/FILL size
        positive; ``ts_recv`` never decreasing.
    """
    p = Path(path)
    buf = _decompressed(p)
    metadata, body_start = _metadata(buf, p)
    schema = metadata.schema
    if schema is not None and schema != databento_dbn.Schema.MBO:
        raise DataError(
            "not an MBO file",
            path=p,
            field="schema",
            expected="mbo",
            got=str(schema),
        )
    report = RepairReport()
    itemsize = _MBO_SIZE + (_TS_OUT_SIZE if metadata.ts_out else 0)
    recs, rows = _records(buf, body_start, itemsize, p, report if repair else None)
    return _convert(recs, rows, metadata, p, report, repair)


def split_by_instrument(data: MboData) -> dict[int, MboData]:
    """Split a multi-instrument file into one :class:`MboData` per instrument id.

    Parameters
    ----------
    data
        Loaded MBO data.

    Returns
    -------
    dict of int to MboData
        Keyed by instrument id in ascending order; each part keeps file order, the
        dataset, path and (shared) repair report of ``data``. ``skipped_none`` is a
        count for the whole file and stays on ``data`` (parts carry 0).
    """
    out: dict[int, MboData] = {}
    for iid in data.instrument_ids:
        mask = data.instrument_id == iid
        out[iid] = MboData(
            events=data.events[mask],
            instrument_id=data.instrument_id[mask],
            symbols={iid: data.symbol(iid)},
            dataset=data.dataset,
            path=data.path,
            report=data.report,
            skipped_none=0,
        )
    return out


def mbo_instruments(
    data: MboData, *, tick_sizes: Mapping[int, int] | None = None
) -> list[Instrument]:
    """Describe each instrument of ``data`` as an :class:`Instrument`.

    Parameters
    ----------
    data
        Loaded MBO data.
    tick_sizes
        Known tick sizes in 1e-9 units by instrument id (e.g. a definition's
        ``min_price_increment``). Where absent the tick is inferred as the greatest
        common divisor of the instrument's ADD/MODIFY prices: a multiple of the true
        tick, equal to it once enough distinct prices appear.

    Returns
    -------
    list of Instrument
        One per id in :attr:`MboData.instrument_ids` order, with
        ``price_scale`` = :data:`MBO_PRICE_SCALE`.
    """
    known = dict(tick_sizes or {})
    quoting = np.isin(data.events["event"], [int(EventType.ADD), int(EventType.MODIFY)])
    out = []
    for iid in data.instrument_ids:
        tick = known.get(iid)
        if tick is None:
            prices = data.events["price"][quoting & (data.instrument_id == iid)]
            prices = prices[(prices > 0) & (prices != UNDEF_PRICE)]
            tick = int(np.gcd.reduce(prices)) if prices.size else 1
        out.append(Instrument(symbol=data.symbol(iid), price_scale=MBO_PRICE_SCALE, tick_size=tick))
    return out


# --------------------------------------------------------------------------- reading


def _decompressed(p: Path) -> bytes:
    """The DBN bytes of ``p``, decompressing Zstandard and naming the file on failure."""
    if not p.is_file():
        raise DataError("file not found", path=p)
    raw = p.read_bytes()
    if raw[:4] == _ZSTD_MAGIC:
        # databento_dbn's decoder silently stops at a truncated zstd frame; Arrow's
        # streaming decompressor reports truncation and corruption.
        try:
            with pa.CompressedInputStream(pa.BufferReader(raw), "zstd") as stream:
                data = stream.read()
        except (OSError, pa.ArrowException) as exc:
            raise DataError(
                f"zstd data is truncated or corrupt ({exc})",
                path=p,
                expected="a complete zstd stream",
                got=f"{len(raw)} bytes that do not decompress",
            ) from exc
        return bytes(data)
    if raw[:3] == _DBN_MAGIC:
        return raw
    raise DataError(
        "not a DBN file",
        path=p,
        expected="DBN data, plain or zstd-compressed",
        got=raw[:8],
    )


def _metadata(buf: bytes, p: Path) -> tuple[Any, int]:
    """Decode the DBN header; return the metadata and the offset of the first record."""
    if buf[:3] != _DBN_MAGIC or len(buf) < 8:
        raise DataError("DBN header is missing", path=p, expected="b'DBN' + version", got=buf[:8])
    (length,) = struct.unpack_from("<I", buf, 4)
    end = 8 + length
    if len(buf) < end:
        raise DataError(
            "DBN metadata is truncated",
            path=p,
            expected=f"{end} header bytes",
            got=f"{len(buf)} bytes",
        )
    try:
        metadata = databento_dbn.Metadata.decode(buf[:end])
    except (databento_dbn.DBNError, ValueError) as exc:
        raise DataError(f"DBN metadata does not decode ({exc})", path=p) from exc
    return metadata, end


def _records(
    buf: bytes, start: int, itemsize: int, p: Path, repair: RepairReport | None
) -> tuple[np.ndarray, np.ndarray]:
    """View the MBO records of ``buf[start:]``; return them and their 1-based numbers."""
    body = memoryview(buf)[start:]
    dtype = _record_dtype(itemsize)
    n = len(body) // itemsize
    if len(body) % itemsize == 0:
        recs = np.frombuffer(body, dtype=dtype, count=n)
        if bool(np.all(recs["length"] == itemsize // 4)) and bool(
            np.all(recs["rtype"] == _MBO_RTYPE)
        ):
            return recs, np.arange(1, n + 1, dtype=np.int64)
    return _walk_records(body, itemsize, p, repair)


def _walk_records(
    body: memoryview, itemsize: int, p: Path, repair: RepairReport | None
) -> tuple[np.ndarray, np.ndarray]:
    """Slow path for streams that mix record types or end mid-record.

    Walks the record headers one by one (the length byte counts 4-byte words) and
    keeps the MBO records; anything else is an error, or a dropped row under repair.
    """
    offsets: list[int] = []
    rows: list[int] = []
    pos, row, size = 0, 0, len(body)
    while pos < size:
        row += 1
        length = body[pos] * 4
        if length == 0 or pos + length > size:
            reason = "record is truncated"
            expected, got = f"{length or itemsize} bytes", f"{size - pos} bytes left"
            if repair is None:
                raise DataError(reason, path=p, row=row, field="length", expected=expected, got=got)
            repair.add(p, row, "length", f"{reason} (expected {expected}, got {got!r})")
            break
        rtype = body[pos + 1] if pos + 1 < size else -1
        if rtype != _MBO_RTYPE or length != itemsize:
            reason = "record is not an MBO message"
            expected, got = f"rtype {_MBO_RTYPE:#04x} of {itemsize} bytes", f"rtype {rtype:#04x}"
            if repair is None:
                raise DataError(reason, path=p, row=row, field="rtype", expected=expected, got=got)
            repair.add(p, row, "rtype", f"{reason} (expected {expected}, got {got!r})")
        else:
            offsets.append(pos)
            rows.append(row)
        pos += length
    raw = np.frombuffer(body, dtype=np.uint8)
    idx = np.asarray(offsets, dtype=np.int64)[:, None] + np.arange(itemsize)
    recs = np.ascontiguousarray(raw[idx]).view(_record_dtype(itemsize)).reshape(-1)
    return recs, np.asarray(rows, dtype=np.int64)


# --------------------------------------------------------------------------- converting


def _convert(
    recs: np.ndarray,
    rows: np.ndarray,
    metadata: Any,
    p: Path,
    report: RepairReport,
    repair: bool,
) -> MboData:
    n = recs.shape[0]
    event = _ACTION_TABLE[recs["action"]]
    side = _SIDE_TABLE[recs["side"]]
    price = recs["price"]
    size = recs["size"]
    ts_recv = recs["ts_recv"]
    is_quote = (event == EventType.ADD) | (event == EventType.MODIFY)
    needs_size = (
        (event == EventType.ADD) | (event == EventType.CANCEL) | (event == EventType.EXECUTE)
    )

    bad = np.zeros(n, dtype=bool)
    checker = _Checker(p, rows, bad, report if repair else None)
    checker.check(
        event == 0,
        "action",
        "unknown action",
        "one of A, C, M, R, T, F, N",
        lambda i: chr(recs["action"][i]),
    )
    checker.check(
        side == _BAD_SIDE,
        "side",
        "unknown side",
        "one of B, A, N",
        lambda i: chr(recs["side"][i]),
    )
    # Unsigned 64-bit fields must fit int64; UNDEF_TIMESTAMP (u64 max) does not.
    for name in ("ts_event", "ts_recv", "order_id"):
        values = recs[name]
        checker.check(
            values > _I64_MAX,
            name,
            f"{name} is undefined or out of range",
            "a value below 2**63",
            _int_at(values),
        )
    checker.check(
        is_quote & (price == UNDEF_PRICE),
        "price",
        "price is undefined (UNDEF_PRICE)",
        "a defined price on ADD/MODIFY",
        _int_at(price),
    )
    checker.check(
        is_quote & (price <= 0),
        "price",
        "non-positive price",
        "a positive price on ADD/MODIFY",
        _int_at(price),
    )
    checker.check(
        needs_size & (size == 0),
        "size",
        "non-positive size",
        "a positive size on ADD/CANCEL/FILL",
        _int_at(size),
    )
    # Compare with the running maximum of the records kept so far, so that one bad
    # timestamp is reported once instead of poisoning every later record.
    ts = ts_recv.astype(np.int64)
    running = np.maximum.accumulate(np.where(bad, np.iinfo(np.int64).min, ts))
    previous = np.concatenate(([np.iinfo(np.int64).min], running[:-1]))
    checker.check(
        ts < previous,
        "ts_recv",
        "ts_recv decreases",
        "a value not below the previous record's",
        _int_at(ts),
    )

    is_none = event == _SKIP
    keep = ~bad & ~is_none
    out = empty_events(int(keep.sum()))
    out["ts_exchange"] = recs["ts_event"][keep].astype(np.int64)
    out["ts_local"] = ts[keep]
    out["event"] = event[keep]
    out["side"] = side[keep]
    out["order_id"] = recs["order_id"][keep].astype(np.int64)
    out["price"] = price[keep]
    out["qty"] = size[keep].astype(np.int64)
    flags = recs["flags"]
    snapshot = (flags & int(databento_dbn.F_SNAPSHOT)) != 0
    last = (flags & int(databento_dbn.F_LAST)) != 0
    last = _carry_last(last, keep)
    out["flags"] = np.where(snapshot[keep], int(EventFlag.SNAPSHOT), 0) | np.where(
        last[keep], int(EventFlag.LAST), 0
    )
    instrument_id = recs["instrument_id"][keep].astype(np.uint32)
    return MboData(
        events=out,
        instrument_id=instrument_id,
        symbols=_symbols(metadata, instrument_id),
        dataset=str(metadata.dataset),
        path=p,
        report=report,
        skipped_none=int((is_none & ~bad).sum()),
    )


def _int_at(values: np.ndarray) -> Callable[[int], object]:
    """The offending value at a 0-based index, as a Python int for the message."""
    return lambda i: int(values[i])


class _Checker:
    """Raise on, or record, the records breaking a rule, in rule order.

    Like :func:`tradelearn.data.validation.check_rows`, but rows are the records'
    own numbers (they are not contiguous once the slow path dropped some) and rows
    already bad are not reported again.
    """

    def __init__(
        self, p: Path, rows: np.ndarray, bad: np.ndarray, repair: RepairReport | None
    ) -> None:
        self.p = p
        self.rows = rows
        self.bad = bad
        self.repair = repair

    def check(
        self,
        mask: np.ndarray,
        field_name: str,
        reason: str,
        expected: str,
        got: Callable[[int], object],
    ) -> None:
        mask = mask & ~self.bad
        if not mask.any():
            return
        if self.repair is None:
            i = first_true(mask)
            raise DataError(
                reason,
                path=self.p,
                row=int(self.rows[i]),
                field=field_name,
                expected=expected,
                got=got(i),
            )
        for j in np.flatnonzero(mask):
            self.repair.add(
                self.p,
                int(self.rows[j]),
                field_name,
                f"{reason} (expected {expected}, got {got(int(j))!r})",
            )
        self.bad |= mask


def _carry_last(last: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Move ``F_LAST`` of removed records to the nearest preceding kept record."""
    moved = last & ~keep
    if not moved.any():
        return last
    kept_idx = np.flatnonzero(keep)
    target = np.searchsorted(kept_idx, np.flatnonzero(moved)) - 1
    out = last.copy()
    out[kept_idx[target[target >= 0]]] = True
    return out


def _symbols(metadata: Any, instrument_id: np.ndarray) -> dict[int, str]:
    """Instrument id to symbol from the metadata mappings, else the id as a string.

    With ``stype_out`` = instrument id, each mapping interval's ``symbol`` is the id
    that the raw symbol had over that interval; the first interval seen wins.
    """
    out: dict[int, str] = {}
    if metadata.stype_out == databento_dbn.SType.INSTRUMENT_ID:
        mappings: Mapping[str, Any] = metadata.mappings or {}
        for raw_symbol, intervals in mappings.items():
            for interval in intervals:
                value = interval["symbol"] if isinstance(interval, Mapping) else interval.symbol
                if str(value).isdigit():
                    out.setdefault(int(value), str(raw_symbol))
    for iid in np.unique(instrument_id):
        out.setdefault(int(iid), str(int(iid)))
    return out
