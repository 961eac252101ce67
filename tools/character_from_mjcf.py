"""Regenerate sfv/characters/mujoco_humanoid/ from the MuJoCo humanoid that ships inside pybullet_data.

    python tools/character_from_mjcf.py        # reads pybullet_data/mjcf/humanoid.xml, installed with pybullet

The source is the MJCF humanoid of OpenAI Gym as pybullet ships it (pybullet's licence, zlib, copied beside the
output). The kit reads URDF, so the MJCF becomes a URDF the way MuJoCo reads the file, and the way pybullet's own
MJCF importer builds it (`pybullet.loadMJCF`):
- a body with k hinge joints becomes a chain of k links: the first k-1 are massless and are named after the joint
  that moves them, the last is the body; each hinge turns about its own anchor (`pos`) and axis, in file order;
- each body's mass and centre of mass come from its geoms at density 1000 (MuJoCo's `inertiafromgeom`); its
  capsules (`fromto`) and spheres are its collision and visual shapes;
- its moments of inertia are the ones pybullet's MJCF importer gives the body (about the body's axes). They are
  larger than the geoms' exact moments (a thigh's about its own axis: 0.033 against 0.008 kg m^2), and pybullet's
  stable PD needs them: with the exact moments, one joint pushed 0.3 rad sets the others swinging by a radian
  within 2 s (zero gravity, the kit's gains), with these every joint settles back. The character file asks the
  simulation to use them (`inertia: file`);
- a hand (a sphere geom named `*hand`) is welded on as its own link, so the kit can track it as an end effector;
- joint limits are the `range`s; a joint's effort is its motor's gear times the control range (the Gym task's
  torques; the kit's own torque limits are in mujoco_humanoid.yaml).
Run it again and diff: the output is deterministic.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

CHARACTERS = Path(__file__).resolve().parents[1] / "sfv" / "characters"
NAME = "mujoco_humanoid"
DENSITY = 1000.0  # kg/m^3, MuJoCo's default


def _vec(text: str | None, default=(0.0, 0.0, 0.0)) -> np.ndarray:
    return np.array([float(v) for v in text.split()]) if text else np.array(default, dtype=float)


def _quat_matrix(wxyz: np.ndarray) -> np.ndarray:
    w, x, y, z = wxyz / np.linalg.norm(wxyz)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _rpy(m: np.ndarray) -> np.ndarray:
    """URDF roll-pitch-yaw (fixed x, y, z) of a rotation matrix."""
    pitch = np.arcsin(-np.clip(m[2, 0], -1.0, 1.0))
    if abs(m[2, 0]) < 1 - 1e-9:
        return np.array([np.arctan2(m[2, 1], m[2, 2]), pitch, np.arctan2(m[1, 0], m[0, 0])])
    return np.array([0.0, pitch, np.arctan2(-m[0, 1], m[1, 1])])


def _z_onto(direction: np.ndarray) -> np.ndarray:
    """A rotation taking z onto `direction` (for a capsule along a fromto segment)."""
    z = direction / np.linalg.norm(direction)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    return np.column_stack([x, np.cross(z, x), z])


def geom_shape(geom: ET.Element) -> dict:
    """A geom's shape, pose in its body frame, mass and inertia about its centre (body axes)."""
    size = _vec(geom.get("size"))
    r = float(size[0])
    if geom.get("type") == "capsule":
        a, b = np.split(_vec(geom.get("fromto")), 2)
        length = float(np.linalg.norm(b - a))
        rot = _z_onto(b - a)
        m_cyl, m_sph = DENSITY * np.pi * r * r * length, DENSITY * 4 / 3 * np.pi * r**3
        izz = m_cyl * r * r / 2 + m_sph * 2 * r * r / 5
        ixx = m_cyl * (length**2 / 12 + r * r / 4) + m_sph * (2 * r * r / 5 + length**2 / 4 + 3 * length * r / 8)
        inertia = rot @ np.diag([ixx, ixx, izz]) @ rot.T
        return {
            "kind": "capsule",
            "centre": 0.5 * (a + b),
            "rot": rot,
            "radius": r,
            "length": length,
            "mass": m_cyl + m_sph,
            "inertia": inertia,
        }
    if geom.get("type") == "sphere":
        mass = DENSITY * 4 / 3 * np.pi * r**3
        return {
            "kind": "sphere",
            "centre": _vec(geom.get("pos")),
            "rot": np.eye(3),
            "radius": r,
            "mass": mass,
            "inertia": np.eye(3) * 2 / 5 * mass * r * r,
        }
    raise ValueError(f"geom {geom.get('name')}: type {geom.get('type')!r} is not converted (capsule, sphere)")


def _origin(xyz: np.ndarray, rot: np.ndarray | None = None) -> str:
    rpy = _rpy(rot) if rot is not None else np.zeros(3)
    return f'<origin xyz="{" ".join(f"{v:.6f}" for v in xyz + 0.0)}" rpy="{" ".join(f"{v:.6f}" for v in rpy + 0.0)}"/>'


def _principal_axes(inertia: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal moments and axes (columns), the axes ordered and signed to stay as close to the link's own as they
    can: a tensor that is diagonal already keeps its frame (no turn), one that is nearly so turns a little."""
    import itertools

    moments, axes = np.linalg.eigh(inertia)
    best = None
    for order in itertools.permutations(range(3)):
        turned = axes[:, order] * np.sign(np.diag(axes[:, order]) + 1e-300)
        if np.linalg.det(turned) < 0:
            continue
        if best is None or np.trace(turned) > np.trace(best[1]):
            best = (moments[list(order)], turned)
    return best


def _link(name: str, shapes: list[dict], offset: np.ndarray, moments: np.ndarray | None = None) -> list[str]:
    """A URDF link holding `shapes` (body frame), its frame `offset` from the body frame (the last joint's anchor);
    `moments`: principal moments about the body's axes to write instead of the shapes' own."""
    lines = [f'  <link name="{name}">']
    if not shapes:
        lines += [
            '    <inertial><origin xyz="0 0 0" rpy="0 0 0"/><mass value="0"/>',
            '      <inertia ixx="0" ixy="0" ixz="0" iyy="0" iyz="0" izz="0"/></inertial>',
            "  </link>",
        ]
        return lines
    mass = sum(s["mass"] for s in shapes)
    com = sum(s["mass"] * s["centre"] for s in shapes) / mass
    inertia = np.zeros((3, 3))
    for s in shapes:
        d = s["centre"] - com
        inertia += s["inertia"] + s["mass"] * (d @ d * np.eye(3) - np.outer(d, d))
    principal, axes = _principal_axes(inertia) if moments is None else (np.asarray(moments), np.eye(3))
    lines += [
        f'    <inertial>{_origin(com - offset, axes)}<mass value="{mass:.6f}"/>',
        f'      <inertia ixx="{principal[0]:.8f}" ixy="0" ixz="0" iyy="{principal[1]:.8f}" iyz="0" '
        f'izz="{principal[2]:.8f}"/></inertial>',
    ]
    for s in shapes:
        geometry = (
            f'<capsule radius="{s["radius"]:.6f}" length="{s["length"]:.6f}"/>'
            if s["kind"] == "capsule"
            else f'<sphere radius="{s["radius"]:.6f}"/>'
        )
        for tag in ("visual", "collision"):
            lines.append(f"    <{tag}>{_origin(s['centre'] - offset, s['rot'])}<geometry>{geometry}</geometry></{tag}>")
    lines.append("  </link>")
    return lines


def pybullet_moments(mjcf: Path) -> dict[str, np.ndarray]:
    """The principal moments pybullet's own MJCF importer gives each body of the file (`pybullet.loadMJCF`)."""
    import pybullet

    client = pybullet.connect(pybullet.DIRECT)
    try:
        body = pybullet.loadMJCF(str(mjcf), physicsClientId=client)[-1]
        moments = {
            pybullet.getBodyInfo(body, physicsClientId=client)[0].decode(): np.array(
                pybullet.getDynamicsInfo(body, -1, physicsClientId=client)[2]
            )
        }
        for j in range(pybullet.getNumJoints(body, physicsClientId=client)):
            info = pybullet.getDynamicsInfo(body, j, physicsClientId=client)
            if info[0] > 0:
                moments[pybullet.getJointInfo(body, j, physicsClientId=client)[12].decode()] = np.array(info[2])
        return moments
    finally:
        pybullet.disconnect(client)


def convert(mjcf: Path, moments: dict[str, np.ndarray] | None = None) -> str:
    """The URDF text; `moments`: each body's principal moments (about its axes) to write instead of its geoms'."""
    moments = moments or {}
    root = ET.parse(mjcf).getroot()
    efforts = {
        m.get("joint"): float(m.get("gear")) * 0.4 for m in root.iter("motor") if m.get("joint")
    }  # ctrlrange -.4 .4 (the <default> motor names no joint)
    torso = root.find("worldbody/body")
    links: list[str] = []
    joints: list[str] = []

    def visit(body: ET.Element, parent: str, parent_offset: np.ndarray) -> None:
        """`body` under the URDF link `parent`, whose frame sits `parent_offset` from its body's frame."""
        origin = _vec(body.get("pos")) - parent_offset
        rot = _quat_matrix(_vec(body.get("quat"), (1, 0, 0, 0)))
        hinges = body.findall("joint")
        anchor = np.zeros(3)  # the current link's frame in this body's frame
        link_parent = parent
        for i, hinge in enumerate(hinges):
            pos = _vec(hinge.get("pos"))
            child = body.get("name") if i == len(hinges) - 1 else hinge.get("name")
            lo, hi = np.radians(_vec(hinge.get("range")))
            axis = _vec(hinge.get("axis"))
            axis /= np.linalg.norm(axis)
            xyz = origin + rot @ pos if i == 0 else pos - anchor
            joints.append(
                f'  <joint name="{hinge.get("name")}" type="revolute"><parent link="{link_parent}"/>'
                f'<child link="{child}"/>{_origin(xyz, rot if i == 0 else None)}'
                f'<axis xyz="{" ".join(f"{v:.6f}" for v in axis)}"/>'
                f'<limit lower="{lo:.6f}" upper="{hi:.6f}" effort="{efforts[hinge.get("name")]:g}" velocity="100"/>'
                "</joint>"
            )
            if i < len(hinges) - 1:
                links.extend(_link(child, [], np.zeros(3)))
            link_parent, anchor = child, pos
        if link_parent == parent:
            raise ValueError(f"body {body.get('name')}: no joint; fixed bodies are not converted")
        geoms = body.findall("geom")
        hands = [g for g in geoms if g.get("name").endswith("hand")]
        links.extend(
            _link(
                body.get("name"),
                [geom_shape(g) for g in geoms if g not in hands],
                anchor,
                moments.get(body.get("name")),
            )
        )
        for hand in hands:  # welded on as its own link, so the hand is a body the kit can track
            shape = geom_shape(hand)
            joints.append(
                f'  <joint name="{hand.get("name")}_weld" type="fixed"><parent link="{body.get("name")}"/>'
                f'<child link="{hand.get("name")}"/>{_origin(shape["centre"] - anchor)}</joint>'
            )
            links.extend(_link(hand.get("name"), [shape], shape["centre"]))
        for child_body in body.findall("body"):
            visit(child_body, body.get("name"), anchor)

    links.extend(
        _link(
            torso.get("name"),
            [geom_shape(g) for g in torso.findall("geom")],
            np.zeros(3),
            moments.get(torso.get("name")),
        )
    )
    for child_body in torso.findall("body"):
        visit(child_body, torso.get("name"), np.zeros(3))
    # pybullet's URDF_MAINTAIN_LINK_ORDER (the kit loads with it) wants each joint after its parent's: links in the
    # order they were written, joints sorted by their child's place.
    order = [line.split('"')[1] for line in links if line.startswith("  <link ")]
    joints.sort(key=lambda j: order.index(j.split('<child link="')[1].split('"')[0]))
    header = [
        '<?xml version="1.0"?>',
        f"<!-- Generated by tools/character_from_mjcf.py from pybullet_data's mjcf/{mjcf.name} (zlib: see",
        "     LICENSE-pybullet.txt). Hinges, anchors, axes, ranges and geoms from the source. -->",
        f'<robot name="{NAME}">',
    ]
    return "\n".join(header + links + joints + ["</robot>"]) + "\n"


def main() -> None:
    import pybullet_data

    mjcf = Path(pybullet_data.getDataPath()) / "mjcf" / "humanoid.xml"
    if not mjcf.is_file():
        raise SystemExit(f"{mjcf}: missing; reinstall pybullet (the kit pins its version in pyproject.toml)")
    out = CHARACTERS / NAME
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{NAME}.urdf").write_text(convert(mjcf, pybullet_moments(mjcf)))
    import pybullet

    licence = next(Path(pybullet.__file__).parent.glob("pybullet-*.dist-info/LICENSE.txt"), None)
    if licence is None:
        raise SystemExit("pybullet's LICENSE.txt not found beside its module; reinstall pybullet")
    shutil.copyfile(licence, out / "LICENSE-pybullet.txt")
    pybullet_version = licence.parent.name.removeprefix("pybullet-").removesuffix(".dist-info")
    (out / "SOURCE.txt").write_text(
        "Generated by tools/character_from_mjcf.py from pybullet_data/mjcf/humanoid.xml (pybullet "
        f"{pybullet_version}),\n"
        "the MuJoCo humanoid of OpenAI Gym as pybullet ships it.\n"
        "Licence: zlib, see LICENSE-pybullet.txt (pybullet's licence, which covers pybullet_data).\n"
    )
    print(f"wrote {out}/{NAME}.urdf, LICENSE-pybullet.txt, SOURCE.txt")


if __name__ == "__main__":
    main()
