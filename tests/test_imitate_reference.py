"""A reconstructed motion made into a reference (trim, checks, grounding, loop closure), its bad inputs, and
the end-to-end measure against the ground truth on hand-built cases with known answers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sfv import paths, rotations
from sfv.analysis.fidelity import body_error, fidelity, motion_states, root_drift
from sfv.config import EnvSettings, ImitateClip, Params, ReferenceChecks
from sfv.imitate.env import ImitationEnv
from sfv.imitate.reference import ReferenceTrack, heading_angle
from sfv.imitate.reference_clip import (
    ReferenceError,
    foot_indices,
    ground,
    one_level_span,
    prepare_reference,
    standing_foot_height,
)
from sfv.imitate.stage import make_reference
from sfv.mocap import load_mocap
from sfv.motion import close_loop, load_motion, save_npz

CHECKS = ReferenceChecks()


@pytest.fixture(scope="module")
def walk():
    return load_mocap("walk")


def shifted(motion, dy=0.0, yaw_deg=0.0, dx=0.0):
    """The motion turned about the vertical (y) through the origin, then moved (a camera's arbitrary world)."""
    q = rotations.from_axis_angle(np.array([0.0, 1.0, 0.0]), np.radians(yaw_deg))
    root_pos = rotations.rotate(q, motion.root_pos) + np.array([dx, dy, 0.0])
    return replace(motion, root_pos=root_pos, root_rot=rotations.multiply(q, motion.root_rot), loop="none")


def lowest_foot(motion):
    pos, _ = motion.body_positions()
    return pos[:, foot_indices(motion.skeleton), 1].min()


def test_grounding_puts_the_lowest_foot_where_the_character_stands(walk):
    stand = standing_foot_height(walk.skeleton)
    assert 0.03 < stand < 0.1  # the ankle of the humanoid standing at its spawn height
    for dy in (-0.1, 0.0, 0.4):  # under the floor (within tolerance), on it, above it (a raised floor)
        grounded, lift = ground(shifted(walk, dy), CHECKS, "walk")
        assert lowest_foot(grounded) == pytest.approx(stand, abs=1e-9)
        assert lift == pytest.approx(stand - lowest_foot(walk) - dy, abs=1e-9)
        np.testing.assert_allclose(grounded.pose, walk.pose)  # only the root moves, and only vertically
        np.testing.assert_allclose(np.delete(grounded.root_pos, 1, axis=1), np.delete(walk.root_pos, 1, axis=1))


def test_one_shot_reference_ends_its_episodes_with_the_clip(walk):
    ref, made = prepare_reference(shifted(walk, 0.02), ImitateClip(frames=(5, 30)), CHECKS, "walk")
    assert ref.loop == "none" and ref.n_frames == 25 and made["first_frame"] == 5
    np.testing.assert_allclose(ref.pose, walk.pose[5:30])
    env = ImitationEnv(ref, EnvSettings(state_init="start", early_termination=False))
    env.reset(seed=0)
    steps, truncated = 0, False
    while not truncated:
        *_, truncated, _ = env.step(np.zeros(env.action_space.shape))
        steps += 1
    env.close()
    assert steps == round(ref.duration * 30)  # the episode ends at the clip's last frame, not after 20 s


def test_cyclic_reference_closes_its_loop_and_repeats(walk):
    # a reconstruction of one cycle: its last frame turned 20 degrees and raised 3 cm from its first
    raw = replace(walk, loop="none")
    drift = np.linspace(0.0, 1.0, raw.n_frames)
    turn = rotations.from_axis_angle(np.array([0.0, 1.0, 0.0]), np.radians(20.0) * drift)
    raw = replace(
        raw, root_rot=rotations.multiply(turn, raw.root_rot), root_pos=raw.root_pos + np.outer(drift, [0.0, 0.03, 0.0])
    )
    ref, made = prepare_reference(raw, ImitateClip(cyclic=True), CHECKS, "walk")
    assert ref.loop == "wrap" and made["loop"] == "wrap"
    jq = ref.joint_quaternions()
    assert np.degrees(rotations.angle_between(jq[0], jq[-1])).max() < 1e-6
    assert np.degrees(rotations.angle_between(ref.root_rot[0], ref.root_rot[-1])) < 1e-6
    assert ref.root_pos[-1, 1] == pytest.approx(ref.root_pos[0, 1])
    h = np.degrees(heading_angle(ref.root_rot, "y"))
    assert (
        abs(h[-1] - h[0]) < 1e-6
        and abs(np.degrees(heading_angle(raw.root_rot[-1], "y") - heading_angle(raw.root_rot[0], "y"))) > 15
    )
    # the middle frames change by a part of the fix only
    mid = ref.n_frames // 2
    assert 5 < np.degrees(rotations.angle_between(ref.root_rot[mid], raw.root_rot[mid])) < 15
    track = ReferenceTrack(ref, 30.0)
    t = 0.3
    again = track.frame(ref.duration + t)
    np.testing.assert_allclose(again.joint_rot, track.frame(t).joint_rot, atol=1e-9)
    travel = ref.root_pos[-1] - ref.root_pos[0]
    np.testing.assert_allclose(again.root_pos - track.frame(t).root_pos, [travel[0], 0.0, travel[2]], atol=1e-9)
    # a cyclic clip that already closes is left as it is
    closed = close_loop(ref)
    np.testing.assert_allclose(closed.pose, ref.pose, atol=1e-9)


def test_too_short_reference_is_refused_naming_the_clip_and_fix(walk):
    with pytest.raises(
        ReferenceError,
        match=r"clip 'hop': the reference is 10 frames \(0.30 s at 30 fps\).*"
        r"imitate.reference.min_seconds = 0.5 s.*imitate.clips.hop.frames",
    ):
        prepare_reference(walk, ImitateClip(frames=(0, 10)), CHECKS, "hop")
    with pytest.raises(ReferenceError, match=r"frames \[30, 60\) lies outside .* 39 frames"):
        prepare_reference(walk, ImitateClip(frames=(30, 60)), CHECKS, "hop")


def test_sinking_reference_is_refused_naming_the_frame(walk):
    sunk = shifted(walk, -0.5)
    pos, _ = sunk.body_positions()
    feet = pos[3:, foot_indices(walk.skeleton), 1]  # the frames imitated: from 3 on
    frame = int(np.unravel_index(np.argmin(feet), feet.shape)[0])
    with pytest.raises(
        ReferenceError,
        match=rf"clip 'walk': the reference sinks 0.5\d m below the floor at frame "
        rf"{frame + 3} \(.*_ankle\).*reconstruct.weights.ground.*sink_tolerance",
    ):
        prepare_reference(sunk, ImitateClip(frames=(3, None)), CHECKS, "walk")
    # one broken frame, 0.5 m down: that frame is named
    bad = replace(walk, root_pos=walk.root_pos.copy())
    bad.root_pos[12, 1] -= 0.5
    with pytest.raises(ReferenceError, match=r"sinks 0.5\d m below the floor at frame 12"):
        prepare_reference(bad, ImitateClip(), CHECKS, "walk")
    # a frame upside down and low while the feet stand elsewhere: a hand under the floor, named with its frame
    bad.root_pos[12, 1] = 0.2
    bad.root_rot[12] = rotations.multiply(
        rotations.from_axis_angle(np.array([1.0, 0.0, 0.0]), np.pi), walk.root_rot[12]
    )
    with pytest.raises(
        ReferenceError,
        match=r"with its feet on the floor, the reference's \w+ is 0.\d\d m under it "
        r"at frame 12",
    ):
        prepare_reference(bad, ImitateClip(), CHECKS, "walk")


def test_two_ground_levels_are_refused_with_the_part_on_one_level(walk):
    # a walk on a 1 m wall, then on the ground (a cut, like stepping off)
    wall = replace(walk, loop="none", root_pos=walk.root_pos + [0.0, 1.0, 0.0])
    both = replace(
        wall,
        root_pos=np.concatenate([wall.root_pos, walk.root_pos[1:] + wall.root_pos[-1] * [1, 0, 1]]),
        root_rot=np.concatenate([wall.root_rot, walk.root_rot[1:]]),
        pose=np.concatenate([wall.pose, walk.pose[1:]]),
    )
    with pytest.raises(
        ReferenceError,
        match=r"ground under the body is at 1.\d\d m around frame \d+ and at 0.0\d m "
        r"around frame \d+.*imitate.clips.wall.frames: \[(0, 3\d|2\d, 7\d)\] is the longest part",
    ):
        prepare_reference(both, ImitateClip(), CHECKS, "wall")
    assert one_level_span(np.array([1.0, 1.0, 1.1, 0.0, 0.05, 0.0, 0.0, 0.02]), 0.3) == (3, 8)


def one_walk_clip(**imitate) -> Params:
    """Params with one clip, "x", filmed from the mocap walk and learned as a cycle (`imitate`: more settings)."""
    return Params.model_validate(
        {
            "clips": {"x": {"source": "mocap:walk"}},
            "render": {"clips": ["x"]},
            "pose": {"clips": ["x"]},
            "reconstruct": {"clips": ["x"]},
            "imitate": {"clips": {"x": {"cyclic": True}}, **imitate},
        }
    )


def test_nan_in_a_reconstruction_is_refused_and_nothing_trained_is_lost(tmp_path, monkeypatch, walk):
    monkeypatch.chdir(tmp_path)
    params = one_walk_clip()
    save_npz(walk, paths.reconstructed_motion("x", ".npz"))
    save_npz(walk, paths.mocap_motion("walk"))
    motion, made, ref_file = make_reference(params, "x", "video")
    assert ref_file == paths.policy_dir("x") / "reference.npz" and made["loop"] == "wrap"
    checkpoint = paths.policy_dir("x") / "checkpoints" / "000000001024" / "model.zip"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.write_bytes(b"trained")
    before = ref_file.read_bytes()
    # a NaN at frame 7 of the reconstruction (as a hand-edited or foreign file could hold)
    path = paths.reconstructed_motion("x", ".npz")
    arrays = dict(np.load(path))
    arrays["root_pos"][7, 1] = np.nan
    np.savez(path, **arrays)
    with pytest.raises(
        ReferenceError,
        match=r"clip 'x': .*x.npz: motion 'walk': root_pos has a non-finite value at "
        r"frame 7.*dvc repro reconstruct@x",
    ):
        make_reference(params, "x", "video")
    assert checkpoint.read_bytes() == b"trained" and ref_file.read_bytes() == before
    # unchanged content is not rewritten (the training's resume check compares content)
    save_npz(walk, path)
    mtime = ref_file.stat().st_mtime_ns
    make_reference(params, "x", "video")
    assert ref_file.stat().st_mtime_ns == mtime
    # the oracle tracks the mocap as it is, looped as the clip's video policy is: cyclic...
    oracle, made, _ = make_reference(params, "x", "mocap")
    np.testing.assert_allclose(oracle.pose, load_mocap("walk").pose)
    assert made["loop"] == oracle.loop == "wrap"
    # ... or played once (the mocap file loops, the clip is one-shot: the same task as from its video)
    once = params.model_copy(update={"imitate": params.imitate.model_copy(update={"clips": {"x": ImitateClip()}})})
    oracle, made, _ = make_reference(once, "x", "mocap")
    np.testing.assert_allclose(oracle.pose, load_mocap("walk").pose)
    assert made["loop"] == oracle.loop == "none"


def test_a_reference_rebuilt_within_a_rounding_of_the_stored_one_keeps_it(tmp_path, monkeypatch, walk):
    """Another processor's rounding moves a rebuilt reference by millimetres: the stored one (its policy's) is kept,
    the report says how far apart they were; a real change beyond `SAME_REFERENCE_M` replaces it."""
    from sfv.imitate.stage import SAME_REFERENCE_M, reference_distance

    monkeypatch.chdir(tmp_path)
    params = one_walk_clip(physical={"enabled": False})  # its optimiser's rounding aside
    path = paths.reconstructed_motion("x", ".npz")
    save_npz(walk, path)
    stored, made, ref_file = make_reference(params, "x", "video")
    assert "stored_kept_rebuilt_apart_m" not in made
    before = ref_file.read_bytes()

    def rebuilt_with(turn: float):
        save_npz(replace(walk, pose=walk.pose + turn), path)  # every joint turned a little
        return make_reference(params, "x", "video")

    kept, made, _ = rebuilt_with(0.001)
    assert ref_file.read_bytes() == before and kept.fingerprint() == stored.fingerprint()
    assert 0 < made["stored_kept_rebuilt_apart_m"] <= SAME_REFERENCE_M
    changed, made, _ = rebuilt_with(0.03)
    assert ref_file.read_bytes() != before and "stored_kept_rebuilt_apart_m" not in made
    assert reference_distance(changed, stored) > SAME_REFERENCE_M
    assert load_motion(ref_file).fingerprint() == changed.fingerprint()
    assert reference_distance(changed, replace(changed, fps=changed.fps * 2)) == float("inf")


def test_end_to_end_measure_ignores_the_cameras_world_and_finds_known_errors(walk):
    truth = motion_states(walk)
    # the same motion in another world (turned 70 degrees, moved): no error, no drift
    moved = motion_states(shifted(walk, 0.3, yaw_deg=70.0, dx=5.0))
    assert body_error(moved, truth, "y").max() < 1e-9
    assert root_drift(moved, truth, "y").max() < 1e-9
    # one body of 16 off by 16 cm along the root's heading: the mean is 1 cm at every frame
    off = {k: v.copy() for k, v in moved.items()}
    forward = rotations.rotate(off["root_rot"], np.array([1.0, 0.0, 0.0]))
    forward[:, 1] = 0.0
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    off["body_pos"][:, 5] += 0.16 * forward
    assert len(walk.skeleton.bodies) == 16
    np.testing.assert_allclose(body_error(off, truth, "y"), 0.01, atol=1e-9)
    # a root that lags 10 cm per second behind, along its own forward direction: drift grows 0.1 m/s
    lag = {k: v.copy() for k, v in moved.items()}
    start_forward = rotations.rotate(moved["root_rot"][0], np.array([1.0, 0.0, 0.0]))
    start_forward[1] = 0.0
    start_forward /= np.linalg.norm(start_forward)
    shift = -0.1 * walk.times[:, None] * start_forward
    lag["root_pos"] = lag["root_pos"] + shift
    lag["body_pos"] = lag["body_pos"] + shift[:, None]
    np.testing.assert_allclose(root_drift(lag, truth, "y"), 0.1 * walk.times, atol=1e-9)
    assert body_error(lag, truth, "y").max() < 1e-9
    # fidelity looks the truth up at times (cycles continue) from an offset
    later = {k: v[10:38] for k, v in motion_states(shifted(walk, 0.0, yaw_deg=-40.0)).items()}
    f = fidelity(later, walk.times[:28], walk, "y", 30.0, offset=10 / 30)
    assert f["body_error_m"] < 1e-6 and f["root_drift_final_m"] < 1e-6
    late = fidelity(later, walk.times[:28], walk, "y", 30.0, offset=0.0)
    assert late["body_error_m"] > 0.05  # misaligned in time: a real error


def test_a_reference_with_a_non_foot_body_on_the_ground_is_refused_with_the_fix():
    from sfv.imitate.reference_clip import ReferenceError, check_ground_contacts

    cartwheel = load_mocap("cartwheel")
    with pytest.raises(
        ReferenceError,
        match=r"left_wrist at frame 61 \(1.02 s\).*ground_contacts: "
        r"\[right_wrist, left_wrist\]",
    ):
        check_ground_contacts(cartwheel, [], "cartwheel")
    check_ground_contacts(cartwheel, ["right_wrist", "left_wrist"], "cartwheel")  # allowed: no error
    check_ground_contacts(load_mocap("walk"), [], "walk")  # only the feet touch
