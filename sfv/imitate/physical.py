"""A reference made physically consistent, between the reconstruction and the imitation: what physics knows and a
monocular video cannot show.

From the reconstruction's feet (low and slow: `contact_phases`), each foot's planted phases; a run of frames with
nothing planted is a flight only where the body falls (`falls`). Then one optimisation
over the whole clip (the reconstruction's variables: root position and rotation, every joint's rotation), staying as
close as it can to the reconstructed bodies while
- a planted foot stays put (no skating) at its standing height (no sinking, no floating);
- no body goes under the floor (with `floor_shapes`, no body that may not touch it reaches it with its collision
  shapes either, `sfv.imitate.body_shapes`: a head 17 cm beyond its neck joint);
- where no foot is planted (a flight), the centre of mass follows a ballistic arc: its vertical acceleration is
  gravity's and its horizontal velocity constant. The flight's timing comes from the video (when the feet leave
  and land), and ballistics then fixes its height, which depth from one camera gets wrong. With
  `ballistic_from_speed` the arc runs between the centre of mass's speed peaks (`ballistic_span`: the toes push
  after the ankles leave), and `max_push` bounds how hard the ground pushes, and that it never pulls, elsewhere.
- with `free_fall_flights`, frames where every contact body is off the ground and the body falls at nearly g are a
  flight whatever the contact test says (`free_falls`): at a hop's apex a foot stands still in the image, and a
  plant there would hold it in the air while the body falls.
- a one-shot clip that starts or ends with nothing planted while its body does not fall (a plant the contact
  test missed: a foot that seemed too fast in the first frames) stands on its lowest foot there
  (`grounded_ends`), so that the character does not start in the air.
- with `plants_from_push`, inside a run with nothing planted, frames where the centre of mass is held up (it falls
  slower than `flight_fall` of g) stand on the lowest foot (`pushed_plants`): a run's stance foot that depth put
  high and sliding is still the one the body rests on.
On a clip filmed on a scene of several levels (`imitate.clips.<clip>.scene`), "the floor" under each body is the
level under it (`scene_ground`): the feet planted on a wall top are held there, and the leap off it is a flight.
Kinematics only (the kit's torch forward kinematics), no simulator: `tests/test_physical_reference.py` and
the end-to-end stage (`sfv.analysis.reference_quality`) measure what it changes against the ground truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from sfv.imitate.body_shapes import collision_spheres
from sfv.imitate.contacts import contact_bodies, runs_of
from sfv.imitate.joint_turns import slow_joint_turns
from sfv.kinematics import centre_of_mass, chain
from sfv.motion import Motion
from sfv.reconstruct.contact import steady_speed
from sfv.settings.imitate import PhysicalReference

GRAVITY = 9.81
#: how far over the ground a body that may not touch it keeps its shapes (`floor_shapes`): the simulator counts a
#: touch within its contact margin, and the fit's penalty leaves a few millimetres
SHAPE_CLEARANCE_M = 0.02


def _cleaned(planted: np.ndarray, settings: PhysicalReference) -> np.ndarray:
    """Planted phases (T, C) with breaks of at most `max_gap_frames` bridged and runs shorter than
    `min_contact_frames` dropped."""
    planted = planted.copy()
    for f in range(planted.shape[1]):
        for a, b in runs_of(~planted[:, f]):
            if a > 0 and b < len(planted) and b - a <= settings.max_gap_frames:
                planted[a:b, f] = True
        for a, b in runs_of(planted[:, f]):
            if b - a < settings.min_contact_frames:
                planted[a:b, f] = False
    return planted


#: on a scene, a contact body this close to the level under it (m, over its rest height) bears weight however fast
#: it seems to move: a reconstruction's depth jitter makes a foot on a wall top look too fast to be planted, and
#: the ballistic arc would then start on the wall (the scene's plants themselves use `contact_height`)
ON_ITS_LEVEL_M = 0.05


def contact_phases(
    motion: Motion,
    foot_height: float,
    settings: PhysicalReference = PhysicalReference(),
    allowed: list[str] = (),
    ground: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Which contact bodies (T, C: the feet, then `allowed`) are planted: within `contact_height` of their rest
    height over the ground under them (`ground`: (T, B) per body, or one height), slower than `contact_speed`, for at
    least `min_contact_frames` frames in a row (breaks of at most `max_gap_frames` bridged)."""
    pos, _ = motion.body_positions()
    sk = motion.skeleton
    up = "xyz".index(sk.up_axis)
    index, rest = contact_bodies(motion, foot_height, allowed)
    bodies = pos[:, index]
    flat = [a for a in range(3) if a != up]
    planted = (bodies[..., up] - _under(ground, index) - rest < settings.contact_height) & (
        steady_speed(bodies[..., flat], motion.fps) < settings.contact_speed
    )
    return _cleaned(planted, settings)


#: BlazePose landmarks of each foot (ankle, heel, toe), by the side the character's foot body is named for
FOOT_LANDMARKS = {"left": (27, 29, 31), "right": (28, 30, 32)}


def image_contact_phases(
    motion: Motion,
    keypoints_2d: np.ndarray,
    detected: np.ndarray,
    foot_height: float,
    settings: PhysicalReference = PhysicalReference(),
    ground: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Which feet (T, F) are planted, read from the video: a planted foot stands still in the image (a fixed camera),
    and the 2D keypoints are far more precise than the reconstruction's depth. A foot is planted where its landmarks
    (ankle, heel, toe: `keypoints_2d` (T, 33, 2) of the motion's frames, `detected` (T,)) move less than
    `settings.image_speed` torso lengths a second, and it is not far above the ground under it in the reconstruction
    (within twice `contact_height`); breaks and short runs are cleaned as in `contact_phases`."""
    sk = motion.skeleton
    pos, _ = motion.body_positions()
    up = "xyz".index(sk.up_axis)
    torso = np.linalg.norm(keypoints_2d[:, [11, 12]].mean(1) - keypoints_2d[:, [23, 24]].mean(1), axis=-1)
    torso = np.where(detected, np.maximum(torso, 1.0), np.nan)
    planted = np.zeros((motion.n_frames, len(sk.settings["feet"])), dtype=bool)
    for f, name in enumerate(sk.settings["feet"]):
        side = "left" if "left" in name else "right"
        foot = keypoints_2d[:, list(FOOT_LANDMARKS[side])].mean(1)
        speed = steady_speed(foot, motion.fps) / torso
        low = pos[:, sk.index(name), up] - _under(ground, sk.index(name)) - foot_height < 2 * settings.contact_height
        planted[:, f] = (speed < settings.image_speed) & low & detected
    return _cleaned(planted, settings)


def airborne(
    motion: Motion,
    planted: np.ndarray,
    clearance: float = 0.15,
    allowed: list[str] = (),
    ground: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Frames (T,) where nothing bears weight: no contact body planted, and every other body more than `clearance`
    above the ground under it (a roll's back on the ground is no flight)."""
    pos, _ = motion.body_positions()
    sk = motion.skeleton
    up = "xyz".index(sk.up_axis)
    contact = set(contact_bodies(motion, 0.0, allowed)[0])
    others = [i for i in range(len(sk.bodies)) if i not in contact]
    return ~planted.any(axis=1) & ((pos[:, others, up] - _under(ground, others)).min(axis=1) > clearance)


def _under(ground: np.ndarray | float, bodies):
    """The ground height under the given bodies (`ground`: (T, B) per frame and body, or one height for all)."""
    return ground[:, bodies] if isinstance(ground, np.ndarray) else ground


def flights(air: np.ndarray, min_frames: int = 4) -> list[tuple[int, int]]:
    """[start, end) of each run of at least `min_frames` airborne frames (`air`, T) between two contacts (a clip that
    starts or ends in the air has no take-off or landing to time the arc by)."""
    return [(a, b) for a, b in runs_of(air) if a > 0 and b < len(air) and b - a >= min_frames]


def falls(motion: Motion, span: tuple[int, int], share: float) -> bool:
    """Whether the motion's centre of mass comes down over `span` ([start, end) with nothing planted, and the frames
    either side): a parabola fitted to its height accelerates downwards by at least `share` of gravity. A body in
    flight falls at g, and a reconstruction, however its depth errs, shows a real jump rising and falling; a run
    where the body does not fall is a plant the contact test missed (a foot standing or skating higher than
    `contact_height`), and a ballistic arc there would throw the body down and up again."""
    lo, hi = max(span[0] - 1, 0), min(span[1] + 1, motion.n_frames)  # a run at an end of the clip: what there is
    pos, rot = motion.body_positions()
    up = "xyz".index(motion.skeleton.up_axis)
    com = centre_of_mass(motion.skeleton, torch.as_tensor(pos[lo:hi]), torch.as_tensor(rot[lo:hi]))
    t = np.arange(hi - lo) / motion.fps
    return 2.0 * np.polyfit(t, com.numpy()[:, up], 2)[0] <= -share * GRAVITY


def ballistic_span(height: np.ndarray, span: tuple[int, int]) -> tuple[int, int]:
    """The frames [first, last] of a flight `span` ([start, end): nothing planted) where the centre of mass
    (`height`, T, of the reconstruction) is free: from the frame after its upward speed peaks near the take-off
    to the one where its downward speed peaks near the landing. The contact test times a flight by the ankles, but
    a take-off's toes push on after the ankle has lifted and a landing's knees brake before the ankle is low and
    slow: a ballistic arc over those frames too would ask for a faster take-off, from lower, than the body made
    (the spinkick's: 3.0 m/s against its truth's 2.1). Each end moves by at most a third of the flight, and only
    inwards."""
    a, b = span
    speed = np.diff(height)  # speed[i]: from frame i to i + 1
    reach = max((b - a) // 3, 1)
    take_off = a - 1 + int(np.argmax(speed[a - 1 : a - 1 + reach]))
    landing = b - reach + int(np.argmin(speed[b - reach : b + 1]))
    return take_off + 1, landing


def held_to_arc(planted: np.ndarray, flights: list[tuple[int, int]], arcs: list[tuple[int, int]]) -> np.ndarray:
    """`planted` (T, C) with the feet planted on the frame before each flight ([start, end)) held until its ballistic
    arc ([first, last]) starts, and those planted on the frame after it held from where the arc ends: outside an arc
    the centre of mass is pushed or braked, which only a foot on the ground can do, and a take-off's toes push on a
    foot that stands still. The reconstruction's slides there (spinkick's take-off foot: 11 cm in the two frames
    before its arc, its truth's 1 cm)."""
    held = planted.copy()
    for (a, b), (first, last) in zip(flights, arcs):
        if a > 0:
            held[a:first, planted[a - 1]] = True
        if b < len(planted):
            held[last + 1 : b, planted[b]] = True
    return held


def pushed_plants(
    motion: Motion,
    planted: np.ndarray,
    foot_height: float,
    settings: PhysicalReference = PhysicalReference(),
    ground: np.ndarray | float = 0.0,
) -> np.ndarray:
    """`planted` (T, C: the feet first) with the plants the contact test missed inside runs with nothing planted: where
    the centre of mass falls slower than `flight_fall` of g for at least `min_contact_frames` frames in a row, the
    ground holds it up, through the foot lowest over those frames (if within twice `contact_height` of its standing
    height). A run's stance foot reconstructed 7 to 15 cm up and sliding at 2 m/s (its truth's: on the floor, under
    1 m/s) fails the low-and-slow test, and the whole stride, stance and both flights, would be one run that does
    not fall: no plant, no flight. The body's fall tells the stance from the flights that the feet do not. On a looped
    clip the last frame is the first one again (moved by the travel) and shares its plants, so that a flight that
    ends at the seam lands there (else, touching the clip's end, it would get no arc)."""
    sk = motion.skeleton
    up = "xyz".index(sk.up_axis)
    pos, rot = motion.body_positions()
    com = centre_of_mass(sk, torch.as_tensor(pos), torch.as_tensor(rot)).numpy()[:, up]
    lift = np.full(motion.n_frames, -np.inf)  # vertical acceleration; the ends have none
    lift[1:-1] = np.diff(com, 2) * motion.fps**2
    pushed = lift > -settings.flight_fall * GRAVITY
    feet = [sk.index(n) for n in sk.settings["feet"]]
    height = pos[:, feet, up] - _under(ground, feet) - foot_height
    out = planted.copy()
    if motion.loop == "wrap":
        out[-1] |= out[0]
    for a, b in runs_of(~out.any(axis=1)):
        for c, d in runs_of(pushed[a:b]):
            c, d = a + c, a + d
            if d - c < settings.min_contact_frames:
                continue
            lowest = int(np.argmin(height[c:d].mean(axis=0)))
            if height[c:d, lowest].mean() < 2 * settings.contact_height:
                out[c:d, lowest] = True
    return out


#: share of g the centre of mass must fall at over a clip's first or last frames for them to be in the air: more than
#: `flight_fall` asks between two plants, since a standing crouch there falls too (the jump's dip: about 0.3 g)
IN_THE_AIR_SHARE = 0.75


def free_falls(
    motion: Motion,
    foot_height: float,
    settings: PhysicalReference = PhysicalReference(),
    allowed: list[str] = (),
    ground: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Frames (T,) in the air whatever the contact test says: runs of at least `min_flight_frames` where every contact
    body (the feet, then `allowed`) is more than `ON_ITS_LEVEL_M` above its rest height over the ground under it and
    the centre of mass falls at `IN_THE_AIR_SHARE` of g or more (`falls`). A planted foot can push the body up, never
    hold it while it falls at g: a foot still in the image at a hop's apex is in the air."""
    pos, _ = motion.body_positions()
    up = "xyz".index(motion.skeleton.up_axis)
    index, rest = contact_bodies(motion, foot_height, allowed)
    off = (pos[:, index, up] - _under(ground, index) - rest > ON_ITS_LEVEL_M).all(axis=1)
    air = np.zeros(motion.n_frames, dtype=bool)
    for a, b in runs_of(off):
        if b - a >= settings.min_flight_frames and falls(motion, (a, b), IN_THE_AIR_SHARE):
            air[a:b] = True
    return air


def grounded_ends(
    motion: Motion,
    planted: np.ndarray,
    foot_height: float,
    settings: PhysicalReference = PhysicalReference(),
    ground: np.ndarray | float = 0.0,
) -> list[tuple[int, int, int]]:
    """The runs at a one-shot clip's start and end with nothing planted (`planted`, T x C, the feet first) where the
    body does not fall at nearly g (`falls`, `IN_THE_AIR_SHARE`): there the contact test missed a plant, and the foot
    lowest over the run, if within `contact_height` of its standing height, bears the weight. (foot, start, end) of
    each; none on a looped clip, whose ends meet."""
    if motion.loop == "wrap":
        return []
    sk = motion.skeleton
    up = "xyz".index(sk.up_axis)
    feet = [sk.index(n) for n in sk.settings["feet"]]
    height = motion.body_positions()[0][:, feet, up] - _under(ground, feet) - foot_height
    ends = []
    for a, b in runs_of(~planted.any(axis=1)):
        if (a > 0 and b < len(planted)) or (a == 0 and b == len(planted)):
            continue  # inside the clip (a flight, or nothing), or nothing planted anywhere
        if falls(motion, (a, b), IN_THE_AIR_SHARE):
            continue  # the clip starts or ends in the air
        lowest = int(np.argmin(height[a:b].mean(axis=0)))
        if height[a:b, lowest].mean() < settings.contact_height:
            ends.append((lowest, a, b))
    return ends


def make_physical(
    motion: Motion,
    foot_height: float,
    settings: PhysicalReference = PhysicalReference(),
    allowed: list[str] = (),
    feet_planted: np.ndarray | None = None,
    ground: np.ndarray | float = 0.0,
) -> tuple[Motion, dict]:
    """The motion made physically consistent (see the module's docstring), and what was found and changed: the
    planted phases, the flights, how far the bodies moved. `allowed`: bodies besides the feet that bear weight
    (the clip's `ground_contacts`). `feet_planted` (T, F): the feet's planted phases when known otherwise (from the
    video: `image_contact_phases`); by default read from the motion's own feet. `ground`: the height of the surface
    under each body (T, B) on a scene of several levels (a foot planted on a wall top stands on the wall top), or
    one height: the floor."""
    from sfv.reconstruct.fit import MotionVariables

    sk = motion.skeleton
    up = "xyz".index(sk.up_axis)
    flat = [a for a in range(3) if a != up]
    planted = contact_phases(motion, foot_height, settings, allowed, ground)
    if feet_planted is not None:
        planted[:, : feet_planted.shape[1]] = feet_planted
    if settings.free_fall_flights:
        planted[free_falls(motion, foot_height, settings, allowed, ground)] = False
    if settings.plants_from_push:
        planted = pushed_plants(motion, planted, foot_height, settings, ground)
    air = airborne(motion, planted, allowed=allowed, ground=ground)
    feet, rest = contact_bodies(motion, foot_height, allowed)
    if isinstance(ground, np.ndarray):  # on a scene, a foot on its level is no flight, even where depth jitter
        # makes it look too fast to be planted (a push-off from a wall top is not ballistic yet)
        height = motion.body_positions()[0][:, feet, up] - ground[:, feet] - rest
        air &= ~(height < ON_ITS_LEVEL_M).any(axis=1)
    air = [
        span
        for span in flights(air, settings.min_flight_frames)
        if not settings.flight_fall or falls(motion, span, settings.flight_fall)
    ]
    if settings.ballistic_from_speed and air:
        pos0, rot0 = motion.body_positions()
        com0 = centre_of_mass(sk, torch.as_tensor(pos0), torch.as_tensor(rot0)).numpy()[:, up]
        free = [ballistic_span(com0, span) for span in air]
        if settings.plants_to_arc:
            planted = held_to_arc(planted, air, free)
    else:
        free = [(a, b) for a, b in air]
    in_arc = torch.zeros(max(motion.n_frames - 2, 0), dtype=torch.bool)  # second differences at frames 1..T-2
    for a, b in free:
        in_arc[a - 1 : b] = True
    others = [i for i in range(len(sk.bodies)) if i not in feet]
    # a contact body rests at its rest height over the ground under it (the bodies move by centimetres here, so the
    # ground under each stays the one under its reconstructed place)
    rest_t = torch.as_tensor(rest + _under(ground, feet))
    floor_t = torch.as_tensor(_under(ground, others))
    dt = 1.0 / motion.fps
    variables = MotionVariables.from_motion(motion)
    masses = torch.as_tensor(sk.masses, dtype=torch.float64)
    com_local = torch.as_tensor(sk.coms, dtype=torch.float64)
    with torch.no_grad():
        start = variables.positions().clone()
    plants = [(f, a, b) for f in range(len(feet)) for a, b in runs_of(planted[:, f])]
    standing = planted.copy()  # held at their standing height: the plants, and a missed one at an end of the clip
    ends = grounded_ends(motion, planted, foot_height, settings, ground) if settings.grounded_ends else []
    for f, a, b in ends:
        standing[a:b, f] = True
    standing_t = torch.as_tensor(standing)
    cyclic = motion.loop == "wrap"

    shapes = collision_spheres(sk).of(others) if settings.floor_shapes else None
    if shapes is not None:  # each sphere's lowest point stays SHAPE_CLEARANCE_M over the ground under its body
        shape_floor_t = torch.as_tensor(_under(ground, list(shapes.body)) + SHAPE_CLEARANCE_M) + torch.as_tensor(
            shapes.radius
        )
        shape_centre_t = torch.as_tensor(shapes.centre)

    def bodies_and_com() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rotvecs = {b.name: variables.joint_rotvec[:, k] for k, b in enumerate(variables.spherical)}
        for k, b in enumerate(variables.revolute):
            rotvecs[b.name] = variables.angles[:, k : k + 1] * torch.as_tensor(b.axis, dtype=torch.float64)
        import roma

        local = roma.rotvec_to_rotmat(torch.stack([rotvecs[b.name] for b in sk.joints], dim=1))
        pos, mats = chain(sk, variables.root_pos, roma.rotvec_to_rotmat(variables.root_rotvec), local)
        body_com = pos + (mats @ com_local[..., None])[..., 0]
        return pos, (body_com * masses[:, None]).sum(-2) / masses.sum(), mats

    def loss() -> torch.Tensor:
        pos, com, mats = bodies_and_com()
        total = ((pos - start) ** 2).sum(-1).mean()
        foot_pos = pos[:, feet]
        for f, a, b in plants:
            horizontal = foot_pos[a:b, f][:, flat]
            total = total + settings.plant_weight * ((horizontal - horizontal.mean(0)) ** 2).sum(-1).mean()
        height = foot_pos[..., up] - rest_t
        total = total + settings.height_weight * (height[standing_t] ** 2).sum() / max(standing.sum(), 1)
        total = (
            total
            + settings.floor_weight
            * (torch.relu(-height) ** 2 + torch.relu(floor_t - pos[:, others, up]).pow(2).sum(-1, keepdim=True)).mean()
        )
        if shapes is not None:
            centres = pos[:, shapes.body] + (mats[:, shapes.body] @ shape_centre_t[..., None])[..., 0]
            total = total + settings.floor_weight * torch.relu(shape_floor_t - centres[..., up]).pow(2).sum(-1).mean()
        for a, b in free:
            arc = com[a - 1 : b + 1]  # accelerations at frames a..b: from the take-off to the landing
            accel = (arc[2:] - 2 * arc[1:-1] + arc[:-2]) / dt**2
            target = torch.zeros_like(accel)
            target[:, up] = -GRAVITY
            total = total + settings.flight_weight * ((accel - target) ** 2).sum(-1).mean()
        if settings.max_push:  # outside the arcs the ground pushes the body up, never down, and at most max_push g
            lift = (com[2:, up] - 2 * com[1:-1, up] + com[:-2, up]) / dt**2
            total = (
                total
                + settings.flight_weight
                * (torch.relu(-GRAVITY - lift) ** 2 + torch.relu(lift - settings.max_push * GRAVITY) ** 2)[
                    ~in_arc
                ].mean()
            )
        if cyclic:  # the cycle's last frame stays its first one moved by the travel, as the loop was closed
            seam = (pos[-1] - pos[0]) - (start[-1] - start[0])
            total = total + settings.plant_weight * (seam**2).sum(-1).mean()
        accel = (pos[2:] - 2 * pos[1:-1] + pos[:-2]) / dt**2
        return total + settings.smoothness_weight * (accel**2).sum(-1).mean()

    optimiser = torch.optim.LBFGS(
        variables.parameters(), lr=1.0, max_iter=settings.iterations, line_search_fn="strong_wolfe"
    )

    def closure():
        optimiser.zero_grad()
        value = loss()
        value.backward()
        return value

    optimiser.step(closure)
    physical = variables.to_motion(motion.fps, name=motion.name, loop=motion.loop)
    physical = replace(physical, name=motion.name)
    with torch.no_grad():
        moved = float((variables.positions() - start).norm(dim=-1).mean())
    names = [sk.bodies[i].name for i in feet]
    report = {
        "planted_fraction": round(float(planted.mean()), 3),
        "plants": {n: [[int(a), int(b)] for a, b in runs_of(planted[:, f])] for f, n in enumerate(names)},
        "flights": [[int(a), int(b)] for a, b in air],
        "flight_seconds": round(sum(b - a for a, b in air) * dt, 3),
        "bodies_moved_m": round(moved, 4),
    }
    if settings.ballistic_from_speed:
        report["ballistic_arcs"] = [[int(a), int(b)] for a, b in free]  # accelerations at a..b are g's
    if ends:
        report["grounded_ends"] = [[names[f], int(a), int(b)] for f, a, b in ends]
    return physical, report


def physical_step(
    settings: PhysicalReference,
    clip: str,
    ground_contacts: list[str] = (),
    keypoints: tuple[np.ndarray, np.ndarray] | None = None,
    scene: bool = False,
) -> Callable[[Motion, int], tuple[Motion, dict]] | None:
    """The step `reference_clip.prepare_reference` runs on a grounded reference (None when `settings` is off):
    `make_physical` with `ground_contacts` bearing weight besides the feet, the feet's contacts read where
    `settings.contacts` says (`keypoints`: the clip's 2D keypoints (T, 33, 2) and detections (T,), every
    reconstructed frame, for contacts from the video). `scene`: the clip stands on several levels
    (imitate.clips.<clip>.scene): each body's ground is the level under it (sfv.imitate.scene), so that the feet
    planted on a wall top are held there and a leap off it is a flight; a reference no scene explains is left to
    the stage's scene check, which names its frames. With `settings.joint_turn_weight`, the reference is first
    refitted so that no shoulder or hip spins about its own bone (sfv.imitate.joint_turns)."""
    from sfv.imitate.reference_clip import ReferenceError, standing_foot_height

    if not settings.enabled:
        return None
    if settings.contacts == "video" and keypoints is None:
        raise ReferenceError(
            f"clip {clip!r}: imitate.physical.contacts is 'video' but the clip has no 2D keypoints here: run its "
            f"pose estimation (`dvc repro pose@{clip}`), or read contacts from the reconstruction (contacts: "
            "reconstruction)"
        )

    def step(reference: Motion, first: int) -> tuple[Motion, dict]:
        foot = standing_foot_height(reference.skeleton)
        ground = scene_ground(reference, foot, list(ground_contacts), clip) if scene else 0.0
        feet_planted = None
        if keypoints is not None and settings.contacts == "video":
            points, detected = keypoints
            frames = slice(first, first + reference.n_frames)
            if len(points[frames]) != reference.n_frames:
                raise ReferenceError(
                    f"clip {clip!r}: its 2D keypoints have {len(points)} frames, fewer than the reconstruction's "
                    f"{first + reference.n_frames}: re-run its pose estimation and reconstruction "
                    f"(`dvc repro reconstruct@{clip}`)"
                )
            feet_planted = image_contact_phases(
                reference, points[frames], np.asarray(detected[frames], bool), foot, settings, ground
            )
        turns = {}
        if settings.joint_turn_weight:  # first: the flips it undoes move no body, so contacts and flights stay
            reference, turns = slow_joint_turns(reference, settings.joint_turn_weight)
        physical, report = make_physical(reference, foot, settings, list(ground_contacts), feet_planted, ground)
        return physical, {**report, **({"joint_turns": turns} if turns else {})}

    return step


def scene_ground(motion: Motion, foot_height: float, ground_contacts: list[str], clip: str) -> np.ndarray | float:
    """The height of the level under each body (T, B) of a motion that stands on a scene (sfv.imitate.scene); 0, the
    floor, when it has one level, or when its scene cannot be built (the stage's scene check then refuses it, naming
    the frames)."""
    from sfv.imitate.scene import SceneError, find_scene

    feet = motion.skeleton.settings["feet"]
    try:
        found = find_scene(motion, foot_height, [b for b in ground_contacts if b not in feet], clip=clip)
    except SceneError:
        return 0.0
    return 0.0 if found.flat else found.height(motion.body_positions()[0])
