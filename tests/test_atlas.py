"""The Atlas character (issue 14's first step): its files, its kinematics against pybullet's, and the env on it."""

from __future__ import annotations

import numpy as np
import pybullet
import pytest
import yaml

from sfv import rotations
from sfv.assets import setting_file
from sfv.config import EnvSettings
from sfv.kinematics import forward_kinematics_np
from sfv.motion import Motion
from sfv.skeleton import load_character


@pytest.fixture(scope="module")
def atlas():
    return load_character("atlas")


def _standing(skeleton, seconds: float = 2.0) -> Motion:
    """Atlas standing still in its rest pose (every joint at 0), feet on the ground."""
    n = int(seconds * 30)
    height = float(skeleton.settings["root_height"])
    return Motion(skeleton, 30.0, np.tile([0.0, 0.0, height], (n, 1)), np.tile(rotations.IDENTITY, (n, 1)),
                  np.zeros((n, skeleton.pose_size)), name="atlas_standing")


def test_the_character_file_covers_every_joint(atlas):
    cfg = yaml.safe_load(setting_file("characters", "atlas").read_text())
    assert atlas.up_axis == "z" and len(atlas.joints) == 27 and all(b.joint_type == "revolute" for b in atlas.joints)
    assert 140 < atlas.total_mass < 150  # DART's masses, kept
    assert set(cfg["pd"]) == set(atlas.joint_names) and set(cfg["pose_weights"]) == {"root", *atlas.joint_names}
    for name in cfg["feet"] + cfg["end_effectors"]:
        atlas.index(name)  # raises on an unknown body
    # the torque limits are the URDF's efforts, the gains 5x and 0.5x them
    assert cfg["pd"]["l_lleg"] == {"kp": 1100, "kd": 110, "torque_limit": 220}
    assert all(b.limits is not None and b.limits[0] < b.limits[1] for b in atlas.joints)


@pytest.fixture(scope="module")
def walk_on_atlas(atlas):
    import torch

    from sfv.mocap import load_mocap
    from sfv.retarget import RetargetSettings, retarget

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        walk = load_mocap("walk")
        first = retarget(walk, atlas, RetargetSettings(iterations=400))
        assert torch.get_num_threads() == 2  # the caller's threads are given back
        again = retarget(walk, atlas, RetargetSettings(iterations=400))
        assert again[0].fingerprint() == first[0].fingerprint()  # the same motion every run: a policy resumes on it
        return first
    finally:
        torch.set_num_threads(before)


def _fk_against_pybullet(atlas, roots, quats, poses) -> tuple[float, float]:
    """The worst link position (m) and orientation (rad) difference between the kit's FK and pybullet's."""
    client = pybullet.connect(pybullet.DIRECT)
    try:
        body = pybullet.loadURDF(atlas.source, [0, 0, 1], flags=pybullet.URDF_MAINTAIN_LINK_ORDER,
                                 physicsClientId=client)
        links = {pybullet.getJointInfo(body, j, physicsClientId=client)[12].decode(): j
                 for j in range(pybullet.getNumJoints(body, physicsClientId=client))}
        pos, rot = forward_kinematics_np(atlas, roots, quats, poses)
        worst_pos = worst_rot = 0.0
        for k in range(len(poses)):
            for b, angle in zip(atlas.joints, poses[k]):
                pybullet.resetJointState(body, links[b.name], float(angle), physicsClientId=client)
            com = roots[k] + rotations.rotate(quats[k], atlas.bodies[0].com)  # pybullet places a base by its COM
            pybullet.resetBasePositionAndOrientation(body, com.tolist(), quats[k].tolist(), physicsClientId=client)
            states = pybullet.getLinkStates(body, list(links.values()), computeForwardKinematics=True,
                                            physicsClientId=client)
            for (name, _), state in zip(links.items(), states):
                i = atlas.index(name)
                worst_pos = max(worst_pos, float(np.linalg.norm(pos[k, i] - state[4])))
                worst_rot = max(worst_rot, float(rotations.angle_between(rot[k, i], np.array(state[5]))))
        return worst_pos, worst_rot
    finally:
        pybullet.disconnect(client)


def test_fk_matches_pybullet_link_frames_to_a_millimetre(atlas, walk_on_atlas):
    """Golden test: random poses inside the joint limits from random root placements, and every frame of the walk
    retargeted to Atlas."""
    rng = np.random.default_rng(0)
    lo, hi = np.array([b.limits for b in atlas.joints]).T
    worst = _fk_against_pybullet(atlas, rng.normal(size=(25, 3)), rotations.normalize(rng.normal(size=(25, 4))),
                                 rng.uniform(lo, hi, (25, len(lo))))
    assert max(worst) < 1e-3, worst
    walk, _ = walk_on_atlas
    worst = _fk_against_pybullet(atlas, walk.root_pos, walk.root_rot, walk.pose)
    assert max(worst) < 1e-3, worst


def test_the_walk_retargeted_to_atlas_follows_the_humanoid_inside_the_limits(atlas, walk_on_atlas):
    walk, report = walk_on_atlas
    assert walk.skeleton.name == "atlas" and walk.n_frames == 39 and walk.loop == "wrap"
    lo, hi = np.array([b.limits for b in atlas.joints]).T
    assert np.all(walk.pose >= lo - 1e-9) and np.all(walk.pose <= hi + 1e-9)  # every angle inside its limits
    assert 0.9 < report["scale"] < 1.0  # Atlas's hips stand a little lower than the humanoid's
    assert report["keypoint_error_cm"] < 6 and report["limb_error_cm"] < 5  # legs placed, arms pointed
    assert report["penetration_cm"] < 1.5 and report["foot_skate_cm"] < 3  # soles on, not through, the ground
    # it walks: the pelvis travels forward (x) as far as the scaled humanoid root does
    travel = walk.root_pos[-1, 0] - walk.root_pos[0, 0]
    assert travel == pytest.approx(0.957 * 1.24, abs=0.1)


def test_retargeting_errors_name_the_file_and_the_fix(atlas, tmp_path):
    from dataclasses import replace

    from sfv.mocap import load_mocap
    from sfv.motion import MotionFormatError, load_motion, save_npz
    from sfv.retarget import RetargetError, retarget

    walk = load_mocap("walk")
    section = dict(atlas.settings["retarget"])
    broken = replace(atlas, settings={**atlas.settings, "retarget": {**section, "bodies": {"r_uleg": "right_hipp"}}})
    with pytest.raises(RetargetError, match=r"sfv/characters/atlas.yaml: retarget names 'right_hipp'.*humanoid's"):
        retarget(walk, broken)
    with pytest.raises(RetargetError, match=r"no `retarget` section"):
        retarget(walk, replace(atlas, settings={k: v for k, v in atlas.settings.items() if k != "retarget"}))
    path = save_npz(walk, tmp_path / "walk.npz")
    with pytest.raises(MotionFormatError, match=r"walk.npz: a motion on the 'humanoid' skeleton, not 'atlas': "
                                                r"retarget it first"):
        load_motion(path, atlas)  # a humanoid clip read as Atlas's


def test_the_env_runs_on_atlas_and_pd_alone_holds_it_standing(atlas):
    from stable_baselines3.common.env_checker import check_env

    from sfv.imitate.env import ImitationEnv

    env = ImitationEnv(_standing(atlas), EnvSettings())
    check_env(env, warn=False, skip_render_check=True)
    assert env.action_space.shape == (len(atlas.joints),)  # one target per revolute joint
    assert env.observation_space.shape == (2 + 13 * (len(atlas.bodies) - 1),)
    env.reset(seed=0, options={"time": 0.0})
    errors = env.errors()
    assert errors["pose"] == pytest.approx(0.0, abs=1e-10) and errors["root"] < 1e-3  # it starts as its reference
    for _ in range(30):  # a second of zero actions: the PD targets are the standing pose
        _, reward, fallen, truncated, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        assert not fallen
        if truncated:
            break
    assert abs(env.state.root_pos[2] - atlas.settings["root_height"]) < 0.05 and reward > 0.8
    env.close()


def test_a_teleport_reads_back_the_root_frame_not_the_centre_of_mass(atlas):
    """Atlas's pelvis has its centre of mass 3 cm off its frame: the state must be the frame the kinematics use."""
    from sfv.imitate.sim import Simulation

    sim = Simulation("atlas", EnvSettings())
    root, rot = np.array([0.3, -0.2, 1.1]), rotations.normalize(np.array([0.1, 0.2, 0.3, 0.9]))
    lin, ang = np.array([0.5, 0.1, -0.2]), np.array([0.3, -1.0, 0.7])
    sim.set_state(root, rot, np.tile(rotations.IDENTITY, (len(atlas.joints), 1)), lin, ang)
    state = sim.read_state()
    assert np.allclose(state.root_pos, root, atol=1e-9) and np.allclose(state.root_lin_vel, lin, atol=1e-9)
    pos, _ = forward_kinematics_np(atlas, root[None], rot[None], np.zeros((1, atlas.pose_size)))
    assert np.abs(state.body_pos - pos[0]).max() < 1e-6  # every body where the kinematics put it
    sim.close()
