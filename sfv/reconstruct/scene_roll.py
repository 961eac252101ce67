"""The camera's roll read from the scene: walls, door frames, windows and posts are vertical, and a rolled camera
sees them lean together.

The reconstruction takes the camera as level (`reconstruct.level_camera`) unless a clip's entry says
`roll_from: scene`. Both real clips from pose2sim were filmed by rolled cameras (their calibration: 13.4 and
-26.1 deg), and there the level camera's up is 13.7 and 24.2 deg off: the reference leans sideways by as much, its
centre of mass lies beside the standing foot, and the simulated character falls over sideways.

Every straight segment of the image (OpenCV's line segment detector) spans, with the camera's centre, a plane; the
segments of vertical edges lie in planes that contain the world's up. A RANSAC over pairs of near-vertical segments
finds the directions that the most segment length agrees with, one after another (a room also has receding
horizontal edges that meet elsewhere). The person's own outline (segments along a bone) is left out. The candidate
nearest the roll of the person's median torso is taken (the torso is a poor measure of the roll itself: people
lean; it tells the walls from the floor). `bench/scene_roll.py` measures it on every clip: on the rendered clips,
which have no walls, spurious candidates of the same support appear, so no threshold tells a scene from none and
the roll is read only where a clip's entry asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np


@dataclass
class RollCandidate:
    roll_deg: float  # the camera's roll that this direction means (0: level; positive: up leans to image right)
    direction: np.ndarray  # (3,) unit vector in camera coordinates (x right, y down, z forward), pointing up
    support: float  # total length of the agreeing segments, in image heights per frame looked at


def line_segments(rgb: np.ndarray, min_length: float) -> np.ndarray:
    """(N, 4) segments x0, y0, x1, y1 in pixels at least `min_length` long."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    found = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD).detect(gray)[0]
    if found is None:
        return np.zeros((0, 4))
    seg = found.reshape(-1, 4).astype(float)
    return seg[np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]) >= min_length]


def roll_of(direction: np.ndarray) -> float:
    """Degrees: the angle of an up direction (camera coordinates) from the image's up, in the image plane."""
    return float(np.degrees(np.arctan2(direction[0], -direction[1])))


def segment_normals(segments: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 3) unit normals of the planes through the camera's centre and each segment (camera coordinates): the 3D
    line a segment shows lies in its plane, so a direction shared by many edges is perpendicular to their normals."""
    ends = [np.c_[segments[:, k : k + 2], np.ones(len(segments))] @ np.linalg.inv(K).T for k in (0, 2)]
    normals = np.cross(*ends)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def shared_directions(
    normals: np.ndarray,
    length: np.ndarray,
    accept: Callable[[np.ndarray], np.ndarray | None],
    count: int,
    tolerance_deg: float,
    iterations: int,
    seed: int,
) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """Up to `count` 3D directions that the most segment length agrees with (a RANSAC over pairs of segments, one
    direction after another, each taking its segments out), strongest first: (direction, total length, which
    segments). `accept(d)` orients a pair's direction, or refuses it (None)."""
    rng = np.random.default_rng(seed)
    within = np.sin(np.radians(tolerance_deg))
    free = np.ones(len(normals), dtype=bool)
    out = []
    for _ in range(count):
        idx = np.flatnonzero(free)
        if len(idx) < 2:
            break
        best, best_score = None, 0.0
        for _ in range(iterations):
            i, j = rng.choice(idx, 2, replace=False)
            d = np.cross(normals[i], normals[j])
            norm = np.linalg.norm(d)
            if norm < 1e-9:
                continue
            d = accept(d / norm)
            if d is None:
                continue
            score = length[idx][np.abs(normals[idx] @ d) < within].sum()
            if score > best_score:
                best, best_score = d, score
        if best is None:
            break
        agree = free & (np.abs(normals @ best) < within)
        free &= ~agree
        out.append((best, float(best_score), agree))
    return out


def vertical_candidates(
    segments: np.ndarray,
    K: np.ndarray,
    frames: int,
    height: int,
    count: int = 3,
    max_lean_deg: float = 45.0,
    tolerance_deg: float = 1.0,
    iterations: int = 1500,
    seed: int = 0,
) -> list[RollCandidate]:
    """Up to `count` directions within `max_lean_deg` of the image's up that the most near-vertical segment length
    (segments gathered from `frames` frames of `height` pixels) points at, strongest first."""
    if len(segments) < 2:
        return []
    normals = segment_normals(segments, K)
    dx, dy = segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]
    upright = np.degrees(np.arctan2(np.abs(dx), np.abs(dy))) < max_lean_deg
    normals, length = normals[upright], np.hypot(dx, dy)[upright]

    def pointing_up(d: np.ndarray) -> np.ndarray | None:
        d = d * (-1.0 if d[1] > 0 else 1.0)  # pointing up the image (y down)
        return None if -d[1] < np.cos(np.radians(max_lean_deg)) else d

    found = shared_directions(normals, length, pointing_up, count, tolerance_deg, iterations, seed)
    return [RollCandidate(roll_of(d), d, score / (frames * height)) for d, score, _ in found]


def near_bones(segments: np.ndarray, keypoints_2d: np.ndarray, reach: float) -> np.ndarray:
    """(N,) bool: the segment's midpoint lies within `reach` pixels of one of the person's bones (BlazePose's
    edges between the keypoints (33, 2)): the outline of a limb, not the scene."""
    from sfv.keypoints import BLAZEPOSE_EDGES

    if not len(segments):
        return np.zeros(0, dtype=bool)
    mid = (segments[:, :2] + segments[:, 2:]) / 2
    a = keypoints_2d[[e[0] for e in BLAZEPOSE_EDGES]]
    b = keypoints_2d[[e[1] for e in BLAZEPOSE_EDGES]]
    ab = b - a
    u = np.clip(np.einsum("nkd,kd->nk", mid[:, None] - a, ab) / np.maximum((ab**2).sum(1), 1e-9), 0.0, 1.0)
    gap = np.linalg.norm(mid[:, None] - (a + u[..., None] * ab), axis=-1)
    return gap.min(axis=1) <= reach


def clip_segments(
    frames: Iterable[np.ndarray],
    fps: float,
    keypoints_2d: np.ndarray | None = None,
    detected: np.ndarray | None = None,
    every_seconds: float = 1 / 3,
    min_length: float = 0.05,
    limb_reach: float = 0.1,
) -> tuple[np.ndarray, int, int]:
    """The scene's straight edges in a clip: (segments (N, 4), frames looked at, image height). Segments at least
    `min_length` image heights long from one frame every `every_seconds`, leaving out the outline of the person (a
    standing person's legs are near-vertical edges too): segments whose middle is within `limb_reach` of their
    height from a bone, where `keypoints_2d` (T, 33, 2) found them (`detected`)."""
    step = max(1, round(every_seconds * fps))
    found, looked, height = [], 0, 1
    for i, rgb in enumerate(frames):
        if i % step:
            continue
        height = rgb.shape[0]
        seg = line_segments(rgb, min_length * height)
        if keypoints_2d is not None and (detected is None or detected[i]):
            kp = keypoints_2d[i]
            size = float(np.ptp(kp[:, 1])) or float(height)
            seg = seg[~near_bones(seg, kp, limb_reach * size)]
        found.append(seg)
        looked += 1
    return (np.concatenate(found) if found else np.zeros((0, 4))), looked, height


def scene_candidates(
    frames: Iterable[np.ndarray],
    K: np.ndarray,
    fps: float,
    keypoints_2d: np.ndarray | None = None,
    detected: np.ndarray | None = None,
) -> list[RollCandidate]:
    """The vertical-direction candidates of a clip, from its edges (`clip_segments`, whose arguments these are)."""
    segments, looked, height = clip_segments(frames, fps, keypoints_2d, detected)
    if not looked:
        return []
    return vertical_candidates(segments, K, looked, height)


def pick_roll(
    candidates: list[RollCandidate], torso_roll_deg: float, min_support: float = 0.3, max_from_torso_deg: float = 30.0
) -> RollCandidate | None:
    """The candidate with at least `min_support` image heights of segments per frame whose roll is nearest the
    torso's, if within `max_from_torso_deg` of it; None (keep the camera level) otherwise."""
    strong = [c for c in candidates if c.support >= min_support]
    if not strong:
        return None
    best = min(strong, key=lambda c: abs(c.roll_deg - torso_roll_deg))
    return best if abs(best.roll_deg - torso_roll_deg) <= max_from_torso_deg else None
