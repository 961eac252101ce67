"""A still image's pose continued by a trained policy in physics: the paper's motion completion, simulated.

The still names a skill and a phase (`model.NearestNeighbour`). The policy trained on that skill starts with
its reference at that phase and the character in the still's pose instead of the reference's. The pose is
turned to the reference's heading and put over its root's ground point, so the policy sees what it knows.
It is also given the reference's velocities there, because a still shows no motion. Then the policy runs on
and the simulated motion is what the still completes to.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sfv import paths, rotations
from sfv.completion.library import UP
from sfv.imitate.reference import heading_angle
from sfv.motion import Motion
from sfv.settings.common import from_record
from sfv.settings.imitate import EnvSettings, RewardParams


def policy_for(skill: str, root: Path = Path(".")) -> Path | None:
    """The kit's policy for a skill: the oracle trained on its mocap if there is one, else the one learned
    from the clip's video; None when neither was trained."""
    for reference in ("mocap", "video"):
        folder = paths.policy_dir(skill, reference, root)
        if (folder / "model.zip").is_file() and (folder / "vecnormalize.pkl").is_file():
            return folder
    return None


def policy_settings(policy_dir: str | Path) -> tuple[EnvSettings, RewardParams]:
    """The env and reward a policy was trained with (its run.json), not today's params: its observation must be
    the one it learned on. A setting added to the kit after the run takes the value the run behaved with, as
    `train.same_run` reads it (`sfv.settings.common.record_defaults`)."""
    run_file = Path(policy_dir) / "run.json"
    if not run_file.is_file():
        raise FileNotFoundError(
            f"{run_file}: missing; the policy folder has no record of its training settings (re-train it: dvc repro)"
        )
    run = json.loads(run_file.read_text())
    return from_record(EnvSettings, run["env"]), from_record(RewardParams, run["reward"])


def still_state(still: Motion, frame: int, ref_root_pos: np.ndarray, ref_root_rot: np.ndarray) -> dict:
    """The still's pose (frame `frame` of `still`) placed for a reference frame: its heading turned onto the
    reference root's, its root over the reference root's ground point at its own height. `teleport` arguments
    without velocities."""
    q = still.root_rot[frame]
    turn = float(heading_angle(ref_root_rot, "y") - heading_angle(q, "y"))
    yaw = rotations.from_axis_angle(np.array([0.0, 1.0, 0.0]), np.array(turn))
    root_pos = np.array(ref_root_pos, dtype=float)
    root_pos[UP] = still.root_pos[frame, UP]
    return {
        "root_pos": root_pos,
        "root_rot": rotations.normalize(rotations.multiply(yaw, q)),
        "joint_rot": still.joint_quaternions()[frame],
    }


def start_from_still(still: Motion, frame: int):
    """`rollout(start=...)`: the still's pose at the reference's place, with the reference's velocities."""

    def start(env) -> dict:
        ref = env.reference.frame(env.time)
        state = still_state(still, frame, ref.root_pos, ref.root_rot)
        return {**state, "root_lin_vel": ref.root_lin_vel, "root_ang_vel": ref.root_ang_vel, "joint_vel": ref.joint_vel}

    return start
