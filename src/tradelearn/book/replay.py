"""Replay LOBSTER messages through the book and verify it against LOBSTER's orderbook file.

The one-step check
------------------
A level-L LOBSTER file carries only the messages that touch its L visible levels, and the
book starts with orders that rested from before the open. Liquidity placed or cancelled
beyond the window appears or vanishes with no message, so a replay of the messages alone
drifts from the file. The check is therefore one step at a time:

1. The book is built from orderbook row 0 (ghost liquidity, see the reference rules);
   row 0 itself is not compared, since the book was made from it.
2. Before message k (k >= 1) the book's top L levels are compared with row k-1. Where they
   differ, the book is *corrected* to row k-1: every visible level is set to the file's
   size and levels inside the window that the file does not show are emptied. Each
   corrected message and level is counted.
3. After message k the book's top L levels are compared with row k (never with the row the
   book was corrected from). A row that is equal at every level is *matched*. A row that
   differs only because liquidity entered the window from beyond it is *matched in window*:
   levels 1..L-1 are equal on both sides, and on a side where level L differs, the file
   had L levels in row k-1 and row k's level-L price lies beyond row k-1's level-L price.
   Any other difference is *unexplained*: a bug in the book or in the data.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from tradelearn.book import kernels as K
from tradelearn.book.fast import FastBook
from tradelearn.book.reference import ASK, BID, ReferenceBook
from tradelearn.data.lobster import DUMMY_ASK, DUMMY_BID
from tradelearn.data.schema import EVENT_DTYPE

MAX_EXAMPLES = 64


@dataclass(frozen=True)
class ReplayReport:
    """What a replay measured (the CLI prints it as JSON)."""

    messages: int
    levels: int
    rows_compared: int
    rows_matched: int
    rows_matched_in_window: int
    unexplained: int
    match_rate: float
    match_rate_in_window: float
    corrections: int
    corrected_levels: int
    unknown_order_refs: int
    anomalies: int
    seconds: float
    messages_per_second: float
    unexplained_rows: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["unexplained_rows"] = list(self.unexplained_rows)
        return d


def _initial_book(events: np.ndarray, book: np.ndarray, tick: int, levels: int) -> FastBook:
    fb = FastBook.for_events(events, tick)
    row0 = book[0]
    for lvl in range(levels):
        ask_px, ask_q, bid_px, bid_q = (int(v) for v in row0[4 * lvl : 4 * lvl + 4])
        if ask_px != DUMMY_ASK:
            fb.set_level(-1, ask_px, ask_q)
        if bid_px != DUMMY_BID:
            fb.set_level(1, bid_px, bid_q)
    return fb


def verify(events: np.ndarray, book: np.ndarray, levels: int, tick: int) -> ReplayReport:
    """Replay ``events`` and run the one-step check against ``book`` (LOBSTER layout)."""
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"events must be EVENT_DTYPE, actually: {events.dtype}")
    if book.shape != (events.shape[0], 4 * levels):
        raise ValueError(
            f"book must have shape ({events.shape[0]}, {4 * levels}), actually: {book.shape}"
        )
    n = int(events.shape[0])
    book = np.ascontiguousarray(book, dtype=np.int64)
    t0 = time.perf_counter()
    fb = _initial_book(events, book, tick, levels) if n else FastBook(tick)
    C = np.zeros(8, dtype=np.int64)
    C[K.C_NEXT] = 1
    examples = np.zeros(MAX_EXAMPLES, dtype=np.int64)
    while n:
        status = K.verify_kernel(events, book, levels, fb.LV, fb.O, fb.FR, fb.H, fb.M, C, examples)
        if status == K.OK:
            break
        if status == K.NEED_GRID:
            fb.ensure_price(int(fb.M[K.M_STOP]))
        elif status == K.NEED_SLOTS:
            fb.grow_slots()
        else:
            fb.grow_hash()
    seconds = time.perf_counter() - t0
    compared = int(C[K.C_COMPARED])
    matched = int(C[K.C_MATCHED])
    in_window = matched + int(C[K.C_IN_WINDOW])
    return ReplayReport(
        messages=n,
        levels=levels,
        rows_compared=compared,
        rows_matched=matched,
        rows_matched_in_window=in_window,
        unexplained=int(C[K.C_UNEXPLAINED]),
        match_rate=matched / compared if compared else 1.0,
        match_rate_in_window=in_window / compared if compared else 1.0,
        corrections=int(C[K.C_CORR_MSGS]),
        corrected_levels=int(C[K.C_CORR_LEVELS]),
        unknown_order_refs=fb.unknown_refs,
        anomalies=fb.anomalies,
        seconds=seconds,
        messages_per_second=n / seconds if seconds > 0 else float("inf"),
        unexplained_rows=tuple(int(x) + 1 for x in examples[: int(C[K.C_NEX])]),
    )


def replay(events: np.ndarray, tick: int, book: FastBook | None = None) -> tuple[FastBook, float]:
    """Apply every event to a (new) book; return the book and the seconds it took."""
    fb = book if book is not None else FastBook.for_events(events, tick)
    t0 = time.perf_counter()
    fb.apply(events)
    return fb, time.perf_counter() - t0


def _correct_reference(ref: ReferenceBook, row: np.ndarray, levels: int) -> int:
    changed = 0
    for side, off, dummy in ((ASK, 0, DUMMY_ASK), (BID, 2, DUMMY_BID)):
        shown = [(int(row[4 * lvl + off]), int(row[4 * lvl + off + 1])) for lvl in range(levels)]
        shown = [(p, q) for p, q in shown if p != dummy]
        for p, q in shown:
            changed += ref.set_level(side, p, q)
        prices = {p for p, _ in shown}
        full = len(shown) == levels
        edge = shown[-1][0] if full else None
        for p in ref.prices(side):
            if edge is not None and (p > edge if side == ASK else p < edge):
                break
            if p not in prices:
                changed += ref.set_level(side, p, 0)
    return changed


def verify_reference(
    events: np.ndarray, book: np.ndarray, levels: int, stop: int | None = None
) -> tuple[ReplayReport, ReferenceBook]:
    """The one-step check run on the plain-Python reference book (slow; for parity tests)."""
    n = int(events.shape[0]) if stop is None else stop
    t0 = time.perf_counter()
    ref = ReferenceBook()
    if n:
        _correct_reference(ref, book[0], levels)
    compared = matched = in_window = corr_msgs = corr_levels = 0
    examples: list[int] = []
    for k in range(1, n):
        prev = book[k - 1]
        if ref.snapshot(levels, DUMMY_ASK, DUMMY_BID) != prev.tolist():
            corr_msgs += 1
            corr_levels += _correct_reference(ref, prev, levels)
        e = events[k]
        ref.apply(
            int(e["event"]), int(e["order_id"]), int(e["side"]), int(e["price"]), int(e["qty"])
        )
        snap = np.array(ref.snapshot(levels, DUMMY_ASK, DUMMY_BID), dtype=np.int64)
        compared += 1
        if np.array_equal(snap, book[k]):
            matched += 1
        elif K.in_window(snap, book[k], prev, levels):
            in_window += 1
        elif len(examples) < MAX_EXAMPLES:
            examples.append(k + 1)
    seconds = time.perf_counter() - t0
    return (
        ReplayReport(
            messages=n,
            levels=levels,
            rows_compared=compared,
            rows_matched=matched,
            rows_matched_in_window=matched + in_window,
            unexplained=compared - matched - in_window,
            match_rate=matched / compared if compared else 1.0,
            match_rate_in_window=(matched + in_window) / compared if compared else 1.0,
            corrections=corr_msgs,
            corrected_levels=corr_levels,
            unknown_order_refs=ref.unknown_refs,
            anomalies=ref.anomalies,
            seconds=seconds,
            messages_per_second=n / seconds if seconds > 0 else float("inf"),
            unexplained_rows=tuple(examples),
        ),
        ref,
    )
