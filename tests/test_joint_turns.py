"""The refit that keeps shoulders and hips from spinning about their own bones (sfv.imitate.joint_turns)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sfv import rotations
from sfv.analysis.reference_quality import joint_spin
from sfv.imitate.joint_turns import limb_roots, slow_joint_turns
from sfv.imitate.physical import physical_step
from sfv.mocap import load_mocap
from sfv.settings.imitate import PhysicalReference

BONE = np.array([0.0, 1.0, 0.0])  # the humanoid's limbs hang along their joint's y axis


@pytest.fixture(scope="module")
def walk():
    return load_mocap("walk")


def straight_right_arm(motion):
    """The walk with its right elbow straight: its shoulder's twist about the upper arm then moves no body."""
    pose = motion.pose.copy()
    pose[:, motion.skeleton.dof_slices["right_elbow"]] = 0.0
    return replace(motion, pose=pose)


def flipped(motion, frames: slice, angle: float):
    """The right shoulder turned by `angle` about the upper arm's bone on `frames`: what a position fit can
    find on a straight arm."""
    pose = motion.pose.copy()
    sl = motion.skeleton.dof_slices["right_shoulder"]
    n = len(pose[frames])
    pose[frames, sl] = rotations.multiply(pose[frames, sl], rotations.from_axis_angle(BONE, np.full(n, angle)))
    return replace(motion, pose=pose)


def test_a_twist_that_moves_no_body_is_undone_and_the_bodies_stay(walk):
    straight = straight_right_arm(walk)
    half = walk.n_frames // 2
    bad = flipped(straight, slice(half, half + 3), np.radians(170.0))
    p_straight, p_bad = straight.body_positions()[0], bad.body_positions()[0]
    assert np.abs(p_bad - p_straight).max() < 1e-6  # the flip moves nothing
    assert joint_spin(bad) > 0.9 * np.radians(170.0) * walk.fps

    mended, report = slow_joint_turns(bad, weight=0.01)

    assert joint_spin(mended) < joint_spin(straight) + 3.0
    assert report["fastest_before_rad_s"] == pytest.approx(joint_spin(bad), abs=0.1)
    assert report["fastest_after_rad_s"] == pytest.approx(joint_spin(mended), abs=0.1)
    moved = np.linalg.norm(mended.body_positions()[0] - p_bad, axis=-1)
    assert moved.mean() < 0.01 and moved.max() < 0.05
    assert report["bodies_moved_cm"] == pytest.approx(moved.mean() * 100, abs=0.01)
    # the shoulder's rotation in the flipped frames is back beside its neighbours' (not half a turn away)
    sl = walk.skeleton.dof_slices["right_shoulder"]
    dot = np.abs(np.sum(mended.pose[half : half + 3, sl] * straight.pose[half : half + 3, sl], axis=-1))
    assert np.degrees(2 * np.arccos(dot.clip(0, 1))).max() < 30.0


def test_what_the_bodies_show_stays_and_the_leaves_are_untouched(walk):
    """The refit moves the walk's bodies by millimetres (its turns that move bodies stay), and leaves the joints it
    does not slow (the ankles, the neck: leaves no body hangs from) exactly as they were."""
    mended, report = slow_joint_turns(walk, weight=0.01)
    moved = np.linalg.norm(mended.body_positions()[0] - walk.body_positions()[0], axis=-1)
    assert moved.mean() < 0.005 and moved.max() < 0.015
    assert report["bodies_moved_most_cm"] == pytest.approx(moved.max() * 100, abs=0.1)
    sk = walk.skeleton
    for leaf in ("right_ankle", "left_ankle", "neck"):
        a, b = walk.pose[:, sk.dof_slices[leaf]], mended.pose[:, sk.dof_slices[leaf]]
        np.testing.assert_allclose(np.abs(np.sum(a * b, axis=-1)), 1.0, atol=1e-9)
    for hinge in ("right_knee", "left_knee"):
        assert np.abs(mended.pose[:, sk.dof_slices[hinge]] - walk.pose[:, sk.dof_slices[hinge]]).max() < np.radians(3)
    assert limb_roots(sk) == ["right_hip", "right_shoulder", "left_hip", "left_shoulder"]


def test_the_physical_step_refits_only_when_asked(walk):
    straight = straight_right_arm(walk)
    half = walk.n_frames // 2
    bad = replace(flipped(straight, slice(half, half + 3), np.radians(170.0)), loop="none")
    quick = PhysicalReference(iterations=5)
    plain, plain_report = physical_step(quick, "walk")(bad, 0)
    assert "joint_turns" not in plain_report
    assert joint_spin(plain) > 0.8 * np.radians(170.0) * walk.fps
    refit, refit_report = physical_step(quick.model_copy(update={"joint_turn_weight": 0.01}), "walk")(bad, 0)
    assert refit_report["joint_turns"]["fastest_after_rad_s"] < joint_spin(straight) + 3.0
    assert joint_spin(refit) < 0.5 * joint_spin(plain)
