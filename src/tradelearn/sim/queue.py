"""The compiled queue tracker of the replay simulator.

:func:`track_events` walks a chunk of recorded events and keeps our resting orders'
queue positions (quantity ahead, ghost part, noted ids ahead) and the liquidity we took
(debt) up to date, stopping at the first event that fills us or that Python must handle
(MODIFY, CLEAR). The rules are written out in :mod:`tradelearn.sim.replay`. It never calls
the book's kernels (numba's cache would not see their changes).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from tradelearn.data.schema import EventType

_ADD = int(EventType.ADD)
_CANCEL = int(EventType.CANCEL)
_EXECUTE = int(EventType.EXECUTE)
_MODIFY = int(EventType.MODIFY)
_CLEAR = int(EventType.CLEAR)

# our resting orders, one row each in arrival order: side, recorded level faced, leaves,
# quantity ahead, ghost part of it, recorded level total, noted ids (offset, count into
# the id pool), quantity filled by the event the kernel stopped at
R_SIDE, R_PX, R_LEAVES, R_AHEAD, R_GHOST, R_LQ, R_AID0, R_AIDN, R_FILL = range(9)
R_NF = 9
# debt entries: side, recorded price, order id taken (0 ghost), quantity owed, level total
D_SIDE, D_PX, D_ID, D_QTY, D_LQ = range(5)
D_NF = 5
# what stopped the kernel
T_DONE, T_FILL, T_SPECIAL = 0, 1, 2
_BIG = 1 << 62


@njit(cache=True, error_model="numpy")
def _uniform(state: np.ndarray) -> float:
    """Next draw in [0, 1) of a splitmix64 stream kept in ``state[0]``."""
    z = state[0] + np.uint64(0x9E3779B97F4A7C15)
    state[0] = z
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, error_model="numpy")
def _member(AID: np.ndarray, a0: int, an: int, oid: int) -> bool:
    """Binary search of ``oid`` in the sorted ids ``AID[a0:a0 + an]``."""
    lo = a0
    hi = a0 + an
    while lo < hi:
        mid = (lo + hi) >> 1
        v = AID[mid]
        if v == oid:
            return True
        if v < oid:
            lo = mid + 1
        else:
            hi = mid
    return False


@njit(cache=True, error_model="numpy")
def _fill_row(OR: np.ndarray, r: int, qty: int) -> None:
    OR[r, R_FILL] += qty
    OR[r, R_LEAVES] -= qty


@njit(cache=True, error_model="numpy")
def _on_add(OR: np.ndarray, n_or: int, DB: np.ndarray, n_db: int, s: int, p: int, q: int) -> bool:
    """A recorded ADD at (s, p): track level totals; fill our orders it crosses."""
    for d in range(n_db):
        if DB[d, D_QTY] > 0 and DB[d, D_SIDE] == s and DB[d, D_PX] == p:
            DB[d, D_LQ] += q
    for r in range(n_or):
        if OR[r, R_LEAVES] > 0 and OR[r, R_SIDE] == s and OR[r, R_PX] == p:
            OR[r, R_LQ] += q
    rem = q
    while rem > 0:
        best = -1
        for r in range(n_or):
            if OR[r, R_LEAVES] <= 0 or OR[r, R_SIDE] != -s:
                continue
            a = OR[r, R_PX]
            if (a - p) * s <= 0 and (best < 0 or (a - OR[best, R_PX]) * s < 0):
                best = r
        if best < 0:
            break
        f = min(rem, OR[best, R_LEAVES])
        _fill_row(OR, best, f)
        rem -= f
    return rem != q


@njit(cache=True, error_model="numpy")
def _on_remove(
    OR: np.ndarray,
    n_or: int,
    AID: np.ndarray,
    DB: np.ndarray,
    n_db: int,
    code: int,
    s: int,
    p: int,
    oid: int,
    q: int,
    ghost: bool,
    l2: bool,
    power: float,
    rng: np.ndarray,
) -> bool:
    """A recorded CANCEL/DELETE/EXECUTE at (s, p): pay debt, move queues, fill us."""
    paid = 0
    debt = 0
    for d in range(n_db):
        if DB[d, D_QTY] > 0 and DB[d, D_SIDE] == s and DB[d, D_PX] == p:
            debt += DB[d, D_QTY]
    if debt > 0:
        if code == _EXECUTE or not l2:
            key = 0 if ghost else oid
            for d in range(n_db):
                here = DB[d, D_QTY] > 0 and DB[d, D_SIDE] == s and DB[d, D_PX] == p
                if here and DB[d, D_ID] == key:
                    t = min(q, DB[d, D_QTY])
                    DB[d, D_QTY] -= t
                    paid += t
                    break
        if code == _EXECUTE:
            for d in range(n_db):
                if paid >= q:
                    break
                if DB[d, D_QTY] > 0 and DB[d, D_SIDE] == s and DB[d, D_PX] == p:
                    t = min(q - paid, DB[d, D_QTY])
                    DB[d, D_QTY] -= t
                    paid += t
        for d in range(n_db):
            if DB[d, D_QTY] > 0 and DB[d, D_SIDE] == s and DB[d, D_PX] == p:
                lq = max(DB[d, D_LQ] - q, 0)
                DB[d, D_LQ] = lq
                if lq == 0:  # the recorded level emptied: nothing is left to owe
                    DB[d, D_QTY] = 0
    qe = q - paid
    used = 0
    filled = False
    for r in range(n_or):
        leaves = OR[r, R_LEAVES]
        if leaves <= 0 or OR[r, R_SIDE] != s:
            continue
        a = OR[r, R_PX]
        if a == p:
            lq = OR[r, R_LQ]
            OR[r, R_LQ] = max(lq - q, 0)
            if qe <= 0:
                continue
            ahead = OR[r, R_AHEAD]
            if code == _EXECUTE:
                dec = min(qe, ahead)
                ahead -= dec
                OR[r, R_GHOST] = max(OR[r, R_GHOST] - dec, 0)
                flow = qe - dec - used
                if flow > 0:
                    f = min(flow, leaves)
                    _fill_row(OR, r, f)
                    used += f
                    filled = True
            elif l2:
                behind = max(lq - debt - ahead, 0)
                fa = float(ahead) ** power
                fb = float(behind) ** power
                if fa > 0.0 and _uniform(rng) * (fa + fb) < fa:
                    ahead -= min(qe, ahead)
            elif ghost:
                t = min(qe, OR[r, R_GHOST])
                ahead -= t
                OR[r, R_GHOST] -= t
            elif _member(AID, OR[r, R_AID0], OR[r, R_AIDN], oid):
                ahead -= min(qe, ahead)
            OR[r, R_AHEAD] = ahead
            OR[r, R_GHOST] = min(OR[r, R_GHOST], ahead)
        elif code == _EXECUTE and (p - a) * s < 0:
            _fill_row(OR, r, leaves)  # the aggressor traded through our price
            filled = True
    return filled


@njit(cache=True, error_model="numpy")
def track_events(
    ev: np.ndarray,
    i0: int,
    i1: int,
    ghost: np.ndarray,
    OR: np.ndarray,
    n_or: int,
    AID: np.ndarray,
    DB: np.ndarray,
    n_db: int,
    l2: bool,
    power: float,
    rng: np.ndarray,
    ST: np.ndarray,
) -> int:
    """Scan ``ev[i0:i1]`` for events touching our orders or debt; return why it stopped.

    ``T_FILL``: event ``ST[0]`` filled us (``OR[:, R_FILL]``); ``T_SPECIAL``: event
    ``ST[0]`` is a MODIFY or CLEAR, not scanned; ``T_DONE``: ``ST[0] = i1``. The book itself
    is not touched: the caller applies the same events to it afterwards.
    """
    lo0 = _BIG
    hi0 = -_BIG
    lo1 = _BIG
    hi1 = -_BIG
    top0 = -_BIG  # our best bid level
    top1 = _BIG  # our best ask level
    for r in range(n_or):
        if OR[r, R_LEAVES] > 0:
            p = OR[r, R_PX]
            if OR[r, R_SIDE] == 1:
                lo0, hi0, top0 = min(lo0, p), max(hi0, p), max(top0, p)
            else:
                lo1, hi1, top1 = min(lo1, p), max(hi1, p), min(top1, p)
    for d in range(n_db):
        if DB[d, D_QTY] > 0:
            p = DB[d, D_PX]
            if DB[d, D_SIDE] == 1:
                lo0, hi0 = min(lo0, p), max(hi0, p)
            else:
                lo1, hi1 = min(lo1, p), max(hi1, p)
    for n in range(i0, i1):
        e = ev[n]
        code = e.event
        if code == _ADD:
            p = e.price
            s = int(e.side)
            # our level or debt, or a price crossing our best order on the other side
            hit = (lo0 <= p <= hi0 or p >= top1) if s == 1 else (lo1 <= p <= hi1 or p <= top0)
            if hit and _on_add(OR, n_or, DB, n_db, s, p, e.qty):
                ST[0] = n
                return T_FILL
        elif _CANCEL <= code <= _EXECUTE:
            p = e.price
            s = int(e.side)
            if s == 1:
                hit = (lo0 <= p <= hi0) or (code == _EXECUTE and p < top0)
            else:
                hit = (lo1 <= p <= hi1) or (code == _EXECUTE and p > top1)
            if hit and _on_remove(
                OR,
                n_or,
                AID,
                DB,
                n_db,
                int(code),
                s,
                p,
                e.order_id,
                e.qty,
                ghost[n] != 0,
                l2,
                power,
                rng,
            ):
                ST[0] = n
                return T_FILL
        elif code in (_MODIFY, _CLEAR):
            ST[0] = n
            return T_SPECIAL
    ST[0] = i1
    return T_DONE


def ghost_references(events: np.ndarray, first: int = 0) -> npt.NDArray[np.uint8]:
    """1 where a cancel/delete/execution names an id not added (ADD/MODIFY) before it.

    Adds before index ``first`` do not count (with orderbook rows, the book starts from
    row 0 as ghost liquidity). Id 0 is always ghost.
    """
    codes = events["event"]
    ids = events["order_id"]
    out = np.zeros(events.shape[0], dtype=np.uint8)
    rm = np.flatnonzero((codes >= _CANCEL) & (codes <= _EXECUTE))
    adds = np.flatnonzero((codes == _ADD) | (codes == _MODIFY))
    adds = adds[adds >= first]
    uniq, first_at = np.unique(ids[adds], return_index=True)
    first_pos = adds[first_at]
    rid = ids[rm]
    k = np.minimum(np.searchsorted(uniq, rid), max(uniq.shape[0] - 1, 0))
    known = np.zeros(rm.shape[0], dtype=bool)
    if uniq.shape[0]:
        known = (uniq[k] == rid) & (first_pos[k] < rm) & (rid != 0)
    out[rm] = ~known
    return out
