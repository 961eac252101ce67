"""Irregular terrain: generators, the heightfield against Bullet's, the heightmap observation, ground-relative
reward terms on a slope, falls into gaps, terrain files' errors, and warm-starting a terrain policy."""

from __future__ import annotations

import numpy as np
import pybullet
import pytest

from sfv.assets import setting_names
from sfv.config import EnvSettings, HeightmapSettings
from sfv.imitate.env import ImitationEnv
from sfv.imitate.terrain import (
    Heightfield,
    TerrainError,
    generate_heights,
    make_heightfield,
    parse_terrain,
    read_terrain,
    travel_direction,
)
from sfv.mocap import load_mocap

HEIGHTMAP = HeightmapSettings(enabled=True)


@pytest.fixture(scope="module")
def walk():
    return load_mocap("walk")


def _spec(kind: str, **extra):
    base = dict(name=f"test_{kind}", kind=kind, length=8.0, behind=2.0, width=3.0, flat_start=1.0)
    sizes = {
        "slope": dict(angle_deg=[5, 12], segment=[2, 3]),
        "gaps": dict(gap_width=[0.2, 0.4], gap_spacing=[1, 2]),
        "stairs": dict(step_height=[0.05, 0.1], step_depth=[0.3, 0.4], steps=3, landing=1.0, cell=0.05),
        "rough": dict(amplitude=0.05, correlation_length=0.3),
    }[kind]
    return parse_terrain({**base, **sizes, **extra})


@pytest.mark.parametrize("kind", ["slope", "gaps", "stairs", "rough"])
def test_generators_are_deterministic_by_seed_and_keep_their_sizes(kind):
    spec = _spec(kind)
    u, v, a = generate_heights(spec, seed=3)
    assert a.shape == (len(v), len(u)) and np.isclose(u[0], -2.0) and np.isclose(u[-1], 8.0)
    assert np.array_equal(a, generate_heights(spec, seed=3)[2])  # same seed, same ground
    assert not np.array_equal(a, generate_heights(spec, seed=4)[2])  # another seed, other features
    assert np.all(a[:, u <= 0.99] == 0.0)  # flat around the start
    if kind == "slope":  # ramps between 5 and 12 degrees
        grade = np.abs(np.diff(a[0])) / spec.cell
        ramps = grade[grade > 1e-9]  # (a cell across a crest or a trough averages two ramps)
        assert np.quantile(ramps, 0.1) >= np.tan(np.radians(5)) - 1e-9
        assert ramps.max() <= np.tan(np.radians(12)) + 1e-9
    elif kind == "gaps":  # trenches 2 m deep, each 0.2-0.4 m wide, ground between at 0
        assert set(np.unique(a)) == {-2.0, 0.0}
        edges = np.flatnonzero(np.diff((a[0] < 0).astype(int)))
        widths = (edges[1::2] - edges[::2]) * spec.cell
        assert len(widths) >= 2 and widths.min() >= 0.2 - spec.cell and widths.max() <= 0.4 + spec.cell
    elif kind == "stairs":  # rises of 5-10 cm, up then down
        rises = np.abs(np.diff(a[0]))
        rises = rises[rises > 1e-9]
        assert rises.min() >= 0.05 - 1e-9 and rises.max() <= 0.1 + 1e-9 and a.max() > 0.14
    else:  # a random field of the asked standard deviation, smooth over its correlation length
        rough = a[:, u > 2.0]
        assert abs(rough.std() - 0.05) < 0.015
        assert np.abs(np.diff(rough, axis=1)).mean() < 0.5 * rough.std()


@pytest.mark.parametrize("up, forward", [(1, [0.0, 0.0, -1.0]), (1, [1.0, 0.0, 0.0]), (2, [0.6, 0.8, 0.0])])
def test_heights_agree_with_the_simulated_ground(up, forward):
    """The env's height queries and the ground Bullet collides with are the same surface (rays down onto it)."""
    from sfv.imitate.sim import _FieldBody

    origin = np.array([0.3, 0.9, 0.2])
    field = make_heightfield(_spec("rough", seed=2, cell_across=0.15), np.array(forward), up, origin=origin)
    client = pybullet.connect(pybullet.DIRECT)
    try:
        body = _FieldBody(client, field, 0.9)
        flat_origin = origin.copy()
        flat_origin[up] = 0.0
        uv = np.random.default_rng(1).uniform([-1.9, -1.4], [7.9, 1.4], (400, 2))
        points = flat_origin + uv[:, :1] * field.forward + uv[:, 1:] * field.lateral
        for shift in (0.0, 0.7):  # and after an episode's shift
            field.shift = shift
            body.move()
            down = np.eye(3)[up]
            hits = pybullet.rayTestBatch(
                (points + 5 * down).tolist(), (points - 5 * down).tolist(), physicsClientId=client
            )
            over = field.inside(points)
            assert over.mean() > 0.8 and all(h[0] == body.body for h, o in zip(hits, over) if o)
            bullet = np.array([h[3][up] for h in hits])
            assert np.abs(field.height(points) - bullet)[over].max() < 1e-6
    finally:
        pybullet.disconnect(client)


def _hand_built(env: ImitationEnv, grade: float, cross: float) -> Heightfield:
    """A plane h = grade * u + cross * v over the env's grid, laid along +x (exact under any triangulation)."""
    spec = _spec("slope", angle_deg=5)
    u, v, _ = generate_heights(spec)
    heights = grade * u[None, :] + cross * v[:, None]
    along_x = np.array([1.0, 0.0, 0.0])
    return Heightfield(heights, spec.cell, spec.across, float(u[0]), float(v[0]), along_x, env.up, heights)


def test_the_heightmap_observation_is_the_known_ground_around_the_character(walk):
    env = ImitationEnv(walk, EnvSettings(terrain="slope", heightmap=HEIGHTMAP))
    env.reset(seed=0)  # (a seeded reset lays its own slope: the hand-built ground comes after it)
    env.set_heightfield(_hand_built(env, grade=0.2, cross=-0.1))
    frame = env.reference.frame(0.0)
    yaw = np.radians(30.0)  # facing 30 degrees left of +x: y-up, so the forward axis turns from x towards -z
    root_rot = np.array([0.0, np.sin(yaw / 2), 0.0, np.cos(yaw / 2)])
    root = np.array([1.5, 1.2, 0.4])
    obs = env.teleport(root, root_rot, frame.joint_rot)
    rows, cols = HEIGHTMAP.shape
    heightmap = obs[-rows * cols :].reshape(rows, cols)
    ahead, left = np.array([np.cos(yaw), 0.0, -np.sin(yaw)]), np.array([np.sin(yaw), 0.0, np.cos(yaw)])
    for r, across in enumerate(HEIGHTMAP.lateral[0] + HEIGHTMAP.spacing * np.arange(rows)):
        for c, along in enumerate(HEIGHTMAP.forward[0] + HEIGHTMAP.spacing * np.arange(cols)):
            p = root + along * ahead + across * left
            known = 0.2 * p[0] - 0.1 * (-p[2])  # lateral = up x forward = -z for a field along +x, y up
            assert heightmap[r, c] == pytest.approx(known - root[1], abs=1e-5)
    assert heightmap[:, -1].mean() > heightmap[:, 0].mean()  # uphill ahead
    # the body state's root height is measured from the ground under the root
    assert obs[1] == pytest.approx(root[1] - (0.2 * root[0] + 0.1 * root[2]), abs=1e-5)
    env.close()


def test_ground_relative_terms_on_a_slope_match_hand_computed_values(walk):
    grade = np.tan(np.radians(10.0))
    env = ImitationEnv(walk, EnvSettings(terrain="slope"))
    env.reset(seed=0, options={"time": 0.5})
    env.set_heightfield(_hand_built(env, grade=grade, cross=0.0))
    frame = env.reference.frame(env.time)
    ground = grade * frame.root_pos[0]
    env.teleport(
        frame.root_pos + [0.0, ground, 0.0],
        frame.root_rot,
        frame.joint_rot,
        frame.root_lin_vel,
        frame.root_ang_vel,
        frame.joint_vel,
    )
    errors = env.errors()
    # the reference's root stands on the ground under ours: the pose on the slope tracks it exactly
    assert errors["root"] == pytest.approx(0.0, abs=1e-8)
    assert errors["pose"] == pytest.approx(0.0, abs=1e-8)
    # each hand or foot sits ground(root) - ground(itself) higher above the slope than in the clip
    ee = frame.body_pos[env.end_effector_index]
    hand = np.mean((grade * (frame.root_pos[0] - ee[:, 0])) ** 2)
    assert errors["end_effector"] == pytest.approx(hand, rel=1e-6)
    assert hand > 1e-4  # not trivially 0: feet and hands are ahead of and behind the root
    # on flat ground the same pose, unlifted, scores the clip's own heights: error 0
    flat = ImitationEnv(walk, EnvSettings())
    flat.reset(seed=0, options={"time": 0.5})
    assert flat.errors()["end_effector"] == pytest.approx(0.0, abs=1e-10)
    env.close(), flat.close()


@pytest.mark.parametrize("terrain", setting_names("terrains"))
def test_the_env_passes_check_env_on_every_terrain(walk, terrain):
    from stable_baselines3.common.env_checker import check_env

    env = ImitationEnv(walk, EnvSettings(terrain=terrain, heightmap=HEIGHTMAP))
    check_env(env, warn=False, skip_render_check=True)
    assert env.observation_space.shape == (2 + 5 + 15 * 13 + HEIGHTMAP.size,)  # phase, height, reference root
    env.close()


def test_seeded_resets_lay_their_own_terrain_and_episodes_shift_it(walk):
    env = ImitationEnv(walk, EnvSettings(terrain="rough"))
    env.reset(seed=1)
    first = env.field.heights.copy()
    env.reset(seed=1)
    assert np.array_equal(env.field.heights, first)
    shifts = {env.field.shift for _ in range(4) if env.reset() is not None}
    assert len(shifts) == 4 and all(0 <= s <= read_terrain("rough").episode_shift for s in shifts)
    start = env.reference.root_pos[0]
    for shift in (0.0, read_terrain("rough").episode_shift):  # however far an episode shifts it, the start is on it
        env.field.shift = shift
        assert env.field.inside(start)
    env.reset(seed=2)
    assert not np.array_equal(env.field.heights, first)
    env.close()


def test_a_fall_into_a_gap_or_off_the_terrain_ends_the_episode(walk):
    env = ImitationEnv(walk, EnvSettings(terrain="gaps"))
    env.reset(seed=0)
    field = env.field
    ahead = travel_direction(env.reference.root_pos, env.reference.heading[0], env.up)
    u = field.u0 + field.cell * np.arange(field.heights.shape[1])
    gap = u[np.flatnonzero(field.heights[0] < -1.0)[0]] + 0.05 + field.shift
    frame = env.reference.frame(0.0)
    sunk = gap * ahead + np.array([0.0, -0.5, 0.0])  # the root half a metre below the ground, in the gap
    env.teleport(sunk, frame.root_rot, frame.joint_rot)
    assert env.off_terrain()
    beside = frame.root_pos + 10.0 * field.lateral  # beyond the grid's side
    env.teleport(beside, frame.root_rot, frame.joint_rot)
    assert env.off_terrain()
    env.teleport(frame.root_pos, frame.root_rot, frame.joint_rot)
    assert not env.off_terrain()
    env.close()


def test_bad_terrain_files_get_errors_naming_the_file_and_field(tmp_path):
    with pytest.raises(TerrainError, match=r"hills\.yaml: not a valid slope terrain:\n  angle_deg: Field required"):
        parse_terrain({"name": "hills", "kind": "slope"}, tmp_path / "hills.yaml")
    with pytest.raises(TerrainError, match=r"kind must be one of plane, slope, gaps, stairs, rough, scene, got 'lava'"):
        parse_terrain({"name": "x", "kind": "lava"}, tmp_path / "x.yaml")
    with pytest.raises(TerrainError, match=r"gap_width: .*valid tuple|gap_width"):
        parse_terrain({"name": "g", "kind": "gaps", "gap_width": "wide", "gap_spacing": 2}, "g.yaml")
    with pytest.raises(TerrainError, match=r"unknown terrain 'moon'.*known terrains"):
        read_terrain("moon")
    with pytest.raises(ValueError, match="heightmap.forward"):
        HeightmapSettings(forward=(2.0, -1.0))


def test_a_terrain_policy_warm_started_from_a_flat_one_acts_as_it_did(tmp_path, walk):
    """The heightmap's columns start at 0: whatever the ground, the new policy's actions are the flat policy's."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from sfv.config import PPOSettings
    from sfv.imitate.features import HeightmapFeatures, warm_start
    from sfv.imitate.train import policy_kwargs

    ppo = PPOSettings(net_arch=(32, 32))
    flat_venv = VecNormalize(DummyVecEnv([lambda: ImitationEnv(walk, EnvSettings())]))
    flat = PPO(
        "MlpPolicy",
        flat_venv,
        n_steps=64,
        batch_size=32,
        n_epochs=1,
        seed=0,
        device="cpu",
        policy_kwargs=policy_kwargs(EnvSettings(), ppo),
    )
    flat.learn(64)  # some statistics and weights of its own
    settings = EnvSettings(terrain="slope", heightmap=HEIGHTMAP)
    venv = VecNormalize(DummyVecEnv([lambda: ImitationEnv(walk, settings)]))
    model = PPO("MlpPolicy", venv, n_steps=64, seed=1, device="cpu", policy_kwargs=policy_kwargs(settings, ppo))
    assert isinstance(model.policy.features_extractor, HeightmapFeatures)
    copied = warm_start(model, flat, flat_venv, venv)
    assert "mlp_extractor.policy_net.0.weight" in copied and "action_net.weight" in copied
    body = flat_venv.observation_space.shape[0]
    assert np.array_equal(venv.obs_rms.mean[:body], flat_venv.obs_rms.mean[:body])
    rng = np.random.default_rng(0)
    for _ in range(3):
        state = rng.normal(size=(4, body)).astype(np.float32)
        heights = rng.normal(size=(4, HEIGHTMAP.size)).astype(np.float32)
        with torch.no_grad():
            a = flat.policy.predict(state, deterministic=True)[0]
            b = model.policy.predict(np.concatenate([state, heights], 1), deterministic=True)[0]
            va = flat.policy.predict_values(torch.as_tensor(state))
            vb = model.policy.predict_values(torch.as_tensor(np.concatenate([state, heights], 1)))
        assert np.allclose(a, b, atol=1e-5) and torch.allclose(va, vb, atol=1e-5)
    with pytest.raises(ValueError, match="cannot end with"):
        HeightmapFeatures(flat_venv.observation_space, (50, 50))
    flat_venv.close(), venv.close()


def test_a_worker_steps_envs_on_different_terrains_as_each_alone(walk):
    """A worker's envs each lay their own terrain (seeded resets): stepped as one batch, each env's reward and
    observation (heightmap included) must use its own ground, as when it is stepped alone."""
    from sfv.imitate.env import step_many

    settings = EnvSettings(terrain="rough", heightmap=HEIGHTMAP)
    batch = [ImitationEnv(walk, settings) for _ in range(2)]
    alone = [ImitationEnv(walk, settings) for _ in range(2)]
    for seed, (b, a) in enumerate(zip(batch, alone), start=1):  # 6 s in: some 6 m along, on the rough part
        later = {"time": 6.0}
        assert np.array_equal(b.reset(seed=seed, options=later)[0], a.reset(seed=seed, options=later)[0])
    assert np.abs(batch[0].field.height(batch[0].state.root_pos)) > 1e-3
    assert not np.array_equal(batch[0].field.heights, batch[1].field.heights)
    rng = np.random.default_rng(0)
    for _ in range(6):
        actions = rng.uniform(-0.3, 0.3, (2, batch[0].action_space.shape[0])).astype(np.float32)
        together = step_many(batch, actions)
        for i, env in enumerate(alone):
            obs, reward, *_ = env.step(actions[i])
            assert np.array_equal(together[i][0], obs) and together[i][1] == pytest.approx(reward, abs=1e-12)
    for env in batch + alone:
        env.close()
