"""The execution reward, in one place: implementation shortfall in basis points.

A parent order of :math:`X` shares on side :math:`s` (:math:`+1` buy, :math:`-1` sell)
arrives when the mid is :math:`S_0`; its arrival value is :math:`V = X S_0`. A step whose
executions total :math:`q` shares at average price :math:`\\bar S` costs

.. math::

    \\mathrm{IS} = s\\, q\\, (\\bar S - S_0)

in cash: a buy above, or a sell below, the arrival mid is a cost. Where the world charges
for risk, what is held after the step, :math:`x'`, adds :math:`\\pi x'^2` (Almgren-Chriss's
:math:`\\lambda\\sigma^2\\tau`, Cartea-Jaimungal's :math:`\\varphi\\tau`; 0 elsewhere). The
reward of the step is

.. math::

    r = -\\frac{\\mathrm{IS} + \\pi x'^2}{V}\\, 10^4 \\quad \\text{(basis points)},

so higher is better, a step that trades nothing and holds nothing earns 0, and the rewards
of an episode sum to minus its implementation shortfall plus penalties, in basis points of
the arrival value. The horizon's last step liquidates whatever is left, whatever the agent
did, at the world's terminal cost (the world's own impact for Almgren-Chriss and
Obizhaeva-Wang, the terminal penalty :math:`S - \\alpha q` for Cartea-Jaimungal); its
shortfall enters the reward of the episode's last step the same way, so an agent cannot
escape the cost of the shares it did not sell. The shortfall is measured against the
arrival mid, so price moves before a child order count in its cost: the reward is the cash
outcome, not the impact alone.

The simulator environment
-------------------------
``tradelearn/Execution-v0`` (:mod:`~tradelearn.execution.sim_env`) uses the same reward
with no running penalty (:math:`\\pi = 0`): the fills of its child orders that are reported
during a step are the step's :math:`q` shares at average price :math:`\\bar S` (several
prices per step, see :func:`fills_reward_bps`), measured against the arrival mid
:math:`S_0` the agent saw at the episode's start. The last step also carries the
liquidation at market of whatever is left at the horizon's end (and, where the visible book
cannot absorb it, the remainder booked beyond its deepest level at the configured
penalty), so the rewards of an episode sum to minus its implementation shortfall in basis
points, ``EpisodeResult.is_bps``. Fees are not in the reward; the episode reports them
apart (``fees_bps``). The same shortfall splits fill by fill into spread, impact and timing
(:func:`shortfall_parts`).

The functions are compiled with numba so the batched environments call them inside their
kernels; they are plain functions of numbers and work from Python as well.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

BPS = 1e4
"""Basis points per unit."""


@numba.njit(cache=True, inline="always", error_model="numpy")
def shortfall_cash(side: float, qty: float, avg_price: float, arrival_mid: float) -> float:
    """Implementation shortfall in cash of ``qty`` shares executed at ``avg_price``.

    Parameters
    ----------
    side
        ``+1`` for a buy, ``-1`` for a sell.
    qty
        Shares executed (non-negative).
    avg_price
        Their average price.
    arrival_mid
        Mid price when the parent order arrived.
    """
    return side * qty * (avg_price - arrival_mid)


@numba.njit(cache=True, inline="always", error_model="numpy")
def step_reward_bps(
    side: float,
    qty: float,
    avg_price: float,
    arrival_mid: float,
    held_after: float,
    penalty: float,
    parent_value: float,
) -> float:
    """Reward of one step: minus shortfall plus running penalty, in bp of the arrival value.

    ``held_after`` is the inventory carried over the step and ``penalty`` the world's
    coefficient :math:`\\pi` (0 where the world has no running penalty).
    """
    cost = shortfall_cash(side, qty, avg_price, arrival_mid) + penalty * held_after * held_after
    return -cost / parent_value * BPS


def fills_reward_bps(
    side: int,
    qty: NDArray[np.float64],
    price: NDArray[np.float64],
    arrival_mid: float,
    parent_qty: float,
    held_after: float = 0.0,
    penalty: float = 0.0,
) -> float:
    """Reward of a step from its fills (a simulator's view: several prices per step).

    The same definition as :func:`step_reward_bps` with the fills' average price.
    """
    q = np.asarray(qty, dtype=np.float64)
    p = np.asarray(price, dtype=np.float64)
    total = float(q.sum())
    avg = float(q @ p / total) if total > 0 else arrival_mid
    return float(
        step_reward_bps(
            float(side),
            total,
            avg,
            arrival_mid,
            held_after,
            penalty,
            parent_qty * arrival_mid,
        )
    )


def shortfall_parts(
    side: float, qty: float, price: float, our_mid: float, unaffected_mid: float, arrival_mid: float
) -> tuple[float, float, float]:
    """One fill's shortfall in cash split into (spread, impact, timing).

    ``our_mid`` :math:`m` is the mid the order met, ``unaffected_mid`` :math:`u` the mid of
    the market without us at the same time, ``arrival_mid`` :math:`S_0`:
    spread :math:`s q (p - m)`, impact :math:`s q (m - u)`, timing :math:`s q (u - S_0)`;
    they add up to :func:`shortfall_cash` (up to rounding).
    """
    return (
        side * qty * (price - our_mid),
        side * qty * (our_mid - unaffected_mid),
        side * qty * (unaffected_mid - arrival_mid),
    )
