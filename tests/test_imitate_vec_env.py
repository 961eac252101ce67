"""Several simulators per worker process behave exactly like stable-baselines3's DummyVecEnv."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from sfv.config import EnvSettings
from sfv.imitate.env import ImitationEnv
from sfv.mocap import load_mocap
from sfv.rollout_workers.vec_env import BatchedSubprocVecEnv


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
            actions = rng.uniform(-1, 1, (n_envs, *dummy.action_space.shape)).astype(np.float32)
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


def make_plain(rank: int):
    return ImitationEnv(load_mocap("walk"), EnvSettings(episode_seconds=0.5))


def test_worker_steps_its_envs_as_one_batch_like_single_envs():
    """Plain envs in a worker are stepped together (step_many) and monitored at the vec level: the same samples,
    rewards and episode records as monitored envs stepped one by one."""
    from stable_baselines3.common.vec_env import VecMonitor

    batched = VecMonitor(BatchedSubprocVecEnv([partial(make_plain, i) for i in range(4)], 2))
    dummy = DummyVecEnv([partial(make, i) for i in range(4)])
    try:
        for venv in (batched, dummy):
            venv.seed(11)
        assert np.array_equal(batched.reset(), dummy.reset())
        rng = np.random.default_rng(1)
        episodes = 0
        for _ in range(40):
            actions = rng.uniform(-1, 1, (4, *dummy.action_space.shape)).astype(np.float32)
            ob, rb, db, ib = batched.step(actions)
            od, rd, dd, id_ = dummy.step(actions)
            assert np.allclose(ob, od, atol=1e-6) and np.allclose(rb, rd, atol=1e-6) and np.array_equal(db, dd)
            for a, b in zip(ib, id_):
                assert ("episode" in a) == ("episode" in b)
                if "episode" in b:
                    episodes += 1
                    assert a["episode"]["r"] == pytest.approx(b["episode"]["r"], abs=1e-4)
                    assert a["episode"]["l"] == b["episode"]["l"]
        assert episodes >= 4
    finally:
        batched.close()
        dummy.close()


def test_step_many_equals_each_env_stepped_alone():
    """One batch of three envs (one shared reference table) gives each env what stepping it alone gives."""
    from sfv.imitate.env import step_many

    settings = EnvSettings(phase_encoding="sincos", reference_root_observation=True)
    together = [ImitationEnv(load_mocap("walk"), settings) for _ in range(3)]
    alone = [ImitationEnv(load_mocap("walk"), settings) for _ in range(3)]
    assert together[0].reference is together[2].reference  # shared: the batch condition
    rng = np.random.default_rng(5)
    for i, (a, b) in enumerate(zip(together, alone)):
        assert np.array_equal(a.reset(seed=i)[0], b.reset(seed=i)[0])
    for _ in range(12):
        actions = rng.uniform(-1, 1, (3, *alone[0].action_space.shape)).astype(np.float32)
        batch = step_many(together, actions)
        for env, action, (obs, reward, terminated, truncated, info) in zip(alone, actions, batch):
            o, r, te, tr, inf = env.step(action)
            assert np.allclose(obs, o, atol=1e-9) and reward == pytest.approx(r, abs=1e-12)
            assert (terminated, truncated) == (te, tr) and info["reward_terms"] == pytest.approx(inf["reward_terms"])
    assert not np.allclose(together[0].state.body_pos, together[1].state.body_pos)  # each env kept its own state
    for env in together + alone:
        env.close()


def test_heading_frames_undo_the_heading():
    """The heading frame (no trigonometric calls) is the rotation by minus the heading angle about the up axis, as
    a matrix, for any batch shape, and as the matrix that left-multiplies quaternions by it; a root pointing
    straight up has heading 0."""
    from sfv import rotations
    from sfv.imitate.reference import heading_angle, heading_frames, heading_inverse

    q = rotations.normalize(np.random.default_rng(2).normal(size=(6, 4)))
    v = np.array([0.3, -1.2, 0.7])
    for up in ("y", "z"):
        theta = heading_angle(q, up)
        c, s = np.cos(theta), np.sin(theta)
        axis = "xyz".index(up)
        for i in range(6):
            expected = np.eye(3)
            a, b = [k for k in range(3) if k != axis]
            sign = 1.0 if up == "y" else -1.0  # R_y(-theta) has -s at (x, z); R_z(-theta) has +s at (x, y)
            expected[a, a] = expected[b, b] = c[i]
            expected[a, b], expected[b, a] = -sign * s[i], sign * s[i]
            assert np.allclose(heading_inverse(q[i], up), expected, atol=1e-12)
        h, lq = heading_frames(q, up)
        assert np.array_equal(heading_inverse(q.reshape(2, 3, 4), up), h.reshape(2, 3, 3, 3))
        for i in range(6):
            turned = rotations.rotate(lq[i] @ q[i], v)
            assert np.allclose(turned, h[i] @ rotations.rotate(q[i], v), atol=1e-12)
            forward = h[i] @ rotations.rotate(q[i], np.array([1.0, 0.0, 0.0]))
            assert abs(forward[{"y": 2, "z": 1}[up]]) < 1e-12 and forward[0] >= 0  # heading undone: faces +x
    straight_up = rotations.normalize(np.array([[0.0, 0.0, np.sin(np.pi / 4), np.cos(np.pi / 4)]]))  # x -> +y
    assert np.allclose(heading_inverse(straight_up, "y"), np.eye(3))


@pytest.mark.parametrize("action_mode", ["residual", "absolute"])
def test_pd_targets_of_a_batch_are_bit_identical_to_each_env_alone(action_mode):
    """The physics amplifies a last-bit difference in a PD target (CI once saw 4e-4 in the observation after 40
    steps), so a batch of any size must give each row exactly what a batch of one gives."""
    env = ImitationEnv(load_mocap("walk"), EnvSettings(action_mode=action_mode))
    rng = np.random.default_rng(0)
    try:
        for n in (2, 3, 5, 8, 16):
            a = rng.uniform(-1, 1, (n, *env.action_space.shape)) * env.settings.action_scale
            rows = rng.integers(0, len(env.reference.revolute_angle), n)
            batch = env._pd_targets_many(a, rows)
            assert [env._pd_targets_many(a[i : i + 1], rows[i : i + 1])[0] for i in range(n)] == batch
    finally:
        env.close()


def test_reset_many_equals_each_env_reset_alone():
    """Envs restarted together (as a worker restarts those whose episodes ended) draw the starts and give the
    observations and states each gets reset alone; an option (a given start time) reaches its own env only."""
    from sfv.imitate.env import reset_many

    settings = EnvSettings(phase_encoding="sincos", reference_root_observation=True)
    together = [ImitationEnv(load_mocap("walk"), settings) for _ in range(3)]
    alone = [ImitationEnv(load_mocap("walk"), settings) for _ in range(3)]
    options = [None, {"time": 0.4}, None]
    started = reset_many(together, [3, 4, 5], options)
    for i, (env, (obs, info)) in enumerate(zip(alone, started)):
        o, inf = env.reset(seed=3 + i, options=options[i])
        assert np.allclose(obs, o, atol=1e-9) and info == inf
        assert np.array_equal(together[i].state.body_pos, env.state.body_pos)
    assert started[1][1]["time"] == pytest.approx(0.4)
    assert len({info["time"] for _, info in started}) == 3  # three seeds, three starts
    # unseeded restarts continue each env's own random stream, as single resets do
    again = reset_many(together)
    for env, (obs, info) in zip(alone, again):
        o, inf = env.reset()
        assert np.allclose(obs, o, atol=1e-9) and info == inf
    for env in together + alone:
        env.close()
