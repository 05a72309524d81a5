"""Tests of the Databento MBO loader.

Fixtures are tiny DBN files encoded with databento_dbn itself (Metadata and MBOMsg
serialise to DBN bytes; Transcoder compresses them), so every unit test runs
without the real data. Records with characters the encoder refuses (unknown
actions or sides) are made by patching the encoded bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import databento_dbn as dbn
import numpy as np
import pyarrow as pa
import pytest

from tradelearn.data.mbo import (
    MBO_PRICE_SCALE,
    MboData,
    load_mbo,
    mbo_instruments,
    split_by_instrument,
)
from tradelearn.data.schema import EVENT_DTYPE, EVENT_SCHEMA, EventFlag, EventType
from tradelearn.errors import DataError
from tradelearn.testing.realdata import real_path

ES = 17077
NQ = 17078
PX = 4_799_000_000_000  # 4799.00 in 1e-9 units
TICK = 250_000_000  # 0.25
ACTION_OFFSET = 38
SIDE_OFFSET = 39
RTYPE_OFFSET = 1
NAUTILUS = "crypto_lob/nautilus_samples"
# from_str gives the enum members their precise types for mypy (the stubs say str).
MBO = dbn.Schema.from_str("mbo")
DEFINITION = dbn.Schema.from_str("definition")
ZSTD = dbn.Compression.from_str("zstd")
DBN = dbn.Encoding.from_str("dbn")


def msg(
    action: str = "A",
    side: str = "B",
    *,
    price: int = PX,
    size: int = 2,
    ts: int = 1_000,
    order_id: int = 1,
    flags: int = dbn.F_LAST,
    iid: int = ES,
) -> bytes:
    """One encoded MBO record; ``ts_recv`` is ``ts + 5``."""
    record = dbn.MBOMsg(
        publisher_id=1,
        instrument_id=iid,
        ts_event=ts,
        order_id=order_id,
        price=price,
        size=size,
        action=dbn.Action.from_str(action),
        side=dbn.Side.from_str(side),
        ts_recv=ts + 5,
        flags=flags,
    )
    return bytes(record)


def patched(record: bytes, offset: int, value: bytes) -> bytes:
    return record[:offset] + value + record[offset + len(value) :]


def metadata(*, schema: dbn.Schema = MBO, mappings: dict[str, int] | None = None) -> bytes:
    day = dt.date(2023, 12, 25)
    maps = [
        SimpleNamespace(
            raw_symbol=sym,
            intervals=[
                SimpleNamespace(start_date=day, end_date=day + dt.timedelta(1), symbol=str(iid))
            ],
        )
        for sym, iid in (mappings if mappings is not None else {"ESH4": ES}).items()
    ]
    return bytes(
        dbn.Metadata(
            dataset="GLBX.MDP3",
            start=0,
            stype_in=dbn.SType.from_str("raw_symbol"),
            stype_out=dbn.SType.from_str("instrument_id"),
            schema=schema,
            symbols=list(mappings or {"ESH4": ES}),
            mappings=maps,
        )
    )


def write_dbn(
    path: Path,
    records: list[bytes],
    *,
    compress: bool = True,
    header: bytes | None = None,
) -> Path:
    raw = (metadata() if header is None else header) + b"".join(records)
    if compress:
        out = io.BytesIO()
        transcoder = dbn.Transcoder(out, DBN, ZSTD)
        transcoder.write(raw)
        transcoder.finish()
        raw = out.getvalue()
    path.write_bytes(raw)
    return path


def real_file(name: str) -> Path:
    return real_path(f"{NAUTILUS}/{name}")


def a_book_session() -> list[bytes]:
    """Every action once: add bid, add ask, modify, partial cancel, fill, trade, clear."""
    return [
        msg("A", "B", order_id=1, size=5, ts=100, flags=dbn.F_SNAPSHOT),
        msg(
            "A", "A", order_id=2, price=PX + TICK, size=3, ts=100, flags=dbn.F_SNAPSHOT | dbn.F_LAST
        ),
        msg("M", "B", order_id=1, price=PX - TICK, size=4, ts=200),
        msg("C", "A", order_id=2, price=PX + TICK, size=1, ts=300),
        msg("T", "N", order_id=0, price=PX + TICK, size=2, ts=400, flags=0),
        msg("F", "A", order_id=2, price=PX + TICK, size=2, ts=400),
        msg("R", "N", order_id=0, price=dbn.UNDEF_PRICE, size=0, ts=500),
    ]


# --------------------------------------------------------------------------- conversion


def test_load_mbo_maps_actions_sides_prices_and_flags_to_canonical_events(tmp_path: Path) -> None:
    data = load_mbo(write_dbn(tmp_path / "s.mbo.dbn.zst", a_book_session()))

    ev = data.events
    assert ev.dtype == EVENT_DTYPE
    assert ev["event"].tolist() == [
        EventType.ADD,
        EventType.ADD,
        EventType.MODIFY,
        EventType.CANCEL,
        EventType.TRADE,
        EventType.EXECUTE,
        EventType.CLEAR,
    ]
    assert ev["side"].tolist() == [1, -1, 1, -1, 0, -1, 0]
    assert ev["price"].tolist()[:6] == [PX, PX + TICK, PX - TICK, PX + TICK, PX + TICK, PX + TICK]
    assert ev["qty"].tolist() == [5, 3, 4, 1, 2, 2, 0]  # cancel: the size removed
    assert ev["order_id"].tolist() == [1, 2, 1, 2, 0, 2, 0]
    assert ev["ts_exchange"].tolist() == [100, 100, 200, 300, 400, 400, 500]
    assert ev["ts_local"].tolist() == [105, 105, 205, 305, 405, 405, 505]
    snap, last = int(EventFlag.SNAPSHOT), int(EventFlag.LAST)
    assert ev["flags"].tolist() == [snap, snap | last, last, last, 0, last, last]
    assert data.instrument_id.tolist() == [ES] * 7
    assert data.dataset == "GLBX.MDP3"
    assert len(data.report) == 0


def test_load_mbo_agrees_with_databento_decoder_record_by_record(tmp_path: Path) -> None:
    path = write_dbn(tmp_path / "s.mbo.dbn.zst", a_book_session())

    data = load_mbo(path)
    decoded = dbn.DBNDecoder(compression=ZSTD).write_and_decode(path.read_bytes())

    records = [r for r in decoded if isinstance(r, dbn.MBOMsg)]
    assert len(records) == len(data)
    for event, record in zip(data.events, records, strict=True):
        assert event["ts_exchange"] == record.ts_event
        assert event["ts_local"] == record.ts_recv
        assert event["order_id"] == record.order_id
        assert event["price"] == record.price
        assert event["qty"] == record.size


def test_load_mbo_reads_uncompressed_dbn(tmp_path: Path) -> None:
    path = write_dbn(tmp_path / "s.mbo.dbn", a_book_session(), compress=False)

    assert len(load_mbo(path)) == 7


def test_load_mbo_reads_records_that_carry_a_ts_out_timestamp(tmp_path: Path) -> None:
    header = bytes(
        dbn.Metadata(
            dataset="GLBX.MDP3",
            start=0,
            stype_in=None,
            stype_out=dbn.SType.from_str("instrument_id"),
            schema=MBO,
            ts_out=True,
        )
    )
    record = dbn.MBOMsg(
        publisher_id=1,
        instrument_id=ES,
        ts_event=10,
        order_id=7,
        price=PX,
        size=1,
        action=dbn.Action.from_str("A"),
        side=dbn.Side.from_str("A"),
        ts_recv=11,
        ts_out=99,
    )
    path = write_dbn(tmp_path / "live.dbn.zst", [bytes(record)] * 2, header=header)

    data = load_mbo(path)

    assert data.events["order_id"].tolist() == [7, 7]
    assert data.events["side"].tolist() == [-1, -1]


def test_load_mbo_when_file_has_no_records_then_events_are_empty(tmp_path: Path) -> None:
    data = load_mbo(write_dbn(tmp_path / "empty.dbn.zst", []))

    assert len(data) == 0
    assert data.events.dtype == EVENT_DTYPE
    assert mbo_instruments(data) == []


def test_load_mbo_maps_instrument_ids_to_symbols_from_metadata(tmp_path: Path) -> None:
    header = metadata(mappings={"ESH4": ES, "NQH4": NQ})
    path = write_dbn(tmp_path / "s.dbn", [msg(iid=ES), msg(iid=NQ, ts=2_000)], header=header)

    data = load_mbo(path)

    assert data.symbols == {ES: "ESH4", NQ: "NQH4"}
    assert data.symbol(NQ) == "NQH4"


def test_load_mbo_when_metadata_has_no_mapping_then_symbol_is_the_instrument_id(
    tmp_path: Path,
) -> None:
    path = write_dbn(tmp_path / "s.dbn", [msg(iid=42)], header=metadata(mappings={}))

    assert load_mbo(path).symbols == {42: "42"}


def test_load_mbo_skips_none_actions_and_moves_their_last_flag_to_the_previous_event(
    tmp_path: Path,
) -> None:
    records = [
        msg("A", order_id=1, flags=0),
        msg("N", "N", order_id=0, price=dbn.UNDEF_PRICE, size=0, flags=dbn.F_LAST),
        msg("A", order_id=2, ts=2_000),
    ]

    data = load_mbo(write_dbn(tmp_path / "s.dbn.zst", records))

    assert data.events["order_id"].tolist() == [1, 2]
    assert data.events["flags"].tolist() == [int(EventFlag.LAST)] * 2
    assert data.skipped_none == 1
    assert len(data.report) == 0


def test_load_mbo_to_arrow_has_event_schema_plus_instrument_id(tmp_path: Path) -> None:
    table = load_mbo(write_dbn(tmp_path / "s.dbn.zst", a_book_session())).to_arrow()

    assert table.schema.names == [*EVENT_SCHEMA.names, "instrument_id"]
    assert table.schema.field("instrument_id").type == pa.uint32()
    assert table.num_rows == 7


def test_split_by_instrument_keeps_file_order_within_each_instrument(tmp_path: Path) -> None:
    header = metadata(mappings={"ESH4": ES, "NQH4": NQ})
    records = [
        msg(iid=NQ, order_id=1, ts=1),
        msg(iid=ES, order_id=2, ts=2),
        msg(iid=NQ, order_id=3, ts=3),
    ]
    data = load_mbo(write_dbn(tmp_path / "s.dbn.zst", records, header=header))

    parts = split_by_instrument(data)

    assert list(parts) == [ES, NQ]
    assert parts[NQ].events["order_id"].tolist() == [1, 3]
    assert parts[ES].symbols == {ES: "ESH4"}
    assert all(isinstance(part, MboData) for part in parts.values())


def test_mbo_instruments_infers_tick_as_gcd_of_quoted_prices_unless_given(tmp_path: Path) -> None:
    header = metadata(mappings={"ESH4": ES, "NQH4": NQ})
    records = [
        msg(iid=ES, price=PX, ts=1),
        msg(iid=ES, price=PX + TICK, ts=2),
        msg(iid=NQ, price=PX, ts=3),
    ]
    data = load_mbo(write_dbn(tmp_path / "s.dbn.zst", records, header=header))

    es, nq = mbo_instruments(data, tick_sizes={NQ: TICK})

    assert (es.symbol, es.tick_size, es.price_scale) == ("ESH4", TICK, MBO_PRICE_SCALE)
    assert (nq.symbol, nq.tick_size) == ("NQH4", TICK)


# --------------------------------------------------------------------------- record errors


@pytest.mark.parametrize(
    ("record", "field", "reason", "got"),
    [
        (patched(msg(), ACTION_OFFSET, b"X"), "action", "unknown action", "'X'"),
        (patched(msg(), SIDE_OFFSET, b"Q"), "side", "unknown side", "'Q'"),
        (msg("A", price=0), "price", "non-positive price", "0"),
        (msg("M", price=-TICK), "price", "non-positive price", str(-TICK)),
        (msg("A", price=dbn.UNDEF_PRICE), "price", "UNDEF_PRICE", str(dbn.UNDEF_PRICE)),
        (msg("A", size=0), "size", "non-positive size", "0"),
        (msg("C", size=0), "size", "non-positive size", "0"),
        (msg("F", size=0), "size", "non-positive size", "0"),
    ],
    ids=[
        "action",
        "side",
        "add-price-0",
        "modify-price-neg",
        "undef-price",
        "add-0",
        "cancel-0",
        "fill-0",
    ],
)
def test_load_mbo_when_record_is_bad_then_error_names_file_record_and_field(
    tmp_path: Path, record: bytes, field: str, reason: str, got: str
) -> None:
    path = write_dbn(tmp_path / "bad.mbo.dbn.zst", [msg(order_id=9), record])

    with pytest.raises(DataError) as info:
        load_mbo(path)

    err = info.value
    assert (err.row, err.field) == (2, field)
    assert "bad.mbo.dbn.zst, row 2, field '" + field + "'" in str(err)
    assert reason in str(err)
    assert f"got {got}" in str(err)


def test_load_mbo_when_ts_recv_decreases_then_error_names_record_and_field(
    tmp_path: Path,
) -> None:
    path = write_dbn(tmp_path / "t.dbn.zst", [msg(ts=500), msg(ts=600), msg(ts=400)])

    with pytest.raises(DataError, match=r"t\.dbn\.zst, row 3, field 'ts_recv': ts_recv decreases"):
        load_mbo(path)


def test_load_mbo_when_repairing_then_bad_records_are_dropped_and_reported(tmp_path: Path) -> None:
    records = [
        msg(order_id=1, ts=100),
        msg(order_id=2, price=0, ts=200),
        msg(order_id=3, ts=50),  # ts_recv goes back
        patched(msg(order_id=4, ts=300), ACTION_OFFSET, b"Z"),
        msg(order_id=5, ts=400),
    ]

    data = load_mbo(write_dbn(tmp_path / "r.dbn.zst", records), repair=True)

    assert data.events["order_id"].tolist() == [1, 5]
    assert [(bad.row, bad.field) for bad in data.report.dropped] == [
        (4, "action"),
        (2, "price"),
        (3, "ts_recv"),
    ]
    assert all(bad.path.endswith("r.dbn.zst") for bad in data.report.dropped)


def test_load_mbo_when_repair_drops_a_packet_end_then_last_flag_moves_back(tmp_path: Path) -> None:
    records = [msg(order_id=1, flags=0), msg(order_id=2, price=0, flags=dbn.F_LAST)]

    data = load_mbo(write_dbn(tmp_path / "r.dbn.zst", records), repair=True)

    assert data.events["flags"].tolist() == [int(EventFlag.LAST)]


def test_load_mbo_when_stream_holds_a_non_mbo_record_then_error_names_record_and_rtype(
    tmp_path: Path,
) -> None:
    path = write_dbn(tmp_path / "m.dbn", [msg(), patched(msg(), RTYPE_OFFSET, b"\x16")])

    with pytest.raises(DataError, match=r"m\.dbn, row 2, field 'rtype': record is not an MBO"):
        load_mbo(path)
    assert len(load_mbo(path, repair=True)) == 1


def test_load_mbo_when_last_record_is_cut_then_error_names_record(tmp_path: Path) -> None:
    path = write_dbn(tmp_path / "cut.dbn", [msg(), msg()[:30]], compress=False)

    with pytest.raises(DataError, match=r"cut\.dbn, row 2, field 'length': record is truncated"):
        load_mbo(path)


# --------------------------------------------------------------------------- file errors


def test_load_mbo_when_zstd_is_truncated_then_error_names_the_file(tmp_path: Path) -> None:
    whole = write_dbn(tmp_path / "whole.dbn.zst", a_book_session() * 50).read_bytes()
    cut = tmp_path / "cut.dbn.zst"
    cut.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(DataError, match=r"cut\.dbn\.zst: zstd data is truncated or corrupt"):
        load_mbo(cut)


def test_load_mbo_when_file_is_not_dbn_then_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.dbn"
    path.write_bytes(b"date,open\n1,2\n")

    with pytest.raises(DataError, match=r"junk\.dbn: not a DBN file"):
        load_mbo(path)


def test_load_mbo_when_file_is_missing_then_error_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.dbn\.zst: file not found"):
        load_mbo(tmp_path / "nope.dbn.zst")


def test_load_mbo_when_schema_is_not_mbo_then_error_names_schema(tmp_path: Path) -> None:
    path = write_dbn(tmp_path / "def.dbn", [], header=metadata(schema=DEFINITION))

    with pytest.raises(DataError, match=r"def\.dbn, field 'schema': not an MBO file"):
        load_mbo(path)


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_load_mbo_real_esh4_20231225_has_68792_events_of_one_instrument() -> None:
    data = load_mbo(real_file("databento__esh4-glbx-mdp3-20231225.mbo.dbn.zst"))

    assert len(data) == 68_792
    assert data.symbols == {17077: "ESH4"}
    assert data.dataset == "GLBX.MDP3"
    assert len(data.report) == 0
    assert data.skipped_none == 0
    counts = Counter(EventType(e).name for e in data.events["event"])
    assert counts == {
        "ADD": 29_216,
        "CANCEL": 17_999,
        "MODIFY": 12_233,
        "EXECUTE": 6_371,
        "TRADE": 2_973,
    }
    assert bool(np.all(np.diff(data.events["ts_local"]) >= 0))
    snapshot = (data.events["flags"] & int(EventFlag.SNAPSHOT)) != 0
    assert int(snapshot.sum()) == 8_725  # the start-of-session book replay
    assert [i.tick_size for i in mbo_instruments(data)] == [TICK]


@pytest.mark.shared_data
def test_load_mbo_real_esh4_20231224_is_a_snapshot_of_8725_adds() -> None:
    data = load_mbo(real_file("databento__esh4-glbx-mdp3-20231224.mbo.dbn.zst"))

    assert len(data) == 8_725
    assert set(data.events["event"].tolist()) == {int(EventType.ADD)}
    assert bool(np.all(data.events["flags"] & int(EventFlag.SNAPSHOT)))


@pytest.mark.shared_data
def test_load_mbo_real_esm4_catalog_file_starts_with_a_clear() -> None:
    name = (
        "databento__order_book_deltas_catalog__databento__orderbooks_mbo_"
        "2024-05-08T00-00-00_2024-05-08T00-00-02.dbn.zst"
    )
    data = load_mbo(real_file(name))

    assert len(data) == 13_796
    assert data.symbols == {5602: "ESM4"}
    assert data.events["event"][0] == EventType.CLEAR


@pytest.mark.shared_data
def test_load_mbo_real_definition_file_is_rejected_as_not_mbo() -> None:
    path = real_file(
        "databento__order_book_deltas_catalog__databento__orderbooks_definition.dbn.zst"
    )

    with pytest.raises(DataError, match=r"field 'schema': not an MBO file .*'definition'"):
        load_mbo(path)


@pytest.mark.shared_data
def test_load_mbo_real_truncated_copy_gives_error_naming_the_copy(tmp_path: Path) -> None:
    raw = real_file("databento__esh4-glbx-mdp3-20231225.mbo.dbn.zst").read_bytes()
    cut = tmp_path / "esh4-cut.mbo.dbn.zst"
    cut.write_bytes(raw[:-3])  # only the frame checksum is missing

    with pytest.raises(DataError, match=r"esh4-cut\.mbo\.dbn\.zst: zstd data is truncated"):
        load_mbo(cut)
