"""The bodies that may bear a character's weight, and runs of frames: shared by the physical reference step and the
scene (pure numpy, so that the env can lay a scene without the physical step's optimiser)."""

from __future__ import annotations

import numpy as np

from sfv.motion import Motion


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a 1-D mask."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2]))


def contact_bodies(motion: Motion, foot_height: float, allowed: list[str] = ()) -> tuple[list[int], np.ndarray]:
    """The bodies that may bear weight (the feet, and `allowed`: a cartwheel's wrists) and each one's height when it
    rests on the floor: the feet's standing height, an allowed body's lowest height in the clip (at least 0)."""
    sk = motion.skeleton
    names = list(sk.settings["feet"]) + [n for n in allowed if n not in sk.settings["feet"]]
    index = [sk.index(n) for n in names]
    pos, _ = motion.body_positions()
    up = "xyz".index(sk.up_axis)
    rest = np.array(
        [
            foot_height if n in sk.settings["feet"] else max(float(pos[:, i, up].min()), 0.0)
            for n, i in zip(names, index)
        ]
    )
    return index, rest
