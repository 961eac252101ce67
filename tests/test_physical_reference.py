"""The physical reference step (sfv.imitate.physical): planted feet found and held, bodies kept above the floor,
flights made ballistic, on mocap spoiled the way a reconstruction spoils it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sfv.analysis import reference_quality as quality
from sfv.imitate.physical import (
    GRAVITY,
    airborne,
    ballistic_span,
    contact_phases,
    falls,
    flights,
    free_falls,
    grounded_ends,
    held_to_arc,
    make_physical,
    pushed_plants,
)
from sfv.imitate.reference_clip import standing_foot_height
from sfv.mocap import load_mocap
from sfv.settings.imitate import PhysicalReference


@pytest.fixture(scope="module")
def walk():
    return load_mocap("walk")


def _com_height(motion) -> np.ndarray:
    import torch

    from sfv.kinematics import centre_of_mass, forward_kinematics

    with torch.no_grad():
        pos, rot = forward_kinematics(
            motion.skeleton,
            torch.as_tensor(motion.root_pos),
            torch.as_tensor(motion.root_rot),
            torch.as_tensor(motion.pose),
        )
        return centre_of_mass(motion.skeleton, pos, rot).numpy()[:, 1]


def test_a_walk_has_a_foot_down_at_every_frame_and_no_flight(walk):
    planted = contact_phases(walk, standing_foot_height(walk.skeleton))
    assert planted.any(axis=1).all()
    assert planted[:, 0].any() and planted[:, 1].any() and not planted.all()  # each foot plants and swings
    assert flights(airborne(walk, planted)) == []


def test_a_skating_walk_is_planted_again_and_stays_close(walk):
    """The mocap walk with its root sliding back and forth (what a reconstruction's depth noise does to planted
    feet) and sunk into the floor: the step takes the skate and the sinking out and stays near the motion."""
    foot = standing_foot_height(walk.skeleton)
    truth_planted = contact_phases(walk, foot)
    t = np.arange(walk.n_frames) / walk.fps
    wobble = np.zeros_like(walk.root_pos)
    wobble[:, 0] = 0.04 * np.sin(2 * np.pi * 3 * t)
    wobble[:, 1] = -0.03
    spoiled = replace(walk, root_pos=walk.root_pos + wobble)
    physical, report = make_physical(spoiled, foot)
    before = quality.foot_skate(spoiled, truth_planted)
    after = quality.foot_skate(physical, truth_planted)
    assert after < 0.5 * before, (before, after)
    assert quality.penetration(physical, foot) < 0.5 * quality.penetration(spoiled, foot)
    moved = np.linalg.norm(physical.body_positions()[0] - spoiled.body_positions()[0], axis=-1).mean()
    assert moved < 0.05 and report["flights"] == []


def test_a_flight_follows_gravity():
    """A jump whose flight the video made too slow (the root's rise and fall stretched) comes out with its centre
    of mass accelerating at g in the air, from take-off to landing."""
    jump = load_mocap("jump")
    foot = standing_foot_height(jump.skeleton)
    planted = contact_phases(jump, foot)
    air = flights(airborne(jump, planted))
    assert air, "the jump has a flight"
    a, b = max(air, key=lambda r: r[1] - r[0])
    root = jump.root_pos.copy()
    base = np.linspace(root[a - 1, 1], root[b, 1], b - a + 2)
    root[a - 1 : b + 1, 1] = base + 1.6 * (root[a - 1 : b + 1, 1] - base)  # a higher arc, the same timing
    spoiled = replace(jump, root_pos=root)
    physical, report = make_physical(spoiled, foot, PhysicalReference())
    assert [a, b] in report["flights"]
    dt = 1.0 / jump.fps

    def accel(motion):
        c = _com_height(motion)[a - 1 : b + 1]
        return (c[2:] - 2 * c[1:-1] + c[:-2]) / dt**2

    assert np.abs(accel(physical) + GRAVITY).mean() < 0.5 * np.abs(accel(spoiled) + GRAVITY).mean()
    peak = lambda m: _com_height(m)[a:b].max()  # noqa: E731
    assert abs(peak(physical) - peak(jump)) < abs(peak(spoiled) - peak(jump))


def test_the_ballistic_arc_runs_from_the_peak_of_the_push_to_the_peak_of_the_fall():
    """A take-off whose speed still rises after the ankles leave (the toes push) and a landing that brakes before
    they are down (the knees): the free arc is found between the two speed peaks, and never outside the flight."""
    dt = 1.0 / 30
    push = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]  # speed from frame i to i + 1: the push peaks at speed[5]
    free = [2.5 - GRAVITY * dt * n for n in range(1, 16)]  # speed[6..20]: ballistic, fastest down at speed[20]
    brake = [-1.2, -0.3, 0.0, 0.0, 0.0]
    height = np.r_[0.8, 0.8 + np.cumsum(np.r_[push, free, brake]) * dt]
    assert ballistic_span(height, (4, 23)) == (6, 20)  # accelerations at 6..20 are -g, at 5 and 21 are not
    assert ballistic_span(height, (6, 20)) == (6, 20)  # a flight timed right stays as it is
    assert ballistic_span(height, (8, 18)) == (8, 18)  # and never grows


def test_a_flight_timed_early_by_the_ankles_keeps_the_take_off_the_body_made():
    """The jump's mocap with its feet's plants ending 4 frames (67 ms) before its take-off and starting 4 after its
    landing (what the ankles' height and speed say of a push on the toes): an arc from the ankles' take-off asks
    for a faster jump from lower than the body made; one between the speed's peaks, with the ground's push
    bounded around it, keeps the mocap's."""
    jump = replace(load_mocap("jump"), loop="none")
    foot = standing_foot_height(jump.skeleton)
    planted = contact_phases(jump, foot)[:, :2]
    ((a, b),) = flights(airborne(jump, planted))
    early = planted.copy()
    early[a - 4 : a] = early[b : b + 4] = False
    truth = _com_height(jump)
    take_off = lambda m: np.diff(_com_height(m)).max() * jump.fps  # noqa: E731
    by_ankles, report = make_physical(jump, foot, PhysicalReference(), feet_planted=early)
    by_speed, _ = make_physical(
        jump, foot, PhysicalReference(ballistic_from_speed=True, max_push=3.0), feet_planted=early
    )
    assert report["flights"] == [[a - 4, b + 4]]
    assert take_off(by_ankles) > take_off(jump) + 1.0, (take_off(by_ankles), take_off(jump))
    assert abs(take_off(by_speed) - take_off(jump)) < 0.2, (take_off(by_speed), take_off(jump))
    assert np.abs(_com_height(by_ankles) - truth).max() > 0.05
    assert np.abs(_com_height(by_speed) - truth).max() < 0.02


def test_a_take_off_foot_that_slides_before_the_arc_is_held_where_it_stood():
    """The jump's mocap timed the ankles' way (plants ending 4 frames before its take-off), its body sliding 10 cm
    forwards over those frames (a reconstruction's foot skates while the toes push): with `plants_to_arc` the feet
    stay planted until the ballistic arc starts, where they stood, and the arc is the same; without it they slide
    with the body."""
    jump = replace(load_mocap("jump"), loop="none")
    foot = standing_foot_height(jump.skeleton)
    planted = contact_phases(jump, foot)[:, :2]
    ((a, b),) = flights(airborne(jump, planted))
    early = planted.copy()
    early[a - 4 : a] = False
    shift = np.clip((np.arange(jump.n_frames) - (a - 4)) / 4.0, 0.0, 1.0) * 0.10  # 0 before a - 4, 10 cm from a on
    root_pos = jump.root_pos.copy()
    root_pos[:, 0] += shift
    sliding = replace(jump, root_pos=root_pos)
    settings = PhysicalReference(ballistic_from_speed=True, max_push=3.0)
    slid, report = make_physical(sliding, foot, settings, feet_planted=early)
    held, held_report = make_physical(
        sliding, foot, settings.model_copy(update={"plants_to_arc": True}), feet_planted=early
    )
    ((first, _),) = report["ballistic_arcs"]
    assert held_report["ballistic_arcs"] == report["ballistic_arcs"] and first >= a - 3
    feet = jump.skeleton.settings["feet"]
    names = [body.name for body in jump.skeleton.bodies]

    def slide(motion) -> float:  # how far the feet move along the ground from their plant's end until the arc's eve
        pos = motion.body_positions()[0][a - 5 : first - 1][:, [names.index(f) for f in feet]][..., [0, 2]]
        return float(np.linalg.norm(pos - pos[0], axis=-1).max())

    # on the arc's eve the toes leave: the one frame there is the plant's weakest held (its spread is a mean)
    assert slide(slid) > 0.05, slide(slid)
    assert slide(held) < 0.03, slide(held)  # within the 2 cm a held mocap foot rolls onto its toes
    for name, runs in held_report["plants"].items():
        assert any(start < a - 4 and end == first for start, end in runs), (name, runs, first)


def test_only_the_feet_down_at_a_flights_ends_are_held_to_its_arc():
    planted = np.zeros((20, 2), dtype=bool)
    planted[:5, 0] = True  # the right foot leaves last, at frame 5
    planted[:3, 1] = True
    planted[15:, 1] = True  # the left lands first, at frame 15
    planted[17:, 0] = True
    held = held_to_arc(planted, [(5, 15)], [(7, 12)])
    assert held[:7, 0].all() and not held[7:17, 0].any()  # the right held until the arc starts
    assert not held[3:13, 1].any() and held[13:, 1].all()  # the left held from the frame after the arc
    assert (held[:3] == planted[:3]).all()
    assert held_to_arc(planted, [], []).tolist() == planted.tolist()


def test_feet_still_in_the_image_at_a_hops_apex_are_in_the_air_while_the_body_falls():
    """sports2d_demo's jumping jacks: at each hop's apex the feet stand still in the image, 10-15 cm up, and the image
    test planted them there, so the step held them in the air while the body fell at g, and found no flight. The
    jump's mocap with its feet marked planted from its apex on: with `free_fall_flights` the frames where both feet
    are off the ground and the body falls are a flight again, the mocap's own; without it they stay plants."""
    jump = replace(load_mocap("jump"), loop="none")
    foot = standing_foot_height(jump.skeleton)
    planted = contact_phases(jump, foot)[:, :2]
    ((a, b),) = flights(airborne(jump, planted))
    height = _com_height(jump)
    apex = a + int(np.argmax(height[a:b]))
    at_apex = planted.copy()
    at_apex[apex:b] = True  # the image's plants from the apex to the landing
    _, kept = make_physical(jump, foot, PhysicalReference(), feet_planted=at_apex)
    _, freed = make_physical(jump, foot, PhysicalReference(free_fall_flights=True), feet_planted=at_apex)
    assert kept["flights"] == [[a, apex]]
    ((start, end),) = freed["flights"]
    # within 3 frames (50 ms) of the contact test's take-off and landing: the frames where the feet are more than 5 cm
    # up and the body falls, where the test's 12 cm still counts a foot as planted
    assert abs(start - a) <= 3 and abs(end - b) <= 3, (freed["flights"], (a, b))
    # it reads the body's fall, not the feet alone: a walk (a foot always down) and a jump's crouch have none
    assert not free_falls(load_mocap("walk"), foot).any()
    assert not free_falls(jump, foot)[: a - 3].any()


def test_a_clip_that_starts_with_its_plant_missed_stands_on_its_lowest_foot_but_one_that_starts_falling_does_not():
    """dance_a's video: the contact test missed both feet for its first frames, and the step left the character
    floating there, its lowest foot 8 cm up, to drop and fall at the start of every evaluation. A one-shot clip's
    start with nothing planted and a body that does not fall now stands on its lowest foot; a clip that starts in
    the air (the jump cut just before its landing, falling at g) does not; a looped clip has no ends."""
    jump = load_mocap("jump")
    foot = standing_foot_height(jump.skeleton)
    standing = replace(jump, loop="none")
    root = standing.root_pos.copy()
    root[:20, 1] += np.linspace(0.08, 0.0, 20)  # floats up to 8 cm over its first frames
    floating = replace(standing, root_pos=root)
    missed = contact_phases(floating, foot)[:, :2]
    missed[:20] = False  # the plant the contact test missed
    feet = [floating.skeleton.index(n) for n in floating.skeleton.settings["feet"]]
    low = lambda m: (m.body_positions()[0][:10, feet, 1].min(axis=1) - foot).mean()  # noqa: E731
    converged = PhysicalReference(iterations=1000)  # a whole body 8 cm up: more steps than a clip's few centimetres
    held, report = make_physical(floating, foot, converged, feet_planted=missed)
    unheld = converged.model_copy(update={"grounded_ends": False})
    left_up, _ = make_physical(floating, foot, unheld, feet_planted=missed)
    assert low(floating) > 0.06 and low(left_up) > 0.05, (low(floating), low(left_up))
    assert low(held) < 0.02 and report["grounded_ends"][0][1:] == [0, 20]
    assert "grounded_ends" not in make_physical(standing, foot, PhysicalReference())[1]

    # the jump cut 6 frames (0.1 s) before its landing: its feet are within the contact height already, but its
    # body falls at g: it starts in the air
    planted = contact_phases(jump, foot)[:, :2].any(axis=1)
    apex = int(np.argmax(_com_height(jump)))
    cut = apex + int(np.argmax(planted[apex:])) - 6
    falling = replace(jump, root_pos=jump.root_pos[cut:], root_rot=jump.root_rot[cut:], pose=jump.pose[cut:])
    falling = replace(falling, loop="none")
    planted = contact_phases(falling, foot)
    assert not planted[:6].any() and planted[6].any(), "the cut clip starts in the air, 6 frames before landing"
    lowest = (falling.body_positions()[0][:6, feet, 1].min(axis=1) - foot).mean()
    assert lowest < PhysicalReference().contact_height  # only its fall tells it is in the air
    assert grounded_ends(falling, planted, foot) == []
    assert grounded_ends(replace(floating, loop="wrap"), np.zeros_like(missed), foot) == []


def test_feet_lifted_while_the_body_does_not_fall_are_no_flight(walk):
    """A person standing still who lifts both feet off the ground without the body falling (knees bent, the root
    held: what a reconstruction shows where the contact test misses a foot standing higher than `contact_height`)
    gets no ballistic arc, which would throw the body down and up again; with the check off (`flight_fall` 0) it
    does."""
    foot = standing_foot_height(walk.skeleton)
    f = int(np.flatnonzero(contact_phases(walk, foot).all(axis=1))[0])  # both feet down
    n, sk = 45, walk.skeleton
    bend = np.convolve(np.r_[np.zeros(15), np.ones(15), np.zeros(15)], np.ones(3) / 3, mode="same")
    pose = np.repeat(walk.pose[f : f + 1], n, axis=0)
    for knee in ("right_knee", "left_knee"):
        pose[:, sk.dof_slices[knee]] -= 1.4 * bend[:, None]
    held = lambda a: np.repeat(a[f : f + 1], n, axis=0)  # noqa: E731
    still = replace(walk, root_pos=held(walk.root_pos), root_rot=held(walk.root_rot), pose=pose, loop="none")
    (span,) = flights(airborne(still, contact_phases(still, foot)))  # no foot planted while the knees are bent
    assert not falls(still, span, PhysicalReference().flight_fall)
    physical, report = make_physical(still, foot)
    assert report["flights"] == []
    assert abs(_com_height(physical) - _com_height(still)).max() < 0.03
    thrown, report_off = make_physical(still, foot, PhysicalReference(flight_fall=0))
    assert report_off["flights"] == [list(span)]
    assert abs(_com_height(thrown) - _com_height(still)).max() > 0.05


def test_a_roll_on_its_back_is_no_flight_and_a_cartwheel_stands_on_its_hands():
    """Feet off the ground is not flight when the body lies on it; a cartwheel's wrists bear weight when allowed."""
    roll = load_mocap("roll")
    foot = standing_foot_height(roll.skeleton)
    planted = contact_phases(roll, foot)
    feet_off = ~planted.any(axis=1)
    assert feet_off.sum() > 10  # the feet leave the ground...
    assert flights(airborne(roll, planted)) == []  # ...but the body is on it: no ballistic arc asked
    cartwheel = load_mocap("cartwheel")
    hands = ["right_wrist", "left_wrist"]
    with_hands = contact_phases(cartwheel, foot, allowed=hands)
    assert with_hands.shape[1] == 4 and with_hands[:, 2:].any()  # the wrists plant
    physical, _ = make_physical(cartwheel, foot, allowed=hands)
    assert quality.penetration(physical, foot) <= quality.penetration(cartwheel, foot) + 0.005


def test_the_stage_reference_is_made_physical_when_enabled_and_asks_for_keypoints_when_read_from_video(walk):
    """prepare_reference runs the physical step between grounding and the loop's closure (the skating goes, the
    report says what it found); there is no step when it is disabled, and video contacts without the clip's
    keypoints are refused, naming the clip and the fix."""
    from sfv.imitate.physical import physical_step
    from sfv.imitate.reference_clip import ReferenceError, prepare_reference
    from sfv.settings.imitate import ImitateClip, ReferenceChecks

    foot = standing_foot_height(walk.skeleton)
    truth_planted = contact_phases(walk, foot)
    t = np.arange(walk.n_frames) / walk.fps
    wobble = np.zeros_like(walk.root_pos)
    wobble[:, 0] = 0.04 * np.sin(2 * np.pi * 3 * t)
    spoiled = replace(walk, root_pos=walk.root_pos + wobble)
    entry, checks = ImitateClip(), ReferenceChecks()
    plain, plain_report = prepare_reference(spoiled, entry, checks, "walk")
    assert physical_step(PhysicalReference(enabled=False), "walk") is None and "physical" not in plain_report
    made, report = prepare_reference(spoiled, entry, checks, "walk", physical_step(PhysicalReference(), "walk"))
    assert report["physical"]["planted_fraction"] > 0.5 and report["physical"]["flights"] == []
    assert quality.foot_skate(made, truth_planted) < 0.5 * quality.foot_skate(plain, truth_planted)
    with pytest.raises(ReferenceError, match=r"clip 'walk'.*contacts is 'video'.*dvc repro pose@walk"):
        physical_step(PhysicalReference(contacts="video"), "walk")


def test_a_reference_measured_against_itself_is_perfect_and_a_spoiled_one_is_not(walk):
    """The end-to-end stage's measure: the truth against itself has no body error, no MPJPE, its own flights;
    the same walk sunk and sliding (its root moved, its pose not) skates and sinks; means are per reference kind."""
    from sfv.config import load_params

    params = load_params()
    same = quality.measure(walk, walk, 0.0, params, [])
    assert same["body_error_cm"] < 0.2 and same["mpjpe_mm"] < 0.1 and same["penetration_cm"] < 0.5
    assert same["flight_s"] == same["truth_flight_s"] == 0.0 and same["pd_only_s"] > 0
    t = np.arange(walk.n_frames) / walk.fps
    wobble = np.zeros_like(walk.root_pos)
    wobble[:, 0] = 0.05 * np.sin(2 * np.pi * 3 * t)
    wobble[:, 1] = -0.04
    spoiled = quality.measure(replace(walk, root_pos=walk.root_pos + wobble), walk, 0.0, params, [])
    assert abs(spoiled["body_error_cm"] - same["body_error_cm"]) < 0.05  # bodies are measured from their root
    assert spoiled["skate_cm_s"] > same["skate_cm_s"] + 20
    assert spoiled["penetration_cm"] > same["penetration_cm"] + 2.0
    # the mocap's own centre of mass asks the ground for little it cannot give; a 5 cm sway at 3 Hz (18 m/s^2
    # sideways, twice what friction 0.9 gives) is beyond it at most frames
    assert same["outside_cone"] == same["truth_outside_cone"] <= 0.1
    assert spoiled["outside_cone"] > 0.5 and spoiled["truth_outside_cone"] == same["truth_outside_cone"]
    bob = np.zeros_like(walk.root_pos)
    bob[:, 1] = 0.05 * np.sin(2 * np.pi * 4 * t)  # 32 m/s^2 up and down: pulled towards the floor faster than g
    standing = np.ones(walk.n_frames, dtype=bool)
    assert quality.outside_friction_cone(replace(walk, root_pos=walk.root_pos + bob), standing, friction=10.0) > 0.3
    assert quality.outside_friction_cone(walk, ~standing, friction=0.9) == 0.0  # nothing stands: nothing to ask
    rows = [{"clip": c, "reference": k, **same} for c in ("walk", "walk_portrait") for k in ("a", "b")]
    rows[0]["body_error_cm"] = 10.0
    means = quality.summary(rows, ["walk"])
    assert means["a"]["clips"] == 1 and means["a"]["body_error_cm"] == 10.0 and means["b"]["body_error_cm"] < 0.2


def _turned(motion, angle: np.ndarray):
    """The motion turned about the vertical (y) by `angle` (T,) radians at each frame: root and heading together."""
    from sfv import rotations

    q = rotations.from_axis_angle(np.array([0.0, 1.0, 0.0]), angle)
    return replace(
        motion, root_rot=rotations.multiply(q, motion.root_rot), root_pos=rotations.rotate(q, motion.root_pos)
    )


def test_a_turn_made_at_the_wrong_time_is_a_heading_error_a_constant_turn_is_not(walk):
    """The body error and MPJPE face each frame forward and cannot see when a body turns; the heading error can. The
    walk turned as a whole (a camera's unknown azimuth) has none; turned back and forth by 20 degrees (a yaw that
    stalls and bursts) it has the mean of |20 sin|, about 12.7 degrees; frames where the root leans over (a flip) are
    left out, and with none upright it is 0."""
    t = np.arange(walk.n_frames) / walk.fps
    assert quality.heading_error(walk, walk) < 1e-6
    assert quality.heading_error(_turned(walk, np.full(walk.n_frames, 2.0)), walk) < 1e-4
    swaying = _turned(walk, np.radians(20.0) * np.sin(2 * np.pi * t / t[-1]))
    assert 11.0 < quality.heading_error(swaying, walk) < 14.0
    from sfv import rotations

    over = rotations.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.full(walk.n_frames, np.pi / 2))  # forward axis up
    flipped = replace(walk, root_rot=rotations.multiply(walk.root_rot, over))
    assert quality.heading_error(flipped, walk) == 0.0
    half = walk.n_frames // 2  # flipped over its first half, swaying over all: only the upright half is measured
    mixed = replace(swaying, root_rot=np.concatenate([flipped.root_rot[:half], swaying.root_rot[half:]]))
    later = slice(half, None)

    def second_half(m):
        return replace(m, root_pos=m.root_pos[later], root_rot=m.root_rot[later], pose=m.pose[later])

    expected = quality.heading_error(second_half(swaying), second_half(walk))
    assert expected > 1.0 and quality.heading_error(mixed, walk) == pytest.approx(expected, abs=1e-6)


def test_a_truth_at_another_frame_rate_is_measured_at_the_references_frames():
    """The jump's mocap runs at 60 fps and its video at 30: the truth sampled at the reference's frames is measured
    at the reference's rate (its foot speeds, plants, flights and accelerations), so the same motion at 30 fps
    measured against its 60 fps self finds the truth's figures equal to its own."""
    from sfv.config import load_params

    jump = load_mocap("jump")
    assert jump.fps == pytest.approx(60.0, rel=0.01)
    at_30 = jump.resample(30.0)
    same = quality.measure(at_30, jump, 0.0, load_params(), [])
    assert same["flight_s"] > 0.3 and same["truth_flight_s"] == same["flight_s"]
    assert same["truth_outside_cone"] == same["outside_cone"]
    # the skate is measured where the truth's feet are planted: the same frames as the 30 fps motion's own
    assert same["skate_cm_s"] == quality.measure(at_30, at_30, 0.0, load_params(), [])["skate_cm_s"]


def test_on_a_scene_the_feet_stand_on_the_level_under_them_and_the_drop_is_one_flight():
    """A jump off a 0.4 m platform (the true motion the kit renders as jump_off_platform): measured from the floor,
    the feet on the platform are never planted and the drop is no flight; measured from the level under each body
    (`scene_ground`), they stand on the platform until the take-off, the flight runs to the landing, and the
    physical step keeps the platform feet on it."""
    from sfv.imitate.physical import scene_ground
    from sfv.render.platform import first_flight, platform_drop

    jump = load_mocap("jump")
    dropped, _ = platform_drop(jump, 0.4, 0.15)
    takeoff, landing = first_flight(jump)
    foot = standing_foot_height(dropped.skeleton)
    ground = scene_ground(dropped, foot, [], "off_a_box")
    assert isinstance(ground, np.ndarray) and ground.shape == (dropped.n_frames, len(dropped.skeleton.bodies))
    flat = contact_phases(dropped, foot)
    assert not flat[: takeoff - 5].any()  # 0.4 m above the floor: "in the air"
    on_scene = contact_phases(dropped, foot, ground=ground)
    assert on_scene[5 : takeoff - 5].all(axis=1).mean() > 0.8  # both feet down on the platform before the leap
    air = flights(airborne(dropped, on_scene, ground=ground))
    assert len(air) == 1 and abs(air[0][0] - takeoff) <= 3 and abs(air[0][1] - landing) <= 3, (air, takeoff, landing)
    physical, report = make_physical(dropped, foot, PhysicalReference(), ground=ground)
    ((start, end),) = report["flights"]  # the feet still on a level at the push-off and the touch-down are no flight
    assert abs(start - takeoff) <= 2 and abs(end - landing) <= 2, (report["flights"], takeoff, landing)
    feet = [dropped.skeleton.index(f) for f in dropped.skeleton.settings["feet"]]
    before, after = dropped.body_positions()[0], physical.body_positions()[0]
    assert np.abs(after[: takeoff - 5, feet, 1] - before[: takeoff - 5, feet, 1]).max() < 0.03
    assert scene_ground(load_mocap("walk"), foot, [], "walk") == 0.0  # one level: the floor, as on flat ground


def test_a_joint_flipped_about_its_bone_is_a_fast_joint_spin_the_walk_has_none(walk):
    """A fit of positions can flip a straight limb about its own bone between two frames; `joint_spin` is the
    fastest any joint turns. The walk's joints turn at a few rad/s; its right shoulder turned half a turn about
    one axis from the middle frame on turns by about pi in one frame (its own swing there aside), and a flip
    spread evenly over 10 frames by a tenth of that."""
    from sfv import rotations

    assert 2.0 < quality.joint_spin(walk) < 20.0
    sl = walk.skeleton.dof_slices["right_shoulder"]
    half = walk.n_frames // 2
    axis = np.array([0.0, 1.0, 0.0])

    def twisted(angles):
        pose = walk.pose.copy()
        pose[:, sl] = rotations.multiply(pose[:, sl], rotations.from_axis_angle(axis, angles))
        return replace(walk, pose=pose)

    step = np.where(np.arange(walk.n_frames) >= half, np.radians(179.0), 0.0)
    assert quality.joint_spin(twisted(step)) > 0.9 * np.radians(179.0) * walk.fps
    ramp = np.radians(179.0) * np.clip((np.arange(walk.n_frames) - half) / 10.0, 0.0, 1.0)
    assert quality.joint_spin(twisted(ramp)) < 0.12 * np.radians(179.0) * walk.fps + quality.joint_spin(walk)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_a_stance_the_contact_test_missed_is_found_where_the_body_is_held_up():
    """The mocap run with each foot's stance taken out of its plants (what a stance foot reconstructed high and
    sliding does to the low-and-slow test): the frames where the centre of mass does not fall give the stance back
    to that foot, and the flights either side stay in the air."""
    run = load_mocap("run")
    foot = standing_foot_height(run.skeleton)
    truth = contact_phases(run, foot)
    in_flight = np.zeros(run.n_frames, dtype=bool)
    for a, b in flights(airborne(run, truth)):
        in_flight[a + 1 : b - 1] = True  # its inner frames: a 30 fps take-off or landing frame is either
    assert in_flight.any()
    for f in range(truth.shape[1]):
        missed = truth.copy()
        missed[:, f] = False
        back = pushed_plants(run, missed, foot)
        assert _overlap(back[:-1, f], truth[:-1, f]) > 0.7, (f, np.flatnonzero(back[:, f]), np.flatnonzero(truth[:, f]))
        assert not back[in_flight].any()
        assert (back[:, 1 - f] | truth[:, 1 - f] == truth[:, 1 - f])[:-1].all()  # the other foot left as it was


def test_a_jumps_flight_gets_no_plant_and_a_looped_clips_last_frame_shares_its_first_ones_plants():
    """In a jump's flight the body falls at g: nothing holds it up, no plant is added. A looped run's last frame is
    its first one again: it stands on the same foot, so that the flight before the seam lands there and is one."""
    jump = load_mocap("jump")
    foot = standing_foot_height(jump.skeleton)
    planted = contact_phases(jump, foot)
    assert flights(airborne(jump, planted))
    kept = pushed_plants(jump, planted, foot)
    assert (kept[:-1] == planted[:-1]).all() and (kept[-1] == planted[-1] | (planted[0] & (jump.loop == "wrap"))).all()
    run = load_mocap("run")
    planted = contact_phases(run, foot)
    assert run.loop == "wrap" and planted[0].any() and not planted[-1].any()
    seamed = pushed_plants(run, planted, foot)
    assert (seamed[-1] == planted[0]).all() and (seamed[:-1] == planted[:-1]).all()
    before, after = flights(airborne(run, planted)), flights(airborne(run, seamed))
    assert len(after) == len(before) + 1 and after[-1][1] == run.n_frames - 1


def test_plants_from_push_is_off_unless_asked():
    """The physical step finds the missed stance only when `plants_from_push` asks: off by default (every shipped
    reference as it was), the run's second foot, its plants taken out, stays unplanted and its stride has no flight."""
    run = load_mocap("run")
    foot = standing_foot_height(run.skeleton)
    missed = contact_phases(run, foot)
    missed[:, 1] = False
    _, off = make_physical(run, foot, PhysicalReference(iterations=3), feet_planted=missed)
    _, on = make_physical(run, foot, PhysicalReference(iterations=3, plants_from_push=True), feet_planted=missed)
    name = run.skeleton.settings["feet"][1]
    assert off["plants"][name] == [] and on["plants"][name] and on["flights"] and not off["flights"]
