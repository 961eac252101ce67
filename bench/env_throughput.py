"""Imitation-env speed on one core: the kit's env vs pybullet's own DeepMimic env vs raw physics.

All three run in this process, one after another, on the walk clip with the same rates (physics
240 Hz, control 30 Hz; the kit's env with params.yaml's `imitate.env` settings), random actions and resets whenever an
episode ends:
- peer: `pybullet_envs.deep_mimic` PyBulletDeepMimicEnv driven as its gym wrapper drives it
  (reward, action, 8 updates, state, termination per control step);
- sfv: `sfv.imitate.env.ImitationEnv.step` (one env);
- sfv batched: `n_envs / n_workers` envs (a worker's block, params.yaml imitate.ppo) stepped together by
  `sfv.imitate.env.step_many` and those that ended restarted together by `reset_many`, as a training worker
  does;
- sfv floor: the same worker with the reward and the observation left out (PD targets, physics, the state reads
  turned into arrays, contact checks, resets without their observation): how close to raw physics the env could get
  with the rest made free;
- raw physics: the time the sfv run spent inside pybullet calls alone (`Simulation.step`: the
  stable-PD command and a Bullet step, 8 times; `Simulation.read_raw`: the four batched state reads;
  `Simulation.fallen`: the contact query; `Simulation.write_raw`: a reset's three state writes), on the
  very same trajectories, so contacts and falls cost the same in both. Everything else (turning reads
  into arrays and states into writes, reference lookup, reward, observation) is the env's own overhead.
  `--writes-as-overhead` counts the resets' writes as overhead instead (how this bench counted before).
Actions are drawn uniformly from each env's own action space.
Run: `python bench/env_throughput.py` (or `make bench`). Targets: sfv >= 2.5x peer; the batched worker
(what training runs) >= 90% of raw.
"""

from __future__ import annotations

import argparse
import sys
import time
import types

import numpy as np
import pybullet_data

from sfv.config import EnvSettings, load_params
from sfv.imitate.env import ImitationEnv, reset_many, step_many
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
    from pybullet_envs.deep_mimic.env.pybullet_deep_mimic_env import (
        InitializationStrategy,
        PyBulletDeepMimicEnv,
    )
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


def step_floor(envs: list[ImitationEnv], actions: np.ndarray) -> list[tuple]:
    """`step_many` without its reward and observation: what the env's Python around pybullet costs at least (PD
    targets in pybullet's lists, the state reads turned into arrays, the contact checks)."""
    first = envs[0]
    a = np.clip(actions, -1.0, 1.0) * first.settings.action_scale
    for e in envs:
        e.time += e.dt
    rows, _ = first.reference.locate_many(np.array([e.time for e in envs]))
    raws = []
    for e, targets in zip(envs, first._pd_targets_many(a, rows)):
        e.sim.step(targets)
        raws.append(e.sim.read_raw())
    s = first.sim.states(raws)
    results = []
    for i, e in enumerate(envs):
        e._batch, e._index, e._state = s, i, None
        results.append((None, 0.0, e.sim.fallen(), e.time >= e.end_time - 1e-9, {}))
    return results


def reset_floor(envs: list[ImitationEnv]) -> None:
    """`reset_many` without its observation: each env placed at a drawn start, the states read and converted."""
    for e in envs:
        e._place_at_start(None, None)
    s = envs[0].sim.states([e.sim.read_raw() for e in envs])
    for i, e in enumerate(envs):
        e._batch, e._index, e._state = s, i, None


def bench_sfv(
    steps: int,
    seed: int,
    batch: int = 1,
    settings: EnvSettings = EnvSettings(),
    writes_are_physics: bool = True,
    floor: bool = False,
) -> tuple[float, float]:
    """(control steps/s, raw physics steps/s) of `batch` envs stepped together (1: ImitationEnv.step); `floor`:
    stepped by `step_floor` (no reward, no observation)."""
    envs = [ImitationEnv(load_mocap("walk"), settings) for _ in range(batch)]
    physics = [0.0]

    def timed(fn):
        def wrapper(*args):
            t = time.perf_counter()
            out = fn(*args)
            physics[0] += time.perf_counter() - t
            return out

        return wrapper

    for i, env in enumerate(envs):
        env.sim.step, env.sim.read_raw, env.sim.fallen = (
            timed(env.sim.step),
            timed(env.sim.read_raw),
            timed(env.sim.fallen),
        )
        if writes_are_physics:
            env.sim.write_raw = timed(env.sim.write_raw)
        env.reset(seed=seed + i)
    rng = np.random.default_rng(seed)
    shape = (batch,) + envs[0].action_space.shape
    physics[0] = 0.0
    t0 = time.perf_counter()
    for _ in range(steps // batch):
        actions = rng.uniform(-1, 1, size=shape)
        if floor:
            results = step_floor(envs, actions)
        else:
            results = step_many(envs, actions) if batch > 1 else [envs[0].step(actions[0])]
        ended = [env for env, (_, _, term, trunc, _) in zip(envs, results) if term or trunc]
        if ended and floor:
            reset_floor(ended)
        elif ended:  # as a training worker restarts them: together when batched
            reset_many(ended) if batch > 1 else ended[0].reset()
    total = time.perf_counter() - t0
    done = steps // batch * batch
    return done / total, done / physics[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--writes-as-overhead",
        action="store_true",
        help="count the resets' pybullet state writes as the env's overhead, not as physics",
    )
    a = parser.parse_args()
    imitate = load_params().imitate
    ppo, settings = imitate.ppo, imitate.env
    block = max(ppo.n_envs // ppo.n_workers, 1)
    peer = bench_peer(a.steps, a.seed)
    ours, raw = bench_sfv(a.steps, a.seed, 1, settings, not a.writes_as_overhead)
    batched, raw_batched = bench_sfv(a.steps, a.seed, block, settings, not a.writes_as_overhead)
    floor, raw_floor = bench_sfv(a.steps, a.seed, block, settings, not a.writes_as_overhead, floor=True)
    print(f"control steps/s on one core ({a.steps} steps each, walk, random actions, resets included)")
    print(f"  pybullet_envs.deep_mimic (peer):   {peer:8.0f}")
    print(
        f"  sfv ImitationEnv, one env:         {ours:8.0f}   ({ours / peer:.2f}x peer; {ours / raw:.0%} of its raw "
        f"physics, {raw:.0f}/s)"
    )
    print(
        f"  sfv worker, {block} envs stepped together: {batched:6.0f}   ({batched / peer:.2f}x peer, target >= 2.5x; "
        f"{batched / raw_batched:.0%} of its raw physics, {raw_batched:.0f}/s, target >= 90%)"
    )
    print(
        f"  the same worker without reward and observation: {floor:5.0f}   "
        f"({floor / raw_floor:.0%} of its raw physics: the "
        f"ceiling with pybullet's Python API, whatever the reward and observation cost)"
    )
    print(
        "  raw physics = the time inside pybullet calls (PD command + Bullet step x substeps, state reads, contacts"
        + (")" if a.writes_as_overhead else ", a reset's state writes)")
    )


if __name__ == "__main__":
    main()
