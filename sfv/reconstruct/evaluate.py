"""Scoring a reconstruction, and the comparisons the stage reports: jitter, 2D reprojection, feet, joint
ranges, and on rendered clips the error against the source mocap; the smoothness and term ablations.

Pure functions over motions and arrays; the notebook only calls them and shows what they return.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sfv.alignment import best_rotation
from sfv.motion import Motion
from sfv.reconstruct import losses
from sfv.reconstruct.fit import feet, per_frame, planted_feet, reconstruct
from sfv.reconstruct.stage import Targets
from sfv.settings.reconstruct import FitSettings


@dataclass
class Truth:
    """What a rendered clip's ground truth says about the motion (clip frames only)."""

    joints: np.ndarray  # (T, J, 3) the source mocap's joints at the targets' bodies, in its y-up world
    root: np.ndarray  # (T, 3) its root
    up: np.ndarray  # (3,) the true up direction in the render camera's frame
    fov: float | None = None  # the render camera's vertical field of view, degrees
    rotations: np.ndarray | None = None  # (T, 3, 3) a turning render camera's orientation relative to its first frame

    @classmethod
    def from_ground_truth(cls, gt: dict, first: int, frames: int, bodies: list[int]) -> "Truth":
        source = gt["source_joints"][first : first + frames]
        cam = gt.get("camera")
        fov = float(np.degrees(2 * np.arctan(cam.height / 2 / cam.K[1, 1]))) if cam is not None else None
        rotations = None
        if "camera_frames_R" in gt:  # x_t = R_t R_0^T x_0
            R = gt["camera_frames_R"][first : first + frames]
            rotations = np.einsum("tij,kj->tik", R, gt["camera_R"])
        return cls(
            joints=source[:, bodies],
            root=source[:, 0],
            up=gt["camera_R"] @ np.array([0.0, 0.0, 1.0]),
            fov=fov,
            rotations=rotations,
        )


def mpjpe(motion_positions: np.ndarray, source_positions: np.ndarray) -> float:
    """Root-aligned mean per-joint error (mm) after one rotation for the whole clip (the reconstruction's
    world is the camera's, turned about an unknown heading): positions (T, J, 3), root first."""
    a = motion_positions - motion_positions[:, :1]
    b = source_positions - source_positions[:, :1]
    rot = best_rotation(a.reshape(-1, 3), b.reshape(-1, 3))
    return float(np.linalg.norm(a @ rot.T - b, axis=-1).mean() * 1000)


def reprojection_error(positions: np.ndarray, targets: Targets) -> float:
    """Confidence-weighted pixel distance (px) between the motion's joints (T, J, 3), projected through the
    estimated camera, and the 2D keypoints."""
    uv, _ = targets.camera.frames.project(positions)
    w = targets.confidence_2d
    return float((w * np.linalg.norm(uv - targets.keypoints_2d, axis=-1)).sum() / max(w.sum(), 1e-9))


def foot_sliding_speed(motion: Motion, contact: np.ndarray, up_axis: int = 1) -> float:
    """Mean horizontal speed (m/s) of the character's feet over consecutive frames both planted in `contact`
    (T, F): what the foot-sliding term removes."""
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


def jitter(positions: np.ndarray, fps: float) -> float:
    """Mean joint acceleration (m/s^2) of positions (T, J, 3)."""
    return losses.jitter(torch.as_tensor(positions), fps).item()


def _positions(motion: Motion, targets: Targets) -> np.ndarray:
    return motion.body_positions()[0][:, targets.bodies]


def clip_metrics(
    motion: Motion, ik: Motion, targets: Targets, curve: list[float], settings: FitSettings, truth: Truth | None = None
) -> dict:
    """The stage's figures for a reconstruction `motion` against the per-frame IK baseline `ik`: jitter, 2D
    reprojection, loss, outlier frames, planted-foot speed, joint-range violations; with `truth`, MPJPE (mm),
    root trajectory error (m) and the estimated camera's up error (degrees)."""
    fps = motion.fps
    pos, pos_ik = _positions(motion, targets), _positions(ik, targets)
    metrics = {
        "frames": int(motion.n_frames),
        "fps": fps,
        "jitter_targets": round(jitter(targets.world, fps), 2),
        "jitter_ik": round(jitter(pos_ik, fps), 2),
        "jitter": round(jitter(pos, fps), 2),
        "reprojection_error_px_ik": round(reprojection_error(pos_ik, targets), 2),
        "reprojection_error_px": round(reprojection_error(pos, targets), 2),
        "loss_first": round(curve[0], 5),
        "loss_last": round(curve[-1], 5),
        "outlier_frames": np.flatnonzero(targets.outliers).tolist(),
        "fov_deg": round(targets.camera.vertical_fov, 1),
    }
    if targets.camera.pitch_deg is not None:  # read from the scene's horizontal edges (pitch_from: scene)
        metrics["scene_pitch_deg"] = round(targets.camera.pitch_deg, 2)
    if targets.camera.motion is not None:
        metrics.update(
            camera_moving=targets.camera.motion.moving,
            camera_turn_max_deg=round(float(targets.camera.motion.turn_deg.max()), 1),
        )
    if targets.camera.lens.estimate is not None:
        metrics.update(
            fov_estimated=targets.camera.lens.estimate.estimated,
            fov_best_deg=round(targets.camera.lens.estimate.best, 1),
            fov_sweep_deg=round(targets.camera.lens.estimate.sweep, 1),
        )
    planted = planted_feet(ik, settings)  # where the per-frame IK has a foot down
    metrics.update(
        planted_fraction=round(float(planted.mean()), 3),
        foot_sliding_ik=round(foot_sliding_speed(ik, planted), 3),
        foot_sliding=round(foot_sliding_speed(motion, planted), 3),
        joint_limit_violations_ik=limit_violations(ik),
        joint_limit_violations=limit_violations(motion),
    )
    metrics["jitter_drop"] = round(metrics["jitter_ik"] / max(metrics["jitter"], 1e-9), 2)
    if truth is not None:
        metrics.update(
            mpjpe_mm_targets=round(mpjpe(targets.world, truth.joints), 1),
            mpjpe_mm_ik=round(mpjpe(pos_ik, truth.joints), 1),
            mpjpe_mm=round(mpjpe(pos, truth.joints), 1),
            jitter_source=round(jitter(truth.joints, fps), 2),
        )
        metrics.update(
            root_error_m_ik=round(root_trajectory_error(ik.root_pos, truth.root), 3),
            root_error_m=round(root_trajectory_error(motion.root_pos, truth.root), 3),
        )
        up = targets.camera.camera.R[:, 1]
        metrics["up_error_deg"] = round(float(np.degrees(np.arccos(np.clip(up @ truth.up, -1, 1)))), 1)
        if truth.rotations is not None and targets.camera.motion is not None:
            from sfv.reconstruct.camera_motion import angle_deg

            found = targets.camera.motion.rotations
            err = angle_deg(np.einsum("tji,tjk->tik", truth.rotations, found))
            metrics.update(
                camera_turn_true_max_deg=round(float(angle_deg(truth.rotations).max()), 1),
                camera_turn_error_mean_deg=round(float(err.mean()), 2),
                camera_turn_error_max_deg=round(float(err.max()), 2),
            )
        if truth.fov is not None:
            metrics.update(fov_true_deg=round(truth.fov, 1), fov_error_deg=round(metrics["fov_deg"] - truth.fov, 1))
    return metrics


def _image(targets: Targets, outliers_weigh_nothing: bool = True) -> tuple:
    """The fit's 2D evidence: the estimated camera, the keypoints, their weights (outlier frames at 0 for the
    reconstruction; as they are for the per-frame IK baseline)."""
    conf = targets.reconstruction_confidence_2d if outliers_weigh_nothing else targets.confidence_2d
    return targets.camera.frames, targets.keypoints_2d, conf, targets.camera.metres_per_pixel


def fit_clip(
    init: Motion, targets: Targets, settings: FitSettings, progress=None, seed: int = 0
) -> tuple[Motion, Motion, list[float], Motion]:
    """The reconstruction and its baseline on one clip: (reconstruction, its IK phase, its loss curve,
    per-frame IK with as many loss evaluations, fitting every frame's targets as they are)."""
    motion, ik_phase, curve = reconstruct(
        init,
        targets.world,
        targets.bodies,
        targets.reconstruction_confidence,
        settings,
        progress=progress,
        image=_image(targets),
        seed=seed,
    )
    ik, _, _ = reconstruct(
        init,
        targets.world,
        targets.bodies,
        targets.confidence,
        per_frame(settings),
        progress=progress,
        image=_image(targets, False),
        seed=seed,
    )
    return motion, ik_phase, curve, ik


def smoothness_ablation(
    init: Motion,
    targets: Targets,
    settings: FitSettings,
    weights: list[float],
    motion: Motion,
    ik: Motion,
    ik_phase: Motion,
    truth: Truth | None = None,
    seed: int = 0,
) -> list[dict]:
    """The reconstruction at other smoothness weights (0 is the per-frame IK `ik`; `settings`' own weight is
    `motion`), each scored by jitter, MPJPE (with `truth`) and 2D reprojection, sorted by weight. Fits with
    another weight reuse the IK phase: only the smoothness term differs."""
    fps = motion.fps

    def row(weight: float, m: Motion) -> dict:
        p = _positions(m, targets)
        return {
            "smoothness": weight,
            "jitter": round(jitter(p, fps), 2),
            "mpjpe_mm": round(mpjpe(p, truth.joints), 1) if truth is not None else None,
            "reprojection_error_px": round(reprojection_error(p, targets), 2),
        }

    rows = [row(0.0, ik), row(settings.weights.smoothness, motion)]
    for w in weights:
        m_w, _, _ = reconstruct(
            init,
            targets.world,
            targets.bodies,
            targets.reconstruction_confidence,
            settings.with_weights(smoothness=float(w)),
            image=_image(targets),
            ik=ik_phase,
            seed=seed,
        )
        rows.append(row(w, m_w))
    return sorted(rows, key=lambda r: r["smoothness"])


def scores(m: Motion, targets: Targets, planted: np.ndarray, truth: Truth | None = None) -> dict:
    """A motion's jitter, 2D reprojection, planted-foot speed and joint-range violations; with `truth` its
    MPJPE and root trajectory error."""
    p = _positions(m, targets)
    out = {
        "jitter": jitter(p, m.fps),
        "reprojection_error_px": reprojection_error(p, targets),
        "foot_sliding": foot_sliding_speed(m, planted),
        "joint_limit_violations": limit_violations(m),
    }
    if truth is not None:
        out.update(mpjpe_mm=mpjpe(p, truth.joints), root_error_m=root_trajectory_error(m.root_pos, truth.root))
    return out


#: the term ablation's variants, in the order the figure shows them
TERM_VARIANTS = (
    "reconstruction",
    "outlier frames kept",
    "no joint ranges",
    "no foot sliding term",
    "root held to depth from scale",
)
#: the variant of a clip whose fit holds the hips' turn steady (`reconstruct.turning`): shown for those clips only
UNSTEADY_TURN = "hips' turn not held steady"


def term_ablation(
    init: Motion,
    targets: Targets,
    settings: FitSettings,
    motion: Motion,
    ik: Motion,
    ik_phase: Motion,
    truth: Truth | None = None,
    progress=None,
    seed: int = 0,
) -> dict[str, dict]:
    """The reconstruction again, each time without one ingredient (see TERM_VARIANTS), scored by `scores`
    (the planted feet are the per-frame IK's). A variant with no outlier frames to keep is the reconstruction
    itself and is not fitted twice; one whose per-frame terms are unchanged reuses the IK phase. A clip fitted with
    the turn's smoothness (`reconstruct.turning`) is also fitted without it (UNSTEADY_TURN)."""
    planted = planted_feet(ik, settings)
    variants = {
        "outlier frames kept": (
            (settings, targets.confidence, _image(targets, False), None) if targets.outliers.any() else None
        ),
        "no joint ranges": (
            settings.with_weights(joint_limits=0.0),
            targets.reconstruction_confidence,
            _image(targets),
            None,
        ),
        "no foot sliding term": (
            settings.with_weights(foot_sliding=0.0),
            targets.reconstruction_confidence,
            _image(targets),
            ik_phase,
        ),
        "root held to depth from scale": (
            settings.with_weights(root_position=1.0),
            targets.reconstruction_confidence,
            _image(targets),
            None,
        ),
    }
    names = TERM_VARIANTS
    if settings.weights.turn_smoothness > 0:
        variants[UNSTEADY_TURN] = (
            settings.with_weights(turn_smoothness=0.0),
            targets.reconstruction_confidence,
            _image(targets),
            ik_phase,
        )
        names += (UNSTEADY_TURN,)
    rows = {"reconstruction": scores(motion, targets, planted, truth)}
    for name, spec in variants.items():
        if spec is None:
            rows[name] = rows["reconstruction"]
        else:
            s_v, conf_v, image_v, start = spec
            m_v, _, _ = reconstruct(
                init, targets.world, targets.bodies, conf_v, s_v, image=image_v, ik=start, seed=seed
            )
            rows[name] = scores(m_v, targets, planted, truth)
        if progress is not None:
            progress(1)
    return {n: rows[n] for n in names}


def rounded(rows: dict[str, dict]) -> dict[str, dict]:
    """Term-ablation rows as the metrics file keeps them (3 decimals)."""
    return {n: {k: round(float(v), 3) for k, v in r.items()} for n, r in rows.items()}
