"""Quaternion helpers in numpy (x, y, z, w order, as pybullet, scipy and roma use).

The motion files store w, x, y, z (DeepMimic); everything inside the kit is x, y, z, w, and the only
conversions live here. Torch versions for differentiable code are in `sfv.kinematics` (through roma).
"""

from __future__ import annotations

import numpy as np

IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


def wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    return np.concatenate([q[..., 1:4], q[..., :1]], axis=-1)


def xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    return np.concatenate([q[..., 3:4], q[..., :3]], axis=-1)


def normalize(q: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), eps)


def conjugate(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    return np.concatenate([-q[..., :3], q[..., 3:]], axis=-1)


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b: rotate by b first, then by a."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    av, aw = a[..., :3], a[..., 3:]
    bv, bw = b[..., :3], b[..., 3:]
    v = aw * bv + bw * av + np.cross(av, bv)
    w = aw * bw - np.sum(av * bv, axis=-1, keepdims=True)
    return np.concatenate([v, w], axis=-1)


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v by unit quaternions q (broadcasting)."""
    q = np.asarray(q, dtype=float)
    v = np.asarray(v, dtype=float)
    qv, qw = q[..., :3], q[..., 3:]
    t = 2.0 * np.cross(qv, v)
    return v + qw * t + np.cross(qv, t)


def to_rotvec(q: np.ndarray) -> np.ndarray:
    """Axis-angle vector (angle in [0, pi]) of unit quaternions."""
    q = normalize(q)
    q = np.where(q[..., 3:] < 0, -q, q)  # shortest rotation
    v, w = q[..., :3], q[..., 3]
    s = np.linalg.norm(v, axis=-1)
    angle = 2.0 * np.arctan2(s, w)
    # angle / sin(angle/2), with its limit 2 at s -> 0
    scale = np.where(s > 1e-9, angle / np.maximum(s, 1e-300), 2.0 + angle**2 / 12.0)
    return v * scale[..., None]


def from_rotvec(r: np.ndarray) -> np.ndarray:
    r = np.asarray(r, dtype=float)
    angle = np.linalg.norm(r, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(half)/angle with its limit 1/2 at angle -> 0
    k = np.where(angle > 1e-9, np.sin(half) / np.maximum(angle, 1e-300), 0.5 - angle**2 / 48.0)
    return np.concatenate([r * k, np.cos(half)], axis=-1)


def from_axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    axis = np.asarray(axis, dtype=float)
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    return from_rotvec(axis * np.asarray(angle, dtype=float)[..., None])


def from_rpy(rpy: np.ndarray) -> np.ndarray:
    """URDF roll-pitch-yaw (fixed axes X, then Y, then Z): R = Rz(yaw) Ry(pitch) Rx(roll)."""
    rpy = np.asarray(rpy, dtype=float)
    qx = from_axis_angle(np.array([1.0, 0, 0]), rpy[..., 0])
    qy = from_axis_angle(np.array([0, 1.0, 0]), rpy[..., 1])
    qz = from_axis_angle(np.array([0, 0, 1.0]), rpy[..., 2])
    return multiply(qz, multiply(qy, qx))


def to_matrix(q: np.ndarray) -> np.ndarray:
    q = normalize(q)
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - z * w),
            2 * (x * z + y * w),
            2 * (x * y + z * w),
            1 - 2 * (x * x + z * z),
            2 * (y * z - x * w),
            2 * (x * z - y * w),
            2 * (y * z + x * w),
            1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation along the shorter arc; t broadcasts against q0[..., 0]."""
    q0 = normalize(q0)
    q1 = normalize(q1)
    t = np.asarray(t, dtype=float)[..., None]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    small = sin_theta < 1e-6
    safe = np.where(small, 1.0, sin_theta)
    w0 = np.where(small, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    w1 = np.where(small, t, np.sin(t * theta) / safe)
    return normalize(w0 * q0 + w1 * q1)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle (radians) between unit quaternions, sign-invariant."""
    dot = np.abs(np.sum(normalize(a) * normalize(b), axis=-1))
    return 2.0 * np.arccos(np.clip(dot, -1.0, 1.0))
