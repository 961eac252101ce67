"""A character's collision shapes read from its URDF (sfv.imitate.body_shapes), and the reference step keeping
them over the floor (`floor_shapes`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pybullet
import pytest

from sfv import rotations
from sfv.config import EnvSettings
from sfv.imitate.body_shapes import collision_spheres, lowest_points
from sfv.imitate.env import ImitationEnv
from sfv.imitate.physical import SHAPE_CLEARANCE_M, make_physical
from sfv.imitate.reference_clip import standing_foot_height, trim
from sfv.mocap import load_mocap
from sfv.settings.imitate import PhysicalReference


@pytest.fixture(scope="module")
def roll():
    return load_mocap("roll")


def _lowest(motion, spheres):
    pos, rot = motion.body_positions()
    return lowest_points(spheres, pos, rotations.to_matrix(rot), "xyz".index(motion.skeleton.up_axis))


def test_the_lowest_sphere_of_each_body_is_its_distance_to_the_ground_in_the_simulator(roll):
    """Spheres, capsules (the head, the limbs, rolled over in every orientation) and boxes (the feet): each body's
    lowest point from the URDF alone is pybullet's own closest distance between that link and the ground plane."""
    sk = roll.skeleton
    spheres = collision_spheres(sk)
    assert {sk.body_names[b] for b in spheres.body} == {n for n in sk.body_names if n not in ("base",)}
    low = _lowest(roll, spheres)
    env = ImitationEnv(roll, EnvSettings())
    sim = env.sim
    link = {
        pybullet.getJointInfo(sim.body, j, physicsClientId=sim.client)[12].decode(): j
        for j in range(pybullet.getNumJoints(sim.body, physicsClientId=sim.client))
    }
    try:
        for frame in range(0, roll.n_frames - 1, 10):  # the last frame is the wrapped first
            env.reset(options={"time": frame / roll.fps})
            for b in sorted(set(spheres.body)):
                points = pybullet.getClosestPoints(
                    sim.body, sim.terrain, 5.0, linkIndexA=link[sk.body_names[b]], physicsClientId=sim.client
                )
                assert min(p[8] for p in points) == pytest.approx(low[frame, spheres.body == b].min(), abs=1e-4)
    finally:
        env.close()


def test_the_reference_step_keeps_a_head_out_of_the_floor_only_when_asked(roll):
    """The roll's head turned 30 degrees about its neck goes 5 cm and more into the floor with its neck joint well above
    it: the joints' floor term cannot see it; `floor_shapes` lifts it to the clearance, moving the joints little."""
    sk = roll.skeleton
    clip = replace(trim(roll.resample(30.0), (15, 39), "roll"), loop="none")  # from the crouch over the head, at 30 fps
    neck = sk.dof_slices["neck"]
    pose = clip.pose.copy()
    pose[:, neck] = rotations.multiply(
        pose[:, neck], rotations.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.full(len(pose), np.radians(30.0)))
    )
    clip = replace(clip, pose=pose)
    head = collision_spheres(sk).of([sk.index("neck")])
    assert _lowest(clip, head).min() < -0.05
    up = "xyz".index(sk.up_axis)
    assert clip.body_positions()[0][:, sk.index("neck"), up].min() > 0.05
    allowed = ["root", "chest", "right_hip", "left_hip", "right_shoulder", "left_shoulder"]
    allowed += ["right_elbow", "left_elbow", "right_wrist", "left_wrist"]
    settings = PhysicalReference(iterations=150)
    foot = standing_foot_height(sk)

    plain, _ = make_physical(clip, foot, settings, allowed)
    assert _lowest(plain, head).min() < -0.04

    kept, _ = make_physical(clip, foot, settings.model_copy(update={"floor_shapes": True}), allowed)
    assert _lowest(kept, head).min() > SHAPE_CLEARANCE_M - 0.01

    # the head comes out mostly by its neck's turn, which moves no joint: the joints move about as far from the clip
    # as the step without it moves them (its flight's arc shifts them by a centimetre or two: the head's mass moved)
    def moved(motion):
        return np.linalg.norm(motion.body_positions()[0] - clip.body_positions()[0], axis=-1).mean()

    assert moved(kept) < moved(plain) + 0.01
