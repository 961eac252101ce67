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


# --- imitation on the scene: the env lays the ground the reference stood on ------------------------------------
def _off_a_platform(height: float = 0.4):
    from sfv.render.platform import platform_drop

    jump = load_mocap("jump")
    return platform_drop(jump, height, 0.15, clip="off_a_platform")


def test_the_scene_terrain_is_the_platform_where_the_reference_stood_tracked_at_its_own_heights():
    from sfv.imitate.scene import scene_terrain
    from sfv.imitate.sim import load_terrain

    motion, platform = _off_a_platform()
    field = scene_terrain(motion, load_terrain("scene"), clip="off_a_platform")
    pos, _ = motion.body_positions()
    feet = pos[:, [motion.skeleton.index(f) for f in motion.skeleton.settings["feet"]]]
    rest = standing_foot_height(motion.skeleton)
    # under the feet standing on it, the platform's height (from the reconstruction's plants: within 3 cm); under
    # the landing, the floor
    assert np.abs(field.height(feet[: platform.takeoff]) - platform.height).max() < 0.03
    assert np.abs(field.height(feet[platform.landing :])).max() < 0.03
    standing = feet[:30]  # before the heels lift for the take-off
    assert np.abs(standing[..., UP] - rest - field.height(standing)).max() < 0.03
    # tracked in absolute heights: no ground is added to the reference anywhere
    assert not field.tracking.any()
    # the grid holds the reference's whole path with ground to spare
    assert field.inside(motion.root_pos).all()


def test_the_scene_is_laid_as_solid_blocks_with_sharp_edges_that_its_heights_describe():
    """The simulator lays a scene as boxes, not as the grid: at the platform's edge the ground steps straight down
    (a grid would ramp over a cell), and the env's height queries are that same surface (rays down onto it)."""
    import pybullet

    from sfv.imitate.scene import scene_terrain
    from sfv.imitate.sim import _FieldBody, load_terrain

    motion, _ = _off_a_platform()
    field = scene_terrain(motion, load_terrain("scene"), clip="off_a_platform")
    floor, platform = field.blocks[0], field.blocks[1]
    assert len(field.blocks) == 2 and platform[4] - floor[4] > 0.3
    along = (platform[2] + platform[3]) / 2 * field.lateral
    up = np.eye(3)[field.up]
    us = np.concatenate([np.linspace(platform[0] - 0.5, platform[1] + 0.5, 200), platform[1] + [-1e-3, 1e-3]])
    points = us[:, None] * field.forward + along + 0.0 * up
    client = pybullet.connect(pybullet.DIRECT)
    try:
        body = _FieldBody(client, field, 0.9)
        hits = pybullet.rayTestBatch((points + 5 * up).tolist(), (points - 5 * up).tolist(), physicsClientId=client)
        bullet = np.array([h[3][field.up] for h in hits])
        assert all(h[0] == body.body for h in hits)
        on = (us > platform[0]) & (us < platform[1])
        assert np.allclose(bullet[on], platform[4], atol=1e-5) and np.allclose(bullet[~on], floor[4], atol=1e-5)
        assert np.abs(field.height(points) - bullet).max() < 1e-5  # the edge a millimetre either side included
    finally:
        pybullet.disconnect(client)


def test_a_character_placed_on_its_scene_stands_on_the_platform_and_on_flat_ground_drops():
    from sfv.imitate.env import ImitationEnv
    from sfv.settings.imitate import EnvSettings

    motion, platform = _off_a_platform()
    feet = [motion.skeleton.index(f) for f in motion.skeleton.settings["feet"]]
    heights = {}
    for terrain in ("scene", "flat"):
        env = ImitationEnv(motion, EnvSettings(terrain=terrain))
        env.reset(seed=0, options={"time": 0.0})
        for _ in range(8):  # the reference pose held by PD control (zero residual actions), a quarter second
            _, _, terminated, _, _ = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        heights[terrain] = (env.state.body_pos[feet, UP].mean(), env.state.root_pos[UP], terminated)
        env.close()
    rest = standing_foot_height(motion.skeleton)
    on_scene, on_flat = heights["scene"], heights["flat"]
    assert abs(on_scene[0] - rest - platform.height) < 0.04 and not on_scene[2]  # standing on the platform
    assert abs(on_scene[1] - motion.root_pos[8 * 2, UP]) < 0.06  # where the reference is (mocap at 60 fps)
    assert on_flat[0] < platform.height / 2  # the same start on flat ground falls to the floor


def test_a_clip_learned_on_its_scene_gets_the_scene_terrain_and_the_heightmap_and_is_one_shot():
    from pydantic import ValidationError

    from sfv.settings.imitate import ImitateClip, ImitateParams

    params = ImitateParams(clips={"leap": ImitateClip(scene=True, ground_contacts=["right_wrist"]), "walk": {}})
    leap, walk = params.for_clip("leap").env, params.for_clip("walk").env
    assert (leap.terrain, leap.heightmap.enabled, leap.ground_contacts) == ("scene", True, ["right_wrist"])
    assert (walk.terrain, walk.heightmap.enabled) == ("flat", False)
    with pytest.raises(ValidationError, match=r"scene and cyclic together.*one-shot"):
        ImitateClip(scene=True, cyclic=True)


def test_a_reference_on_two_levels_is_kept_on_its_scene_and_refused_on_flat_ground():
    from sfv.imitate.reference_clip import ReferenceError, prepare_reference
    from sfv.settings.imitate import ImitateClip, ReferenceChecks

    motion, platform = _off_a_platform()
    with pytest.raises(ReferenceError, match=r"not filmed on one flat ground"):
        prepare_reference(motion, ImitateClip(), ReferenceChecks(), "off_a_platform")
    ref, made = prepare_reference(motion, ImitateClip(scene=True), ReferenceChecks(), "off_a_platform")
    np.testing.assert_allclose(ref.root_pos[:, UP] - motion.root_pos[:, UP], made["lift_m"], atol=1e-4)  # grounded
    assert abs(made["lift_m"]) < 0.02  # the lowest ankle of the mocap onto the character's standing height


def test_a_reference_no_scene_explains_is_refused_naming_the_clip(walk):
    from sfv.imitate.reference_clip import ReferenceError
    from sfv.imitate.stage import scene_report

    motion, _ = _onto_a_box(walk, 0.5, 0.6)
    sunk = motion.root_pos.copy()
    frame = walk.n_frames + walk.n_frames // 2
    sunk[frame - 2 : frame + 3, UP] -= 0.45
    with pytest.raises(ReferenceError, match=r"clip 'sinks':.*inside the surface.*imitate.clips.sinks.scene"):
        scene_report(replace(motion, root_pos=sunk), [], "sinks")
    report = scene_report(motion, [], "onto_a_box")
    assert report["levels"] == 2 and abs(report["heights_m"][1] - report["heights_m"][0] - 0.5) < 0.03
