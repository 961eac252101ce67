"""Where a reconstruction's error comes from, on a rendered clip (whose camera and source motion are known).

The stage's MPJPE turns the whole clip by one rotation before it measures. Three splits of that error say what
could still be won, and by what:
- the body's orientation: the error left when every frame gets its own rotation (`frame_aligned_mpjpe`);
- image plane against depth: the root-relative error in the camera's own axes (`camera_axes_error`), where the
  2D keypoints pin the first two and say nothing of the third;
- depth flips: bones that point towards the camera where the truth's point away, or back (`depth_flips`), the
  monocular ambiguity no 2D term can settle; `with_true_depth_signs` mends only those signs from the truth, an
  oracle that says what settling every flip would be worth.

Pure functions over joint arrays (T, J, 3), root first; `bench/reconstruct_error_sources.py` runs them on the
rendered clips.
"""

from __future__ import annotations

import numpy as np

from sfv.alignment import rotated_onto
from sfv.skeleton import Skeleton


def frame_aligned_mpjpe(positions: np.ndarray, source: np.ndarray) -> float:
    """Root-aligned mean per-joint error (mm) after one rotation per frame: the error of the articulated pose
    alone, the body's orientation in each frame forgiven (the stage's MPJPE forgives one rotation per clip)."""
    a = positions - positions[:, :1]
    b = source - source[:, :1]
    errors = [np.linalg.norm(rotated_onto(x, y) - y, axis=-1).mean() for x, y in zip(a, b)]
    return float(np.mean(errors) * 1000)


def camera_axes_error(positions_cam: np.ndarray, truth_cam: np.ndarray) -> np.ndarray:
    """RMS root-relative error (mm) along the camera's x, y (the image plane) and z (depth), over the joints
    other than the root; both arrays (T, J, 3) in camera coordinates, unaligned."""
    e = (positions_cam - positions_cam[:, :1]) - (truth_cam - truth_cam[:, :1])
    return np.sqrt((e[:, 1:] ** 2).mean(axis=(0, 1))) * 1000


def chain_parents(skeleton: Skeleton, bodies: list[int]) -> list[int]:
    """For each of the target `bodies` (skeleton indices, root first), the position in `bodies` of its nearest
    ancestor among them (-1 for the root): the bones the targets span."""
    out = []
    for body in bodies:
        p = skeleton.parents[body]
        while p >= 0 and p not in bodies:
            p = skeleton.parents[p]
        out.append(bodies.index(p) if p >= 0 else -1)
    if any(p >= j for j, p in enumerate(out)):
        raise ValueError(f"bodies {bodies}: each must come after its nearest listed ancestor (root first)")
    return out


def _bones(x: np.ndarray, parents: list[int]) -> np.ndarray:
    """Bone vectors (T, J, 3): each joint minus its parent's (zero for the root)."""
    index = [max(p, 0) for p in parents]
    bones = x - x[:, index]
    bones[:, [j for j, p in enumerate(parents) if p < 0]] = 0.0
    return bones


def depth_flips(
    positions_cam: np.ndarray, truth_cam: np.ndarray, parents: list[int], min_depth: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """(flipped, counted), both (T, J) bool: `counted` where the truth's bone into joint j runs at least `min_depth`
    metres towards or away from the camera (shorter runs have no clear sign); `flipped` where the reconstruction's
    runs the other way."""
    mine, true = _bones(positions_cam, parents)[..., 2], _bones(truth_cam, parents)[..., 2]
    counted = np.abs(true) >= min_depth
    return counted & (np.sign(mine) != np.sign(true)), counted


def with_true_depth_signs(
    positions_cam: np.ndarray, truth_cam: np.ndarray, parents: list[int], min_depth: float = 0.05
) -> np.ndarray:
    """The joints (T, J, 3, camera coordinates, root-relative) rebuilt bone by bone with each flipped bone's depth
    turned round (`depth_flips`): the same bone lengths and image-plane offsets, the truth's depth signs."""
    flipped, _ = depth_flips(positions_cam, truth_cam, parents, min_depth)
    bones = _bones(positions_cam, parents)
    bones[..., 2] = np.where(flipped, -bones[..., 2], bones[..., 2])
    out = np.zeros_like(bones)
    for j, p in enumerate(parents):
        if p >= 0:
            out[:, j] = out[:, p] + bones[:, j]
    return out
