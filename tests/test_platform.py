"""A rendered clip's known scene (sfv.render.platform): the jump made to drop off a platform, the box as the video
draws it, and the recovered levels scored against it (sfv.analysis.scene_levels.platform_errors)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sfv import paths
from sfv.analysis.scene_levels import platform_errors
from sfv.camera import orbit_camera
from sfv.config import ClipParams
from sfv.imitate.reference_clip import standing_foot_height
from sfv.imitate.scene import find_scene
from sfv.mocap import load_mocap
from sfv.motion import repeat_cycles, save_npz
from sfv.render.body import Y_UP_TO_Z_UP
from sfv.render.gt_clip import render_box
from sfv.render.platform import LANDING_CLEARANCE_M, clip_truth, first_flight, platform_drop

UP = 1  # the mocap's up axis (y)


@pytest.fixture(scope="module")
def jump():
    return load_mocap("jump")


def _feet(motion):
    pos, _ = motion.body_positions()
    return pos[:, [motion.skeleton.index(f) for f in motion.skeleton.settings["feet"]]]


def test_the_jump_starts_on_the_platform_and_lands_past_its_edge(jump):
    height = 0.4
    dropped, platform = platform_drop(jump, height, edge_margin=0.15, clip="off_a_box")
    takeoff, landing = first_flight(jump)
    assert (platform.takeoff, platform.landing) == (takeoff, landing) and 30 < takeoff < landing < jump.n_frames
    feet, before = _feet(dropped), _feet(jump)
    # standing on the platform: every frame before the take-off exactly `height` higher, inside its footprint
    np.testing.assert_allclose(feet[:takeoff, :, UP] - before[:takeoff, :, UP], height, atol=1e-9)
    lateral = np.cross(np.eye(3)[UP], platform.forward)
    u, v = feet @ platform.forward, feet @ lateral
    box_v = sorted([platform.lo @ lateral, platform.hi @ lateral])
    assert (u[:takeoff] < platform.edge).all() and (u[:takeoff] > platform.edge - 1.5).all()
    assert ((v[:takeoff] > box_v[0]) & (v[:takeoff] < box_v[1])).all()
    assert platform.hi[UP] == height and platform.lo[UP] == 0.0
    # the toes at the edge: the ankles 15 cm behind it
    assert abs(platform.edge - u[takeoff - 1].max() - 0.15) < 1e-9
    # from the landing on, the mocap as it was, past the edge
    np.testing.assert_array_equal(dropped.root_pos[landing:], jump.root_pos[landing:])
    assert (u[landing:] > platform.edge + LANDING_CLEARANCE_M).all()
    # no foot ever inside the ground it is over (the ankles rest ~5 cm above their surface)
    surface = np.where(u < platform.edge, height, 0.0)
    assert (feet[..., UP] - surface).min() > 0.03


def test_a_motion_without_a_flight_cannot_drop_off_a_platform():
    with pytest.raises(ValueError, match=r"clip 'walker': scene.platform needs a motion with a flight.*'walk'"):
        platform_drop(load_mocap("walk"), 0.4, 0.15, clip="walker")


def test_the_scene_found_on_the_true_motion_scores_within_the_issue_bars(jump):
    dropped, platform = platform_drop(jump, 0.4, 0.15)
    scene = find_scene(dropped, standing_foot_height(jump.skeleton), clip="off_a_box")
    truth = {
        "clip": np.array("off_a_box"),
        "source_root_pos": dropped.root_pos,
        "scene_platform_height": np.array(platform.height),
        "scene_platform_forward": platform.forward,
        "scene_platform_edge": np.array(platform.edge),
    }
    errors = platform_errors(scene, dropped, truth)
    assert errors["truth_heights_m"] == [0.0, 0.4]
    assert errors["height_error_m"] < 0.03 and errors["edge_error_m"] < 0.15
    # a scene whose top level ends half a metre short is scored so
    ground, top = scene.levels
    short = replace(scene, levels=(ground, replace(top, u=(top.u[0], top.u[1] - 0.5))))
    assert platform_errors(short, dropped, truth)["edge_error_m"] > 0.35
    # one level found: nothing to score, the truth still shown
    flat = replace(scene, levels=(ground,))
    assert platform_errors(flat, dropped, truth) == {
        "truth_heights_m": [0.0, 0.4],
        "height_error_m": None,
        "edge_error_m": None,
    }
    with pytest.raises(
        ValueError,
        match=r"clip off_a_box: the reconstruction has 107 frames, its ground truth 10.*reconstruct@off_a_box",
    ):
        platform_errors(scene, dropped, truth | {"source_root_pos": dropped.root_pos[:10]})


def test_the_platform_is_drawn_where_the_body_stands_on_it(jump):
    _, platform = platform_drop(jump, 0.4, 0.15)
    scale, lift = 1.1, -0.02
    low, high = render_box(platform, Y_UP_TO_Z_UP, scale, lift)
    assert low[2] == 0.0 and abs(high[2] - (scale * 0.4 + lift)) < 1e-9  # on the floor, its top under the soles
    # the source's forward (+x) stays +x in the video's world; its edge scaled
    assert abs(high[0] - scale * platform.hi[0]) < 1e-9


def test_the_renderer_draws_a_box_into_colour_and_depth_but_not_the_silhouette():
    from sfv.render.tiny import TinyRenderer

    camera = orbit_camera(np.array([0.0, 0.0, 0.5]), 3.0, 10, -90, 96, 64, 45, 0)
    far = np.array([[50.0, 50.0, 0.0], [50.1, 50.0, 0.0], [50.0, 50.1, 0.0]])  # a speck far off
    groups, colours = {"skin": np.array([[0, 1, 2]])}, {"skin": (1, 0, 0, 1)}
    with TinyRenderer(camera) as r:
        rgb0, depth0, sil0 = r.render(far, groups, colours)
        rgb1, depth1, sil1 = r.render(
            far, groups, colours, boxes=[(np.array([-0.5, -0.5, 0]), np.array([0.5, 0.5, 1]))]
        )
    changed = np.abs(rgb1.astype(int) - rgb0).sum(axis=2) > 0
    assert changed.mean() > 0.05  # the box fills part of the picture...
    assert (depth1[changed] < depth0[changed]).mean() > 0.9  # ...in front of the floor
    assert not sil1.any() and not sil0.any()  # and is no body


def test_a_rendered_clip_of_several_cycles_is_filmed_and_measured_on_the_mocap_played_again(tmp_path):
    """`clips.<clip>.cycles`: the render films, and every later stage is measured against, the looping mocap
    played that many times in a row; a mocap that does not loop is refused, naming the setting."""
    for name in ("walk", "kick"):
        save_npz(load_mocap(name), paths.mocap_motion(name, tmp_path))
    once, _ = clip_truth(ClipParams(source="mocap:walk"), tmp_path)
    three, platform = clip_truth(ClipParams(source="mocap:walk", cycles=3), tmp_path)
    assert platform is None and once.n_frames == 39 and three.n_frames == 3 * 38 + 1
    np.testing.assert_array_equal(three.pose, repeat_cycles(once, 3).pose)
    with pytest.raises(ValueError, match=r"cycles: 2, but the mocap 'kick' does not loop.*set cycles: 1"):
        clip_truth(ClipParams(source="mocap:kick", cycles=2), tmp_path)
