"""How physically plausible a reference motion is, and how close to the truth: what a policy must follow.

A reference reconstructed from video can slide its planted feet (skate), put a body under the floor (penetration),
and fly for as long, and as high, as the monocular depth happened to make it. Each is measured here on the motion
alone (kinematics, no simulator) and, for a rendered clip, against the ground truth's own contacts and flights.
Pure numpy.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sfv.imitate.joint_turns import joint_spin
from sfv.motion import Motion


def foot_indices(motion: Motion) -> list[int]:
    """The character's feet (its file's `feet`)."""
    return [motion.skeleton.index(n) for n in motion.skeleton.settings["feet"]]


def heights(motion: Motion) -> np.ndarray:
    """Every body's height (T, B) above the floor (height 0)."""
    pos, _ = motion.body_positions()
    return pos[..., "xyz".index(motion.skeleton.up_axis)]


def foot_skate(motion: Motion, planted: np.ndarray) -> float:
    """Mean horizontal speed (m/s) of the feet over consecutive frames where `planted` (T, F) says they are down."""
    pos, _ = motion.body_positions()
    up = "xyz".index(motion.skeleton.up_axis)
    feet = pos[:, foot_indices(motion)][..., [a for a in range(3) if a != up]]
    speed = np.linalg.norm(np.diff(feet, axis=0), axis=-1) * motion.fps
    both = planted[1:] & planted[:-1]
    return float(speed[both].mean()) if both.any() else 0.0


def penetration(motion: Motion, foot_height: float) -> float:
    """Mean depth (m) per frame of the deepest point under the floor: a foot below its standing height, or any
    other body below the floor."""
    h = heights(motion)
    feet = foot_indices(motion)
    depth = -h
    depth[:, feet] = foot_height - h[:, feet]
    return float(np.maximum(depth.max(axis=1), 0.0).mean())


def outside_friction_cone(motion: Motion, standing: np.ndarray, friction: float) -> float:
    """The fraction of the frames where something stands (`standing`, T) at which the centre of mass accelerates in
    a way the ground cannot cause: sideways more than `friction` times its push, or downwards faster than gravity (the
    ground pushes, it never pulls). A person's own motion stays inside; depth jitter of a reconstruction does not.
    Accelerations are second differences over the frames, so a real impact (a landing at 30 fps) can count too."""
    import torch

    from sfv.imitate.physical import GRAVITY
    from sfv.kinematics import centre_of_mass

    pos, rot = motion.body_positions()
    com = centre_of_mass(motion.skeleton, torch.as_tensor(pos), torch.as_tensor(rot)).numpy()
    up = "xyz".index(motion.skeleton.up_axis)
    accel = np.diff(com, 2, axis=0) * motion.fps**2
    push = GRAVITY + accel[:, up]
    sideways = np.linalg.norm(np.delete(accel, up, axis=1), axis=1)
    outside = (sideways > friction * np.maximum(push, 0.0)) | (push < 0.0)
    inner = standing[1:-1]
    return float(outside[inner].mean()) if inner.any() else 0.0


HEADING_LEAN_DEG = 45.0  # a root whose forward axis leans further from the horizontal has no heading to compare


def has_heading(root_rot: np.ndarray, up_axis: str) -> np.ndarray:
    """Per root orientation (..., 4): whether its forward axis leans less than `HEADING_LEAN_DEG` from the horizontal,
    so that its heading means something (not in a flip, a cartwheel, a roll)."""
    from sfv import rotations

    forward = rotations.rotate(np.asarray(root_rot, dtype=float), np.array([1.0, 0.0, 0.0]))
    return np.abs(forward[..., "xyz".index(up_axis)]) < np.sin(np.radians(HEADING_LEAN_DEG))


def heading_error(motion: Motion, truth: Motion) -> float:
    """Mean angle (degrees) between the reference's heading and the truth's, frame by frame, after the one constant
    turn about the vertical that aligns them best (the camera's azimuth is unknown). The body error and the MPJPE
    turn each frame (or the clip) to face forward, so they cannot see a turn made at the wrong time: a pirouette
    reconstructed in two bursts, its yaw stalled where the body is seen edge-on, has the right poses at the wrong
    headings, and a policy that follows it must twist its feet on the ground faster than the dancer did. Frames where
    either root's forward axis leans more than `HEADING_LEAN_DEG` from the horizontal (a flip, a cartwheel, a roll)
    have no heading and are left out; 0 when none is left."""
    from sfv.imitate.reference import heading_angle

    up_axis = motion.skeleton.up_axis
    upright = has_heading(motion.root_rot, up_axis) & has_heading(truth.root_rot, up_axis)
    if not upright.any():
        return 0.0
    turn = heading_angle(motion.root_rot[upright], up_axis) - heading_angle(truth.root_rot[upright], up_axis)
    offset = np.angle(np.exp(1j * turn).mean())
    return float(np.degrees(np.abs(np.angle(np.exp(1j * (turn - offset)))).mean()))


def _standing(motion: Motion, planted: np.ndarray, allowed: list[str]) -> np.ndarray:
    """Frames (T,) where a contact body is planted and the body is not in a flight."""
    from sfv.imitate.physical import airborne, flights

    standing = planted.any(axis=1)
    for a, b in flights(airborne(motion, planted, allowed=allowed)):
        standing[a:b] = False
    return standing


def measure(reference: Motion, truth: Motion, offset: float, params, allowed: list[str]) -> dict:
    """One reference against the truth (the mocap from `offset` seconds on, at the reference's frames): body error
    and MPJPE, foot skate where the truth's feet are planted, penetration, flight time (its own and the truth's),
    its heading's error (`heading_error`), its fastest joint's turn (`joint_spin`; the truth's beside it), how
    often its centre of mass asks the ground for what the ground cannot give (`outside_friction_cone`; the truth's
    own figure beside it), and how long the PD controller alone (zero action) holds the character on it."""
    from sfv.analysis.fidelity import fidelity, motion_states
    from sfv.imitate.evaluate import rollout
    from sfv.imitate.physical import airborne, contact_phases, flights
    from sfv.imitate.reference_clip import standing_foot_height
    from sfv.imitate.terrain import read_terrain
    from sfv.reconstruct.evaluate import mpjpe

    foot = standing_foot_height(reference.skeleton)
    times = np.arange(reference.n_frames) / reference.fps
    # at the reference's rate: `sample` keeps the mocap's own fps (60 for the jump), which would scale every speed
    # and acceleration measured on these frames
    truth_frames = replace(truth.sample(times + offset), fps=reference.fps)
    truth_planted = contact_phases(truth_frames, foot, allowed=allowed)
    planted = contact_phases(reference, foot, allowed=allowed)
    fit = fidelity(motion_states(reference), times, truth, reference.skeleton.up_axis, reference.fps, offset)
    cfg = params.imitate
    env = cfg.env.model_copy(update={"ground_contacts": list(allowed)})
    pd = rollout(None, reference, env, cfg.reward, seconds=min(reference.duration, cfg.evaluation.seconds))
    friction = read_terrain(cfg.env.terrain).friction
    n_feet = len(reference.skeleton.settings["feet"])
    return {
        "body_error_cm": round(100 * fit["body_error_m"], 2),
        "mpjpe_mm": round(mpjpe(reference.body_positions()[0], truth_frames.body_positions()[0]), 1),
        "skate_cm_s": round(100 * foot_skate(reference, truth_planted[:, :n_feet]), 1),
        "penetration_cm": round(100 * penetration(reference, foot), 2),
        "flight_s": round(
            sum(b - a for a, b in flights(airborne(reference, planted, allowed=allowed))) / reference.fps, 3
        ),
        "truth_flight_s": round(
            sum(b - a for a, b in flights(airborne(truth_frames, truth_planted, allowed=allowed))) / reference.fps, 3
        ),
        "outside_cone": round(outside_friction_cone(reference, _standing(reference, planted, allowed), friction), 2),
        "truth_outside_cone": round(
            outside_friction_cone(truth_frames, _standing(truth_frames, truth_planted, allowed), friction), 2
        ),
        "heading_deg": round(heading_error(reference, truth_frames), 1),
        "joint_spin_rad_s": round(joint_spin(reference), 1),
        "truth_joint_spin_rad_s": round(joint_spin(truth_frames), 1),
        "pd_only_s": round(float(pd["survived_seconds"]), 2),
    }


def compare(params, clip: str) -> list[dict]:
    """A rendered clip's reference as the imitation stage makes it, without the physical step and with it (the
    stage's own code: sfv.imitate.stage.build_reference), each measured against its truth (`measure`)."""
    from sfv.imitate.stage import build_reference
    from sfv.render.platform import clip_truth

    entry = params.clips[clip]
    settings = params.imitate.for_clip(clip)
    first = settings.clips[clip].frames[0] if clip in settings.clips else 0
    truth = clip_truth(entry)[0]  # flat-floor clips only (`rendered_clips`)
    offset = (entry.frames[0] + first) / entry.fps
    rows = []
    for kind, physical in (("reconstruction", False), ("physical", True)):
        reference, made = build_reference(params, clip, "video", physical=physical)
        row = {
            "clip": clip,
            "reference": kind,
            **measure(reference, truth, offset, params, settings.env.ground_contacts),
        }
        if "physical" in made:
            row["bodies_moved_cm"] = round(100 * made["physical"]["bodies_moved_m"], 2)
        rows.append(row)
    return rows


def rendered_clips(params) -> tuple[list[str], list[str]]:
    """The rendered clips that are reconstructed on the flat floor, and among them the skills: the first clip
    rendered from each mocap (the others film the same motion with another camera). A clip with a known scene (a
    platform) is left to the scene's measure (`sfv.analysis.scene_levels`): a flat-floor reference refuses it."""
    rendered = [c for c in params.reconstruct.clips if params.clips[c].is_mocap and params.clips[c].scene.platform == 0]
    skills: dict[str, str] = {}
    for clip in rendered:
        skills.setdefault(params.clips[clip].mocap, clip)
    return rendered, list(skills.values())


def summary(rows: list[dict], clips: list[str]) -> dict:
    """Each reference kind's means over `clips` (the skills the goal is stated on)."""
    out = {}
    for kind in dict.fromkeys(r["reference"] for r in rows):
        picked = [r for r in rows if r["reference"] == kind and r["clip"] in clips]
        out[kind] = {
            k: round(float(np.mean([r[k] for r in picked])), 2)
            for k in (
                "body_error_cm",
                "mpjpe_mm",
                "skate_cm_s",
                "penetration_cm",
                "outside_cone",
                "heading_deg",
                "joint_spin_rad_s",
                "pd_only_s",
            )
        } | {"clips": len(picked)}
    return out
