"""The model-world environments: checkers, seeding, batched versus single, dynamics."""

from __future__ import annotations

import subprocess
import sys

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from scipy import stats
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from tradelearn.execution import MODEL_ENV_ID
from tradelearn.execution.model_env import (
    DEFAULT_GRID,
    OBS_NAMES,
    ZIG_FN,
    ZIG_KN,
    ZIG_WN,
    ModelExecutionEnv,
    ModelExecutionVecEnv,
    counter_normal,
    observe,
)
from tradelearn.execution.worlds import evaluate_gains, fraction_gains, make_world

WORLDS = ("ac", "ow", "cj")
ACTION_TYPES = ("continuous", "discrete")
INV = OBS_NAMES.index("inventory_left")


@pytest.mark.parametrize("world", WORLDS)
@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_every_world_passes_the_gymnasium_and_sb3_checkers(world: str, action_type: str) -> None:
    env = gymnasium.make(MODEL_ENV_ID, world=world, action_type=action_type)
    gymnasium_check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)


def test_importing_the_package_is_enough_for_gymnasium_make() -> None:
    code = (
        "import gymnasium, tradelearn.execution; "
        f"env = gymnasium.make('{MODEL_ENV_ID}', world='ow'); "
        "print(env.reset(seed=0)[0].shape)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == f"({len(OBS_NAMES)},)"


def _actions(action_type: str, n: int, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if action_type == "continuous":
        a = rng.uniform(-1.0, 1.0, (count, n, 1)).astype(np.float32)
        a[rng.uniform(size=(count, n)) < 0.05] = 1.0  # sell everything: early ends
        return a
    return rng.integers(0, len(DEFAULT_GRID), (count, n))


def _single_run(env: ModelExecutionEnv, seed: int, actions: np.ndarray) -> list[bytes]:
    obs, _ = env.reset(seed=seed)
    trace = [obs.tobytes()]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        trace.append(obs.tobytes() + np.float64(reward).tobytes() + bytes([terminated, truncated]))
        if terminated:
            obs, _ = env.reset()
            trace.append(obs.tobytes())
    return trace


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_seeded_single_episode_repeats_bit_for_bit(action_type: str) -> None:
    actions = _actions(action_type, 1, 35, seed=2)[:, 0]
    env = ModelExecutionEnv("ow", action_type=action_type)  # type: ignore[arg-type]
    first = _single_run(env, 7, actions)
    second = _single_run(ModelExecutionEnv("ow", action_type=action_type), 7, actions)  # type: ignore[arg-type]
    assert first == second
    assert _single_run(env, 8, actions) != first


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_seeded_vector_env_repeats_bit_for_bit(action_type: str) -> None:
    actions = _actions(action_type, 64, 30, seed=3)

    def run() -> list[bytes]:
        venv = ModelExecutionVecEnv("cj", 64, action_type=action_type, seed=5)  # type: ignore[arg-type]
        out = [venv.reset().tobytes()]
        for a in actions:
            obs, rew, done, _ = venv.step(a)
            out.append(obs.tobytes() + rew.tobytes() + done.tobytes())
        return out

    assert run() == run()


@pytest.mark.parametrize("world", WORLDS)
@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_vector_env_equals_single_envs_stepped_with_the_same_actions(
    world: str, action_type: str
) -> None:
    n, seed = 6, 40
    actions = _actions(action_type, n, 33, seed=1)
    venv = ModelExecutionVecEnv(world, n, action_type=action_type, seed=seed)  # type: ignore[arg-type]
    singles = [ModelExecutionEnv(world, action_type=action_type) for _ in range(n)]  # type: ignore[arg-type]
    vobs = venv.reset()
    for i, env in enumerate(singles):
        obs, _ = env.reset(seed=seed + i)
        assert obs.tobytes() == vobs[i].tobytes()
    ended = 0
    for a in actions:
        vobs, vrew, vdone, vinfo = venv.step(a)
        for i, env in enumerate(singles):
            obs, rew, term, trunc, info = env.step(a[i])
            assert np.float32(rew) == vrew[i] and term == vdone[i] and not trunc
            if term:
                ended += 1
                assert obs.tobytes() == vinfo[i]["terminal_observation"].tobytes()
                assert info["cost_bps"] == vinfo[i]["cost_bps"]
                assert info["noise_bps"] == vinfo[i]["noise_bps"]
                assert vinfo[i]["episode"]["r"] == pytest.approx(-info["cost_bps"])
                obs, _ = env.reset()
            assert obs.tobytes() == vobs[i].tobytes()
    assert ended >= 2 * n


def test_sb3_seed_gives_environment_i_the_seed_plus_i() -> None:
    venv = ModelExecutionVecEnv("ac", 3, seed=0)
    venv.seed(100)
    venv.reset()
    other = ModelExecutionVecEnv("ac", 3, seed=99)
    other.reset()
    a = np.zeros((3, 1), dtype=np.float32)
    first = venv.step(a)[0]
    assert first[0].tobytes() == other.step(a)[0][1].tobytes()


def test_the_last_decision_also_liquidates_the_rest_at_the_terminal_cost() -> None:
    env = ModelExecutionEnv("cj")
    env.reset(seed=0)
    world = env.world
    for _ in range(world.n_steps - 2):
        obs, _, terminated, *_ = env.step(np.array([-1.0], dtype=np.float32))  # sell nothing
        assert obs[INV] == 1.0 and not terminated
    obs, _, terminated, _, info = env.step(np.array([-1.0], dtype=np.float32))
    assert terminated and obs[INV] == 0.0 and obs[OBS_NAMES.index("time_left")] == 0.0
    alpha_cost = world.terminal_penalty * world.parent_qty**2  # type: ignore[union-attr]
    penalty = world.inventory_penalty * world.tau * world.parent_qty**2 * (world.n_steps - 1)  # type: ignore[union-attr]
    expected = (alpha_cost + penalty) / (world.parent_qty * world.arrival_price) * 1e4
    assert info["cost_bps"] - info["noise_bps"] == pytest.approx(expected, rel=1e-9)


def test_an_episode_ends_early_once_everything_is_sold() -> None:
    env = ModelExecutionEnv("ac")
    env.reset(seed=0)
    env.step(np.array([-0.5], dtype=np.float32))
    obs, _, terminated, _, info = env.step(np.array([1.0], dtype=np.float32))
    assert terminated and obs[INV] == 0.0 and "cost_bps" in info


def test_discrete_actions_sell_multiples_of_the_remaining_twap() -> None:
    env = ModelExecutionEnv("ac", action_type="discrete")
    env.reset(seed=0)
    n = env.world.n_steps
    obs, *_ = env.step(DEFAULT_GRID.index(2.0))
    assert obs[INV] == pytest.approx(1 - 2.0 / n)
    obs, *_ = env.step(DEFAULT_GRID.index(0.5))
    assert obs[INV] == pytest.approx((1 - 2.0 / n) * (1 - 0.5 / (n - 1)))


def test_observation_function_matches_the_kernel() -> None:
    world = make_world("ow")
    venv = ModelExecutionVecEnv(world, 50, seed=1)
    venv.reset()
    rng = np.random.default_rng(0)
    for _ in range(4):
        obs, _, _ = venv.step_fractions(rng.uniform(0, 0.3, 50))
        again = observe(world, venv.steps_done, venv.remaining, venv.price_move, venv.impact)
        assert again.tobytes() == obs.tobytes()


@pytest.mark.parametrize("world", WORLDS)
def test_twap_in_the_env_costs_what_the_exact_formula_says(world: str) -> None:
    w = make_world(world)
    n = 20_000
    venv = ModelExecutionVecEnv(w, n, seed=3)
    for k in range(w.n_steps - 1):
        _, _, done = venv.step_fractions(np.full(n, 1.0 / (w.n_steps - k)))
    assert done.all()
    exact = evaluate_gains(w, fraction_gains(1.0 / (w.n_steps - np.arange(w.n_steps)))).cost_bps
    cost, noise = venv.episode_cost_bps, venv.episode_noise_bps
    assert abs(cost.mean() - exact) < 4 * cost.std() / np.sqrt(n)
    np.testing.assert_allclose(cost - noise, exact, rtol=1e-9)


def test_counter_normal_is_standard_normal_and_depends_only_on_key_and_counter() -> None:
    key = np.uint64(987654321)
    z = np.array(
        [counter_normal(key, np.uint64(c), ZIG_KN, ZIG_WN, ZIG_FN) for c in range(200_000)]
    )
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert stats.kstest(z, "norm").pvalue > 1e-3
    tail = np.mean(np.abs(z) > 3.6541528853610088)  # the ziggurat's tail branch
    assert tail == pytest.approx(2 * stats.norm.sf(3.6541528853610088), rel=0.35)
    assert counter_normal(key, np.uint64(17), ZIG_KN, ZIG_WN, ZIG_FN) == z[17]
