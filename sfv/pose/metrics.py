"""Pose-estimation metrics against ground truth (pure numpy).

Frames the estimator missed count against detection rate and PCK; pixel error and PA-MPJPE are means
over the frames it did detect (they say how good a detection is, detection rate how often there is one).
"""

from __future__ import annotations

import numpy as np

from sfv.alignment import similarity_aligned


def pixel_error(pred_2d: np.ndarray, gt_2d: np.ndarray, detected: np.ndarray) -> float:
    """Mean distance (pixels) between predicted and true keypoints (T, K, 2) over detected frames."""
    if not detected.any():
        return float("nan")
    return float(np.linalg.norm(pred_2d[detected] - gt_2d[detected], axis=-1).mean())


def pck(pred_2d: np.ndarray, gt_2d: np.ndarray, detected: np.ndarray, threshold: float = 0.05) -> float:
    """Share of keypoints within `threshold` x the true body's size (the longer side of its box) of the
    truth, over all frames (missed frames count as misses)."""
    size = (gt_2d.max(axis=1) - gt_2d.min(axis=1)).max(axis=1)  # (T,)
    close = np.linalg.norm(pred_2d - gt_2d, axis=-1) <= threshold * size[:, None]
    return float((close & detected[:, None]).mean())


def pa_mpjpe(pred_3d: np.ndarray, gt_3d: np.ndarray, detected: np.ndarray) -> float:
    """Mean per-joint position error (mm) after Procrustes alignment of each detected frame."""
    errs = [
        np.linalg.norm(similarity_aligned(p, g) - g, axis=-1).mean() for p, g, d in zip(pred_3d, gt_3d, detected) if d
    ]
    return float(np.mean(errs) * 1000.0) if errs else float("nan")
