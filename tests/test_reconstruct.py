"""Motion reconstruction core: the loss terms, and the fit on the humanoid recovering a mocap clip from
noisy 3D joints (with an outlier) better and much smoother than per-frame IK."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from sfv.config import FitSettings, FitWeights, TargetSettings
from sfv.reconstruct import losses
from sfv.reconstruct.fit import MotionVariables, fit, reconstruct

JOINTS = [
    "root",
    "chest",
    "neck",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
]


def test_robust_loss_saturates():
    r = torch.tensor([0.0, 0.01, 0.1, 1.0, 10.0])
    out = losses.robust(r, 0.1)
    assert out[0] == 0 and torch.all(out[1:] > out[:-1])
    assert out[1] == pytest.approx(0.01**2, rel=0.02)  # quadratic when small
    assert out[-1] < 0.1**2 and out[-1] - out[-2] < 1e-4  # flat when large


def test_frame_weights_follow_sfv():
    from sfv.reconstruct.stage import frame_weights

    w = frame_weights(np.array([0.0, 10.0, 20.0]), e_max=10.0)
    assert np.allclose(w, np.exp(-np.array([0.0, 1.0, 4.0])))


def test_smoothness_and_jitter_are_zero_for_constant_velocity():
    t = torch.arange(10, dtype=torch.float64)[:, None, None]
    line = torch.cat([t * 0.1, t * 0.0, t * 0.02], dim=-1).expand(10, 4, 3)
    assert losses.smoothness(line, 30) < 1e-20 and losses.jitter(line, 30) < 1e-10
    bumped = line.clone()
    bumped[5, 0, 0] += 0.01
    assert losses.jitter(bumped, 30) > 0 and losses.smoothness(bumped, 30) > 0


def test_ground_and_sliding():
    assert losses.ground_penetration(torch.tensor([0.1, 0.0, -0.2])) == pytest.approx(0.04 / 3)
    feet = torch.tensor([[[0.0, 0.0]], [[0.1, 0.0]], [[0.1, 0.0]]])
    assert losses.foot_sliding(feet, torch.ones(3, 1), fps=10) == pytest.approx(0.5)  # (1 m/s)^2, then 0
    assert losses.foot_sliding(feet, torch.zeros(3, 1), fps=10) == 0  # in the air: free to move


def test_keypoint_term_weights_by_confidence():
    pred = torch.zeros(2, 2, 3)
    target = torch.zeros(2, 2, 3)
    target[0, 0, 0] = 0.05
    conf = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    assert losses.keypoint_3d(pred, target, conf) == 0  # the wrong keypoint has no confidence
    assert losses.keypoint_3d(pred, target, torch.ones(2, 2)) > 0


def test_variables_round_trip_a_motion(humanoid):
    from sfv.mocap import load_mocap

    m = load_mocap("cartwheel")
    v = MotionVariables.from_motion(m)
    back = v.to_motion(m.fps)
    pos, _ = m.body_positions()
    assert np.allclose(back.body_positions()[0], pos, atol=1e-9)
    assert torch.allclose(v.positions(), torch.as_tensor(pos), atol=1e-9)


def _noisy_walk():
    from sfv.mocap import load_mocap

    m = load_mocap("walk")
    pos, _ = m.body_positions()
    bodies = [m.skeleton.index(n) for n in JOINTS]
    truth = pos[:, bodies]
    noisy = truth + np.random.default_rng(0).normal(scale=0.03, size=truth.shape)
    noisy[10, JOINTS.index("right_ankle")] += [0.4, 0.0, 0.0]  # one wild keypoint
    rest = replace(
        m,
        pose=np.tile(m.skeleton.identity_pose(), (m.n_frames, 1)),
        root_rot=np.tile([0, 0, 0, 1.0], (m.n_frames, 1)),
        root_pos=noisy[:, 0],
    )
    return m, bodies, truth, noisy, rest


def _root_aligned_error(a, b):
    return float(np.linalg.norm((a - a[:, :1]) - (b - b[:, :1]), axis=-1).mean())


def test_reconstruction_beats_per_frame_ik_on_noisy_mocap():
    m, bodies, truth, noisy, rest = _noisy_walk()
    smooth, ik, curve = reconstruct(rest, noisy, bodies)
    p_smooth, p_ik = smooth.body_positions()[0][:, bodies], ik.body_positions()[0][:, bodies]
    j_smooth = losses.jitter(torch.as_tensor(p_smooth), m.fps).item()
    j_ik = losses.jitter(torch.as_tensor(p_ik), m.fps).item()
    e_smooth, e_ik = _root_aligned_error(p_smooth, truth), _root_aligned_error(p_ik, truth)
    assert j_smooth * 5 <= j_ik, (j_smooth, j_ik)  # the bar: jitter down at least 5x
    assert e_smooth < e_ik, (e_smooth, e_ik)  # and closer to the mocap
    assert e_smooth < 0.03  # 3 cm noise on every target, the root's too (root-relative targets carry it twice)
    ankle = JOINTS.index("right_ankle")
    assert np.linalg.norm(p_smooth[10, ankle] - truth[10, ankle]) < 0.06  # the outlier did not drag it
    assert curve[-1] < curve[0]
    again, _, _ = reconstruct(rest, noisy, bodies)  # deterministic
    assert np.array_equal(again.pose, smooth.pose)
    reused, _, tail = reconstruct(rest, noisy, bodies, ik=ik)  # the same IK phase, passed in: the same result
    assert np.array_equal(reused.pose, smooth.pose) and tail == curve[-len(tail) :]


def test_joint_limits_and_foot_contact_terms():
    lower, upper = torch.tensor([-3.14, 0.0]), torch.tensor([0.0, 3.14])
    inside = torch.tensor([[-1.0, 1.0], [-0.2, 0.3]])
    assert losses.joint_limits(inside, lower, upper).item() == 0.0
    knee_forward = torch.tensor([[0.5, 1.0]])  # a knee bent the wrong way by 0.5 rad
    assert np.isclose(losses.joint_limits(knee_forward, lower, upper).item(), 0.25 / 2)
    # a foot standing still on the ground, then lifted and swung: planted only while low and still
    from sfv.reconstruct.contact import foot_contact

    T = 20
    heights = np.full((T, 1), 0.06)
    heights[10:] = 0.3
    horizontal = np.zeros((T, 1, 2))
    horizontal[10:, 0, 0] = np.arange(10) * 0.05  # 1.5 m/s at 30 fps
    contact = foot_contact(heights, horizontal, 30, 0.12, 0.6)
    assert contact[:8, 0].all() and not contact[10:, 0].any()
    low_but_fast = foot_contact(np.full((T, 1), 0.06), horizontal, 30, 0.12, 0.6)
    assert not low_but_fast[12:, 0].any()


def test_plausibility_terms_act_in_the_fit():
    """Per-frame IK of knee-height targets that a forward knee bend fits as well as the right one; the
    joint-limit term keeps the knees within range. A planted foot with jittery targets holds still with the
    foot-sliding term."""
    from sfv.reconstruct.evaluate import foot_sliding_speed, limit_violations
    from sfv.reconstruct.fit import per_frame, planted_feet

    m, bodies, truth, noisy, rest = _noisy_walk()
    free = FitSettings(weights=FitWeights(joint_limits=0.0, foot_sliding=0.0))
    limited = FitSettings(weights=FitWeights(joint_limits=1.0, foot_sliding=0.0))
    assert limit_violations(m) == 0  # the mocap keeps its knees and elbows in range
    _, ik_free, _ = reconstruct(rest, noisy, bodies, settings=per_frame(free))
    _, ik_limited, _ = reconstruct(rest, noisy, bodies, settings=per_frame(limited))
    assert limit_violations(ik_limited) < limit_violations(ik_free)
    assert limit_violations(ik_limited) == 0
    planted = planted_feet(m, FitSettings())  # the mocap's own footfalls
    assert 0.2 < planted.mean() < 0.8
    no_slide, _, _ = reconstruct(rest, noisy, bodies, settings=limited)
    with_slide, _, _ = reconstruct(rest, noisy, bodies, settings=limited.with_weights(foot_sliding=1e-2))
    assert foot_sliding_speed(with_slide, planted) < 0.8 * foot_sliding_speed(no_slide, planted)


def test_root_trajectory_error_ignores_heading_and_origin():
    from sfv.reconstruct.evaluate import root_trajectory_error

    path = np.random.default_rng(1).normal(size=(30, 3))
    c, s = np.cos(1.2), np.sin(1.2)
    turned = path @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]).T + [4.0, 0.5, -2.0]
    assert root_trajectory_error(turned, path) < 1e-9
    assert np.isclose(root_trajectory_error(path + [0, 0.1, 0] * (np.arange(30)[:, None] % 2), path), 0.05, atol=1e-9)


def test_outlier_frames_are_short_runs_between_flips(humanoid):
    """A pose that turns 180 degrees for 4 frames and back is an outlier; a cartwheel and a roll (the
    body upside down, turning fast), a single turn that stays, and missing frames are not."""
    from sfv.keypoints import body_map
    from sfv.mocap import load_mocap
    from sfv.reconstruct.stage import outlier_frames

    mapped = body_map(humanoid)
    for clip in ("roll", "backflip"):
        m = load_mocap(clip)
        moving = m.body_positions()[0][:, [m.skeleton.index(n) for n in mapped.names]]
        assert not outlier_frames(moving, np.ones(len(moving), dtype=bool), mapped).any(), clip
    m = load_mocap("cartwheel")
    bodies = [m.skeleton.index(n) for n in mapped.names]
    joints = m.body_positions()[0][:, bodies]
    detected = np.ones(len(joints), dtype=bool)
    assert not outlier_frames(joints, detected, mapped).any()
    flipped = joints.copy()
    root = joints[:, :1]
    turn = np.diag([-1.0, 1.0, -1.0])  # 180 degrees about the vertical
    flipped[20:24] = (joints[20:24] - root[20:24]) @ turn.T + root[20:24]
    out = outlier_frames(flipped, detected, mapped)
    assert np.flatnonzero(out).tolist() == [20, 21, 22, 23]
    stays = joints.copy()
    stays[20:] = (joints[20:] - root[20:]) @ turn.T + root[20:]  # turned for good: not short, not an outlier
    assert not outlier_frames(stays, detected, mapped).any()
    gap = detected.copy()
    gap[30:33] = False
    assert np.flatnonzero(outlier_frames(flipped, gap, mapped)).tolist() == [20, 21, 22, 23]


def test_the_fit_runs_on_its_own_thread_count_and_puts_it_back():
    from sfv.reconstruct import fit as fit_module

    seen = []
    before = torch.get_num_threads()
    with fit_module.torch_threads(1):
        seen.append(torch.get_num_threads())
    assert seen == [1] and torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with fit_module.torch_threads(1):
            raise RuntimeError("a failed fit")
    assert torch.get_num_threads() == before


def test_fit_refuses_bad_targets():
    m, bodies, truth, noisy, rest = _noisy_walk()
    with pytest.raises(ValueError, match=r"targets have shape \(39, 14, 3\), expected \(39, 15, 3\)"):
        fit(rest, noisy[:, 1:], bodies, settings=FitSettings(iterations=1))
    broken = noisy.copy()
    broken[7, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"target of body .* at frame 7 is not finite; give it confidence 0"):
        fit(rest, broken, bodies, settings=FitSettings(iterations=1))
    with pytest.raises(ValueError, match="optimizer\n  Input should be 'lbfgs' or 'adam'"):
        FitSettings(optimizer="sgd")  # refused where settings are made, before any fit
    conf = np.ones(noisy.shape[:2])
    conf[5, 3] = np.nan
    with pytest.raises(ValueError, match=r"confidence of body .* at frame 5 is not finite"):
        fit(rest, noisy, bodies, conf, settings=FitSettings(iterations=1))


def test_fit_stops_naming_the_term_that_went_non_finite(monkeypatch):
    m, bodies, truth, noisy, rest = _noisy_walk()
    monkeypatch.setattr(losses, "ground_penetration", lambda heights: heights.sum() * np.nan)
    with pytest.raises(
        FloatingPointError,
        match=r"the ground term is not finite at evaluation 0 \(every frame's "
        r"pose is finite\)",
    ):
        fit(rest, noisy, bodies, settings=FitSettings(iterations=3))


# --- camera and targets from poses ----------------------------------------------------------------------
def test_translation_from_2d_and_3d_is_exact_without_noise():
    from sfv.camera import intrinsics, perspective
    from sfv.reconstruct.camera import solve_translation

    rng = np.random.default_rng(3)
    K = intrinsics(640, 480, 45)
    xyz = rng.normal(scale=0.4, size=(20, 3))
    T = np.array([0.3, -0.2, 4.0])
    uv = perspective(xyz + T, np.array([K[0, 0], K[1, 1]]), K[:2, 2])
    assert np.allclose(solve_translation(uv, xyz, np.ones(20), K), T, atol=1e-9)
    w = np.ones(20)
    uv[3] += 500.0
    w[3] = 0.0  # a wild keypoint with no confidence changes nothing
    assert np.allclose(solve_translation(uv, xyz, w, K), T, atol=1e-9)


def _seen_along_ray(camera_points: np.ndarray) -> np.ndarray:
    """What a crop network says of landmarks (T, 33, 3) in camera coordinates: hip-centred, and turned as seen
    straight along the ray to the mid-hip (it never sees where its crop was in the image)."""
    from sfv.reconstruct.camera import ray_rotation

    mid_hip = camera_points[:, [23, 24]].mean(1, keepdims=True)
    return np.stack([(p - c) @ ray_rotation(c[0]) for p, c in zip(camera_points, mid_hip)])


def test_ray_rotation_turns_the_optical_axis_onto_the_ray():
    from sfv.reconstruct.camera import ray_rotation

    for d in ([0.3, -0.2, 1.0], [-1.0, 0.5, 0.2], [0.0, 0.0, 1.0], [1e-14, 0.0, 1.0]):
        R = ray_rotation(np.array(d))
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(R), 1.0)
        assert np.allclose(R @ [0.0, 0.0, 1.0], np.array(d) / np.linalg.norm(d), atol=1e-12)
    assert np.allclose(ray_rotation(np.array([0.0, 0.0, 2.0])), np.eye(3))
    # the smallest turn: a ray in the horizontal plane turns about the vertical (image y) axis only
    R = ray_rotation(np.array([0.5, 0.0, 1.0]))
    assert np.allclose(R @ [0.0, 1.0, 0.0], [0.0, 1.0, 0.0])


def test_a_body_seen_along_its_ray_is_placed_where_the_camera_saw_it():
    """A crop network's 3D pose is seen along the ray; turned back onto the ray, it projects exactly onto the
    2D keypoints, and the translation is exact. Taken as camera-aligned (no turn), it is not, and an
    off-centre body (here 25 degrees off the axis) comes out turned by the ray's angle."""
    from sfv.camera import intrinsics, perspective
    from sfv.reconstruct.camera import place_body, ray_rotation

    rng = np.random.default_rng(5)
    K = intrinsics(640, 480, 60)
    body = rng.normal(scale=0.3, size=(22, 3))
    body -= body.mean(0)
    T = np.array([1.6, -0.3, 3.5])  # 25 degrees right of the optical axis
    uv = perspective(body + T, np.array([K[0, 0], K[1, 1]]), K[:2, 2])
    seen = body @ ray_rotation(T)  # R^T applied to each point: the pose as the network sees it
    R, T_est = place_body(uv, seen, np.ones(22), K, ray_aligned=True, iterations=5)
    assert np.allclose(T_est, T, atol=1e-4) and np.allclose(seen @ R.T, body, atol=1e-4)
    R0, T0 = place_body(uv, seen, np.ones(22), K, ray_aligned=False)
    assert np.allclose(R0, np.eye(3))
    turned = np.degrees(np.arccos((np.trace(ray_rotation(T)) - 1) / 2))
    assert turned > 20 and np.linalg.norm(T0 - T) > 0.01


def test_field_of_view_is_told_where_the_person_crosses_the_image(humanoid):
    """Issue 18 point 3 on noise-free poses: a walk across the image filmed with a 60-degree and a 35-degree lens
    is read to within a degree; a jump filmed head-on (the person stays near the image centre) cannot tell the
    lens, and the assumed field of view stays."""
    from sfv.reconstruct.field_of_view import estimate_fov

    for fov, distance in ((60.0, 2.5), (35.0, 4.0)):
        m, poses = _filmed(humanoid, 640, 480, 30, fov=fov, azimuth=-90, error=False, distance=distance)
        est = estimate_fov(
            poses["keypoints_2d"], poses["keypoints_3d"], poses["confidence"], poses["detected"], 640, 480, assumed=45.0
        )
        assert est.estimated and est.sweep > 15, est.reason
        assert abs(est.fov - fov) < 1.0, (fov, est.fov)
    m, poses = _filmed(humanoid, 640, 480, 30, fov=30.0, azimuth=0, error=False, clip="jump", distance=7.0)
    est = estimate_fov(
        poses["keypoints_2d"], poses["keypoints_3d"], poses["confidence"], poses["detected"], 640, 480, assumed=45.0
    )
    assert not est.estimated and est.fov == 45.0 and est.sweep < 15
    assert "too little to tell" in est.reason


def test_the_sweep_is_an_angle_the_same_on_any_image_size():
    """The ray's sideways sweep, which decides whether the lens is estimated, depends on the angles the person
    is seen at, not on the image's size or aspect: the same angles in a landscape and a portrait video sweep
    alike (as a share of the width they would differ by 2.4 times)."""
    from sfv.camera import intrinsics
    from sfv.reconstruct.field_of_view import lateral_sweep

    angles = np.radians(np.linspace(-10.0, 10.0, 41))
    sweeps = []
    for width, height in ((640, 480), (1080, 1920)):
        K = intrinsics(width, height, 50.0)
        kp = np.zeros((len(angles), 33, 2))
        kp[:, 23:25, 0] = (K[0, 2] + K[0, 0] * np.tan(angles))[:, None]
        sweeps.append(lateral_sweep(kp, np.ones(len(angles), bool), width, height, 50.0))
    assert np.isclose(sweeps[0], sweeps[1]) and np.isclose(sweeps[0], 18.0, atol=0.01)  # 5th to 95th percentile


def _synthetic_poses(humanoid, elevation=10.0, clip="walk", roll=0.0, motion=None, azimuth=-60.0):
    """BlazePose-like arrays for the clip's mocap (or `motion`) filmed by a known camera: the humanoid's joints
    placed at the landmarks its keypoint map reads (the other body landmarks at the nearest joint)."""
    from sfv.camera import orbit_camera
    from sfv.keypoints import BLAZEPOSE33, body_map
    from sfv.mocap import load_mocap

    m = load_mocap(clip) if motion is None else motion
    pos = m.body_positions()[0] @ np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).T  # z-up world
    cam = orbit_camera(pos[:, 1].mean(0), 4.0, elevation, azimuth, 640, 480, 45, roll_deg=roll)
    landmark = {}
    for joint, names in body_map(humanoid).landmarks:
        if len(names) == 1:
            landmark[names[0]] = humanoid.index(joint)
    kp3_world = np.zeros((m.n_frames, 33, 3))
    for i, name in enumerate(BLAZEPOSE33):
        if name in landmark:
            kp3_world[:, i] = pos[:, landmark[name]]
        else:  # face, hands, feet: at the neck, wrists and ankles
            near = (
                "neck"
                if i < 11
                else (
                    "left_wrist"
                    if "left" in name and i < 23
                    else "right_wrist"
                    if i < 23
                    else "left_ankle"
                    if "left" in name
                    else "right_ankle"
                )
            )
            kp3_world[:, i] = pos[:, humanoid.index(near)]
    uv, _ = cam.project(kp3_world)
    return (
        m,
        pos,
        cam,
        {
            "keypoints_2d": uv,
            "keypoints_3d": _seen_along_ray(cam.to_camera(kp3_world)),
            "confidence": np.ones((m.n_frames, 33)),
            "detected": np.ones(m.n_frames, bool),
            "meta": {"clip": clip, "width": 640, "height": 480},
        },
    )


def test_camera_and_world_targets_from_synthetic_poses(humanoid):
    from sfv.reconstruct.evaluate import mpjpe
    from sfv.reconstruct.stage import prepare

    m, pos, cam, poses = _synthetic_poses(humanoid)
    targets = prepare(poses, humanoid, TargetSettings(vertical_fov=45, e_max=0.12))
    est = targets.camera
    assert np.nanmax(est.reprojection_error) < 1e-4  # px: the turn onto the ray converges by iteration
    # with the right field of view, depth from scale puts the body where the camera saw it
    hips_cam = cam.to_camera(pos[:, humanoid.index("root")])
    assert np.allclose(est.translation, hips_cam, atol=1e-6)
    # the world targets are the mocap up to a turn about the vertical and a shift; "up" is the median torso
    # direction, which leans a little in a walk: a few millimetres
    assert mpjpe(targets.world, m.body_positions()[0][:, targets.bodies]) < 10.0  # mm
    ankles = targets.world[:, [targets.bodies.index(humanoid.index(n)) for n in ("left_ankle", "right_ankle")], 1]
    assert abs(np.percentile(ankles, 5) - 0.058) < 1e-6  # the ground under the lowest ankles


@pytest.mark.parametrize("clip", ["kick", "jump"])
def test_level_camera_finds_up_where_the_torso_leans(humanoid, clip):
    """In a kick the torso leans back for much of the clip: its median direction tilts the world sideways
    in the image. Keeping the camera level (no roll) leaves only the pitch to the torso. In a jump the
    person lands a metre on: the feet at rest, before and after, fix the pitch; in the kick the standing
    foot never moves, so they cannot, and the torso's pitch stays."""
    from sfv.keypoints import body_map
    from sfv.reconstruct.camera import Lens, estimate_camera

    m, pos, cam, poses = _synthetic_poses(humanoid, clip=clip)
    true_up = cam.R @ np.array([0.0, 0.0, 1.0])  # the z-up world's up in camera coordinates
    args = (
        poses["keypoints_2d"],
        poses["keypoints_3d"],
        poses["confidence"],
        poses["detected"],
        Lens.of(640, 480, 45),
        body_map(humanoid),
    )
    angle = lambda est: np.degrees(np.arccos(np.clip(est.camera.R[:, 1] @ true_up, -1, 1)))  # noqa: E731
    torso = angle(estimate_camera(*args, level=False))
    level_est = estimate_camera(*args, level=True, still_foot_speed=0.0)
    level, feet = angle(level_est), angle(estimate_camera(*args, level=True, fps=m.fps))
    print(f"{clip}, up error: torso {torso:.1f} deg, level camera {level:.1f} deg, re-pitched by still feet {feet:.1f}")
    assert level_est.camera.R[0, 1] == 0.0  # up has no image-x part
    if clip == "kick":
        assert level < torso - 10  # the sideways part of the lean is gone; the forward part stays in the pitch
        assert feet == level
    else:
        assert level < torso and feet < 2.0 < level


def _room(cam, frames: int) -> list[np.ndarray]:
    """`frames` grey images of a room as `cam` (a z-up world's camera) sees it: the vertical edges of door frames and
    posts on three walls around the origin, and the horizontal edges along the floor."""
    import cv2

    img = np.full((cam.height, cam.width, 3), 90, np.uint8)
    edges = []
    for x in np.linspace(-4.0, 4.0, 9):
        edges.append(([x, -4.0, 0.0], [x, -4.0, 2.5]))  # the back wall's posts
        edges.append(([x, 4.0, 0.0], [x, 4.0, 2.5]))
        edges.append(([x, -4.0, 0.0], [x, 4.0, 0.0]))  # the floor's boards, receding
    for y in np.linspace(-3.0, 3.0, 7):
        edges.append(([-4.0, y, 0.0], [-4.0, y, 2.5]))
    for a, b in edges:
        uv, depth = cam.project(np.array([a, b], float))
        if (depth > 0.1).all():
            cv2.line(img, tuple(int(v) for v in uv[0]), tuple(int(v) for v in uv[1]), (230, 230, 230), 2, cv2.LINE_AA)
    return [img] * frames


def test_scene_roll_from_the_vertical_edges_of_a_room():
    """Posts seen by a camera turned 20 deg about its axis (and looking down 10 deg, so that they converge) lean
    together: the strongest candidate is the camera's roll, and the floor's receding edges are not taken for it."""
    from sfv.camera import orbit_camera
    from sfv.reconstruct.scene_roll import roll_of, scene_candidates

    cam = orbit_camera(np.array([0.0, 0.0, 1.0]), 3.0, 10.0, -60, 640, 480, 45, roll_deg=20.0)
    found = scene_candidates(_room(cam, 3), cam.K, 3.0)
    true_roll = roll_of(cam.R @ np.array([0.0, 0.0, 1.0]))
    assert abs(true_roll - 20.0) < 1e-6
    assert found and abs(found[0].roll_deg - true_roll) < 0.5, [(c.roll_deg, c.support) for c in found]


def test_a_rolled_camera_levelled_by_the_scene(humanoid):
    """The jump filmed by a camera turned 20 deg about its axis: taken as level, the world's up is about as far off
    (the reference would lean sideways by as much); with the roll read from the room around it, the level
    camera's up (pitched by the feet at rest) is within 2 deg again. A scene without edges is an error that names
    the clip and the fix."""
    from sfv.reconstruct.stage import ReconstructionInputError, prepare

    m, pos, cam, poses = _synthetic_poses(humanoid, clip="jump", roll=20.0)
    poses["meta"]["fps"] = m.fps
    true_up = cam.R @ np.array([0.0, 0.0, 1.0])
    angle = lambda t: np.degrees(np.arccos(np.clip(t.camera.camera.R[:, 1] @ true_up, -1, 1)))  # noqa: E731
    settings = TargetSettings(vertical_fov=45)
    level = prepare(poses, humanoid, settings)
    rolled = prepare(poses, humanoid, settings, scene_frames=lambda: _room(cam, m.n_frames), roll_from="scene")
    print(
        f"up error: level camera {angle(level):.1f} deg, rolled by the scene ({rolled.camera.roll_deg:.1f}) "
        f"{angle(rolled):.1f} deg"
    )
    assert level.camera.roll_deg == 0.0 and angle(level) > 15.0
    assert abs(rolled.camera.roll_deg - 20.0) < 0.5 and angle(rolled) < 2.0
    blank = [np.full((480, 640, 3), 90, np.uint8)] * m.n_frames
    with pytest.raises(ReconstructionInputError, match="clip 'jump': roll_from: scene, but no direction"):
        prepare(poses, humanoid, settings, scene_frames=lambda: blank, roll_from="scene")


def _tiled_floor(cam, frames: int, centre: np.ndarray, half: float = 3.0, tile: float = 0.5) -> list[np.ndarray]:
    """`frames` grey images of a tiled floor (z = 0, `half` metres either side of `centre`) as `cam` sees it: two
    perpendicular families of horizontal edges."""
    import cv2

    img = np.full((cam.height, cam.width, 3), 90, np.uint8)
    for k in np.arange(-half, half + 1e-9, tile):
        for a, b in (([k, -half], [k, half]), ([-half, k], [half, k])):
            ends = np.array([[*a, 0.0], [*b, 0.0]]) + [centre[0], centre[1], 0.0]
            uv, depth = cam.project(ends)
            if (depth > 0.1).all():
                cv2.line(
                    img, tuple(int(v) for v in uv[0]), tuple(int(v) for v in uv[1]), (230, 230, 230), 2, cv2.LINE_AA
                )
    return [img] * frames


def test_scene_pitch_from_the_two_families_of_a_tiled_floor():
    """A level camera looking 25 deg down at a tiled floor: its two families of edges are perpendicular and give the
    pitch; a room whose floor boards all run one way (and whose posts are vertical) gives none."""
    from sfv.camera import orbit_camera
    from sfv.reconstruct.scene_pitch import edge_families, horizon_distance, level_pitch, scene_up, up_from_families
    from sfv.reconstruct.scene_roll import clip_segments

    cam = orbit_camera(np.array([0.0, 0.0, 1.0]), 4.0, 25.0, -35, 640, 480, 45)
    true_up = cam.R @ np.array([0.0, 0.0, 1.0])
    assert abs(level_pitch(true_up) - 25.0) < 1e-6
    segments, looked, height = clip_segments(_tiled_floor(cam, 3, np.zeros(3)), 3.0)
    families = edge_families(segments, cam.K, looked, height)
    found = up_from_families(families)
    assert found is not None, [(f.direction, f.support) for f in families]
    up, (a, b) = found
    assert np.degrees(np.arccos(up @ true_up)) < 0.3 and abs(level_pitch(up) - 25.0) < 0.3
    assert abs(a.direction @ true_up) < 0.01 and abs(b.direction @ true_up) < 0.01  # both horizontal
    # the second pass, without the edges near the horizon, agrees; a segment between two floor points a kilometre
    # away lies on the horizon, one on the floor at the camera's feet far below it
    again = scene_up(segments, cam.K, looked, height)
    assert again is not None and np.degrees(np.arccos(again[0] @ true_up)) < 0.3
    far, _ = cam.project(np.array([[1000.0, 300.0, 0.0], [-300.0, 1000.0, 0.0]]))
    close, _ = cam.project(np.array([[1.5, -2.5, 0.0], [2.5, -1.5, 0.0]]))
    gaps = horizon_distance(np.array([far.ravel(), close.ravel()]), cam.K, true_up)
    assert gaps[0] < 1.0 and gaps[1] > 100.0
    segments, looked, height = clip_segments(_room(cam, 3), 3.0)
    assert up_from_families(edge_families(segments, cam.K, looked, height)) is None


def test_a_drop_filmed_from_in_front_is_pitched_by_the_scene(humanoid):
    """The jump made to drop off a 0.8 m platform, filmed from in front: the feet rest once on each level, so the
    pitch that makes them share one height is far off; read from the tiled floor in view it is the camera's. A
    scene without such edges is an error that names the clip and the fix."""
    from sfv.mocap import load_mocap
    from sfv.reconstruct.stage import ReconstructionInputError, prepare
    from sfv.render.platform import platform_drop

    drop, _ = platform_drop(load_mocap("jump"), 0.8, 0.15)
    m, pos, cam, poses = _synthetic_poses(humanoid, clip="jump", motion=drop, azimuth=0.0)
    poses["meta"]["fps"] = m.fps
    true_up = cam.R @ np.array([0.0, 0.0, 1.0])
    angle = lambda t: np.degrees(np.arccos(np.clip(t.camera.camera.R[:, 1] @ true_up, -1, 1)))  # noqa: E731
    settings = TargetSettings(vertical_fov=45)
    feet = prepare(poses, humanoid, settings)
    floor = lambda: _tiled_floor(cam, m.n_frames, pos[:, 1].mean(0))  # noqa: E731
    scene = prepare(poses, humanoid, settings, scene_frames=floor, pitch_from="scene")
    print(
        f"up error: pitched by the feet {angle(feet):.1f} deg, by the scene ({scene.camera.pitch_deg:.2f}) "
        f"{angle(scene):.2f} deg"
    )
    assert feet.camera.pitch_deg is None and angle(feet) > 10.0
    assert abs(scene.camera.pitch_deg - 10.0) < 0.5 and angle(scene) < 0.5
    blank = [np.full((480, 640, 3), 90, np.uint8)] * m.n_frames
    with pytest.raises(ReconstructionInputError, match="clip 'jump': pitch_from: scene, but no two families"):
        prepare(poses, humanoid, settings, scene_frames=lambda: blank, pitch_from="scene")


def test_prepare_refuses_unusable_poses(humanoid):
    from sfv.reconstruct.stage import ReconstructionInputError, prepare

    _, _, _, poses = _synthetic_poses(humanoid)
    empty = {**poses, "confidence": np.zeros_like(poses["confidence"])}
    with pytest.raises(ReconstructionInputError, match="clip 'walk': every frame has zero confidence"):
        prepare(empty, humanoid)
    short = {k: (v[:2] if isinstance(v, np.ndarray) else v) for k, v in poses.items()}
    with pytest.raises(ReconstructionInputError, match="clip 'walk': 2 frames; the reconstruction needs at least 3"):
        prepare(short, humanoid)


def test_mpjpe_ignores_heading_and_position():
    from sfv.reconstruct.evaluate import mpjpe

    rng = np.random.default_rng(5)
    a = rng.normal(size=(6, 14, 3))
    c, s = np.cos(1.1), np.sin(1.1)
    turn = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    assert mpjpe(a @ turn.T + [3.0, 0.0, -2.0], a) < 1e-6
    assert mpjpe(a + rng.normal(scale=0.01, size=a.shape), a) > 5


def test_missing_frames_get_interpolated_targets_and_no_weight(humanoid):
    from sfv.reconstruct.stage import prepare

    _, _, _, poses = _synthetic_poses(humanoid)
    poses = {**poses, "detected": poses["detected"].copy(), "confidence": poses["confidence"].copy()}
    poses["detected"][[0, 5, 6]] = False
    poses["confidence"][[0, 5, 6]] = 0.0
    targets = prepare(poses, humanoid, TargetSettings(vertical_fov=45, e_max=0.12))
    assert (targets.confidence[[0, 5, 6]] == 0).all() and (targets.confidence[[1, 4, 7]] > 0.99).all()
    assert np.isfinite(targets.world).all()
    assert np.allclose(targets.world[5], targets.world[4] + (targets.world[7] - targets.world[4]) / 3)
    assert np.allclose(targets.world[0], targets.world[1])


def test_clip_metrics_against_a_known_truth(humanoid):
    """On synthetic poses of the walk mocap: the mocap itself scores 0 mm against its truth, the baseline
    and the reconstruction are compared on the same frames, and the camera's up error is measured."""
    from sfv.config import FitSettings
    from sfv.reconstruct.evaluate import Truth, clip_metrics, mpjpe
    from sfv.reconstruct.stage import prepare

    m, pos, cam, poses = _synthetic_poses(humanoid)
    targets = prepare(poses, humanoid, TargetSettings(vertical_fov=45, e_max=0.12))
    gt = {"source_joints": m.body_positions()[0], "camera_R": cam.R}
    truth = Truth.from_ground_truth(gt, 0, m.n_frames, targets.bodies)
    assert mpjpe(truth.joints, m.body_positions()[0][:, targets.bodies]) == pytest.approx(0.0, abs=1e-9)
    metrics = clip_metrics(m, m, targets, [2.0, 1.0], FitSettings(), truth)
    assert metrics["frames"] == m.n_frames and metrics["mpjpe_mm"] == metrics["mpjpe_mm_ik"] == 0.0
    assert metrics["root_error_m"] == 0.0 and metrics["jitter_drop"] == 1.0
    assert metrics["loss_first"] == 2.0 and metrics["loss_last"] == 1.0
    assert metrics["up_error_deg"] < 3.0  # the walk's torso leans a little; the feet at rest fix the pitch
    assert metrics["joint_limit_violations"] == 0 and metrics["outlier_frames"] == []
    no_truth = clip_metrics(m, m, targets, [1.0], FitSettings())
    assert "mpjpe_mm" not in no_truth and no_truth["jitter"] == metrics["jitter"]


def test_ablations_on_a_short_clip(humanoid):
    """The smoothness ablation has the IK (0), the chosen weight and the extra ones, sorted; the term ablation
    names every variant, and with no outlier frames the 'kept' variant is the reconstruction itself."""
    from sfv.config import FitSettings
    from sfv.reconstruct.evaluate import (
        TERM_VARIANTS,
        UNSTEADY_TURN,
        fit_clip,
        smoothness_ablation,
        term_ablation,
    )
    from sfv.reconstruct.stage import initial_motion, prepare

    m, pos, cam, poses = _synthetic_poses(humanoid)
    short = {k: (v[:12] if isinstance(v, np.ndarray) else v) for k, v in poses.items()}
    targets = prepare(short, humanoid, TargetSettings())
    settings = FitSettings(ik_iterations=5, iterations=5)
    init = initial_motion(targets.start, humanoid, m.fps, name="walk")
    motion, ik_phase, curve, ik = fit_clip(init, targets, settings)
    assert len(curve) <= 10 and motion.n_frames == ik.n_frames == 12
    rows = smoothness_ablation(init, targets, settings, [1e-4, 1e-8], motion, ik, ik_phase)
    assert [r["smoothness"] for r in rows] == [0.0, 1e-8, settings.weights.smoothness, 1e-4]
    assert all(r["mpjpe_mm"] is None for r in rows)  # no truth given
    terms = term_ablation(init, targets, settings, motion, ik, ik_phase)
    assert tuple(terms) == TERM_VARIANTS
    assert terms["outlier frames kept"] is terms["reconstruction"]
    assert terms["no joint ranges"]["joint_limit_violations"] >= terms["reconstruction"]["joint_limit_violations"]
    turning = settings.with_weights(turn_smoothness=3e-6)  # a clip that spins: also fitted without its steady turn
    spun = term_ablation(init, targets, turning, motion, ik, ik_phase)
    assert tuple(spun) == (*TERM_VARIANTS, UNSTEADY_TURN)
    assert spun[UNSTEADY_TURN] == pytest.approx(terms["reconstruction"])  # without its turn: the plain fit


def _smooth_error(t, shape, amplitude, seed):
    """A random but continuous function of time (four sinusoids of 1.5-6 Hz per number): an estimator's error
    that is the same at any frame rate, since every rate samples one function."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(1.5, 6.0, size=(4,) + shape)
    phase = rng.uniform(0, 2 * np.pi, size=(4,) + shape)
    return amplitude / 2 * np.sin(2 * np.pi * freq[None] * t[:, None, None, None] + phase[None]).sum(1)


def _landmarks_at_joints(humanoid, pos: np.ndarray) -> np.ndarray:
    """BlazePose's 33 landmarks (T, 33, 3) placed on the humanoid's body positions `pos` (T, B, 3): each landmark
    the keypoint map reads at its joint, the face at the neck, hands at the wrists, feet at the ankles."""
    from sfv.keypoints import BLAZEPOSE33, body_map

    landmark = {names[0]: humanoid.index(j) for j, names in body_map(humanoid).landmarks if len(names) == 1}

    def nearest(i: int, n: str) -> str:
        """The body nearest a landmark without its own: the face the neck, hands the wrists, feet the ankles."""
        if i < 11:
            return "neck"
        if i < 23:
            return "left_wrist" if "left" in n else "right_wrist"
        return "left_ankle" if "left" in n else "right_ankle"

    return np.stack(
        [pos[:, landmark[n] if n in landmark else humanoid.index(nearest(i, n))] for i, n in enumerate(BLAZEPOSE33)],
        axis=1,
    )


def _filmed(humanoid, width, height, fps, fov=45.0, azimuth=-60.0, error=True, clip="walk", distance=4.0):
    """A mocap clip filmed at `width` x `height` and `fps` by one camera (4 m away): BlazePose-like poses
    whose 2D keypoints see the body with 3 cm of error and whose 3D keypoints say it with 5 cm of another
    error (with `error`), so that the fit has to weigh the two (and smooth), as on a real clip."""
    from sfv.camera import orbit_camera
    from sfv.mocap import load_mocap

    m = load_mocap(clip).resample(fps)
    t = np.arange(m.n_frames) / fps
    pos = m.body_positions()[0] @ np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).T  # z-up world
    cam = orbit_camera(pos[:, 1].mean(0), distance, 10.0, azimuth, width, height, fov)
    kp = _landmarks_at_joints(humanoid, pos)
    uv, _ = cam.project(kp + _smooth_error(t, (33, 3), 0.03, 1) * error)
    said = cam.to_camera(kp + _smooth_error(t, (33, 3), 0.05, 2) * error)
    return m, {
        "keypoints_2d": uv,
        "keypoints_3d": _seen_along_ray(said),
        "confidence": np.ones((m.n_frames, 33)),
        "detected": np.ones(m.n_frames, bool),
        "meta": {"clip": clip, "width": width, "height": height, "fps": fps},
    }


def test_reconstruction_is_the_same_on_any_resolution_and_frame_rate(humanoid):
    """Issue 18: one motion filmed at 640x480 and at portrait 1080x1920 (the same lens), and at 30 and 60 fps,
    reconstructs (with the default settings) to the same motion. Measured: 0.7 mm apart across resolutions
    (21 mm with the 2D term in raw pixels), 5.3 mm across frame rates (11.5 mm with the smoothness term blind to
    the frame rate), each 22-23 mm from the mocap."""
    from sfv.reconstruct.evaluate import fit_clip, mpjpe
    from sfv.reconstruct.stage import initial_motion, prepare

    joints, errors = {}, {}
    for width, height, fps in ((640, 480, 30), (1080, 1920, 30), (640, 480, 60)):
        m, poses = _filmed(humanoid, width, height, fps)
        targets = prepare(poses, humanoid, TargetSettings(vertical_fov=45))
        init = initial_motion(targets.start, humanoid, fps, name="walk")
        motion = fit_clip(init, targets, FitSettings())[0]
        joints[width, fps] = motion.body_positions()[0][:, targets.bodies]
        errors[width, fps] = mpjpe(joints[width, fps], m.body_positions()[0][:, targets.bodies])
    print({k: round(v, 1) for k, v in errors.items()})
    base = joints[640, 30]
    assert 10 < errors[640, 30] < 30  # the fit weighs the two errors: it neither copies one nor fails
    assert mpjpe(joints[1080, 30], base) < 2.0  # mm
    at_30 = joints[640, 60][::2][: len(base)]  # the 60 fps frames at the 30 fps frames' times
    assert mpjpe(at_30, base) < 8.0
    assert abs(errors[640, 60] - errors[640, 30]) < 3.0 and abs(errors[1080, 30] - errors[640, 30]) < 1.0


def test_camera_table_reads_every_rendered_clip_with_its_camera(tmp_path):
    """The by-camera table (stage `cameras`): one row per rendered clip whose metrics exist, its camera from
    params (the clip's own size, rate, lens and roll), the stored 'before'; means and the clip count."""
    import json

    from sfv.config import load_params
    from sfv.reconstruct import cameras

    params = load_params()
    clips = [c for c in ("walk", "walk_portrait", "spinkick_tilted") if c in params.render.clips]
    assert len(clips) == 3
    for i, clip in enumerate(clips):
        for stage, values in (
            ("render", {}),
            ("pose", {"pa_mpjpe_mm": 50.0 + i}),
            (
                "reconstruct",
                {
                    "mpjpe_mm_targets": 80.0,
                    "mpjpe_mm_ik": 70.0,
                    "mpjpe_mm": 60.0 + 10 * i,
                    "up_error_deg": float(i),
                    "fov_deg": (44.0, 61.0, 45.0)[i],
                    "fov_estimated": i < 2,
                },
            ),
        ):
            (tmp_path / "metrics" / stage).mkdir(parents=True, exist_ok=True)
            (tmp_path / "metrics" / stage / f"{clip}.json").write_text(json.dumps(values))
    (tmp_path / "before.json").write_text(json.dumps({"clips": {c: {"mpjpe_mm": 90.0} for c in clips[:2]}}))
    table = cameras.rows(params, tmp_path, Path("before.json"))
    assert [r["clip"] for r in table] == [c for c in params.render.clips if c in clips]
    row = {r["clip"]: r for r in table}
    assert (row["walk_portrait"]["size"], row["walk_portrait"]["fps"], row["walk_portrait"]["fov"]) == (
        "1080x1920",
        60,
        65,
    )
    assert row["spinkick_tilted"]["roll"] == 12 and row["walk"]["before_mm"] == 90.0
    s = cameras.summary(table)
    assert s["clips"] == 3 and s["reconstruction_mm"] == 70.0 and row["spinkick_tilted"]["before_mm"] is None
    # "before" against now on the clips that have a "before" (60 and 70 mm)
    assert (s["before_clips"], s["before_mm"], s["reconstruction_mm_before_clips"]) == (2, 90.0, 65.0)
    assert s["reconstruction_at_or_below_targets"] == 3  # 60, 70 and 80 mm against targets of 80
    assert "| walk_portrait | 1080x1920 | 60 | 65 | 0 | 61 (est.) |" in cameras.markdown(table)
    # the field of view: 1 and 4 degrees off where estimated (walk, the portrait walk), 0 where assumed
    assert (s["fov_estimated_clips"], s["fov_error_deg_estimated"], s["fov_error_deg_max_estimated"]) == (2, 2.5, 4.0)
    assert s["fov_error_deg_all"] == round(5 / 3, 1)


@pytest.mark.slow
def test_field_of_view_on_rendered_clips(humanoid, tmp_path):
    """Issue 18 point 3 on ground truth: two of the pipeline's cameras, rendered (at half size) and read by BlazePose.
    The portrait walk's 65-degree lens, which the kit does not assume, comes back within 4 degrees (61.8 here, the
    pipeline's full-size clip 61.7; 64.8 before the pose candidates were fused, which moved the six estimated
    clips' mean error from 4.5 to 4.3 degrees but this one's from 0.2 to 3.3); the 30-degree lens from 7 m that films a
    jump head-on cannot be told (the person stays
    near the image centre), so the assumed 45 degrees stays rather than the cost's biased minimum (67 there)."""
    from sfv.config import load_params
    from sfv.mocap import load_mocap
    from sfv.pose.stage import estimate_video
    from sfv.reconstruct.field_of_view import estimate_fov
    from sfv.render.body import BodyRetargeter, load_anny
    from sfv.render.gt_clip import render_gt_clip

    params = load_params()
    found = {}
    for clip in ("walk_portrait", "jump_720p"):
        entry = params.clips[clip]
        full = params.render.for_clip(entry)
        settings = full.model_copy(update={"width": full.width // 2, "height": full.height // 2})
        retargeter = BodyRetargeter(load_anny(), humanoid, settings.body.phenotype())
        video = tmp_path / f"{clip}.mp4"
        render_gt_clip(
            clip, load_mocap(entry.mocap), retargeter, settings, video, tmp_path / f"{clip}.gt.npz", progress=False
        )
        poses, facts = estimate_video(clip, video, (0, None), params.pose, progress=False)
        found[clip] = estimate_fov(
            poses.keypoints_2d,
            poses.keypoints_3d,
            poses.confidence,
            poses.detected,
            facts["width"],
            facts["height"],
            assumed=params.reconstruct.vertical_fov,
            min_sweep=params.reconstruct.fov_min_sweep,
        )
    print({c: (round(e.fov, 1), round(e.best, 1), round(e.sweep, 1)) for c, e in found.items()})
    assert found["walk_portrait"].estimated and abs(found["walk_portrait"].fov - 65.0) < 4.0
    assert not found["jump_720p"].estimated and found["jump_720p"].fov == params.reconstruct.vertical_fov


# --- a camera that turns --------------------------------------------------------------------------------
def test_rotation_from_rays_and_chained_over_frames():
    from scipy.spatial.transform import Rotation

    from sfv.alignment import best_rotation
    from sfv.camera import intrinsics, perspective
    from sfv.reconstruct.camera_motion import angle_deg, camera_motion

    rng = np.random.default_rng(2)
    a = rng.normal(size=(50, 3))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    R = Rotation.from_rotvec([0.05, -0.2, 0.01]).as_matrix()
    assert np.allclose(best_rotation(a, a @ R.T), R, atol=1e-12)
    # three frames of background points seen by a camera panning 2 then 3 degrees; one pair lost (no points)
    K = intrinsics(640, 480, 50)
    world = rng.uniform([-3, -1, 4], [3, 1, 9], size=(80, 3))
    turns = [
        np.eye(3),
        Rotation.from_euler("y", 2, degrees=True).as_matrix(),
        Rotation.from_euler("y", 5, degrees=True).as_matrix(),
    ]
    pix = [perspective(world @ Q.T, np.array([K[0, 0], K[1, 1]]), K[:2, 2]) for Q in turns]
    moving = camera_motion([(pix[0], pix[1]), (pix[1], pix[2])], K, min_turn_deg=1.0)
    assert moving.moving and np.allclose(moving.rotations, np.stack(turns), atol=1e-9)
    assert np.allclose(moving.turn_deg, [0, 2, 5]) and list(moving.tracked) == [0, 80, 80]
    lost = camera_motion([(pix[0], pix[1]), (np.zeros((0, 2)), np.zeros((0, 2)))], K)
    assert np.allclose(lost.rotations[2], lost.rotations[1])  # keeps the orientation it had
    still = camera_motion([(pix[0], pix[0] + 0.01)], K, min_turn_deg=1.0)  # a hundredth of a pixel: a fixed camera
    assert not still.moving and np.allclose(still.rotations, np.eye(3)) and angle_deg(np.eye(3)) == 0


def _panned(humanoid, follow=0.9):
    """The walk filmed from 2.5 m by a camera that pans to follow the hips (as the renderer's `camera.follow`),
    noise-free BlazePose-like poses, and background points (on the ground) tracked from frame to frame."""
    from sfv.camera import Camera, look_at, orbit_camera
    from sfv.mocap import load_mocap

    m = load_mocap("walk")
    pos = m.body_positions()[0] @ np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).T  # z-up world
    hips = pos[:, 0]
    aim = np.array([hips[:, 0].mean(), hips[:, 1].mean(), 0.9])
    fixed = orbit_camera(aim, 2.5, 10.0, -90, 640, 480, 45)
    cams = []
    for h in hips:
        R, t = look_at(fixed.position, aim + follow * np.array([h[0] - aim[0], h[1] - aim[1], 0.0]))
        cams.append(Camera(K=fixed.K, R=R, t=t, width=640, height=480))
    kp = _landmarks_at_joints(humanoid, pos)
    uv = np.stack([c.project(k)[0] for c, k in zip(cams, kp)])
    said = np.stack([c.to_camera(k) for c, k in zip(cams, kp)])
    ground = np.random.default_rng(0).uniform([-4, -8, 0], [4, -2, 0], size=(150, 3)) + [aim[0], aim[1], 0]
    seen = [c.project(ground)[0] for c in cams]
    pairs = [(seen[t], seen[t + 1]) for t in range(len(cams) - 1)]
    poses = {
        "keypoints_2d": uv,
        "keypoints_3d": _seen_along_ray(said),
        "confidence": np.ones((m.n_frames, 33)),
        "detected": np.ones(m.n_frames, bool),
        "meta": {"clip": "walk", "width": 640, "height": 480, "fps": 30},
    }
    return m, cams, poses, pairs


def test_a_panning_camera_is_followed_and_the_walk_goes_where_it_went(humanoid):
    """The camera pans about 20 degrees to keep the walker centred. Read from the background, the pan is undone:
    the world targets are the mocap (up to a turn and shift) and the walker covers the mocap's 1.2 m. Taken as a
    fixed camera, the walker hardly moves (they stay centred) and the targets are far off. The fit runs with
    every frame's own camera in its 2D term."""
    from sfv.reconstruct.camera_motion import angle_deg
    from sfv.reconstruct.evaluate import fit_clip, mpjpe, root_trajectory_error
    from sfv.reconstruct.stage import initial_motion, prepare

    m, cams, poses, pairs = _panned(humanoid)
    true_turn = angle_deg(np.stack([c.R @ cams[0].R.T for c in cams]))
    assert true_turn.max() > 15
    source = m.body_positions()[0]
    settings = TargetSettings(vertical_fov=45, estimate_fov=False)
    followed = prepare(poses, humanoid, settings, background=pairs)
    assert followed.camera.motion.moving
    assert np.allclose(followed.camera.motion.turn_deg, true_turn, atol=1e-6)
    fixed = prepare(poses, humanoid, settings)
    assert followed.camera.rotations is not None and fixed.camera.rotations is None
    travel = lambda targets: np.ptp(targets.world[:, 0, [0, 2]], axis=0).max()  # noqa: E731
    assert abs(travel(followed) - np.ptp(source[:, 0, 0])) < 0.05 and travel(fixed) < 0.6 * np.ptp(source[:, 0, 0])
    assert mpjpe(followed.world, source[:, followed.bodies]) < 10.0  # mm, as with a fixed camera
    assert root_trajectory_error(followed.world[:, 0], source[:, 0]) < 0.01
    assert root_trajectory_error(fixed.world[:, 0], source[:, 0]) > 0.1
    # the fit's 2D term films each frame with its own camera: the noise-free keypoints are met
    init = initial_motion(followed.start, humanoid, 30.0, name="walk")
    motion = fit_clip(init, followed, FitSettings(iterations=60, ik_iterations=30))[0]
    from sfv.reconstruct.evaluate import reprojection_error

    assert reprojection_error(motion.body_positions()[0][:, followed.bodies], followed) < 5.0  # px
    frames = followed.camera.frames
    uv0, _ = frames.project(followed.world)
    # the targets reproject through each frame's camera onto the keypoints (within 1.5 px: a joint that is the
    # mean of two landmarks, as the root of the hips, projects a little off the mean of their pixels)
    assert np.abs(uv0 - followed.keypoints_2d).max() < 1.5
    assert np.abs(fixed.camera.frames.project(fixed.world)[0] - fixed.keypoints_2d).max() < 1.5


@pytest.mark.slow
def test_camera_turn_read_from_a_rendered_clip(humanoid, tmp_path):
    """A rendered walk filmed by a camera that pans to follow the hips (`camera.follow`): the turn read from the
    background (the checkered ground) is within 2 degrees of the render camera's over a 20-plus-degree pan
    (measured at this 480x360: 0.61 mean, 1.34 max; at 640x480 0.45 and 1.05); the same walk filmed by a fixed
    camera reads as fixed."""
    from sfv.config import load_params
    from sfv.mocap import load_mocap
    from sfv.reconstruct.camera_motion import (
        angle_deg,
        camera_motion,
        person_boxes,
        track_background,
    )
    from sfv.render.body import BodyRetargeter, load_anny
    from sfv.render.ground_truth import load_gt
    from sfv.render.gt_clip import render_gt_clip
    from sfv.video import read_frames

    params = load_params()
    base = params.render.for_clip(params.clips["walk"])
    retargeter = BodyRetargeter(load_anny(), humanoid, base.body.phenotype())
    for follow in (0.9, 0.0):
        camera = base.camera.model_copy(update={"distance": 2.5, "azimuth": -90, "follow": follow})
        settings = base.model_copy(update={"camera": camera, "width": 480, "height": 360})
        video, gt_file = tmp_path / f"walk{follow}.mp4", tmp_path / f"walk{follow}.gt.npz"
        render_gt_clip("walk", load_mocap("walk"), retargeter, settings, video, gt_file, progress=False)
        gt = load_gt(gt_file)
        pairs = track_background(
            read_frames(video), person_boxes(gt["keypoints_2d"], np.ones(len(gt["keypoints_2d"]), bool))
        )
        found = camera_motion(pairs, gt["camera_K"], min_turn_deg=1.0)
        if follow:
            true = np.einsum("tij,kj->tik", gt["camera_frames_R"], gt["camera_R"])
            err = angle_deg(np.einsum("tji,tjk->tik", true, found.rotations))
            print(f"pan {angle_deg(true).max():.1f} deg, error mean {err.mean():.2f} max {err.max():.2f}")
            assert found.moving and angle_deg(true).max() > 20 and err.max() < 2.0
        else:
            assert "camera_frames_R" not in gt and not found.moving


def test_error_sources_split_orientation_depth_and_flips(humanoid):
    """On the walk mocap seen by a camera: a per-frame turn costs nothing once each frame is aligned, a push
    along the camera's axis shows as depth error only, and a forearm turned round in depth is found in exactly
    the frames where it was turned, and mended by the truth's signs."""
    from sfv.mocap import load_mocap
    from sfv.reconstruct.error_sources import (
        camera_axes_error,
        chain_parents,
        depth_flips,
        frame_aligned_mpjpe,
        with_true_depth_signs,
    )
    from sfv.reconstruct.evaluate import mpjpe
    from sfv.reconstruct.stage import body_map

    bodies = [humanoid.index(n) for n in body_map(humanoid).names]
    parents = chain_parents(humanoid, bodies)
    names = body_map(humanoid).names
    assert parents[0] == -1 and names[parents[names.index("left_wrist")]] == "left_elbow"
    assert names[parents[names.index("left_knee")]] == "left_hip" and names[parents[names.index("neck")]] == "root"
    truth = load_mocap("walk").body_positions()[0][:, bodies]
    T = len(truth)

    turned = np.stack(
        [
            x @ np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]).T
            for x, a in zip(truth, np.linspace(0, 0.5, T))
        ]
    )
    assert frame_aligned_mpjpe(turned, truth) < 1e-6 and mpjpe(turned, truth) > 20

    pushed = truth.copy()
    pushed[:, names.index("right_wrist"), 2] += 0.1  # the camera looks along z here
    err = camera_axes_error(pushed, truth)
    assert err[:2] == pytest.approx([0.0, 0.0], abs=1e-9) and err[2] > 10

    wrist, elbow = names.index("left_wrist"), names.index("left_elbow")
    depth = truth[:, wrist, 2] - truth[:, elbow, 2]
    frames = np.flatnonzero(np.abs(depth) > 0.05)[::2]
    assert len(frames) >= 3
    mirrored = truth.copy()
    mirrored[frames, wrist, 2] -= 2 * depth[frames]  # the forearm's depth turned round about the elbow
    flipped, counted = depth_flips(mirrored, truth, parents)
    assert counted[:, wrist].sum() >= len(frames) and set(np.flatnonzero(flipped[:, wrist])) == set(frames)
    assert flipped.sum() == len(frames)
    mended = with_true_depth_signs(mirrored, truth, parents)
    assert np.allclose(mended, truth - truth[:, :1], atol=1e-12)
    assert mpjpe(mirrored, truth) > 1 and mpjpe(mended, truth) < 1e-6


def _hip_turn(positions: np.ndarray, left: int, right: int) -> np.ndarray:
    """The hips' line's heading (T,) about the vertical (y), unwrapped, in radians."""
    line = positions[:, left] - positions[:, right]
    return np.unwrap(np.arctan2(line[:, 2], line[:, 0]))


def test_turn_smoothness_is_zero_for_a_steady_turn_and_large_for_a_stall_and_burst():
    """A steady turn (through the +-180 degree seam, and whatever the heading it starts at) has no angular
    acceleration; the same turn stalled for four frames then caught up in one (what an estimator's hips do seen
    edge-on) has a lot; height and the hips' separation do not count."""
    fps, T = 30.0, 30
    angle = np.radians(20.0) * np.arange(T) + 2.5  # 600 deg/s, crossing the seam
    stalled = angle.copy()
    stalled[10:14] = angle[10]

    def hips(a, width=0.2, height=0.9):
        left = np.stack([width / 2 * np.cos(a), np.full(len(a), height), width / 2 * np.sin(a)], axis=1)
        return torch.as_tensor(left), torch.as_tensor(-left * [1, -1, 1])

    steady = losses.turn_smoothness(*hips(angle), fps)
    assert steady < 1e-12
    assert losses.turn_smoothness(*hips(angle + 1.0, width=0.3, height=0.5), fps) < 1e-12
    burst = losses.turn_smoothness(*hips(stalled), fps)
    # the stall's two kinks of 600 deg/s change, and the catch-up's: (10.5 rad / (1/30 s))^2 ~ 1e5 at each
    assert burst > 1e4
    assert losses.turn_smoothness(*hips(angle[:2]), fps) == 0  # too short to accelerate


def test_the_fit_holds_a_spins_turn_steady_where_its_targets_stall_and_burst():
    """The mocap walk spun steadily about the vertical (one turn over the clip) is the truth; its targets are the
    same spin stalled for five frames and caught up in one, as a pose estimator's hips seen edge-on. Fitted with
    the turn's smoothness, the hips follow the steady turn more closely than the targets do and than the fit
    without it; every other term is the same in both."""
    from sfv.rotations import from_axis_angle, rotate

    m, bodies, truth, noisy, rest = _noisy_walk()
    T = m.n_frames
    steady = 2 * np.pi * np.arange(T) / T
    stalled = steady.copy()
    stalled[12:17] = steady[12]
    up = np.array([0.0, 1.0, 0.0])

    def spun(angle):
        q = from_axis_angle(up, angle)
        return rotate(q[:, None], truth)

    targets = spun(stalled)
    left, right = JOINTS.index("left_hip"), JOINTS.index("right_hip")
    reference = _hip_turn(spun(steady), left, right)

    def turn_error(positions):
        turn = _hip_turn(positions, left, right)
        return float(np.abs((turn - reference) - np.mean(turn - reference)).mean())

    plain = FitSettings()
    held = plain.with_weights(turn_smoothness=3e-6)
    rest_spun = replace(rest, root_pos=targets[:, 0])
    errors = {}
    for name, settings in (("plain", plain), ("held", held)):
        fitted, _, _ = reconstruct(rest_spun, targets, bodies, settings=settings)
        errors[name] = turn_error(fitted.body_positions()[0][:, bodies])
    assert errors["held"] < 0.7 * errors["plain"], errors
    assert errors["held"] < 0.7 * turn_error(targets), errors


def test_only_the_clips_that_spin_are_fitted_with_the_turns_smoothness():
    """`reconstruct.turning` gives its weight to its clips' fits and to no other; a clip it names that is not
    reconstructed is refused with the key to fix."""
    from pydantic import ValidationError

    from sfv.settings.reconstruct import ReconstructParams

    cfg = ReconstructParams(clips=["walk", "dance_a"], turning={"clips": ["dance_a"], "weight": 2e-6})
    assert cfg.for_clip("dance_a").weights.turn_smoothness == 2e-6
    assert cfg.for_clip("walk") == cfg and cfg.weights.turn_smoothness == 0.0
    assert cfg.for_clip("dance_a").weights.smoothness == cfg.weights.smoothness  # the other weights stay
    with pytest.raises(ValidationError, match=r"turning.clips \['spinkick'\] are not in reconstruct.clips"):
        ReconstructParams(clips=["walk"], turning={"clips": ["spinkick"]})
