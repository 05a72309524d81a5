"""``tradelearn/Execution-v0``: work a parent order over the simulated market, step by step.

The agent buys or sells a parent order of :math:`X` shares within ``horizon_s`` seconds,
deciding every ``horizon_s / n_steps`` seconds, over the replayed LOBSTER day or the
agent-based market (:class:`~tradelearn.execution.exec_config.MarketConfig`). Observation and
action interpreters are in :mod:`~tradelearn.execution.sim_obs`; the reward is
:mod:`~tradelearn.execution.reward`'s (see *The simulator environment* there).

One step at decision time :math:`t_k`:

1. the action becomes a child order (size, limit price, time in force); a child of zero
   shares sends nothing and leaves a resting child alone; any other first cancels our
   resting child (with latency, the market runs until the cancel is confirmed, so the new
   child is sized on what is really left);
2. the order goes through a :class:`~tradelearn.risk.gate.PreTradeGate`. Its default limits
   come from the parent order (order size and position at most :math:`X`, so the parent can
   never be overfilled; notional twice the arrival value; a 500 bp price collar; rate
   limits far above one order a step) and ``config.limits`` overrides them. A denied order
   (NaN, negative, oversized, off-collar...) is not sent; ``info["denials"]`` lists each
   denial's ``check`` and ``reason`` and the episode goes on;
3. the market runs to :math:`t_{k+1}`; the fills reported on the way price the reward.

After the last decision the market runs to the horizon's end :math:`T` and what is left is
liquidated at market (in chunks of at most the gate's ``max_order_qty``); what the visible
book cannot absorb is booked ``liquidation_penalty_bps`` beyond the deepest visible level
(:attr:`EpisodeResult.fallback_qty`), so every episode ends with zero inventory. An episode
ends earlier when nothing is left. There is no truncation.

Impact decomposition (:class:`EpisodeResult`): a fill of :math:`q` at price :math:`p` of a
child sent when our mid was :math:`m` and the unaffected mid :math:`u` (see
:mod:`~tradelearn.execution.sim_venue`) splits its shortfall
:math:`s q (p - S_0)` into spread :math:`s q (p - m)`, impact :math:`s q (m - u)` and timing
:math:`s q (u - S_0)`; summed and divided by the arrival value :math:`X S_0` (in bp), they
add up to ``is_bps`` exactly (up to rounding). Fees are kept apart (``fees_bps``).

``info`` of a step: ``step``, ``filled`` (shares executed in it), ``denials`` (only when
the gate denied something: ``check``, ``reason``, ``qty``, ``price``), ``rejects`` (only
when the simulator rejected a request: its reasons); at the end ``episode`` and
``exec_result``, the same :class:`EpisodeResult` (Stable-Baselines3's ``Monitor`` replaces
``episode`` with its own statistics, ``exec_result`` stays; Gymnasium's
``RecordEpisodeStatistics`` needs another ``stats_key``).

Seeding: ``reset(seed=...)`` seeds the episode draws (start time in ``start_window_s`` and
the agent market's seed); ``options`` may fix ``start_ns`` and ``market_seed``, and give the
signal. The same seed, options and actions give the same episode bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from tradelearn.errors import ConfigError
from tradelearn.execution.exec_config import PLACEMENTS, ExecEnvConfig, MarketConfig
from tradelearn.execution.exec_result import EpisodeResult
from tradelearn.execution.policies import ExecState
from tradelearn.execution.reward import BPS, shortfall_parts, step_reward_bps
from tradelearn.execution.sim_obs import (
    N_PARAMS,
    P_CHILD,
    P_HAS_SIGNAL,
    P_INV,
    P_LEVELS,
    P_N_STEPS,
    P_S0,
    P_SIDE,
    P_SIGNAL,
    P_STEPS_LEFT,
    P_VOLUME,
    PLACEMENT_OFFSET,
    Q_MID,
    limit_price,
    make_spaces,
    obs_names,
    read_quote,
    round_lots,
    sweep_price,
    write_obs,
)
from tradelearn.execution.sim_venue import NS, Venue, make_venue
from tradelearn.risk.gate import OrderIntent, PreTradeGate
from tradelearn.risk.limits import GateLimits
from tradelearn.sim.types import OrderRequest, OrderType, ReportKind, TimeInForce

_ACCOUNT = "exec"
_FILL, _CANCELLED, _EXPIRED, _REJECT = (
    ReportKind.FILL,
    ReportKind.CANCELLED,
    ReportKind.EXPIRED,
    ReportKind.REJECT,
)


class _NullJournal:
    """The env reports decisions in ``info``; the gate's journal is not kept."""

    def write(self, record: dict[str, Any]) -> None:
        return None


SignalSource = float | Sequence[float] | NDArray[np.float64] | Callable[[int], float]


class ExecutionEnv(gym.Env[NDArray[np.float32], Any]):
    """``gymnasium.make("tradelearn/Execution-v0", market="agents", ...)``.

    Parameters
    ----------
    config
        An :class:`ExecEnvConfig`, its dict, or ``None`` (the agent market, defaults).
    **overrides
        Fields of the config to replace (``market`` may be ``"replay"``/``"agents"``, a
        dict or a :class:`MarketConfig`; :class:`MarketConfig` field names such as
        ``message`` go to the market).
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium reads it on the class)
    render_mode: str | None = None

    def __init__(self, config: ExecEnvConfig | dict[str, Any] | None = None, **overrides: Any):
        if overrides.pop("render_mode", None) is not None:
            raise ConfigError("render_mode must be None: there is nothing to draw")
        if config is None:
            cfg = ExecEnvConfig(market=MarketConfig(kind="agents"))
        elif isinstance(config, ExecEnvConfig):
            cfg = config
        elif isinstance(config, dict):
            cfg = ExecEnvConfig.from_dict(config)
        else:
            raise ConfigError(f"config must be an ExecEnvConfig or a dict, got {config!r:.60}")
        self.config = cfg.with_overrides(**overrides) if overrides else cfg
        c = self.config
        self.venue: Venue = make_venue(c.market, c.levels, c.lot)
        self.observation_space, self.action_space = make_spaces(c)  # type: ignore[assignment]
        self.obs_names = obs_names(c.levels, c.signal)
        self._dt = round(c.step_s * NS)
        self._pre = c.vol_window * self._dt
        self._rt = c.market.latency_ns[1] + c.market.latency_ns[2] + 1
        self._instant = self._rt == 1
        v = self.venue
        self._expected_step = max(v.rate * c.step_s, 1e-9)
        self.parent_qty = (
            c.parent_qty
            if c.parent_qty is not None
            else max(int(round_lots(c.participation * v.rate * c.horizon_s, c.lot)), c.lot)
        )
        self._lo = v.midnight_ns + round(c.start_window_s[0] * NS)
        self._hi = v.midnight_ns + round(c.start_window_s[1] * NS)
        first, last = v.t_min + self._pre, v.t_max - c.n_steps * self._dt
        if self._lo < first or self._hi > last:
            raise ConfigError(
                f"start_window_s must lie within [{(first - v.midnight_ns) / NS:.3f}, "
                f"{(last - v.midnight_ns) / NS:.3f}] s for this market, horizon and "
                f"vol_window, actually: {c.start_window_s}"
            )
        self._grid = np.asarray(c.grid, dtype=np.float64)
        self._obs: NDArray[np.float32] = np.zeros(len(self.obs_names), dtype=np.float32)
        self._quote = np.full(3, np.nan)
        self._snap = np.zeros(4 * c.levels, dtype=np.int64)
        self._rets = np.zeros(c.vol_window)
        self._par = np.zeros(N_PARAMS)
        self._levels, self._n_steps, self._has_signal = c.levels, c.n_steps, c.signal
        self._continuous = c.action_type == "continuous"
        self.signal_fn: SignalSource | None = None
        """Signal used when ``reset`` options give none (a value, per-step values or a
        function of the decision time in ns)."""
        self._done = True
        self._result: EpisodeResult | None = None
        self._step_denials: list[dict[str, Any]] | None = None
        self._step_rejects: list[str] | None = None

    # ------------------------------------------------------------------ episodes
    def episode_starts(self, n: int, seed: int) -> list[int]:
        """``n`` start times (ns) drawn uniformly from the start window; same seed, same list."""
        rng = np.random.default_rng(seed)
        return [int(t) for t in rng.integers(self._lo, self._hi + 1, size=n)]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        opts = options or {}
        start = int(self.np_random.integers(self._lo, self._hi + 1))
        market_seed = int(self.np_random.integers(0, 2**31 - 1))
        if opts.get("start_ns") is not None:
            start = int(opts["start_ns"])
            v, c = self.venue, self.config
            if start - self._pre < v.t_min or start + c.n_steps * self._dt > v.t_max:
                raise ConfigError(
                    f"start_ns {start} leaves no room for the pre-roll and horizon in this market"
                )
        if opts.get("market_seed") is not None:
            market_seed = int(opts["market_seed"])
        src = opts.get("signal", self.signal_fn)
        self._signal: SignalSource | None = src
        self._start_episode(start, market_seed)
        return self._obs.copy(), {"start_ns": start, "market_seed": market_seed}

    def _start_episode(self, start: int, market_seed: int) -> None:
        c, v = self.config, self.venue
        self._t0, self._market_seed = start, market_seed
        self._k = 0
        self._obs[:] = 0.0
        self._rets[:] = 0.0
        self._quote[:] = np.nan
        v.start(start - self._pre, market_seed)
        self._cum = v.cum_volume()
        last = self._read_book()
        step_vol = 0.0
        for j in range(1, c.vol_window + 1):
            v.advance_to(start - self._pre + j * self._dt)
            cum = v.cum_volume()
            step_vol, self._cum = cum - self._cum, cum
            m = self._read_book()
            self._rets[j - 1] = _log_ret_bps(last, m)
            last = m if m == m else last
        s0 = last if last == last else v.unaffected_mid()
        if not s0 > 0:
            raise ConfigError(f"no two-sided book at the episode start {start} ns")
        self._s0 = s0
        self._mid = s0
        self._step_vol = step_vol
        self._episode_vol = 0.0
        q = self.parent_qty
        self._x = q
        self._value = q * s0
        self._child = q / c.n_steps
        self._working: dict[int, int] = {}
        self._refs: dict[int, tuple[float, float]] = {}
        self._cid = 0
        self._sp = self._im = self._ti = self._fees = 0.0
        self._n_orders = self._n_denials = 0
        self._remaining = np.zeros(c.n_steps)
        self._filled = np.zeros(c.n_steps)
        self._liq_qty = self._fallback = 0
        self._gate = PreTradeGate(self._limits(), journal=_NullJournal())
        self._gate.add_account(_ACCOUNT)
        self._gate.set_adv(v.symbol, max(v.rate * 23_400.0, 1.0))
        self._scale = v.price_scale
        self._done = False
        self._result = None
        p = self._par
        p[P_LEVELS], p[P_SIDE], p[P_N_STEPS] = c.levels, c.side, c.n_steps
        p[P_CHILD], p[P_S0], p[P_HAS_SIGNAL] = self._child, s0, float(c.signal)
        self._write_obs()

    def _limits(self) -> GateLimits:
        c = self.config
        q = self.parent_qty
        value = q * self._s0 / self.venue.price_scale
        adv = max(self.venue.rate * 23_400.0, 1.0)
        base = {
            "max_order_qty": q,
            "max_order_notional": 2.0 * value,
            "max_position": q,
            "max_gross_notional": 2.0 * value,
            "max_daily_loss": value,
            "max_orders_per_window": 20,
            "max_messages_per_window": 50,
            "rate_window_s": 1.0,
            "price_collar_bps": 500.0,
            "reference_max_age_s": max(2.0 * c.step_s, 1.0),
            "max_adv_fraction": max(1.0, 2.0 * q / adv),
            "max_open_orders": 4,
        }
        return GateLimits.from_mapping({**base, **c.limits}, source="limits")

    # ------------------------------------------------------------------ observation
    def _read_book(self) -> float:
        """Snapshot the book and its quote; returns the mid (NaN when one-sided), which
        also becomes our mid when there is one."""
        self._snap = self.venue.sim.book_snapshot(self._levels)
        m: float = read_quote(self._snap, self._quote)
        if m == m:
            self._mid = m
        return m

    def _signal_value(self) -> float:
        src = self._signal
        if src is None:
            return 0.0
        if callable(src):
            return float(src(self._t0 + self._k * self._dt))
        if isinstance(src, int | float):
            return float(src)
        seq = cast("Sequence[float]", src)
        return float(seq[min(self._k, len(seq) - 1)])

    def _write_obs(self) -> None:
        """The observation from the last snapshot (see :mod:`~tradelearn.execution.sim_obs`)."""
        p = self._par
        p[P_STEPS_LEFT] = self._n_steps - self._k
        p[P_INV] = self._x / self.parent_qty
        p[P_VOLUME] = self._step_vol / self._expected_step
        if self._has_signal:
            p[P_SIGNAL] = self._signal_value()
        write_obs(self._obs, self._snap, self._rets, p)

    # ------------------------------------------------------------------ baselines' view
    def exec_state(self) -> ExecState:
        """The state as :class:`~tradelearn.execution.policies.ExecState` (a batch of one):
        ``market_volume`` is the last step's (the pre-roll's at the first decision)."""
        c = self.config
        return ExecState(
            step=np.array([self._k]),
            n_steps=c.n_steps,
            remaining=np.array([float(self._x)]),
            parent_qty=np.array([float(self.parent_qty)]),
            price_move=np.array([self._mid - self._s0]),
            impact=np.array([self._mid - self.venue.unaffected_mid()]),
            market_volume=np.array([self._step_vol]),
            side=c.side,
        )

    def action_from_child(self, qty: float, placement: str = "cross") -> NDArray[Any]:
        """The action that sends a child of ``qty`` shares (rounded to lots, capped at what
        is left) at ``placement`` (``"passive"``, ``"mid"`` or ``"cross"``).

        Continuous: exact (float64). Discrete: the nearest grid size at that placement.
        """
        if placement not in PLACEMENTS:
            raise ConfigError(f"placement must be one of {PLACEMENTS}, actually: {placement!r}")
        c = self.config
        x = float(self._x)
        q = min(max(round_lots(float(qty), c.lot), 0.0), x) if qty == qty else 0.0
        if c.action_type == "continuous":
            frac = q / x if x > 0 else 0.0
            return np.array([2.0 * frac - 1.0, PLACEMENT_OFFSET[placement]])
        twap = x / max(c.n_steps - self._k, 1)
        g = int(np.argmin(np.abs(self._grid * twap - q))) if twap > 0 else 0
        return np.array(g * len(PLACEMENTS) + PLACEMENTS.index(placement), dtype=np.int64)

    # ------------------------------------------------------------------ the step
    def _decode(self, action: Any) -> tuple[float, float, str]:
        """(shares, placement offset, why not) of an action."""
        c = self.config
        x = float(self._x)
        a = action if type(action) is np.ndarray else np.asarray(action)
        numeric = a.dtype.kind in "fiub"
        if self._continuous:
            if a.size != 2 or not numeric:
                return 0.0, 0.0, f"continuous action must be 2 numbers, got {action!r:.60}"
            f0, f1 = float(a.flat[0]), float(a.flat[1])
            return round_lots(0.5 * (f0 + 1.0) * x, c.lot), f1, ""
        n = len(PLACEMENTS)
        f = float(a.flat[0]) if a.size == 1 and numeric else math.nan
        if not (math.isfinite(f) and f == int(f) and 0 <= f < self._grid.size * n):
            return (
                0.0,
                0.0,
                (
                    f"discrete action must be one index in 0..{self._grid.size * n - 1}, "
                    f"got {action!r:.60}"
                ),
            )
        i = int(f)
        g, p = divmod(i, n)
        want = self._grid[g] * x / max(c.n_steps - self._k, 1)
        qty = min(round_lots(float(want), c.lot), x)
        return qty, PLACEMENT_OFFSET[PLACEMENTS[p]], ""

    def _deny(self, check: str, reason: str, qty: float, price: float | None) -> None:
        self._n_denials += 1
        if self._step_denials is None:
            self._step_denials = []
        self._step_denials.append({"check": check, "reason": reason, "qty": qty, "price": price})

    def _gate_check(self, qty: float, price: float | None) -> bool:
        """Ask the gate about an order of ours now; a denial is noted, not raised."""
        self._cid += 1
        now = self.venue.sim.now
        g = self._gate
        if self._quote[Q_MID] == self._quote[Q_MID]:
            g.on_mark(self.venue.symbol, self._mid / self._scale, now)
        d = g.check(
            OrderIntent(
                client_id=str(self._cid),
                account=_ACCOUNT,
                symbol=self.venue.symbol,
                side=self.config.side,
                qty=qty,
                price=None if price is None else price / self._scale,
            ),
            now,
        )
        if not d.allowed:
            self._deny(d.check, d.reason, qty, price)
        return d.allowed

    def _cancel_working(self) -> None:
        """Cancel our resting children; know they are gone before anything else is sent.

        Without latency every fill so far is reported and the cancels reach the exchange
        before any later request with nothing in between, so they count as done at once;
        otherwise the market runs until their confirmations are back.
        """
        sim = self.venue.sim
        for cid in list(self._working):
            sim.cancel(cid)
            self._gate.note_message(sim.now)
        if self._instant:
            for cid in self._working:
                self._gate.on_cancel(str(cid), sim.now)
            self._working.clear()
            return
        self.venue.advance_to(sim.now + self._rt)
        self._drain()
        self._read_book()

    def _send_child(self, qty: float, offset: float) -> None:
        c = self.config
        if self._working:
            self._cancel_working()
        ok_qty = qty == qty and 0 < qty < math.inf
        price, ioc = limit_price(
            self._snap, self._quote, c.levels, c.side, qty if ok_qty else 0.0, offset,
            self.venue.tick,
        )  # fmt: skip
        if not self._gate_check(qty, price):
            return
        cid, q = self._cid, int(qty)
        self._refs[cid] = (self._mid, self.venue.unaffected_mid())
        tif = TimeInForce.IOC if ioc else TimeInForce.GTC
        self.venue.sim.submit(
            OrderRequest(client_id=cid, side=c.side, qty=q, price=int(price), tif=tif)
        )
        self._n_orders += 1
        if not ioc:
            self._working[cid] = q

    def _drain(self) -> None:
        """Book the reports that have reached us: fills, ends of orders, rejects."""
        side, s0, g = self.config.side, self._s0, self._gate
        for r in self.venue.sim.reports():
            kind, cid = r.kind, r.client_id
            if kind == _FILL:
                q, p = r.qty, float(r.price)
                m, u = self._refs[cid]
                sp, im, ti = shortfall_parts(side, q, p, m, u, s0)
                self._sp += sp
                self._im += im
                self._ti += ti
                self._x -= q
                self._step_q += q
                self._step_qp += q * p
                self._fees += r.fee
                g.on_fill(str(cid), q, p / self._scale, r.ts_exchange)
                if r.leaves_qty == 0:
                    self._working.pop(cid, None)
                elif cid in self._working:
                    self._working[cid] = r.leaves_qty
            elif kind in (_CANCELLED, _EXPIRED, _REJECT):
                g.on_cancel(str(cid), r.ts_local)
                self._working.pop(cid, None)
                if kind == _REJECT and r.reason:
                    if self._step_rejects is None:
                        self._step_rejects = []
                    self._step_rejects.append(r.reason)

    def _liquidate(self) -> None:
        """Sell (buy) what is left at market; book what the book cannot absorb."""
        c, v = self.config, self.venue
        if self._working:
            self._cancel_working()
        self._read_book()  # the book at the horizon's end prices the liquidation
        self._liq_qty = self._x
        cap = self._gate.limits.max_order_qty
        refs = (self._mid, v.unaffected_mid())
        while self._x > 0:  # one chunk at a time: each meets the book the last one left
            q = min(self._x, cap)
            if not self._gate_check(float(q), None):
                break
            self._refs[self._cid] = refs
            v.sim.submit(
                OrderRequest(
                    client_id=self._cid,
                    side=c.side,
                    qty=q,
                    order_type=OrderType.MARKET,
                    tif=TimeInForce.IOC,
                )
            )
            self._n_orders += 1
            before = self._x
            v.advance_to(v.sim.now + self._rt)
            self._drain()
            if self._x == before:  # the book is empty on that side
                break
        if self._x > 0:
            self._read_book()
            deepest = sweep_price(self._snap, c.levels, c.side, math.inf)
            ref = deepest if deepest == deepest else refs[0]
            p = ref * (1.0 + c.side * c.liquidation_penalty_bps / BPS)
            q = self._x
            sp, im, ti = shortfall_parts(c.side, q, p, refs[0], refs[1], self._s0)
            self._sp += sp
            self._im += im
            self._ti += ti
            self._step_q += q
            self._step_qp += q * p
            self._fallback = q
            self._x = 0

    def step(self, action: Any) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over: call reset() first")
        c, v = self.config, self.venue
        k = self._k
        self._step_q = 0
        self._step_qp = 0.0
        self._step_denials = None
        self._step_rejects = None
        qty, offset, why = self._decode(action)
        if why:
            self._deny("action", why, qty, None)
        elif qty != 0.0:  # NaN and negative sizes go to the gate, which denies them
            self._send_child(qty, offset)
        v.advance_to(self._t0 + (k + 1) * self._dt)
        self._drain()
        last = k + 1 >= c.n_steps
        if last or (self._x <= 0 and not self._working):
            if self._x > 0 or self._working:
                self._liquidate()
            self._done = True
        cum = v.cum_volume()
        ours = self._step_q - (self._fallback if self._done else 0)
        vol = cum - self._cum - (ours if v.includes_ours else 0.0)
        self._cum = cum
        self._step_vol = max(vol, 0.0)
        self._episode_vol += self._step_vol
        self._remaining[k] = self._x
        self._filled[k] = self._step_q
        prev = self._mid
        self._read_book()
        self._k = c.n_steps if self._done else k + 1
        self._write_obs()
        self._rets[k % c.vol_window] = _log_ret_bps(prev, self._mid)
        reward = 0.0
        if self._step_q:
            avg = self._step_qp / self._step_q
            reward = float(
                step_reward_bps(float(c.side), self._step_q, avg, self._s0, 0.0, 0.0, self._value)
            )
        info: dict[str, Any] = {"step": k, "filled": self._step_q}
        if self._step_denials is not None:
            info["denials"] = self._step_denials
        if self._step_rejects is not None:
            info["rejects"] = self._step_rejects
        if self._done:
            self._result = self._episode_result(k + 1)
            info["episode"] = self._result
            info["exec_result"] = self._result
        return self._obs.copy(), reward, self._done, False, info

    def _episode_result(self, steps: int) -> EpisodeResult:
        c = self.config
        q, s0 = self.parent_qty, self._s0
        executed = q - self._x
        k = BPS / self._value
        is_cash = self._sp + self._im + self._ti
        avg = s0 + c.side * is_cash / executed if executed else math.nan
        return EpisodeResult(
            start_ns=self._t0,
            side=c.side,
            parent_qty=q,
            arrival_mid=s0,
            executed_qty=int(executed),
            avg_price=avg,
            is_bps=is_cash * k,
            spread_bps=self._sp * k,
            impact_bps=self._im * k,
            timing_bps=self._ti * k,
            remaining=self._remaining.copy(),
            market_volume=self._episode_vol,
            denials=self._n_denials,
            fees_bps=self._fees * self._scale * k,
            filled=self._filled.copy(),
            n_orders=self._n_orders,
            terminal_qty=int(self._liq_qty),
            fallback_qty=int(self._fallback),
            end_ns=int(self.venue.sim.now),
            market_seed=self._market_seed,
            steps=steps,
        )

    @property
    def last_result(self) -> EpisodeResult | None:
        """The result of the episode that ended last (None while one runs)."""
        return self._result

    def close(self) -> None:
        """Nothing to release."""


def _log_ret_bps(a: float, b: float) -> float:
    if a > 0 and b > 0:
        return math.log(b / a) * BPS
    return 0.0


__all__ = ["EpisodeResult", "ExecEnvConfig", "ExecutionEnv", "MarketConfig"]
