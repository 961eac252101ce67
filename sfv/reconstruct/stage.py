"""The reconstruction stage on one clip: poses -> camera and world targets -> per-frame IK and smooth fit.

Pure steps with thin I/O: `prepare` turns a poses file into targets, `initial_motion` gives the fit a
start (rest pose at the targets' root, facing where the hips and torso face), `mpjpe` scores a motion
against the source mocap on rendered clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfv.motion import Motion
from sfv.pose.keypoints import HUMANOID_JOINTS, humanoid_joints
from sfv.reconstruct.camera import ClipCamera, estimate_camera, humanoid_confidence
from sfv.skeleton import Skeleton


class ReconstructionInputError(ValueError):
    """Poses the reconstruction cannot use; the message names the file or frame and the fix."""


@dataclass
class Targets:
    world: np.ndarray  # (T, J, 3) HUMANOID_JOINTS in the y-up world (missing frames interpolated, weight 0)
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


def prepare(poses: dict, skeleton: Skeleton, vertical_fov_deg: float, e_max: float, min_frames: int = 3,
            outlier_turn_deg: float = 90.0, outlier_frames_max: int = 10, level_camera: bool = True,
            still_foot_speed: float = 0.5) -> Targets:
    """World targets and weights from a poses file (a `sfv.pose.stage.load_poses` dict)."""
    detected = poses["detected"].astype(bool)
    clip = poses["meta"].get("clip", "?")
    if len(detected) < min_frames:
        raise ReconstructionInputError(f"clip {clip!r}: {len(detected)} frames; the reconstruction needs at least "
                                       f"{min_frames} (widen the clip's `frames` range)")
    if not detected.any() or not (poses["confidence"][detected] > 0).any():
        raise ReconstructionInputError(f"clip {clip!r}: every frame has zero confidence (no person found); "
                                       "re-run the pose stage or change the clip's frame range")
    meta = poses["meta"]
    cam = estimate_camera(poses["keypoints_2d"], poses["keypoints_3d"], poses["confidence"], detected,
                          meta["width"], meta["height"], vertical_fov_deg, level=level_camera,
                          fps=float(meta.get("fps", 30.0)), still_foot_speed=still_foot_speed)
    conf = humanoid_confidence(poses["confidence"], detected)
    weight = np.zeros(len(detected))
    weight[detected] = frame_weights(cam.reprojection_error[detected], e_max)
    outliers = outlier_frames(cam.world_joints, detected, outlier_turn_deg, outlier_frames_max)
    bodies = [skeleton.index(n) for n in HUMANOID_JOINTS]
    return Targets(world=_interpolate_missing(cam.world_joints, detected), confidence=conf * weight[:, None],
                   keypoints_2d=humanoid_joints(poses["keypoints_2d"]), confidence_2d=conf, camera=cam, bodies=bodies,
                   outliers=outliers, start=_interpolate_missing(cam.world_joints, detected & ~outliers))


def body_frames(joints: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) of the body from HUMANOID_JOINTS positions (T, J, 3): columns forward,
    up (hips to neck), right (left hip to right hip), as the humanoid's rest frame (+x, +y, +z)."""
    names = list(HUMANOID_JOINTS)
    root = joints[:, names.index("root")]
    right = joints[:, names.index("right_hip")] - joints[:, names.index("left_hip")]
    up = joints[:, names.index("neck")] - root
    up = up / np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    right = right - up * np.sum(right * up, axis=1, keepdims=True)
    right /= np.maximum(np.linalg.norm(right, axis=1, keepdims=True), 1e-9)
    forward = np.cross(up, right)
    return np.stack([forward, up, right], axis=2)


def outlier_frames(joints: np.ndarray, detected: np.ndarray, max_turn_deg: float = 90.0,
                   max_frames: int = 10) -> np.ndarray:
    """Frames (T,) where the estimator's 3D pose flipped: the body turns more than `max_turn_deg` from one
    frame to the next (at 30 fps, 90 degrees is 2700 deg/s, beyond any skill) and back within `max_frames`.
    Between such turns the clip splits into runs; every run of at most `max_frames` frames is an outlier,
    unless no run is longer. Missing frames are skipped over."""
    idx = np.flatnonzero(detected)
    out = np.zeros(len(detected), dtype=bool)
    if len(idx) < 2:
        return out
    frames = body_frames(joints[idx])
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
    error e, so frames whose 3D prediction disagrees with the image count less."""
    return np.exp(-(initial_error / e_max) ** 2)


def _interpolate_missing(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Missing frames filled by linear interpolation, held at the ends (a start for the fit only: they
    carry no weight)."""
    idx = np.flatnonzero(present)
    flat = values.reshape(len(values), -1)
    filled = np.stack([np.interp(np.arange(len(values)), idx, flat[idx, k]) for k in range(flat.shape[1])], 1)
    return filled.reshape(values.shape)


def initial_motion(targets: np.ndarray, skeleton: Skeleton, fps: float, name: str = "") -> Motion:
    """Rest pose at the targets' root, turned to face where the targets' hips and torso face."""
    root = targets[:, list(HUMANOID_JOINTS).index("root")]
    quats = _matrix_to_quat(body_frames(targets))
    pose = np.tile(skeleton.identity_pose(), (len(root), 1))
    return Motion(skeleton, fps, root.copy(), quats, pose, name=name)


def _matrix_to_quat(m: np.ndarray) -> np.ndarray:
    import roma
    import torch

    return roma.rotmat_to_unitquat(roma.special_procrustes(torch.as_tensor(m))).numpy()


def mpjpe(motion_positions: np.ndarray, source_positions: np.ndarray) -> float:
    """Root-aligned mean per-joint error (mm) after one rotation for the whole clip (the reconstruction's
    world is the camera's, turned about an unknown heading): positions (T, J, 3), root first."""
    a = motion_positions - motion_positions[:, :1]
    b = source_positions - source_positions[:, :1]
    u, _, vt = np.linalg.svd(a.reshape(-1, 3).T @ b.reshape(-1, 3))
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1, 1, d]) @ vt
    return float(np.linalg.norm(a @ rot - b, axis=-1).mean() * 1000)



def fit_settings(params, seed: int = 0):
    """FitSettings from params.yaml `reconstruct` (a config.ReconstructParams)."""
    from sfv.reconstruct.fit import FitSettings, FitWeights

    w = params.weights
    return FitSettings(ik_iterations=params.ik_iterations, iterations=params.iterations,
                       learning_rate=params.learning_rate, optimizer=params.optimizer, seed=seed,
                       weights=FitWeights(keypoint_3d=w.keypoint_3d, root_position=w.root_position,
                                          smoothness=w.smoothness, ground=w.ground, robust_scale=params.robust_scale,
                                          reprojection=w.reprojection, robust_pixels=params.robust_pixels,
                                          joint_limits=w.joint_limits, foot_sliding=w.foot_sliding,
                                          contact_height=params.contact_height, contact_speed=params.contact_speed))


def reprojection_error(positions: np.ndarray, targets: Targets) -> float:
    """Confidence-weighted pixel distance (px) between the motion's joints (T, J, 3), projected through the
    estimated camera, and the 2D keypoints."""
    uv, _ = targets.camera.camera.project(positions)
    w = targets.confidence_2d
    return float((w * np.linalg.norm(uv - targets.keypoints_2d, axis=-1)).sum() / max(w.sum(), 1e-9))


def foot_sliding_speed(motion: Motion, contact: np.ndarray, up_axis: int = 1) -> float:
    """Mean horizontal speed (m/s) of the character's feet over consecutive frames both planted in `contact`
    (T, F): what the foot-sliding term removes."""
    from sfv.reconstruct.fit import feet

    flat = [a for a in range(3) if a != up_axis]
    f = motion.body_positions()[0][:, feet(motion.skeleton)][..., flat]
    speed = np.linalg.norm(np.diff(f, axis=0), axis=-1) * motion.fps
    both = np.minimum(contact[1:], contact[:-1])
    return float((speed * both).sum() / max(both.sum(), 1.0))


def limit_violations(motion: Motion, tolerance: float = 0.05) -> int:
    """Frames x joints where a revolute joint is more than `tolerance` rad outside its range (a knee bent
    forwards, an elbow backwards): poses the simulated character cannot take."""
    sl = motion.skeleton.dof_slices
    count = 0
    for b in motion.skeleton.joints:
        if b.joint_type == "revolute" and b.limits is not None:
            a = motion.pose[:, sl[b.name]][:, 0]
            count += int(((a < b.limits[0] - tolerance) | (a > b.limits[1] + tolerance)).sum())
    return count


def root_trajectory_error(root: np.ndarray, source_root: np.ndarray, up_axis: int = 1) -> float:
    """Mean distance (m) between two root trajectories (T, 3) after the best turn about the up axis and
    shift (the reconstruction's world has the camera's heading and an arbitrary origin)."""
    flat = [a for a in range(3) if a != up_axis]
    a = root - root.mean(0)
    b = source_root - source_root.mean(0)
    # the turn that best maps a's horizontal part onto b's (2D Procrustes, no reflection)
    h = a[:, flat].T @ b[:, flat]
    angle = np.arctan2(h[0, 1] - h[1, 0], h[0, 0] + h[1, 1])
    c, s = np.cos(angle), np.sin(angle)
    turned = a.copy()
    turned[:, flat[0]] = c * a[:, flat[0]] - s * a[:, flat[1]]
    turned[:, flat[1]] = s * a[:, flat[0]] + c * a[:, flat[1]]
    return float(np.linalg.norm(turned - b, axis=1).mean())
