"""Feet at rest: how fast a point moves over a few frames, and which feet are planted.

Both the camera (feet at rest fix its pitch) and the fit (planted feet must not slide) ask this of
jittery per-frame estimates, so the speed is a central difference over two frames each side.
"""

from __future__ import annotations

import numpy as np


def steady_speed(points: np.ndarray, fps: float) -> np.ndarray:
    """Speed (T, ...) of points (T, ..., D) by central differences over two frames each side (held at the
    ends): steady enough to ride over a frame's jitter."""
    padded = np.concatenate([points[:1], points[:1], points, points[-1:], points[-1:]])
    return np.linalg.norm(padded[4:] - padded[:-4], axis=-1) * fps / 4


def foot_contact(
    heights: np.ndarray, horizontal: np.ndarray, fps: float, max_height: float, max_speed: float
) -> np.ndarray:
    """Which feet (T, F) are planted (1.0) or not (0.0): low (heights (T, F) below `max_height`) and slow
    (horizontal positions (T, F, 2) moving under `max_speed` m/s)."""
    return ((heights < max_height) & (steady_speed(horizontal, fps) < max_speed)).astype(float)
