"""The bodies motions are transferred to (issue 14): Atlas and the MuJoCo humanoid. For each: its files, its
kinematics against pybullet's, retargeting the humanoid's walk onto it, and the env on it. Each body's own figures
(joint count, mass, a joint's gains, its hips' height against the humanoid's, how long PD alone holds it standing)
are in BODIES, from its source file."""

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

#: what each body's source says: joints, mass (kg), a joint's gains, hip height against the humanoid's, and the walk's
#: retargeted root travel over its 1.24 m (scaled)
BODIES = {
    "atlas": {
        "joints": 27,
        "mass": (140, 150),
        "gains": ("l_lleg", {"kp": 1100, "kd": 110, "torque_limit": 220}),
        "scale": (0.9, 1.0),
        "stands_s": 1.0,
    },
    # its rest pose leans 2 cm ahead of its ankles: PD alone holds it half a second, then it tips forward
    "mujoco_humanoid": {
        "joints": 21,
        "mass": (40, 42),
        "gains": ("left_shin", {"kp": 500, "kd": 50, "torque_limit": 150}),
        "scale": (0.85, 0.95),
        "stands_s": 0.5,
    },
}


@pytest.fixture(scope="module", params=sorted(BODIES))
def atlas(request):
    """Each body in turn (the name is the first one's: the tests read the same for every body)."""
    return load_character(request.param)


def _standing(skeleton, seconds: float = 2.0) -> Motion:
    """The body standing still in its rest pose (every joint at 0, or the nearest its limits allow), feet on the
    ground."""
    n = int(seconds * 30)
    height = float(skeleton.settings["root_height"])
    return Motion(
        skeleton,
        30.0,
        np.tile([0.0, 0.0, height], (n, 1)),
        np.tile(rotations.IDENTITY, (n, 1)),
        np.tile(np.clip(0.0, *np.array([b.limits for b in skeleton.joints]).T), (n, 1)),
        name=f"{skeleton.name}_standing",
    )


def test_the_character_file_covers_every_joint(atlas):
    cfg = yaml.safe_load(setting_file("characters", atlas.name).read_text())
    body = BODIES[atlas.name]
    assert atlas.up_axis == "z" and len(atlas.joints) == body["joints"]
    assert all(b.joint_type == "revolute" for b in atlas.joints)
    assert body["mass"][0] < atlas.total_mass < body["mass"][1]  # the source's masses, kept
    assert set(cfg["pd"]) == set(atlas.joint_names) and set(cfg["pose_weights"]) == {"root", *atlas.joint_names}
    for name in cfg["feet"] + cfg["end_effectors"]:
        atlas.index(name)  # raises on an unknown body
    joint, gains = body["gains"]
    assert cfg["pd"][joint] == gains
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
        body = pybullet.loadURDF(
            atlas.source, [0, 0, 1], flags=pybullet.URDF_MAINTAIN_LINK_ORDER, physicsClientId=client
        )
        links = {
            pybullet.getJointInfo(body, j, physicsClientId=client)[12].decode(): j
            for j in range(pybullet.getNumJoints(body, physicsClientId=client))
        }
        inertial = pybullet.getDynamicsInfo(body, -1, physicsClientId=client)
        pos, rot = forward_kinematics_np(atlas, roots, quats, poses)
        worst_pos = worst_rot = 0.0
        for k in range(len(poses)):
            for b, angle in zip(atlas.joints, poses[k]):
                pybullet.resetJointState(body, links[b.name], float(angle), physicsClientId=client)
            # pybullet places a base by its inertial frame: its centre of mass, turned to its principal axes
            com = roots[k] + rotations.rotate(quats[k], np.array(inertial[3]))
            turned = rotations.multiply(quats[k], np.array(inertial[4]))
            pybullet.resetBasePositionAndOrientation(body, com.tolist(), turned.tolist(), physicsClientId=client)
            states = pybullet.getLinkStates(
                body, list(links.values()), computeForwardKinematics=True, physicsClientId=client
            )
            for (name, _), state in zip(links.items(), states):
                i = atlas.index(name)
                worst_pos = max(worst_pos, float(np.linalg.norm(pos[k, i] - state[4])))
                worst_rot = max(worst_rot, float(rotations.angle_between(rot[k, i], np.array(state[5]))))
        return worst_pos, worst_rot
    finally:
        pybullet.disconnect(client)


def test_fk_matches_pybullet_link_frames_to_a_millimetre(atlas, walk_on_atlas):
    """Golden test: random poses inside the joint limits from random root placements, and every frame of the walk
    retargeted to the body."""
    rng = np.random.default_rng(0)
    lo, hi = np.array([b.limits for b in atlas.joints]).T
    worst = _fk_against_pybullet(
        atlas,
        rng.normal(size=(25, 3)),
        rotations.normalize(rng.normal(size=(25, 4))),
        rng.uniform(lo, hi, (25, len(lo))),
    )
    assert max(worst) < 1e-3, worst
    walk, _ = walk_on_atlas
    worst = _fk_against_pybullet(atlas, walk.root_pos, walk.root_rot, walk.pose)
    assert max(worst) < 1e-3, worst


def test_the_walk_retargeted_follows_the_humanoid_inside_the_limits(atlas, walk_on_atlas):
    walk, report = walk_on_atlas
    assert walk.skeleton.name == atlas.name and walk.n_frames == 39 and walk.loop == "wrap"
    lo, hi = np.array([b.limits for b in atlas.joints]).T
    assert np.all(walk.pose >= lo - 1e-9) and np.all(walk.pose <= hi + 1e-9)  # every angle inside its limits
    low, high = BODIES[atlas.name]["scale"]
    assert low < report["scale"] < high  # its hips stand lower than the humanoid's
    assert report["keypoint_error_cm"] < 6 and report["limb_error_cm"] < 5  # legs placed, arms pointed
    assert report["penetration_cm"] < 1.5 and report["foot_skate_cm"] < 3  # soles on, not through, the ground
    # it walks: the root travels forward (x) as far as the scaled humanoid root does
    travel = walk.root_pos[-1, 0] - walk.root_pos[0, 0]
    assert travel == pytest.approx(report["scale"] * 1.24, abs=0.1)
    # only its feet touch the ground: a massless link between two ankle hinges (no collision shape) may pass close
    from sfv.imitate.reference_clip import check_ground_contacts, standing_foot_height

    check_ground_contacts(walk, [], "walk")
    shapeless = [i for i, b in enumerate(atlas.bodies) if not b.collides and b.name not in atlas.settings["feet"]]
    low = walk.body_positions()[0][:, shapeless, 2].min() if shapeless else np.inf
    assert atlas.name != "mujoco_humanoid" or low < standing_foot_height(atlas) + 0.05  # the check would have tripped


def test_retargeting_errors_name_the_file_and_the_fix(atlas, tmp_path):
    from dataclasses import replace

    from sfv.mocap import load_mocap
    from sfv.motion import MotionFormatError, load_motion, save_npz
    from sfv.retarget import RetargetError, retarget

    walk = load_mocap("walk")
    section = dict(atlas.settings["retarget"])
    leg = next(iter(section["bodies"]))
    broken = replace(atlas, settings={**atlas.settings, "retarget": {**section, "bodies": {leg: "right_hipp"}}})
    with pytest.raises(
        RetargetError, match=rf"sfv/characters/{atlas.name}.yaml: retarget names 'right_hipp'.*humanoid"
    ):
        retarget(walk, broken)
    broken = replace(atlas, settings={**atlas.settings, "retarget": {**section, "root": "pelviss"}})
    with pytest.raises(RetargetError, match=r"retarget.root names 'pelviss', which is not one of humanoid's bodies"):
        retarget(walk, broken)
    with pytest.raises(RetargetError, match=r"no `retarget` section"):
        retarget(walk, replace(atlas, settings={k: v for k, v in atlas.settings.items() if k != "retarget"}))
    path = save_npz(walk, tmp_path / "walk.npz")
    with pytest.raises(
        MotionFormatError,
        match=rf"walk.npz: a motion on the 'humanoid' skeleton, not '{atlas.name}': "
        r"retarget it first",
    ):
        load_motion(path, atlas)  # a humanoid clip read as this body's


def test_the_env_runs_on_the_body_and_pd_alone_holds_it_standing(atlas):
    from stable_baselines3.common.env_checker import check_env

    from sfv.imitate.env import ImitationEnv

    env = ImitationEnv(_standing(atlas), EnvSettings())
    check_env(env, warn=False, skip_render_check=True)
    assert env.action_space.shape == (len(atlas.joints),)  # one target per revolute joint
    assert env.observation_space.shape == (2 + 5 + 13 * (len(atlas.bodies) - 1),)
    env.reset(seed=0, options={"time": 0.0})
    errors = env.errors()
    assert errors["pose"] == pytest.approx(0.0, abs=1e-10) and errors["root"] < 1e-3  # it starts as its reference
    for _ in range(int(30 * BODIES[atlas.name]["stands_s"])):  # zero actions: the PD targets are the standing pose
        _, reward, fallen, truncated, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        assert not fallen
        if truncated:
            break
    assert abs(env.state.root_pos[2] - atlas.settings["root_height"]) < 0.05 and reward > 0.8
    env.close()


def test_a_teleport_reads_back_the_root_frame_not_the_centre_of_mass(atlas):
    """Atlas's pelvis has its centre of mass 3 cm off its frame: the state must be the frame the kinematics use."""
    from sfv.imitate.sim import Simulation

    sim = Simulation(atlas.name, EnvSettings())
    root, rot = np.array([0.3, -0.2, 1.1]), rotations.normalize(np.array([0.1, 0.2, 0.3, 0.9]))
    lin, ang = np.array([0.5, 0.1, -0.2]), np.array([0.3, -1.0, 0.7])
    sim.set_state(root, rot, np.tile(rotations.IDENTITY, (len(atlas.joints), 1)), lin, ang)
    state = sim.read_state()
    assert np.allclose(state.root_pos, root, atol=1e-9) and np.allclose(state.root_lin_vel, lin, atol=1e-9)
    assert rotations.angle_between(state.root_rot, rot) < 1e-6 and np.allclose(state.root_ang_vel, ang, atol=1e-9)
    pos, _ = forward_kinematics_np(atlas, root[None], rot[None], np.zeros((1, atlas.pose_size)))
    assert np.abs(state.body_pos - pos[0]).max() < 1e-6  # every body where the kinematics put it
    sim.close()


def test_the_ghost_shows_the_reference_pose_where_the_kinematics_put_it(atlas, walk_on_atlas):
    """The ghost (renders' reference) is placed by its root frame: every link where the kit's kinematics put it."""
    from sfv.imitate.sim import Simulation

    walk, _ = walk_on_atlas
    sim = Simulation(atlas.name, EnvSettings(), ghost=True)
    f = 17
    sim.place_ghost(walk.root_pos[f], walk.root_rot[f], walk.joint_quaternions()[f])
    pos, _ = forward_kinematics_np(atlas, walk.root_pos[f : f + 1], walk.root_rot[f : f + 1], walk.pose[f : f + 1])
    states = pybullet.getLinkStates(
        sim.ghost,
        [int(link) for link in sim.links if link >= 0],
        computeForwardKinematics=True,
        physicsClientId=sim.client,
    )
    worst = max(float(np.linalg.norm(pos[0, i] - s[4])) for i, s in zip(np.flatnonzero(sim.links >= 0), states))
    assert worst < 1e-6, worst
    sim.close()


def test_a_base_whose_principal_axes_are_turned_still_reads_and_writes_its_root_frame(monkeypatch, tmp_path):
    """pybullet places a base by its inertial frame, which may be turned from the link frame (a URDF whose inertia
    is written on principal axes): teleports and reads convert both the offset and the turn."""
    import shutil

    from sfv import assets, skeleton
    from sfv.imitate.sim import Simulation

    characters = tmp_path / "characters"
    (characters / "atlas").mkdir(parents=True)
    urdf = (assets.PACKAGE_DIR / "characters" / "atlas" / "atlas.urdf").read_text()
    pelvis = '<origin xyz="0.0111 0 0.0271" rpy="0 -0 0" />'  # the pelvis's inertial frame, turned below
    turned = urdf.replace(pelvis, pelvis.replace('rpy="0 -0 0"', 'rpy="0.3 -0.5 1.2"'), 1)
    assert turned != urdf
    (characters / "atlas" / "atlas.urdf").write_text(turned)
    shutil.copy(assets.PACKAGE_DIR / "characters" / "atlas.yaml", characters / "atlas.yaml")
    (tmp_path / "terrains").symlink_to(assets.PACKAGE_DIR / "terrains")
    monkeypatch.setattr(assets, "PACKAGE_DIR", tmp_path)
    skeleton.load_character.cache_clear()
    try:
        sk = skeleton.load_character("atlas")
        sim = Simulation("atlas", EnvSettings())
        assert (
            rotations.angle_between(
                np.array(pybullet.getDynamicsInfo(sim.body, -1, physicsClientId=sim.client)[4]), rotations.IDENTITY
            )
            > 0.5
        )  # the base's inertial frame is turned
        root, rot = np.array([0.3, -0.2, 1.1]), rotations.normalize(np.array([0.1, 0.2, 0.3, 0.9]))
        lin, ang = np.array([0.5, 0.1, -0.2]), np.array([0.3, -1.0, 0.7])
        sim.set_state(root, rot, np.tile(rotations.IDENTITY, (len(sk.joints), 1)), lin, ang)
        state = sim.read_state()
        assert np.allclose(state.root_pos, root, atol=1e-9) and rotations.angle_between(state.root_rot, rot) < 1e-6
        assert np.allclose(state.root_lin_vel, lin, atol=1e-9) and np.allclose(state.root_ang_vel, ang, atol=1e-9)
        pos, _ = forward_kinematics_np(sk, root[None], rot[None], np.zeros((1, sk.pose_size)))
        assert np.abs(state.body_pos - pos[0]).max() < 1e-6  # every body where the kinematics put it
        sim.close()
    finally:
        skeleton.load_character.cache_clear()


def test_pd_brings_every_joint_back_after_one_is_pushed(atlas):
    """Zero gravity, the body floating: one joint pushed 0.3 rad, stable PD on every joint brings all of them back
    within two seconds (with the MuJoCo humanoid's exact moments of inertia it did not: the others swung by a
    radian; see tools/character_from_mjcf.py)."""
    from sfv.imitate.sim import Simulation

    sim = Simulation(atlas.name, EnvSettings())
    pybullet.setGravity(0, 0, 0, physicsClientId=sim.client)
    rest = np.array([np.clip(0.0, *b.limits) for b in atlas.joints])
    axes = np.array([b.axis for b in atlas.joints])
    as_quaternions = lambda a: np.concatenate([axes * np.sin(a / 2)[:, None], np.cos(a / 2)[:, None]], 1)  # noqa: E731
    for pushed in (atlas.joint_names.index(atlas.settings["feet"][0]), len(atlas.joints) - 1):
        start = rest.copy()
        start[pushed] += 0.3 if start[pushed] + 0.3 <= atlas.joints[pushed].limits[1] else -0.3
        sim.set_state(3.0 * np.eye(3)[2], rotations.IDENTITY, as_quaternions(start))
        targets = sim.pd_targets(as_quaternions(rest))
        for _ in range(60):
            sim.step(targets)
        error = rotations.angle_between(sim.read_state().joint_rot, as_quaternions(rest))
        assert error.max() < 0.01, (atlas.joints[int(np.argmax(error))].name, error.max())
    sim.close()


def test_a_character_file_names_how_its_inertia_is_read(monkeypatch, tmp_path):
    from sfv import assets, skeleton

    (tmp_path / "characters").mkdir()
    text = (assets.PACKAGE_DIR / "characters" / "mujoco_humanoid.yaml").read_text()
    (tmp_path / "characters" / "odd.yaml").write_text(
        text.replace("inertia: file", "inertia: guess").replace(
            "urdf: mujoco_humanoid/", f"urdf: {assets.PACKAGE_DIR}/characters/mujoco_humanoid/"
        )
    )
    monkeypatch.setattr(assets, "PACKAGE_DIR", tmp_path)
    with pytest.raises(
        skeleton.SkeletonError,
        match=r"odd.yaml: inertia: Input should be 'shapes' or 'file' "
        r"\[inertia: shapes: pybullet derives",
    ):
        skeleton.load_character("odd")


@pytest.mark.parametrize(
    "change, message",
    [
        (
            ("  right_knee:", "  right_kne:"),
            r"humanoid.yaml: pd.right_kne: 'right_kne' is not one of its bodies — did you "
            r"mean 'right_knee'\?",
        ),
        (
            ("pose_weights:\n  root: 0.208\n  chest:", "pose_weights:\n  root: 0.208\n  chets:"),
            r"pose_weights.chets: 'chets' is not one of its bodies — did you mean 'chest'\?",
        ),
        (("feet: [", "fet: ["), r"unknown key 'fet' — did you mean 'feet'\? \(allowed here: name, urdf"),
        (("kp: 1000, kd: 100", "kp: 1000, kdd: 100"), r"unknown key 'pd.chest.kdd' — did you mean 'kd'\?"),
    ],
)
def test_a_character_files_keys_and_body_names_are_checked(monkeypatch, tmp_path, change, message):
    """A misspelt joint would get no PD gains or pose weight without a word: the file is checked on load."""
    from sfv import assets, skeleton

    (tmp_path / "characters").mkdir()
    text = (assets.PACKAGE_DIR / "characters" / "humanoid.yaml").read_text()
    assert change[0] in text
    (tmp_path / "characters" / "humanoid.yaml").write_text(text.replace(change[0], change[1], 1))
    monkeypatch.setattr(assets, "PACKAGE_DIR", tmp_path)
    skeleton.load_character.cache_clear()
    try:
        with pytest.raises(skeleton.SkeletonError, match=message):
            skeleton.load_character("humanoid")
    finally:
        skeleton.load_character.cache_clear()
