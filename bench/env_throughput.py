"""Imitation-env speed on one core: the kit's env vs pybullet's own DeepMimic env vs raw physics.

All three run in this process, one after another, on the walk clip with the same rates (physics
240 Hz, control 30 Hz), random actions and resets whenever an episode ends:
- peer: `pybullet_envs.deep_mimic` PyBulletDeepMimicEnv driven as its gym wrapper drives it
  (reward, action, 8 updates, state, termination per control step);
- sfv: `sfv.imitate.env.ImitationEnv.step`;
- raw physics: the time the sfv run spent inside pybullet calls alone (`Simulation.step`: the
  stable-PD command and a Bullet step, 8 times; `Simulation.read_raw`: the four batched state reads;
  `Simulation.fallen`: the contact query), on the very same trajectories, so contacts and falls cost
  the same in both. Everything else (turning reads into arrays, reference lookup, reward,
  observation) is the env's own overhead.
Actions are drawn uniformly from each env's own action space.
Run: `python bench/env_throughput.py` (or `make bench`). Targets: sfv >= 2.5x peer, >= 90% of raw.
"""

from __future__ import annotations

import argparse
import sys
import time
import types

import numpy as np
import pybullet_data

from sfv.config import EnvSettings
from sfv.imitate.env import ImitationEnv
from sfv.io import quiet_stdio
from sfv.mocap import load_mocap


def load_peer():
    """pybullet_envs' DeepMimic env without running `pybullet_envs/__init__` (it imports the old gym)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("pybullet_utils")
    root = Path(spec.origin).parent.parent / "pybullet_envs"
    if "pybullet_envs" not in sys.modules:
        stub = types.ModuleType("pybullet_envs")
        stub.__path__ = [str(root)]
        sys.modules["pybullet_envs"] = stub
    from pybullet_envs.deep_mimic.env.pybullet_deep_mimic_env import InitializationStrategy, PyBulletDeepMimicEnv
    from pybullet_utils.arg_parser import ArgParser

    args = ArgParser()
    args.load_file(pybullet_data.getDataPath() + "/args/run_humanoid3d_walk_args.txt")
    with quiet_stdio():
        env = PyBulletDeepMimicEnv(args, False, time_step=1.0 / 240, init_strategy=InitializationStrategy.RANDOM)
    return env


def bench_peer(steps: int, seed: int) -> float:
    env = load_peer()
    rng = np.random.default_rng(seed)
    low, high = np.array(env.build_action_bound_min(-1)), np.array(env.build_action_bound_max(-1))
    t0 = time.perf_counter()
    for _ in range(steps):
        action = rng.uniform(low, high)
        env.calc_reward(-1)
        env.set_action(-1, action)
        for _ in range(8):
            env.update(1.0 / 240)
        env.record_state(-1)
        if env.is_episode_end():
            env.reset()
    return steps / (time.perf_counter() - t0)


def bench_sfv(steps: int, seed: int) -> tuple[float, float]:
    env = ImitationEnv(load_mocap("walk"), EnvSettings())
    physics = [0.0]

    def timed(fn):
        def wrapper(*args):
            t = time.perf_counter()
            out = fn(*args)
            physics[0] += time.perf_counter() - t
            return out
        return wrapper

    env.sim.step, env.sim.read_raw, env.sim.fallen = timed(env.sim.step), timed(env.sim.read_raw), timed(env.sim.fallen)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    physics[0] = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(rng.uniform(-1, 1, size=env.action_space.shape))
        if term or trunc:
            env.reset()
    total = time.perf_counter() - t0
    return steps / total, steps / physics[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    peer = bench_peer(a.steps, a.seed)
    ours, raw = bench_sfv(a.steps, a.seed)
    print(f"control steps/s on one core ({a.steps} steps each, walk, random actions, resets included)")
    print(f"  pybullet_envs.deep_mimic (peer): {peer:8.0f}")
    print(f"  sfv ImitationEnv:                {ours:8.0f}   ({ours / peer:.2f}x peer; target >= 2.5x)")
    print(f"  raw pybullet (PD, steps, reads): {raw:8.0f}   (sfv env runs at {ours / raw:.0%} of it; target >= 90%)")


if __name__ == "__main__":
    main()
