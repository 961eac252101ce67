"""Forward kinematics against pybullet (golden), and its batching and gradients."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from sfv import rotations
from sfv.assets import available_mocap
from sfv.kinematics import centre_of_mass, forward_kinematics, forward_kinematics_np
from sfv.mocap import load_mocap
from tests.conftest import REPORT

ROOT = Path(__file__).resolve().parents[1]


def _set_pybullet_pose(bullet, skeleton, root_pos, root_rot, pose):
    pb, client, body, joints = bullet
    slices = skeleton.dof_slices
    for b in skeleton.joints:
        pb.resetJointStateMultiDof(body, joints[b.name], list(pose[slices[b.name]]), physicsClientId=client)
    pb.resetBasePositionAndOrientation(body, list(root_pos), list(root_rot), physicsClientId=client)
    states = pb.getLinkStates(body, list(joints.values()), computeForwardKinematics=True, physicsClientId=client)
    frame_pos = {name: np.array(states[i][4]) for i, name in enumerate(joints)}
    frame_rot = {name: np.array(states[i][5]) for i, name in enumerate(joints)}
    com_pos = {name: np.array(states[i][0]) for i, name in enumerate(joints)}
    return frame_pos, frame_rot, com_pos


def test_every_clip_the_kit_names_is_shipped():
    """The skills the shipped params.yaml renders, and the paper's acrobatics, are in pybullet_data (listed by
    name, not counted: a pybullet release that adds a clip must not fail this)."""
    from sfv.config import load_params

    rendered = {c.source.removeprefix("mocap:") for c in load_params(ROOT / "params.yaml").clips.values() if c.is_mocap}
    assert rendered | {"backflip", "cartwheel", "walk", "run", "jump"} <= set(available_mocap())
    assert all(name and "/" not in name for name in available_mocap())


@pytest.mark.parametrize("clip", available_mocap())
def test_fk_matches_pybullet_link_frames(clip, humanoid, bullet):
    """Golden test: every link frame within 1 mm (and 1e-3 rad) of pybullet's, in every frame of each clip."""
    motion = load_mocap(clip)
    frames = np.arange(motion.n_frames)
    pos, rot = forward_kinematics_np(humanoid, motion.root_pos[frames], motion.root_rot[frames], motion.pose[frames])
    worst_pos, worst_rot = 0.0, 0.0
    for k, f in enumerate(frames):
        ref_pos, ref_rot, _ = _set_pybullet_pose(
            bullet, humanoid, motion.root_pos[f], motion.root_rot[f], motion.pose[f]
        )
        for i, b in enumerate(humanoid.bodies):
            if b.parent < 0:
                continue
            worst_pos = max(worst_pos, float(np.linalg.norm(pos[k, i] - ref_pos[b.name])))
            worst_rot = max(worst_rot, float(rotations.angle_between(rot[k, i], ref_rot[b.name])))
    key = (
        f"FK vs pybullet over all frames of the {len(available_mocap())} clips: max link position error (m) / "
        "orientation error (rad)"
    )
    prev = [float(x) for x in REPORT.get(key, "0 / 0").split(" / ")]
    REPORT[key] = f"{max(prev[0], worst_pos):.2e} / {max(prev[1], worst_rot):.2e}"
    assert worst_pos < 1e-3, f"{clip}: FK link position off by {worst_pos * 1000:.3f} mm"
    assert worst_rot < 1e-3, f"{clip}: FK link orientation off by {worst_rot:.2e} rad"


def test_centre_of_mass_matches_pybullet(humanoid, bullet):
    motion = load_mocap("cartwheel")
    f = 80
    _, _, com_pos = _set_pybullet_pose(bullet, humanoid, motion.root_pos[f], motion.root_rot[f], motion.pose[f])
    pb, client, body, _ = bullet
    base_com = np.array(pb.getBasePositionAndOrientation(body, physicsClientId=client)[0])
    masses = {b.name: b.mass for b in humanoid.bodies}
    expected = base_com * masses["base"] + sum(com_pos[n] * masses[n] for n in com_pos)
    expected /= humanoid.total_mass
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    pos, rot = forward_kinematics(humanoid, t(motion.root_pos[f]), t(motion.root_rot[f]), t(motion.pose[f]))
    assert np.linalg.norm(centre_of_mass(humanoid, pos, rot).numpy() - expected) < 1e-4


def test_batched_equals_per_frame(humanoid):
    motion = load_mocap("spinkick")
    pos, rot = forward_kinematics_np(humanoid, motion.root_pos, motion.root_rot, motion.pose)
    assert pos.shape == (motion.n_frames, len(humanoid.bodies), 3)
    for f in (0, 17, motion.n_frames - 1):
        p1, r1 = forward_kinematics_np(humanoid, motion.root_pos[f], motion.root_rot[f], motion.pose[f])
        np.testing.assert_allclose(p1, pos[f], atol=1e-12)
        np.testing.assert_allclose(r1, rot[f], atol=1e-12)


def test_fk_is_differentiable(humanoid):
    """Gradients flow from body positions to the pose and match finite differences."""
    motion = load_mocap("walk")
    pose = torch.tensor(motion.pose[:4], dtype=torch.float64, requires_grad=True)
    root_pos = torch.tensor(motion.root_pos[:4])
    root_rot = torch.tensor(motion.root_rot[:4])
    pos, _ = forward_kinematics(humanoid, root_pos, root_rot, pose)
    wrist = humanoid.index("right_wrist")
    pos[:, wrist, 1].sum().backward()
    knee, elbow = humanoid.dof_slices["right_knee"].start, humanoid.dof_slices["right_elbow"].start
    assert pose.grad[:, knee].abs().sum() == 0  # the knee does not move the wrist
    eps = 1e-6
    bumped = pose.detach().clone()
    bumped[:, elbow] += eps
    pos2, _ = forward_kinematics(humanoid, root_pos, root_rot, bumped)
    fd = (pos2[:, wrist, 1] - pos.detach()[:, wrist, 1]) / eps
    np.testing.assert_allclose(pose.grad[:, elbow].numpy(), fd.numpy(), atol=1e-5)


def test_rest_pose_geometry(humanoid):
    pos, _ = forward_kinematics_np(humanoid, np.zeros(3), rotations.IDENTITY, humanoid.identity_pose())
    # In the rest pose the chest sits 0.944604 * 0.25 m above the root, the knee 1.686184 * 0.25 m below the hip.
    assert pos[humanoid.index("chest"), 1] == pytest.approx(0.944604 * 0.25)
    hip, knee = humanoid.index("right_hip"), humanoid.index("right_knee")
    assert pos[hip, 1] - pos[knee, 1] == pytest.approx(1.686184 * 0.25)
    # Moving the root moves every body by the same amount.
    shift = np.array([1.0, 2.0, 3.0])
    pos2, _ = forward_kinematics_np(humanoid, shift, rotations.IDENTITY, humanoid.identity_pose())
    np.testing.assert_allclose(pos2 - pos, np.broadcast_to(shift, pos.shape), atol=1e-12)


def test_kinematics_never_imports_the_simulator():
    import subprocess
    import sys

    code = (
        "import sys, sfv.kinematics, sfv.motion, sfv.mocap, sfv.skeleton, sfv.config, sfv.plots; "
        "sfv.mocap.load_mocap('walk').body_positions(); "
        "assert 'pybullet' not in sys.modules, 'pybullet was imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
