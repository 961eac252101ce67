"""Rollout throughput with local worker processes against Ray actors, on a local Ray cluster of two nodes.

Starts two Ray nodes on this machine with `ray start` on the loopback address (a head and a worker node, one CPU
each, in the foreground so that they stop with this script), then, on the walk clip with params.yaml's `imitate`
env and PPO settings (n_envs simulators, random actions, resets whenever an episode ends):
- samples/s of `BatchedSubprocVecEnv` (local processes, pipes) with one worker and with two;
- samples/s of `RayVecEnv` (Ray actors, one per node when two) with one worker and with two;
- the round trip of one command to a worker and back, pipes against Ray (no env work: the per-step overhead a
  block pays once per step, whatever its size);
- how throughput grows from one worker to two on each backend.
- with `--ppo N`: PPO itself (`sfv.imitate.train`, params.yaml's settings, N samples) with its rollout workers local
  and on Ray actors: samples/s including learning.
The first figures have no learner: they are the sampling side PPO waits on.

Run: `python bench/ray_throughput.py` (needs the cluster extra: `make cluster`); figures are printed and written
to bench/results/ray_throughput.json. Run it on otherwise idle cores: it times them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_local_cluster(port: int, cpus_per_node: int = 1) -> tuple[list[subprocess.Popen], str]:
    """A head and one worker node on 127.0.0.1, each `ray start --block` in the foreground (they stop with it)."""
    ray_cmd = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    # a cluster on the loopback address only, for this script's lifetime: Ray's token authentication off for it
    # (a real cluster keeps it on: README, "Many machines")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    address = f"127.0.0.1:{port}"
    head = subprocess.Popen(
        [
            ray_cmd,
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            f"--num-cpus={cpus_per_node}",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nodes = [head]
    deadline = time.time() + 120
    while True:  # until the head's GCS listens
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            break
        except OSError:
            if time.time() > deadline or head.poll() is not None:
                stop_local_cluster(nodes)
                raise RuntimeError(f"the Ray head did not start on port {port} (another Ray there? `ray stop`)")
            time.sleep(0.5)
    import ray

    while True:  # its raylet comes up after the GCS
        try:
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
            break
        except ConnectionError:
            if time.time() > deadline:
                stop_local_cluster(nodes)
                raise
            time.sleep(2.0)
    nodes.append(
        subprocess.Popen(
            [
                ray_cmd,
                "start",
                "--block",
                f"--address={address}",
                "--node-ip-address=127.0.0.1",
                f"--num-cpus={cpus_per_node}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    while len([n for n in ray.nodes() if n["Alive"]]) < 2:
        if time.time() > deadline:
            raise RuntimeError("the second Ray node did not join")
        time.sleep(0.5)
    return nodes, address


def stop_local_cluster(nodes: list[subprocess.Popen]) -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()
    for proc in reversed(nodes):
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def samples_per_second(venv, steps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    venv.seed(seed)
    venv.reset()
    shape = (venv.num_envs, *venv.action_space.shape)
    for _ in range(3):  # warm-up: first calls, page faults
        venv.step(rng.uniform(-1, 1, shape).astype(np.float32))
    t0 = time.perf_counter()
    for _ in range(steps):
        venv.step(rng.uniform(-1, 1, shape).astype(np.float32))
    return steps * venv.num_envs / (time.perf_counter() - t0)


def round_trip_us(venv, calls: int) -> float:
    """Microseconds for one command to every worker and back, with no env work ("pid")."""
    t0 = time.perf_counter()
    for _ in range(calls):
        for w in range(len(venv.blocks)):
            venv._send(w, "pid", None)
        for w in range(len(venv.blocks)):
            venv._recv(w)
    return (time.perf_counter() - t0) / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200, help="vec-env steps per measurement (x n_envs samples)")
    ap.add_argument("--calls", type=int, default=300, help="round trips timed")
    ap.add_argument("--port", type=int, default=6391)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ppo", type=int, default=0, help="also train PPO for this many samples on each backend")
    a = ap.parse_args()

    from sfv.config import load_params
    from sfv.imitate.train import make_env
    from sfv.mocap import load_mocap
    from sfv.rollout_workers.ray_vec_env import RayVecEnv
    from sfv.rollout_workers.vec_env import BatchedSubprocVecEnv

    imitate = load_params(ROOT / "params.yaml").imitate
    ppo = imitate.ppo
    motion = Path(tempfile.mkdtemp(prefix="sfv_ray_bench_")) / "walk.npz"
    load_mocap("walk").save(motion)
    fns = [
        partial(make_env, str(motion), imitate.env, imitate.reward, a.seed, i, imitate.asi) for i in range(ppo.n_envs)
    ]

    nodes, address = start_local_cluster(a.port)
    rows = {}
    try:
        import ray

        print(
            f"local Ray cluster at {address}: {len(ray.nodes())} nodes, {ray.cluster_resources().get('CPU'):g} CPUs; "
            f"{ppo.n_envs} walk envs, {a.steps} steps per measurement"
        )
        for backend in ("local", "ray"):
            for workers in (1, 2):
                venv = BatchedSubprocVecEnv(fns, workers) if backend == "local" else RayVecEnv(fns, workers)
                try:
                    where = f"{len(set(venv.worker_nodes()))} node(s)" if backend == "ray" else "this machine"
                    rate = samples_per_second(venv, a.steps, a.seed)
                    trip = round_trip_us(venv, a.calls)
                finally:
                    venv.close()
                rows[f"{backend}_{workers}"] = {
                    "backend": backend,
                    "workers": workers,
                    "samples_per_second": round(rate),
                    "round_trip_us": round(trip),
                    "placed_on": where,
                }
                print(
                    f"  {backend:5s} {workers} worker(s) on {where:13s}: {rate:7.0f} samples/s; "
                    f"a command to every worker and back {trip:6.0f} µs",
                    flush=True,
                )
        if a.ppo:
            from sfv.config import ClusterParams
            from sfv.imitate.train import train

            budget = ppo.model_copy(update={"total_timesteps": a.ppo, "evaluate_every": 0, "checkpoint_every": a.ppo})
            for backend in ("local", "ray"):
                with tempfile.TemporaryDirectory() as out:
                    summary = train(
                        motion,
                        out,
                        imitate.env,
                        imitate.reward,
                        budget,
                        seed=a.seed,
                        progress=False,
                        asi=imitate.asi,
                        cluster=ClusterParams(backend=backend),
                    )
                rate = summary["timesteps"] / summary["wall_seconds"]
                rows[f"ppo_{backend}"] = {
                    "backend": backend,
                    "workers": ppo.n_workers,
                    "ppo_samples": summary["timesteps"],
                    "ppo_samples_per_second": round(rate),
                }
                print(
                    f"  PPO, {backend:5s} rollout workers ({ppo.n_workers}): {rate:7.0f} samples/s including "
                    f"learning ({summary['timesteps']:,} samples)",
                    flush=True,
                )
    finally:
        stop_local_cluster(nodes)
    steps_per_second = {k: r["samples_per_second"] / ppo.n_envs for k, r in rows.items() if "samples_per_second" in r}
    summary = {
        "ray_vs_local_1_worker": rows["ray_1"]["samples_per_second"] / rows["local_1"]["samples_per_second"],
        "ray_vs_local_2_workers": rows["ray_2"]["samples_per_second"] / rows["local_2"]["samples_per_second"],
        "scaling_local_1_to_2": rows["local_2"]["samples_per_second"] / rows["local_1"]["samples_per_second"],
        "scaling_ray_1_to_2": rows["ray_2"]["samples_per_second"] / rows["ray_1"]["samples_per_second"],
        # per vec-env step, what Ray adds over the pipes (both backends do the same env work)
        "ray_overhead_us_per_step_2_workers": 1e6 / steps_per_second["ray_2"] - 1e6 / steps_per_second["local_2"],
        "round_trip_extra_us": rows["ray_2"]["round_trip_us"] - rows["local_2"]["round_trip_us"],
    }
    print(
        f"Ray against local pipes: {summary['ray_vs_local_1_worker']:.2f}x with one worker, "
        f"{summary['ray_vs_local_2_workers']:.2f}x with two; Ray adds "
        f"{summary['ray_overhead_us_per_step_2_workers']:.0f} µs per step of {ppo.n_envs} envs "
        f"(round trip +{summary['round_trip_extra_us']:.0f} µs)"
    )
    print(
        f"one worker -> two: local {summary['scaling_local_1_to_2']:.2f}x, Ray {summary['scaling_ray_1_to_2']:.2f}x "
        f"(two cores: 2.0x at best)"
    )
    if a.ppo:
        summary["ppo_ray_vs_local"] = (
            rows["ppo_ray"]["ppo_samples_per_second"] / rows["ppo_local"]["ppo_samples_per_second"]
        )
        print(f"PPO on Ray actors: {summary['ppo_ray_vs_local']:.2f}x the samples/s of local workers")
    out = ROOT / "bench" / "results" / "ray_throughput.json"
    out.write_text(
        json.dumps(
            {
                "n_envs": ppo.n_envs,
                "steps": a.steps,
                "rows": list(rows.values()),
                "summary": {k: round(v, 3) for k, v in summary.items()},
            },
            indent=1,
        )
        + "\n"
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
