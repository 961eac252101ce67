"""The motion library as examples of "a pose, then what follows": the data motion completion learns from.

Every motion (the mocap clips and the reconstructions from video) is resampled to one rate. Each frame gives
an example:
- its pose **features**: the bodies relative to the root in the root's heading frame, the root's height and
  its tilt (its up and forward axes in the heading frame). A still image shows where the bodies are, not
  which way the person faces in the world or how fast they move, so nothing else goes in;
- its **continuation**: where the bodies are over the next `horizon` seconds, relative to the start root's
  ground point and in its heading frame (heights stay heights above the ground);
- its skill (the motion it comes from; the reconstructions of a rendered clip count as that mocap's skill)
  and its phase (the fraction of the clip). An example from a looping clip has a phase on a circle.

Pure functions over `Motion`s: no files are read here, so tests build libraries by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfv import rotations
from sfv.imitate.reference import heading_inverse
from sfv.motion import Motion

UP = 1  # the humanoid's motions are y-up


@dataclass(frozen=True)
class Entry:
    """One motion of the library, every frame an example."""

    name: str  # the motion (a mocap clip, or the clip a reconstruction was made from)
    skill: str  # what it shows: the mocap motion, or a real clip's own name
    kind: str  # "mocap" or "reconstruction"
    loop: bool  # the clip is a cycle: its phase wraps and its continuation goes on into the next cycle
    features: np.ndarray  # (T, F)
    continuation: np.ndarray  # (T, K, B, 3): the bodies at the K horizon steps
    phase: np.ndarray  # (T,) in [0, 1]
    complete: np.ndarray  # (T,) bool: the whole horizon lies inside the clip (else the end was held)
    motion: Motion  # resampled to the library's rate


def pose_features(root_pos: np.ndarray, root_rot: np.ndarray, body_pos: np.ndarray) -> np.ndarray:
    """(T, F) features of poses: bodies (root excluded) relative to the root in its heading frame, root height,
    root up and forward axes in the heading frame."""
    h = heading_inverse(root_rot, "y")  # (T, 3, 3)
    rel = np.einsum("tij,tbj->tbi", h, body_pos[:, 1:] - root_pos[:, None])
    up = np.einsum("tij,tj->ti", h, rotations.rotate(root_rot, np.array([0.0, 1.0, 0.0])))
    forward = np.einsum("tij,tj->ti", h, rotations.rotate(root_rot, np.array([0.0, 0.0, 1.0])))
    return np.concatenate([rel.reshape(len(rel), -1), root_pos[:, UP : UP + 1], up, forward], axis=1)


def looped(motion: Motion, cycles: int) -> Motion:
    """A cyclic motion played `cycles` times: each cycle shifted by the root's horizontal travel over one cycle
    (its first and last frames are the same pose), so a continuation can run past the clip's end."""
    if cycles <= 1:
        return motion
    travel = motion.root_pos[-1] - motion.root_pos[0]
    travel[UP] = 0.0
    parts = [motion.root_pos] + [motion.root_pos[1:] + k * travel for k in range(1, cycles)]
    rot = [motion.root_rot] + [motion.root_rot[1:]] * (cycles - 1)
    pose = [motion.pose] + [motion.pose[1:]] * (cycles - 1)
    return Motion(
        motion.skeleton,
        motion.fps,
        np.concatenate(parts),
        np.concatenate(rot),
        np.concatenate(pose),
        loop="none",
        name=motion.name,
    )


def continuations(
    root_pos: np.ndarray, root_rot: np.ndarray, body_pos: np.ndarray, starts: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(len(starts), K, B, 3) bodies at frames start + offsets, relative to the start root's ground point in its
    heading frame; and whether each start's horizon lies inside the frames given (past the end: the last frame
    is held)."""
    T = len(root_pos)
    idx = np.minimum(starts[:, None] + offsets[None, :], T - 1)  # (S, K)
    ground = root_pos[starts].copy()
    ground[:, UP] = 0.0
    h = heading_inverse(root_rot[starts], "y")  # (S, 3, 3)
    rel = body_pos[idx] - ground[:, None, None, :]  # (S, K, B, 3)
    out = np.einsum("sij,skbj->skbi", h, rel)
    return out, starts + offsets[-1] <= T - 1


def horizon_offsets(fps: float, horizon_seconds: float, step_seconds: float) -> np.ndarray:
    """Frame offsets 1..H of the continuation's steps (every `step_seconds`, the last one at the horizon)."""
    step = max(int(round(step_seconds * fps)), 1)
    last = max(int(round(horizon_seconds * fps)), 1)
    return np.arange(step, last + 1, step)


def make_entry(
    motion: Motion,
    skill: str,
    kind: str,
    fps: float,
    horizon_seconds: float,
    step_seconds: float,
    loop: bool | None = None,
    name: str | None = None,
) -> Entry:
    """A motion as library examples at `fps` (see the module docstring). A cyclic motion (`loop`, by default its
    own `loop == "wrap"`) continues into its next cycles. `name` defaults to the motion's own."""
    loop = motion.loop == "wrap" if loop is None else loop
    m = motion.resample(fps) if abs(motion.fps - fps) > 1e-9 else motion
    n = m.n_frames
    offsets = horizon_offsets(fps, horizon_seconds, step_seconds)
    span = looped(m, 2 + int(np.ceil(offsets[-1] / max(n - 1, 1)))) if loop and n > 1 else m
    body_pos, _ = span.body_positions()
    starts = np.arange(n)
    cont, inside = continuations(span.root_pos, span.root_rot, body_pos, starts, offsets)
    features = pose_features(span.root_pos[:n], span.root_rot[:n], body_pos[:n])
    phase = starts / max(n - 1, 1)
    return Entry(name or m.name or skill, skill, kind, loop, features, cont, phase, inside, m)


def phase_error(a: np.ndarray, b: np.ndarray, loop: bool) -> np.ndarray:
    """|a - b| of phases in [0, 1]; on a cycle the shorter way round (at most 0.5)."""
    d = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    return np.minimum(d, 1.0 - d) if loop else d
