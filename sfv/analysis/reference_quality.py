"""How physically plausible a reference motion is, and how close to the truth: what a policy must follow.

A reference reconstructed from video can slide its planted feet (skate), put a body under the floor (penetration),
and fly for as long, and as high, as the monocular depth happened to make it. Each is measured here on the motion
alone (kinematics, no simulator) and, for a rendered clip, against the ground truth's own contacts and flights.
Pure numpy.
"""

from __future__ import annotations

import numpy as np

from sfv.markdown import markdown_table
from sfv.motion import Motion
from sfv.reconstruct.contact import steady_speed


def foot_indices(motion: Motion) -> list[int]:
    """The character's feet (its file's `feet`)."""
    return [motion.skeleton.index(n) for n in motion.skeleton.settings["feet"]]


def heights(motion: Motion) -> np.ndarray:
    """Every body's height (T, B) above the floor (height 0)."""
    pos, _ = motion.body_positions()
    return pos[..., "xyz".index(motion.skeleton.up_axis)]


def contacts(motion: Motion, foot_height: float, max_height: float = 0.05, max_speed: float = 0.5) -> np.ndarray:
    """Which feet (T, F) are planted: within `max_height` of their standing height `foot_height` and moving
    horizontally slower than `max_speed` m/s."""
    pos, _ = motion.body_positions()
    up = "xyz".index(motion.skeleton.up_axis)
    feet = pos[:, foot_indices(motion)]
    flat = [a for a in range(3) if a != up]
    low = feet[..., up] - foot_height < max_height
    return low & (steady_speed(feet[..., flat], motion.fps) < max_speed)


def foot_skate(motion: Motion, planted: np.ndarray) -> float:
    """Mean horizontal speed (m/s) of the feet over consecutive frames where `planted` (T, F) says they are down."""
    pos, _ = motion.body_positions()
    up = "xyz".index(motion.skeleton.up_axis)
    feet = pos[:, foot_indices(motion)][..., [a for a in range(3) if a != up]]
    speed = np.linalg.norm(np.diff(feet, axis=0), axis=-1) * motion.fps
    both = planted[1:] & planted[:-1]
    return float(speed[both].mean()) if both.any() else 0.0


def penetration(motion: Motion, foot_height: float) -> float:
    """Mean depth (m) per frame of the deepest point under the floor: a foot below its standing height, or any
    other body below the floor."""
    h = heights(motion)
    feet = foot_indices(motion)
    depth = -h
    depth[:, feet] = foot_height - h[:, feet]
    return float(np.maximum(depth.max(axis=1), 0.0).mean())


def flight_seconds(planted: np.ndarray, fps: float) -> float:
    """Seconds with no foot planted."""
    return float((~planted.any(axis=1)).sum() / fps)


#: bench/reference_physics.py's columns: (key, header)
COLUMNS = (
    ("clip", "clip"),
    ("reference", "reference"),
    ("body_error_cm", "body vs truth (cm)"),
    ("skate_cm_s", "foot skate where the truth is planted (cm/s)"),
    ("penetration_cm", "penetration (cm)"),
    ("flight_s", "flight (s)"),
    ("truth_flight_s", "the truth's flight (s)"),
    ("pd_only_s", "PD alone holds it (s)"),
)


def table(rows: list[dict]) -> str:
    """The references' rows (bench/results/reference_physics.json) as a markdown table."""
    return markdown_table([h for _, h in COLUMNS], ([r[k] for k, _ in COLUMNS] for r in rows))
