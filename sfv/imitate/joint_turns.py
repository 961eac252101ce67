"""A reference's shoulders and hips kept from spinning about their own bones, before the physical step.

A reconstruction fits positions. Where an elbow or a knee is nearly straight, turning the shoulder or hip above it
about the limb's own bone moves no body, and the hinge below can only bend one way: when the keypoints put a nearly
straight limb's bend on the wrong side, the fit takes the other side of the twist, and the joint flips by up to half
a turn in one frame (`joint_spin` measures it; a person's joints turn at 10-25 rad/s, such a flip at 80-180). The
pose reward and the PD targets see every flip.

`slow_joint_turns` refits the motion once: its bodies stay where they are (squared displacement), and each
shoulder's and hip's rotation (`limb_roots`) changes as little as it can from frame to frame (squared chordal
distance between consecutive rotations, `weight` against the first term). A twist that moves nothing costs nothing
to undo, so it goes; a turn the bodies show stays. Kinematics only, no simulator.
"""

from __future__ import annotations

import numpy as np
import torch

from sfv.motion import Motion


def joint_spin(motion: Motion) -> float:
    """The fastest any joint turns in the motion (rad/s): the largest angle between one frame's local rotation of a
    joint and the next's, times the frame rate. A reconstruction fits positions, and a nearly straight arm or leg
    can spin about its own bone without moving them: where the fit finds the other side of that twist, the joint
    flips by up to half a turn in one frame. The pose reward and the PD targets see every flip, and a policy that
    follows it must spin a shoulder or a hip faster than any person does (the truth's figure is beside it)."""
    q = motion.joint_quaternions()
    if len(q) < 2:
        return 0.0
    dot = np.abs(np.sum(q[1:] * q[:-1], axis=-1)).clip(0.0, 1.0)
    return float(2.0 * np.arccos(dot).max() * motion.fps)


def chordal_turns(rotvecs: torch.Tensor) -> torch.Tensor:
    """Squared chordal distance (T-1, J) between each joint's rotation (T, J, 3 rotation vectors) at one frame and
    the next: |R_t+1 - R_t|^2 (Frobenius), 4 (1 - cos a) for a turn by a, smooth everywhere (unlike the angle)."""
    import roma

    mats = roma.rotvec_to_rotmat(rotvecs)
    return ((mats[1:] - mats[:-1]) ** 2).sum((-1, -2))


def limb_roots(skeleton) -> list[str]:
    """The ball joints with a hinge below them (shoulders over elbows, hips over knees): the ones whose twist about
    their own bone moves no body where the hinge is straight. Only their turns are slowed: a leaf's rotation (an
    ankle, the neck) moves no body either, but nothing flips it, and the refit leaves it exactly as it was."""
    hinged = {skeleton.bodies[b.parent].name for b in skeleton.bodies if b.joint_type == "revolute" and b.parent >= 0}
    return [b.name for b in skeleton.joints if b.joint_type == "spherical" and b.name in hinged]


def slow_joint_turns(motion: Motion, weight: float, iterations: int = 200) -> tuple[Motion, dict]:
    """The motion refitted so that its shoulders and hips turn no faster than its bodies need (see the module's
    docstring), and what it changed: the fastest joint turn before and after (rad/s), how far the bodies moved (cm,
    mean and most)."""
    from sfv.reconstruct.fit import MotionVariables

    if motion.n_frames < 2:
        return motion, {}
    variables = MotionVariables.from_motion(motion)
    limbs = set(limb_roots(motion.skeleton))
    slowed = [k for k, b in enumerate(variables.spherical) if b.name in limbs]
    if not slowed:
        return motion, {}
    with torch.no_grad():
        start = variables.positions().clone()
    optimiser = torch.optim.LBFGS(variables.parameters(), lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        value = ((variables.positions() - start) ** 2).sum(-1).mean() + weight * chordal_turns(
            variables.joint_rotvec[:, slowed]
        ).mean()
        value.backward()
        return value

    optimiser.step(closure)
    refitted = variables.to_motion(motion.fps, name=motion.name, loop=motion.loop)
    with torch.no_grad():
        moved = (variables.positions() - start).norm(dim=-1).numpy()
    report = {
        "fastest_before_rad_s": round(joint_spin(motion), 1),
        "fastest_after_rad_s": round(joint_spin(refitted), 1),
        "bodies_moved_cm": round(float(moved.mean()) * 100, 2),
        "bodies_moved_most_cm": round(float(np.max(moved)) * 100, 1),
    }
    return refitted, report
