"""Ground-truth clips: a mocap motion played by a human body, filmed by a known camera.

`render_gt_clip` writes the video (mp4) and an npz holding everything later stages are measured
against: the source motion, its joints in 3D, the body's COCO keypoints in 3D and 2D with their
visibility, the silhouettes and the camera. Same settings, same frames: nothing here is random.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from sfv.camera import Camera, CameraError, look_at, orbit_camera
from sfv.frame_grid import frame_grid
from sfv.io import write_npz
from sfv.keypoints import COCO17, COCO_EDGES
from sfv.motion import Motion
from sfv.plots import crop_box
from sfv.render.body import (
    COLOURS,
    FOLLOWED_JOINTS,
    BodyRetargeter,
    PosedClip,
    follow_errors,
    foot_down,
)
from sfv.render.ground_truth import GT_FORMAT
from sfv.render.platform import Platform
from sfv.settings.render import RenderSettings

#: a keypoint hidden by at most this much body in front of it still counts as visible (joint centres lie
#: inside the limb they belong to, up to ~12 cm under the skin of the hips)
OCCLUSION_TOLERANCE_M = 0.15


def source_frames(name: str, motion: Motion, settings: RenderSettings) -> Motion:
    """The mocap at the video's frame rate, cut to the clip's [first, end) frame range."""
    source = motion.resample(settings.fps) if abs(motion.fps - settings.fps) > 1e-9 else motion
    first, end = settings.frames
    stop = source.n_frames if end is None else end
    if first >= source.n_frames or stop > source.n_frames or stop - first < 2:
        raise ValueError(
            f"clip {name!r}: frames [{first}, {end}] is outside the mocap {motion.name!r}, which has "
            f"{source.n_frames} frames at {settings.fps:g} fps; set `frames` in its params.yaml entry "
            f"within [0, {source.n_frames}] (end null = to the last frame)"
        )
    keep = slice(first, stop)
    return replace(source, root_pos=source.root_pos[keep], root_rot=source.root_rot[keep], pose=source.pose[keep])


def frame_camera(posed: PosedClip, settings: RenderSettings) -> Camera:
    """The clip's fixed camera: aimed at the middle of the hips' path, 0.9 m above the ground."""
    hips = posed.source_joints[:, 1]
    target = np.array([(hips[:, 0].min() + hips[:, 0].max()) / 2, (hips[:, 1].min() + hips[:, 1].max()) / 2, 0.9])
    c = settings.camera
    return orbit_camera(target, c.distance, c.elevation, c.azimuth, settings.width, settings.height, c.fov, c.roll)


def frame_cameras(posed: PosedClip, settings: RenderSettings) -> list[Camera]:
    """The clip's camera at each frame. With `camera.follow` 0 it is `frame_camera` throughout; above 0 it stays
    where `frame_camera` puts it but turns (pan and tilt about its own centre, the roll kept) towards a point
    that follows the hips that share of the way from the fixed aim, at its height: an operator panning with
    the person."""
    fixed = frame_camera(posed, settings)
    follow = settings.camera.follow
    if follow == 0:
        return [fixed] * len(posed.source_joints)
    hips = posed.source_joints[:, 1]
    aim = np.array([(hips[:, 0].min() + hips[:, 0].max()) / 2, (hips[:, 1].min() + hips[:, 1].max()) / 2, 0.9])
    eye = fixed.position
    turn = fixed.R @ look_at(eye, aim)[0].T  # the fixed camera's roll about its optical axis
    cams = []
    for h in hips:
        R, t = look_at(eye, aim + follow * np.array([h[0] - aim[0], h[1] - aim[1], 0.0]))
        cams.append(Camera(K=fixed.K, R=turn @ R, t=turn @ t, width=fixed.width, height=fixed.height))
    return cams


def check_camera_sees_body(camera: Camera, keypoints: np.ndarray, where: str, names=COCO17) -> None:
    """Every COCO keypoint of every frame must be in the image: a benchmark clip shows the whole body."""
    uv, depth = camera.project(keypoints)
    inside = camera.in_image(uv, depth)
    if inside.all():
        return
    frames = np.flatnonzero(~inside.all(axis=1))
    f = int(frames[0])
    missing = [names[k] for k in np.flatnonzero(~inside[f])]
    none = np.flatnonzero(~inside.any(axis=1))
    what = "does not see the body at all" if len(none) else "cuts off part of the body"
    raise CameraError(
        f"{where}: the camera {what} in {len(frames)} of {len(inside)} frames (first: frame {f}, "
        f"missing {', '.join(missing[:6])}{'...' if len(missing) > 6 else ''}); increase camera.distance "
        f"or fov, or change elevation/azimuth, in the clip's entry in params.yaml"
    )


def visibility(camera: Camera, keypoints: np.ndarray, depth_image: np.ndarray) -> np.ndarray:
    """Per keypoint: in the image and not hidden behind more than OCCLUSION_TOLERANCE_M of body."""
    uv, depth = camera.project(keypoints)
    inside = camera.in_image(uv, depth)
    h, w = depth_image.shape
    col = np.clip(np.floor(uv[:, 0]).astype(int), 0, w - 1)
    row = np.clip(np.floor(uv[:, 1]).astype(int), 0, h - 1)
    surface = depth_image[row, col]
    return inside & (depth <= surface + OCCLUSION_TOLERANCE_M)


def render_gt_clip(
    name: str,
    motion: Motion,
    retargeter: BodyRetargeter,
    settings: RenderSettings,
    video_path: str | Path,
    gt_path: str | Path,
    progress: bool = True,
    platform: Platform | None = None,
) -> dict:
    """Render `motion` (resampled to settings.fps) to `video_path` and its ground truth to `gt_path`.

    `platform` (in the motion's world, `sfv.render.platform`) is drawn under it and recorded with the truth.
    Returns the figures for the stage's metrics: frames, render seconds per frame, how faithfully
    the body follows the mocap, keypoint visibility.
    """
    from tqdm.auto import tqdm

    from sfv.render.tiny import TinyRenderer
    from sfv.video import mp4_writer

    source = source_frames(name, motion, settings)
    posed = retargeter.pose_frames(source.root_pos, source.root_rot, source.pose)
    cameras = frame_cameras(posed, settings)
    camera = cameras[0]
    moving = settings.camera.follow > 0
    T, K = posed.keypoints.shape[:2]
    kp2d, kp_depth = np.zeros((T, K, 2)), np.zeros((T, K))
    for f, cam in enumerate(cameras if moving else [camera]):
        frames = slice(f, f + 1) if moving else slice(None)
        check_camera_sees_body(cam, posed.keypoints[frames, :17], f"clip {name!r}")
        kp2d[frames], kp_depth[frames] = cam.project(posed.keypoints[frames])
    visible = np.zeros((T, K), dtype=bool)
    silhouettes = np.zeros((T, settings.height, (settings.width + 7) // 8), dtype=np.uint8)
    boxes = [] if platform is None else [render_box(platform, retargeter.to_world, posed.scale, posed.lift)]
    digest = hashlib.sha256()
    render_seconds = 0.0
    with TinyRenderer(camera) as renderer, mp4_writer(video_path, settings.fps) as append:
        for f in tqdm(range(T), desc=f"render {name}", unit="frame", disable=not progress):
            t0 = time.perf_counter()
            rgb, depth, silhouette = renderer.render(
                posed.vertices[f], retargeter.face_groups, COLOURS, cameras[f], boxes=boxes
            )
            render_seconds += time.perf_counter() - t0
            append(rgb)
            digest.update(rgb.tobytes())
            visible[f] = visibility(cameras[f], posed.keypoints[f], depth)
            silhouettes[f] = np.packbits(silhouette, axis=1)
    follow = follow_errors(retargeter, posed)
    contact = sole_gap_in_contact(posed)
    on_body = _on_silhouette(kp2d[:, :17], silhouettes, settings.width)
    arrays = {
        "format": np.array(GT_FORMAT),
        "clip": np.array(name),
        "source_motion": np.array(motion.name),
        "fps": np.array(settings.fps),
        # the source motion at the video's frame rate, on the humanoid, in its own (y-up) world
        "source_root_pos": source.root_pos,
        "source_root_rot": source.root_rot,
        "source_pose": source.pose,
        "source_joints": source.body_positions()[0],
        "source_joint_names": np.array(source.skeleton.body_names),
        # the same joints placed as the body in the video (z-up, scaled): render = scale * R @ x
        "source_joints_render": posed.source_joints,
        "source_to_render_rotation": retargeter.to_world,
        "source_to_render_scale": np.array(posed.scale),
        # the rendered body's keypoints (COCO-17 first, then anny's six foot points)
        "keypoint_names": np.array(posed.keypoint_names),
        "keypoints_3d": posed.keypoints,
        "keypoints_2d": kp2d,
        "keypoints_depth": kp_depth,
        "visible": visible,
        "body_joints": posed.body_joints,
        "body_joint_names": np.array(list(FOLLOWED_JOINTS)),
        "sole_heights": posed.sole_heights,  # (T, 2) lowest vertex of the left, right shoe: foot contact truth
        "source_sole_heights": posed.source_sole_heights,  # (T, 2) the humanoid's foot boxes, same placement
        "phenotype": np.array(repr(retargeter.phenotype)),
        "silhouette_packed": silhouettes,
        "frames_sha256": np.array(digest.hexdigest()),
        **camera.to_arrays(),  # the first frame's camera (the only one unless it follows the person)
    }
    if moving:  # each frame's extrinsics (written only for a moving camera: fixed clips' files stay as they were)
        arrays.update(
            camera_frames_R=np.stack([c.R for c in cameras]), camera_frames_t=np.stack([c.t for c in cameras])
        )
    if (
        platform is not None
    ):  # the known scene (written only for a clip that has one: flat clips' files stay as they were)
        arrays.update(
            scene_platform_source=np.stack([platform.lo, platform.hi]),  # box corners in the source's world
            scene_platform_render=np.stack(boxes[0]),  # the same box as drawn in the video's world
            scene_platform_height=np.array(platform.height),
            scene_platform_forward=platform.forward,  # the source's travel; the drop's edge lies along it
            scene_platform_edge=np.array(platform.edge),
        )
    write_npz(gt_path, compress=True, **arrays)
    return {
        "frames": int(T),
        "fps": float(settings.fps),
        "seconds": round(T / settings.fps, 3),
        "width": settings.width,
        "height": settings.height,
        "render_seconds_per_frame": round(render_seconds / T, 4),
        "joint_error_mean_m": round(follow["joint_error_mean_m"], 4),
        "joint_error_max_m": round(follow["joint_error_max_m"], 4),
        "limb_direction_error_max_deg": round(follow["limb_direction_error_max_deg"], 4),
        "body_scale": round(posed.scale, 4),
        "lift_m": round(posed.lift, 4),
        "sole_gap_in_contact_m": round(contact, 4),
        "coco_visible_fraction": round(float(visible[:, :17].mean()), 4),
        "coco_on_silhouette_fraction": round(float(on_body), 4),
        "frames_sha256": digest.hexdigest(),
    }


def render_box(platform: Platform, to_world: np.ndarray, scale: float, lift: float) -> tuple[np.ndarray, np.ndarray]:
    """The platform's (low, high) corners placed as the body is in the video: scale * R @ x, raised by `lift`
    (R turns the source's up axis to z: the box stays axis-aligned)."""
    corners = np.array(
        [
            [a[0], b[1], c[2]]
            for a in (platform.lo, platform.hi)
            for b in (platform.lo, platform.hi)
            for c in (platform.lo, platform.hi)
        ]
    )
    placed = corners @ to_world.T * scale + np.array([0.0, 0.0, lift])
    low, high = placed.min(axis=0), placed.max(axis=0)
    low[2] = 0.0  # on the video's floor (its top is where the body's soles stand on it)
    return low, high


def sole_gap_in_contact(posed: PosedClip) -> float:
    """Mean distance (m) between the body's soles and the mocap's soles in the frames where the mocap's foot
    is down: ~0 when the body's feet are on the ground where the mocap has them."""
    down = foot_down(posed.source_sole_heights)
    return float(np.abs(posed.sole_heights[down] - posed.source_sole_heights[down]).mean())


def _on_silhouette(uv: np.ndarray, packed: np.ndarray, width: int, radius: int = 2) -> float:
    """Fraction of keypoints within `radius` pixels of the body's silhouette."""
    T = len(uv)
    sil = np.unpackbits(packed, axis=2)[..., :width].astype(bool)
    h = sil.shape[1]
    hits = 0
    for f in range(T):
        col = np.floor(uv[f, :, 0]).astype(int)
        row = np.floor(uv[f, :, 1]).astype(int)
        for r, c in zip(row, col):
            hits += bool(
                sil[
                    f,
                    max(r - radius, 0) : max(min(r + radius + 1, h), 0),
                    max(c - radius, 0) : max(min(c + radius + 1, width), 0),
                ].any()
            )
    return hits / uv[:, :, 0].size


def contact_sheet(
    frames: list[np.ndarray], keypoints_2d: list[np.ndarray], visible: list[np.ndarray], labels: list[str], title: str
):
    """Video frames, cropped around the body, with the ground-truth COCO skeleton drawn on them (hidden
    keypoints hollow)."""
    x0, y0, x1, y1 = crop_box(np.stack(keypoints_2d), frames[0].shape[1], frames[0].shape[0])
    kps = [k - np.array([x0, y0]) for k in keypoints_2d]

    def skeleton(ax, k):
        kp, vis = kps[k], visible[k]
        for a, b in COCO_EDGES:
            ax.plot(kp[[a, b], 0], kp[[a, b], 1], color="#2ca02c", lw=1.2)
        ax.scatter(kp[vis, 0], kp[vis, 1], s=8, color="#2ca02c", zorder=3)
        ax.scatter(kp[~vis, 0], kp[~vis, 1], s=10, facecolors="none", edgecolors="#ff7f0e", zorder=3)

    return frame_grid([f[y0:y1, x0:x1] for f in frames], labels, title, draw=skeleton)
