"""Compiled (numba) kernels of the L3 book.

The book is a set of flat int64 arrays so that numba compiles straight loads and
stores (see :class:`tradelearn.book.fast.FastBook` for the owner of the arrays):

* ``LV[s, i, f]`` per side ``s`` (0 bid, 1 ask) and level index ``i`` on a dense price
  grid (``price = base + i * tick``): ``f`` is QTY (total), CNT (orders), HEAD, TAIL
  (order slots of the FIFO queue, -1 when empty).
* ``O[k, f]`` per order slot ``k``: ID, QTY, LVL, SIDE (0/1), PREV, NEXT, TS (one order
  per cache line).
* ``H[j, 0]`` / ``H[j, 1]``: an open-addressing hash table (linear probing, backward-shift
  deletion) from order id to slot; key and value share a cache line.
* ``FR``: stack of free order slots.
* ``M``: scalars (see the ``M_*`` indices).

Kernels return a status: ``OK``, or ``NEED_GRID`` / ``NEED_SLOTS`` / ``NEED_HASH`` with
the event index in ``M[M_STOP]`` so that the Python owner grows an array and resumes.
The rules they implement are written out in :mod:`tradelearn.book.reference`.

Speed notes for :func:`apply_events` (the replay hot loop):

* Its common paths (add, cancel/execute/delete of a known id) are written out in the
  loop itself. A helper that takes arrays and is inlined by numba at the IR level
  (``inline="always"``) leaves ``NRT_incref``/``NRT_decref`` calls (atomic reference
  count updates) on the arrays in the caller's loop; those cost about as much as the
  book work itself. Only cold paths (unknown ids, corrections, MODIFY, CLEAR) call
  helpers.
* The scalars of ``M`` that change per event are local variables during the loop and are
  written back around every helper call and on return: a store into ``LV``/``O``/``H``
  may alias ``M`` for the compiler, so it would otherwise reload them after every store.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# LV fields
QTY, CNT, HEAD, TAIL = 0, 1, 2, 3
# O fields
O_ID, O_QTY, O_LVL, O_SIDE, O_PREV, O_NEXT, O_TS, O_HPOS = 0, 1, 2, 3, 4, 5, 6, 7
N_OFIELDS = 8  # one order fills one 64-byte cache line
# M scalars
M_BASE, M_TICK, M_NLEV, M_BEST_BID, M_BEST_ASK, M_NFREE = 0, 1, 2, 3, 4, 5
M_HMASK, M_HSHIFT, M_NORDERS, M_UNKNOWN, M_ANOMALY, M_STOP = 6, 7, 8, 9, 10, 11
M_SIZE = 16
# status codes
OK, NEED_GRID, NEED_SLOTS, NEED_HASH = 0, 1, 2, 3
EMPTY_KEY = -1

# event codes (tradelearn.data.schema.EventType)
E_ADD, E_CANCEL, E_DELETE, E_EXECUTE, E_MODIFY, E_CLEAR = (
    1,
    2,
    3,
    4,
    8,
    9,
)  # CANCEL..EXECUTE contiguous

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, error_model="numpy", inline="always")
def _home(key: int, shift: int) -> int:
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(shift))


@njit(cache=True, error_model="numpy", inline="always")
def level_index(price: int, base: int, tick: int) -> int:
    """Grid index of ``price``; a price below the grid gives a huge index (out of range)."""
    return np.int64(np.uint64(price - base) // np.uint64(tick))


@njit(cache=True, error_model="numpy", inline="always")
def hash_find(H: np.ndarray, M: np.ndarray, key: int) -> int:
    """Slot of order ``key``, or -1."""
    mask = M[M_HMASK]
    j = _home(key, M[M_HSHIFT])
    while True:
        k = H[j, 0]
        if k == key:
            return int(H[j, 1])
        if k == EMPTY_KEY:
            return -1
        j = (j + 1) & mask


@njit(cache=True, error_model="numpy")
def hash_insert(H: np.ndarray, M: np.ndarray, O: np.ndarray, key: int, slot: int) -> None:
    """Insert ``key -> slot`` (the key must be absent) and note its position in the order."""
    mask = M[M_HMASK]
    j = _home(key, M[M_HSHIFT])
    while H[j, 0] != EMPTY_KEY:
        j = (j + 1) & mask
    H[j, 0] = key
    H[j, 1] = slot
    O[slot, O_HPOS] = j


@njit(cache=True, error_model="numpy", inline="always")
def hash_delete_at(H: np.ndarray, M: np.ndarray, O: np.ndarray, i: int) -> None:
    """Remove the entry at position ``i``.

    Backward-shift deletion keeps every probe chain unbroken without tombstones; each
    entry it moves has its new position written back into its order.
    """
    mask = M[M_HMASK]
    shift = M[M_HSHIFT]
    j = i
    while True:
        j = (j + 1) & mask
        kj = H[j, 0]
        if kj == EMPTY_KEY:
            break
        h = _home(kj, shift)
        if (i <= j and i < h <= j) or (i > j and (h > i or h <= j)):
            continue
        H[i, 0] = kj
        slot = H[j, 1]
        H[i, 1] = slot
        O[slot, O_HPOS] = i
        i = j
    H[i, 0] = EMPTY_KEY


@njit(cache=True, error_model="numpy", inline="always")
def _alloc(O: np.ndarray, FR: np.ndarray, M: np.ndarray) -> int:
    n = M[M_NFREE] - 1
    M[M_NFREE] = n
    return int(FR[n])


@njit(cache=True, error_model="numpy", inline="always")
def _free(FR: np.ndarray, M: np.ndarray, slot: int) -> None:
    FR[M[M_NFREE]] = slot
    M[M_NFREE] += 1


@njit(cache=True, error_model="numpy", inline="always")
def _fix_best_after_empty(LV: np.ndarray, M: np.ndarray, s: int, i: int) -> None:
    """Level ``i`` of side ``s`` just emptied: move the best price if it was there."""
    if s == 0:
        if M[M_BEST_BID] == i:
            j = i - 1
            while j >= 0 and LV[0, j, QTY] == 0:
                j -= 1
            M[M_BEST_BID] = j
    else:
        if M[M_BEST_ASK] == i:
            nlev = M[M_NLEV]
            j = i + 1
            while j < nlev and LV[1, j, QTY] == 0:
                j += 1
            M[M_BEST_ASK] = j


@njit(cache=True, error_model="numpy", inline="always")
def _unlink(
    LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray, k: int
) -> None:
    """Remove order slot ``k`` from its queue, the index and the level totals."""
    s = O[k, O_SIDE]
    i = O[k, O_LVL]
    prev = O[k, O_PREV]
    nxt = O[k, O_NEXT]
    if prev >= 0:
        O[prev, O_NEXT] = nxt
    else:
        LV[s, i, HEAD] = nxt
    if nxt >= 0:
        O[nxt, O_PREV] = prev
    else:
        LV[s, i, TAIL] = prev
    LV[s, i, QTY] -= O[k, O_QTY]
    LV[s, i, CNT] -= 1
    if O[k, O_ID] != 0:
        hash_delete_at(H, M, O, O[k, O_HPOS])
        M[M_NORDERS] -= 1
    _free(FR, M, k)
    if LV[s, i, QTY] == 0:
        _fix_best_after_empty(LV, M, s, i)


@njit(cache=True, error_model="numpy", inline="always")
def _reduce_slot(
    LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray, k: int, qty: int
) -> None:
    if qty >= O[k, O_QTY]:
        _unlink(LV, O, FR, H, M, k)
    else:
        O[k, O_QTY] -= qty
        LV[O[k, O_SIDE], O[k, O_LVL], QTY] -= qty


@njit(cache=True, error_model="numpy")
def _take_from_level(
    LV: np.ndarray,
    O: np.ndarray,
    FR: np.ndarray,
    H: np.ndarray,
    M: np.ndarray,
    s: int,
    i: int,
    qty: int,
) -> None:
    """Remove ``qty`` from a level: ghost at the front first, then the newest orders."""
    head = LV[s, i, HEAD]
    if head >= 0 and O[head, O_ID] == 0 and qty > 0:
        take = min(qty, O[head, O_QTY])
        qty -= take
        _reduce_slot(LV, O, FR, H, M, head, take)
    while qty > 0:
        k = LV[s, i, TAIL]
        if k < 0:
            return
        take = min(qty, O[k, O_QTY])
        qty -= take
        _reduce_slot(LV, O, FR, H, M, k, take)


@njit(cache=True, error_model="numpy", inline="always")
def _link_back(LV: np.ndarray, O: np.ndarray, M: np.ndarray, k: int, s: int, i: int) -> None:
    tail = LV[s, i, TAIL]
    O[k, O_PREV] = tail
    O[k, O_NEXT] = -1
    if tail >= 0:
        O[tail, O_NEXT] = k
    else:
        LV[s, i, HEAD] = k
    LV[s, i, TAIL] = k
    LV[s, i, QTY] += O[k, O_QTY]
    LV[s, i, CNT] += 1
    if s == 0:
        if i > M[M_BEST_BID]:
            M[M_BEST_BID] = i
    elif i < M[M_BEST_ASK]:
        M[M_BEST_ASK] = i


@njit(cache=True, error_model="numpy", inline="always")
def _add(
    LV: np.ndarray,
    O: np.ndarray,
    FR: np.ndarray,
    H: np.ndarray,
    M: np.ndarray,
    oid: int,
    s: int,
    i: int,
    qty: int,
    ts: int,
) -> None:
    if oid == 0 or qty <= 0:
        M[M_ANOMALY] += 1
        return
    # one probe finds either the id (a duplicate) or the empty place to insert it
    mask = M[M_HMASK]
    j = _home(oid, M[M_HSHIFT])
    while True:
        key = H[j, 0]
        if key == oid:
            M[M_ANOMALY] += 1
            return
        if key == EMPTY_KEY:
            break
        j = (j + 1) & mask
    k = _alloc(O, FR, M)
    H[j, 0] = oid
    H[j, 1] = k
    O[k, O_ID] = oid
    O[k, O_QTY] = qty
    O[k, O_LVL] = i
    O[k, O_SIDE] = s
    O[k, O_TS] = ts
    O[k, O_HPOS] = j
    _link_back(LV, O, M, k, s, i)
    M[M_NORDERS] += 1


@njit(cache=True, error_model="numpy")
def set_level(
    LV: np.ndarray,
    O: np.ndarray,
    FR: np.ndarray,
    H: np.ndarray,
    M: np.ndarray,
    s: int,
    i: int,
    qty: int,
) -> bool:
    """Make level ``i`` of side ``s`` hold ``qty`` (ghost at the front); True if it changed.

    The caller guarantees a free slot (``M[M_NFREE] > 0``).
    """
    cur = LV[s, i, QTY]
    if cur == qty:
        return False
    if cur < qty:
        head = LV[s, i, HEAD]
        if head >= 0 and O[head, O_ID] == 0:
            O[head, O_QTY] += qty - cur
            LV[s, i, QTY] += qty - cur
            return True
        k = _alloc(O, FR, M)
        O[k, O_ID] = 0
        O[k, O_QTY] = qty - cur
        O[k, O_LVL] = i
        O[k, O_SIDE] = s
        O[k, O_TS] = 0
        O[k, O_PREV] = -1
        O[k, O_NEXT] = head
        if head >= 0:
            O[head, O_PREV] = k
        else:
            LV[s, i, TAIL] = k
        LV[s, i, HEAD] = k
        LV[s, i, QTY] += qty - cur
        LV[s, i, CNT] += 1
        if s == 0:
            if i > M[M_BEST_BID]:
                M[M_BEST_BID] = i
        elif i < M[M_BEST_ASK]:
            M[M_BEST_ASK] = i
        return True
    _take_from_level(LV, O, FR, H, M, s, i, cur - qty)
    return True


@njit(cache=True, error_model="numpy", inline="always")
def _hash_remove(H: np.ndarray, O: np.ndarray, mask: int, shift: int, i: int) -> None:
    """Backward-shift deletion of the entry at ``i`` with the table's mask/shift in hand.

    The entry at ``j`` may fill the hole at ``i`` when it sits at least as far from its
    home as from the hole (cyclic distances).
    """
    j = i
    while True:
        j = (j + 1) & mask
        kj = H[j, 0]
        if kj == EMPTY_KEY:
            break
        if ((j - _home(kj, shift)) & mask) >= ((j - i) & mask):
            slot = H[j, 1]
            H[i, 0] = kj
            H[i, 1] = slot
            O[slot, O_HPOS] = i
            i = j
    H[i, 0] = EMPTY_KEY


@njit(cache=True, error_model="numpy")
def apply_events(
    ev: np.ndarray,
    i0: int,
    i1: int,
    LV: np.ndarray,
    O: np.ndarray,
    FR: np.ndarray,
    H: np.ndarray,
    M: np.ndarray,
) -> int:
    """Apply events ``ev[i0:i1]`` (EVENT_DTYPE records); return a status code.

    The hot scalars of ``M`` live in local variables for the whole loop (stores into the
    arrays could alias ``M``, which would make the compiler reload them); they are written
    back before every call of a helper that reads ``M`` and before returning.
    """
    base = M[M_BASE]
    tick = M[M_TICK]
    nlev = M[M_NLEV]
    mask = M[M_HMASK]
    shift = M[M_HSHIFT]
    hfull = mask >> 1  # the table is full (load factor 1/2) when norders reaches this
    nfree = M[M_NFREE]
    norders = M[M_NORDERS]
    bb = M[M_BEST_BID]
    ba = M[M_BEST_ASK]
    unknown = M[M_UNKNOWN]
    anomaly = M[M_ANOMALY]
    status = OK
    stop = i1
    for n in range(i0, i1):
        e = ev[n]
        code = e.event
        if code == E_ADD:
            oid = e.order_id
            qty = e.qty
            i = level_index(e.price, base, tick)
            if nfree == 0:
                status = NEED_SLOTS
                stop = n
                break
            if norders >= hfull:
                status = NEED_HASH
                stop = n
                break
            if i < 0 or i >= nlev:
                status = NEED_GRID
                stop = n
                break
            if oid == 0 or qty <= 0:
                anomaly += 1
                continue
            j = _home(oid, shift)
            dup = False
            while True:
                key = H[j, 0]
                if key == EMPTY_KEY:
                    break
                if key == oid:
                    dup = True
                    break
                j = (j + 1) & mask
            if dup:
                anomaly += 1
                continue
            s = (1 - e.side) >> 1
            nfree -= 1
            k = FR[nfree]
            H[j, 0] = oid
            H[j, 1] = k
            tail = LV[s, i, TAIL]
            O[k, O_ID] = oid
            O[k, O_QTY] = qty
            O[k, O_LVL] = i
            O[k, O_SIDE] = s
            O[k, O_PREV] = tail
            O[k, O_NEXT] = -1
            O[k, O_TS] = e.ts_exchange
            O[k, O_HPOS] = j
            if tail >= 0:
                O[tail, O_NEXT] = k
            else:
                LV[s, i, HEAD] = k
            LV[s, i, TAIL] = k
            LV[s, i, QTY] += qty
            LV[s, i, CNT] += 1
            if s == 0:
                bb = max(bb, i)
            else:
                ba = min(ba, i)
            norders += 1
        elif E_CANCEL <= code <= E_EXECUTE:  # CANCEL, DELETE, EXECUTE
            oid = e.order_id
            q = e.qty
            j = _home(oid, shift)
            k = -1
            while True:
                key = H[j, 0]
                if key == oid:
                    k = H[j, 1]
                    break
                if key == EMPTY_KEY:
                    break
                j = (j + 1) & mask
            if k < 0:
                unknown += 1
                i = level_index(e.price, base, tick)
                if 0 <= i < nlev:
                    M[M_NFREE] = nfree
                    M[M_NORDERS] = norders
                    M[M_BEST_BID] = bb
                    M[M_BEST_ASK] = ba
                    _take_from_level(LV, O, FR, H, M, (1 - e.side) >> 1, i, q)
                    nfree = M[M_NFREE]
                    norders = M[M_NORDERS]
                    bb = M[M_BEST_BID]
                    ba = M[M_BEST_ASK]
                continue
            oq = O[k, O_QTY]
            s = O[k, O_SIDE]
            i = O[k, O_LVL]
            if code != E_DELETE and q < oq:
                O[k, O_QTY] = oq - q
                LV[s, i, QTY] -= q
                continue
            # the whole order leaves; the level loses exactly the event's quantity: when
            # the book holds less or more of the order than that (a correction moved
            # liquidity between orders it could not tell apart), the level is set to what
            # it must hold
            cur = LV[s, i, QTY]
            prev = O[k, O_PREV]
            nxt = O[k, O_NEXT]
            if prev >= 0:
                O[prev, O_NEXT] = nxt
            else:
                LV[s, i, HEAD] = nxt
            if nxt >= 0:
                O[nxt, O_PREV] = prev
            else:
                LV[s, i, TAIL] = prev
            lq = cur - oq
            LV[s, i, QTY] = lq
            LV[s, i, CNT] -= 1
            _hash_remove(H, O, mask, shift, j)
            norders -= 1
            FR[nfree] = k
            nfree += 1
            if lq == 0:
                if s == 0:
                    if bb == i:
                        bb = i - 1
                        while bb >= 0 and LV[0, bb, QTY] == 0:
                            bb -= 1
                elif ba == i:
                    ba = i + 1
                    while ba < nlev and LV[1, ba, QTY] == 0:
                        ba += 1
            if q > 0 and q != oq:
                M[M_NFREE] = nfree
                M[M_NORDERS] = norders
                M[M_BEST_BID] = bb
                M[M_BEST_ASK] = ba
                set_level(LV, O, FR, H, M, s, i, max(cur - q, 0))
                nfree = M[M_NFREE]
                norders = M[M_NORDERS]
                bb = M[M_BEST_BID]
                ba = M[M_BEST_ASK]
        elif code in (E_MODIFY, E_CLEAR):
            if code == E_MODIFY:
                if nfree == 0:
                    status = NEED_SLOTS
                    stop = n
                    break
                if norders >= hfull:
                    status = NEED_HASH
                    stop = n
                    break
                i = level_index(e.price, base, tick)
                if i < 0 or i >= nlev:
                    status = NEED_GRID
                    stop = n
                    break
            M[M_NFREE] = nfree
            M[M_NORDERS] = norders
            M[M_BEST_BID] = bb
            M[M_BEST_ASK] = ba
            M[M_UNKNOWN] = unknown
            M[M_ANOMALY] = anomaly
            if code == E_MODIFY:
                s = (1 - e.side) >> 1
                _modify(LV, O, FR, H, M, e.order_id, s, i, e.qty, e.ts_exchange)
            else:
                clear(LV, O, FR, H, M)
            nfree = M[M_NFREE]
            norders = M[M_NORDERS]
            bb = M[M_BEST_BID]
            ba = M[M_BEST_ASK]
            unknown = M[M_UNKNOWN]
            anomaly = M[M_ANOMALY]
    M[M_NFREE] = nfree
    M[M_NORDERS] = norders
    M[M_BEST_BID] = bb
    M[M_BEST_ASK] = ba
    M[M_UNKNOWN] = unknown
    M[M_ANOMALY] = anomaly
    M[M_STOP] = stop
    return status


@njit(cache=True, error_model="numpy")
def _modify(
    LV: np.ndarray,
    O: np.ndarray,
    FR: np.ndarray,
    H: np.ndarray,
    M: np.ndarray,
    oid: int,
    s: int,
    i: int,
    qty: int,
    ts: int,
) -> None:
    """MODIFY: keep priority when only the size shrinks at the same price, else re-add."""
    k = hash_find(H, M, oid)
    if k >= 0 and O[k, O_LVL] == i and qty <= O[k, O_QTY]:
        if qty <= 0:
            _unlink(LV, O, FR, H, M, k)
        else:
            LV[O[k, O_SIDE], i, QTY] -= O[k, O_QTY] - qty
            O[k, O_QTY] = qty
        return
    if k >= 0:
        _unlink(LV, O, FR, H, M, k)
    _add(LV, O, FR, H, M, oid, s, i, qty, ts)


@njit(cache=True, error_model="numpy")
def clear(LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray) -> None:
    LV[:, :, QTY] = 0
    LV[:, :, CNT] = 0
    LV[:, :, HEAD] = -1
    LV[:, :, TAIL] = -1
    H[:, 0] = EMPTY_KEY
    cap = O.shape[0]
    for k in range(cap):
        FR[k] = cap - 1 - k
    M[M_NFREE] = cap
    M[M_NORDERS] = 0
    M[M_BEST_BID] = -1
    M[M_BEST_ASK] = M[M_NLEV]


@njit(cache=True, error_model="numpy")
def snapshot_into(
    LV: np.ndarray, M: np.ndarray, n_levels: int, out: np.ndarray, dummy_ask: int, dummy_bid: int
) -> None:
    """Write the best ``n_levels`` in LOBSTER layout (ask px, ask qty, bid px, bid qty)."""
    base = M[M_BASE]
    tick = M[M_TICK]
    nlev = M[M_NLEV]
    j = M[M_BEST_ASK]
    for lvl in range(n_levels):
        while j < nlev and LV[1, j, QTY] == 0:
            j += 1
        if j < nlev:
            out[4 * lvl] = base + j * tick
            out[4 * lvl + 1] = LV[1, j, QTY]
            j += 1
        else:
            out[4 * lvl] = dummy_ask
            out[4 * lvl + 1] = 0
    j = M[M_BEST_BID]
    for lvl in range(n_levels):
        while j >= 0 and LV[0, j, QTY] == 0:
            j -= 1
        if j >= 0:
            out[4 * lvl + 2] = base + j * tick
            out[4 * lvl + 3] = LV[0, j, QTY]
            j -= 1
        else:
            out[4 * lvl + 2] = dummy_bid
            out[4 * lvl + 3] = 0


@njit(cache=True, error_model="numpy")
def rehash(H_old: np.ndarray, H_new: np.ndarray, M: np.ndarray, O: np.ndarray) -> None:
    """Move every key of ``H_old`` into ``H_new`` (``M`` already holds the new mask/shift)."""
    H_new[:, 0] = EMPTY_KEY
    for j in range(H_old.shape[0]):
        key = H_old[j, 0]
        if key != EMPTY_KEY:
            hash_insert(H_new, M, O, key, H_old[j, 1])


# ----------------------------------------------------------------------------- verification
# (kept in this module: numba's on-disk cache does not notice changes in another module's
# kernels, so everything compiled together lives together)
DUMMY_ASK = 9_999_999_999
DUMMY_BID = -9_999_999_999
C_NEXT, C_COMPARED, C_MATCHED, C_IN_WINDOW, C_CORR_MSGS, C_CORR_LEVELS, C_UNEXPLAINED, C_NEX = (
    range(8)
)


@njit(cache=True, error_model="numpy")
def _rows_equal(a: np.ndarray, b: np.ndarray) -> bool:
    for j in range(a.shape[0]):  # noqa: SIM110 - a plain loop compiles best in numba
        if a[j] != b[j]:
            return False
    return True


@njit(cache=True, error_model="numpy")
def _correct_side(
    LV: np.ndarray,
    O: np.ndarray,
    FR: np.ndarray,
    H: np.ndarray,
    M: np.ndarray,
    row: np.ndarray,
    L: int,
    s: int,
) -> int:
    """Set side ``s`` of the book to the file row within its window; return levels changed."""
    base = M[M_BASE]
    tick = M[M_TICK]
    nlev = M[M_NLEV]
    off = 0 if s == 1 else 2
    dummy = DUMMY_ASK if s == 1 else DUMMY_BID
    changed = 0
    n_real = 0
    for lvl in range(L):
        px = row[4 * lvl + off]
        if px == dummy:
            break
        n_real += 1
        i = (px - base) // tick
        if set_level(LV, O, FR, H, M, s, i, row[4 * lvl + off + 1]):
            changed += 1
    # empty our levels inside the window that the file does not show
    if s == 1:
        limit = nlev - 1 if n_real < L else (row[4 * (L - 1)] - base) // tick
        j = M[M_BEST_ASK]
        f = 0
        while j <= limit and j < nlev:
            if LV[1, j, QTY] > 0:
                fi = (row[4 * f] - base) // tick if f < n_real else nlev
                while f < n_real and fi < j:
                    f += 1
                    fi = (row[4 * f] - base) // tick if f < n_real else nlev
                if fi != j:
                    set_level(LV, O, FR, H, M, 1, j, 0)
                    changed += 1
            j += 1
    else:
        limit = 0 if n_real < L else (row[4 * (L - 1) + 2] - base) // tick
        j = M[M_BEST_BID]
        f = 0
        while j >= limit and j >= 0:
            if LV[0, j, QTY] > 0:
                fi = (row[4 * f + 2] - base) // tick if f < n_real else -1
                while f < n_real and fi > j:
                    f += 1
                    fi = (row[4 * f + 2] - base) // tick if f < n_real else -1
                if fi != j:
                    set_level(LV, O, FR, H, M, 0, j, 0)
                    changed += 1
            j -= 1
    return changed


@njit(cache=True, error_model="numpy")
def in_window(snap: np.ndarray, row: np.ndarray, prev: np.ndarray, L: int) -> bool:
    for lvl in range(L - 1):
        for j in range(4):
            if snap[4 * lvl + j] != row[4 * lvl + j]:
                return False
    last = 4 * (L - 1)
    for off, dummy, sign in ((0, DUMMY_ASK, 1), (2, DUMMY_BID, -1)):
        if snap[last + off] != row[last + off] or snap[last + off + 1] != row[last + off + 1]:
            prev_px = prev[last + off]
            new_px = row[last + off]
            if prev_px == dummy or new_px == dummy:
                return False
            if sign * (new_px - prev_px) <= 0:
                return False
    return True


@njit(cache=True, error_model="numpy")
def verify_kernel(
    ev: np.ndarray,
    book: np.ndarray,
    L: int,
    LV: np.ndarray,
    O: np.ndarray,
    FR: np.ndarray,
    H: np.ndarray,
    M: np.ndarray,
    C: np.ndarray,
    examples: np.ndarray,
) -> int:
    """One-step verification from message ``C[C_NEXT]``; returns a status code."""
    n = ev.shape[0]
    snap = np.empty(4 * L, dtype=np.int64)
    base = M[M_BASE]
    tick = M[M_TICK]
    nlev = M[M_NLEV]
    for k in range(C[C_NEXT], n):
        # room for the worst case of this step: 2L ghost orders and one add
        if M[M_NFREE] < 2 * L + 2:
            C[C_NEXT] = k
            return NEED_SLOTS
        if 2 * (M[M_NORDERS] + 1) > M[M_HMASK]:
            C[C_NEXT] = k
            return NEED_HASH
        prev = book[k - 1]
        for lvl in range(L):
            for off in (0, 2):
                px = prev[4 * lvl + off]
                if px != DUMMY_ASK and px != DUMMY_BID:
                    i = (px - base) // tick
                    if i < 0 or i >= nlev:
                        C[C_NEXT] = k
                        M[M_STOP] = px
                        return NEED_GRID
        e = ev[k]
        if e.event == E_ADD or e.event == E_MODIFY:
            i = level_index(e.price, base, tick)
            if i < 0 or i >= nlev:
                C[C_NEXT] = k
                M[M_STOP] = e.price
                return NEED_GRID
        snapshot_into(LV, M, L, snap, DUMMY_ASK, DUMMY_BID)
        if not _rows_equal(snap, prev):
            C[C_CORR_MSGS] += 1
            C[C_CORR_LEVELS] += _correct_side(LV, O, FR, H, M, prev, L, 1)
            C[C_CORR_LEVELS] += _correct_side(LV, O, FR, H, M, prev, L, 0)
        apply_events(ev, k, k + 1, LV, O, FR, H, M)
        snapshot_into(LV, M, L, snap, DUMMY_ASK, DUMMY_BID)
        C[C_COMPARED] += 1
        row = book[k]
        if _rows_equal(snap, row):
            C[C_MATCHED] += 1
        elif in_window(snap, row, prev, L):
            C[C_IN_WINDOW] += 1
        else:
            if C[C_NEX] < examples.shape[0]:
                examples[C[C_NEX]] = k
                C[C_NEX] += 1
            C[C_UNEXPLAINED] += 1
    C[C_NEXT] = n
    return OK
