"""Evaluate a trained imitation policy: one deterministic rollout from phase 0, its metrics and video.

The metrics are MimicKit's: per control step, the mean distance between simulated and reference
bodies, both taken relative to their roots (metres), and the root position error; plus the time
survived before an early termination and the return.
"""

from __future__ import annotations

import pickle
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from sfv.analysis.fidelity import STATES
from sfv.imitate.env import ImitationEnv
from sfv.imitate.reward import TERMS
from sfv.motion import Motion
from sfv.settings.imitate import EnvSettings, RewardParams
from sfv.video import mp4_writer

#: H.264 quality (imageio, 0-10) of the evaluation videos: they are for looking at and ship in the store; 5 keeps the
#: bodies and the floor sharp at about a third of the bytes of 7 (measured: 3 kB a frame against 10 at 640x384)
VIDEO_QUALITY = 5


class PolicyError(FileNotFoundError):
    """No trained policy where one was expected."""


#: `ended_by` of a fall with no body on the ground that may not be: the character left its terrain or sank below it
OFF_TERRAIN = "off its terrain"


def ended_by_text(ended_by: list[str]) -> str:
    """`rollout`'s `ended_by` in a few words: nothing (it stood), the terrain left, or the bodies on the ground."""
    if not ended_by:
        return "stood to the end"
    return OFF_TERRAIN if list(ended_by) == [OFF_TERRAIN] else f"{', '.join(ended_by)} on the ground"


def load_policy(policy_dir: str | Path):
    """(PPO model, observation normaliser) from a training folder (see `sfv.imitate.train`)."""
    from stable_baselines3 import PPO

    policy_dir = Path(policy_dir)
    model_path, norm_path = policy_dir / "model.zip", policy_dir / "vecnormalize.pkl"
    for p in (model_path, norm_path):
        if not p.is_file():
            raise PolicyError(
                f"{p}: missing; restore it from the store (`make repro`, or `sfv store restore`) or train "
                "the policy first (`dvc repro`, or sfv.imitate.train.train)"
            )
    with open(norm_path, "rb") as f:
        normaliser = pickle.load(f)  # a VecNormalize without its envs: only the statistics
    return PPO.load(model_path, device="cpu"), normaliser


def rollout(
    policy,
    motion: Motion,
    settings: EnvSettings,
    reward: RewardParams,
    seconds: float,
    video: str | Path | None = None,
    width: int = 640,
    height: int = 384,
    policy_normaliser=None,
    beside: Callable[[float], np.ndarray] | None = None,
    start_time: float = 0.0,
    start: Callable[[ImitationEnv], dict] | None = None,
    seed: int = 0,
    gui: bool = False,
) -> dict:
    """Run the policy deterministically from phase 0 for `seconds` (or until it falls, or a one-shot clip ends).

    `start_time` starts the reference (and the clock) elsewhere than 0; `start(env)` gives the state to begin in
    instead of the reference's there (`ImitationEnv.teleport`'s arguments): motion completion starts a policy
    from the pose of a still image. `seed` seeds the reset: on a randomised terrain, which ground it lays.

    `policy` is a PPO model (with `policy_normaliser` its VecNormalize statistics), or None for
    zero actions (the reference pose as PD targets, in residual mode: what the PD controller alone
    achieves). Returns per-step arrays (the simulated bodies and root too) and summary figures (`ended_by`: the
    bodies whose touch ended a fall); writes
    an mp4 when `video` is a path, with `beside(time)` (e.g. the source video's frame) on its left.
    """
    # falls end it, drift does not (pose termination off): the rollout measures how far the character drifts
    settings = settings.model_copy(
        update={"state_init": "start", "early_termination": True, "episode_seconds": seconds, "pose_termination": None}
    )
    log = {k: [] for k in ("time", "phase", "reward", "tracking_error", "root_error", *TERMS, *STATES)}
    fallen = False
    with ExitStack() as stack:
        # One thread for the policy: with several, torch splits a matmul's sums differently from run to run, and the
        # physics grows that last-bit difference (a walk's 10 s error moved from 9.26 to 9.28 cm between two runs);
        # a single observation gains nothing from threads anyway.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        stack.callback(torch.set_num_threads, threads)
        env = ImitationEnv(motion, settings, reward, render_mode="human" if gui else "rgb_array" if video else None)
        stack.callback(env.close)
        append = None
        if video:  # written beside its destination, moved into place only when the rollout succeeds
            append = stack.enter_context(mp4_writer(video, settings.control_hz, quality=VIDEO_QUALITY))
        obs, _ = env.reset(seed=seed, options={"time": start_time} if start_time else None)
        if start is not None:
            obs = env.teleport(**start(env))
        if append is not None:
            append(_frame(env, width, height, beside))
        while True:
            if policy is None:
                action = np.zeros(env.action_space.shape, dtype=np.float32)
            else:
                o = policy_normaliser.normalize_obs(obs) if policy_normaliser is not None else obs
                action, _ = policy.predict(o, deterministic=True)
            obs, r, terminated, truncated, info = env.step(action)
            for k in ("time", "phase", "tracking_error", "root_error"):
                log[k].append(info[k])
            log["reward"].append(r)
            for k in TERMS:
                log[k].append(info["reward_terms"][k])
            for k in STATES:
                log[k].append(getattr(env.state, k).copy())
            if append is not None:
                append(_frame(env, width, height, beside))
            if gui:
                _show(env)
            if terminated or truncated:
                fallen = bool(terminated)
                break
        # what ended a fall: the bodies on the ground that may not be, or the terrain left behind
        ended_by = (env.sim.forbidden_contacts() or ([OFF_TERRAIN] if env.off_terrain() else [])) if fallen else []
    out = {k: np.asarray(v) for k, v in log.items()}
    out["travel"] = None if env.field is None else env.field.forward  # the terrain's direction of travel
    out.update(
        fallen=fallen,
        ended_by=ended_by,
        survived_seconds=float(out["time"][-1] - start_time) if len(out["time"]) else 0.0,
        episode_return=float(out["reward"].sum()),
        tracking_error_mean=float(out["tracking_error"].mean()),
        root_error_final=float(out["root_error"][-1]),
        seconds=seconds,
    )
    return out


def _show(env: ImitationEnv) -> None:
    """The GUI window at the clip's pace: the reference (blue) one metre beside the character, the camera on it."""
    import time

    import pybullet

    ref = env.reference.frame(env.time)
    env.sim.place_ghost_beside(ref.root_pos, ref.root_rot, ref.joint_rot)
    pybullet.resetDebugVisualizerCamera(3.0, 60, -15, env.state.root_pos.tolist(), physicsClientId=env.sim.client)
    time.sleep(1.0 / env.settings.control_hz)


def _frame(
    env: ImitationEnv, width: int, height: int, beside: Callable[[float], np.ndarray] | None = None
) -> np.ndarray:
    """The simulated character (light) with the reference beside it (blue), captioned; `beside(time)` on the left."""
    from PIL import Image, ImageDraw

    ref = env.reference.frame(env.time)
    rgb = env.sim.render_with_ghost(ref.root_pos, ref.root_rot, ref.joint_rot, width=width, height=height)
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img)
    draw.text((8, 6), f"{env.motion.name}  t = {env.time:5.2f} s", fill=(0, 0, 0))
    draw.text((8, 20), "light: simulated policy    blue: reference", fill=(40, 60, 160))
    if beside is None:
        return np.asarray(img)
    left = Image.fromarray(beside(env.time))
    left = left.resize((max(16, round(left.width * height / left.height / 16) * 16), height))
    both = Image.new("RGB", (left.width + img.width, height))
    both.paste(left, (0, 0))
    both.paste(img, (left.width, 0))
    return np.asarray(both)


class SourceVideo:
    """The source video as a function of rollout time (`rollout(beside=...)`): frame first + round(t x fps),
    wrapped round the imitated frames for a cyclic reference, held at the last frame of a one-shot one."""

    def __init__(self, path: str | Path, first: int, n_frames: int, fps: float, cyclic: bool, height: int = 384):
        from PIL import Image

        from sfv.video import read_frames

        self.fps, self.cyclic = fps, cyclic
        self.frames = []
        for rgb in read_frames(path, first, first + n_frames):
            img = Image.fromarray(rgb)
            self.frames.append(np.asarray(img.resize((round(img.width * height / img.height), height))))
        if not self.frames:
            raise ValueError(f"{path}: no frames in [{first}, {first + n_frames})")

    def __call__(self, time: float) -> np.ndarray:
        i = int(round(time * self.fps))
        n = len(self.frames)
        return self.frames[i % (n - 1) if self.cyclic and n > 1 else min(i, n - 1)]
