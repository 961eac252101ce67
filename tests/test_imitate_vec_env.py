"""Several simulators per worker process behave exactly like stable-baselines3's DummyVecEnv."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from sfv.config import EnvSettings
from sfv.imitate.env import ImitationEnv
from sfv.imitate.vec_env import BatchedSubprocVecEnv
from sfv.mocap import load_mocap


def make(rank: int):
    return Monitor(ImitationEnv(load_mocap("walk"), EnvSettings(episode_seconds=0.5)))


@pytest.mark.parametrize("n_envs, n_workers", [(4, 2), (3, 2)])
def test_batched_workers_match_dummy_vec_env(n_envs, n_workers):
    fns = [partial(make, i) for i in range(n_envs)]
    batched, dummy = BatchedSubprocVecEnv(fns, n_workers), DummyVecEnv(fns)
    try:
        assert batched.num_envs == n_envs and batched.observation_space == dummy.observation_space
        for venv in (batched, dummy):
            venv.seed(7)
        obs_b, obs_d = batched.reset(), dummy.reset()
        assert np.array_equal(obs_b, obs_d)
        rng = np.random.default_rng(0)
        dones_seen = 0
        for _ in range(40):  # episodes of 0.5 s = 15 steps: several automatic resets on the way
            actions = rng.uniform(-1, 1, (n_envs, 28)).astype(np.float32)
            ob, rb, db, ib = batched.step(actions)
            od, rd, dd, id_ = dummy.step(actions)
            # equal up to rounding: numpy's BLAS may sum in another order for differently aligned arrays
            assert np.allclose(ob, od, atol=1e-6) and np.allclose(rb, rd, atol=1e-6) and np.array_equal(db, dd)
            for a, b in zip(ib, id_):
                assert a["tracking_error"] == pytest.approx(b["tracking_error"], abs=1e-9)
                if "terminal_observation" in b:
                    assert np.allclose(a["terminal_observation"], b["terminal_observation"], atol=1e-6)
                    assert a["episode"]["r"] == pytest.approx(b["episode"]["r"], abs=1e-4)
            dones_seen += int(db.sum())
        assert dones_seen >= n_envs
        assert batched.get_attr("dt") == [1 / 30] * n_envs
        assert batched.get_attr("end_time", indices=[n_envs - 1]) == dummy.get_attr("end_time", indices=[n_envs - 1])
        assert batched.env_is_wrapped(Monitor) == [True] * n_envs
    finally:
        batched.close()
        dummy.close()
