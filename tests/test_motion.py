"""Motion: DeepMimic text and npz round trips, resampling, velocities and bad-input errors."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from sfv import rotations
from sfv.io import atomic_path
from sfv.mocap import load_mocap, mocap_path
from sfv.motion import Motion, MotionFormatError, close_loop, load_deepmimic, load_motion, load_npz, repeat_cycles


@pytest.fixture(scope="module")
def walk():
    return load_mocap("walk")


def assert_same_motion(a: Motion, b: Motion, atol=1e-12):
    assert a.fps == b.fps and a.loop == b.loop and a.n_frames == b.n_frames
    np.testing.assert_allclose(a.root_pos, b.root_pos, atol=atol)
    np.testing.assert_allclose(a.root_rot, b.root_rot, atol=atol)
    np.testing.assert_allclose(a.pose, b.pose, atol=atol)


def test_load_matches_file_columns(walk):
    rows = np.array(json.loads(mocap_path("walk").read_text())["Frames"])
    assert walk.fps == 30.0 and walk.loop == "wrap" and walk.n_frames == len(rows)
    np.testing.assert_allclose(walk.root_pos, rows[:, 1:4])
    # root quaternion is w,x,y,z in the file and x,y,z,w inside (sign and norm kept)
    np.testing.assert_allclose(walk.root_rot, rotations.normalize(rows[:, [5, 6, 7, 4]]), atol=1e-12)
    knee = walk.skeleton.dof_slices["right_knee"]
    np.testing.assert_allclose(walk.pose[:, knee][:, 0], rows[:, 8 + 4 + 4 + 4])  # after chest, neck, right hip


@pytest.mark.parametrize("suffix", [".txt", ".npz"])
def test_round_trip(walk, tmp_path, suffix):
    path = walk.save(tmp_path / f"walk{suffix}")
    back = load_motion(path)
    assert_same_motion(walk, back)


def test_deepmimic_output_plays_in_the_original_format(walk, tmp_path):
    data = json.loads(walk.save(tmp_path / "w.txt").read_text())
    assert data["Loop"] == "wrap" and len(data["Frames"][0]) == 44
    assert data["Frames"][0][0] == pytest.approx(1 / 30) and data["Frames"][-1][0] == 0.0


def test_uneven_durations_are_resampled(tmp_path):
    roll = load_mocap("roll")  # pybullet_data's roll has one frame of double length
    assert roll.fps == 60.0
    raw = np.array(json.loads(mocap_path("roll").read_text())["Frames"])
    assert roll.duration == pytest.approx(raw[:-1, 0].sum(), abs=1 / 60)
    np.testing.assert_allclose(np.linalg.norm(roll.root_rot, axis=1), 1.0)


def test_resample_keeps_motion(walk):
    up = walk.resample(120)
    assert up.fps == 120 and up.n_frames == 4 * (walk.n_frames - 1) + 1
    np.testing.assert_allclose(up.root_pos[::4], walk.root_pos, atol=1e-9)
    np.testing.assert_allclose(np.abs(np.sum(up.root_rot[::4] * walk.root_rot, axis=1)), 1.0, atol=1e-9)
    down = up.resample(30)
    np.testing.assert_allclose(down.pose, walk.pose, atol=1e-9)
    # between frames, spherical joints are slerped (unit) and halfway in angle
    sl = walk.skeleton.dof_slices["right_hip"]
    mid = up.pose[2, sl]
    assert np.linalg.norm(mid) == pytest.approx(1.0)
    assert rotations.angle_between(walk.pose[0, sl], mid) == pytest.approx(
        0.5 * rotations.angle_between(walk.pose[0, sl], walk.pose[1, sl]), abs=1e-9
    )


def test_velocities_of_known_motion(humanoid):
    T, fps = 10, 30.0
    t = np.arange(T) / fps
    root_pos = np.stack([2.0 * t, np.full(T, 0.9), np.zeros(T)], axis=1)  # 2 m/s along x
    root_rot = rotations.from_axis_angle(np.array([0, 1.0, 0]), 0.5 * t)  # 0.5 rad/s about y
    pose = np.tile(humanoid.identity_pose(), (T, 1))
    pose[:, humanoid.dof_slices["right_knee"]] = -1.5 * t[:, None]  # knee at -1.5 rad/s
    m = Motion(humanoid, fps, root_pos, root_rot, pose, loop="none")
    v = m.velocities()
    np.testing.assert_allclose(v["root_lin"], np.tile([2.0, 0, 0], (T, 1)), atol=1e-9)
    np.testing.assert_allclose(v["root_ang"], np.tile([0, 0.5, 0], (T, 1)), atol=1e-9)
    knee = humanoid.joint_names.index("right_knee")
    axis = humanoid.bodies[humanoid.index("right_knee")].axis
    np.testing.assert_allclose(v["joints"][:, knee], np.tile(-1.5 * axis, (T, 1)), atol=1e-9)
    assert np.abs(np.delete(v["joints"], knee, axis=1)).max() < 1e-12


# --- bad input -------------------------------------------------------------------------------
def _motion_file(tmp_path, frames, loop="wrap", name="m.txt"):
    p = tmp_path / name
    body = ",\n".join(json.dumps(r) if not isinstance(r, str) else r for r in frames)
    p.write_text('{\n"Loop": "%s",\n"Frames": [\n%s\n]\n}\n' % (loop, body))
    return p


def test_not_json(tmp_path):
    p = tmp_path / "video.txt"
    p.write_bytes(b"\x00\x01 not json")
    with pytest.raises(MotionFormatError, match=r"video.txt: not a DeepMimic motion file \(not JSON"):
        load_deepmimic(p)


def test_json_without_frames(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text('{"Loop": "wrap"}')
    with pytest.raises(MotionFormatError, match='no "Frames" key'):
        load_deepmimic(p)


def test_wrong_row_length_names_line(walk, tmp_path):
    rows = json.loads(walk.save(tmp_path / "w.txt").read_text())["Frames"]
    rows[5] = rows[5][:-1]
    p = _motion_file(tmp_path, rows)
    with pytest.raises(MotionFormatError, match=r"m.txt:9: frame 5 has 43 numbers; a humanoid frame has 44"):
        load_deepmimic(p)


def test_nan_names_line_and_column(walk, tmp_path):
    rows = [json.dumps(r) for r in json.loads(walk.save(tmp_path / "w.txt").read_text())["Frames"]]
    cols = rows[2].strip("[]").split(", ")
    cols[10] = "NaN"
    rows[2] = "[" + ", ".join(cols) + "]"
    with pytest.raises(MotionFormatError, match=r"m.txt:6: frame 2: column 10 is nan"):
        load_deepmimic(_motion_file(tmp_path, rows))


def test_bad_loop_and_missing_file(walk, tmp_path):
    rows = json.loads(walk.save(tmp_path / "w.txt").read_text())["Frames"]
    with pytest.raises(MotionFormatError, match="Loop"):
        load_deepmimic(_motion_file(tmp_path, rows, loop="forever"))
    with pytest.raises(MotionFormatError, match="not found"):
        load_motion(tmp_path / "nope.txt")


def test_npz_unknown_joint(walk, tmp_path):
    path = walk.save(tmp_path / "w.npz")
    z = dict(np.load(path))
    z["joint_names"] = np.array(["tail"] + list(z["joint_names"][1:]))
    np.savez(tmp_path / "bad.npz", **z)
    with pytest.raises(MotionFormatError, match=r"bad.npz: unknown joint 'tail' for skeleton 'humanoid'"):
        load_npz(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_text("hello")
    with pytest.raises(MotionFormatError, match="junk.npz: not an npz file"):
        load_npz(tmp_path / "junk.npz")


def test_motion_rejects_nan_and_bad_shapes(walk):
    pose = walk.pose.copy()
    pose[3, 0] = np.nan
    with pytest.raises(MotionFormatError, match="pose has a non-finite value at frame 3"):
        replace(walk, pose=pose)
    with pytest.raises(MotionFormatError, match=r"pose has shape \(39, 35\), expected \(39, 36\)"):
        replace(walk, pose=walk.pose[:, :35])


def test_failed_write_leaves_previous_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_write_gets_the_mode_of_a_plain_write(tmp_path):
    """mkstemp's private 0600 would otherwise reach every output (other users, and DVC's cache, see it)."""
    import os

    from sfv.io import write_text

    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = write_text(tmp_path / "atomic.txt", "x")
    assert os.stat(atomic).st_mode & 0o777 == os.stat(plain).st_mode & 0o777


def test_library_catalogue_of_a_known_motion():
    """A hand-made clip: 1 m of travel along x in 1 s at constant speed, the root 0.9 m up."""
    from sfv.mocap import library_entry, library_metrics

    walk = load_mocap("walk")
    T = 31
    root = np.zeros((T, 3))
    root[:, 0] = np.linspace(0.0, 1.0, T)
    root[:, 1] = 0.9
    m = Motion(
        walk.skeleton,
        30.0,
        root,
        np.tile([0, 0, 0, 1.0], (T, 1)),
        np.tile(walk.skeleton.identity_pose(), (T, 1)),
        name="glide",
    )
    e = library_entry(m)
    assert (e["frames"], e["fps"], e["duration_s"], e["root_travel_m"]) == (31, 30.0, 1.0, 1.0)
    assert e["max_root_speed_mps"] == pytest.approx(1.0, abs=1e-3)
    assert e["lowest_body_origin_m"] < 0.9  # the feet hang below the root
    total = library_metrics({"glide": e, "walk": library_entry(walk)})
    assert total["clips"] == 2 and total["total_frames"] == 31 + walk.n_frames
    assert total["max_root_speed_mps"] == max(e["max_root_speed_mps"], library_entry(walk)["max_root_speed_mps"])


def _largest_turn_deg(motion: Motion) -> np.ndarray:
    """Per frame step (T-1,), the largest turn of any joint between consecutive frames (degrees)."""
    sk = motion.skeleton
    turns = []
    for sl in sk.quaternion_slices:
        d = rotations.multiply(rotations.conjugate(motion.pose[:-1, sl]), motion.pose[1:, sl])
        turns.append(np.degrees(2 * np.arccos(np.clip(np.abs(d[:, 3]), 0.0, 1.0))))
    return np.max(turns, axis=0)


def test_a_looping_motion_repeated_runs_stride_after_stride_without_a_jump(walk):
    """`repeat_cycles`: a video of several strides. Each cycle is the loop-closed cycle moved on by its travel, the
    seams turn no joint further than a frame inside the cycle does (the raw mocap's own seam jumps), and one cycle is
    the motion untouched."""
    assert repeat_cycles(walk, 1) is walk
    three = repeat_cycles(walk, 3)
    closed = close_loop(walk)
    n = walk.n_frames - 1
    assert three.n_frames == 3 * n + 1 and three.loop == "wrap" and three.fps == walk.fps
    travel = closed.root_pos[-1] - closed.root_pos[0]
    assert abs(travel[1]) < 1e-9 and travel[0] > 1.0  # the humanoid is y-up; walk goes along +x
    for k in range(3):
        rows = slice(k * n, (k + 1) * n)
        np.testing.assert_allclose(three.root_pos[rows], closed.root_pos[:-1] + k * travel, atol=1e-12)
        np.testing.assert_allclose(three.pose[rows], closed.pose[:-1], atol=1e-12)
    np.testing.assert_allclose(three.root_pos[-1], walk.root_pos[0] + 3 * travel, atol=1e-9)
    inside = _largest_turn_deg(closed).max()
    assert _largest_turn_deg(three).max() <= inside + 1e-6
    raw_seam = _largest_turn_deg(
        replace(walk, pose=walk.pose[[-1, 0]], root_pos=walk.root_pos[[-1, 0]], root_rot=walk.root_rot[[-1, 0]])
    )[0]
    assert raw_seam > inside  # what closing the loop first spares the video
    with pytest.raises(ValueError, match="at least 1"):
        repeat_cycles(walk, 0)
    with pytest.raises(MotionFormatError, match=r"'walk': does not loop"):
        repeat_cycles(replace(walk, loop="none"), 2)
