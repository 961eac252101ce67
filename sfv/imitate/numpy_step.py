"""What the imitation env computes each control step, in readable whole-array numpy: the definition the compiled
kernel (`sfv.imitate.kernel`) is held to (tests/test_imitate_kernel.py compares the two on simulated states).

The observation is DeepMimic's, in the root's heading frame: the phase (one number, or its cosine and sine), the
root's height above the ground, optionally where the reference's root is (offset and heading), then every body's
position relative to the root, its orientation, its linear and angular velocity; on terrain the heightmap follows
(numpy in both). The reward is `sfv.imitate.reward`'s terms combined; tracking is the mean body distance to the
reference with both roots put together.
"""

from __future__ import annotations

import numpy as np

from sfv.imitate import reward as rw
from sfv.imitate.env import ImitationEnv, ground_heights
from sfv.imitate.reference import heading_frames
from sfv.imitate.sim import BodyState


def step_figures(env: ImitationEnv, s: BodyState, rows: np.ndarray, cycles: np.ndarray, fields: list | None) -> dict:
    """Everything the env's compiled step (`sfv.imitate.env._evaluate`) returns for a batch of its envs in states
    `s` at reference rows `rows` of cycles `cycles` (and, on terrain, their heightfields `fields`): the observation,
    each reward term's error and value, the reward, and the tracking figures."""
    t, up = env.reference, env.up
    root_ref = t.root_pos[rows] + cycles[:, None] * t.cycle_offset
    body_ref = t.body_pos[rows] + (cycles[:, None] * t.cycle_offset)[:, None]
    ground = np.zeros(len(rows)) if fields is None else ground_heights(fields, s.root_pos, tracking=True)
    root_ref[:, up] += ground
    body_ref[..., up] += ground[:, None]
    h, lq = heading_frames(s.root_rot, env.sim.up_axis)
    ht = np.swapaxes(h, -1, -2)
    rel = s.body_pos - s.root_pos[:, None]
    ee = rel[:, env.end_effector_index].copy()
    ee[..., up] = s.body_pos[:, env.end_effector_index, up]
    if fields is not None:
        ee[..., up] -= ground_heights(fields, s.body_pos[:, env.end_effector_index], tracking=True)
    errors = {
        "pose": rw.pose_error(
            s.joint_rot, t.joint_rot[rows], s.root_rot, t.root_rot[rows], env.joint_weights, env.root_weight
        ),
        "velocity": rw.velocity_error(
            s.joint_vel, t.joint_vel[rows], s.root_ang_vel, t.root_ang_vel[rows], env.joint_weights, env.root_weight
        ),
        "end_effector": rw.end_effector_error(ee @ ht, t.end_effectors[rows]),
        "root": rw.root_error(
            s.root_pos,
            root_ref,
            s.root_rot,
            t.root_rot[rows],
            s.root_lin_vel,
            t.root_lin_vel[rows],
            s.root_ang_vel,
            t.root_ang_vel[rows],
        ),
        "com": rw.com_error(s.com_vel, t.com_vel[rows]),
        "root_velocity": rw.root_velocity_error(
            s.root_lin_vel, t.root_lin_vel[rows], s.root_ang_vel, t.root_ang_vel[rows]
        ),
    }
    reward, terms = rw.combine(errors, env.weights, env.reward.scales)
    phase = rows / max(t.n - 1, 1)
    head = (
        [phase] if env.settings.phase_encoding == "linear" else [np.cos(2 * np.pi * phase), np.sin(2 * np.pi * phase)]
    )
    head.append(s.root_pos[:, up] - ground)
    if env.settings.reference_root_observation:
        offset = np.einsum("nij,nj->ni", h, root_ref - s.root_pos)
        forward = np.einsum("nij,nj->ni", h, t.heading[rows])
        head.extend([*offset.T, *forward[:, [i for i in range(3) if i != up]].T])
    rot = s.body_rot[:, 1:] @ np.swapaxes(lq, -1, -2)
    rot *= np.where(rot[..., 3:] < 0, -1.0, 1.0)
    n = len(rows)
    obs = np.concatenate(
        [
            np.stack(head, axis=-1),
            (rel[:, 1:] @ ht).reshape(n, -1),
            rot.reshape(n, -1),
            (s.body_lin_vel[:, 1:] @ ht).reshape(n, -1),
            (s.body_ang_vel[:, 1:] @ ht).reshape(n, -1),
        ],
        axis=1,
    ).astype(np.float32)
    d = rel - (body_ref - root_ref[:, None])
    w = s.body_pos - body_ref
    return {
        "obs": obs,
        "errors": np.stack([errors[k] for k in rw.TERMS], axis=1),
        "terms": np.stack([terms[k] for k in rw.TERMS], axis=1),
        "reward": reward,
        "tracking": np.sqrt(np.einsum("nbi,nbi->nb", d, d)).mean(axis=1),
        "far_sq": np.einsum("nbi,nbi->nb", w, w).max(axis=1),
        "root_distance": np.linalg.norm(s.root_pos - root_ref, axis=1),
    }
