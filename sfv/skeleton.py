"""The character's kinematic tree, parsed from its URDF (no simulator involved).

A `Skeleton` is a list of bodies in URDF order. Body 0 is the floating base; every other body hangs
from its parent by one joint (spherical, revolute or fixed). Offsets are scaled the way pybullet's
`globalScaling` scales them, so that forward kinematics matches the simulated character exactly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Mapping

import numpy as np
import yaml

from sfv import rotations
from sfv.assets import frozen, resolve_asset, setting_file, setting_names
from sfv.settings.character import (
    CharacterFileError,
    check_body_names,
    check_character_file,
)

JOINT_TYPES = ("spherical", "revolute", "fixed")
DOF = {"spherical": 4, "revolute": 1, "fixed": 0}  # numbers per joint in a pose vector


class SkeletonError(ValueError):
    """A character or URDF file that the kit cannot use."""


@dataclass(frozen=True)
class Body:
    name: str  # the URDF link
    joint: str  # the URDF joint that attaches it to its parent ("" for the base)
    parent: int  # index of the parent body; -1 for the base
    joint_type: str  # "spherical" | "revolute" | "fixed" | "free" (base)
    offset: np.ndarray  # joint origin in the parent's frame (metres, scaled)
    origin_rot: np.ndarray  # joint origin rotation in the parent's frame, quaternion xyzw
    axis: np.ndarray  # revolute axis in the joint frame
    mass: float
    com: np.ndarray  # centre of mass in the body frame (metres, scaled)
    limits: tuple[float, float] | None = None
    collides: bool = True  # has collision shapes (a massless link between two hinges has none: it never touches)


@dataclass(frozen=True)
class Skeleton:
    name: str
    bodies: tuple[Body, ...]
    up_axis: str = "y"
    source: str = ""
    settings: Mapping = field(default_factory=dict, compare=False, hash=False)  # the character file, read-only

    # --- structure (derived once per skeleton: the kinematics and motion code ask for it per call) --
    @cached_property
    def body_names(self) -> list[str]:
        return [b.name for b in self.bodies]

    @cached_property
    def parents(self) -> np.ndarray:
        return np.array([b.parent for b in self.bodies])

    @cached_property
    def joints(self) -> tuple[Body, ...]:
        """Bodies with a movable joint, in pose-vector order (DeepMimic's order for the humanoid)."""
        return tuple(b for b in self.bodies if b.joint_type in ("spherical", "revolute"))

    @cached_property
    def joint_names(self) -> list[str]:
        return [b.name for b in self.joints]

    @cached_property
    def dof_slices(self) -> dict[str, slice]:
        """Where each movable joint lives in a flat pose vector (4 numbers spherical, 1 revolute)."""
        out, start = {}, 0
        for b in self.joints:
            out[b.name] = slice(start, start + DOF[b.joint_type])
            start += DOF[b.joint_type]
        return out

    @cached_property
    def quaternion_slices(self) -> tuple[slice, ...]:
        """Slices of the pose vector that hold quaternions (the spherical joints)."""
        return tuple(self.dof_slices[b.name] for b in self.joints if b.joint_type == "spherical")

    @cached_property
    def pose_size(self) -> int:
        return sum(DOF[b.joint_type] for b in self.joints)

    @cached_property
    def masses(self) -> np.ndarray:
        return np.array([b.mass for b in self.bodies])

    @cached_property
    def offsets(self) -> np.ndarray:
        """(B, 3) joint origins in the parent frames."""
        return np.stack([b.offset for b in self.bodies])

    @cached_property
    def origin_rotations(self) -> np.ndarray:
        """(B, 4) joint origin rotations in the parent frames."""
        return np.stack([b.origin_rot for b in self.bodies])

    @cached_property
    def identity_origin(self) -> np.ndarray:
        """(B,) True where a joint origin has no rotation (the product with it can be skipped)."""
        return np.abs(self.origin_rotations - rotations.IDENTITY).max(axis=1) < 1e-12

    @cached_property
    def coms(self) -> np.ndarray:
        """(B, 3) centres of mass in the body frames."""
        return np.stack([b.com for b in self.bodies])

    @property
    def total_mass(self) -> float:
        return float(self.masses.sum())

    def index(self, name: str) -> int:
        try:
            return self.body_names.index(name)
        except ValueError:
            raise SkeletonError(
                f"unknown body/joint {name!r} for skeleton {self.name!r}; known: {', '.join(self.body_names)}"
            ) from None

    def identity_pose(self) -> np.ndarray:
        """Flat pose vector of the rest pose: identity quaternions and zero angles."""
        pose = np.zeros(self.pose_size)
        for sl in self.quaternion_slices:
            pose[sl] = rotations.IDENTITY
        return pose


def parse_urdf(path: Path, scale: float = 1.0, name: str | None = None) -> Skeleton:
    """Parse a URDF into a Skeleton. Pybullet-style `spherical` joints are supported."""
    path = Path(path)
    if not path.is_file():
        raise SkeletonError(f"URDF not found: {path}")
    text = path.read_bytes()
    end = text.rfind(b"</robot>")
    if end >= 0:  # pybullet_data's humanoid.urdf has stray bytes after </robot>; ignore them
        text = text[: end + len(b"</robot>")]
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise SkeletonError(f"{path}: not valid URDF/XML ({e})") from None

    def vec(el, attr, default):
        if el is None or el.get(attr) is None:
            return np.array(default, dtype=float)
        return np.array([float(x) for x in el.get(attr).split()], dtype=float)

    links = {}
    for link in root.findall("link"):
        inertial = link.find("inertial")
        mass = (
            float(inertial.find("mass").get("value"))
            if inertial is not None and inertial.find("mass") is not None
            else 0.0
        )
        com = vec(inertial.find("origin") if inertial is not None else None, "xyz", [0, 0, 0]) * scale
        links[link.get("name")] = (mass, com, link.find("collision") is not None)

    joints = {}
    for j in root.findall("joint"):
        jtype = j.get("type")
        if jtype == "continuous":
            jtype = "revolute"
        if jtype not in JOINT_TYPES:
            raise SkeletonError(f"{path}: joint {j.get('name')!r} has type {jtype!r}; the kit handles {JOINT_TYPES}")
        child = j.find("child").get("link")
        parent = j.find("parent").get("link")
        origin = j.find("origin")
        limit = j.find("limit")
        limits = None
        if jtype == "revolute" and limit is not None and limit.get("lower") is not None:
            limits = (float(limit.get("lower")), float(limit.get("upper")))
        joints[child] = dict(
            name=j.get("name"),
            parent=parent,
            type=jtype,
            offset=vec(origin, "xyz", [0, 0, 0]) * scale,
            origin_rot=rotations.from_rpy(vec(origin, "rpy", [0, 0, 0])),
            axis=vec(j.find("axis"), "xyz", [1, 0, 0]),
            limits=limits,
        )

    roots = [n for n in links if n not in joints]
    if len(roots) != 1:
        raise SkeletonError(f"{path}: expected one root link, found {roots}")
    # Links in file order, each after its parent (what pybullet's URDF_MAINTAIN_LINK_ORDER keeps).
    order = [roots[0]]
    pending = [n for n in links if n != roots[0]]
    while pending:
        ready = next((n for n in pending if joints[n]["parent"] in order), None)
        if ready is None:
            raise SkeletonError(f"{path}: links {pending} are not connected to the root {roots[0]!r}")
        order.append(ready)
        pending.remove(ready)

    bodies = []
    for n in order:
        mass, com, collides = links[n]
        if n == roots[0]:
            bodies.append(
                Body(
                    n, "", -1, "free", np.zeros(3), rotations.IDENTITY.copy(), np.zeros(3), mass, com, collides=collides
                )
            )
            continue
        j = joints[n]
        bodies.append(
            Body(
                name=n,
                joint=j["name"],
                parent=order.index(j["parent"]),
                joint_type=j["type"],
                offset=j["offset"],
                origin_rot=j["origin_rot"],
                axis=j["axis"] / max(np.linalg.norm(j["axis"]), 1e-12),
                mass=mass,
                com=com,
                limits=j["limits"],
                collides=collides,
            )
        )
    return Skeleton(name=name or path.stem, bodies=tuple(bodies), source=str(path))


@lru_cache(maxsize=None)
def load_character(name: str) -> Skeleton:
    """Load `sfv/characters/<name>.yaml` and the URDF it names."""
    cfg_path = setting_file("characters", name)
    if not cfg_path.is_file():
        raise SkeletonError(
            f"unknown character {name!r}: no {cfg_path}; known characters: "
            f"{setting_names('characters')} (a motion on another skeleton must be retargeted to one "
            "of them first)"
        )
    cfg = yaml.safe_load(cfg_path.read_text())
    where = f"sfv/characters/{name}.yaml"
    try:
        checked = check_character_file(cfg, where)
    except CharacterFileError as e:
        raise SkeletonError(str(e)) from None
    urdf = resolve_asset(cfg["urdf"], relative_to=cfg_path.parent)
    skel = parse_urdf(urdf, scale=float(cfg["scale"]), name=name)
    try:
        check_body_names(checked, [b.name for b in skel.bodies], where)
    except CharacterFileError as e:
        raise SkeletonError(str(e)) from None
    # cached and shared: the settings are read-only, so no caller can change another's character
    return Skeleton(name=name, bodies=skel.bodies, up_axis=cfg["up_axis"], source=str(urdf), settings=frozen(cfg))
