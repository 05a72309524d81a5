"""Steps per second of the batched model-world env, against single envs in the same process.

Usage::

    python benchmarks/bench_model_env.py [--world ac|ow|cj] [--envs 1024] [--steps 4000]

The batched environment (:class:`~tradelearn.execution.model_env.ModelExecutionVecEnv`)
steps ``--envs`` episodes with random actions through its native path (``step_fractions``:
arrays in, arrays out, the kernel's auto-reset) and through Stable-Baselines3's ``VecEnv``
API (``step``, which also builds one info dict per environment). The baseline is a Python
loop over ``--envs`` single gymnasium environments
(:class:`~tradelearn.execution.model_env.ModelExecutionEnv`, the same kernel on one slot),
reset by hand when they end. Random actions are drawn before the clocks start. Each figure
is the best of three timed runs. Asserts the end state: every episode ran to its horizon,
each environment's step count and episode count add up, every cost is finite. Prints, last,
the native path's ratio to the baseline.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tradelearn.execution.model_env import ModelExecutionEnv, ModelExecutionVecEnv


def best_of(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="ac")
    parser.add_argument("--envs", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=4000, help="vector steps per timed run")
    parser.add_argument("--baseline-steps", type=int, default=20)
    args = parser.parse_args()
    n, steps = args.envs, args.steps
    rng = np.random.default_rng(0)
    # fractions in [0, 1): nothing ends early, so every episode lasts the horizon
    fractions = rng.uniform(0.0, 1.0, size=(steps, n))
    actions = (2.0 * fractions - 1.0).astype(np.float32)[..., None]

    venv = ModelExecutionVecEnv(args.world, n, seed=1)
    horizon = venv.world.n_steps - 1  # decisions per episode
    venv.reset()
    venv.step_fractions(fractions[0])  # compile outside the clock
    venv = ModelExecutionVecEnv(args.world, n, seed=1)
    venv.reset()
    total_steps = 0

    def native() -> None:
        nonlocal total_steps
        for a in fractions:
            venv.step_fractions(a)
        total_steps += steps

    t_native = best_of(3, native)
    done_episodes = int(venv._batch.episode.sum())
    assert np.all(venv.steps_done == total_steps % horizon), "an episode ended off its horizon"
    assert done_episodes == n * (total_steps // horizon), "episode count does not add up"
    assert np.all(np.isfinite(venv.episode_cost_bps)), "non-finite episode cost"

    sb3 = ModelExecutionVecEnv(args.world, n, seed=1)
    sb3.reset()

    def vec_api() -> None:
        for a in actions[: steps // 4]:
            sb3.step(a)

    t_sb3 = best_of(3, vec_api) * 4

    singles = [ModelExecutionEnv(args.world) for _ in range(n)]
    for i, env in enumerate(singles):
        env.reset(seed=1 + i)
    base_steps = args.baseline_steps

    def loop() -> None:
        for a in actions[:base_steps]:
            for i, env in enumerate(singles):
                _, _, terminated, _, _ = env.step(a[i])
                if terminated:
                    env.reset()

    t_loop = best_of(3, loop) * steps / base_steps

    rate_native = n * steps / t_native
    rate_sb3 = n * steps / t_sb3
    rate_loop = n * steps / t_loop
    print(f"world {args.world}, {n:,} envs, {steps:,} vector steps per run, random actions")
    print(f"batched env, native step_fractions: {rate_native / 1e6:8.2f} M steps/s (goal >= 20)")
    print(f"batched env, SB3 VecEnv.step:       {rate_sb3 / 1e6:8.2f} M steps/s (with info dicts)")
    print(f"loop over {n:,} single envs:        {rate_loop / 1e6:8.3f} M steps/s")
    print(f"batched native vs single-env loop ratio: {rate_native / rate_loop:.0f}x")


if __name__ == "__main__":
    main()
