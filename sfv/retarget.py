"""Retargeting: a motion on one character made into a motion on another (the humanoid's clips for Atlas).

The reconstruction's idea, on another skeleton: inverse kinematics through the kit's own differentiable forward
kinematics. The target character's file says which of its bodies go where the source's do (`retarget.bodies`: the
legs), which of its limb segments point as the source's do, at their own length (`segments`: the arms, since the
shoulders differ), which bodies also follow a source body's orientation (`orient`: feet, torso), which source body
its root turns with (`root`: the source's root unless named), and where its soles are. The source is scaled by the
ratio of the two characters' hip heights (leg length) and turned into the target's up axis; then one optimisation
over all frames fits the target's root and joint angles, each angle inside its joint's limits (a sigmoid between
them), the soles above the ground, and the motion smooth. Pure torch: kinematics only, no simulator.
"""

from __future__ import annotations

import numpy as np
import roma
import torch

from sfv.kinematics import forward_kinematics, forward_kinematics_np
from sfv.motion import Motion
from sfv.settings.morphology_transfer import RetargetSettings
from sfv.skeleton import Skeleton


class RetargetError(ValueError):
    """A character file whose retargeting section cannot be used (the message names the file and the fix)."""


def frame_change(source_up: str, target_up: str) -> np.ndarray:
    """Rotation taking the source world's axes to the target world's (x stays forward; up goes to up)."""
    if source_up == target_up:
        return np.eye(3)
    if (source_up, target_up) == ("y", "z"):
        return np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    if (source_up, target_up) == ("z", "y"):
        return np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])
    raise RetargetError(f"cannot turn a {source_up}-up world into a {target_up}-up one")


def _map(target: Skeleton, source: Skeleton) -> dict:
    """The target's retarget section, checked against both skeletons."""
    where = f"sfv/characters/{target.name}.yaml"
    section = target.settings.get("retarget")
    if not section:
        raise RetargetError(f"{where}: no `retarget` section; add `retarget: {{from: {source.name}, bodies: ...}}`")
    if section.get("from") != source.name:
        raise RetargetError(f"{where}: retarget.from is {section.get('from')!r}, but the motion is on {source.name!r}")
    pairs = dict(section.get("bodies", {}))
    orient = dict(section.get("orient", {}))
    segments = [list(seg) for seg in section.get("segments", [])]
    if any(len(seg) != 4 for seg in segments):
        raise RetargetError(f"{where}: each retarget.segments entry is [body, body, source body, source body]")
    named = [
        *pairs.items(),
        *orient.items(),
        *((seg[0], seg[2]) for seg in segments),
        *((seg[1], seg[3]) for seg in segments),
    ]
    for t, s in named:
        for skeleton, name, role in ((target, t, "its own"), (source, s, f"{source.name}'s")):
            if name not in skeleton.body_names:
                raise RetargetError(
                    f"{where}: retarget names {name!r}, which is not one of {role} bodies "
                    f"({', '.join(skeleton.body_names)})"
                )
    sole = np.asarray(section.get("sole", []), dtype=float)
    if sole.ndim != 2 or sole.shape[1] != 3:
        raise RetargetError(f"{where}: retarget.sole must list the sole's corners in the foot frame ([x, y, z] each)")
    root = section.get("root", source.bodies[0].name)
    if root not in source.body_names:
        raise RetargetError(
            f"{where}: retarget.root names {root!r}, which is not one of {source.name}'s bodies "
            f"({', '.join(source.body_names)})"
        )
    feet = [t for t in orient if t in target.settings.get("feet", [])]
    if not feet:
        raise RetargetError(
            f"{where}: retarget.orient must name the feet (bodies listed in `feet`): the soles are theirs"
        )
    return {"bodies": pairs, "orient": orient, "segments": segments, "sole": sole, "feet": feet, "root": root}


def hip_height(skeleton: Skeleton, hips: list[str]) -> float:
    """Height of the hips above the lowest body frame in the rest pose: the leg length used to scale."""
    up = "xyz".index(skeleton.up_axis)
    pos, _ = forward_kinematics_np(
        skeleton, np.zeros((1, 3)), np.array([[0, 0, 0, 1.0]]), skeleton.identity_pose()[None]
    )
    return float(np.mean([pos[0, skeleton.index(h), up] for h in hips]) - pos[0, :, up].min())


def retarget(
    source: Motion, target: Skeleton, settings: RetargetSettings = RetargetSettings(), progress=None
) -> tuple[Motion, dict]:
    """`source` on `target`'s skeleton, and the figures of the fit: key-point error (cm: the `bodies`), limb error
    (cm: the `segments`' vectors), the soles' deepest point under the ground (cm), and foot skate (cm a foot slides
    per frame while it is down: within 2 cm of its lowest height) of the result and of the scaled source's feet."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same motion every run (several sum in a varying order)
    try:
        return _retarget(source, target, settings, progress)
    finally:
        torch.set_num_threads(threads)


def _retarget(source: Motion, target: Skeleton, settings: RetargetSettings, progress) -> tuple[Motion, dict]:
    m = _map(target, source.skeleton)
    src = source.skeleton
    change = frame_change(src.up_axis, target.up_axis)
    up = "xyz".index(target.up_axis)
    t_names, s_names = list(m["bodies"]), list(m["bodies"].values())
    hips_t = [t for t, s in m["bodies"].items() if "hip" in s]
    hips_s = [s for s in s_names if "hip" in s]
    scale = hip_height(target, hips_t) / hip_height(src, hips_s) if hips_t and hips_s else 1.0

    # the source, scaled and turned into the target's world
    s_pos, s_rot = forward_kinematics_np(src, source.root_pos, source.root_rot, source.pose)
    goal = scale * s_pos[:, [src.index(s) for s in s_names]] @ change.T
    s_mat = roma.unitquat_to_rotmat(torch.as_tensor(s_rot))
    c = torch.as_tensor(change)
    goal_orient = c @ s_mat[:, [src.index(s) for s in m["orient"].values()]] @ c.T
    goal_root = c @ s_mat[:, src.index(m["root"])] @ c.T
    dtype = torch.float64
    goal, goal_orient, goal_root = torch.as_tensor(goal, dtype=dtype), goal_orient.to(dtype), goal_root.to(dtype)
    # segments: the source's vectors in the target's world, scaled to the target's segment lengths (rest pose)
    origin, upright = np.zeros((1, 3)), np.array([[0, 0, 0, 1.0]])
    t_rest, _ = forward_kinematics_np(target, origin, upright, target.identity_pose()[None])
    s_rest, _ = forward_kinematics_np(src, origin, upright, src.identity_pose()[None])
    seg_a = [target.index(g[0]) for g in m["segments"]]
    seg_b = [target.index(g[1]) for g in m["segments"]]
    seg_vec = []
    for a, b, sa, sb in m["segments"]:
        length = np.linalg.norm(t_rest[0, target.index(b)] - t_rest[0, target.index(a)])
        length_s = np.linalg.norm(s_rest[0, src.index(sb)] - s_rest[0, src.index(sa)])
        seg_vec.append(length / length_s * (s_pos[:, src.index(sb)] - s_pos[:, src.index(sa)]) @ change.T)
    seg_goal = torch.as_tensor(np.stack(seg_vec, axis=1) if seg_vec else np.zeros((source.n_frames, 0, 3)), dtype=dtype)

    # the unknowns: root position and rotation vector, and each joint's angle through a sigmoid inside its limits
    lo, hi = (torch.as_tensor(v, dtype=dtype) for v in np.array([b.limits for b in target.joints]).T)
    rest = torch.clamp(torch.zeros_like(lo), lo + 0.02 * (hi - lo), hi - 0.02 * (hi - lo))
    n = source.n_frames
    u = torch.logit((rest - lo) / (hi - lo)).expand(n, -1).clone().requires_grad_(True)
    root_pos = torch.as_tensor(scale * source.root_pos @ change.T, dtype=dtype).clone().requires_grad_(True)
    root_vec = roma.rotmat_to_rotvec(goal_root).clone().requires_grad_(True)
    t_index = [target.index(t) for t in t_names]
    o_index = [target.index(t) for t in m["orient"]]
    f_index = [target.index(t) for t in m["feet"]]
    sole = torch.as_tensor(m["sole"], dtype=dtype)
    optimiser = torch.optim.Adam([u, root_pos, root_vec], lr=settings.learning_rate)

    def solve(final: bool = False):
        angles = lo + (hi - lo) * torch.sigmoid(u)
        root_rot = roma.rotvec_to_unitquat(root_vec)
        pos, rot = forward_kinematics(target, root_pos, root_rot, angles)
        mats = roma.unitquat_to_rotmat(rot)
        corners = pos[:, f_index, None, :] + (mats[:, f_index, None] @ sole[None, None, :, :, None])[..., 0]
        return angles, root_rot, pos, mats, corners

    for step in range(settings.iterations):
        angles, _, pos, mats, corners = solve()
        loss = ((pos[:, t_index] - goal) ** 2).sum(-1).mean()
        if seg_a:
            loss = loss + ((pos[:, seg_b] - pos[:, seg_a] - seg_goal) ** 2).sum(-1).mean()
        loss = loss + settings.orientation_weight * (
            ((mats[:, o_index] - goal_orient) ** 2).sum((-1, -2)).mean()
            + ((mats[:, 0] - goal_root) ** 2).sum((-1, -2)).mean()
        )
        loss = loss + settings.ground_weight * (torch.relu(-corners[..., up]) ** 2).mean()
        if n >= 3:
            acc = lambda x: x[2:] - 2 * x[1:-1] + x[:-2]  # noqa: E731
            loss = loss + settings.smoothness_weight * ((acc(angles) ** 2).mean() + (acc(root_pos) ** 2).mean())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if progress is not None:
            progress(step, float(loss))

    with torch.no_grad():
        angles, root_rot, pos, mats, corners = solve()
    motion = Motion(
        target,
        source.fps,
        root_pos.detach().numpy().copy(),
        root_rot.numpy().copy(),
        angles.numpy().copy(),
        loop=source.loop,
        name=source.name,
    )
    keypoint = float(torch.linalg.norm(pos[:, t_index] - goal, dim=-1).mean())
    limbs = float(torch.linalg.norm(pos[:, seg_b] - pos[:, seg_a] - seg_goal, dim=-1).mean()) if seg_a else 0.0
    sole_heights = corners[..., up].numpy()
    report = {
        "scale": scale,
        "keypoint_error_cm": 100 * keypoint,
        "limb_error_cm": 100 * limbs,
        "penetration_cm": 100 * float(max(0.0, -sole_heights.min())),
        "foot_skate_cm": 100 * foot_skate(pos[:, f_index].numpy(), None, up),
        "source_foot_skate_cm": 100
        * foot_skate(scale * s_pos[:, [src.index(m["orient"][f]) for f in m["feet"]]] @ change.T, None, up),
    }
    return motion, report


def foot_skate(feet: np.ndarray, heights: np.ndarray | None, up: int, contact: float = 0.02) -> float:
    """Mean horizontal slide (m) per frame of feet (T, F, 3) in contact with the ground in two consecutive frames.
    Contact: the sole's lowest point (`heights`, T x F) within `contact` of the ground; without heights, the foot
    frame within `contact` of its lowest height in the clip."""
    h = heights if heights is not None else feet[..., up] - feet[..., up].min(axis=0)
    touching = (h[1:] < contact) & (h[:-1] < contact)
    step = np.delete(feet[1:] - feet[:-1], up, axis=-1)
    slide = np.linalg.norm(step, axis=-1)
    return float(slide[touching].mean()) if touching.any() else 0.0
