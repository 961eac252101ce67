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
from sfv.reconstruct.losses import frame_weights
from sfv.skeleton import Skeleton


class ReconstructionInputError(ValueError):
    """Poses the reconstruction cannot use; the message names the file or frame and the fix."""


@dataclass
class Targets:
    world: np.ndarray  # (T, J, 3) HUMANOID_JOINTS in the y-up world (missing frames interpolated)
    confidence: np.ndarray  # (T, J) per-target weight: landmark confidence x SFV frame weight (0 when missing)
    keypoints_2d: np.ndarray  # (T, J, 2) the same joints in the image
    confidence_2d: np.ndarray  # (T, J)
    camera: ClipCamera
    bodies: list[int]  # skeleton body index of each target


def prepare(poses: dict, skeleton: Skeleton, vertical_fov_deg: float, e_max: float, min_frames: int = 3) -> Targets:
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
                          meta["width"], meta["height"], vertical_fov_deg)
    conf = humanoid_confidence(poses["confidence"], detected)
    weight = np.zeros(len(detected))
    weight[detected] = frame_weights_np(cam.reprojection_error[detected], e_max)
    world = _interpolate_missing(cam.world_joints, detected)
    bodies = [skeleton.index(n) for n in HUMANOID_JOINTS]
    return Targets(world=world, confidence=conf * weight[:, None], keypoints_2d=humanoid_joints(poses["keypoints_2d"]),
                   confidence_2d=conf, camera=cam, bodies=bodies)


def frame_weights_np(errors: np.ndarray, e_max: float) -> np.ndarray:
    import torch

    return frame_weights(torch.as_tensor(errors, dtype=torch.float64), e_max).numpy()


def _interpolate_missing(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Missing frames filled by linear interpolation, held at the ends (a start for the fit only: they
    carry no weight)."""
    idx = np.flatnonzero(present)
    flat = values.reshape(len(values), -1)
    filled = np.stack([np.interp(np.arange(len(values)), idx, flat[idx, k]) for k in range(flat.shape[1])], 1)
    return filled.reshape(values.shape)


def initial_motion(targets: np.ndarray, skeleton: Skeleton, fps: float, name: str = "") -> Motion:
    """Rest pose at the targets' root, turned to face where the targets' hips and torso face."""
    names = list(HUMANOID_JOINTS)
    root = targets[:, names.index("root")]
    right = targets[:, names.index("right_hip")] - targets[:, names.index("left_hip")]
    up = targets[:, names.index("neck")] - root
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    right -= up * np.sum(right * up, axis=1, keepdims=True)
    right /= np.maximum(np.linalg.norm(right, axis=1, keepdims=True), 1e-9)
    forward = np.cross(up, right)
    # the humanoid's rest frame: forward +x, up +y, right +z
    mats = np.stack([forward, up, right], axis=2)
    quats = _matrix_to_quat(mats)
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
