"""The camera's pitch read from the scene: floor tiles, a box's top, kerbs, steps and window sills are horizontal,
and parallel edges meet in the image at their vanishing point.

The reconstruction pitches a level camera so that the feet at rest share one height
(`sfv.reconstruct.camera.still_feet_pitch`). A clip on two levels breaks that: a jumper rests once on a platform
and once on the ground below it, and any pitch puts two places on two levels. Seen from the side the error stays
small; seen from in front, the drop towards the camera reads as extra height (docs/scene.md).

The scene tells it where its horizontal edges are in view. Every straight segment spans, with the camera's
centre, a plane (`sfv.reconstruct.scene_roll.segment_normals`); a family of parallel edges shares one direction,
the one perpendicular to all their planes (a RANSAC over pairs of segments, refined over the family by least
squares). Horizontal directions are perpendicular to up, so two families perpendicular to each other (a tiled
floor's two sets of edges, a box's sides) give up as their cross product; found again without the edges near that
up's horizon (`scene_up`). Directions read this way depend on the
lens (a wrong focal length skews them), so, as the roll, the pitch is read only where a clip's entry asks for it
(`pitch_from: scene`); `bench/scene_pitch.py` measures it against the rendered clips' cameras.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfv.reconstruct.scene_roll import segment_normals, shared_directions


@dataclass
class EdgeFamily:
    direction: np.ndarray  # (3,) unit vector in camera coordinates (x right, y down, z forward), receding (z >= 0)
    support: float  # total length of its segments, in image heights per frame looked at


def edge_families(
    segments: np.ndarray,
    K: np.ndarray,
    frames: int,
    height: int,
    count: int = 4,
    max_slope_deg: float = 60.0,
    tolerance_deg: float = 1.0,
    iterations: int = 1500,
    seed: int = 0,
) -> list[EdgeFamily]:
    """Up to `count` directions shared by the most length of the segments no steeper than `max_slope_deg` in the
    image (segments gathered from `frames` frames of `height` pixels; the steep ones are mostly vertical edges),
    strongest first, each refined over its own segments: the direction least far from perpendicular to all their
    planes, weighted by length."""
    if len(segments) < 2:
        return []
    normals = segment_normals(segments, K)
    dx, dy = segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]
    flat = np.degrees(np.arctan2(np.abs(dy), np.abs(dx))) < max_slope_deg
    normals, length = normals[flat], np.hypot(dx, dy)[flat]

    def receding(d: np.ndarray) -> np.ndarray:
        return -d if d[2] < 0 else d

    out = []
    for d, score, agree in shared_directions(normals, length, receding, count, tolerance_deg, iterations, seed):
        _, _, vt = np.linalg.svd(normals[agree] * np.sqrt(length[agree])[:, None], full_matrices=False)
        out.append(EdgeFamily(receding(vt[-1]), score / (frames * height)))
    return out


def up_from_families(
    families: list[EdgeFamily], max_skew_deg: float = 5.0, min_support: float = 0.3
) -> tuple[np.ndarray, tuple[EdgeFamily, EdgeFamily]] | None:
    """The world's up in camera coordinates (pointing up the image: y < 0) from the pair of families, each with at
    least `min_support`, that are perpendicular within `max_skew_deg` and have the most support together (the pair
    a floor's tiles or a box's sides make); with the pair. None when no two families are."""
    strong = [f for f in families if f.support >= min_support]
    skew = np.sin(np.radians(max_skew_deg))
    pairs = [(a, b) for i, a in enumerate(strong) for b in strong[i + 1 :] if abs(a.direction @ b.direction) < skew]
    if not pairs:
        return None
    a, b = max(pairs, key=lambda p: p[0].support + p[1].support)
    up = np.cross(a.direction, b.direction)
    up /= np.linalg.norm(up)
    return (-up if up[1] > 0 else up), (a, b)


def horizon_distance(segments: np.ndarray, K: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(N,) pixels from each segment's middle to the horizon of a camera whose up (camera coordinates) is `up`: the
    image line of the rays perpendicular to up."""
    line = np.linalg.inv(K).T @ up  # homogeneous image line: the pixels p with line . (p, 1) = 0
    middle = np.c_[(segments[:, :2] + segments[:, 2:]) / 2, np.ones(len(segments))]
    return np.abs(middle @ line) / np.linalg.norm(line[:2])


def scene_up(
    segments: np.ndarray, K: np.ndarray, frames: int, height: int, horizon_margin: float = 0.25
) -> tuple[np.ndarray, tuple[EdgeFamily, EdgeFamily]] | None:
    """Up from the scene's edges (`edge_families`, `up_from_families`) in two passes: the second leaves out the
    segments within `horizon_margin` image heights of the first pass's horizon, and is kept where it finds a pair.
    Far ground is foreshortened to a few pixels per tile near the horizon, where a render's sampling (or a camera's
    blur) bends its edges: on the rendered clips those far edges alone pulled the pitch down by more than a degree."""
    first = up_from_families(edge_families(segments, K, frames, height))
    if first is None:
        return None
    near = segments[horizon_distance(segments, K, first[0]) > horizon_margin * height]
    second = up_from_families(edge_families(near, K, frames, height))
    return first if second is None else second


def level_pitch(up: np.ndarray) -> float:
    """Degrees: the pitch of a level camera (positive: looking down) whose up in camera coordinates is `up`, its
    sideways part left out (a level camera has none)."""
    return float(np.degrees(np.arctan2(-up[2], -up[1])))
