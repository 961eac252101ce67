"""Forward kinematics in torch: batched over frames, differentiable, rotations through roma.

Never imports the simulator: the golden test checks it against pybullet instead.
Quaternions are x, y, z, w (roma's order).
"""

from __future__ import annotations

import numpy as np
import roma
import torch

from sfv.skeleton import Skeleton


def _constants(skeleton: Skeleton, dtype: torch.dtype, device) -> dict:
    as_t = lambda a: torch.as_tensor(np.asarray(a), dtype=dtype, device=device)  # noqa: E731
    return {
        "offset": as_t(np.stack([b.offset for b in skeleton.bodies])),
        "origin_rot": as_t(np.stack([b.origin_rot for b in skeleton.bodies])),
        "axis": as_t(np.stack([b.axis for b in skeleton.bodies])),
    }


def joint_rotations(skeleton: Skeleton, pose: torch.Tensor) -> torch.Tensor:
    """Local rotation of every body's joint as quaternions (..., n_bodies, 4).

    `pose` is the flat joint vector (..., skeleton.pose_size): 4 numbers (quaternion, xyzw) for a
    spherical joint, 1 angle (radians) for a revolute joint. Fixed joints and the base get identity.
    """
    batch = pose.shape[:-1]
    if pose.shape[-1] != skeleton.pose_size:
        raise ValueError(f"pose has {pose.shape[-1]} numbers per frame; skeleton {skeleton.name!r} needs {skeleton.pose_size}")
    identity = roma.identity_quat(batch, dtype=pose.dtype, device=pose.device) if batch else roma.identity_quat(dtype=pose.dtype, device=pose.device)
    slices = skeleton.dof_slices
    out = []
    for b in skeleton.bodies:
        if b.joint_type == "spherical":
            out.append(roma.quat_normalize(pose[..., slices[b.name]]))
        elif b.joint_type == "revolute":
            axis = torch.as_tensor(b.axis, dtype=pose.dtype, device=pose.device)
            out.append(roma.rotvec_to_unitquat(pose[..., slices[b.name]] * axis))
        else:
            out.append(identity)
    return torch.stack(out, dim=-2)


def forward_kinematics(
    skeleton: Skeleton, root_pos: torch.Tensor, root_rot: torch.Tensor, pose: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """World position (..., B, 3) and orientation (..., B, 4) of every body's frame (the URDF link frame).

    root_pos (..., 3) and root_rot (..., 4) place the base; pose is the flat joint vector.
    """
    c = _constants(skeleton, pose.dtype, pose.device)
    local = joint_rotations(skeleton, pose)
    root_rot = roma.quat_normalize(root_rot)
    positions, orientations = [], []
    for i, b in enumerate(skeleton.bodies):
        if b.parent < 0:
            positions.append(root_pos)
            orientations.append(roma.quat_product(root_rot, local[..., i, :]))
            continue
        parent_pos, parent_rot = positions[b.parent], orientations[b.parent]
        positions.append(parent_pos + roma.quat_action(parent_rot, c["offset"][i].expand_as(parent_pos)))
        joint_frame = roma.quat_product(parent_rot, c["origin_rot"][i].expand_as(parent_rot))
        orientations.append(roma.quat_product(joint_frame, local[..., i, :]))
    return torch.stack(positions, dim=-2), torch.stack(orientations, dim=-2)


def forward_kinematics_np(skeleton: Skeleton, root_pos, root_rot, pose) -> tuple[np.ndarray, np.ndarray]:
    """Numpy convenience wrapper (float64) around `forward_kinematics`."""
    as_t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    with torch.no_grad():
        pos, rot = forward_kinematics(skeleton, as_t(root_pos), as_t(root_rot), as_t(pose))
    return pos.numpy(), rot.numpy()


def centre_of_mass(skeleton: Skeleton, positions: torch.Tensor, orientations: torch.Tensor) -> torch.Tensor:
    """Whole-body centre of mass (..., 3) from body frames and each body's inertial offset."""
    com_local = torch.as_tensor(np.stack([b.com for b in skeleton.bodies]), dtype=positions.dtype, device=positions.device)
    masses = torch.as_tensor(skeleton.masses, dtype=positions.dtype, device=positions.device)
    body_com = positions + roma.quat_action(orientations, com_local.expand_as(positions))
    return (body_com * masses[:, None]).sum(-2) / masses.sum()
