"""A rendered clip's known scene: a mocap jump made to start on a platform and drop off it.

The scene issue needs a clip whose ground is known and crosses levels, to score the levels recovered from its video
(`sfv.imitate.scene`). The mocap has only flat ground; a forward jump becomes a drop off a platform by raising every
frame before its take-off by the platform's height and easing that height away over the flight (smoothstep: the
take-off and landing keep their vertical speed, so the contacts stay as the mocap has them). The platform ends
`edge_margin` past the take-off ankles (the toes at its edge) and reaches a metre behind them; the landing must lie
past its edge. Pure numpy: the render stage draws the box, the later stages read the same truth from here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sfv import paths
from sfv.motion import Motion, load_motion, repeat_cycles

#: an ankle higher than this above its lowest height in the clip is off the ground (it rises ~6 cm when the heel
#: lifts while the toes still push off)
FLIGHT_CLEARANCE_M = 0.08
#: frames of flight below this are a shuffle, not a flight
MIN_FLIGHT_FRAMES = 3
#: how far the platform reaches behind the take-off ankles, and to either side of them (metres)
PLATFORM_BEHIND_M = 1.0
PLATFORM_HALF_WIDTH_M = 0.6
#: the landing must lie this far past the platform's edge (a foot is ~0.25 m long)
LANDING_CLEARANCE_M = 0.1


@dataclass(frozen=True)
class Platform:
    """An axis-aligned box in the motion's world (its up axis), standing on the floor, and the clip's travel."""

    lo: np.ndarray  # (3,) corner
    hi: np.ndarray  # (3,) corner
    height: float
    forward: np.ndarray  # (3,) horizontal unit vector: the take-off to the landing
    edge: float  # the near edge's coordinate along `forward` (where the drop is)
    takeoff: int  # first frame of the flight (at the motion's rate)
    landing: int  # first frame back on the ground


def first_flight(motion: Motion, clip: str = "") -> tuple[int, int]:
    """[take-off, landing) frames of the motion's first flight: every foot off the ground."""
    pos, _ = motion.body_positions()
    up = "xyz".index(motion.skeleton.up_axis)
    feet = pos[:, [motion.skeleton.index(f) for f in motion.skeleton.settings["feet"]], up]
    airborne = (feet > feet.min(axis=0) + FLIGHT_CLEARANCE_M).all(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], airborne.astype(int), [0]])))
    for start, end in zip(edges[::2], edges[1::2]):
        if end - start >= MIN_FLIGHT_FRAMES and end < motion.n_frames:
            return int(start), int(end)
    raise ValueError(
        f"clip {clip!r}: scene.platform needs a motion with a flight to drop off the platform (a jump), but "
        f"{motion.name!r} always has a foot on the ground; remove scene.platform or choose a jumping mocap"
    )


def platform_drop(motion: Motion, height: float, edge_margin: float, clip: str = "") -> tuple[Motion, Platform]:
    """The motion starting `height` up on a platform and dropping off it in its first flight, and the platform."""
    up = "xyz".index(motion.skeleton.up_axis)
    takeoff, landing = first_flight(motion, clip)
    pos, _ = motion.body_positions()
    feet = pos[:, [motion.skeleton.index(f) for f in motion.skeleton.settings["feet"]]]
    forward = motion.root_pos[landing] - motion.root_pos[takeoff]
    forward[up] = 0.0
    if np.linalg.norm(forward) < 0.3:
        raise ValueError(
            f"clip {clip!r}: its flight (frames {takeoff}-{landing}) travels "
            f"{np.linalg.norm(forward):.2f} m: too little to leave a platform; scene.platform needs a forward jump"
        )
    forward /= np.linalg.norm(forward)
    lateral = np.cross(np.eye(3)[up], forward)
    before = feet[takeoff - 1]
    edge = float((before @ forward).max() + edge_margin)
    landed = float((feet[landing] @ forward).min())
    if landed < edge + LANDING_CLEARANCE_M:
        raise ValueError(
            f"clip {clip!r}: it lands {landed - edge:+.2f} m from the platform's edge (frame {landing}); "
            f"lower scene.edge_margin (now {edge_margin} m) so that the landing lies past the edge"
        )
    s = np.clip((np.arange(motion.n_frames) - (takeoff - 1)) / (landing - takeoff + 1), 0.0, 1.0)
    offset = height * (1.0 - s * s * (3.0 - 2.0 * s))  # smoothstep: 1 before the take-off, 0 from the landing
    root_pos = motion.root_pos.copy()
    root_pos[:, up] += offset
    across = before @ lateral
    corners = [
        forward * ((before @ forward).min() - PLATFORM_BEHIND_M) + lateral * (across.mean() - PLATFORM_HALF_WIDTH_M),
        forward * edge + lateral * (across.mean() + PLATFORM_HALF_WIDTH_M) + np.eye(3)[up] * height,
    ]
    lo, hi = np.minimum(*corners), np.maximum(*corners)
    lo[up] = 0.0
    platform = Platform(lo, hi, float(height), forward, edge, takeoff, landing)
    return replace(motion, root_pos=root_pos), platform


def clip_truth(entry, root: Path = Path(".")) -> tuple[Motion, Platform | None]:
    """A rendered clip's true motion (`entry` a config.ClipParams), at the mocap's rate, and its platform (None:
    flat floor): what the render stage films and the later stages are measured against; a looping mocap played
    `entry.cycles` times in a row."""
    motion = load_motion(paths.mocap_motion(entry.mocap, root))
    if entry.cycles > 1:
        if motion.loop != "wrap":
            raise ValueError(
                f"cycles: {entry.cycles}, but the mocap {entry.mocap!r} does not loop (loop: {motion.loop}): it has "
                "no cycle to play again; set cycles: 1 for this clip"
            )
        motion = repeat_cycles(motion, entry.cycles)
    if entry.scene.platform <= 0:
        return motion, None
    return platform_drop(motion, entry.scene.platform, entry.scene.edge_margin, entry.mocap)
