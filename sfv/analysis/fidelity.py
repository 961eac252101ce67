"""End-to-end fidelity: how close a motion (a policy's rollout, a reconstruction) comes to the ground truth.

The measure is the tracking error's (MimicKit's): the mean distance between corresponding bodies, each
taken relative to its own root, at the same instant. A policy learned from video lives in the world the
reconstruction chose (the camera's; its heading is arbitrary), so each pose is first turned to face
forward: positions relative to the root, in the root's heading frame. Root drift compares where the
roots went: the horizontal travel since the first frame, in the first frame's heading frame.
Pure numpy; the ground truth is looked up cycle after cycle like any reference (`ReferenceTrack`).
"""

from __future__ import annotations

import numpy as np

from sfv.imitate.reference import ReferenceTrack, heading_inverse
from sfv.motion import Motion

#: what a pose sequence is here (a rollout's log or a motion's frames): bodies, root position, root rotation
STATES = ("body_pos", "root_pos", "root_rot")


def heading_relative(body_pos: np.ndarray, root_pos: np.ndarray, root_rot: np.ndarray, up_axis: str) -> np.ndarray:
    """Bodies (T, B, 3) relative to their root (T, 3), in the root's heading frame (root_rot (T, 4))."""
    return np.einsum("tij,tbj->tbi", heading_inverse(root_rot, up_axis), body_pos - root_pos[:, None, :])


def body_error(a: dict, b: dict, up_axis: str) -> np.ndarray:
    """Per frame, the mean distance (m) between the bodies of `a` and `b` (dicts of body_pos, root_pos, root_rot
    arrays, time-aligned), each relative to its root in its heading frame."""
    d = heading_relative(a["body_pos"], a["root_pos"], a["root_rot"], up_axis) - heading_relative(
        b["body_pos"], b["root_pos"], b["root_rot"], up_axis
    )
    return np.linalg.norm(d, axis=-1).mean(axis=-1)


def root_travel(root_pos: np.ndarray, root_rot: np.ndarray, up_axis: str) -> np.ndarray:
    """Horizontal displacement (T, 3) of the root since the first frame, in the first frame's heading frame."""
    up = "xyz".index(up_axis)
    d = root_pos - root_pos[0]
    d[:, up] = 0.0
    return d @ heading_inverse(root_rot[0], up_axis).T


def root_drift(a: dict, b: dict, up_axis: str) -> np.ndarray:
    """Per frame, the distance (m) between the roots' travels since their first frames."""
    return np.linalg.norm(
        root_travel(a["root_pos"], a["root_rot"], up_axis) - root_travel(b["root_pos"], b["root_rot"], up_axis), axis=-1
    )


def truth_at(truth: Motion, times: np.ndarray, rate: float) -> dict:
    """The ground truth's bodies and root at `times` (seconds from its first frame; a cyclic clip continues)."""
    track = ReferenceTrack(truth, rate)
    frames = [track.frame(float(t)) for t in times]
    return {
        "body_pos": np.stack([f.body_pos for f in frames]),
        "root_pos": np.stack([f.root_pos for f in frames]),
        "root_rot": np.stack([f.root_rot for f in frames]),
    }


def motion_states(motion: Motion) -> dict:
    """A motion's bodies and root at its frames (the same dict as a rollout's)."""
    body_pos, _ = motion.body_positions()
    return {"body_pos": body_pos, "root_pos": motion.root_pos, "root_rot": motion.root_rot}


def fidelity(states: dict, times: np.ndarray, truth: Motion, up_axis: str, rate: float, offset: float = 0.0) -> dict:
    """Summary of `states` (a rollout's or a motion's, at `times` seconds) against the truth at offset + times."""
    gt = truth_at(truth, np.asarray(times) + offset, rate)
    err, drift = body_error(states, gt, up_axis), root_drift(states, gt, up_axis)
    return {
        "body_error_m": float(err.mean()),
        "root_drift_final_m": float(drift[-1]),
        "root_drift_max_m": float(drift.max()),
        "body_error": err,
        "root_drift": drift,
    }
