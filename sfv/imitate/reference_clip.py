"""A reconstructed motion made into a reference a policy can track: trimmed, grounded, looped, checked.

A motion reconstructed from a video is short, is not cyclic, sits in the camera's world (its floor is
where the reconstruction put it, often a few centimetres off), and may show more than flat ground
can host (a man stepping off a wall). Training on it as it is would teach a policy to float, to sink,
or to chase a jump in the reference that no body can make. So, before any training:

1. **trim** to the frames asked for (`imitate.clips.<clip>.frames`);
2. **check** it is long enough (a NaN was refused when it was read);
3. **ground** it: one vertical shift puts the lowest foot of the clip at the height the character's feet
   have when it stands (its rest pose at its spawn height), so the feet meet the simulated floor;
   a motion whose feet are reconstructed deeper than `sink_tolerance` under its floor is refused, so is
   one with another body under the floor once the feet stand on it;
   then check that it stays on one ground level (the lowest body within a sliding window stays within
   `level_tolerance`: a wall or stairs would change it);
4. **make it physical** (`imitate.physical`, the step `sfv.imitate.physical` gives): planted feet held still on
   the floor, no body under it, the centre of mass on a ballistic arc where nothing touches the ground;
5. **close the loop** of a cyclic clip (`cyclic: true`): the difference between the last frame and the
   first (root height, root orientation, every joint) is spread over the clip, so that repeating it
   neither jumps nor turns; the env then continues it cycle after cycle (`ReferenceTrack`). A one-shot
   clip ends its episodes with its last frame.

Every refusal is a `ReferenceError` naming the clip, the frame and the fix; it is raised before the
training folder is touched, so nothing trained earlier is lost. Kinematics only: no simulator here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from sfv.kinematics import forward_kinematics_np
from sfv.motion import Motion, MotionFormatError, close_loop, load_motion
from sfv.settings.imitate import ImitateClip, ReferenceChecks
from sfv.skeleton import Skeleton


class ReferenceError(ValueError):
    """A reference motion that cannot be imitated; the message names the clip, the frame and the fix."""


def load_reference(path, clip: str) -> Motion:
    """Read a clip's motion; a missing or broken file (NaN, wrong skeleton) is a ReferenceError naming the clip."""
    try:
        return load_motion(path)
    except MotionFormatError as e:
        raise ReferenceError(
            f"clip {clip!r}: {e}. Re-run its reconstruction (`dvc repro reconstruct@{clip}`), "
            f"or trim the bad frames out with imitate.clips.{clip}.frames"
        ) from None


def standing_foot_height(skeleton: Skeleton) -> float:
    """Height of the lowest foot body when the character stands: its rest pose at its spawn height."""
    root = np.array([[0.0, 0.0, 0.0]])
    up = "xyz".index(skeleton.up_axis)
    root[0, up] = float(skeleton.settings["root_height"])
    pos, _ = forward_kinematics_np(skeleton, root, np.array([[0.0, 0.0, 0.0, 1.0]]), skeleton.identity_pose()[None])
    return float(pos[0, foot_indices(skeleton), up].min())


def foot_indices(skeleton: Skeleton) -> list[int]:
    """Indices of the bodies the character stands on (its file's `feet`)."""
    return [skeleton.index(n) for n in skeleton.settings["feet"]]


def trim(motion: Motion, frames: tuple[int, int | None], clip: str) -> Motion:
    """Frames [first, end) of the motion (end None: to its last frame)."""
    first, end = frames
    end = motion.n_frames if end is None else end
    if end > motion.n_frames or first >= motion.n_frames:
        raise ReferenceError(
            f"clip {clip!r}: imitate.clips.{clip}.frames [{first}, {end}) lies outside its "
            f"reconstructed motion, which has {motion.n_frames} frames (0 to {motion.n_frames - 1})"
        )
    return replace(
        motion, root_pos=motion.root_pos[first:end], root_rot=motion.root_rot[first:end], pose=motion.pose[first:end]
    )


def ground_levels(heights: np.ndarray, fps: float, window: float) -> np.ndarray:
    """Per frame, the lowest of `heights` (T,) within `window` seconds around it: the ground it stands on,
    since in that time some body comes down to it (a walk's feet, a cartwheel's hands)."""
    half = max(int(round(0.5 * window * fps)), 0)
    T = len(heights)
    return np.array([heights[max(0, t - half) : min(T, t + half + 1)].min() for t in range(T)])


def motion_ground_levels(motion: Motion, window: float) -> np.ndarray:
    """`ground_levels` of a motion's lowest body per frame."""
    pos, _ = motion.body_positions()
    return ground_levels(pos[..., "xyz".index(motion.skeleton.up_axis)].min(axis=1), motion.fps, window)


def one_level_span(levels: np.ndarray, tolerance: float) -> tuple[int, int]:
    """The longest run of frames [first, end) whose ground levels stay within `tolerance` of each other."""
    best, T = (0, 1), len(levels)
    for first in range(T):
        lo = hi = levels[first]
        end = first + 1
        while end < T and max(hi, levels[end]) - min(lo, levels[end]) <= tolerance:
            lo, hi = min(lo, levels[end]), max(hi, levels[end])
            end += 1
        if end - first > best[1] - best[0]:
            best = (first, end)
    return best


def check_length(motion: Motion, checks: ReferenceChecks, clip: str) -> None:
    """Refuse a reference too short to learn a skill from."""
    if motion.duration < checks.min_seconds:
        raise ReferenceError(
            f"clip {clip!r}: the reference is {motion.n_frames} frames "
            f"({motion.duration:.2f} s at {motion.fps:g} fps), "
            f"shorter than imitate.reference.min_seconds = {checks.min_seconds:g} s: a policy cannot learn a skill "
            f"from it. Imitate more of the clip (imitate.clips.{clip}.frames) or a longer video"
        )


def check_level(motion: Motion, checks: ReferenceChecks, clip: str, first_frame: int = 0) -> None:
    """Refuse a reference that is not on one ground level (frames numbered as in the reconstruction:
    `first_frame` is the trim's start)."""
    levels = motion_ground_levels(motion, checks.level_window)
    if levels.max() - levels.min() > checks.level_tolerance:
        hi, lo = int(np.argmax(levels)), int(np.argmin(levels))
        first, end = one_level_span(levels, checks.level_tolerance)
        raise ReferenceError(
            f"clip {clip!r}: the ground under the body is at {levels[hi]:.2f} m around frame {first_frame + hi} and at "
            f"{levels[lo]:.2f} m around frame {first_frame + lo} (more than imitate.reference.level_tolerance = "
            f"{checks.level_tolerance:g} m apart): the clip was not filmed on one flat ground (a wall, stairs, or a "
            f"bad camera pitch) and a flat floor cannot host it. Imitate one level: imitate.clips.{clip}.frames: "
            f"[{first_frame + first}, {first_frame + end}] is the longest part on one level"
        )


def ground(motion: Motion, checks: ReferenceChecks, clip: str, first_frame: int = 0) -> tuple[Motion, float]:
    """Shift the motion vertically so its lowest foot stands where the character's feet stand; returns the
    grounded motion and the lift (metres, negative = lowered). Feet deeper than `sink_tolerance` under the
    floor are refused, so are other bodies that end up under it."""
    sk = motion.skeleton
    up = "xyz".index(sk.up_axis)
    pos, _ = motion.body_positions()
    feet = pos[:, foot_indices(sk), up]
    t, f = np.unravel_index(int(np.argmin(feet)), feet.shape)
    lift = standing_foot_height(sk) - float(feet[t, f])
    if lift > checks.sink_tolerance:
        raise ReferenceError(
            f"clip {clip!r}: the reference sinks {lift:.2f} m below the floor at frame {first_frame + t} "
            f"({sk.settings['feet'][f]}), deeper than imitate.reference.sink_tolerance = {checks.sink_tolerance:g} m: "
            f"its reconstruction put the ground in the wrong place. Check the clip's reconstruction "
            f"(plots/reconstruct/{clip}/; reconstruct.weights.ground, the camera pitch), trim the frames out "
            f"(imitate.clips.{clip}.frames), or raise sink_tolerance if the motion is right"
        )
    heights = pos[..., up] + lift
    t2, b = np.unravel_index(int(np.argmin(heights)), heights.shape)
    if heights[t2, b] < -checks.sink_tolerance:
        raise ReferenceError(
            f"clip {clip!r}: with its feet on the floor, the reference's {sk.bodies[b].name} is "
            f"{-heights[t2, b]:.2f} m "
            f"under it at frame {first_frame + t2}: the pose there is broken. Trim the frame out "
            f"(imitate.clips.{clip}.frames) or fix the reconstruction (plots/reconstruct/{clip}/)"
        )
    root_pos = motion.root_pos.copy()
    root_pos[:, up] += lift
    return replace(motion, root_pos=root_pos), lift


def check_ground_contacts(motion: Motion, ground_contacts: list[str], clip: str, margin: float = 0.05) -> None:
    """Refuse a reference that puts a body on the ground which the env does not allow there: a touch by a body
    other than the feet and the skill's `ground_contacts` ends the episode (early termination), so no policy could
    get past that frame (a cartwheel's hands). A body is on the ground when its frame comes within `margin` metres
    of the height the feet have when the character stands; a body without collision shapes never touches."""
    sk = motion.skeleton
    up = "xyz".index(sk.up_axis)
    pos, _ = motion.body_positions()
    allowed = set(sk.settings["feet"]) | set(ground_contacts)
    floor = standing_foot_height(sk) + margin
    low = pos[..., up] <= floor
    touching = [b for b, body in enumerate(sk.bodies) if body.name not in allowed and body.collides and low[:, b].any()]
    if touching:
        names = [sk.bodies[b].name for b in touching]
        first = {sk.bodies[b].name: int(np.argmax(low[:, b])) for b in touching}
        when = ", ".join(f"{n} at frame {f} ({f / motion.fps:.2f} s)" for n, f in first.items())
        raise ReferenceError(
            f"clip {clip!r}: the reference puts {when} on the ground, and a touch by a body other than the feet ends "
            f"an episode (early termination), so no policy could get past it. If the skill does touch the ground "
            f"there, allow it: imitate.clips.{clip}.ground_contacts: [{', '.join(names)}] (or imitate.env."
            f"ground_contacts for every clip); if it should not, trim the frames (imitate.clips.{clip}.frames)"
        )


def prepare_reference(
    motion: Motion,
    entry: ImitateClip,
    checks: ReferenceChecks,
    clip: str,
    physical: Callable[[Motion, int], tuple[Motion, dict]] | None = None,
) -> tuple[Motion, dict]:
    """The reference a clip's policy tracks, and what was done to make it (for the notebook and metrics).

    `physical`: the step that makes the grounded, looped reference physically consistent (its frames start at the
    given reconstructed frame): `sfv.imitate.physical.physical_step`."""
    first = entry.frames[0]
    ref = trim(motion, entry.frames, clip)
    check_length(ref, checks, clip)
    ref, lift = ground(ref, checks, clip, first)  # the lowest foot on the floor: on a scene, on its ground level
    if not entry.scene:  # on its scene, the levels are the scene's (sfv.imitate.scene refuses what none explains)
        check_level(ref, checks, clip, first)
    ref = close_loop(ref) if entry.cyclic else replace(ref, loop="none")
    made = None
    if physical is not None:  # on the looped clip (it keeps the seam closed): closing the loop after it would
        ref, made = physical(ref, first)  # turn the root over the clip and slide the planted feet again
    ref = replace(ref, name=clip)
    return ref, {**describe(ref, first, lift), **({"physical": made} if made is not None else {})}


def describe(reference: Motion, first_frame: int, lift: float) -> dict:
    """What a reference is made of, for the notebook and the metrics: where it starts in its source, its length,
    how far it was lifted onto the floor, its loop mode."""
    return {
        "first_frame": first_frame,
        "frames": reference.n_frames,
        "seconds": round(reference.duration, 3),
        "lift_m": round(lift, 4),
        "loop": reference.loop,
    }
