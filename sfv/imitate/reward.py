"""DeepMimic's imitation reward as pure functions: errors, then exp(-scale * error), then a weighted sum.

Weights and scales are named arguments (params.yaml `imitate.reward`, `sfv.config.RewardParams`), never
constants buried in the env. Defaults are DeepMimic's (SceneImitate.cpp) with the pybullet port's
end-effector scale.
Each takes arrays with any leading batch axes (one env: none) and returns one error per env. These are the
definitions, for reading and for analyses over whole episodes; the env computes the same terms env by env in one
compiled loop (sfv.imitate.kernel), and tests/test_imitate_kernel.py holds the two together.
"""

from __future__ import annotations

import numpy as np

from sfv.settings.imitate import RewardTerms

#: the reward's terms, in the order of the params schema (its one list of them)
TERMS = tuple(RewardTerms.model_fields)


def rotation_angle_sq(q_sim: np.ndarray, q_ref: np.ndarray) -> np.ndarray:
    """Squared geodesic angle between unit quaternions (..., 4), sign-invariant."""
    dot = np.abs(np.einsum("...i,...i->...", q_sim, q_ref))
    return (2.0 * np.arccos(np.minimum(dot, 1.0))) ** 2


def _square(v: np.ndarray) -> np.ndarray:
    return np.einsum("...i,...i->...", v, v)


def pose_error(joint_rot, ref_joint_rot, root_rot, ref_root_rot, joint_weights, root_weight) -> np.ndarray:
    """Weighted squared joint-angle differences, the root's orientation included."""
    return (
        root_weight * rotation_angle_sq(root_rot, ref_root_rot)
        + rotation_angle_sq(joint_rot, ref_joint_rot) @ joint_weights
    )


def velocity_error(joint_vel, ref_joint_vel, root_ang_vel, ref_root_ang_vel, joint_weights, root_weight) -> np.ndarray:
    """Weighted squared local angular-velocity differences, the root's included."""
    return root_weight * _square(root_ang_vel - ref_root_ang_vel) + _square(joint_vel - ref_joint_vel) @ joint_weights


def end_effector_error(end_effectors, ref_end_effectors) -> np.ndarray:
    """Mean squared distance of hands and feet (..., E, 3), each relative to its root in the heading frame."""
    d = end_effectors - ref_end_effectors
    return np.einsum("...ei,...ei->...", d, d) / max(d.shape[-2], 1)


def root_error(
    root_pos, ref_root_pos, root_rot, ref_root_rot, root_lin_vel, ref_root_lin_vel, root_ang_vel, ref_root_ang_vel
) -> np.ndarray:
    """DeepMimic: |dpos|^2 + 0.1 drot^2 + 0.01 |dvel|^2 + 0.001 |dangvel|^2."""
    return (
        _square(root_pos - ref_root_pos)
        + 0.1 * rotation_angle_sq(root_rot, ref_root_rot)
        + 0.01 * _square(root_lin_vel - ref_root_lin_vel)
        + 0.001 * _square(root_ang_vel - ref_root_ang_vel)
    )


def root_velocity_error(root_lin_vel, ref_root_lin_vel, root_ang_vel, ref_root_ang_vel) -> np.ndarray:
    """|dvel|^2 + 0.1 |dangvel|^2 of the root, world axes: its own term, so it still pulls where the root has
    drifted far enough to zero the root term (whose 0.01 |dvel|^2 shares that term's exponential)."""
    return _square(root_lin_vel - ref_root_lin_vel) + 0.1 * _square(root_ang_vel - ref_root_ang_vel)


def com_error(com_vel, ref_com_vel) -> np.ndarray:
    """DeepMimic: 0.1 |d com velocity|^2."""
    return 0.1 * _square(com_vel - ref_com_vel)


#: each term's error: its docstring is the term's definition (notebook 06 shows them as a table)
ERRORS = {
    "pose": pose_error,
    "velocity": velocity_error,
    "end_effector": end_effector_error,
    "root": root_error,
    "com": com_error,
    "root_velocity": root_velocity_error,
}


def combine(errors: dict, weights: dict[str, float], scales: RewardTerms) -> tuple:
    """Total reward in [0, 1] and each term's exp(-scale * error); `weights` as `RewardParams.normalised_weights()`.
    Errors may be numbers or arrays over a batch of envs (then so are the results)."""
    e = np.array([errors[k] for k in TERMS], dtype=float)  # (terms, ...): one exp and one product for all terms
    scale = np.array([getattr(scales, k) for k in TERMS]).reshape((-1,) + (1,) * (e.ndim - 1))
    t = np.exp(-scale * e)
    return np.tensordot([weights[k] for k in TERMS], t, axes=1), dict(zip(TERMS, t))
