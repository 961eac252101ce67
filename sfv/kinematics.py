"""Forward kinematics in torch: batched over frames, differentiable, rotations through roma.

Never imports the simulator: the golden test checks it against pybullet instead.
Quaternions are x, y, z, w (roma's order).
"""

from __future__ import annotations

import numpy as np
import roma
import torch

from sfv.skeleton import Skeleton


def _movable_rotations(skeleton: Skeleton, pose: torch.Tensor) -> list[torch.Tensor]:
    """Local rotation (..., 4) of each movable joint, in skeleton.joints order."""
    if pose.shape[-1] != skeleton.pose_size:
        raise ValueError(
            f"pose has {pose.shape[-1]} numbers per frame; skeleton {skeleton.name!r} needs {skeleton.pose_size}"
        )
    slices = skeleton.dof_slices
    out = []
    for b in skeleton.joints:
        if b.joint_type == "spherical":
            out.append(roma.quat_normalize(pose[..., slices[b.name]]))
        else:
            axis = torch.as_tensor(b.axis, dtype=pose.dtype, device=pose.device)
            out.append(roma.rotvec_to_unitquat(pose[..., slices[b.name]] * axis))
    return out


def joint_rotations(skeleton: Skeleton, pose: torch.Tensor) -> torch.Tensor:
    """Local rotation of every body's joint as quaternions (..., n_bodies, 4).

    `pose` is the flat joint vector (..., skeleton.pose_size): 4 numbers (quaternion, xyzw) for a
    spherical joint, 1 angle (radians) for a revolute joint. Fixed joints and the base get identity.
    """
    movable = dict(zip(skeleton.joint_names, _movable_rotations(skeleton, pose)))
    identity = (
        roma.identity_quat(pose.shape[:-1], dtype=pose.dtype, device=pose.device)
        if pose.dim() > 1
        else roma.identity_quat(dtype=pose.dtype, device=pose.device)
    )
    return torch.stack([movable.get(b.name, identity) for b in skeleton.bodies], dim=-2)


def forward_kinematics(
    skeleton: Skeleton, root_pos: torch.Tensor, root_rot: torch.Tensor, pose: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """World position (..., B, 3) and orientation (..., B, 4) of every body's frame (the URDF link frame).

    root_pos (..., 3) and root_rot (..., 4) place the base; pose is the flat joint vector.
    Rotations are chained as matrices, and products with identity rotations (fixed joints, origins
    without rpy) are skipped: the loop runs once per optimisation or simulation step, so its
    per-call overhead counts as much as its arithmetic. One batched conversion to matrices, then one
    matmul per body: fewer, larger torch calls.
    """
    local = roma.unitquat_to_rotmat(torch.stack(_movable_rotations(skeleton, pose), dim=-2))
    root_mat = roma.unitquat_to_rotmat(roma.quat_normalize(root_rot))
    positions, frames = chain(skeleton, root_pos, root_mat, local)
    return positions, roma.rotmat_to_unitquat(frames)


def chain(
    skeleton: Skeleton, root_pos: torch.Tensor, root_mat: torch.Tensor, local: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """World positions (..., B, 3) and rotation matrices (..., B, 3, 3) of every body from the base's position
    and matrix and each movable joint's local rotation matrix (..., n_joints, 3, 3, skeleton.joints order).
    The core of `forward_kinematics`, for callers that have matrices already (the reconstruction's fit)."""
    offsets = torch.as_tensor(skeleton.offsets, dtype=local.dtype, device=local.device)[..., None]
    origin_mats = roma.unitquat_to_rotmat(
        torch.as_tensor(skeleton.origin_rotations, dtype=local.dtype, device=local.device)
    )
    joint_of = {name: j for j, name in enumerate(skeleton.joint_names)}
    positions, frames = [], []
    for i, b in enumerate(skeleton.bodies):
        if b.parent < 0:
            positions.append(root_pos)
            frames.append(root_mat)
            continue
        parent_pos, mat = positions[b.parent], frames[b.parent]
        positions.append(parent_pos + (mat @ offsets[i])[..., 0])
        if not skeleton.identity_origin[i]:
            mat = mat @ origin_mats[i]
        if b.name in joint_of:
            mat = mat @ local[..., joint_of[b.name], :, :]
        frames.append(mat)
    return torch.stack(positions, dim=-2), torch.stack(frames, dim=-3)


def forward_kinematics_np(skeleton: Skeleton, root_pos, root_rot, pose) -> tuple[np.ndarray, np.ndarray]:
    """Numpy convenience wrapper (float64) around `forward_kinematics`."""
    as_t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    with torch.no_grad():
        pos, rot = forward_kinematics(skeleton, as_t(root_pos), as_t(root_rot), as_t(pose))
    return pos.numpy(), rot.numpy()


def centre_of_mass(skeleton: Skeleton, positions: torch.Tensor, orientations: torch.Tensor) -> torch.Tensor:
    """Whole-body centre of mass (..., 3) from body frames and each body's inertial offset."""
    com_local = torch.as_tensor(skeleton.coms, dtype=positions.dtype, device=positions.device)
    masses = torch.as_tensor(skeleton.masses, dtype=positions.dtype, device=positions.device)
    body_com = positions + roma.quat_action(orientations, com_local.expand_as(positions))
    return (body_com * masses[:, None]).sum(-2) / masses.sum()
