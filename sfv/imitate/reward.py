"""DeepMimic's imitation reward as pure functions: errors, then exp(-scale * error), then a weighted sum.

Weights and scales are named arguments (params.yaml `imitate.reward`, `sfv.config.RewardParams`), never
constants buried in the env. Defaults are DeepMimic's (SceneImitate.cpp) with the pybullet port's
end-effector scale.
The functions run every control step, so they stay on small numpy arrays and Python floats.
"""

from __future__ import annotations

import math

import numpy as np

from sfv.config import RewardTerms

#: the reward's terms, in the order of the params schema (its one list of them)
TERMS = tuple(RewardTerms.model_fields)


def rotation_angle_sq(q_sim: np.ndarray, q_ref: np.ndarray) -> np.ndarray:
    """Squared geodesic angle between unit quaternions (..., 4), sign-invariant."""
    dot = np.abs(np.einsum("...i,...i->...", q_sim, q_ref))
    return (2.0 * np.arccos(np.minimum(dot, 1.0))) ** 2


def root_angle_sq(root_rot, ref_root_rot) -> float:
    """`rotation_angle_sq` for one pair of quaternions, in scalar arithmetic."""
    dot = abs(float(root_rot @ ref_root_rot))
    return (2.0 * math.acos(min(dot, 1.0))) ** 2


def pose_error(joint_rot, ref_joint_rot, root_rot, ref_root_rot, joint_weights, root_weight) -> float:
    """Weighted squared joint-angle differences, the root's orientation included."""
    return root_weight * root_angle_sq(root_rot, ref_root_rot) \
        + float(joint_weights @ rotation_angle_sq(joint_rot, ref_joint_rot))


def velocity_error(joint_vel, ref_joint_vel, root_ang_vel, ref_root_ang_vel, joint_weights, root_weight) -> float:
    """Weighted squared local angular-velocity differences, the root's included."""
    d = joint_vel - ref_joint_vel
    r = root_ang_vel - ref_root_ang_vel
    return root_weight * float(r @ r) + float(joint_weights @ np.einsum("ij,ij->i", d, d))


def end_effector_error(end_effectors, ref_end_effectors) -> float:
    """Mean squared distance of hands and feet, each relative to its root in the heading frame."""
    d = end_effectors - ref_end_effectors
    return float(np.einsum("ij,ij->", d, d)) / max(len(d), 1)


def root_error(root_pos, ref_root_pos, root_rot, ref_root_rot, root_lin_vel, ref_root_lin_vel,
               root_ang_vel, ref_root_ang_vel) -> float:
    """DeepMimic: |dpos|^2 + 0.1 drot^2 + 0.01 |dvel|^2 + 0.001 |dangvel|^2."""
    dp = root_pos - ref_root_pos
    dv = root_lin_vel - ref_root_lin_vel
    dw = root_ang_vel - ref_root_ang_vel
    return float(dp @ dp) + 0.1 * root_angle_sq(root_rot, ref_root_rot) \
        + 0.01 * float(dv @ dv) + 0.001 * float(dw @ dw)


def com_error(com_vel, ref_com_vel) -> float:
    """DeepMimic: 0.1 |d com velocity|^2."""
    d = com_vel - ref_com_vel
    return 0.1 * float(d @ d)


def combine(errors: dict[str, float], weights: dict[str, float], scales: RewardTerms) -> tuple[float, dict[str, float]]:
    """Total reward in [0, 1] and each term's exp(-scale * error); `weights` as `RewardParams.normalised_weights()`."""
    terms = {k: math.exp(-getattr(scales, k) * errors[k]) for k in TERMS}
    return sum(weights[k] * terms[k] for k in TERMS), terms
