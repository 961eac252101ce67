"""The scene from a motion (sfv.imitate.scene): levels where the body stood, their footprints, the refusals; on
mocap made to step onto a box, whose height and edge are known."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sfv.imitate.physical import contact_phases
from sfv.imitate.reference_clip import standing_foot_height
from sfv.imitate.scene import SceneError, find_scene, group_levels
from sfv.mocap import load_mocap

UP = 1  # the mocap's up axis (y)


@pytest.fixture(scope="module")
def walk():
    return load_mocap("walk")


def _onto_a_box(walk, height: float, gap: float):
    """Two walk cycles, the second `height` higher and `gap` metres further along the travel: a walk up onto a box
    whose near edge lies between the last step on the ground and the first on the box."""
    travel = walk.root_pos[-1] - walk.root_pos[0]
    travel[UP] = 0
    forward = travel / np.linalg.norm(travel)
    second = walk.root_pos + travel + gap * forward + height * np.eye(3)[UP]
    return (
        replace(
            walk,
            root_pos=np.concatenate([walk.root_pos, second]),
            root_rot=np.concatenate([walk.root_rot, walk.root_rot]),
            pose=np.concatenate([walk.pose, walk.pose]),
        ),
        forward,
    )


def test_heights_split_into_levels_where_they_jump_by_more_than_the_tolerance():
    groups = group_levels(np.array([0.0, 1.9, 0.02, 1.95, -0.01, 0.3]), tolerance=0.25)
    assert [sorted(g.tolist()) for g in groups] == [[0, 2, 4], [5], [1, 3]]


def test_a_flat_walk_is_one_level_at_the_floor(walk):
    scene = find_scene(walk, standing_foot_height(walk.skeleton), clip="walk")
    assert scene.flat and abs(scene.levels[0].height) < 0.03
    grid = scene.heightfield()
    assert np.all(grid.heights == 0)


def test_a_walk_onto_a_box_finds_the_box_its_height_and_its_edge(walk):
    box, gap = 0.5, 0.6
    motion, forward = _onto_a_box(walk, box, gap)
    scene = find_scene(motion, standing_foot_height(walk.skeleton), clip="onto_a_box")
    assert len(scene.levels) == 2
    ground, top = scene.levels
    assert abs(top.height - ground.height - box) < 0.03
    assert top.frames[0] >= walk.n_frames and ground.frames[1] < walk.n_frames
    # the box's near edge: past every foot planted on the ground, before every foot planted on the box (the
    # walk's own plants, found on its flat floor)
    planted = contact_phases(walk, standing_foot_height(walk.skeleton))
    pos, _ = motion.body_positions()
    feet = pos[:, [motion.skeleton.index(f) for f in motion.skeleton.settings["feet"]]] @ forward
    last_ground = feet[: walk.n_frames][planted].max()
    first_box = feet[walk.n_frames :][planted].min()
    assert last_ground < top.u[0] < first_box
    # the terrain grid: the box's height on it, the ground beside it
    grid = scene.heightfield(cell=0.05)
    on_box = motion.root_pos[walk.n_frames + walk.n_frames // 2].copy()
    before = motion.root_pos[walk.n_frames // 2].copy()
    assert abs(grid.height(on_box[None])[0] - (top.height - ground.height)) < 1e-9
    assert grid.height(before[None])[0] == 0.0


def test_a_body_inside_a_surface_is_refused_naming_the_clip_and_the_frame(walk):
    motion, _ = _onto_a_box(walk, 0.5, 0.6)
    sunk = motion.root_pos.copy()
    frame = walk.n_frames + walk.n_frames // 2
    sunk[frame - 2 : frame + 3, UP] -= 0.45  # five frames of the walk on the box sink into it
    with pytest.raises(SceneError, match=r"clip 'sinks':.*inside the surface.*at frame"):
        find_scene(replace(motion, root_pos=sunk), standing_foot_height(walk.skeleton), clip="sinks")


def test_a_body_that_stays_put_stands_on_one_level(walk):
    still = replace(
        walk,
        root_pos=np.repeat(walk.root_pos[:1], 30, axis=0),
        root_rot=np.repeat(walk.root_rot[:1], 30, axis=0),
        pose=np.repeat(walk.pose[:1], 30, axis=0),
    )
    scene = find_scene(still, standing_foot_height(walk.skeleton), clip="still")
    assert scene.flat and scene.levels[0].planted_frames == 30
