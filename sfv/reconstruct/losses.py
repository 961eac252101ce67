"""Loss terms of the motion reconstruction, each a pure torch function; the weights live in params.

Shapes: T frames, J keypoints. Distances are in metres (2D ones in metres at the body's depth). Every term returns a
scalar mean, so a weight reads as "how much one unit of this error matters".
"""

from __future__ import annotations

import torch


def robust(residual_norm: torch.Tensor, scale: float) -> torch.Tensor:
    """Geman-McClure: quadratic for residuals well below `scale`, flat beyond it, so one wild
    keypoint or frame cannot drag the motion (its pull saturates at about `scale`)."""
    r2 = (residual_norm / scale) ** 2
    return scale**2 * r2 / (1.0 + r2)


def keypoint_3d(pred: torch.Tensor, target: torch.Tensor, confidence: torch.Tensor, scale: float = 0.1) -> torch.Tensor:
    """Robust, confidence-weighted distance between predicted and target 3D keypoints (T, J, 3) (SFV's frame
    weights come multiplied into `confidence`)."""
    return (confidence * robust(torch.linalg.norm(pred - target, dim=-1), scale)).sum() / confidence.sum().clamp_min(
        1e-9
    )


def reprojection_2d(
    projected: torch.Tensor,
    keypoints: torch.Tensor,
    confidence: torch.Tensor,
    metres_per_pixel: torch.Tensor,
    scale: float = 0.12,
) -> torch.Tensor:
    """Robust, confidence-weighted distance between projected joints and 2D keypoints (T, J, 2), in metres at
    the body: each frame's pixels times its `metres_per_pixel` (T,) (the body's depth over the focal length).
    In raw pixels the term's pull would grow with the image's resolution and shrink with the person's distance;
    in metres at the body it means the same on every camera (and does not depend on the assumed focal length,
    since depth from scale grows with it)."""
    metres = torch.linalg.norm(projected - keypoints, dim=-1) * metres_per_pixel[:, None]
    return (confidence * robust(metres, scale)).sum() / confidence.sum().clamp_min(1e-9)


def smoothness(joints: torch.Tensor, fps: float) -> torch.Tensor:
    """Mean squared acceleration (m/s^2)^2 of the joints (T, J, 3): zero for constant-velocity motion."""
    if joints.shape[0] < 3:
        return joints.new_zeros(())
    acc = (joints[2:] - 2 * joints[1:-1] + joints[:-2]) * fps**2
    return (acc**2).sum(-1).mean()


def turn_smoothness(left: torch.Tensor, right: torch.Tensor, fps: float, up_axis: int = 1) -> torch.Tensor:
    """Mean squared angular acceleration (rad/s^2)^2 of the line between two bodies (T, 3) about the vertical: the
    pelvis's turn, from its hips. A person turns at a steady rate; a monocular pose estimator's hips, seen edge-on,
    stall and then jump by a quarter turn in a frame or two, and the joints' own smoothness barely sees it (the hips
    are a hand's width from the root, so even that burst is a small acceleration in metres)."""
    if left.shape[0] < 3:
        return left.new_zeros(())
    flat = [a for a in range(3) if a != up_axis]
    line = (left - right)[:, flat]
    a, b = line[:-1], line[1:]
    step = torch.atan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], (a * b).sum(-1))  # the turn between frames, unwrapped
    return (((step[1:] - step[:-1]) * fps**2) ** 2).mean()


def ground_penetration(heights: torch.Tensor) -> torch.Tensor:
    """Mean squared depth (m^2) of points below the ground (heights < 0)."""
    return (torch.relu(-heights) ** 2).mean()


def joint_limits(angles: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor) -> torch.Tensor:
    """Mean squared violation (rad^2) of revolute joint ranges (T, K): a knee bending forwards or an elbow
    backwards fits 3D points as well as the right bend, so nothing but this term tells them apart."""
    return (torch.relu(lower - angles) ** 2 + torch.relu(angles - upper) ** 2).mean()


def foot_sliding(feet: torch.Tensor, contact: torch.Tensor, fps: float) -> torch.Tensor:
    """Mean squared horizontal speed (m/s)^2 of feet (T, F, 2) while in contact (T, F in [0, 1])."""
    if feet.shape[0] < 2:
        return feet.new_zeros(())
    speed2 = (((feet[1:] - feet[:-1]) * fps) ** 2).sum(-1)
    w = torch.minimum(contact[1:], contact[:-1])
    return (w * speed2).sum() / w.sum().clamp_min(1e-9)


def jitter(joints: torch.Tensor, fps: float) -> torch.Tensor:
    """Mean joint acceleration magnitude (m/s^2): the before/after figure of the reconstruction."""
    if joints.shape[0] < 3:
        return joints.new_zeros(())
    return torch.linalg.norm((joints[2:] - 2 * joints[1:-1] + joints[:-2]) * fps**2, dim=-1).mean()
