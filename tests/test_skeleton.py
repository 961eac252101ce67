"""The humanoid parsed from pybullet_data's URDF, and clear errors for URDFs the kit cannot use."""

from __future__ import annotations

import pytest

from sfv.skeleton import SkeletonError, load_character, parse_urdf

DEEPMIMIC_ORDER = [
    "chest",
    "neck",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_shoulder",
    "right_elbow",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_shoulder",
    "left_elbow",
]


def test_humanoid_structure(humanoid):
    assert humanoid.body_names[:2] == ["base", "root"]
    assert len(humanoid.bodies) == 16
    assert humanoid.joint_names == DEEPMIMIC_ORDER  # the DeepMimic file's column order
    types = {b.name: b.joint_type for b in humanoid.bodies}
    assert types["right_knee"] == types["left_elbow"] == "revolute"
    assert types["chest"] == types["left_ankle"] == "spherical"
    assert types["right_wrist"] == types["root"] == "fixed"
    assert humanoid.pose_size == 36  # 44 columns - duration - root pos (3) - root quat (4)
    assert humanoid.total_mass == pytest.approx(45.0, abs=1e-3)
    assert humanoid.bodies[humanoid.index("right_knee")].parent == humanoid.index("right_hip")
    assert humanoid.bodies[humanoid.index("chest")].offset[1] == pytest.approx(0.944604 * 0.25)
    assert humanoid.bodies[humanoid.index("right_knee")].limits == (-3.14, 0.0)


def test_unknown_character_and_body(humanoid):
    with pytest.raises(SkeletonError, match="unknown character 'robot'.*humanoid"):
        load_character("robot")
    with pytest.raises(SkeletonError, match="unknown body/joint 'tail'"):
        humanoid.index("tail")


def _write(tmp_path, body):
    p = tmp_path / "x.urdf"
    p.write_text(f'<robot name="x">{body}</robot>')
    return p


def test_bad_urdfs(tmp_path):
    with pytest.raises(SkeletonError, match="not found"):
        parse_urdf(tmp_path / "missing.urdf")
    bad = tmp_path / "bad.urdf"
    bad.write_text("<robot><link></robot>")
    with pytest.raises(SkeletonError, match="not valid URDF"):
        parse_urdf(bad)
    prismatic = _write(
        tmp_path,
        '<link name="a"/><link name="b"/><joint name="j" type="prismatic"><parent link="a"/><child link="b"/></joint>',
    )
    with pytest.raises(SkeletonError, match="'j' has type 'prismatic'"):
        parse_urdf(prismatic)
    two_roots = _write(tmp_path, '<link name="a"/><link name="b"/>')
    with pytest.raises(SkeletonError, match="one root link"):
        parse_urdf(two_roots)


def test_rpy_origin_and_revolute_axis(tmp_path):
    p = _write(
        tmp_path,
        '<link name="a"/><link name="b"/><joint name="j" type="continuous">'
        '<origin xyz="0 0 2" rpy="0 0 1.5707963"/><axis xyz="0 2 0"/>'
        '<parent link="a"/><child link="b"/></joint>',
    )
    sk = parse_urdf(p, scale=0.5)
    b = sk.bodies[1]
    assert b.joint_type == "revolute" and b.joint == "j"
    assert b.offset[2] == pytest.approx(1.0)
    assert b.axis[1] == pytest.approx(1.0)
    assert b.origin_rot[2] == pytest.approx(0.70710678, abs=1e-6)
