"""The camera's field of view estimated from the clip, where the person's motion tells it.

A pose network sees a crop around the person and gives its 3D pose as seen along the ray to them
(`sfv.reconstruct.camera.place_body`). How far that ray turns from the optical axis, and how much an
off-centre body is stretched in the image, both depend on the focal length: a person who crosses the
image shows it. So for each candidate field of view every frame's body is placed (turned onto its ray,
depth from scale) and reprojected; the field of view whose bodies best match the 2D keypoints over the
clip is the estimate. A person who stays near the image centre leaves this cue flat, and what is left
(each body's own perspective) is biased by the network's depth errors: measured on the rendered clips,
the minimum then lands up to 38 degrees off (a 30-degree lens from 7 m read as 68). So the estimate is
used only where the ray to the body's mid-hip sweeps at least `min_sweep` degrees across the view (at the
estimated lens; an angle, so the same on any image size or aspect); elsewhere the assumed field of view
stays (SFV assumed one throughout). Measured on the 15 rendered clips at 15 degrees: estimated on 6 (sweeps
17-24 degrees), 4.5 degrees off on average there and 8.8 at most (the portrait walk's 65-degree lens read as
64.8); the 30-degree lens from 7 m sweeps 13.8 degrees, close under the threshold, so the margin is thin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfv.camera import intrinsics, perspective
from sfv.reconstruct.camera import BODY, place_body

#: candidate vertical fields of view, degrees (a phone's main camera is 55-70, a long lens 20-30)
FOV_GRID = np.arange(20.0, 90.01, 2.5)
MID_HIP = (23, 24)  # BlazePose's hips


@dataclass
class FovEstimate:
    fov: float  # degrees: what the reconstruction uses (the estimate, or the assumed value)
    estimated: bool  # whether the clip told it
    best: float  # degrees: where the reprojection cost is least (reported even where it is not used)
    sweep: float  # degrees: how far the ray to the mid-hip sweeps sideways (5th to 95th percentile), at `best`
    grid: np.ndarray  # candidate fields of view
    costs: np.ndarray  # mean reprojection error per candidate, as a share of the body's size in the image
    reason: str  # one line on why this value


def reprojection_costs(
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    confidence: np.ndarray,
    detected: np.ndarray,
    width: int,
    height: int,
    fovs: np.ndarray = FOV_GRID,
    max_frames: int = 200,
) -> np.ndarray:
    """Per candidate field of view (F,), the clip's mean confidence-weighted reprojection error of its bodies
    placed along their rays, each frame's error divided by the body's size in the image (so that near and
    far frames and every resolution count alike). At most `max_frames` evenly spread frames are used."""
    frames = np.flatnonzero(detected)
    if len(frames) > max_frames:
        frames = frames[np.linspace(0, len(frames) - 1, max_frames).round().astype(int)]
    costs = np.zeros(len(fovs))
    for i, fov in enumerate(fovs):
        K = intrinsics(width, height, float(fov))
        focal = np.array([K[0, 0], K[1, 1]])
        total = 0.0
        for t in frames:
            uv, xyz, w = keypoints_2d[t, BODY], keypoints_3d[t, BODY], confidence[t, BODY]
            R, T = place_body(uv, xyz, w, K, ray_aligned=True)
            err = np.linalg.norm(perspective(xyz @ R.T + T, focal, K[:2, 2]) - uv, axis=1)
            total += (w * err).sum() / max(w.sum(), 1e-9) / max(np.ptp(uv, axis=0).max(), 1.0)
        costs[i] = total / max(len(frames), 1)
    return costs


def lateral_sweep(keypoints_2d: np.ndarray, detected: np.ndarray, width: int, height: int, fov: float) -> float:
    """Degrees the ray to the mid-hip sweeps sideways over the clip (5th to 95th percentile of its angle), seen
    through a lens of vertical field of view `fov`."""
    if not detected.any():
        return 0.0
    K = intrinsics(width, height, fov)
    x = keypoints_2d[detected][:, list(MID_HIP), 0].mean(axis=1)
    angle = np.degrees(np.arctan((x - K[0, 2]) / K[0, 0]))
    return float(np.subtract(*np.percentile(angle, [95, 5])))


def _refine(grid: np.ndarray, costs: np.ndarray) -> float:
    """The minimum of the parabola through the grid's lowest cost and its neighbours (the grid point at an end)."""
    i = int(np.argmin(costs))
    if i == 0 or i == len(costs) - 1:
        return float(grid[i])
    a, b, c = costs[i - 1 : i + 2]
    denom = a - 2 * b + c
    step = grid[i + 1] - grid[i]
    return float(grid[i] + (0.5 * (a - c) / denom * step if denom > 0 else 0.0))


def estimate_fov(
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    confidence: np.ndarray,
    detected: np.ndarray,
    width: int,
    height: int,
    assumed: float,
    min_sweep: float = 15.0,
    fovs: np.ndarray = FOV_GRID,
) -> FovEstimate:
    """The vertical field of view (degrees) for a clip's BlazePose output: the reprojection minimum where the ray to
    the person sweeps at least `min_sweep` degrees sideways, else `assumed`."""
    detected = np.asarray(detected, dtype=bool)
    costs = reprojection_costs(keypoints_2d, keypoints_3d, confidence, detected, width, height, fovs)
    best = _refine(fovs, costs)
    sweep = lateral_sweep(keypoints_2d, detected, width, height, best)
    if sweep >= min_sweep:
        return FovEstimate(
            best,
            True,
            best,
            sweep,
            fovs,
            costs,
            f"estimated: the ray to the person sweeps {sweep:.0f} deg across the view (>= {min_sweep:g})",
        )
    return FovEstimate(
        float(assumed),
        False,
        best,
        sweep,
        fovs,
        costs,
        f"assumed {assumed:g} deg: the ray to the person sweeps only {sweep:.0f} deg across the view "
        f"(< {min_sweep:g}), too little to tell the lens (the cost's minimum, {best:.0f} deg, is not "
        "trusted)",
    )
