"""Irregular terrain as a heightfield: the terrain files' schema, their generators, and height queries.

A terrain file (`sfv/terrains/<name>.yaml`) names a kind and its sizes. Flat ground is pybullet's plane; every
other kind is a grid of heights laid out along the clip's direction of travel (`forward`): its features (a
slope's hills, stairs' flights, gaps) run across the path the reference takes, whichever way the clip goes, and
the first metres around the start stay flat. Rough ground is a Gaussian random field. Everything is seeded, so a
terrain is a function of its file and a seed.

The simulator (sim.py) builds the same grid as a pybullet heightfield; the env asks `Heightfield` how high the
ground is under the character (ground-relative tracking) and around it (the heightmap observation), with the
triangulation Bullet uses, so what the policy sees is what it stands on. Pure numpy: nothing here simulates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from sfv.assets import setting_file, setting_names


class TerrainError(ValueError):
    """A terrain file that cannot be used as it is (the message names the file, the field and the fix)."""


Range = tuple[float, float]


def _as_range(v):
    """A number or [low, high]: each feature draws its value uniformly in the range."""
    if isinstance(v, (int, float)):
        return (float(v), float(v))
    return v


class _Terrain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    friction: float = Field(0.9, gt=0, description="Coulomb friction of the ground (and of the character's bodies)")


class PlaneTerrain(_Terrain):
    """Flat ground: pybullet's infinite plane at height 0."""

    kind: Literal["plane"]


class _FieldTerrain(_Terrain):
    """A heightfield laid along the clip's direction of travel."""

    cell: float = Field(
        0.1,
        ge=0.02,
        le=0.5,
        description="grid spacing along the travel (metres); steps and gap "
        "edges need <= 0.05 (an edge is a ramp one cell long)",
    )
    cell_across: Optional[float] = Field(
        None,
        ge=0.02,
        le=0.5,
        description="grid spacing across the travel (metres; "
        "null: cell). Features that do not vary across (slope, stairs, gaps) can take "
        "a coarser one: a wide grid at a fine step stays small",
    )
    length: float = Field(30.0, gt=0, description="metres of terrain ahead of the start, along the travel")
    behind: float = Field(
        4.0, ge=0, description="metres of terrain behind the start (plus episode_shift when randomised)"
    )
    width: float = Field(8.0, gt=0, description="metres across the travel (centred on the start)")
    flat_start: float = Field(2.0, ge=0, description="the ground stays flat up to this far ahead of the start")
    seed: int = Field(0, ge=0, description="seed of the features' random sizes (an env reset with a seed redraws)")
    randomise: bool = Field(
        False,
        description="each episode shifts the features along the travel by a random "
        "distance in [0, episode_shift], so no two episodes meet them at the same phase",
    )
    episode_shift: float = Field(0.0, ge=0, description="metres; see randomise")
    bridge: float = Field(
        0.0,
        ge=0,
        description="the ground the reference is tracked against is the highest within "
        "this distance (metres): it spans gaps, so a character over a gap is still asked to "
        "stay at its height above the ground around it, not to fall in",
    )

    @property
    def across(self) -> float:
        """The grid spacing across the travel."""
        return self.cell_across if self.cell_across is not None else self.cell


class SlopeTerrain(_FieldTerrain):
    """Hills: straight ramps up and down, alternately."""

    kind: Literal["slope"]
    angle_deg: Range = Field(description="each ramp's steepness (degrees), drawn in this range")
    segment: Range = Field((4.0, 6.0), description="each ramp's length along the travel (metres)")

    _range = field_validator("angle_deg", "segment", mode="before")(_as_range)


class GapsTerrain(_FieldTerrain):
    """Level ground cut by trenches across the travel."""

    kind: Literal["gaps"]
    gap_width: Range = Field(description="each gap's width along the travel (metres)")
    gap_spacing: Range = Field(description="ground between two gaps (metres)")
    gap_depth: float = Field(2.0, gt=0, description="metres below the ground")

    _range = field_validator("gap_width", "gap_spacing", mode="before")(_as_range)


class StairsTerrain(_FieldTerrain):
    """Flights of steps up, a landing, steps down, a landing, and so on."""

    kind: Literal["stairs"]
    step_height: Range = Field(description="each step's rise (metres)")
    step_depth: Range = Field(description="each step's tread along the travel (metres)")
    steps: int = Field(5, ge=1, description="steps per flight")
    landing: float = Field(2.0, ge=0, description="level ground between flights (metres)")

    _range = field_validator("step_height", "step_depth", mode="before")(_as_range)


class RoughTerrain(_FieldTerrain):
    """Uneven ground: a Gaussian random field."""

    kind: Literal["rough"]
    amplitude: float = Field(gt=0, description="standard deviation of the heights (metres)")
    correlation_length: float = Field(
        gt=0, description="distance over which heights stay alike (metres): the Gaussian smoothing's sigma"
    )


class SceneTerrain(_Terrain):
    """The clip's own ground, recovered from its reference (sfv.imitate.scene): the levels its body stood on, laid
    out as a grid where the reference stood them. Its heights are the reference's own, so the reference is tracked as
    it is (absolute heights), not above the ground under the character as on the other kinds."""

    kind: Literal["scene"]
    cell: float = Field(0.05, ge=0.02, le=0.5, description="grid spacing (metres); an edge is a ramp one cell long")
    margin: float = Field(
        2.0, gt=0, description="metres of ground around the levels and the reference's path (beyond is no ground)"
    )
    randomise: Literal[False] = Field(False, description="a scene is the clip's: never shifted or redrawn")


TerrainSpec = Annotated[
    Union[PlaneTerrain, SlopeTerrain, GapsTerrain, StairsTerrain, RoughTerrain, SceneTerrain],
    Field(discriminator="kind"),
]
_SPEC = TypeAdapter(TerrainSpec)
KINDS = ("plane", "slope", "gaps", "stairs", "rough", "scene")


def read_terrain(name: str) -> _Terrain:
    """The validated terrain file `sfv/terrains/<name>.yaml`."""
    path = setting_file("terrains", name)
    if not path.is_file():
        raise TerrainError(f"unknown terrain {name!r}: no {path}; known terrains: {setting_names('terrains')}")
    return parse_terrain(yaml.safe_load(path.read_text()) or {}, path)


def parse_terrain(data: dict, path: str | Path = "<terrain>") -> _Terrain:
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        kind = data.get("kind") if isinstance(data, dict) else None
        raise TerrainError(f"{path}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    try:
        return _SPEC.validate_python(data)
    except ValidationError as e:
        lines = [f"  {'.'.join(map(str, err['loc'][1:])) or '(file)'}: {err['msg']}" for err in e.errors()]
        raise TerrainError(
            f"{path}: not a valid {data['kind']} terrain:\n"
            + "\n".join(lines)
            + f"\n(each field's meaning: sfv/imitate/terrain.py, class {data['kind'].title()}Terrain)"
        ) from None


# --- generators: a height profile along the travel (or a 2D field), from the spec and a random generator -------
def _draw(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def _slope_profile(spec: SlopeTerrain, u: np.ndarray, rng) -> np.ndarray:
    knots_u, knots_h, sign = [spec.flat_start], [0.0], 1.0
    while knots_u[-1] < u[-1]:
        run = _draw(rng, spec.segment)
        knots_u.append(knots_u[-1] + run)
        knots_h.append(knots_h[-1] + sign * run * np.tan(np.radians(_draw(rng, spec.angle_deg))))
        sign = -sign
    return np.interp(u, knots_u, knots_h, left=0.0)


def _gaps_profile(spec: GapsTerrain, u: np.ndarray, rng) -> np.ndarray:
    h = np.zeros_like(u)
    start = spec.flat_start
    while start < u[-1]:
        width = _draw(rng, spec.gap_width)
        h[(u > start) & (u < start + width)] = -spec.gap_depth
        start += width + _draw(rng, spec.gap_spacing)
    return h


def _stairs_profile(spec: StairsTerrain, u: np.ndarray, rng) -> np.ndarray:
    h = np.zeros_like(u)
    edge, level, sign = spec.flat_start, 0.0, 1.0
    while edge < u[-1]:
        for _ in range(spec.steps):
            level += sign * _draw(rng, spec.step_height)
            h[u >= edge] = level
            edge += _draw(rng, spec.step_depth)
        edge += spec.landing  # the top (or bottom) tread runs into the landing
        sign = -sign
    return h


def _rough_field(spec: RoughTerrain, u: np.ndarray, v: np.ndarray, rng) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    sigma = (spec.correlation_length / spec.across, spec.correlation_length / spec.cell)
    noise = gaussian_filter(rng.standard_normal((len(v), len(u))), sigma, mode="wrap")
    noise *= spec.amplitude / max(float(noise.std()), 1e-12)
    ramp = np.clip((u - spec.flat_start) / 1.0, 0.0, 1.0)  # from flat to rough over a metre
    return noise * ramp[None, :]


def generate_heights(spec: _FieldTerrain, seed: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v, heights[v, u]): the terrain's grid along (u) and across (v) the travel, from the spec's seed or
    `seed`. Deterministic: the same spec and seed give the same heights. A randomised terrain reaches
    `episode_shift` further behind the start, so that an episode's shift (which moves the whole grid forward) never
    leaves the start off it."""
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    behind = spec.behind + (spec.episode_shift if spec.randomise else 0.0)
    nu = int(round((behind + spec.length) / spec.cell)) + 1
    nv = int(round(spec.width / spec.across)) + 1
    u = -behind + spec.cell * np.arange(nu)
    v = spec.across * (np.arange(nv) - (nv - 1) / 2)
    if isinstance(spec, RoughTerrain):
        return u, v, _rough_field(spec, u, v, rng)
    profile = {SlopeTerrain: _slope_profile, GapsTerrain: _gaps_profile, StairsTerrain: _stairs_profile}[type(spec)]
    return u, v, np.repeat(profile(spec, u, rng)[None, :], nv, axis=0)


def _bridged(heights: np.ndarray, cells: int) -> np.ndarray:
    """The highest height within `cells` grid cells along the travel (spans gaps of up to that width)."""
    if cells <= 0:
        return heights
    from scipy.ndimage import maximum_filter1d

    return maximum_filter1d(heights, size=2 * cells + 1, axis=1, mode="nearest")


# --- the heightfield: where it lies in the world, and how high the ground is anywhere ---------------------------
def highest_top(u: np.ndarray, v: np.ndarray, boxes, base: float) -> np.ndarray:
    """The top of the highest box (rows u0, u1, v0, v1, top; edges included) over each point (u, v), or `base` where
    none is higher: a scene's surface height, shared by its levels (scene.py) and the simulator's blocks."""
    out = np.full(np.shape(u), base)
    for u0, u1, v0, v1, top in boxes:
        over = (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
        out = np.where(over, np.maximum(out, top), out)
    return out


@dataclass
class Heightfield:
    """A terrain's grid placed in the world: heights[v, u] at u = u0 + shift + i cell along `forward`, v = v0 + j
    cell_across along `lateral` (= up x forward). Queries use Bullet's triangulation of each cell (the diagonal
    from (i+1, j) to (i, j+1)), so they agree with the simulated ground to float precision."""

    heights: np.ndarray
    cell: float
    cell_across: float
    u0: float
    v0: float
    forward: np.ndarray  # (3,) horizontal unit vector, world
    up: int  # index of the world's up axis
    tracking: np.ndarray  # the heights the reference is tracked against (gaps bridged)
    shift: float = 0.0  # the features' offset along forward this episode
    # a scene's solids, rows (u0, u1, v0, v1, top): boxes from under the floor up to `top`, laid by the simulator
    # instead of the grid (sharp edges, and a foot pressed into a top is pushed up, not sideways off a triangle);
    # the first covers the whole grid (the floor). None: the ground is the grid.
    blocks: np.ndarray | None = None
    lateral: np.ndarray = field(init=False)

    def __post_init__(self):
        up = np.eye(3)[self.up]
        self.lateral = np.cross(up, self.forward)

    @property
    def size(self) -> tuple[int, int]:
        return self.heights.shape

    def local(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid coordinates (fractional column, row) of world points (..., 3)."""
        u = points @ self.forward
        v = points @ self.lateral
        return (u - self.u0 - self.shift) / self.cell, (v - self.v0) / self.cell_across

    def inside(self, points: np.ndarray) -> np.ndarray:
        """Whether each world point lies over the grid (beyond it there is no ground)."""
        gx, gy = self.local(points)
        nv, nu = self.heights.shape
        return (gx >= 0) & (gx <= nu - 1) & (gy >= 0) & (gy <= nv - 1)

    def height(self, points: np.ndarray, tracking: bool = False) -> np.ndarray:
        """Ground height (world up coordinate) under each world point (..., 3); clamped to the grid's edge. On a
        field of blocks, the top of the highest block over the point (what the simulator collides with)."""
        if self.blocks is not None and not tracking:
            return self._block_height(points)
        grid = self.tracking if tracking else self.heights
        nv, nu = grid.shape
        gx, gy = self.local(points)
        gx, gy = np.clip(gx, 0.0, nu - 1.000001), np.clip(gy, 0.0, nv - 1.000001)
        i, j = np.floor(gx).astype(int), np.floor(gy).astype(int)
        fx, fy = gx - i, gy - j
        h00, h10, h01, h11 = grid[j, i], grid[j, i + 1], grid[j + 1, i], grid[j + 1, i + 1]
        low = fx + fy <= 1.0
        return np.where(
            low, h00 + fx * (h10 - h00) + fy * (h01 - h00), h11 + (1.0 - fx) * (h01 - h11) + (1.0 - fy) * (h10 - h11)
        )

    def _block_height(self, points: np.ndarray) -> np.ndarray:
        nv, nu = self.heights.shape
        u = np.clip(points @ self.forward - self.shift, self.u0, self.u0 + (nu - 1) * self.cell)
        v = np.clip(points @ self.lateral, self.v0, self.v0 + (nv - 1) * self.cell_across)
        return highest_top(u, v, self.blocks, -np.inf)

    def centre(self) -> np.ndarray:
        """World position of the grid's centre at height 0 (where sim.py puts the pybullet body, plus its offset)."""
        nv, nu = self.heights.shape
        return (self.u0 + self.shift + 0.5 * (nu - 1) * self.cell) * self.forward + (
            self.v0 + 0.5 * (nv - 1) * self.cell_across
        ) * self.lateral


def travel_direction(root_pos: np.ndarray, heading: np.ndarray, up: int) -> np.ndarray:
    """The horizontal direction a clip travels (its root's start to end), or where it faces when it stays put."""
    travel = np.array(root_pos[-1] - root_pos[0], dtype=float)
    travel[up] = 0.0
    if np.linalg.norm(travel) < 0.3:
        travel = np.array(heading, dtype=float)
        travel[up] = 0.0
    return travel / np.linalg.norm(travel)


def make_heightfield(
    spec: _FieldTerrain, forward: np.ndarray, up: int, origin: np.ndarray | None = None, seed: int | None = None
) -> Heightfield:
    """The terrain laid along `forward` from `origin` (the clip's start; world), from the spec's seed or `seed`."""
    u, v, heights = generate_heights(spec, seed)
    forward = np.asarray(forward, dtype=float)
    hf = Heightfield(
        heights,
        spec.cell,
        spec.across,
        float(u[0]),
        float(v[0]),
        forward,
        up,
        _bridged(heights, int(np.ceil(spec.bridge / spec.cell))),
    )
    if origin is not None:  # lay the grid from the start position, not the world's origin
        o = np.asarray(origin, dtype=float)
        hf.u0 += float(o @ hf.forward)
        hf.v0 += float(o @ hf.lateral)
    return hf
