"""Compiled engine of the agent-based market: one matching engine and its population.

Everything the engine knows lives in arrays that persist between calls, so that
:class:`tradelearn.sim.agents.AgentMarket` can run the population up to a time, let an
outside order in, and run on. Every kernel here calls only njit functions of this module
(numba's on-disk cache does not notice edits to other modules), which is why the book,
the agents and the event loop share one file.

State, passed as the tuple ``st = (O, LIVE, LV, S, F, MM, P)``:

``O[id]``
    One row per order id (ids are 1, 2, 3, ... in arrival order): remaining quantity, level,
    side (0 bid, 1 ask), next and previous id in its FIFO queue, lifetime class
    (:data:`FLICKER`, :data:`FAST`, :data:`SLOW`, or :data:`KEEP` for orders no random
    process cancels), its position in that class's list, and its owner (:data:`OWN_LP`,
    :data:`OWN_FUND`, :data:`OWN_EXT` for outside orders, ``OWN_MM + k``).
``LIVE[c]``
    Ids of the resting orders of class ``c``, so a uniformly random one is O(1) to pick.
``LV[0|1|2, side, level]``
    Quantity, head id and tail id of each level of a dense price grid.
``S`` / ``F``
    Integer and float scalars (indices below); ``P`` the parameters
    (:meth:`tradelearn.sim.abm_params.AgentParams.vector`); ``MM[k]`` market maker ``k``'s
    bid id, ask id and inventory.

Output, ``out = (events, book rows)``, written from ``S[S_N]`` on while ``S[S_RECORD]``.

Time is advanced by Ogata's thinning (Ogata 1981): a candidate time is drawn at the
current total intensity, which bounds every intensity until the next event or clock tick
(the Hawkes excitation and the momentum signal only decay in between), and is accepted
with probability intensity/bound. The candidate is kept in ``S`` until used, so running
to ``t`` in one call or in many gives the same stream; an outside order discards it (the
intensities changed) and a fresh one is drawn from its time. Activity and fundamental
value move at clock ticks, from a generator of their own (``rng_exo``), always with the
same draws, so their path never depends on what anybody trades.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit

_F = TypeVar("_F", bound=Callable[..., Any])
_NO_NRT: dict[str, Any] = {"_nrt": False}


def _jit(fn: _F) -> _F:
    """``njit(cache=True)`` without numba's reference counting: no kernel allocates, and
    without it passing the state's arrays between helpers costs no atomic increments
    (about 3x faster on this loop)."""
    return cast(_F, njit(cache=True, **_NO_NRT)(fn))


# ------------------------------------------------------------------ layout
Q, LVL, SIDE, NXT, PRV, CLS, POS, OWN = 0, 1, 2, 3, 4, 5, 6, 7
N_OCOL = 8
FLICKER, FAST, SLOW, KEEP = 0, 1, 2, 3
N_CLS = 3
OWN_EXT, OWN_LP, OWN_FUND, OWN_MM = -1, 0, 1, 2
MM_INV = 2
(S_LIVE0, S_LIVE1, S_LIVE2, S_BID, S_ASK, S_ID, S_N, S_T, S_TCAND, S_TCLOCK, S_T0,
 S_RECORD, S_LEVELS, S_BASE, S_TICK, S_NLV0, S_NLV1, S_MARGIN) = range(18)  # fmt: skip
N_S = 18
F_V, F_X, F_A, F_H, F_M, F_LASTMID, F_LBAR, F_I = range(8)
N_F = 8
(P_LAMBDA_L, P_FUND_FRAC, P_STALE, P_MU_N, P_HAWKES_ALPHA, P_HAWKES_BETA, P_LAMBDA_I,
 P_THETA_I, P_SCALE_I, P_LAMBDA_M, P_TAU_M, P_SCALE_M, P_LAMBDA_Q, P_MM_HALF, P_MM_SKEW,
 P_MM_GAMMA, P_MM_INV_MAX, P_MM_SIZE, P_NU0, P_NU1, P_NU2, P_W_IN0, P_W_IN1, P_W_OUT0,
 P_W_OUT1, P_PARTIAL, P_LAMBDA_H, P_SIGMA_V, P_TAU_X, P_SIGMA_X, P_CLOCK, P_BIN, P_JUMP_RATE,
 P_JUMP_SIZE, P_N_MM, P_ANCHOR, P_KAPPA, P_TAU_I, P_LEARN_POW) = range(39)  # fmt: skip
N_P = 39
OK, NEED_OUT, NEED_IDS = 0, 1, 2
State = tuple[np.ndarray, ...]
"""A tuple of arrays (numba types it per position)."""
DUMMY_ASK = 9_999_999_999
DUMMY_BID = -9_999_999_999


# ------------------------------------------------------------------ the book
@_jit
def _rest(st: State, s: int, i: int, q: int, cls: int, own: int) -> int:
    """A new order of ``q`` at the back of level ``i`` of side ``s``; returns its id."""
    O, LIVE, LV, S = st[0], st[1], st[2], st[3]
    oid = S[S_ID]
    S[S_ID] += 1
    tail = LV[2, s, i]
    O[oid, Q], O[oid, LVL], O[oid, SIDE], O[oid, NXT], O[oid, PRV] = q, i, s, -1, tail
    O[oid, CLS], O[oid, OWN] = cls, own
    if tail >= 0:
        O[tail, NXT] = oid
    else:
        LV[1, s, i] = oid
    if LV[0, s, i] == 0:
        S[S_NLV0 + s] += 1
    LV[2, s, i] = oid
    LV[0, s, i] += q
    if cls != KEEP:
        n = S[S_LIVE0 + cls]
        LIVE[cls, n] = oid
        O[oid, POS] = n
        S[S_LIVE0 + cls] = n + 1
    if s == 0 and i > S[S_BID]:
        S[S_BID] = i
    if s == 1 and i < S[S_ASK]:
        S[S_ASK] = i
    return int(oid)


@_jit
def _take(st: State, oid: int, q: int) -> None:
    """Remove ``q`` of an order; an order that reaches zero leaves its queue and list."""
    O, LIVE, LV, S = st[0], st[1], st[2], st[3]
    s, i = O[oid, SIDE], O[oid, LVL]
    O[oid, Q] -= q
    LV[0, s, i] -= q
    if O[oid, Q] == 0:
        prev, nxt = O[oid, PRV], O[oid, NXT]
        if prev >= 0:
            O[prev, NXT] = nxt
        else:
            LV[1, s, i] = nxt
        if nxt >= 0:
            O[nxt, PRV] = prev
        else:
            LV[2, s, i] = prev
        cls = O[oid, CLS]
        if cls != KEEP:
            p, n = O[oid, POS], S[S_LIVE0 + cls] - 1
            last = LIVE[cls, n]
            LIVE[cls, p] = last
            O[last, POS] = p
            S[S_LIVE0 + cls] = n
    if LV[0, s, i] == 0:
        S[S_NLV0 + s] -= 1
        n_grid = LV.shape[2]
        if s == 0 and i == S[S_BID]:
            j = i - 1
            while j >= 0 and LV[0, 0, j] == 0:
                j -= 1
            S[S_BID] = j
        elif s == 1 and i == S[S_ASK]:
            j = i + 1
            while j < n_grid and LV[0, 1, j] == 0:
                j += 1
            S[S_ASK] = j


@_jit
def _snap(st: State, book: np.ndarray, n: int) -> None:
    """The top ``levels`` of both sides in LOBSTER's layout (dummy prices when empty)."""
    LV, S = st[2], st[3]
    levels, base, tick = S[S_LEVELS], S[S_BASE], S[S_TICK]
    for s in range(2):
        j = S[S_ASK] if s == 1 else S[S_BID]
        found = min(levels, S[S_NLV0 + s])
        for lvl in range(levels):
            col = 4 * lvl + (0 if s == 1 else 2)
            if lvl < found:
                while LV[0, s, j] == 0:
                    j += 1 if s == 1 else -1
                book[n, col] = base + j * tick
                book[n, col + 1] = LV[0, s, j]
                j += 1 if s == 1 else -1
            else:
                book[n, col] = DUMMY_ASK if s == 1 else DUMMY_BID
                book[n, col + 1] = 0


@_jit
def _emit(st: State, out: State, code: int, s: int, oid: int, i: int, q: int) -> None:
    """Write one message at level ``i`` (and the book after it) when recording."""
    S = st[3]
    if S[S_RECORD] == 0:
        return
    ev, book = out[0], out[1]
    n, levels, base, tick = S[S_N], S[S_LEVELS], S[S_BASE], S[S_TICK]
    e = ev[n]
    e["ts_exchange"] = S[S_T]
    e["ts_local"] = S[S_T]
    e["event"] = code
    e["side"] = 1 if s == 0 else -1
    e["order_id"] = oid
    e["price"] = base + i * tick if code != 5 else i
    e["qty"] = q
    e["flags"] = 0
    if levels > 0:
        # a message beyond the last visible level (or a hidden trade) leaves the rows alone
        same = code == 5 and n > 0
        if n > 0 and not same:
            last = book[n - 1, 4 * (levels - 1) + (0 if s == 1 else 2)]
            px = base + i * tick
            same = (s == 1 and last != DUMMY_ASK and px > last) or (
                s == 0 and last != DUMMY_BID and px < last
            )
        if same:
            for c in range(4 * levels):
                book[n, c] = book[n - 1, c]
        else:
            _snap(st, book, n)
    S[S_N] = n + 1


@_jit
def _sweep(st: State, out: State, s_rest: int, want: int, limit: int) -> int:
    """Take up to ``want`` from resting side ``s_rest``, front of queue first, no further
    than level ``limit``; each resting order touched is one EXECUTE message. Returns the
    quantity filled, which the liquidity providers learn from."""
    O, LV, S, F, MM, P = st[0], st[2], st[3], st[4], st[5], st[6]
    n_grid = LV.shape[2]
    filled = 0
    while want > 0:
        i = S[S_ASK] if s_rest == 1 else S[S_BID]
        if i < 0 or i >= n_grid or (s_rest == 1 and i > limit) or (s_rest == 0 and i < limit):
            break
        oid = LV[1, s_rest, i]
        q = min(want, O[oid, Q])
        own = O[oid, OWN]
        if own >= OWN_MM:  # a market maker's quote was hit: its inventory moves
            MM[own - OWN_MM, MM_INV] += q if s_rest == 0 else -q
        _take(st, oid, q)
        _emit(st, out, 4, s_rest, oid, i, q)
        want -= q
        filled += q
    if filled > 0:
        info = filled ** P[P_LEARN_POW]
        F[F_I] += info if s_rest == 1 else -info
        F[F_H] += P[P_HAWKES_ALPHA]  # every trade excites the takers (Hawkes)
    return filled


@_jit
def _place(st: State, out: State, s: int, i: int, q: int, cls: int, own: int) -> int:
    """A limit order at level ``i``: it trades where it crosses and the rest joins its
    queue (its id is then ``S[S_ID] - 1``). Returns the quantity it traded."""
    filled = _sweep(st, out, 1 - s, q, i)
    if q > filled:
        oid = _rest(st, s, i, q - filled, cls, own)
        _emit(st, out, 1, s, oid, i, q - filled)
    return filled


# ------------------------------------------------------------------ state the agents read
@_jit
def _draw(vals: np.ndarray, cdf: np.ndarray, u: float) -> int:
    k = min(np.searchsorted(cdf, u, side="right"), vals.shape[0] - 1)
    return int(vals[k])


@_jit
def _interp(u: float, xp: np.ndarray, fp: np.ndarray) -> float:
    """Piecewise-linear interpolation of ``fp`` at ``u`` (``xp`` increasing, ``u`` within)."""
    lo, hi = 0, xp.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xp[mid] <= u:
            lo = mid
        else:
            hi = mid
    w = (u - xp[lo]) / (xp[hi] - xp[lo]) if xp[hi] > xp[lo] else 0.0
    return float(fp[lo] + w * (fp[hi] - fp[lo]))


@_jit
def _mid2(S: np.ndarray, n_grid: int) -> int:
    """Twice the mid in level units, or -1 when a side is empty."""
    if S[S_BID] < 0 or S[S_ASK] >= n_grid:
        return -1
    return int(S[S_BID] + S[S_ASK])


@_jit
def _consensus(F: np.ndarray, P: np.ndarray) -> float:
    """The liquidity providers' value (level units): the fundamental value plus what trades
    told them, ``kappa sum_i sign_i q_i^a exp(-(t - t_i) / tau)`` (a propagator with concave
    per-trade information: Hasbrouck 1991; Bouchaud, Gefen, Potters & Wyart 2004)."""
    return float(F[F_V] + P[P_KAPPA] * F[F_I])


@_jit
def _advance(S: np.ndarray, F: np.ndarray, P: np.ndarray, t: int) -> None:
    """Move the clock to ``t``: Hawkes excitation, momentum and learned flow decay."""
    dt = (t - S[S_T]) * 1e-9
    if dt > 0:
        F[F_H] *= np.exp(-P[P_HAWKES_BETA] * dt)
        F[F_M] *= np.exp(-dt / P[P_TAU_M])
        F[F_I] *= np.exp(-dt / P[P_TAU_I])
        S[S_T] = t


@_jit
def _note_mid(S: np.ndarray, F: np.ndarray, n_grid: int) -> None:
    """Feed the momentum signal: a fading sum of mid changes, in ticks."""
    m2 = _mid2(S, n_grid)
    if m2 >= 0:
        if F[F_LASTMID] >= 0:
            F[F_M] += 0.5 * m2 - F[F_LASTMID]
        F[F_LASTMID] = 0.5 * m2


@_jit
def _clock(st: State, profile: np.ndarray, rng_exo: np.random.Generator) -> None:
    """A clock tick: the latent log-activity (Ornstein-Uhlenbeck) and the fundamental value
    (a random walk with optional jumps) move. ``profile[0]`` scales the flow's rates through
    the day and ``profile[1]`` the fundamental's variance; the latent factor scales both."""
    S, F, P = st[3], st[4], st[6]
    dt = P[P_CLOCK]
    phi = np.exp(-dt / P[P_TAU_X])
    z_x, z_v = rng_exo.standard_normal(), rng_exo.standard_normal()
    u_j, e_j = rng_exo.random(), rng_exo.exponential()
    sx = P[P_SIGMA_X]
    F[F_X] = F[F_X] * phi + np.sqrt(1.0 - phi * phi) * sx * z_x
    k = (S[S_T] - S[S_T0]) // int(P[P_BIN] * 1e9)
    k = min(max(k, 0), profile.shape[1] - 1)
    latent = np.exp(F[F_X] - 0.5 * sx * sx)
    F[F_A] = profile[0, k] * latent
    jump = 0.0
    if u_j < P[P_JUMP_RATE] * dt:
        jump = P[P_JUMP_SIZE] * e_j * (1.0 if u_j < 0.5 * P[P_JUMP_RATE] * dt else -1.0)
    F[F_V] += P[P_SIGMA_V] * np.sqrt(profile[1, k] * latent * dt) * z_v + jump


@_jit
def _rates(st: State, R: np.ndarray) -> float:
    """The intensity (1/s) of each kind of event now; returns their sum."""
    LV, S, F, P = st[2], st[3], st[4], st[6]
    A = F[F_A]
    m2 = _mid2(S, LV.shape[2])
    R[0] = P[P_LAMBDA_L] * A
    R[1] = P[P_MU_N] * A + F[F_H]
    R[2] = 0.0
    if m2 >= 0:
        gap = abs(F[F_V] - 0.5 * m2) - P[P_THETA_I]
        if gap > 0:
            R[2] = P[P_LAMBDA_I] * A * min(1.0, gap / P[P_SCALE_I])
    R[3] = P[P_LAMBDA_M] * A * min(1.0, abs(F[F_M]) / P[P_SCALE_M])
    R[4] = P[P_N_MM] * P[P_LAMBDA_Q] * A
    for c in range(N_CLS):
        R[5 + c] = P[P_NU0 + c] * A * S[S_LIVE0 + c]
    R[8] = P[P_LAMBDA_H] * A
    total = 0.0
    for j in range(9):
        total += R[j]
    return total


# ------------------------------------------------------------------ the agents
@_jit
def _limit_order(st: State, out: State, tab: State, rng: np.random.Generator) -> None:
    """A liquidity provider's or a fundamental trader's limit order, ``x`` ticks from its
    reference price (``x`` from the fitted quantile table; negative: past it).

    A liquidity provider's reference is its value (:func:`_consensus`), pulled towards the
    mid by one minus its class's anchor weight, and it never crosses (it improves the quote
    instead); a fundamental trader's reference is the fundamental value, and it trades where
    that crosses (Chiarella & Iori 2002)."""
    LV, S, F, P = st[2], st[3], st[4], st[6]
    d_vals, d_cdf, lo_vals, lo_cdf = tab[1], tab[2], tab[3], tab[4]
    n_grid = LV.shape[2]
    s = 0 if rng.random() < 0.5 else 1
    fund = rng.random() < P[P_FUND_FRAC]
    x = _interp(rng.random(), d_cdf, d_vals)
    q = _draw(lo_vals, lo_cdf, rng.random())
    u_cls = rng.random()
    bb, ba = S[S_BID], S[S_ASK]
    ref = F[F_V]
    if not fund:
        ref = _consensus(F, P)
        if bb >= 0 and ba < n_grid:
            w = P[P_ANCHOR]
            ref = w * ref + (1.0 - w) * 0.5 * (bb + ba)
    i = int(np.floor(ref - x)) if s == 0 else int(np.ceil(ref + x))
    if not fund:
        if s == 0 and ba < n_grid:
            i = min(i, ba - 1)
        elif s == 1 and bb >= 0:
            i = max(i, bb + 1)
    if 1 <= i < n_grid - 1:
        # its lifetime class: orders that improve their side's quote are more fleeting
        inside = (s == 0 and i > bb) or (s == 1 and i < ba)
        w0 = P[P_W_IN0] if inside else P[P_W_OUT0]
        w1 = P[P_W_IN1] if inside else P[P_W_OUT1]
        cls = FLICKER if u_cls < w0 else (FAST if u_cls < w0 + w1 else SLOW)
        _place(st, out, s, i, q, cls, OWN_FUND if fund else OWN_LP)


@_jit
def _quote(st: State, out: State, k: int) -> None:
    """Market maker ``k`` requotes around the mid, leaning with the queue imbalance at the
    touch and against its inventory (Avellaneda & Stoikov 2008, in ticks); past its
    inventory limit it quotes one side only. An unchanged quote keeps its queue place."""
    O, LV, S, MM, P = st[0], st[2], st[3], st[5], st[6]
    n_grid = LV.shape[2]
    bb, ba = S[S_BID], S[S_ASK]
    if bb < 0 or ba >= n_grid:
        return
    qb, qa = LV[0, 0, bb], LV[0, 1, ba]
    inv = MM[k, MM_INV]
    c = 0.5 * (bb + ba) + P[P_MM_SKEW] * (qb - qa) / (qb + qa) * 0.5 * (ba - bb)
    c -= P[P_MM_GAMMA] * inv / P[P_MM_SIZE]
    lim = P[P_MM_INV_MAX]
    for s in range(2):
        if s == 0:
            want = inv < lim
            target = min(int(np.floor(c - P[P_MM_HALF])), ba - 1)
        else:
            want = inv > -lim
            target = max(int(np.ceil(c + P[P_MM_HALF])), S[S_BID] + 1)
        want = want and 1 <= target < n_grid - 1
        cur = MM[k, s]
        alive = cur > 0 and O[cur, Q] > 0
        if alive and (not want or O[cur, LVL] != target):
            i, held = O[cur, LVL], O[cur, Q]
            _take(st, cur, held)
            _emit(st, out, 3, s, cur, i, held)
            alive = False
        if want and not alive:
            size = int(P[P_MM_SIZE])
            MM[k, s] = _rest(st, s, target, size, KEEP, OWN_MM + k)
            _emit(st, out, 1, s, MM[k, s], target, size)
        elif not alive:
            MM[k, s] = 0


@_jit
def _cancel(st: State, out: State, c: int, rng: np.random.Generator) -> None:
    """A uniformly chosen resting order of class ``c`` is deleted (or, rarely, halved)."""
    O, LIVE, S, P = st[0], st[1], st[3], st[6]
    n = S[S_LIVE0 + c]
    if n == 0:
        return
    oid = LIVE[c, min(int(rng.random() * n), n - 1)]
    held = O[oid, Q]
    code, q = 3, held
    if held > 1 and rng.random() < P[P_PARTIAL]:
        code, q = 2, held // 2
    s, i = O[oid, SIDE], O[oid, LVL]
    _take(st, oid, q)
    _emit(st, out, code, s, oid, i, q)


@_jit
def _stale(st: State, out: State, rng: np.random.Generator) -> None:
    """Adverse selection: each agent order on the wrong side of the liquidity providers'
    value (a bid above it, an ask below it) is withdrawn with probability
    ``1 - exp(-rate dt)`` at a clock tick; outside orders never are. At most 64 per tick."""
    O, LV, S, F, P = st[0], st[2], st[3], st[4], st[6]
    p = 1.0 - np.exp(-P[P_STALE] * P[P_CLOCK])
    if p <= 0.0:
        return
    n_grid = LV.shape[2]
    v = _consensus(F, P)
    done = 0
    for s in range(2):
        step = -1 if s == 0 else 1
        i = S[S_BID] if s == 0 else S[S_ASK]
        while 0 <= i < n_grid and done < 64 and ((s == 0 and i > v) or (s == 1 and i < v)):
            oid = LV[1, s, i]
            while oid >= 0 and done < 64:
                nxt = O[oid, NXT]
                if O[oid, CLS] != KEEP and rng.random() < p:
                    held = O[oid, Q]
                    _take(st, oid, held)
                    _emit(st, out, 3, s, oid, i, held)
                    done += 1
                oid = nxt
            i += step
            while 0 <= i < n_grid and LV[0, s, i] == 0:
                i += step


# ------------------------------------------------------------------ the event loop
@_jit
def run(
    st: State,
    out: State,
    tab: State,
    rng: np.random.Generator,
    rng_exo: np.random.Generator,
    t_stop: int,
) -> int:
    """Run the population until its next event would be at or after ``t_stop``.

    Returns :data:`OK`, or :data:`NEED_OUT` / :data:`NEED_IDS` when the output buffer or
    the order table must grow first (nothing is consumed: grow and call again)."""
    O, LV, S, F, P = st[0], st[2], st[3], st[4], st[6]
    ev = out[0]
    profile, mo_vals, mo_cdf = tab[0], tab[5], tab[6]
    n_grid = LV.shape[2]
    R = tab[7]
    clock_ns = int(P[P_CLOCK] * 1e9)
    n_mm = int(P[P_N_MM])
    while True:
        if S[S_TCAND] < 0:
            lbar = _rates(st, R)
            F[F_LBAR] = lbar
            S[S_TCAND] = S[S_T] + 1 + int(rng.exponential(1e9 / lbar)) if lbar > 0 else 1 << 62
        tc, tk = S[S_TCAND], S[S_TCLOCK]
        if min(tc, tk) >= t_stop:
            return OK
        if S[S_RECORD] != 0 and ev.shape[0] - S[S_N] < S[S_MARGIN]:
            return NEED_OUT
        if O.shape[0] - S[S_ID] < 4:
            return NEED_IDS
        if tk <= tc:
            _advance(S, F, P, tk)
            _clock(st, profile, rng_exo)
            _stale(st, out, rng)
            _note_mid(S, F, n_grid)
            S[S_TCLOCK] = tk + clock_ns
            S[S_TCAND] = -1
            continue
        _advance(S, F, P, tc)
        S[S_TCAND] = -1
        total = _rates(st, R)
        u = rng.random() * F[F_LBAR]
        if u >= total:
            continue  # thinned: the intensity fell since the candidate was drawn
        j = 0
        acc = R[0]
        while u >= acc and j < 8:
            j += 1
            acc += R[j]
        if j == 0:
            _limit_order(st, out, tab, rng)
        elif j <= 3:
            # takers: noise (random sign), informed (towards the fundamental value),
            # momentum (with the recent trend of the mid)
            if j == 1:
                buy = rng.random() < 0.5
            elif j == 2:
                buy = F[F_V] > 0.5 * _mid2(S, n_grid)
            else:
                buy = F[F_M] > 0
            q = _draw(mo_vals, mo_cdf, rng.random())
            _sweep(st, out, 1 if buy else 0, q, n_grid if buy else -1)
        elif j == 4:
            if n_mm > 0:
                _quote(st, out, min(int(rng.random() * n_mm), n_mm - 1))
        elif j <= 7:
            _cancel(st, out, j - 5, rng)
        else:
            m2 = _mid2(S, n_grid)
            if m2 >= 0:  # a hidden execution at the mid (the price is passed as is)
                s = 0 if rng.random() < 0.5 else 1
                q = _draw(mo_vals, mo_cdf, rng.random())
                _emit(st, out, 5, s, 0, S[S_BASE] + m2 * S[S_TICK] // 2, q)
        _note_mid(S, F, n_grid)


# ------------------------------------------------------------------ set-up and outside orders
@_jit
def seed_book(st: State, tab: State, rng: np.random.Generator, n_orders: int) -> None:
    """Rest ``n_orders`` orders on both sides of the fundamental value (not written)."""
    LV, F, P = st[2], st[4], st[6]
    d_vals, d_cdf, lo_vals, lo_cdf = tab[1], tab[2], tab[3], tab[4]
    v = F[F_V]
    for k in range(n_orders):
        s = k % 2
        x = abs(_interp(rng.random(), d_cdf, d_vals)) + 0.5
        q = _draw(lo_vals, lo_cdf, rng.random())
        u = rng.random()
        cls = FLICKER if u < P[P_W_OUT0] else (FAST if u < P[P_W_OUT0] + P[P_W_OUT1] else SLOW)
        i = int(np.floor(v - x)) if s == 0 else int(np.ceil(v + x))
        if 1 <= i < LV.shape[2] - 1:
            _rest(st, s, i, q, cls, OWN_LP)


@_jit
def write_open_book(st: State, out: State) -> None:
    """Write every resting order as an ADD at the current time, oldest first.

    The queues are rebuilt in the same order, so the files start from exactly the book
    the population has (a queue is in id order: nothing here ever loses priority)."""
    O, LV, S = st[0], st[2], st[3]
    for s in range(2):
        for i in range(LV.shape[2]):
            LV[0, s, i], LV[1, s, i], LV[2, s, i] = 0, -1, -1
    S[S_BID], S[S_ASK], S[S_NLV0], S[S_NLV1] = -1, LV.shape[2], 0, 0
    for oid in range(1, S[S_ID]):
        q = O[oid, Q]
        if q <= 0:
            continue
        s, i = O[oid, SIDE], O[oid, LVL]
        tail = LV[2, s, i]
        O[oid, NXT], O[oid, PRV] = -1, tail
        if tail >= 0:
            O[tail, NXT] = oid
        else:
            LV[1, s, i] = oid
        if LV[0, s, i] == 0:
            S[S_NLV0 + s] += 1
        LV[2, s, i] = oid
        LV[0, s, i] += q
        if s == 0 and i > S[S_BID]:
            S[S_BID] = i
        if s == 1 and i < S[S_ASK]:
            S[S_ASK] = i
        _emit(st, out, 1, s, oid, i, q)


@_jit
def inject(st: State, out: State, t: int, buy: bool, qty: int, limit: int, rest: bool) -> int:
    """An outside order at time ``t`` (no earlier than the engine's clock).

    ``limit`` is the level of a limit order, or -1 for a market order. A limit order's
    unfilled part rests (when ``rest``) as an order no agent cancels; its id is then
    ``S[S_ID] - 1``. Its trades excite the takers and teach the liquidity providers as any
    trade does, and the next agent event is drawn afresh from ``t``. Returns the filled
    quantity."""
    LV, S, F, P = st[2], st[3], st[4], st[6]
    n_grid = LV.shape[2]
    _advance(S, F, P, t)
    s = 0 if buy else 1
    if limit < 0:
        filled = _sweep(st, out, 1 - s, qty, n_grid if buy else -1)
    elif rest:
        filled = _place(st, out, s, limit, qty, KEEP, OWN_EXT)
    else:
        filled = _sweep(st, out, 1 - s, qty, limit)
    S[S_TCAND] = -1
    _note_mid(S, F, n_grid)
    return filled


@_jit
def cancel_outside(st: State, out: State, t: int, oid: int) -> int:
    """Delete an outside order at time ``t``; returns the quantity removed (0: none rests)."""
    O, LV, S, F, P = st[0], st[2], st[3], st[4], st[6]
    if oid <= 0 or oid >= S[S_ID] or O[oid, Q] <= 0 or O[oid, OWN] != OWN_EXT:
        return 0
    _advance(S, F, P, t)
    held, s, i = O[oid, Q], O[oid, SIDE], O[oid, LVL]
    _take(st, oid, held)
    _emit(st, out, 3, s, oid, i, held)
    S[S_TCAND] = -1
    _note_mid(S, F, LV.shape[2])
    return int(held)
