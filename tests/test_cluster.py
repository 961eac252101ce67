"""Rollout workers as Ray actors, runs as Ray tasks, on a local Ray cluster of several nodes (ray.cluster_utils):
the same rollouts as local envs, a lost node that does not lose the run, and stages run at once and recorded by
DVC. Needs the cluster extra; `make test` installs it and sets SFV_REQUIRE_RAY, so CI cannot skip these."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
from functools import partial

import numpy as np
import pytest

if os.environ.get("SFV_REQUIRE_RAY") and importlib.util.find_spec("ray") is None:
    raise RuntimeError("SFV_REQUIRE_RAY is set but ray is not installed: pip install -e '.[cluster]'")
ray = pytest.importorskip("ray")

from stable_baselines3.common.monitor import Monitor  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from sfv.config import ClusterParams, EnvSettings, PPOSettings  # noqa: E402
from sfv.imitate.env import ImitationEnv  # noqa: E402
from sfv.mocap import load_mocap  # noqa: E402
from sfv.rollout_workers.ray_vec_env import RayVecEnv  # noqa: E402


def make(rank: int):
    return Monitor(ImitationEnv(load_mocap("walk"), EnvSettings(episode_seconds=0.5)))


@pytest.fixture(scope="module")
def cluster():
    """A head without CPUs (nothing runs there) and two worker nodes of one CPU each: two actors of one CPU land
    one per node."""
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(2):
        c.add_node(num_cpus=1)
    c.wait_for_nodes()
    ray.init(address=c.address, log_to_driver=False, include_dashboard=False)
    yield c
    ray.shutdown()
    c.shutdown()


def _swap_node(cluster, node_id: str) -> None:
    """Add a fresh node (room for the replacement), then remove the one with this id, as a machine lost."""
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    node = next(n for n in cluster.list_all_nodes() if n.node_id == node_id)
    cluster.remove_node(node, allow_graceful=False)
    deadline = time.time() + 60
    while time.time() < deadline and any(n["NodeID"] == node_id and n["Alive"] for n in ray.nodes()):
        time.sleep(0.2)  # until the cluster knows it is gone (its actors are then dead too)


def test_ray_workers_match_dummy_vec_env(cluster):
    fns = [partial(make, i) for i in range(4)]
    remote, dummy = RayVecEnv(fns, 2), DummyVecEnv(fns)
    try:
        nodes = remote.worker_nodes()
        assert len(set(nodes)) == 2  # one block per node: the rollouts cross machines
        for venv in (remote, dummy):
            venv.seed(7)
        assert np.array_equal(remote.reset(), dummy.reset())
        rng = np.random.default_rng(0)
        dones = 0
        for _ in range(40):  # episodes of 0.5 s = 15 steps: automatic resets on the way
            actions = rng.uniform(-1, 1, (4, *dummy.action_space.shape)).astype(np.float32)
            ob, rb, db, ib = remote.step(actions)
            od, rd, dd, id_ = dummy.step(actions)
            assert np.allclose(ob, od, atol=1e-6) and np.allclose(rb, rd, atol=1e-6) and np.array_equal(db, dd)
            for a, b in zip(ib, id_):
                if "terminal_observation" in b:
                    assert np.allclose(a["terminal_observation"], b["terminal_observation"], atol=1e-6)
                    assert a["episode"]["r"] == pytest.approx(b["episode"]["r"], abs=1e-4)
            dones += int(db.sum())
        assert dones >= 4
        assert remote.get_attr("dt") == [1 / 30] * 4
        assert remote.env_is_wrapped(Monitor) == [True] * 4
        assert remote.replacements == []
    finally:
        remote.close()
        dummy.close()


def test_a_lost_node_ends_its_envs_episodes_and_the_rest_go_on(cluster):
    """The node of worker 1 is removed mid-run: its envs end their episodes (truncated, the last observation as
    the terminal one) and restart on a new actor; worker 0's envs step on exactly as before."""
    fns = [partial(make, i) for i in range(4)]
    remote, dummy = RayVecEnv(fns, 2), DummyVecEnv(fns)
    try:
        for venv in (remote, dummy):
            venv.seed(3)
        last = remote.reset()
        dummy.reset()
        rng = np.random.default_rng(1)

        def step():
            actions = rng.uniform(-1, 1, (4, *dummy.action_space.shape)).astype(np.float32)
            return remote.step(actions), dummy.step(actions)

        for _ in range(5):
            (last, *_), _ = step()
        lost = remote.worker_nodes()[1]
        _swap_node(cluster, lost)
        (ob, rb, db, ib), (od, rd, dd, id_) = step()
        assert [r["worker"] for r in remote.replacements] == [1]
        assert list(db[2:]) == [True, True] and list(rb[2:]) == [0.0, 0.0]
        for i in (2, 3):
            assert ib[i]["TimeLimit.truncated"] and "worker_lost" in ib[i]
            assert np.array_equal(ib[i]["terminal_observation"], last[i])
        assert np.allclose(ob[:2], od[:2], atol=1e-6) and np.allclose(rb[:2], rd[:2], atol=1e-6)
        assert remote.worker_nodes()[1] != lost
        for _ in range(20):  # the new actor steps its envs; the surviving block still matches the local envs
            (ob, rb, db, ib), (od, rd, dd, id_) = step()
            assert np.allclose(ob[:2], od[:2], atol=1e-6) and np.isfinite(ob).all()
    finally:
        remote.close()
        dummy.close()


def test_training_goes_on_when_a_worker_is_killed(cluster, tmp_path, capsys):
    """`train` on Ray actors; after its first checkpoint one worker's process is killed (SIGKILL, as the OOM killer
    or a lost machine would): the run replaces the worker and spends its whole budget, its learning curve
    unbroken."""
    import signal

    from sfv.imitate.curve import read_curve
    from sfv.imitate.train import train

    ppo = PPOSettings(
        total_timesteps=3072,
        n_envs=2,
        n_workers=2,
        n_steps=256,
        batch_size=128,
        n_epochs=1,
        net_arch=(16, 16),
        checkpoint_every=512,
        evaluate_every=0,
    )
    motion = tmp_path / "walk.npz"
    load_mocap("walk").save(motion)
    out = tmp_path / "run"
    killed = []

    def kill_after_first_checkpoint():
        deadline = time.time() + 240
        while time.time() < deadline and not (out / "latest").is_file():
            time.sleep(0.2)
        found = subprocess.run(["pgrep", "-f", "^ray::RayEnvBlock"], capture_output=True, text=True).stdout.split()
        if found:  # Ray titles an actor's process ray::<class>
            os.kill(int(found[0]), signal.SIGKILL)
            killed.append(int(found[0]))

    killer = threading.Thread(target=kill_after_first_checkpoint, daemon=True)
    killer.start()
    summary = train(
        motion, out, EnvSettings(episode_seconds=1.0), ppo=ppo, progress=False, cluster=ClusterParams(backend="ray")
    )
    killer.join(timeout=60)
    assert killed, "no worker process was found to kill"
    assert summary["timesteps"] >= 3072
    assert re.search(r"rollout worker \d lost \(\w+", capsys.readouterr().out)  # the replacement was announced
    steps = [r["timesteps"] for r in read_curve(out / "curve.csv")]
    assert steps == sorted(steps) and steps[-1] >= 3072 and len(steps) == 6  # one row per rollout of 512


def test_stages_run_at_once_as_ray_tasks_and_dvc_records_them(cluster, tmp_path):
    """Two stages sharing an upstream one: the upstream is reproduced here first, the two run as Ray tasks at the
    same time (their time spans overlap) on the cluster's nodes, and `dvc status` is clean afterwards."""
    from sfv.cluster import run_stages

    work = tmp_path / "project"
    work.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=work, check=True)
    stamp = (
        "import json, os, sys, time; t0 = time.time(); time.sleep(3); "
        "json.dump({'start': t0, 'end': time.time(), 'base': open('base.txt').read(), "
        "'ray': os.environ.get('RAY_ADDRESS')}, open(sys.argv[1], 'w'))"
    )
    (work / "stamp.py").write_text(stamp)
    (work / "dvc.yaml").write_text(
        "stages:\n"
        "  base:\n    cmd: python -c \"open('base.txt', 'w').write('upstream')\"\n    outs: [base.txt]\n"
        "  run:\n    foreach: [a, b]\n    do:\n"
        "      cmd: python stamp.py ${item}.json\n      deps: [base.txt, stamp.py]\n"
        "      outs:\n        - ${item}.json\n"
    )
    results = run_stages(["run@a", "run@b"], ClusterParams(), work, echo=lambda *_: None)
    assert [r.stage for r in results] == ["run@a", "run@b"] and all(r.ok for r in results)
    spans = [json.loads((work / f"{k}.json").read_text()) for k in "ab"]
    assert all(s["base"] == "upstream" for s in spans)
    # a run's own rollout workers (cluster.backend: ray) would join this cluster, not start another
    assert all(s["ray"] == ray.get_runtime_context().gcs_address for s in spans)
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans)  # at once, not one after the other
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--json"], cwd=work, capture_output=True, text=True, check=True
    )
    assert json.loads(status.stdout) == {}
    with pytest.raises(ValueError, match="nosuch"):
        run_stages(["nosuch"], ClusterParams(), work)


def test_cluster_settings_are_validated():
    from sfv.config import Params

    with pytest.raises(ValueError, match="backend"):
        Params.model_validate({"cluster": {"backend": "slurm"}})
    assert Params().cluster.backend == "local"


def test_envs_that_cannot_be_made_on_a_node_are_reported_not_retried(cluster, tmp_path):
    """A worker whose envs fail to build (here: a motion file that does not exist) is an error in the set-up, not a
    lost machine: it is reported at once, with the reason, instead of being replaced again and again."""
    from sfv.config import ImitateParams
    from sfv.imitate.train import make_env
    from sfv.rollout_workers.ray_vec_env import WorkerLost

    im = ImitateParams()
    missing = tmp_path / "nowhere.npz"
    fns = [partial(make_env, str(missing), im.env, im.reward, 0, i, im.asi) for i in range(2)]
    with pytest.raises(WorkerLost, match="could not make its envs"):
        RayVecEnv(fns, 1)
