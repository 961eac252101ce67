"""A character's collision shapes, as the spheres whose lowest points are its lowest points: what touches the ground
in the simulator, read from its URDF without the simulator.

A body's joint can stand well above the floor while its shape is in it: the humanoid's head is a sphere 17.5 cm
beyond its neck joint, so a roll whose head is not tucked puts it 8-10 cm into the ground with the neck joint
17 cm up. The reference step (`sfv.imitate.physical`, `floor_shapes`) keeps these spheres above the ground.

A sphere is itself; a capsule is the two spheres at the ends of its segment (a capsule's lowest point is always on
one of them); a cylinder is taken as the capsule over it (never lower than the cylinder); a box is its eight corners
(radius 0). Meshes are left out: no character the kit ships uses them on a body that may not touch the ground.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path

import numpy as np

from sfv import rotations


@dataclass(frozen=True)
class Spheres:
    """Spheres fixed to the character's bodies: `body` (N,) the skeleton's body indices, `centre` (N, 3) in the body's
    frame (metres, scaled as the character), `radius` (N,)."""

    body: np.ndarray
    centre: np.ndarray
    radius: np.ndarray

    def of(self, bodies) -> "Spheres":
        """The spheres of these bodies only."""
        keep = np.isin(self.body, list(bodies))
        return Spheres(self.body[keep], self.centre[keep], self.radius[keep])


def _vec(element, attr: str, default) -> np.ndarray:
    if element is None or element.get(attr) is None:
        return np.asarray(default, dtype=float)
    return np.array([float(x) for x in element.get(attr).split()], dtype=float)


def _geometry_spheres(geometry) -> list[tuple[np.ndarray, float]]:
    """(centre, radius) in the geometry's own frame, unscaled."""
    if geometry.find("sphere") is not None:
        return [(np.zeros(3), float(geometry.find("sphere").get("radius")))]
    for kind in ("capsule", "cylinder"):
        shape = geometry.find(kind)
        if shape is not None:  # along the geometry's z axis, `length` between the end spheres' centres
            half = float(shape.get("length")) / 2.0
            radius = float(shape.get("radius"))
            return [(np.array([0.0, 0.0, -half]), radius), (np.array([0.0, 0.0, half]), radius)]
    box = geometry.find("box")
    if box is not None:
        half = _vec(box, "size", [0, 0, 0]) / 2.0
        return [(half * np.array(signs), 0.0) for signs in product((-1.0, 1.0), repeat=3)]
    return []


@lru_cache(maxsize=8)
def _read(source: str, scale: float, names: tuple[str, ...]) -> Spheres:
    text = Path(source).read_bytes()
    end = text.rfind(b"</robot>")
    root = ET.fromstring(text[: end + len(b"</robot>")] if end >= 0 else text)
    body, centre, radius = [], [], []
    for link in root.findall("link"):
        if link.get("name") not in names:
            continue
        for collision in link.findall("collision"):
            origin = collision.find("origin")
            turn = rotations.to_matrix(rotations.from_rpy(_vec(origin, "rpy", [0, 0, 0])))
            shift = _vec(origin, "xyz", [0, 0, 0])
            for c, r in _geometry_spheres(collision.find("geometry")):
                body.append(names.index(link.get("name")))
                centre.append((turn @ c + shift) * scale)
                radius.append(r * scale)
    return Spheres(np.array(body, dtype=int), np.array(centre, dtype=float).reshape(-1, 3), np.array(radius, float))


def collision_spheres(skeleton) -> Spheres:
    """The spheres of every body of the skeleton's character (its URDF, `skeleton.source`, at its `scale`)."""
    return _read(str(skeleton.source), float(skeleton.settings.get("scale", 1.0)), tuple(skeleton.body_names))


def lowest_points(spheres: Spheres, positions: np.ndarray, matrices: np.ndarray, up: int) -> np.ndarray:
    """Each sphere's lowest height (..., N) for body positions (..., B, 3) and rotation matrices (..., B, 3, 3)."""
    world = positions[..., spheres.body, :] + np.einsum(
        "...nij,nj->...ni", matrices[..., spheres.body, :, :], spheres.centre
    )
    return world[..., up] - spheres.radius
