"""The env's per-step arithmetic, compiled: reward terms, observation and tracking metrics of a batch in one call
(`evaluate`), and pybullet's joint states in the kit's per-joint form (`joint_states`, sfv.imitate.sim).

The definitions are the readable numpy ones: sfv.imitate.reward's pure functions, `heading_frames`
(sfv.imitate.reference), and DeepMimic's observation in the root's heading frame as sfv.imitate.numpy_step writes
it; tests/test_imitate_kernel.py holds this module to them. It computes the
same numbers env by env in one numba loop because the numpy version's hundred-odd small array operations per control
step cost far more than their arithmetic: a lone env (evaluation) spent a third of its step on them, and a worker's
block of 16, run between the simulations with cold caches, a few points (bench/env_throughput.py).
Each term is still its own pure function of one env's numbers, with the weights passed in by name.
Compiled on first use and cached beside this file (numba `cache=True`), so a process pays it once per machine.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from sfv.imitate.reward import TERMS


class Tables(NamedTuple):
    """The reference track's per-row tables the kernel reads (sfv.imitate.reference.ReferenceTrack)."""

    root_pos: np.ndarray  # (T, 3)
    body_pos: np.ndarray  # (T, B, 3)
    cycle_offset: np.ndarray  # (3,) a cyclic clip's travel per cycle
    root_rot: np.ndarray  # (T, 4)
    root_lin_vel: np.ndarray  # (T, 3)
    root_ang_vel: np.ndarray  # (T, 3)
    joint_rot: np.ndarray  # (T, J, 4)
    joint_vel: np.ndarray  # (T, J, 3)
    end_effectors: np.ndarray  # (T, E, 3) root-relative, heading frame, height above the ground
    com_vel: np.ndarray  # (T, 3)
    heading: np.ndarray  # (T, 3) the root's heading, a horizontal unit vector


class Setup(NamedTuple):
    """What the kernel needs of the env's settings, character and reward."""

    up: int  # the up axis: 1 (y) or 2 (z)
    end_effector_index: np.ndarray  # (E,) bodies that are end effectors
    joint_weights: np.ndarray  # (J,) the pose and velocity terms' per-joint weights
    root_weight: float
    weights: np.ndarray  # (len(TERMS),) normalised, in TERMS order
    scales: np.ndarray  # (len(TERMS),) in TERMS order
    phase_cos: bool  # the phase as its cosine and sine (else as one number)
    reference_root: bool  # the reference root's offset and heading in the observation
    phase_denominator: float  # a row's phase is row / this


def tables(track) -> Tables:
    """The kernel's view of a ReferenceTrack (float64, contiguous: one compiled signature for every clip)."""
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    return Tables(
        f(track.root_pos),
        f(track.body_pos),
        f(track.cycle_offset),
        f(track.root_rot),
        f(track.root_lin_vel),
        f(track.root_ang_vel),
        f(track.joint_rot),
        f(track.joint_vel),
        f(track.end_effectors),
        f(track.com_vel),
        f(track.heading),
    )


#: the order in which `evaluate` writes the reward's errors and terms
ORDER = ("pose", "velocity", "end_effector", "root", "com", "root_velocity")


def setup(
    up: int,
    end_effector_index,
    joint_weights,
    root_weight: float,
    weights: dict,
    scales,
    phase_encoding: str,
    reference_root: bool,
    n_rows: int,
) -> Setup:
    if TERMS != ORDER:
        raise RuntimeError(
            f"the reward's terms are {TERMS}, but sfv/imitate/kernel.py's evaluate computes {ORDER}: "
            "give it the new term (and ORDER) before training"
        )
    if up not in (1, 2):
        raise ValueError(f"the env's up axis must be y or z, got index {up}")
    return Setup(
        int(up),
        np.asarray(end_effector_index, dtype=np.int64),
        np.asarray(joint_weights, dtype=np.float64),
        float(root_weight),
        np.array([weights[k] for k in TERMS], dtype=np.float64),
        np.array([getattr(scales, k) for k in TERMS], dtype=np.float64),
        phase_encoding != "linear",
        bool(reference_root),
        float(max(n_rows - 1, 1)),
    )


# --- one env's terms (sfv.imitate.reward, for one env) ------------------------------------------------------------
@njit(cache=True)
def _angle_sq(q, r) -> float:
    """Squared geodesic angle between two unit quaternions (reward.rotation_angle_sq)."""
    dot = abs(q[0] * r[0] + q[1] * r[1] + q[2] * r[2] + q[3] * r[3])
    return (2.0 * math.acos(min(dot, 1.0))) ** 2


@njit(cache=True)
def _sq(a, b) -> float:
    """|a - b|^2 of two 3-vectors."""
    d0, d1, d2 = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return d0 * d0 + d1 * d1 + d2 * d2


@njit(cache=True)
def _pose_error(joint_rot, ref_joint_rot, root_rot, ref_root_rot, joint_weights, root_weight) -> float:
    total = 0.0
    for j in range(joint_rot.shape[0]):
        total += _angle_sq(joint_rot[j], ref_joint_rot[j]) * joint_weights[j]
    return root_weight * _angle_sq(root_rot, ref_root_rot) + total


@njit(cache=True)
def _velocity_error(joint_vel, ref_joint_vel, root_ang_vel, ref_root_ang_vel, joint_weights, root_weight) -> float:
    total = 0.0
    for j in range(joint_vel.shape[0]):
        total += _sq(joint_vel[j], ref_joint_vel[j]) * joint_weights[j]
    return root_weight * _sq(root_ang_vel, ref_root_ang_vel) + total


@njit(cache=True)
def _root_error(
    root_pos, ref_root_pos, root_rot, ref_root_rot, root_lin_vel, ref_root_lin_vel, root_ang_vel, ref_root_ang_vel
) -> float:
    return (
        _sq(root_pos, ref_root_pos)
        + 0.1 * _angle_sq(root_rot, ref_root_rot)
        + 0.01 * _sq(root_lin_vel, ref_root_lin_vel)
        + 0.001 * _sq(root_ang_vel, ref_root_ang_vel)
    )


@njit(cache=True)
def _root_velocity_error(root_lin_vel, ref_root_lin_vel, root_ang_vel, ref_root_ang_vel) -> float:
    return _sq(root_lin_vel, ref_root_lin_vel) + 0.1 * _sq(root_ang_vel, ref_root_ang_vel)


@njit(cache=True)
def _com_error(com_vel, ref_com_vel) -> float:
    return 0.1 * _sq(com_vel, ref_com_vel)


# --- the heading frame (reference.heading_frames, for one env) ------------------------------------------------------
@njit(cache=True)
def _heading(q, up):
    """(cos, sin) of the root's heading and of half of it (sign-matched), from its forward vector."""
    x, y, z, w = q[0], q[1], q[2], q[3]
    fx = 1.0 - 2.0 * (y * y + z * z)
    fy = -2.0 * (x * z - w * y) if up == 1 else 2.0 * (x * y + w * z)
    norm = math.hypot(fx, fy)
    if norm < 1e-12:  # pointing straight up or down: heading 0
        c, s = 1.0, 0.0
    else:
        c, s = fx / norm, fy / norm
    half_c = math.sqrt(max(0.5 * (1.0 + c), 0.0))
    half_s = math.copysign(math.sqrt(max(0.5 * (1.0 - c), 0.0)), s)
    return c, s, half_c, half_s


@njit(cache=True)
def _unturn(c, s, up, v0, v1, v2):
    """A world vector in the heading frame (the heading's inverse applied)."""
    if up == 1:
        return c * v0 - s * v2, v1, s * v0 + c * v2
    return c * v0 + s * v1, -s * v0 + c * v1, v2


@njit(cache=True)
def _unturn_quaternion(hc, hs, up, q):
    """A world orientation in the heading frame (the heading's inverse quaternion times q), with w >= 0."""
    h = -hs
    if up == 1:
        x, y, z, w = hc * q[0] + h * q[2], hc * q[1] + h * q[3], -h * q[0] + hc * q[2], -h * q[1] + hc * q[3]
    else:
        x, y, z, w = hc * q[0] - h * q[1], h * q[0] + hc * q[1], hc * q[2] + h * q[3], -h * q[2] + hc * q[3]
    if w < 0:
        return -x, -y, -z, -w
    return x, y, z, w


# --- the batch ----------------------------------------------------------------------------------------------------
@njit(cache=True)
def joint_states(positions, velocities, spherical, position_start, velocity_start, axes, joint_rot, joint_vel):
    """pybullet's flat joint positions and velocities of a batch (n, P), (n, V) as the kit's per-joint quaternions
    (n, J, 4) and angular velocities (n, J, 3): a spherical joint's as they are, a revolute joint's angle and rate
    about its axis turned into the same form. Writes joint_rot and joint_vel."""
    for i in range(positions.shape[0]):
        for j in range(spherical.shape[0]):
            p, v = position_start[j], velocity_start[j]
            if spherical[j]:
                for k in range(4):
                    joint_rot[i, j, k] = positions[i, p + k]
                for k in range(3):
                    joint_vel[i, j, k] = velocities[i, v + k]
            else:
                half = 0.5 * positions[i, p]
                sine = math.sin(half)
                for k in range(3):
                    joint_rot[i, j, k] = axes[j, k] * sine
                    joint_vel[i, j, k] = axes[j, k] * velocities[i, v]
                joint_rot[i, j, 3] = math.cos(half)


@njit(cache=True)
def evaluate(
    root_pos,
    root_rot,
    root_lin_vel,
    root_ang_vel,
    joint_rot,
    joint_vel,
    body_pos,
    body_rot,
    body_lin_vel,
    body_ang_vel,
    com_vel,
    rows,
    cycles,
    ground,
    ee_ground,
    tables,
    setup,
    obs,
    errors,
    terms,
    reward,
    tracking,
    far_sq,
    root_distance,
):
    """For each env i of the batch (its state's arrays with a leading env axis, at table row rows[i] of cycle
    cycles[i], on ground at height ground[i], its end effectors' ground ee_ground[i]): the reward's errors (in TERMS
    order), its terms exp(-scale * error) and total, the observation's first columns (the head and DeepMimic's
    per-body state; a heightmap goes after them), the mean root-relative body error (tracking), the largest squared
    distance of a body from the reference's (the pose termination's) and the root's distance. Writes the outputs."""
    (
        t_root_pos,
        t_body_pos,
        offset,
        t_root_rot,
        t_root_lin_vel,
        t_root_ang_vel,
        t_joint_rot,
        t_joint_vel,
        t_end_effectors,
        t_com_vel,
        t_heading,
    ) = tables
    up, ee_index, joint_weights, root_weight, weights, scales, phase_cos, reference_root, phase_denominator = setup
    n, n_bodies = body_pos.shape[0], body_pos.shape[1]
    n_ee = ee_index.shape[0]
    ref_root = np.empty(3)
    ref_body = np.empty((n_bodies, 3))
    for i in range(n):
        r, cycle, g = rows[i], cycles[i], ground[i]
        # the reference at this row: shifted by its cycles, standing on this ground
        for k in range(3):
            ref_root[k] = t_root_pos[r, k] + cycle * offset[k]
            for b in range(n_bodies):
                ref_body[b, k] = t_body_pos[r, b, k] + cycle * offset[k]
        ref_root[up] += g
        for b in range(n_bodies):
            ref_body[b, up] += g
        c, s, hc, hs = _heading(root_rot[i], up)

        # the reward's errors
        ee_sum = 0.0
        for e in range(n_ee):
            b = ee_index[e]
            v0, v1, v2 = (
                body_pos[i, b, 0] - root_pos[i, 0],
                body_pos[i, b, 1] - root_pos[i, 1],
                body_pos[i, b, 2] - root_pos[i, 2],
            )
            height = body_pos[i, b, up] - ee_ground[i, e]  # height above the ground, not above the root
            if up == 1:
                v1 = height
            else:
                v2 = height
            a0, a1, a2 = _unturn(c, s, up, v0, v1, v2)
            d0, d1, d2 = a0 - t_end_effectors[r, e, 0], a1 - t_end_effectors[r, e, 1], a2 - t_end_effectors[r, e, 2]
            ee_sum += d0 * d0 + d1 * d1 + d2 * d2
        errors[i, 0] = _pose_error(joint_rot[i], t_joint_rot[r], root_rot[i], t_root_rot[r], joint_weights, root_weight)
        errors[i, 1] = _velocity_error(
            joint_vel[i], t_joint_vel[r], root_ang_vel[i], t_root_ang_vel[r], joint_weights, root_weight
        )
        errors[i, 2] = ee_sum / max(n_ee, 1)
        errors[i, 3] = _root_error(
            root_pos[i],
            ref_root,
            root_rot[i],
            t_root_rot[r],
            root_lin_vel[i],
            t_root_lin_vel[r],
            root_ang_vel[i],
            t_root_ang_vel[r],
        )
        errors[i, 4] = _com_error(com_vel[i], t_com_vel[r])
        errors[i, 5] = _root_velocity_error(root_lin_vel[i], t_root_lin_vel[r], root_ang_vel[i], t_root_ang_vel[r])
        total = 0.0
        for k in range(errors.shape[1]):
            terms[i, k] = math.exp(-scales[k] * errors[i, k])
            total += weights[k] * terms[i, k]
        reward[i] = total

        # tracking metrics and the pose termination's distance
        error_sum, far = 0.0, 0.0
        for b in range(n_bodies):
            d0 = (body_pos[i, b, 0] - root_pos[i, 0]) - (ref_body[b, 0] - ref_root[0])
            d1 = (body_pos[i, b, 1] - root_pos[i, 1]) - (ref_body[b, 1] - ref_root[1])
            d2 = (body_pos[i, b, 2] - root_pos[i, 2]) - (ref_body[b, 2] - ref_root[2])
            error_sum += math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
            far = max(far, _sq(body_pos[i, b], ref_body[b]))
        tracking[i] = error_sum / n_bodies
        far_sq[i] = far
        root_distance[i] = math.sqrt(_sq(root_pos[i], ref_root))

        # the observation: phase, root height, optional reference root, then every body but the base
        phase = r / phase_denominator
        k = 0
        if phase_cos:
            obs[i, 0], obs[i, 1] = math.cos(2 * math.pi * phase), math.sin(2 * math.pi * phase)
            k = 2
        else:
            obs[i, 0] = phase
            k = 1
        obs[i, k] = root_pos[i, up] - g
        k += 1
        if reference_root:
            o0, o1, o2 = _unturn(
                c, s, up, ref_root[0] - root_pos[i, 0], ref_root[1] - root_pos[i, 1], ref_root[2] - root_pos[i, 2]
            )
            f0, f1, f2 = _unturn(c, s, up, t_heading[r, 0], t_heading[r, 1], t_heading[r, 2])
            obs[i, k], obs[i, k + 1], obs[i, k + 2] = o0, o1, o2
            obs[i, k + 3] = f0
            obs[i, k + 4] = f2 if up == 1 else f1  # the horizontal axis besides x
            k += 5
        nb = n_bodies - 1
        for b in range(1, n_bodies):
            j = k + 3 * (b - 1)
            obs[i, j], obs[i, j + 1], obs[i, j + 2] = _unturn(
                c,
                s,
                up,
                body_pos[i, b, 0] - root_pos[i, 0],
                body_pos[i, b, 1] - root_pos[i, 1],
                body_pos[i, b, 2] - root_pos[i, 2],
            )
            j = k + 3 * nb + 4 * (b - 1)
            obs[i, j], obs[i, j + 1], obs[i, j + 2], obs[i, j + 3] = _unturn_quaternion(hc, hs, up, body_rot[i, b])
            j = k + 7 * nb + 3 * (b - 1)
            obs[i, j], obs[i, j + 1], obs[i, j + 2] = _unturn(
                c, s, up, body_lin_vel[i, b, 0], body_lin_vel[i, b, 1], body_lin_vel[i, b, 2]
            )
            j = k + 10 * nb + 3 * (b - 1)
            obs[i, j], obs[i, j + 1], obs[i, j + 2] = _unturn(
                c, s, up, body_ang_vel[i, b, 0], body_ang_vel[i, b, 1], body_ang_vel[i, b, 2]
            )
