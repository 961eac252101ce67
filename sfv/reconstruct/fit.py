"""Fitting a motion of the character's skeleton to 3D keypoint targets, smooth across frames.

The variables are, per frame, the root position, the root rotation and every joint's rotation
(rotation vectors; an angle for a revolute joint); bone lengths are the character's. Positions come
from the kit's torch forward kinematics, so retargeting (IK) and smoothing are one optimisation.
With the terms that couple frames off (smoothness, foot sliding: `per_frame`) the same code is per-frame
IK, the baseline the reconstruction is compared with. L-BFGS (strong Wolfe line search) by default:
on the rendered clips it reached lower error than Adam on the same number of loss evaluations.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import roma
import torch

from sfv.camera import perspective
from sfv.kinematics import chain
from sfv.motion import Motion
from sfv.reconstruct import losses
from sfv.reconstruct.contact import foot_contact
from sfv.settings.reconstruct import FitSettings
from sfv.skeleton import Skeleton


class MotionVariables(torch.nn.Module):
    """Per-frame root position, root rotation vector and joint rotations of a skeleton."""

    def __init__(self, skeleton: Skeleton, root_pos: np.ndarray, root_rot: np.ndarray, pose: np.ndarray):
        super().__init__()
        self.skeleton = skeleton
        as_t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
        self.spherical = [b for b in skeleton.joints if b.joint_type == "spherical"]
        self.revolute = [b for b in skeleton.joints if b.joint_type == "revolute"]
        sl = skeleton.dof_slices
        quats = as_t(np.stack([pose[:, sl[b.name]] for b in self.spherical], axis=1))
        self.root_pos = torch.nn.Parameter(as_t(root_pos).clone())
        self.root_rotvec = torch.nn.Parameter(roma.unitquat_to_rotvec(roma.quat_normalize(as_t(root_rot))))
        self.joint_rotvec = torch.nn.Parameter(roma.unitquat_to_rotvec(roma.quat_normalize(quats)))
        self.angles = torch.nn.Parameter(as_t(np.stack([pose[:, sl[b.name]][:, 0] for b in self.revolute], axis=1)))

    @classmethod
    def from_motion(cls, motion: Motion) -> "MotionVariables":
        return cls(motion.skeleton, motion.root_pos, motion.root_rot, motion.pose)

    def pose(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(root_pos (T, 3), root quaternion xyzw (T, 4), flat joint vector (T, pose_size))."""
        sl = self.skeleton.dof_slices
        parts = {}
        quats = roma.rotvec_to_unitquat(self.joint_rotvec)
        for k, b in enumerate(self.spherical):
            parts[sl[b.name].start] = quats[:, k]
        for k, b in enumerate(self.revolute):
            parts[sl[b.name].start] = self.angles[:, k : k + 1]
        flat = torch.cat([parts[s] for s in sorted(parts)], dim=-1)
        return self.root_pos, roma.rotvec_to_unitquat(self.root_rotvec), flat

    def positions(self) -> torch.Tensor:
        """World positions (T, B, 3) of every body: forward kinematics straight from the rotation vectors
        to matrices (the fit's inner loop; `pose()` goes through quaternions for the motion file)."""
        rotvecs = {b.name: self.joint_rotvec[:, k] for k, b in enumerate(self.spherical)}
        for k, b in enumerate(self.revolute):
            rotvecs[b.name] = self.angles[:, k : k + 1] * torch.as_tensor(b.axis, dtype=self.angles.dtype)
        local = roma.rotvec_to_rotmat(torch.stack([rotvecs[b.name] for b in self.skeleton.joints], dim=1))
        return chain(self.skeleton, self.root_pos, roma.rotvec_to_rotmat(self.root_rotvec), local)[0]

    def to_motion(self, fps: float, name: str = "", loop: str = "none") -> Motion:
        with torch.no_grad():
            root_pos, root_rot, pose = (x.detach().numpy().copy() for x in self.pose())
        return Motion(self.skeleton, fps, root_pos, root_rot, pose, loop=loop, name=name)


def reconstruct(
    init: Motion,
    targets: np.ndarray,
    bodies: list[int],
    confidence: np.ndarray | None = None,
    settings: FitSettings = FitSettings(),
    up_axis: int = 1,
    progress=None,
    image: tuple | None = None,
    ik: Motion | None = None,
    seed: int = 0,
) -> tuple[Motion, Motion, list[float]]:
    """Per-frame IK of the targets, then the smooth fit started from it (smoothness couples the frames,
    so starting from poses that already fit converges far faster than from `init`). The IK phase has only
    per-frame terms, so fits that differ in smoothness or foot sliding alone can pass an earlier run's
    result as `ik` and skip it.

    Returns (reconstruction, the IK phase's motion, loss curve of the phases run)."""
    with torch_threads(settings.torch_threads):
        return _reconstruct(init, targets, bodies, confidence, settings, up_axis, progress, image, ik, seed)


def _reconstruct(init, targets, bodies, confidence, settings, up_axis, progress, image, ik, seed):
    # The IK phase starts from a rest pose, often metres from the targets: a robust loss saturated at
    # robust_scale would barely pull there, so it uses ten times the scales (nearly quadratic).
    ik_settings = per_frame(settings).model_copy(
        update={
            "iterations": settings.ik_iterations,
            "robust_scale": 10 * settings.robust_scale,
            "robust_reprojection": 10 * settings.robust_reprojection,
        }
    )
    curve_ik = []
    if ik is None:
        ik, curve_ik = fit(init, targets, bodies, confidence, ik_settings, up_axis, progress, image, seed=seed)
    contact = None
    if settings.weights.foot_sliding > 0:
        contact = planted_feet(ik, settings, up_axis)
    smooth, curve = fit(ik, targets, bodies, confidence, settings, up_axis, progress, image, contact, seed=seed)
    return smooth, ik, curve_ik + curve


@contextmanager
def torch_threads(n: int):
    """torch's intra-op threads set to `n` for the block, then put back."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def per_frame(settings: FitSettings) -> FitSettings:
    """The same settings with every term that couples frames (smoothness, foot sliding, the turn's smoothness) off:
    per-frame IK, the baseline the reconstruction is measured against."""
    return settings.with_weights(smoothness=0.0, foot_sliding=0.0, turn_smoothness=0.0)


def feet(skeleton: Skeleton) -> list[int]:
    """Body indices of the character's feet (its file's `feet`)."""
    return [skeleton.index(n) for n in skeleton.settings.get("feet", [])]


def planted_feet(motion: Motion, settings: FitSettings, up_axis: int = 1) -> np.ndarray:
    """(T, F) 1 where a foot of `motion` is planted (see `contact.foot_contact`), F = the character's feet."""
    pos = motion.body_positions()[0][:, feet(motion.skeleton)]
    flat = [a for a in range(3) if a != up_axis]
    return foot_contact(pos[..., up_axis], pos[..., flat], motion.fps, settings.contact_height, settings.contact_speed)


def fit(
    init: Motion,
    targets: np.ndarray,
    bodies: list[int],
    confidence: np.ndarray | None = None,
    settings: FitSettings = FitSettings(),
    up_axis: int = 1,
    progress=None,
    image: tuple | None = None,
    contact: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[Motion, list[float]]:
    """The motion (starting from `init`, `settings.iterations` loss evaluations) whose bodies `bodies` follow
    `targets` (T, J, 3) in the world frame (the pose root-relative, the root weakly), weighted by `confidence` (T, J),
    smooth and above the ground.
    With `image` = (camera (a `Camera`, or `FrameCameras` for a turning one), keypoints_2d (T, J, 2), confidence_2d
    (T, J), metres_per_pixel (T,)) and a
    reprojection weight, the bodies' projections also follow the 2D keypoints (distances in metres at the body); with
    `contact` (T, F) and a foot_sliding weight, planted
    feet hold still. Returns the motion and the loss curve."""
    torch.manual_seed(seed)
    T = init.n_frames
    if targets.shape != (T, len(bodies), 3):
        raise ValueError(f"targets have shape {targets.shape}, expected {(T, len(bodies), 3)} (frames, bodies, xyz)")
    bad = np.argwhere(~np.isfinite(targets))
    if len(bad):
        raise ValueError(
            f"target of body {bodies[bad[0][1]]} at frame {bad[0][0]} is not finite; give it confidence 0 "
            "and any finite value instead"
        )
    for name, values in (
        ("confidence", confidence),
        ("2D keypoint", None if image is None else image[1]),
        ("2D confidence", None if image is None else image[2]),
    ):
        bad = np.argwhere(~np.isfinite(np.asarray(values, dtype=float))) if values is not None else []
        if len(bad):
            raise ValueError(
                f"{name} of body {bodies[bad[0][1]]} at frame {bad[0][0]} is not finite; give it "
                "confidence 0 and any finite value instead"
            )
    target = torch.as_tensor(targets, dtype=torch.float64)
    conf = torch.ones(T, len(bodies), dtype=torch.float64) if confidence is None else torch.as_tensor(confidence)
    w = settings.weights
    if image is not None and w.reprojection > 0:
        cam, uv, conf_2d, metres_per_pixel = image
        metres_per_pixel = torch.as_tensor(metres_per_pixel, dtype=torch.float64)
        if (
            metres_per_pixel.shape != (T,)
            or not torch.isfinite(metres_per_pixel).all()
            or (metres_per_pixel <= 0).any()
        ):
            raise ValueError(
                f"metres_per_pixel must be {T} positive finite numbers (one per frame), "
                f"got shape {tuple(metres_per_pixel.shape)}"
            )
        # one camera (R (3, 3), t (3,)) or one per frame (R (T, 3, 3), t (T, 3)): a camera that turns
        R = torch.as_tensor(np.broadcast_to(cam.R, (T, 3, 3)).copy(), dtype=torch.float64)
        t_cam = torch.as_tensor(np.broadcast_to(cam.t, (T, 3)).copy(), dtype=torch.float64)
        focal = torch.as_tensor([cam.K[0, 0], cam.K[1, 1]], dtype=torch.float64)
        centre = torch.as_tensor(cam.K[:2, 2], dtype=torch.float64)
        uv, conf_2d = torch.as_tensor(uv, dtype=torch.float64), torch.as_tensor(conf_2d, dtype=torch.float64)
    variables = MotionVariables.from_motion(init)
    limited = [k for k, b in enumerate(variables.revolute) if b.limits is not None]
    lower = torch.as_tensor([variables.revolute[k].limits[0] for k in limited], dtype=torch.float64)
    upper = torch.as_tensor([variables.revolute[k].limits[1] for k in limited], dtype=torch.float64)
    foot_bodies, flat_axes = feet(init.skeleton), [a for a in range(3) if a != up_axis]
    hips = [init.skeleton.index("left_hip"), init.skeleton.index("right_hip")] if w.turn_smoothness > 0 else []
    if contact is not None:
        contact = torch.as_tensor(contact, dtype=torch.float64)
    if settings.optimizer == "lbfgs":
        optimiser = torch.optim.LBFGS(
            variables.parameters(),
            lr=1.0,
            max_iter=settings.iterations,
            max_eval=settings.iterations,
            history_size=20,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-12,
            tolerance_change=1e-14,
        )
    else:
        optimiser = torch.optim.Adam(variables.parameters(), lr=settings.learning_rate)
    curve = []

    def objective() -> torch.Tensor:
        optimiser.zero_grad()
        pos = variables.positions()
        # the pose against root-relative targets; where the body is, mostly from the 2D keypoints
        joints = pos[:, bodies]
        terms = {
            "keypoint_3d": w.keypoint_3d
            * losses.keypoint_3d(joints - joints[:, :1], target - target[:, :1], conf, scale=settings.robust_scale),
            "root_position": w.root_position
            * losses.keypoint_3d(joints[:, :1], target[:, :1], conf[:, :1], scale=settings.robust_scale),
        }
        if w.smoothness > 0:
            terms["smoothness"] = w.smoothness * losses.smoothness(pos, init.fps)
        if w.joint_limits > 0 and limited:
            terms["joint_limits"] = w.joint_limits * losses.joint_limits(variables.angles[:, limited], lower, upper)
        if contact is not None and w.foot_sliding > 0:
            terms["foot_sliding"] = w.foot_sliding * losses.foot_sliding(
                pos[:, foot_bodies][..., flat_axes], contact, init.fps
            )
        if w.turn_smoothness > 0:
            terms["turn_smoothness"] = w.turn_smoothness * losses.turn_smoothness(
                pos[:, hips[0]], pos[:, hips[1]], init.fps, up_axis
            )
        if w.ground > 0:
            terms["ground"] = w.ground * losses.ground_penetration(pos[..., up_axis])
        if image is not None and w.reprojection > 0:
            projected = perspective(
                torch.einsum("tij,tbj->tbi", R, pos[:, bodies]) + t_cam[:, None], focal, centre, min_depth=0.05
            )
            terms["reprojection"] = w.reprojection * losses.reprojection_2d(
                projected, uv, conf_2d, metres_per_pixel, settings.robust_reprojection
            )
        loss = sum(terms.values())
        if not torch.isfinite(loss):
            bad_term = next(k for k, v in terms.items() if not torch.isfinite(v))
            frames = torch.nonzero(~torch.isfinite(pos.detach()).reshape(T, -1).all(1)).flatten().tolist()
            where = f"at frame(s) {frames[:5]}" if frames else "(every frame's pose is finite)"
            raise FloatingPointError(
                f"reconstruction: the {bad_term} term is not finite at evaluation {len(curve)} "
                f"{where}; check those frames' targets and weights, or lower learning_rate"
            )
        loss.backward()
        curve.append(float(loss.detach()))
        if progress is not None:
            progress(1)
        return loss

    if settings.optimizer == "lbfgs":
        optimiser.step(objective)
    else:
        for _ in range(settings.iterations):
            optimiser.step(objective)
    return variables.to_motion(init.fps, name=init.name, loop=init.loop), curve
