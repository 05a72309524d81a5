"""Interpreters of ``tradelearn/Execution-v0``: the book as an observation, actions as orders.

Observation (``float32``, :func:`obs_names`), every entry clipped to its bound so it stays
inside the observation space; entries that need a two-sided book keep their last value
while a side is empty:

==================  ==========================================================  =========
name                value                                                       bounds
==================  ==========================================================  =========
time_left           :math:`(N-k)/N`                                             [0, 1]
twap_fraction       :math:`1/(N-k)`: the share of the rest TWAP sends now        [0, 1]
inventory_left      :math:`x/X`                                                 [0, 1]
spread_bps          best ask minus best bid, bp of the arrival mid              [0, 100]
imbalance           :math:`s\\,(q^b_1 - q^a_1)/(q^b_1 + q^a_1)`: > 0 is pressure    [-1, 1]
                    against us (bids heavier when we buy)
volatility_bps      RMS of the mid's log returns between the last ``vol_window``  [0, 100]
                    decision times, bp
volume              market volume of the last step over its expected volume      [0, 50]
price_move_bps      :math:`s\\,(m - S_0)/S_0`: the mid's move against us, bp      [-500, 500]
take_depth_i        :math:`\\log(1 + q_i / c)`, the side we would cross into      [0, 20]
                    (bids for a sell), :math:`c = X/N` the TWAP child
post_depth_i        the same for our own side                                  [0, 20]
signal              the external signal (only with ``signal=True``)             [-10, 10]
==================  ==========================================================  =========

Prices of a child order (:func:`limit_price`): three anchors, *passive* (our own best
quote), *mid* (the mid, rounded to the tick away from crossing) and *cross* (the price
where the visible far side holds the child's size, the deepest visible level otherwise).
The continuous action's offset :math:`a_1 \\in [-1, 1]` moves linearly from passive
(:math:`-1`) through mid (0) to cross (:math:`+1`), and beyond them on the same lines
outside that range (an absurd offset then meets the gate's price collar). A price that
reaches the far side is sent immediate-or-cancel, any other rests until it fills or the
agent replaces it.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from tradelearn.execution.exec_config import PLACEMENTS, ExecEnvConfig

BASE_NAMES = (
    "time_left",
    "twap_fraction",
    "inventory_left",
    "spread_bps",
    "imbalance",
    "volatility_bps",
    "volume",
    "price_move_bps",
)
_BASE_LOW = (0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, -500.0)
_BASE_HIGH = (1.0, 1.0, 1.0, 100.0, 1.0, 100.0, 50.0, 500.0)
DEPTH_BOUND = 20.0
SIGNAL_BOUND = 10.0
PLACEMENT_OFFSET = {"passive": -1.0, "mid": 0.0, "cross": 1.0}
DUMMY_ASK = 9_999_999_999
DUMMY_BID = -9_999_999_999
# quote vector layout written by the kernel
Q_BID, Q_ASK, Q_MID = 0, 1, 2


def obs_names(levels: int, signal: bool) -> tuple[str, ...]:
    """Names of the observation's entries, in order."""
    depth = tuple(f"take_depth_{i + 1}" for i in range(levels)) + tuple(
        f"post_depth_{i + 1}" for i in range(levels)
    )
    return BASE_NAMES + depth + (("signal",) if signal else ())


def make_spaces(config: ExecEnvConfig) -> tuple[spaces.Box, spaces.Space[object]]:
    """Observation and action spaces of an environment with this configuration."""
    k = config.levels
    low = list(_BASE_LOW) + [0.0] * (2 * k)
    high = list(_BASE_HIGH) + [DEPTH_BOUND] * (2 * k)
    if config.signal:
        low.append(-SIGNAL_BOUND)
        high.append(SIGNAL_BOUND)
    obs = spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)
    if config.action_type == "continuous":
        act: spaces.Space[object] = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
    else:
        act = spaces.Discrete(len(config.grid) * len(PLACEMENTS))
    return obs, act


# scalar parameters of write_obs, packed in one float64 array (one argument, not ten:
# numba's dispatcher checks every argument's type on each call)
(
    P_LEVELS,
    P_SIDE,
    P_STEPS_LEFT,
    P_N_STEPS,
    P_INV,
    P_CHILD,
    P_S0,
    P_VOLUME,
    P_SIGNAL,
    P_HAS_SIGNAL,
) = range(10)
N_PARAMS = 10


@numba.njit(cache=True, error_model="numpy")
def read_quote(snap: NDArray[np.int64], quote: NDArray[np.float64]) -> float:
    """Best bid, best ask and mid of a LOBSTER-layout ``snap`` into ``quote`` (NaN for a
    missing side); returns the mid."""
    ask_px, ask_q, bid_px, bid_q = snap[0], snap[1], snap[2], snap[3]
    have_ask = ask_px != DUMMY_ASK and ask_q > 0
    have_bid = bid_px != DUMMY_BID and bid_q > 0
    quote[Q_BID] = bid_px if have_bid else np.nan
    quote[Q_ASK] = ask_px if have_ask else np.nan
    mid = 0.5 * (bid_px + ask_px) if have_ask and have_bid else np.nan
    quote[Q_MID] = mid
    return float(mid)


@numba.njit(cache=True, error_model="numpy")
def write_obs(
    out: NDArray[np.float32],
    snap: NDArray[np.int64],
    rets: NDArray[np.float64],
    par: NDArray[np.float64],
) -> None:
    """Fill ``out`` from a LOBSTER-layout ``snap`` (``par``: the ``P_*`` scalars); the
    spread, imbalance and price-move slots keep their last values while a side is empty."""
    levels, side = int(par[P_LEVELS]), int(par[P_SIDE])
    steps_left, n_steps, s0 = par[P_STEPS_LEFT], par[P_N_STEPS], par[P_S0]
    ask_px, ask_q, bid_px, bid_q = snap[0], snap[1], snap[2], snap[3]
    two_sided = ask_px != DUMMY_ASK and ask_q > 0 and bid_px != DUMMY_BID and bid_q > 0
    out[0] = steps_left / n_steps
    out[1] = 1.0 / steps_left if steps_left > 0 else 0.0
    out[2] = min(max(par[P_INV], 0.0), 1.0)
    if two_sided:
        mid = 0.5 * (bid_px + ask_px)
        out[3] = min(max((ask_px - bid_px) / s0 * 1e4, 0.0), 100.0)
        out[4] = side * (bid_q - ask_q) / (bid_q + ask_q)
        out[7] = min(max(side * (mid - s0) / s0 * 1e4, -500.0), 500.0)
    ss = 0.0
    for r in rets:
        ss += r * r
    out[5] = min(math.sqrt(ss / rets.shape[0]), 100.0)
    volume = par[P_VOLUME]
    out[6] = min(max(volume, 0.0), 50.0) if volume == volume else 0.0
    take = 2 if side == -1 else 0  # we cross into the bids when we sell
    post = 0 if side == -1 else 2
    child = par[P_CHILD]
    for i in range(levels):
        qt = snap[4 * i + take + 1]
        qp = snap[4 * i + post + 1]
        out[8 + i] = min(math.log1p(max(qt, 0) / child), 20.0)
        out[8 + levels + i] = min(math.log1p(max(qp, 0) / child), 20.0)
    if par[P_HAS_SIGNAL] > 0:
        sig = par[P_SIGNAL]
        sig = sig if sig == sig else 0.0
        out[8 + 2 * levels] = min(max(sig, -10.0), 10.0)


@numba.njit(cache=True, error_model="numpy")
def sweep_price(snap: NDArray[np.int64], levels: int, side: int, qty: float) -> float:
    """The far-side price where the visible depth first holds ``qty`` (the deepest visible
    level otherwise; NaN when the far side is empty)."""
    col = 0 if side == 1 else 2
    dummy = DUMMY_ASK if side == 1 else DUMMY_BID
    cum = 0.0
    last = np.nan
    for i in range(levels):
        px = snap[4 * i + col]
        q = snap[4 * i + col + 1]
        if px == dummy or q <= 0:
            break
        last = float(px)
        cum += q
        if cum >= qty:
            break
    return last


@numba.njit(cache=True, error_model="numpy")
def limit_price(
    snap: NDArray[np.int64],
    quote: NDArray[np.float64],
    levels: int,
    side: int,
    qty: float,
    offset: float,
    tick: int,
) -> tuple[float, bool]:
    """The limit price (price units, on the tick grid) of a child order and whether it
    reaches the far side (then it is sent immediate-or-cancel).

    ``offset`` -1 is the passive anchor, 0 the mid, +1 the cross anchor (see the module
    docstring); NaN in gives NaN out. With an empty book the price is NaN (the gate denies).
    An absurdly far price (beyond 1e15 price units) is left off the grid for the gate's
    price collar to deny.
    """
    bid, ask = quote[Q_BID], quote[Q_ASK]
    near, far = (bid, ask) if side == 1 else (ask, bid)
    if math.isnan(near) and math.isnan(far):
        return math.nan, False
    if math.isnan(near):
        near = far - side * tick
    if math.isnan(far):
        far = near + side * tick
        cross = far
    else:
        cross = sweep_price(snap, levels, side, qty if qty == qty else 0.0)
        cross = far if math.isnan(cross) else cross
    mid = 0.5 * (near + far)
    # the mid rounded away from crossing (down for a buy, up for a sell)
    mid = float(math.floor(mid / tick) if side == 1 else math.ceil(mid / tick)) * tick
    if (mid - far) * side >= 0:
        mid = near
    px = mid + ((mid - near) if offset <= 0.0 else (cross - mid)) * offset
    if not math.isfinite(px):
        return math.nan, False
    if abs(px) < 1e15:
        steps = px / tick + 1e-9 if side == 1 else px / tick - 1e-9
        px = float(math.floor(steps) if side == 1 else math.ceil(steps)) * tick
    return px, (px - far) * side >= 0


def round_lots(qty: float, lot: int) -> float:
    """Shares rounded half up to whole lots; NaN and infinities pass through (the gate
    denies them)."""
    if not math.isfinite(qty):
        return qty
    return float(math.floor(qty / lot + 0.5) * lot)


__all__ = [
    "BASE_NAMES",
    "N_PARAMS",
    "PLACEMENT_OFFSET",
    "limit_price",
    "make_spaces",
    "obs_names",
    "read_quote",
    "round_lots",
    "sweep_price",
    "write_obs",
]
