"""Compiled (numba) kernels of the L3 book.

The book is a set of flat int64 arrays so that numba compiles straight loads and
stores (see :class:`tradelearn.book.fast.FastBook` for the owner of the arrays):

* ``LV[f, s, i]`` per side ``s`` (0 bid, 1 ask) and level index ``i`` on a dense price
  grid (``price = base + i * tick``): ``f`` is QTY (total), CNT (orders), HEAD, TAIL
  (order slots of the FIFO queue, -1 when empty).
* ``O[f, k]`` per order slot ``k``: ID, QTY, LVL, SIDE (0/1), PREV, NEXT, TS.
* ``H[0, j]`` / ``H[1, j]``: an open-addressing hash table (linear probing, backward-shift
  deletion) from order id to slot.
* ``FR``: stack of free order slots.
* ``M``: scalars (see the ``M_*`` indices).

Kernels return a status: ``OK``, or ``NEED_GRID`` / ``NEED_SLOTS`` / ``NEED_HASH`` with
the event index in ``M[M_STOP]`` so that the Python owner grows an array and resumes.
The rules they implement are written out in :mod:`tradelearn.book.reference`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# LV fields
QTY, CNT, HEAD, TAIL = 0, 1, 2, 3
# O fields
O_ID, O_QTY, O_LVL, O_SIDE, O_PREV, O_NEXT, O_TS = 0, 1, 2, 3, 4, 5, 6
N_OFIELDS = 7
# M scalars
M_BASE, M_TICK, M_NLEV, M_BEST_BID, M_BEST_ASK, M_NFREE = 0, 1, 2, 3, 4, 5
M_HMASK, M_HSHIFT, M_NORDERS, M_UNKNOWN, M_ANOMALY, M_STOP = 6, 7, 8, 9, 10, 11
M_SIZE = 16
# status codes
OK, NEED_GRID, NEED_SLOTS, NEED_HASH = 0, 1, 2, 3
EMPTY_KEY = -1

# event codes (tradelearn.data.schema.EventType)
E_ADD, E_CANCEL, E_DELETE, E_EXECUTE, E_MODIFY, E_CLEAR = 1, 2, 3, 4, 8, 9

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _home(key: int, shift: int) -> int:
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(shift))


@njit(cache=True)
def hash_find(H: np.ndarray, M: np.ndarray, key: int) -> int:
    """Slot of order ``key``, or -1."""
    mask = M[M_HMASK]
    j = _home(key, M[M_HSHIFT])
    while True:
        k = H[0, j]
        if k == key:
            return int(H[1, j])
        if k == EMPTY_KEY:
            return -1
        j = (j + 1) & mask


@njit(cache=True)
def hash_insert(H: np.ndarray, M: np.ndarray, key: int, slot: int) -> None:
    mask = M[M_HMASK]
    j = _home(key, M[M_HSHIFT])
    while H[0, j] != EMPTY_KEY:
        j = (j + 1) & mask
    H[0, j] = key
    H[1, j] = slot


@njit(cache=True)
def hash_delete(H: np.ndarray, M: np.ndarray, key: int) -> None:
    mask = M[M_HMASK]
    shift = M[M_HSHIFT]
    i = _home(key, shift)
    while H[0, i] != key:
        if H[0, i] == EMPTY_KEY:
            return
        i = (i + 1) & mask
    # backward-shift deletion keeps every probe chain unbroken without tombstones
    j = i
    while True:
        j = (j + 1) & mask
        kj = H[0, j]
        if kj == EMPTY_KEY:
            break
        h = _home(kj, shift)
        if (i <= j and i < h <= j) or (i > j and (h > i or h <= j)):
            continue
        H[0, i] = kj
        H[1, i] = H[1, j]
        i = j
    H[0, i] = EMPTY_KEY


@njit(cache=True)
def _alloc(O: np.ndarray, FR: np.ndarray, M: np.ndarray) -> int:
    n = M[M_NFREE] - 1
    M[M_NFREE] = n
    return int(FR[n])


@njit(cache=True)
def _free(FR: np.ndarray, M: np.ndarray, slot: int) -> None:
    FR[M[M_NFREE]] = slot
    M[M_NFREE] += 1


@njit(cache=True)
def _fix_best_after_empty(LV: np.ndarray, M: np.ndarray, s: int, i: int) -> None:
    """Level ``i`` of side ``s`` just emptied: move the best price if it was there."""
    if s == 0:
        if M[M_BEST_BID] == i:
            j = i - 1
            while j >= 0 and LV[QTY, 0, j] == 0:
                j -= 1
            M[M_BEST_BID] = j
    else:
        if M[M_BEST_ASK] == i:
            nlev = M[M_NLEV]
            j = i + 1
            while j < nlev and LV[QTY, 1, j] == 0:
                j += 1
            M[M_BEST_ASK] = j


@njit(cache=True)
def _unlink(LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray, k: int) -> None:
    """Remove order slot ``k`` from its queue, the index and the level totals."""
    s = O[O_SIDE, k]
    i = O[O_LVL, k]
    prev = O[O_PREV, k]
    nxt = O[O_NEXT, k]
    if prev >= 0:
        O[O_NEXT, prev] = nxt
    else:
        LV[HEAD, s, i] = nxt
    if nxt >= 0:
        O[O_PREV, nxt] = prev
    else:
        LV[TAIL, s, i] = prev
    LV[QTY, s, i] -= O[O_QTY, k]
    LV[CNT, s, i] -= 1
    oid = O[O_ID, k]
    if oid != 0:
        hash_delete(H, M, oid)
        M[M_NORDERS] -= 1
    _free(FR, M, k)
    if LV[QTY, s, i] == 0:
        _fix_best_after_empty(LV, M, s, i)


@njit(cache=True)
def _reduce_slot(LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray, k: int, qty: int) -> None:
    if qty >= O[O_QTY, k]:
        _unlink(LV, O, FR, H, M, k)
    else:
        O[O_QTY, k] -= qty
        LV[QTY, O[O_SIDE, k], O[O_LVL, k]] -= qty


@njit(cache=True)
def _take_from_level(LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray, s: int, i: int, qty: int) -> None:
    """Remove ``qty`` from a level: ghost at the front first, then the newest orders."""
    head = LV[HEAD, s, i]
    if head >= 0 and O[O_ID, head] == 0 and qty > 0:
        take = min(qty, O[O_QTY, head])
        qty -= take
        _reduce_slot(LV, O, FR, H, M, head, take)
    while qty > 0:
        k = LV[TAIL, s, i]
        if k < 0:
            return
        take = min(qty, O[O_QTY, k])
        qty -= take
        _reduce_slot(LV, O, FR, H, M, k, take)


@njit(cache=True)
def _link_back(LV: np.ndarray, O: np.ndarray, M: np.ndarray, k: int, s: int, i: int) -> None:
    tail = LV[TAIL, s, i]
    O[O_PREV, k] = tail
    O[O_NEXT, k] = -1
    if tail >= 0:
        O[O_NEXT, tail] = k
    else:
        LV[HEAD, s, i] = k
    LV[TAIL, s, i] = k
    LV[QTY, s, i] += O[O_QTY, k]
    LV[CNT, s, i] += 1
    if s == 0:
        if i > M[M_BEST_BID]:
            M[M_BEST_BID] = i
    elif i < M[M_BEST_ASK]:
        M[M_BEST_ASK] = i


@njit(cache=True)
def _add(LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray, oid: int, s: int, i: int, qty: int, ts: int) -> None:
    if oid == 0 or qty <= 0 or hash_find(H, M, oid) >= 0:
        M[M_ANOMALY] += 1
        return
    k = _alloc(O, FR, M)
    O[O_ID, k] = oid
    O[O_QTY, k] = qty
    O[O_LVL, k] = i
    O[O_SIDE, k] = s
    O[O_TS, k] = ts
    _link_back(LV, O, M, k, s, i)
    hash_insert(H, M, oid, k)
    M[M_NORDERS] += 1


@njit(cache=True)
def set_level(LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray, s: int, i: int, qty: int) -> bool:
    """Make level ``i`` of side ``s`` hold ``qty`` (ghost at the front); True if it changed.

    The caller guarantees a free slot (``M[M_NFREE] > 0``).
    """
    cur = LV[QTY, s, i]
    if cur == qty:
        return False
    if cur < qty:
        head = LV[HEAD, s, i]
        if head >= 0 and O[O_ID, head] == 0:
            O[O_QTY, head] += qty - cur
            LV[QTY, s, i] += qty - cur
            return True
        k = _alloc(O, FR, M)
        O[O_ID, k] = 0
        O[O_QTY, k] = qty - cur
        O[O_LVL, k] = i
        O[O_SIDE, k] = s
        O[O_TS, k] = 0
        O[O_PREV, k] = -1
        O[O_NEXT, k] = head
        if head >= 0:
            O[O_PREV, head] = k
        else:
            LV[TAIL, s, i] = k
        LV[HEAD, s, i] = k
        LV[QTY, s, i] += qty - cur
        LV[CNT, s, i] += 1
        if s == 0:
            if i > M[M_BEST_BID]:
                M[M_BEST_BID] = i
        elif i < M[M_BEST_ASK]:
            M[M_BEST_ASK] = i
        return True
    _take_from_level(LV, O, FR, H, M, s, i, cur - qty)
    return True


@njit(cache=True)
def apply_events(
    ev: np.ndarray, i0: int, i1: int, LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray
) -> int:
    """Apply events ``ev[i0:i1]`` (EVENT_DTYPE records); return a status code."""
    base = M[M_BASE]
    tick = M[M_TICK]
    nlev = M[M_NLEV]
    for n in range(i0, i1):
        e = ev[n]
        code = e.event
        if code == E_ADD or code == E_MODIFY:
            if M[M_NFREE] == 0:
                M[M_STOP] = n
                return NEED_SLOTS
            if 2 * (M[M_NORDERS] + 1) > M[M_HMASK]:
                M[M_STOP] = n
                return NEED_HASH
        if code == E_ADD:
            i = (e.price - base) // tick
            if i < 0 or i >= nlev:
                M[M_STOP] = n
                return NEED_GRID
            _add(LV, O, FR, H, M, e.order_id, (1 - e.side) >> 1, i, e.qty, e.ts_exchange)
        elif code == E_CANCEL or code == E_EXECUTE or code == E_DELETE:
            k = hash_find(H, M, e.order_id)
            if k >= 0:
                # the level loses exactly the event's quantity: when the book holds less
                # or more of the order than that (a correction moved liquidity between
                # orders it could not tell apart), the level is set to what it must hold
                s = O[O_SIDE, k]
                i = O[O_LVL, k]
                q = e.qty
                if code == E_DELETE or q >= O[O_QTY, k]:
                    cur = LV[QTY, s, i]
                    oq = O[O_QTY, k]
                    _unlink(LV, O, FR, H, M, k)
                    if q > 0 and q != oq:
                        set_level(LV, O, FR, H, M, s, i, max(cur - q, 0))
                else:
                    _reduce_slot(LV, O, FR, H, M, k, q)
            else:
                M[M_UNKNOWN] += 1
                i = (e.price - base) // tick
                if 0 <= i < nlev:
                    _take_from_level(LV, O, FR, H, M, (1 - e.side) >> 1, i, e.qty)
        elif code == E_MODIFY:
            i = (e.price - base) // tick
            if i < 0 or i >= nlev:
                M[M_STOP] = n
                return NEED_GRID
            k = hash_find(H, M, e.order_id)
            s = (1 - e.side) >> 1
            if k >= 0 and O[O_LVL, k] == i and e.qty <= O[O_QTY, k]:
                if e.qty <= 0:
                    _unlink(LV, O, FR, H, M, k)
                else:
                    LV[QTY, s, i] -= O[O_QTY, k] - e.qty
                    O[O_QTY, k] = e.qty
            else:
                if k >= 0:
                    _unlink(LV, O, FR, H, M, k)
                _add(LV, O, FR, H, M, e.order_id, s, i, e.qty, e.ts_exchange)
        elif code == E_CLEAR:
            clear(LV, O, FR, H, M)
    M[M_STOP] = i1
    return OK


@njit(cache=True)
def clear(LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray) -> None:
    LV[QTY] = 0
    LV[CNT] = 0
    LV[HEAD] = -1
    LV[TAIL] = -1
    H[0] = EMPTY_KEY
    cap = O.shape[1]
    for k in range(cap):
        FR[k] = cap - 1 - k
    M[M_NFREE] = cap
    M[M_NORDERS] = 0
    M[M_BEST_BID] = -1
    M[M_BEST_ASK] = M[M_NLEV]


@njit(cache=True)
def snapshot_into(LV: np.ndarray, M: np.ndarray, n_levels: int, out: np.ndarray, dummy_ask: int, dummy_bid: int) -> None:
    """Write the best ``n_levels`` in LOBSTER layout (ask px, ask qty, bid px, bid qty)."""
    base = M[M_BASE]
    tick = M[M_TICK]
    nlev = M[M_NLEV]
    j = M[M_BEST_ASK]
    for lvl in range(n_levels):
        while j < nlev and LV[QTY, 1, j] == 0:
            j += 1
        if j < nlev:
            out[4 * lvl] = base + j * tick
            out[4 * lvl + 1] = LV[QTY, 1, j]
            j += 1
        else:
            out[4 * lvl] = dummy_ask
            out[4 * lvl + 1] = 0
    j = M[M_BEST_BID]
    for lvl in range(n_levels):
        while j >= 0 and LV[QTY, 0, j] == 0:
            j -= 1
        if j >= 0:
            out[4 * lvl + 2] = base + j * tick
            out[4 * lvl + 3] = LV[QTY, 0, j]
            j -= 1
        else:
            out[4 * lvl + 2] = dummy_bid
            out[4 * lvl + 3] = 0


@njit(cache=True)
def rehash(H_old: np.ndarray, H_new: np.ndarray, M: np.ndarray) -> None:
    """Move every key of ``H_old`` into ``H_new`` (``M`` already holds the new mask/shift)."""
    H_new[0] = EMPTY_KEY
    for j in range(H_old.shape[1]):
        key = H_old[0, j]
        if key != EMPTY_KEY:
            hash_insert(H_new, M, key, H_old[1, j])


# ----------------------------------------------------------------------------- verification
# (kept in this module: numba's on-disk cache does not notice changes in another module's
# kernels, so everything compiled together lives together)
DUMMY_ASK = 9_999_999_999
DUMMY_BID = -9_999_999_999
C_NEXT, C_COMPARED, C_MATCHED, C_IN_WINDOW, C_CORR_MSGS, C_CORR_LEVELS, C_UNEXPLAINED, C_NEX = range(8)


@njit(cache=True)
def _rows_equal(a: np.ndarray, b: np.ndarray) -> bool:
    for j in range(a.shape[0]):
        if a[j] != b[j]:
            return False
    return True


@njit(cache=True)
def _correct_side(
    LV: np.ndarray, O: np.ndarray, FR: np.ndarray, H: np.ndarray, M: np.ndarray, row: np.ndarray, L: int, s: int
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
            if LV[QTY, 1, j] > 0:
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
            if LV[QTY, 0, j] > 0:
                fi = (row[4 * f + 2] - base) // tick if f < n_real else -1
                while f < n_real and fi > j:
                    f += 1
                    fi = (row[4 * f + 2] - base) // tick if f < n_real else -1
                if fi != j:
                    set_level(LV, O, FR, H, M, 0, j, 0)
                    changed += 1
            j -= 1
    return changed



@njit(cache=True)
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


@njit(cache=True)
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
            i = (e.price - base) // tick
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
