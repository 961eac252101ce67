"""Rigid alignment of point sets (Kabsch / Procrustes), one convention for the whole kit: a rotation R acts on
column vectors, `b ≈ R a`, so rows of points turn as `a @ R.T`.

Used where a camera's turn is read from background rays (the reconstruction) and where an error forgives an
orientation or a scale the video cannot tell (MPJPE after one rotation per clip or per frame, PA-MPJPE).
"""

from __future__ import annotations

import numpy as np


def best_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rotation R (3, 3) minimising sum_i |b_i - R a_i|^2 over paired points a, b (N, 3), without a
    reflection (Kabsch). The points are taken as they are: centre them first for a rigid fit of shapes."""
    u, _, vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def rotated_onto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Points a (N, 3) turned by the best rotation about the origin onto b: `a @ R.T`."""
    return a @ best_rotation(a, b).T


def similarity_aligned(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Points a (N, 3) moved onto b by the best similarity transform (rotation, uniform scale, translation):
    what PA-MPJPE forgives."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    p, g = a - mu_a, b - mu_b
    turned = p @ best_rotation(p, g).T
    scale = float((turned * g).sum()) / max(float((p**2).sum()), 1e-12)
    return scale * turned + mu_b
