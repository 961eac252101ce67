"""The reconstruction stage on one clip: poses -> camera and world targets -> per-frame IK and smooth fit.

Pure steps with thin I/O: `prepare` turns a poses file into targets, `initial_motion` gives the fit a
start (rest pose at the targets' root, facing where the hips and torso face), `mpjpe` scores a motion
against the source mocap on rendered clips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from sfv.keypoints import MID_HIP, MID_SHOULDER, BodyMap, body_map
from sfv.motion import Motion
from sfv.reconstruct.camera import ClipCamera, Lens, estimate_camera
from sfv.reconstruct.camera_motion import camera_motion
from sfv.reconstruct.field_of_view import estimate_fov
from sfv.settings.reconstruct import TargetSettings
from sfv.skeleton import Skeleton


class ReconstructionInputError(ValueError):
    """Poses the reconstruction cannot use; the message names the file or frame and the fix."""


@dataclass
class Targets:
    world: np.ndarray  # (T, J, 3) the character's mapped bodies (its file's `keypoints`) in the y-up world (missing
    #                    frames interpolated, weight 0)
    confidence: np.ndarray  # (T, J) per-target weight: landmark confidence x SFV frame weight (0 when missing)
    keypoints_2d: np.ndarray  # (T, J, 2) the same joints in the image
    confidence_2d: np.ndarray  # (T, J)
    camera: ClipCamera
    bodies: list[int]  # skeleton body index of each target
    outliers: np.ndarray  # (T,) frames whose 3D pose turned away and back (see `outlier_frames`)
    start: np.ndarray  # (T, J, 3) where the fit starts: `world` with outlier frames also interpolated

    @property
    def reconstruction_confidence(self) -> np.ndarray:
        """The 3D targets' weights for the reconstruction: outlier frames weigh nothing, like missing ones (the
        smoothness term fills them). Per-frame IK, the baseline, keeps every frame's own weights."""
        return self.confidence * ~self.outliers[:, None]

    @property
    def reconstruction_confidence_2d(self) -> np.ndarray:
        """The 2D keypoints' weights for the reconstruction: outlier frames weigh nothing here too (the
        estimator's 2D and 3D come from one network: its flipped frames are often mirrored in 2D as well)."""
        return self.confidence_2d * ~self.outliers[:, None]


def prepare(
    poses: dict,
    skeleton: Skeleton,
    settings: TargetSettings = TargetSettings(),
    min_frames: int = 3,
    background: list | None = None,
    scene_frames: Callable[[], Iterable[np.ndarray]] | None = None,
    roll_from: str | None = None,
    pitch_from: str | None = None,
) -> Targets:
    """World targets and weights from a poses file (a `sfv.pose.poses_file.load_poses` dict). `background`: the
    clip's background points tracked from frame to frame (`sfv.reconstruct.camera_motion.track_background`), which
    tell a camera that turns as it films (with `settings.camera_motion`). `scene_frames`: the clip's frames (RGB,
    those of the poses), read where the clip's entry says `roll_from` or `pitch_from: scene`: for a camera not held
    level, its roll from the scene's vertical edges (`sfv.reconstruct.scene_roll`), the world then built level in
    the camera turned back by it; for a clip whose feet cannot tell the pitch (two levels, filmed from in front),
    the pitch from the scene's horizontal edges (`sfv.reconstruct.scene_pitch`)."""
    detected = poses["detected"].astype(bool)
    clip = poses["meta"].get("clip", "?")
    if skeleton.up_axis != "y":
        raise ReconstructionInputError(
            f"clip {clip!r}: the reconstruction builds a y-up world; character "
            f"{skeleton.name!r} is {skeleton.up_axis}-up. Reconstruct on the humanoid and "
            "retarget the motion (sfv.retarget.retarget)"
        )
    bodies = body_map(skeleton)
    if len(detected) < min_frames:
        raise ReconstructionInputError(
            f"clip {clip!r}: {len(detected)} frames; the reconstruction needs at least "
            f"{min_frames} (widen the clip's `frames` range)"
        )
    if not detected.any() or not (poses["confidence"][detected] > 0).any():
        raise ReconstructionInputError(
            f"clip {clip!r}: every frame has zero confidence (no person found); "
            "re-run the pose stage or change the clip's frame range"
        )
    meta = poses["meta"]
    fov = None
    if settings.estimate_fov:
        fov = estimate_fov(
            poses["keypoints_2d"],
            poses["keypoints_3d"],
            poses["confidence"],
            detected,
            meta["width"],
            meta["height"],
            settings.vertical_fov,
            settings.fov_min_sweep,
        )
    lens = Lens.of(meta["width"], meta["height"], fov.fov if fov else settings.vertical_fov, fov)
    turning = None
    if background is not None and settings.camera_motion:
        if len(background) != len(detected) - 1:
            raise ReconstructionInputError(
                f"clip {clip!r}: background tracked over {len(background) + 1} frames, the "
                f"poses have {len(detected)}; re-run the reconstruction on the same frames"
            )
        turning = camera_motion(background, lens.K, settings.camera_turn_min)
    camera_args = (poses["keypoints_2d"], poses["keypoints_3d"], poses["confidence"], detected, lens, bodies)
    camera_settings = dict(
        fps=float(meta.get("fps", 30.0)),
        still_foot_speed=settings.still_foot_speed,
        ray_aligned=settings.ray_aligned,
        motion=turning,
    )
    cam = estimate_camera(*camera_args, level=settings.level_camera, **camera_settings)
    reads = [k for k, v in (("roll_from", roll_from), ("pitch_from", pitch_from)) if v == "scene"]
    if reads:
        segments = _scene_segments(clip, reads, scene_frames, poses, detected, turning)
        roll = _scene_roll(clip, segments, cam, detected, bodies) if roll_from == "scene" else 0.0
        pitch = _scene_pitch(clip, segments, cam.lens.K, roll) if pitch_from == "scene" else None
        cam = estimate_camera(*camera_args, level=True, roll_deg=roll, pitch_deg=pitch, **camera_settings)
    conf = bodies.confidence(poses["confidence"], detected)
    weight = np.zeros(len(detected))
    weight[detected] = frame_weights(cam.reprojection_error_m[detected], settings.e_max)
    fps = float(meta.get("fps", 30.0))
    outliers = outlier_frames(
        cam.world_joints, detected, bodies, settings.outlier_turn, int(np.floor(settings.outlier_seconds * fps + 1e-9))
    )
    return Targets(
        world=_interpolate_missing(cam.world_joints, detected),
        confidence=conf * weight[:, None],
        keypoints_2d=bodies.joints(poses["keypoints_2d"]),
        confidence_2d=conf,
        camera=cam,
        bodies=[skeleton.index(n) for n in bodies.names],
        outliers=outliers,
        start=_interpolate_missing(cam.world_joints, detected & ~outliers),
    )


def _scene_segments(
    clip, reads: list[str], scene_frames, poses: dict, detected, turning
) -> tuple[np.ndarray, int, int]:
    """The scene's straight edges in the clip (`sfv.reconstruct.scene_roll.clip_segments`), for the camera's roll or
    pitch; an error naming the clip where they cannot tell it (no frames given, or a camera that turns)."""
    from sfv.reconstruct.scene_roll import clip_segments

    asked = " and ".join(f"{k}: scene" for k in reads)
    if scene_frames is None:
        raise ValueError(f"clip {clip!r}: {asked} needs the clip's frames (prepare's scene_frames)")
    if turning is not None and turning.moving:
        raise ReconstructionInputError(
            f"clip {clip!r}: {asked} reads a camera that stays put, and this one turns as it films; remove "
            f"{' and '.join(f'`{k}`' for k in reads)} from its entry in params.yaml"
        )
    return clip_segments(scene_frames(), float(poses["meta"].get("fps", 30.0)), poses["keypoints_2d"], detected)


def _scene_roll(clip, segments: tuple[np.ndarray, int, int], cam: ClipCamera, detected, bodies: BodyMap) -> float:
    """Degrees: the camera's roll as the scene's vertical edges show it, the candidate nearest the person's median
    torso's (`sfv.reconstruct.scene_roll.pick_roll`); an error naming the clip where the scene cannot tell it. Only
    the roll is taken: the edges' pitch depends on the lens, which a clip rarely tells (on both real clips, with the
    assumed field of view, up from the edges alone held the reference worse under PD than the feet's pitch)."""
    from sfv.reconstruct.scene_roll import pick_roll, roll_of, vertical_candidates

    torso = cam.camera_joints[detected, bodies.role(MID_SHOULDER)] - cam.camera_joints[detected, bodies.role(MID_HIP)]
    torso_roll = roll_of(np.median(torso / np.linalg.norm(torso, axis=1, keepdims=True), axis=0))
    found, looked, height = segments
    candidates = vertical_candidates(found, cam.lens.K, looked, height) if looked else []
    chosen = pick_roll(candidates, torso_roll)
    if chosen is None:
        listed = ", ".join(f"{c.roll_deg:.1f} deg ({c.support:.2f})" for c in candidates) or "none"
        raise ReconstructionInputError(
            f"clip {clip!r}: roll_from: scene, but no direction of the scene's vertical edges is both well supported "
            f"(0.3 image heights of edges per frame) and within 30 deg of the person's torso ({torso_roll:.1f} deg); "
            f"candidates (roll, support): {listed}. Film walls, door frames or posts in view, or remove `roll_from` "
            "from its entry in params.yaml (the camera is then taken as level)"
        )
    return chosen.roll_deg


def _scene_pitch(clip, segments: tuple[np.ndarray, int, int], K: np.ndarray, roll_deg: float) -> float:
    """Degrees: the level camera's pitch (looking down: positive) from the scene's horizontal edges
    (`sfv.reconstruct.scene_pitch`), in the camera turned back by `roll_deg`; an error naming the clip where no two
    perpendicular families of them are in view."""
    from sfv.camera import roll_matrix
    from sfv.reconstruct.scene_pitch import edge_families, level_pitch, scene_up

    found, looked, height = segments
    picked = scene_up(found, K, looked, height) if looked else None
    if picked is None:
        families = edge_families(found, K, looked, height) if looked else []
        listed = ", ".join(f"{np.round(f.direction, 2).tolist()} ({f.support:.2f})" for f in families) or "none"
        raise ReconstructionInputError(
            f"clip {clip!r}: pitch_from: scene, but no two families of the scene's straight edges are perpendicular "
            f"(within 5 deg) and each well supported (0.3 image heights of edges per frame); families (direction in "
            f"the camera, support): {listed}. Film a tiled floor, a box, steps or a building's sides in view, or "
            "remove `pitch_from` from its entry in params.yaml (the feet at rest then pitch the camera)"
        )
    return level_pitch(roll_matrix(roll_deg).T @ picked[0])


def body_frames(joints: np.ndarray, bodies: BodyMap) -> np.ndarray:
    """Rotation matrices (T, 3, 3) of the body from its mapped bodies' positions (T, J, 3): columns forward,
    up (mid-hip to mid-shoulder), right (left hip to right hip), as the humanoid's rest frame (+x, +y, +z)."""
    root = joints[:, bodies.role(MID_HIP)]
    right = joints[:, bodies.role(("right_hip",))] - joints[:, bodies.role(("left_hip",))]
    up = joints[:, bodies.role(MID_SHOULDER)] - root
    up = up / np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    right = right - up * np.sum(right * up, axis=1, keepdims=True)
    right /= np.maximum(np.linalg.norm(right, axis=1, keepdims=True), 1e-9)
    forward = np.cross(up, right)
    return np.stack([forward, up, right], axis=2)


def outlier_frames(
    joints: np.ndarray, detected: np.ndarray, bodies: BodyMap, max_turn_deg: float = 90.0, max_frames: int = 10
) -> np.ndarray:
    """Frames (T,) where the estimator's 3D pose flipped: the body turns more than `max_turn_deg` from one
    frame to the next (at 30 fps, 90 degrees is 2700 deg/s, beyond any skill) and back within `max_frames`.
    Between such turns the clip splits into runs; every run of at most `max_frames` frames is an outlier,
    unless no run is longer. Missing frames are skipped over."""
    idx = np.flatnonzero(detected)
    out = np.zeros(len(detected), dtype=bool)
    if len(idx) < 2:
        return out
    frames = body_frames(joints[idx], bodies)
    relative = np.einsum("tji,tjk->tik", frames[:-1], frames[1:])  # R_t^T R_t+1
    cos = np.clip((np.trace(relative, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0)
    turns = np.degrees(np.arccos(cos))
    cuts = np.flatnonzero(turns > max_turn_deg) + 1  # a new run starts at these positions of idx
    runs = np.split(np.arange(len(idx)), cuts)
    if max(len(r) for r in runs) <= max_frames:
        return out
    for r in runs:
        if len(r) <= max_frames:
            out[idx[r]] = True
    return out


def frame_weights(initial_error: np.ndarray, e_max: float) -> np.ndarray:
    """SFV's per-frame weight of the 3D term: exp(-(e / e_max)^2) of each frame's initial 2D reprojection
    error e, so frames whose 3D prediction disagrees with the image count less (e and e_max in one unit: the kit
    uses metres at the body, so the weight means the same on every camera)."""
    return np.exp(-((initial_error / e_max) ** 2))


def _interpolate_missing(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Missing frames filled by linear interpolation, held at the ends (a start for the fit only: they
    carry no weight)."""
    idx = np.flatnonzero(present)
    flat = values.reshape(len(values), -1)
    filled = np.stack([np.interp(np.arange(len(values)), idx, flat[idx, k]) for k in range(flat.shape[1])], 1)
    return filled.reshape(values.shape)


def initial_motion(targets: np.ndarray, skeleton: Skeleton, fps: float, name: str = "") -> Motion:
    """Rest pose at the targets' root, turned to face where the targets' hips and torso face."""
    bodies = body_map(skeleton)
    root = targets[:, bodies.role(MID_HIP)]
    quats = _matrix_to_quat(body_frames(targets, bodies))
    pose = np.tile(skeleton.identity_pose(), (len(root), 1))
    return Motion(skeleton, fps, root.copy(), quats, pose, name=name)


def _matrix_to_quat(m: np.ndarray) -> np.ndarray:
    import roma
    import torch

    return roma.rotmat_to_unitquat(roma.special_procrustes(torch.as_tensor(m))).numpy()
