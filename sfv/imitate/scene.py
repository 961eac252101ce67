"""The ground a clip was filmed on, recovered from its reconstruction: the surfaces the body stood on, grouped into
levels, laid out as the clip's own terrain.

People film skills on walls, boxes, stairs and slopes; a reconstruction shows where the body rested its weight and
at what height. A body part bears weight when it is the lowest of the parts that may (the feet, and the clip's
other ground contacts: a cartwheel's hands) within `contact_height`, and slower than `contact_speed`, for a few
frames. Each such plant says "there is a surface here, at this height". Plants whose heights lie within
`level_tolerance` of each other are one level (a flat floor, a wall top); a level's footprint is where its plants
stood, plus `edge_margin`. The lowest level is the ground and extends everywhere; the others
stand on it as blocks. One level found is flat ground, as the kit assumes elsewhere.

Pure numpy over the motion's forward kinematics: nothing here simulates. The idea is VideoMimic's (Allshire et al.
2025: the scene reconstructed with the person, the policy trained on it); SFV itself assumed flat ground.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sfv.imitate.contacts import contact_bodies, runs_of
from sfv.imitate.reference_clip import standing_foot_height
from sfv.imitate.terrain import Heightfield, highest_top, travel_direction
from sfv.motion import Motion
from sfv.reconstruct.contact import steady_speed


class SceneError(ValueError):
    """A scene that cannot be built from the clip (the message names the clip, the frames and why)."""


@dataclass(frozen=True)
class SceneSettings:
    """How plants are found and grouped (metres, seconds)."""

    contact_height: float = 0.12  # a part within this of the lowest weight-bearing part may bear weight too
    contact_speed: float = 1.0  # m/s: faster parts are moving, not standing
    min_contact_frames: int = 3  # shorter plants are passing touches
    level_tolerance: float = 0.25  # plants within this height of the level's are on it (a step is higher)
    min_level_frames: int = 8  # a level needs this many planted frames (fewer: noise, not a surface)
    edge_margin: float = 0.15  # a level's footprint reaches this far past its plants (half a foot and some)
    inside_tolerance: float = 0.10  # how far a body may dip into a surface before the scene is refused


@dataclass(frozen=True)
class Level:
    """One support surface: its height, when the body stood on it, and its footprint along the clip's travel (u)
    and across it (v)."""

    height: float
    frames: tuple[int, int]  # [first, last] frame a part was planted on it
    planted_frames: int  # frames with at least one part planted on it
    u: tuple[float, float]
    v: tuple[float, float]


@dataclass(frozen=True)
class Scene:
    """Levels lowest first (levels[0]: the ground, unbounded) in the motion's world, footprints in the frame
    (forward, lateral) of the clip's travel."""

    levels: tuple[Level, ...]
    forward: np.ndarray  # (3,) horizontal unit vector
    up: int

    @property
    def lateral(self) -> np.ndarray:
        return np.cross(np.eye(3)[self.up], self.forward)

    @property
    def flat(self) -> bool:
        return len(self.levels) == 1

    def height(self, points: np.ndarray) -> np.ndarray:
        """The surface height under each world point (..., 3): the highest level whose footprint covers it."""
        boxes = [(*level.u, *level.v, level.height) for level in self.levels[1:]]
        return highest_top(points @ self.forward, points @ self.lateral, boxes, self.levels[0].height)

    def heightfield(self, cell: float = 0.05, margin: float = 2.0, cover: np.ndarray | None = None) -> Heightfield:
        """The scene as the kit's terrain grid (heights relative to the ground level), covering every level's
        footprint, the world points `cover` (N, 3) (the reference's path) and `margin` metres around: what the
        simulator builds and the heightmap observation reads."""
        ground = self.levels[0].height
        raised = self.levels[1:] or self.levels
        us = [u for lv in raised for u in lv.u]
        vs = [v for lv in raised for v in lv.v]
        if cover is not None:
            us += list(cover @ self.forward)
            vs += list(cover @ self.lateral)
        u0, u1 = min(us) - margin, max(us) + margin
        v0, v1 = min(vs) - margin, max(vs) + margin
        nu, nv = int(np.ceil((u1 - u0) / cell)) + 1, int(np.ceil((v1 - v0) / cell)) + 1
        uu, vv = u0 + cell * np.arange(nu), v0 + cell * np.arange(nv)
        heights = np.zeros((nv, nu))
        for level in self.levels[1:]:
            cols = (uu >= level.u[0]) & (uu <= level.u[1])
            rows = (vv >= level.v[0]) & (vv <= level.v[1])
            heights[np.ix_(rows, cols)] = np.maximum(heights[np.ix_(rows, cols)], level.height - ground)
        # the same levels as solid blocks (the floor under the whole grid first): what the simulator lays
        blocks = [(uu[0], uu[-1], vv[0], vv[-1], 0.0)]
        blocks += [(*level.u, *level.v, level.height - ground) for level in self.levels[1:]]
        return Heightfield(heights, cell, cell, u0, v0, self.forward, self.up, heights.copy(), blocks=np.array(blocks))


def weight_bearing(
    motion: Motion, foot_height: float, allowed: list[str] = (), settings: SceneSettings = SceneSettings()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(planted (T, C), surface height under each part (T, C), positions (T, C, 3)) for the parts that may bear
    weight (the feet, then `allowed`): a part is planted while it is within `contact_height` of the lowest of them,
    slower than `contact_speed`, for at least `min_contact_frames` frames; the surface under it is its height less
    its height at rest on a floor."""
    pos, _ = motion.body_positions()
    up = "xyz".index(motion.skeleton.up_axis)
    index, rest = contact_bodies(motion, foot_height, allowed)
    parts = pos[:, index]
    surface = parts[..., up] - rest
    flat = [a for a in range(3) if a != up]
    low = surface - surface.min(axis=1, keepdims=True) < settings.contact_height
    planted = low & (steady_speed(parts[..., flat], motion.fps) < settings.contact_speed)
    for c in range(planted.shape[1]):
        for a, b in runs_of(planted[:, c]):
            if b - a < settings.min_contact_frames:
                planted[a:b, c] = False
    return planted, surface, parts


def group_levels(heights: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """Plant heights grouped into levels: sorted, a new level wherever the next height is more than `tolerance`
    above the one before; returns each level's member indices into `heights`, lowest level first."""
    order = np.argsort(heights)
    breaks = np.flatnonzero(np.diff(heights[order]) > tolerance) + 1
    return [np.sort(g) for g in np.split(order, breaks)]


def find_scene(
    motion: Motion,
    foot_height: float,
    allowed: list[str] = (),
    settings: SceneSettings = SceneSettings(),
    clip: str = "clip",
) -> Scene:
    """The levels the clip's body stood on. Raises SceneError, naming the clip and frames, when the plants cannot
    be a scene: two raised levels whose footprints overlap, or a body inside a surface."""
    planted, surface, parts = weight_bearing(motion, foot_height, allowed, settings)
    sk = motion.skeleton
    up = "xyz".index(sk.up_axis)
    # footprints are boxes along the clip's travel (a wall's edge lies across it); a clip that stays put has none,
    # and any horizontal axis does
    forward = travel_direction(motion.root_pos, np.eye(3)[(up + 1) % 3], up)
    lateral = np.cross(np.eye(3)[up], forward)
    t_idx, c_idx = np.nonzero(planted)
    groups = group_levels(surface[t_idx, c_idx], settings.level_tolerance) if len(t_idx) else []
    levels = []
    for g in groups:
        frames = np.unique(t_idx[g])
        if len(frames) < settings.min_level_frames:
            continue  # a few planted frames at an odd height: a stumble of the reconstruction, not a surface
        # where the parts stood on it (the box they span covers the ground between them; the root is no measure
        # of an edge: a jumper leans out over it before taking off)
        points = parts[t_idx[g], c_idx[g]]
        u, v, m = points @ forward, points @ lateral, settings.edge_margin
        levels.append(
            Level(
                height=float(np.median(surface[t_idx[g], c_idx[g]])),
                frames=(int(frames.min()), int(frames.max())),
                planted_frames=len(frames),
                u=(float(u.min()) - m, float(u.max()) + m),
                v=(float(v.min()) - m, float(v.max()) + m),
            )
        )
    if not levels:  # never at rest long enough (a run's feet keep sliding in its reconstruction): one floor, where
        # the lowest part went on most frames
        reach = motion.root_pos
        u, v, m = reach @ forward, reach @ lateral, settings.edge_margin
        lowest = surface.min(axis=1)
        levels.append(
            Level(
                float(np.percentile(lowest, 10)),
                (0, motion.n_frames - 1),
                0,
                (float(u.min()) - m, float(u.max()) + m),
                (float(v.min()) - m, float(v.max()) + m),
            )
        )
    levels.sort(key=lambda lv: lv.height)
    scene = Scene(tuple(levels), forward, up)
    _check_overlap(scene, clip)
    _check_inside(scene, motion, settings, clip)
    return scene


def _check_overlap(scene: Scene, clip: str) -> None:
    """Two raised levels whose footprints overlap would put one surface inside the other."""
    raised = scene.levels[1:]
    for i, a in enumerate(raised):
        for b in raised[i + 1 :]:
            if a.u[0] < b.u[1] and b.u[0] < a.u[1] and a.v[0] < b.v[1] and b.v[0] < a.v[1]:
                raise SceneError(
                    f"clip {clip!r}: the level at {a.height:.2f} m (frames {a.frames[0]}-{a.frames[1]}) and the one at "
                    f"{b.height:.2f} m (frames {b.frames[0]}-{b.frames[1]}) cover the same ground: one surface would "
                    "stand inside the other. A slope or a bad camera pitch reads as steps: imitate a part on one "
                    "level (imitate.clips.<clip>.frames) or raise the scene's level_tolerance"
                )


def _check_inside(scene: Scene, motion: Motion, settings: SceneSettings, clip: str) -> None:
    """A body more than `inside_tolerance` under the surface at its place: no scene of blocks explains the clip."""
    pos, _ = motion.body_positions()
    depth = scene.height(pos) - pos[..., scene.up]
    t, b = np.unravel_index(int(np.argmax(depth)), depth.shape)
    if depth[t, b] > settings.inside_tolerance:
        bad = np.flatnonzero((depth > settings.inside_tolerance).any(axis=1))
        raise SceneError(
            f"clip {clip!r}: body {motion.skeleton.body_names[b]!r} is {depth[t, b]:.2f} m inside the surface at "
            f"{scene.height(pos[t, b])[()]:.2f} m at frame {t} ({len(bad)} frame{'s' * (len(bad) != 1)} in all, "
            f"{bad[0]}-{bad[-1]}): "
            "the recovered levels cannot host this motion (a climb, or a reconstruction that sinks)"
        )


def scene_terrain(motion: Motion, spec, ground_contacts: list[str] = (), clip: str = "clip") -> Heightfield:
    """The ground a reference stood on as the env's terrain (`spec` a terrain file of kind "scene"): its levels
    under the reference's path, at the reference's own heights, and tracked in those absolute heights (the tracked
    grid is level 0 everywhere: the reference already stands on the levels, so it is not raised over them)."""
    feet = motion.skeleton.settings["feet"]
    allowed = [b for b in ground_contacts if b not in feet]
    scene = find_scene(motion, standing_foot_height(motion.skeleton), allowed, clip=clip)
    field = scene.heightfield(spec.cell, spec.margin, cover=motion.root_pos)
    ground = scene.levels[0].height  # absolute heights: the ground level where the reference put it
    blocks = field.blocks + np.array([0.0, 0.0, 0.0, 0.0, ground])
    return replace(field, heights=field.heights + ground, tracking=np.zeros_like(field.heights), blocks=blocks)
