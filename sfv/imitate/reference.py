"""The reference motion as the imitation env reads it: a table at the physics rate, looked up by time.

Everything the reward and reference state initialisation need (joint rotations and velocities,
body frames, end effectors, centre-of-mass velocity) is computed once per clip with the kit's own
forward kinematics, so an env step only indexes arrays. Cyclic clips continue past their end:
cycle k is the clip again, shifted by k times the root's horizontal travel over one cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sfv import rotations
from sfv.kinematics import centre_of_mass, forward_kinematics
from sfv.motion import Motion


@dataclass(slots=True)
class ReferenceFrame:
    """The reference at one instant (world frame, cycle offset applied)."""

    time: float
    phase: float
    root_pos: np.ndarray
    root_rot: np.ndarray
    root_lin_vel: np.ndarray
    root_ang_vel: np.ndarray
    joint_rot: np.ndarray  # (J, 4)
    joint_vel: np.ndarray  # (J, 3)
    body_pos: np.ndarray  # (B, 3)
    row: int  # table row (for the per-row tables the env reads directly)
    end_effectors: np.ndarray  # (E, 3) root-relative, heading frame, height above ground
    com_vel: np.ndarray  # (3,)


def heading_angle(root_rot: np.ndarray, up_axis: str) -> np.ndarray:
    """The root's heading: the yaw about the up axis of the direction its x axis points to (DeepMimic)."""
    fwd = rotations.rotate(root_rot, np.array([1.0, 0.0, 0.0]))
    if up_axis == "y":  # yaw about +y turns x towards -z
        return np.arctan2(-fwd[..., 2], fwd[..., 0])
    return np.arctan2(fwd[..., 1], fwd[..., 0])  # z up: yaw about +z turns x towards +y


def heading_inverse(root_rot: np.ndarray, up_axis: str) -> np.ndarray:
    """Rotation matrix (..., 3, 3) that undoes the root's heading: `heading_frames`' matrices, for any batch shape."""
    q = np.asarray(root_rot, dtype=float)
    h, _ = heading_frames(q.reshape(-1, 4), up_axis)
    return h.reshape(q.shape[:-1] + (3, 3))


def heading_frames(root_rot: np.ndarray, up_axis: str) -> tuple[np.ndarray, np.ndarray]:
    """The rotation that undoes each root's heading (the yaw of `heading_angle`), for a batch of root orientations
    (n, 4): as matrices (n, 3, 3), and as the matrices (n, 4, 4) that left-multiply quaternions by it. The one
    definition of the heading frame (the compiled kernel's `_heading` is held to it by tests).

    The heading's cosine and sine come from the forward vector's horizontal part and its half-angle ones from
    the half-angle formulas (no trigonometric calls: the env computes this every step)."""
    x, y, z, w = root_rot[:, 0], root_rot[:, 1], root_rot[:, 2], root_rot[:, 3]
    fx = 1.0 - 2.0 * (y * y + z * z)
    fy = -2.0 * (x * z - w * y) if up_axis == "y" else 2.0 * (x * y + w * z)
    norm = np.hypot(fx, fy)
    flat = norm < 1e-12  # pointing straight up or down: heading 0, as atan2(0, 0)
    c = np.where(flat, 1.0, fx / np.where(flat, 1.0, norm))
    s = np.where(flat, 0.0, fy / np.where(flat, 1.0, norm))
    half_c = np.sqrt(np.maximum(0.5 * (1.0 + c), 0.0))
    half_s = np.copysign(np.sqrt(np.maximum(0.5 * (1.0 - c), 0.0)), s)
    n = len(root_rot)
    h, lq = np.zeros((n, 3, 3)), np.zeros((n, 4, 4))
    if up_axis == "y":  # R_y(-theta); quaternion (0, -sin(theta/2), 0, cos(theta/2))
        h[:, 0, 0], h[:, 0, 2], h[:, 1, 1], h[:, 2, 0], h[:, 2, 2] = c, -s, 1.0, s, c
        hy = -half_s
        lq[:, 0, 0] = lq[:, 1, 1] = lq[:, 2, 2] = lq[:, 3, 3] = half_c
        lq[:, 0, 2] = lq[:, 1, 3] = hy
        lq[:, 2, 0] = lq[:, 3, 1] = -hy
    else:  # R_z(-theta); quaternion (0, 0, -sin(theta/2), cos(theta/2))
        h[:, 0, 0], h[:, 0, 1], h[:, 1, 0], h[:, 1, 1], h[:, 2, 2] = c, s, -s, c, 1.0
        hz = -half_s
        lq[:, 0, 0] = lq[:, 1, 1] = lq[:, 2, 2] = lq[:, 3, 3] = half_c
        lq[:, 0, 1] = lq[:, 3, 2] = -hz
        lq[:, 1, 0] = lq[:, 2, 3] = hz
    return h, lq


def left_multiplication(q: np.ndarray) -> np.ndarray:
    """Matrices L (..., 4, 4) with L @ p == q * p (Hamilton product, x y z w): one matmul per product."""
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    rows = [w, -z, y, x, z, w, -x, y, -y, x, w, z, -x, -y, -z, w]
    return np.stack(rows, axis=-1).reshape(q.shape[:-1] + (4, 4))


def end_effector_positions(
    body_pos: np.ndarray, root_pos: np.ndarray, heading_inv: np.ndarray, up: int, ground: float = 0.0
) -> np.ndarray:
    """End-effector positions relative to the root in its heading frame, height above the ground.

    DeepMimic's definition: horizontal offsets follow the root, the height stays absolute, so a
    foot off the ground is an error even when the pose is right.
    """
    rel = body_pos - root_pos[..., None, :]
    rel[..., up] = body_pos[..., up] - ground
    return rel @ np.swapaxes(heading_inv, -1, -2)


class ReferenceTrack:
    """A motion tabulated at `rate` Hz over one clip, with constant-time lookups by time."""

    def __init__(self, motion: Motion, rate: float, end_effectors: list[str] | None = None):
        sk = motion.skeleton
        self.motion, self.skeleton, self.rate = motion, sk, float(rate)
        self.loop = motion.loop == "wrap"
        self.duration = motion.duration
        self.n = int(round(self.duration * self.rate)) + 1
        table = motion.sample(np.arange(self.n) / self.rate)
        self.up = "xyz".index(sk.up_axis)
        names = end_effectors if end_effectors is not None else sk.settings.get("end_effectors", [])
        self.end_effector_index = np.array([sk.index(n) for n in names], dtype=int)

        vel = _velocities(table, self.rate)
        pose = torch.as_tensor(table.pose)
        with torch.no_grad():
            pos, rot = forward_kinematics(sk, torch.as_tensor(table.root_pos), torch.as_tensor(table.root_rot), pose)
            com = centre_of_mass(sk, pos, rot).numpy()
        self.root_pos, self.root_rot = table.root_pos, rotations.normalize(table.root_rot)
        self.root_lin_vel, self.root_ang_vel = vel["root_lin"], vel["root_ang"]
        self.joint_rot, self.joint_vel = table.joint_quaternions(), vel["joints"]
        self.body_pos = pos.numpy()
        self.com_vel = _diff(com, self.rate)
        heading_inv = heading_inverse(self.root_rot, sk.up_axis)
        self.end_effectors = end_effector_positions(
            self.body_pos[:, self.end_effector_index], self.root_pos, heading_inv, self.up
        )
        self.heading = heading_inv[:, 0]  # the root's heading, a horizontal unit vector (world) per row
        spherical = np.array([b.joint_type == "spherical" for b in sk.joints])
        self.spherical_left = left_multiplication(self.joint_rot[:, spherical])  # residual PD targets
        axes = np.array([b.axis for b in sk.joints])[~spherical]
        jr = self.joint_rot[:, ~spherical]
        self.revolute_angle = 2.0 * np.arctan2(np.einsum("tjk,jk->tj", jr[..., :3], axes), jr[..., 3])
        travel = self.root_pos[-1] - self.root_pos[0]
        travel[self.up] = 0.0  # cycles repeat on the ground: the height never accumulates
        self.cycle_offset = travel if self.loop else np.zeros(3)

    def locate(self, time: float) -> tuple[int, int]:
        """(row, cycle) of the table for a time in seconds; non-cyclic clips hold their last frame."""
        if self.duration <= 0:
            return 0, 0
        if not self.loop:
            return int(round(min(max(time, 0.0), self.duration) * self.rate)), 0
        cycle = int(np.floor(time / self.duration + 1e-9))
        row = int(round((time - cycle * self.duration) * self.rate))
        if row >= self.n - 1:  # the last row is the next cycle's first
            row, cycle = 0, cycle + 1
        return row, cycle

    def locate_many(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`locate` for an array of times: (rows, cycles) as integer arrays."""
        if self.duration <= 0:
            return np.zeros(len(times), dtype=int), np.zeros(len(times), dtype=int)
        if not self.loop:
            return np.round(np.clip(times, 0.0, self.duration) * self.rate).astype(int), np.zeros(len(times), dtype=int)
        cycles = np.floor(times / self.duration + 1e-9).astype(int)
        rows = np.round((times - cycles * self.duration) * self.rate).astype(int)
        wrap = rows >= self.n - 1
        return np.where(wrap, 0, rows), cycles + wrap

    def frame(self, time: float) -> ReferenceFrame:
        row, cycle = self.locate(time)
        root_pos, body_pos = self.root_pos[row], self.body_pos[row]
        if cycle:
            shift = cycle * self.cycle_offset
            root_pos, body_pos = root_pos + shift, body_pos + shift
        return ReferenceFrame(
            time,
            row / max(self.n - 1, 1),
            root_pos,
            self.root_rot[row],
            self.root_lin_vel[row],
            self.root_ang_vel[row],
            self.joint_rot[row],
            self.joint_vel[row],
            body_pos,
            row,
            self.end_effectors[row],
            self.com_vel[row],
        )


_TRACKS: dict[tuple[str, float, tuple | None], ReferenceTrack] = {}


def shared_track(motion: Motion, rate: float, end_effectors: list[str] | None = None) -> ReferenceTrack:
    """The process's one ReferenceTrack of this motion's content at this rate (tracks are read-only): the envs of
    a worker then share their tables, and a worker steps them together (sfv.imitate.env.step_many)."""
    key = (motion.fingerprint(), float(rate), tuple(end_effectors) if end_effectors is not None else None)
    if key not in _TRACKS:
        if len(_TRACKS) >= 8:  # a process rarely holds more than one clip: keep the newest few
            _TRACKS.pop(next(iter(_TRACKS)))
        _TRACKS[key] = ReferenceTrack(motion, rate, end_effectors)
    return _TRACKS[key]


def _diff(x: np.ndarray, rate: float) -> np.ndarray:
    if len(x) < 2:
        return np.zeros_like(x)
    d = np.diff(x, axis=0) * rate
    return np.concatenate([d, d[-1:]], axis=0)


def _velocities(table: Motion, rate: float) -> dict[str, np.ndarray]:
    """Motion.velocities at the table rate (joint velocities in each joint's local frame)."""
    from dataclasses import replace

    return replace(table, fps=rate).velocities()
