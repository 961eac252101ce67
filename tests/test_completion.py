"""Motion completion: the library's examples, the three methods, the leave-one-clip-out protocols, the start
state of a still continued by a policy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sfv import rotations
from sfv.completion.evaluate import (
    Query,
    evaluate,
    library_for,
    make_query,
    score,
    summary,
)
from sfv.completion.library import (
    continuations,
    horizon_offsets,
    looped,
    make_entry,
    phase_error,
    pose_features,
)
from sfv.completion.model import CompletionMLP, HoldStill, NearestNeighbour, Prediction
from sfv.imitate.reference import heading_angle
from sfv.mocap import load_mocap

FPS, HORIZON, STEP = 30.0, 0.5, 0.1


def yaw(q: np.ndarray, angle: float) -> np.ndarray:
    return rotations.multiply(rotations.from_axis_angle(np.array([0.0, 1.0, 0.0]), np.array(angle)), q)


def turned(motion, angle: float, shift=(0.0, 0.0, 0.0)):
    """The same motion turned about the vertical through the origin and moved: it should look the same."""
    r = rotations.from_axis_angle(np.array([0.0, 1.0, 0.0]), np.array(angle))
    return replace(
        motion,
        root_pos=rotations.rotate(r, motion.root_pos) + np.array(shift),
        root_rot=rotations.multiply(np.broadcast_to(r, motion.root_rot.shape), motion.root_rot),
    )


def test_features_and_continuations_do_not_depend_on_where_the_motion_faces_or_stands():
    walk = load_mocap("walk")
    a = make_entry(walk, "walk", "mocap", FPS, HORIZON, STEP)
    b = make_entry(turned(walk, 2.1, (3.0, 0.0, -1.5)), "walk", "mocap", FPS, HORIZON, STEP)
    assert np.allclose(a.features, b.features, atol=1e-9)
    assert np.allclose(a.continuation, b.continuation, atol=1e-9)
    # and they do describe the pose: a crouch is not a walk
    jump = make_entry(load_mocap("jump"), "jump", "mocap", FPS, HORIZON, STEP)
    assert np.abs(a.features[0] - jump.features[0]).max() > 0.05


def test_continuation_by_hand_for_a_root_that_glides_forward():
    """Bodies relative to the start's ground point in its heading frame: a root sliding at 1 m/s along its own
    facing direction (heading 90 degrees) moves +0.1 m per step along the heading frame's forward axis."""
    T = 20
    heading = np.pi / 2
    root_rot = np.tile(yaw(np.array([0.0, 0.0, 0.0, 1.0]), heading), (T, 1))
    forward_world = rotations.rotate(root_rot[0], np.array([1.0, 0.0, 0.0]))
    root_pos = np.array([[5.0, 0.9, 2.0]]) + np.arange(T)[:, None] * 0.1 * forward_world
    body_pos = np.stack([root_pos, root_pos + np.array([0.0, 0.5, 0.0])], axis=1)
    offsets = horizon_offsets(10.0, 0.5, 0.1)
    assert offsets.tolist() == [1, 2, 3, 4, 5]
    cont, inside = continuations(root_pos, root_rot, body_pos, np.array([0, 16]), offsets)
    assert inside.tolist() == [True, False]  # 16 + 5 runs past frame 19: the last frame is held
    assert np.allclose(cont[0, :, 0], np.stack([0.1 * offsets, np.full(5, 0.9), np.zeros(5)], axis=1))
    assert np.allclose(cont[0, :, 1, 1], 1.4)  # heights stay heights above the ground
    assert np.allclose(cont[1, -1, 0], [0.3, 0.9, 0.0])  # held at frame 19, 3 steps ahead of 16
    f = pose_features(root_pos, root_rot, body_pos)
    assert np.allclose(f[:, :3], [0.0, 0.5, 0.0]) and np.allclose(f[:, 3], 0.9)
    assert np.allclose(f[:, 4:7], [0, 1, 0]) and np.allclose(f[:, 7:10], [0, 0, 1], atol=1e-12)


def test_a_cycle_continues_into_its_next_one():
    walk = load_mocap("walk")  # loops
    double = looped(walk, 2)
    assert double.n_frames == 2 * walk.n_frames - 1
    travel = walk.root_pos[-1] - walk.root_pos[0]
    assert np.allclose(double.root_pos[walk.n_frames - 1 + 5, [0, 2]], walk.root_pos[5, [0, 2]] + travel[[0, 2]])
    entry = make_entry(walk, "walk", "mocap", FPS, HORIZON, STEP)
    assert entry.loop and entry.complete.all()  # even the last frame has its whole horizon
    last = entry.continuation[-1, -1, 0]
    assert last[0] > 0.3  # half a second after the last frame, the root has walked on, not stopped


def test_phase_error_is_circular_only_on_a_cycle():
    assert phase_error(0.95, 0.05, loop=True) == pytest.approx(0.1)
    assert phase_error(0.95, 0.05, loop=False) == pytest.approx(0.9)


def hand_library():
    return [make_entry(load_mocap(n), n, "mocap", FPS, HORIZON, STEP) for n in ("walk", "run", "jump")]


def test_nearest_neighbour_finds_the_frame_a_still_comes_from_and_hold_still_holds_it():
    entries = hand_library()
    run = entries[1]
    p = NearestNeighbour().fit(entries).predict(run.features[[3, 10]])
    assert p.skill == ["run", "run"] and np.allclose(p.phase, run.phase[[3, 10]])
    assert np.allclose(p.continuation, run.continuation[[3, 10]])
    nb, k = run.continuation.shape[2], run.continuation.shape[1]
    held = HoldStill(nb, k).predict(run.features[[3]])
    bodies, _ = run.motion.body_positions()
    ground = run.motion.root_pos[3] * np.array([1, 0, 1])
    from sfv.imitate.reference import heading_inverse

    expected = (bodies[3] - ground) @ heading_inverse(run.motion.root_rot[3], "y").T
    assert np.allclose(held.continuation[0, 0], expected) and np.allclose(held.continuation[0, -1], expected)
    assert held.skill == [None]


def test_the_network_learns_the_library_it_was_fitted_on():
    entries = hand_library()
    model = CompletionMLP(hidden=(64,), epochs=300, seed=0).fit(entries)
    assert model.losses[-1] < 0.3 * model.losses[0]
    p = model.predict(np.concatenate([e.features for e in entries]))
    truth = np.concatenate([[e.skill] * len(e.features) for e in entries])
    assert np.mean(np.array(p.skill) == truth) > 0.9
    again = CompletionMLP(hidden=(64,), epochs=300, seed=0).fit(entries).predict(entries[0].features)
    assert np.array_equal(again.continuation, model.predict(entries[0].features).continuation)  # seeded


def test_protocols_hold_out_the_skill_or_only_the_clip():
    walk = make_entry(load_mocap("walk"), "walk", "mocap", FPS, HORIZON, STEP)
    video = make_entry(
        load_mocap("walk"), "walk", "reconstruction", FPS, HORIZON, STEP, loop=False, name="walk_portrait"
    )
    other = make_entry(load_mocap("walk"), "walk", "reconstruction", FPS, HORIZON, STEP, loop=False, name="walk")
    run = make_entry(load_mocap("run"), "run", "mocap", FPS, HORIZON, STEP)
    q = Query("walk_portrait", "walk", True, np.array([0]), walk.features[:1], walk.continuation[:1], walk.phase[:1])
    entries = [walk, video, other, run]
    assert library_for(entries, q, "unseen") == [run]
    assert library_for(entries, q, "seen") == [walk, other, run]
    with pytest.raises(ValueError, match="protocol"):
        library_for(entries, q, "all")


def test_score_and_leave_one_clip_out_on_a_hand_built_case():
    """A query cut from the walk mocap itself: seen, the nearest neighbour answers exactly (0 cm, right skill and
    phase); unseen, it must answer with run or jump, and holding still is scored the same in both."""
    entries = hand_library()
    walk = entries[0]
    truth = load_mocap("walk")
    q = make_query("walk_copy", "walk", turned(truth, 1.0, (2, 0, 2)), truth, walk, FPS, HORIZON, STEP, stride=3)
    assert len(q.frames) > 0 and np.allclose(q.phase, walk.phase[q.frames])
    nb, k = walk.continuation.shape[2], walk.continuation.shape[1]
    rows = evaluate(
        entries + [make_entry(truth, "walk", "reconstruction", FPS, HORIZON, STEP, loop=False, name="walk_copy")],
        [q],
        {"hold": lambda: HoldStill(nb, k), "nn": NearestNeighbour},
    )
    by = {(r["protocol"], r["method"]): r for r in rows}
    assert by[("seen", "nn")]["error_cm"] == pytest.approx(0.0, abs=1e-6)
    assert by[("seen", "nn")]["skill_right"] == 1.0 and by[("seen", "nn")]["phase_error"] == pytest.approx(0.0)
    assert by[("unseen", "nn")]["skill_right"] == 0.0 and by[("unseen", "nn")]["picked"] in ("run", "jump")
    assert by[("unseen", "nn")]["error_cm"] > 1.0
    assert by[("seen", "hold")]["error_cm"] == by[("unseen", "hold")]["error_cm"] > 5.0  # walking is not standing
    table = summary(rows)
    assert [(r["protocol"], r["method"]) for r in table] == [
        ("unseen", "hold"),
        ("unseen", "nn"),
        ("seen", "hold"),
        ("seen", "nn"),
    ]
    p = Prediction(q.truth + np.array([0.03, 0.0, 0.04]), ["walk"] * len(q.frames), q.phase, [None] * len(q.frames))
    assert score(q, p)["error_cm"] == pytest.approx(5.0)  # 3-4-5 cm off everywhere


def test_a_clip_shorter_than_the_horizon_is_refused_with_the_setting_to_change():
    run = load_mocap("run")  # 0.8 s
    with pytest.raises(ValueError, match="horizon_seconds"):
        make_query("run", "run", run, run, make_entry(run, "run", "mocap", FPS, 2.0, STEP), FPS, 2.0, STEP)


def test_the_still_is_placed_on_the_references_heading_and_ground_point():
    from sfv.completion.perform import still_state

    jump = load_mocap("jump")
    ref_rot = yaw(np.array([0.0, 0.0, 0.0, 1.0]), -0.7)
    state = still_state(jump, 20, np.array([4.0, 1.3, -2.0]), ref_rot)
    assert np.allclose(state["root_pos"], [4.0, jump.root_pos[20, 1], -2.0])
    assert heading_angle(state["root_rot"], "y") == pytest.approx(heading_angle(ref_rot, "y"))
    # only the heading turned: the tilt (the angle of the root's up axis with the vertical) is the still's
    up = lambda q: rotations.rotate(q, np.array([0.0, 1.0, 0.0]))[1]  # noqa: E731
    assert up(state["root_rot"]) == pytest.approx(up(jump.root_rot[20]))
    assert np.allclose(state["joint_rot"], jump.joint_quaternions()[20])


def test_a_policy_started_from_a_still_begins_in_its_pose():
    """`rollout(start=...)` runs from the still's pose at the reference's time (no policy: PD on the reference)."""
    from sfv.completion.perform import start_from_still
    from sfv.config import EnvSettings, RewardParams
    from sfv.imitate.env import ImitationEnv

    walk, jump = load_mocap("walk"), load_mocap("jump")
    env = ImitationEnv(walk, EnvSettings(state_init="start"))
    try:
        env.reset(seed=0, options={"time": 0.5})
        env.teleport(**start_from_still(jump, 30)(env))
        joints = env.state.joint_rot
        assert np.abs(rotations.angle_between(joints, jump.joint_quaternions()[30])).max() < 1e-3
        assert env.time == pytest.approx(0.5)
    finally:
        env.close()
    from sfv.imitate.evaluate import rollout

    out = rollout(
        None, walk, EnvSettings(), RewardParams(), seconds=0.5, start_time=0.4, start=start_from_still(walk, 12)
    )
    assert out["time"][0] == pytest.approx(0.4 + 1 / 30) and out["survived_seconds"] <= 0.5 + 1e-9


def test_a_policy_is_rolled_out_with_the_settings_it_was_trained_with(tmp_path):
    import json

    from sfv.completion.perform import policy_settings

    (tmp_path / "run.json").write_text(
        json.dumps(
            {
                "env": {"action_scale": 0.4, "control_hz": 30.0},
                "reward": {"weights": {"pose": 0.6, "velocity": 0.05, "end_effector": 0.15, "root": 0.1, "com": 0.1}},
            }
        )
    )
    env, reward = policy_settings(tmp_path)
    assert env.action_scale == 0.4 and reward.weights.pose == 0.6
    assert env.reference_root_observation is False  # added after such a run: its default, the old observation
    with pytest.raises(FileNotFoundError, match="run.json"):
        policy_settings(tmp_path / "nothing")
