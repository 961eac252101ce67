"""Regenerate the robot characters (today: sfv/characters/atlas/) from Debian's `dart-doc` package.

    apt-get download dart-doc          # at development time only; the kit never downloads anything when it runs
    python tools/robots_from_dart_deb.py dart-doc_*.deb

The sources are DART's copies of humanoid robots, BSD-2 per the package's copyright file (copied beside each
output): Boston Dynamics' Atlas v3 (`data/sdf/atlas/atlas_v3.urdf`). KAIST's DRC-Hubo (`data/urdf/drchubo/`)
converts the same way, with its 18 finger and 3 neck joints made fixed, but the kit's stable PD does not hold it
(its arms swing away even with the base fixed, at every gain tried), so it is not among ROBOTS yet. Kept from the
source: every link frame, mass,
centre of mass and inertia, every joint's origin, axis, limits and effort. Changed, as DeepMimic's character files
do: each link's collision (and visual) mesh becomes one primitive fitted to the mesh's bounding box in the link
frame (a box for feet, hands and trunk, a capsule along the longest side for limb segments), so the simulation
stays fast and the kit ships no meshes. Atlas: `neck_ry`, whose child link `head` is not in the file, and the
three massless camera frames (sensors) are dropped. Run it again and diff: the output is deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

CHARACTERS = Path(__file__).resolve().parents[1] / "sfv" / "characters"
DATA = Path("usr/share/doc/dart/data")
COPYRIGHT = Path("usr/share/doc/dart-doc/copyright")
#: robot -> its source file, root link, the links drawn as boxes (the rest: capsules), the joints made fixed
ROBOTS = {
    "atlas": {
        "source": "sdf/atlas/atlas_v3.urdf",
        "root": "pelvis",
        "fixed": (),
        "boxes": ("foot", "hand", "torso", "pelvis", "clav", "scap", "talus", "glut"),
    },
}


def read_stl(path: Path) -> np.ndarray:
    """The vertices (n, 3) of a binary or ASCII STL file."""
    data = path.read_bytes()
    if data[:5].lower() == b"solid" and b"facet" in data[:400]:
        return np.array(
            [
                [float(x) for x in line.split()[1:4]]
                for line in data.decode("ascii", "replace").splitlines()
                if line.strip().startswith("vertex")
            ]
        )
    n = int(np.frombuffer(data[80:84], dtype="<u4")[0])
    tri = np.frombuffer(
        data[84 : 84 + 50 * n], dtype=np.dtype([("normal", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    )
    return tri["v"].reshape(-1, 3).astype(float)


def primitive(link: str, vertices: np.ndarray, boxes: tuple[str, ...]) -> tuple[str, str, str]:
    """(geometry xml, origin xyz, origin rpy) of the primitive fitted to a mesh's bounding box."""
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    centre, size = 0.5 * (lo + hi), hi - lo
    xyz = " ".join(f"{v:.5f}" for v in centre)
    if any(k in link for k in boxes):
        return f'<box size="{size[0]:.5f} {size[1]:.5f} {size[2]:.5f}"/>', xyz, "0 0 0"
    axis = int(np.argmax(size))
    radius = 0.5 * float(np.mean(np.delete(size, axis)))
    length = max(float(size[axis]) - 2 * radius, 0.01)
    rpy = {0: "0 1.5707963 0", 1: "1.5707963 0 0", 2: "0 0 0"}[axis]  # turn the capsule's z onto that axis
    return f'<capsule radius="{radius:.5f}" length="{length:.5f}"/>', xyz, rpy


def _mesh_file(urdf: Path, filename: str) -> Path | None:
    """A `package://<package>/...` mesh of the source: beside the URDF (Atlas) or in its meshes/ (DRC-Hubo)."""
    name = Path(filename).name
    found = [p for p in (urdf.parent / name, urdf.parent / "meshes" / name) if p.is_file()]
    if not found:
        raise FileNotFoundError(f"{urdf}: mesh {filename} is neither beside it nor in meshes/")
    return found[0]


def convert(urdf: Path, robot: str) -> str:
    spec = ROBOTS[robot]
    root = ET.parse(urdf).getroot()
    links = {link.get("name"): link for link in root.findall("link")}
    keep_joints = [
        j
        for j in root.findall("joint")
        if j.find("child").get("link") in links and "situational_awareness" not in j.get("name")
    ]
    for j in keep_joints:
        if any(j.get("name").endswith(f) for f in spec["fixed"]):
            j.set("type", "fixed")
            for tag in ("axis", "limit", "dynamics"):
                if j.find(tag) is not None:
                    j.remove(j.find(tag))
    # links and joints parent before child, depth first from the pelvis (pybullet's URDF_MAINTAIN_LINK_ORDER, which
    # the kit loads with, needs that order; the source lists them alphabetically)
    children: dict[str, list] = {}
    for j in keep_joints:
        children.setdefault(j.find("parent").get("link"), []).append(j)
    order, joint_order, stack = [], [], [spec["root"]]
    while stack:
        name = stack.pop()
        order.append(name)
        for j in reversed(children.get(name, [])):
            stack.append(j.find("child").get("link"))
        joint_order.extend(children.get(name, []))
    joint_order.sort(key=lambda j: order.index(j.find("child").get("link")))
    keep_joints = joint_order
    lines = [
        '<?xml version="1.0"?>',
        f"<!-- Generated by tools/robots_from_dart_deb.py from DART's {urdf.name} (Debian dart-doc, BSD-2: see",
        "     LICENSE-dart.txt). Frames, inertias, joints from the source; primitive shapes, not meshes. -->",
        f'<robot name="{robot}">',
    ]
    for name in order:
        link = links[name]
        inertial = link.find("inertial")
        mesh = link.find("collision/geometry/mesh")
        stl = _mesh_file(urdf, mesh.get("filename")) if mesh is not None else None
        lines.append(f'  <link name="{name}">')
        if inertial is not None:
            lines.append("    " + ET.tostring(inertial, encoding="unicode").strip().replace("\n", "\n    "))
        if stl is not None:
            geometry, xyz, rpy = primitive(name, read_stl(stl), spec["boxes"])
            for tag in ("visual", "collision"):
                lines.append(f'    <{tag}><origin xyz="{xyz}" rpy="{rpy}"/><geometry>{geometry}</geometry></{tag}>')
        lines.append("  </link>")
    for joint in keep_joints:
        lines.append("  " + ET.tostring(joint, encoding="unicode").strip())
    lines.append("</robot>")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("deb", type=Path, help="dart-doc_*.deb (apt-get download dart-doc)")
    ap.add_argument("--robots", nargs="*", default=list(ROBOTS), choices=list(ROBOTS))
    args = ap.parse_args()
    if not args.deb.is_file():
        sys.exit(f"{args.deb}: no such file; fetch it with `apt-get download dart-doc`")
    digest = hashlib.sha256(args.deb.read_bytes()).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(args.deb), tmp], check=True)
        for robot in args.robots:
            source = DATA / ROBOTS[robot]["source"]
            urdf = Path(tmp) / source
            if not urdf.is_file():
                sys.exit(f"{args.deb}: has no {source}; is it Debian's dart-doc?")
            out = CHARACTERS / robot
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{robot}.urdf").write_text(convert(urdf, robot))
            (out / "LICENSE-dart.txt").write_text((Path(tmp) / COPYRIGHT).read_text())
            (out / "SOURCE.txt").write_text(
                f"Generated by tools/robots_from_dart_deb.py from {args.deb.name} (sha256 {digest}),\n"
                f"file {source} and the STL meshes beside it (bounding boxes only).\n"
                "Licence: BSD-2-Clause, see LICENSE-dart.txt (the package's copyright file).\n"
            )
            print(f"wrote {out}/{robot}.urdf, LICENSE-dart.txt, SOURCE.txt")


if __name__ == "__main__":
    main()
