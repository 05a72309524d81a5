"""``tradelearn/Execution-v0`` throughput: replay env steps per second with random actions.

Usage::

    python benchmarks/bench_exec_env.py [--seconds S] [--steps N] [--repeat R] [--profile]

Workload: a generated agent-based day (``--seconds`` long, default the full 6.5 hours)
written as LOBSTER files (generation, writing and loading are outside the clock).

* Env, short step: a sell order over 60 s in 60 decisions of 1 s, random continuous actions
  (size and limit offset uniform in [-1, 1], drawn up front), ``--steps`` steps with
  resets as episodes end. Most actions send a child order: through the pre-trade gate,
  into the replay simulator (matching, queue tracking), then the observation.
* The same env doing nothing (action -1: no order until the horizon's liquidation): the
  cost of advancing the market and building observations alone.
* Env, default config (1800 s in 30 steps of 60 s) with random actions.
* Baseline, same process: the bare :class:`~tradelearn.sim.replay.ReplaySimulator`
  advanced by 1 s steps over the same episodes, no orders, no gate, no observation.

Best of ``--repeat`` runs each. End state asserted: every finished episode executed its
whole parent order, its rewards sum to minus its shortfall and the shortfall equals
spread + impact + timing. ``--profile`` adds where the short-step env's time goes, by
module group. The last line is the short-step env's steps per second as a ratio of the
bare simulator's steps per second.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tradelearn.execution.sim_env import ExecEnvConfig, ExecutionEnv, MarketConfig
from tradelearn.sim.generate import generate_day, write_day
from tradelearn.sim.replay import ReplaySimulator

TARGET = 100_000.0


def run_env(env: ExecutionEnv, actions: np.ndarray, seed: int) -> tuple[float, dict[str, Any]]:
    """Seconds for ``len(actions)`` steps, and what the finished episodes did."""
    env.reset(seed=seed)
    total_r = 0.0
    finished: list[tuple[float, Any]] = []
    t = time.perf_counter()
    for a in actions:
        _, r, term, _, info = env.step(a)
        total_r += r
        if term:
            finished.append((total_r, info["episode"]))
            total_r = 0.0
            env.reset()
    secs = time.perf_counter() - t
    return secs, {"episodes": finished}


def check(stats: dict[str, Any]) -> int:
    """Assert every finished episode's end state; returns how many were checked."""
    for rsum, res in stats["episodes"]:
        assert res.executed_qty == res.parent_qty and res.remaining[-1] == 0, res
        assert math.isclose(rsum, -res.is_bps, rel_tol=1e-9, abs_tol=1e-7), (rsum, res.is_bps)
        parts = res.spread_bps + res.impact_bps + res.timing_bps
        assert math.isclose(res.is_bps, parts, rel_tol=1e-9, abs_tol=1e-7), res
    return len(stats["episodes"])


def bare_sim(env: ExecutionEnv, n: int, n_steps: int, step_ns: int, seed: int) -> float:
    """Seconds for ``n`` 1-step advances of the bare simulator over the env's episodes."""
    day = env.venue.day  # type: ignore[attr-defined]
    sim = ReplaySimulator(
        day.events, tick=day.tick, levels=day.levels, book_rows=day.book, seed=seed
    )
    starts = env.episode_starts(n // n_steps + 1, seed)
    checksum = 0
    t = time.perf_counter()
    done = 0
    for start in starts:
        sim.reset(start)
        for k in range(1, n_steps + 1):
            sim.advance_to(start + k * step_ns)
            done += 1
            if done == n:
                break
        checksum += sim.events_applied
        if done == n:
            break
    secs = time.perf_counter() - t
    assert checksum > 0 and done == n
    return secs


def profile_groups(env: ExecutionEnv, actions: np.ndarray) -> dict[str, float]:
    """Share of the short-step env's own time (tottime) by module group."""
    prof = cProfile.Profile()
    prof.enable()
    run_env(env, actions, seed=3)
    prof.disable()
    groups: dict[str, float] = {}
    for (path, _, _), row in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
        tt = row[2]
        if "/sim/" in path or "/book/" in path:
            key = "simulator (matching, queues, reports)"
        elif "/risk/" in path:
            key = "pre-trade gate"
        elif "/execution/" in path:
            key = "env (actions, observation, accounting)"
        else:
            key = "numpy / builtins / other"
        groups[key] = groups.get(key, 0.0) + tt
    total = sum(groups.values())
    return {k: v / total for k, v in sorted(groups.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=23_400.0)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        day = generate_day(seed=args.seed, seconds=args.seconds, levels=10)
        m, o = write_day(day, Path(tmp))
        market = MarketConfig(kind="replay", message=str(m), orderbook=str(o))
        end = 34_200.0 + args.seconds
        short = ExecutionEnv(
            ExecEnvConfig(
                market=market,
                horizon_s=60.0,
                n_steps=60,
                start_window_s=(34_200.0 + 600.0, end - 120.0),
            )
        )
        default = ExecutionEnv(ExecEnvConfig(market=market)) if args.seconds >= 23_400.0 else None
    print(f"market: generated day, {day.events.shape[0]:,} messages, {args.seconds:.0f} s")
    print(f"short-step env: 60 steps of 1 s, parent {short.parent_qty} shares")

    rng = np.random.default_rng(args.seed)
    actions = rng.uniform(-1.0, 1.0, (args.steps, 2)).astype(np.float32)
    idle = np.tile(np.array([-1.0, 0.0], dtype=np.float32), (args.steps, 1))
    run_env(short, actions[:500], seed=0)  # JIT and caches warm

    best: dict[str, float] = {}
    checked = 0
    for _ in range(args.repeat):
        secs, stats = run_env(short, actions, seed=1)
        checked += check(stats)
        best["env random"] = min(best.get("env random", math.inf), secs)
        secs, stats = run_env(short, idle, seed=1)
        checked += check(stats)
        best["env idle"] = min(best.get("env idle", math.inf), secs)
        best["bare sim"] = min(
            best.get("bare sim", math.inf), bare_sim(short, args.steps, 60, 10**9, 1)
        )
        if default is not None:
            n = args.steps // 4
            secs, stats = run_env(default, actions[:n], seed=1)
            checked += check(stats)
            best["env default"] = min(best.get("env default", math.inf), secs * 4)
    assert checked > 0
    rate = {k: args.steps / v for k, v in best.items()}
    print(f"episodes checked (end state, reward sum, decomposition): {checked}")
    print(f"bare replay simulator, 1 s advances, no orders: {rate['bare sim']:>10,.0f} steps/s")
    print(f"env, 1 s steps, no orders (idle):               {rate['env idle']:>10,.0f} steps/s")
    if "env default" in rate:
        print(
            f"env, default config (60 s steps), random:       {rate['env default']:>10,.0f} steps/s"
        )
    print(f"env, 1 s steps, random actions:                 {rate['env random']:>10,.0f} steps/s")
    print(
        f"target {TARGET:,.0f} steps/s: {'met' if rate['env random'] >= TARGET else 'MISSED'} "
        f"({rate['env random'] / TARGET:.3f} of it)"
    )
    if args.profile:
        for group, share in profile_groups(short, actions[:5000]).items():
            print(f"  {share:6.1%}  {group}")
    print(
        f"env random-action steps/s vs bare simulator advances/s: "
        f"{rate['env random'] / rate['bare sim']:.3f}"
    )


if __name__ == "__main__":
    main()
