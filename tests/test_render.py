"""Ground-truth clips: the camera, the renderer, the posed body and the files they make.

The fast tests need no body model. Those marked slow build or load anny (first build 1-3 min into
.cache/anny) and render real frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sfv.camera import Camera, CameraError, look_at, orbit_camera
from sfv.config import CameraParams, ClipParams, RenderSettings
from sfv.plots import crop_box
from sfv.render.gt_clip import check_camera_sees_body, visibility
from sfv.video import VideoError, check_range, mp4_writer, probe, read_frames
from tests.conftest import REPORT


def random_cameras(n=20, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        target, distance = rng.uniform(-2, 2, 3), rng.uniform(1, 8)
        cam = orbit_camera(
            target,
            distance,
            rng.uniform(-60, 80),
            rng.uniform(-180, 180),
            int(rng.choice([320, 640])),
            int(rng.choice([240, 480])),
            rng.uniform(20, 90),
        )
        yield cam, target, distance


# --- camera ------------------------------------------------------------------------------------------
def test_camera_round_trip():
    rng = np.random.default_rng(1)
    for cam, target, _ in random_cameras():
        pts = target + rng.normal(scale=0.8, size=(50, 3))
        uv, depth = cam.project(pts)
        assert np.allclose(cam.unproject(uv, depth), pts, atol=1e-9)
        # and through the stored arrays
        again = Camera.from_arrays(cam.to_arrays())
        uv2, depth2 = again.project(pts)
        assert np.allclose(uv, uv2) and np.allclose(depth, depth2)


def test_orbit_camera_looks_at_its_target_upright():
    for cam, target, distance in random_cameras():
        uv, depth = cam.project(target)
        assert np.allclose(uv, [cam.width / 2, cam.height / 2], atol=1e-6)
        assert np.isclose(depth, distance) and np.isclose(np.linalg.norm(cam.position - target), distance)
        above, _ = cam.project(target + [0, 0, 0.3])
        assert above[1] < uv[1]  # world up is image up (v grows downwards)


def test_azimuth_convention():
    cam = orbit_camera(np.zeros(3), 5.0, 0.0, 0.0, 640, 480, 45)
    assert np.allclose(cam.position, [5, 0, 0])
    right, _ = cam.project(np.array([0.0, 1.0, 0.0]))  # looking along -x, +y is on the image's right
    assert right[0] > 320


def test_camera_roll_turns_the_picture_about_its_centre():
    level = orbit_camera(np.zeros(3), 5.0, 10.0, -60.0, 640, 480, 45)
    turned = orbit_camera(np.zeros(3), 5.0, 10.0, -60.0, 640, 480, 45, roll_deg=12.0)
    assert np.allclose(turned.position, level.position)  # the same place, the same target in the centre
    pts = np.random.default_rng(0).normal(scale=0.8, size=(30, 3))
    centre = np.array([320.0, 240.0])
    a, _ = level.project(pts)
    b, _ = turned.project(pts)
    c, s = np.cos(np.radians(12)), np.sin(np.radians(12))
    assert np.allclose((a - centre) @ np.array([[c, -s], [s, c]]).T + centre, b, atol=1e-9)
    up = turned.R @ np.array([0.0, 0.0, 1.0])  # the world's up in camera coordinates leans to the image's right
    assert up[0] == pytest.approx(np.sin(np.radians(12)) * np.cos(np.radians(10)), abs=1e-9)


def test_bad_cameras_are_refused():
    with pytest.raises(CameraError, match="straight along the up axis"):
        look_at(np.array([0, 0, 5.0]), np.zeros(3))
    with pytest.raises(CameraError, match="distance must be positive"):
        orbit_camera(np.zeros(3), 0.0, 10, 0, 640, 480, 45)
    with pytest.raises(CameraError, match="field of view"):
        orbit_camera(np.zeros(3), 3.0, 10, 0, 640, 480, 180)


def _sphere(centre, radius, n=24):
    th, ph = np.meshgrid(np.linspace(0, np.pi, n), np.linspace(0, 2 * np.pi, 2 * n, endpoint=False), indexing="ij")
    v = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1).reshape(-1, 3)
    faces = []
    m = 2 * n
    for i in range(n - 1):
        for j in range(m):
            a, b, c, d = i * m + j, i * m + (j + 1) % m, (i + 1) * m + j, (i + 1) * m + (j + 1) % m
            faces += [(a, c, b), (b, c, d)]
    return centre + radius * v, np.array(faces)


def test_renderer_draws_where_the_camera_projects():
    """A sphere rendered by TinyRenderer with the camera's OpenGL matrices lands where `project` says, at
    the depth it says: the stored camera is the one that drew the image."""
    from sfv.render.tiny import TinyRenderer

    for cam, target, _ in list(random_cameras(4, seed=3)):
        centre = target + np.array([0.2, -0.1, 0.1])
        verts, faces = _sphere(centre, 0.15)
        with TinyRenderer(cam, ground=False) as r:
            rgb, depth, sil = r.render(verts, {"skin": faces}, {"skin": (1, 0, 0, 1)})
        assert rgb.shape == (cam.height, cam.width, 3) and sil.any()
        rows, cols = np.nonzero(sil)
        uv, d = cam.project(centre)
        # the silhouette's centroid (pixel centres at +0.5) is the projected centre, up to perspective bulge
        assert np.allclose([cols.mean() + 0.5, rows.mean() + 0.5], uv, atol=1.0), (cols.mean(), rows.mean(), uv)
        # the nearest surface is one radius in front of the centre
        assert abs(depth[sil].min() - (d - 0.15)) < 0.02
        assert (depth[~sil] > cam.far * 0.9).all()


def test_visibility_uses_the_depth_image():
    cam = orbit_camera(np.zeros(3), 4.0, 0.0, 0.0, 64, 48, 45)
    kp = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.2], [0.0, 0.0, 50.0]])
    depth = np.full((48, 64), 100.0)
    assert visibility(cam, kp, depth).tolist() == [True, True, False]  # the third is out of the image
    depth[:] = 3.5  # a wall 0.5 m in front of the keypoints
    assert not visibility(cam, kp[:2], depth).any()
    depth[:] = 3.9  # body 10 cm in front: still counts (joint centres lie inside their limb)
    assert visibility(cam, kp[:2], depth).all()


def test_camera_that_misses_the_body_is_a_clear_error():
    cam = orbit_camera(np.zeros(3), 3.0, 0.0, 0.0, 64, 48, 30)
    kp = np.zeros((5, 17, 3))
    kp[:, :, 2] = np.linspace(0, 1.7, 17)
    check_camera_sees_body(cam, kp * 0.1, "clip 'x'")
    with pytest.raises(CameraError, match=r"clip 'x'.*cuts off part of the body.*frame 0.*camera.distance"):
        check_camera_sees_body(cam, kp, "clip 'x'")
    with pytest.raises(CameraError, match="does not see the body at all"):
        check_camera_sees_body(cam, kp + [0, 0, 20.0], "clip 'x'")


def test_crop_box_keeps_aspect_and_contains_points():
    kp = np.array([[[100.0, 50.0], [140.0, 250.0]]])
    x0, y0, x1, y1 = crop_box(kp, 640, 480)
    assert x0 <= 100 and x1 >= 140 and y0 <= 50 and y1 >= 250
    assert abs((x1 - x0) / (y1 - y0) - 640 / 480) < 0.02


# --- video -------------------------------------------------------------------------------------------
def test_video_round_trip(tmp_path):
    frames = [np.full((48, 64, 3), 20 * i, dtype=np.uint8) for i in range(6)]
    path = tmp_path / "a.mp4"
    with mp4_writer(path, 30) as append:
        for f in frames:
            append(f)
    info = probe(path)
    assert (info.frames, info.fps, info.width, info.height, info.codec) == (6, 30.0, 64, 48, "h264")
    back = list(read_frames(path, 2, 5))
    assert len(back) == 3
    assert all(abs(b.astype(int) - f.astype(int)).mean() < 3 for b, f in zip(back, frames[2:5]))


def test_interrupted_video_write_leaves_nothing(tmp_path):
    path = tmp_path / "b.mp4"
    with pytest.raises(RuntimeError):
        with mp4_writer(path, 30) as append:
            append(np.zeros((48, 64, 3), dtype=np.uint8))
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_bad_videos_are_clear_errors(tmp_path):
    with pytest.raises(VideoError, match=r"nope.mp4: no such video file.*params.yaml"):
        probe(tmp_path / "nope.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    with pytest.raises(VideoError, match=r"notes.mp4: not a readable video.*re-encode"):
        probe(text)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoError, match="empty.mp4"):
        probe(empty)
    info = probe(_tiny_video(tmp_path))
    assert check_range(info, 1, None, "clip 'c'") == (1, 4)
    with pytest.raises(VideoError, match=r"clip 'c': frames \[2, 9\] is outside .* has 4 frames"):
        check_range(info, 2, 9, "clip 'c'")


def _tiny_video(tmp_path) -> Path:
    path = tmp_path / "tiny.mp4"
    with mp4_writer(path, 25) as append:
        for _ in range(4):
            append(np.zeros((32, 32, 3), dtype=np.uint8))
    return path


def test_shipped_real_clip_is_readable():
    info = probe(Path(__file__).parents[1] / "data" / "clips" / "sports2d_demo" / "sports2d_demo.mp4")
    assert (info.frames, info.fps, info.width, info.height) == (230, 30.0, 960, 540)


# --- the body and the clip (anny) ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def retargeter(humanoid):
    from sfv.render.body import BodyRetargeter, load_anny

    return BodyRetargeter(load_anny(), humanoid, {})


@pytest.mark.slow
def test_body_follows_the_mocap(retargeter):
    from sfv.mocap import load_mocap
    from sfv.render.body import follow_errors
    from sfv.render.gt_clip import sole_gap_in_contact

    for name in ("walk", "cartwheel"):
        m = load_mocap(name).resample(30)
        posed = retargeter.pose_frames(m.root_pos, m.root_rot, m.pose)
        err = follow_errors(retargeter, posed)
        assert err["limb_direction_error_max_deg"] < 0.01, err  # every limb points where the humanoid's does
        assert err["joint_error_mean_m"] < 0.05, err  # what is left is proportions (hip, shoulder width)
        contact = sole_gap_in_contact(posed)
        assert contact < 0.03, contact  # soles on the ground where the mocap's feet are down
        REPORT[f"render {name}: joint error / sole gap in contact"] = (
            f"{err['joint_error_mean_m'] * 100:.1f} cm / {contact * 100:.1f} cm"
        )
        again = retargeter.pose_frames(m.root_pos, m.root_rot, m.pose)
        assert np.array_equal(again.vertices, posed.vertices)
    # a different phenotype is a different body on the same motion
    from sfv.render.body import BodyRetargeter

    tall = BodyRetargeter(retargeter.model, retargeter.skeleton, {"height": 0.9})
    assert tall.scale > retargeter.scale * 1.05
    with pytest.raises(ValueError, match="unknown phenotype parameter.*'hieght'"):
        BodyRetargeter(retargeter.model, retargeter.skeleton, {"hieght": 0.9})


@pytest.mark.slow
def test_short_clip_renders_end_to_end(retargeter, tmp_path):
    from sfv.mocap import load_mocap
    from sfv.render.ground_truth import load_gt
    from sfv.render.gt_clip import render_gt_clip

    motion = load_mocap("backflip")
    settings = RenderSettings(width=320, height=240, frames=(24, 32))
    video, gt_path = tmp_path / "bf.mp4", tmp_path / "bf.gt.npz"
    metrics = render_gt_clip("bf", motion, retargeter, settings, video, gt_path, progress=False)
    assert metrics["frames"] == 8 and probe(video).frames == 8
    gt = load_gt(gt_path)
    cam = gt["camera"]
    assert gt["keypoints_2d"].shape == (8, 23, 2) and gt["source_pose"].shape[0] == 8
    # the projected ground truth lands on the rendered body: every COCO keypoint within 2 px of its silhouette
    assert metrics["coco_on_silhouette_fraction"] == 1.0
    sil = gt["silhouette"]
    assert sil.shape == (8, 240, 320) and sil.mean() > 0.01
    # keypoint centres (not just edges) mostly fall strictly inside it
    uv = gt["keypoints_2d"][:, :17]
    inside = sil[np.arange(8)[:, None], np.floor(uv[..., 1]).astype(int), np.floor(uv[..., 0]).astype(int)]
    assert inside.mean() > 0.9, inside.mean()
    # the stored 3D keypoints and camera reproduce the stored 2D ones
    uv2, _ = cam.project(gt["keypoints_3d"])
    assert np.allclose(uv2, gt["keypoints_2d"])
    # the source joints map into the render world with the stored transform
    src = gt["source_joints"] @ gt["source_to_render_rotation"].T * gt["source_to_render_scale"]
    assert np.allclose(src, gt["source_joints_render"], atol=1e-9)
    # upside down mid-flip: the head is below the hips in some frame, as in the mocap
    names = list(gt["keypoint_names"])
    assert (gt["keypoints_3d"][:, names.index("nose"), 2] < gt["keypoints_3d"][:, names.index("left_hip"), 2]).any()
    # `frames` is applied once: the render cut [24, 32) out of the mocap, so the stages read its video whole
    entry = ClipParams(source="mocap:backflip", frames=(24, 32))
    assert check_range(probe(video), *entry.video_frames, "clip 'bf'") == (0, 8)
    with pytest.raises(VideoError):  # cutting the range again, out of the cut video, is refused
        check_range(probe(video), *entry.frames, "clip 'bf'")
    REPORT["render 320x240: s per frame"] = f"{metrics['render_seconds_per_frame']:.3f}"
    # deterministic: the same settings give the same frames
    again = render_gt_clip(
        "bf", motion, retargeter, settings, tmp_path / "b2.mp4", tmp_path / "b2.gt.npz", progress=False
    )
    assert again["frames_sha256"] == metrics["frames_sha256"]
    # a camera too close to see the whole body stops the render, and nothing is written

    close = RenderSettings(width=320, height=240, frames=(24, 32), camera=CameraParams(distance=0.8))
    with pytest.raises(CameraError, match="clip 'bf'.*camera.distance"):
        render_gt_clip("bf", motion, retargeter, close, tmp_path / "c.mp4", tmp_path / "c.gt.npz", progress=False)
    assert not (tmp_path / "c.mp4").exists() and not (tmp_path / "c.gt.npz").exists()
    with pytest.raises(ValueError, match=r"clip 'bf': frames \[24, 99\] is outside the mocap 'backflip'"):
        render_gt_clip(
            "bf",
            motion,
            retargeter,
            RenderSettings(frames=(24, 99)),
            tmp_path / "d.mp4",
            tmp_path / "d.gt.npz",
            progress=False,
        )


def test_one_projection_for_numpy_and_torch():
    """`perspective` is the projection of `Camera.project`, the reconstruction's camera and its fit alike."""
    import torch

    from sfv.camera import intrinsics, perspective

    cam = orbit_camera(np.array([0.0, 0.0, 0.9]), 3.5, 10, -60, 640, 480, 45)
    pts = np.random.default_rng(1).normal(scale=0.5, size=(7, 3)) + [0, 0, 0.9]
    uv, _ = cam.project(pts)
    in_cam = cam.to_camera(pts)
    assert np.allclose(perspective(in_cam, cam.focal, cam.K[:2, 2]), uv, atol=1e-12)
    as_torch = perspective(torch.as_tensor(in_cam), torch.as_tensor(cam.focal), torch.as_tensor(cam.K[:2, 2]))
    assert np.allclose(as_torch.numpy(), uv, atol=1e-9)
    K = intrinsics(640, 480, 45)
    behind = np.array([[0.1, 0.0, -1.0]])  # behind the camera: held at min_depth, not flipped
    for xp in (np.asarray, torch.as_tensor):
        got = np.asarray(perspective(xp(behind), xp(np.array([K[0, 0], K[1, 1]])), xp(K[:2, 2]), min_depth=0.05))
        assert got[0, 0] == pytest.approx(320 + K[0, 0] * 0.1 / 0.05)
    with pytest.raises(CameraError, match="skewed"):
        Camera(
            K=np.array([[500.0, 1.0, 320], [0, 500, 240], [0, 0, 1]]), R=np.eye(3), t=np.zeros(3), width=640, height=480
        )


@pytest.mark.slow
def test_rendered_frames_match_the_committed_hash(retargeter, tmp_path):
    """Same settings, same pixels on another machine of this kind: walk rendered as the stage renders it (params.yaml's
    camera and size, the mocap as the motion library stores it) has the frames' hash the committed metrics recorded
    (made on another session's machine). A change to the renderer that moves a pixel must update the metrics too."""
    import json

    from sfv.config import load_params
    from sfv.mocap import load_mocap
    from sfv.render.gt_clip import render_gt_clip

    root = Path(__file__).resolve().parents[1]
    params = load_params(root / "params.yaml")
    entry = params.clips["walk"]
    settings = params.render.for_clip(entry)
    assert settings.body.phenotype() == {}  # the fixture's body is the clip's
    committed = json.loads((root / "metrics" / "render" / "walk.json").read_text())["frames_sha256"]
    metrics = render_gt_clip(
        "walk",
        load_mocap(entry.mocap),
        retargeter,
        settings,
        tmp_path / "walk.mp4",
        tmp_path / "walk.gt.npz",
        progress=False,
    )
    assert metrics["frames_sha256"] == committed
