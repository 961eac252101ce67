"""The imitation env: simulator state against the reference, PD tracking, RSI, early termination,
heading invariance of the observation, cyclic clips, gymnasium's checker."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sfv import rotations
from sfv.config import EnvSettings
from sfv.imitate.env import ImitationEnv
from sfv.imitate.reference import heading_frames
from sfv.imitate.sim import SimulationError, load_terrain
from sfv.kinematics import forward_kinematics
from sfv.mocap import load_mocap
from sfv.skeleton import SkeletonError


@pytest.fixture(scope="module")
def walk():
    return load_mocap("walk")


@pytest.fixture(scope="module")
def walk_env(walk):
    env = ImitationEnv(walk, EnvSettings())
    yield env
    env.close()


def test_passes_gymnasium_check_env(walk):
    from gymnasium.utils.env_checker import check_env

    env = ImitationEnv(walk, EnvSettings())
    check_env(env, skip_render_check=True)
    # phase and root height, where the reference's root is (3 + 2), 13 numbers per body but the base; 3 per ball
    # joint, 1 per hinge
    sk = walk.skeleton
    assert env.observation_space.shape == (2 + 5 + 13 * (len(sk.bodies) - 1),)
    assert env.action_space.shape == (sum(3 if b.joint_type == "spherical" else 1 for b in sk.joints),)
    env.close()


@pytest.mark.parametrize("clip", ["walk", "backflip"])
def test_reference_state_copied_into_simulator_with_velocities(clip):
    """After RSI the simulated bodies sit on the reference's FK, and the joint velocities given to
    pybullet (local frame) reproduce the reference's world angular velocities: a wrong frame
    convention would be off by the velocities' own size (metres/radians per second)."""
    motion = load_mocap(clip)
    env = ImitationEnv(motion, EnvSettings(physics_hz=2400))  # a fine table: finite differences ~ derivatives
    ref = env.reference
    worst_pos = worst_vel = 0.0
    for row in np.linspace(20, ref.n - 3, 6).astype(int):
        env.reset(options={"time": row / ref.rate})
        s = env.state
        pose = torch.as_tensor(motion.sample(np.array([row, row + 1]) / ref.rate).pose)
        pos, rot = forward_kinematics(
            ref.skeleton,
            torch.as_tensor(ref.root_pos[row : row + 2]),
            torch.as_tensor(ref.root_rot[row : row + 2]),
            pose,
        )
        pos, rot = pos.numpy(), rot.numpy()
        omega = rotations.to_rotvec(rotations.multiply(rot[1], rotations.conjugate(rot[0]))) * ref.rate
        worst_pos = max(worst_pos, np.abs(s.body_pos - pos[0]).max())
        worst_vel = max(worst_vel, np.abs(s.body_ang_vel - omega).max())
    env.close()
    assert worst_pos < 1e-6
    assert worst_vel < 0.05, f"body angular velocities differ from the reference's by {worst_vel:.3f} rad/s"


def test_zero_residual_action_makes_pd_targets_the_reference_pose(walk_env):
    ref = walk_env.reference
    for row in (0, 37, 200):
        targets = walk_env._pd_targets(np.zeros(walk_env.action_space.shape), row)
        expected = walk_env.sim.pd_targets(ref.joint_rot[row])
        for t, e in zip(targets, expected):
            t, e = np.array(t), np.array(e)
            assert np.allclose(t, e, atol=1e-9) or np.allclose(t, -e, atol=1e-9)


def test_pd_control_tracks_the_reference_for_a_moment(walk_env):
    """Zero action = the reference pose as PD targets. Stable PD must hold it step after step (pybullet
    applies STABLE_PD_CONTROL for one substep only; sent once per control step the legs buckle)."""
    walk_env.reset(options={"time": 0.0})
    errors, heights = [], []
    for _ in range(10):
        _, reward, terminated, _, info = walk_env.step(np.zeros(walk_env.action_space.shape))
        errors.append(info["tracking_error"])
        heights.append(walk_env.state.root_pos[1])
        assert not terminated
    # the reference root stays at 0.85-0.87 m; with PD sent once per control step it sinks below 0.5 m
    assert min(heights) > 0.8, heights
    assert max(errors) < 0.1, errors  # joints lag the moving reference (zero target velocity) a little


def test_reward_is_near_one_right_after_reference_initialisation(walk_env):
    walk_env.reset(options={"time": 0.5})
    errors = walk_env.errors()
    assert set(errors) == {"pose", "velocity", "end_effector", "root", "com", "root_velocity"}
    assert all(v < 1e-6 for v in errors.values()), errors


def test_rsi_starts_at_random_phases_and_start_mode_at_zero(walk):
    env = ImitationEnv(walk, EnvSettings())
    phases = [env.reset(seed=i)[1]["phase"] for i in range(200)]
    assert np.histogram(phases, bins=4, range=(0, 1))[0].min() > 25  # spread over the whole clip
    env.close()
    env = ImitationEnv(walk, EnvSettings(state_init="start"))
    assert {env.reset(seed=i)[1]["phase"] for i in range(5)} == {0.0}
    env.close()


def test_early_termination_when_the_body_touches_the_ground(walk_env):
    walk_env.reset(options={"time": 0.0})
    sim = walk_env.sim
    lying = rotations.from_axis_angle(np.array([1.0, 0, 0]), np.array(np.pi / 2))
    sim.set_state([0, 0.12, 0], lying, walk_env.reference.joint_rot[0])
    _, _, terminated, truncated, info = walk_env.step(np.zeros(walk_env.action_space.shape))
    assert terminated and info["fallen"] and not truncated
    no_et = ImitationEnv(walk_env.motion, EnvSettings(early_termination=False, pose_termination=None))
    no_et.reset(options={"time": 0.0})
    no_et.sim.set_state([0, 0.12, 0], lying, walk_env.reference.joint_rot[0])
    assert not no_et.step(np.zeros(no_et.action_space.shape))[2]
    no_et.close()


def test_pose_termination_ends_an_episode_once_a_body_strays_that_far_from_the_reference(walk):
    """Moved 0.5 m off its reference (pose unchanged, so it does not fall), the character ends the episode with a
    0.4 m pose termination and not with a 0.6 m one, nor without one; an evaluation rollout never ends on it."""
    from sfv.config import RewardParams
    from sfv.imitate.evaluate import rollout

    outcomes = {}
    for distance in (0.4, 0.6, None):
        env = ImitationEnv(walk, EnvSettings(pose_termination=distance))
        env.reset(options={"time": 0.4})
        s = env.state
        env.sim.set_state(
            s.root_pos + np.array([0.0, 0.0, 0.5]), s.root_rot, s.joint_rot, s.root_lin_vel, s.root_ang_vel, s.joint_vel
        )
        _, _, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
        outcomes[distance] = (terminated, info["lost_track"], info["fallen"])
        env.close()
    assert outcomes == {0.4: (True, True, False), 0.6: (False, False, False), None: (False, False, False)}
    run = rollout(None, walk, EnvSettings(pose_termination=0.01), RewardParams(), 0.5)
    assert not run["fallen"] and run["survived_seconds"] == pytest.approx(0.5, abs=1e-6)


def test_episode_is_truncated_at_its_length(walk):
    env = ImitationEnv(walk, EnvSettings(episode_seconds=0.2, early_termination=False))
    env.reset(options={"time": 0.0})
    flags = [env.step(np.zeros(env.action_space.shape))[3] for _ in range(6)]
    assert flags == [False] * 5 + [True]
    env.close()


def test_observation_does_not_change_when_the_whole_scene_turns(walk):
    """The observation lives in the root's heading frame: turning the character about the vertical
    (pose, position and velocities) must not change it (the reference, which does not turn, left out)."""
    walk_env = ImitationEnv(walk, EnvSettings(reference_root_observation=False))
    walk_env.reset(options={"time": 0.4})
    for _ in range(3):
        walk_env.step(np.full(walk_env.action_space.shape, 0.1))
    s0 = walk_env.state
    obs0 = walk_env._observe()
    yaw = rotations.from_axis_angle(np.array([0, 1.0, 0]), np.array(1.1))
    sim = walk_env.sim
    sim.set_state(
        rotations.rotate(yaw, s0.root_pos),
        rotations.multiply(yaw, s0.root_rot),
        s0.joint_rot,
        rotations.rotate(yaw, s0.root_lin_vel),
        rotations.rotate(yaw, s0.root_ang_vel),
        s0.joint_vel,
    )
    walk_env.state = sim.read_state()
    obs1 = walk_env._observe()
    assert np.abs(obs1 - obs0).max() < 1e-4
    assert np.abs(walk_env.state.body_pos - s0.body_pos).max() > 0.1  # the scene did turn
    walk_env.close()


def test_cyclic_clip_continues_with_the_root_offset(walk):
    env = ImitationEnv(walk, EnvSettings())
    ref = env.reference
    a, b = ref.frame(0.3), ref.frame(0.3 + 2 * ref.duration)
    assert ref.loop and b.phase == pytest.approx(a.phase)
    offset = ref.cycle_offset
    assert offset[1] == 0 and np.linalg.norm(offset) > 0.5  # a walk cycle travels over a metre
    assert np.allclose(b.root_pos, a.root_pos + 2 * offset) and np.allclose(b.body_pos, a.body_pos + 2 * offset)
    assert np.allclose(b.joint_rot, a.joint_rot)
    env.close()
    jump = load_mocap("kick")
    env = ImitationEnv(jump, EnvSettings())
    assert not env.reference.loop
    assert env.reference.frame(99.0).root_pos == pytest.approx(env.reference.frame(jump.duration).root_pos)
    env.reset(options={"time": 0.0})
    assert env.end_time == pytest.approx(jump.duration)  # a non-cyclic clip ends with its last frame
    env.close()


def test_same_seed_same_trajectory(walk):
    def run(seed):
        env = ImitationEnv(walk, EnvSettings())
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        trace = [obs]
        for _ in range(15):
            obs, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape))
            trace.append(obs)
        env.close()
        return np.array(trace)

    a, b, other = run(3), run(3), run(4)
    assert np.allclose(a, b, atol=1e-6)  # up to rounding (BLAS summation order may vary with alignment)
    assert np.abs(a - other).max() > 0.1  # another seed starts at another phase


def test_clear_errors_for_bad_settings(walk):
    with pytest.raises(ValueError, match="no terrain 'moon'.*known: flat"):
        EnvSettings(terrain="moon")
    with pytest.raises(ValueError, match="whole multiple"):
        EnvSettings(physics_hz=100, control_hz=30)
    with pytest.raises(ValueError, match="action_mode"):
        EnvSettings(action_mode="torque")
    load_terrain.cache_clear()
    with pytest.raises(SimulationError, match="unknown terrain 'moon'.*known terrains"):
        load_terrain("moon")  # a file removed after the params were checked


def test_cached_files_are_read_only():
    """The character and terrain loaders are cached: what they hand out cannot be changed by a caller."""
    from pydantic import ValidationError

    from sfv.skeleton import load_character

    spec = load_terrain("flat")
    with pytest.raises(ValidationError, match="frozen"):
        spec.friction = 0.1
    assert load_terrain("flat").friction == 0.9
    settings = load_character("humanoid").settings
    with pytest.raises(TypeError):
        settings["pd"]["chest"] = {}
    assert load_character("humanoid").settings["pd"]["chest"]["kp"] > 0


def test_motion_on_another_skeleton_is_refused(walk):
    from dataclasses import replace

    from sfv.skeleton import Skeleton

    other = Skeleton(name="robot", bodies=walk.skeleton.bodies, up_axis="y")
    with pytest.raises(SkeletonError, match="unknown character 'robot'.*known characters.*retargeted"):
        ImitationEnv(replace(walk, skeleton=other), EnvSettings())


def test_phase_as_cosine_and_sine(walk):
    env = ImitationEnv(walk, EnvSettings(phase_encoding="sincos"))
    obs, info = env.reset(options={"time": 0.3})
    assert env.observation_space.shape == (3 + 5 + 15 * 13,) and obs.shape == env.observation_space.shape
    angle = 2 * np.pi * info["phase"]
    assert obs[:2] == pytest.approx([np.cos(angle), np.sin(angle)], abs=1e-6)
    env.close()


def test_reference_root_observation_sees_the_offset_and_heading_to_the_reference(walk):
    """Placed on its reference the character sees no offset and the same heading; moved 1 m forward it sees the
    reference 1 m behind; turned about the vertical it sees the reference's heading turned by the same angle."""
    env = ImitationEnv(walk, EnvSettings(reference_root_observation=True))
    env.reset(options={"time": 0.4})
    assert env.observation_space.shape == (2 + 5 + 15 * 13,)
    head = env._observe()[2:7]
    assert head == pytest.approx([0, 0, 0, 1, 0], abs=1e-6)
    s = env.state
    h = heading_frames(s.root_rot[None], "y")[0][0]
    env.sim.set_state(s.root_pos + h.T @ np.array([1.0, 0, 0]), s.root_rot, s.joint_rot)
    env.state = env.sim.read_state()
    assert env._observe()[2:7] == pytest.approx([-1, 0, 0, 1, 0], abs=1e-6)
    yaw = rotations.from_axis_angle(np.array([0, 1.0, 0]), np.array(1.1))
    env.sim.set_state(s.root_pos, rotations.multiply(yaw, s.root_rot), s.joint_rot)
    env.state = env.sim.read_state()
    forward = env._observe()[5:7]
    assert np.hypot(*forward) == pytest.approx(1, abs=1e-6) and abs(
        np.arctan2(forward[1], forward[0])
    ) == pytest.approx(1.1, abs=1e-5)
    env.close()


def test_a_skills_ground_contacts_do_not_end_its_episodes():
    """The cartwheel's hands touch down from 1.03 s (left) and 1.2 s (right): with the hands not allowed on the
    ground (DeepMimic's default fall contacts) the episode ends there; with them allowed it goes on."""
    cartwheel = load_mocap("cartwheel")
    ended = {}
    for contacts in ([], ["right_wrist", "left_wrist"]):
        env = ImitationEnv(cartwheel, EnvSettings(ground_contacts=contacts))
        env.reset(seed=0, options={"time": 1.2})
        ended[len(contacts)] = any(env.step(np.zeros(env.action_space.shape))[2] for _ in range(3))
        env.close()
    assert ended == {0: True, 2: False}


def test_unknown_ground_contact_is_refused_with_the_body_names(walk):
    with pytest.raises(SimulationError, match=r"ground_contacts .*\['right_hand'\].*right_wrist"):
        ImitationEnv(walk, EnvSettings(ground_contacts=["right_hand"]))
