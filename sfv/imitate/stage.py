"""The imitation stage's steps as functions (notebook 06 calls them): the reference a policy tracks, its budget,
the ground truth it is measured on, the verdict on its evaluations, and the metrics it reports.

A policy is learned from the clip's video (`reference="video"`: its reconstructed motion, made into a
reference by `reference_clip`) or, for a rendered clip, from the ground-truth mocap it was rendered from
(`reference="mocap"`: the oracle). Either way the reference is written into the policy's folder as
`reference.npz` (only after every check passed) and training reads it from there.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from sfv import paths
from sfv.analysis.fidelity import STATES, fidelity, motion_states
from sfv.config import Params
from sfv.imitate.learned import verdict
from sfv.imitate.physical import physical_step
from sfv.imitate.reference_clip import (
    ReferenceError,
    describe,
    load_reference,
    prepare_reference,
    standing_foot_height,
)
from sfv.imitate.scene import SceneError, find_scene
from sfv.motion import Motion
from sfv.render.platform import clip_truth
from sfv.settings.imitate import ImitateClip, PPOSettings

#: metres: a reference rebuilt on another processor is not bit-equal to the one its policy learned (the physical
#: step's optimiser takes its float kernels by processor, and its iterates drift apart: walk's moved its bodies by
#: 2 mm at most, 0.6 mm on average, AVX-512 against the machine it trained on). Within this distance at every body
#: and frame it is the same reference: the stored one is kept, and its policy resumes instead of training afresh.
SAME_REFERENCE_M = 0.005


def reference_distance(a: Motion, b: Motion) -> float:
    """The largest distance (m) between the same body at the same frame of two references; inf when they do not
    have the same skeleton, frames, rate and looping."""
    if (a.skeleton.name, a.n_frames, a.fps, a.loop) != (b.skeleton.name, b.n_frames, b.fps, b.loop):
        return float("inf")
    return float(np.linalg.norm(a.body_positions()[0] - b.body_positions()[0], axis=-1).max())


def make_reference(params: Params, clip: str, reference: str, run: str | None = None) -> tuple[Motion, dict, Path]:
    """(reference motion, what was done to it, its file in the policy folder `run`, the clip's by default), the
    file written only when its content changed (the training's resume check compares content): a rebuilt
    reference within `SAME_REFERENCE_M` of the stored one keeps the stored one (the report says how far apart)."""
    if reference == "video" and clip not in params.imitate.clips:
        raise ReferenceError(f"clip {clip!r} is not in imitate.clips: add it there to learn it from its video")
    motion, report = build_reference(params, clip, reference)
    out = paths.policy_dir(run or clip, reference) / "reference.npz"
    if out.is_file():
        stored = load_reference(out, clip)
        if stored.fingerprint() == motion.fingerprint():
            return motion, report, out
        apart = reference_distance(stored, motion)
        if apart <= SAME_REFERENCE_M:
            return stored, {**report, "stored_kept_rebuilt_apart_m": round(apart, 4)}, out
    motion.save(out)
    return motion, report, out


def build_reference(params: Params, clip: str, reference: str, physical: bool = True) -> tuple[Motion, dict]:
    """The reference a clip's policy tracks (`reference`: "video" or "mocap") and what was done to make it;
    `physical=False`: a video reference without the physical step, whatever imitate.physical says (to compare);
    a clip without an entry in imitate.clips is taken whole, one-shot; the mocap loops only for a cyclic clip."""
    entry = params.clips[clip]
    if reference == "mocap":
        if not entry.is_mocap:
            raise ReferenceError(
                f"clip {clip!r} comes from a video ({entry.source}): it has no ground-truth mocap for "
                "an oracle policy; list only `mocap:` clips in imitate.oracle_clips"
            )
        source = paths.mocap_motion(entry.mocap)
        motion = replace(load_reference(source, clip), name=clip)
        if not params.imitate.clips.get(clip, ImitateClip()).cyclic:
            # the oracle learns the task its video policy learns: one play of the clip (a mocap file may loop
            # what its video shows once; a repeated backflip would be a harder task, and the gap would not be
            # what the video costs)
            motion = replace(motion, loop="none")
        return motion, {"source": source.as_posix(), **describe(motion, first_frame=0, lift=0.0)}
    settings = params.imitate.for_clip(clip)
    clip_entry = settings.clips.get(clip, ImitateClip())
    step = None
    if physical and settings.physical.enabled:
        from_video = settings.physical.contacts == "video"
        step = physical_step(
            settings.physical,
            clip,
            settings.env.ground_contacts,
            clip_keypoints(clip) if from_video else None,
            scene=clip_entry.scene,
        )
    source = paths.reconstructed_motion(clip, ".npz")
    motion, report = prepare_reference(load_reference(source, clip), clip_entry, settings.reference, clip, step)
    if clip_entry.scene:  # the ground it stood on, as the env will lay it: refused here, naming the frames
        report["scene"] = scene_report(motion, settings.env.ground_contacts, clip, clip_entry.frames[0])
    return motion, {"source": source.as_posix(), **report}


def scene_report(motion: Motion, ground_contacts: list[str], clip: str, first_frame: int = 0) -> dict:
    """The levels of the scene a reference stands on (what the env lays under it); a reference no scene of blocks
    explains is a ReferenceError naming the clip and frames (the reference's, which start at reconstructed frame
    `first_frame`)."""
    feet = motion.skeleton.settings["feet"]
    try:
        scene = find_scene(
            motion, standing_foot_height(motion.skeleton), [b for b in ground_contacts if b not in feet], clip=clip
        )
    except SceneError as e:
        raise ReferenceError(
            f"{e}; frames of the reference, which starts at reconstructed frame {first_frame}: "
            f"imitate.clips.{clip}.scene cannot host it, trim those frames out (imitate.clips.{clip}.frames)"
        ) from None
    return {
        "levels": len(scene.levels),
        "heights_m": [round(lv.height, 3) for lv in scene.levels],
        "level_frames": [list(lv.frames) for lv in scene.levels],
    }


def clip_keypoints(clip: str) -> tuple[np.ndarray, np.ndarray]:
    """The clip's 2D keypoints (T, 33, 2) and detections (T,) (its pose stage's output), every reconstructed frame."""
    poses = np.load(paths.poses_file(clip), allow_pickle=True)
    return poses["keypoints_2d"], poses["detected"].astype(bool)


def budget(params: Params, clip: str, reference: str) -> PPOSettings:
    """imitate.ppo with the clip's own training budget, if it sets one: the video policy's, and its oracle's (the
    same budget on the mocap, so that the gap is what the video costs)."""
    ppo = params.imitate.ppo
    entry = params.imitate.clips.get(clip)
    if entry is not None and entry.total_timesteps is not None:
        ppo = ppo.model_copy(update={"total_timesteps": entry.total_timesteps})
    return ppo


def ground_truth(params: Params, clip: str, reference: str) -> tuple[Motion, float] | None:
    """A rendered clip's source mocap, and the time (s) in it where the policy's reference starts (for a video
    policy, the clip's first frame plus the imitation's trim; the oracle tracks the mocap from its start);
    None for a real video."""
    entry = params.clips[clip]
    if not entry.is_mocap:
        return None
    if reference == "mocap":  # the oracle tracks the mocap itself: one cycle, as the file has it
        return clip_truth(entry.model_copy(update={"cycles": 1}))[0], 0.0
    mocap = clip_truth(entry)[0]  # the mocap (its cycles played in a row), or on a known scene the mocap made to
    # drop off its platform
    return mocap, (entry.frames[0] + params.imitate.clips[clip].frames[0]) / entry.fps


def end_to_end(
    result: dict, reference: Motion, truth: tuple[Motion, float], rate: float, reference_kind: str
) -> tuple[dict, dict]:
    """The rollout (and, for a video policy, its reference) against the ground truth, time-aligned: the
    summary figures, and per-frame body errors (label -> (times, metres)) to plot."""
    motion, offset = truth
    up = reference.skeleton.up_axis
    states = {k: np.asarray(result[k]) for k in STATES}
    policy = fidelity(states, np.asarray(result["time"]), motion, up, rate, offset)
    out = {
        "truth_body_error_m": round(policy["body_error_m"], 5),
        "truth_root_drift_final_m": round(policy["root_drift_final_m"], 4),
    }
    curves = {"policy": (np.asarray(result["time"]), policy["body_error"])}
    if reference_kind == "video":  # the reconstruction itself, on the same measure (its own frames)
        ref = fidelity(motion_states(reference), reference.times, motion, up, rate, offset)
        out["reference_truth_body_error_m"] = round(ref["body_error_m"], 5)
        out["reference_truth_root_drift_final_m"] = round(ref["root_drift_final_m"], 4)
        curves["reference (reconstruction)"] = (reference.times, ref["body_error"])
    return out, curves


def asked_seconds(evaluation_seconds: float, reference_report: dict) -> float:
    """How long an evaluation asks the policy to stand: the whole clip for a one-shot one, else the evaluation."""
    if reference_report["loop"] == "none":
        return min(evaluation_seconds, reference_report["seconds"])
    return evaluation_seconds


def learned_judge(
    clip: str,
    reference: Motion,
    reference_report: dict,
    truth: tuple[Motion, float] | None,
    evaluation_seconds: float,
    rate: float,
    reference_kind: str,
) -> Callable[[dict], dict]:
    """The verdict (sfv.imitate.learned) on an evaluation's rollout during training, on the figures and rounding the
    stage's metrics use, so that a run that stopped as learned reads as learned in the end-to-end table."""
    asked = asked_seconds(evaluation_seconds, reference_report)

    def judge(result: dict) -> dict:
        figures, extra = {}, None
        if truth is not None:
            e2e = end_to_end(result, reference, truth, rate, reference_kind)[0]
            if "reference_truth_body_error_m" in e2e:
                extra = e2e["truth_body_error_m"] - e2e["reference_truth_body_error_m"]
                figures["eval_truth_extra"] = extra
        survived = round(min(result["survived_seconds"] / asked, 1.0), 4)
        said = verdict(clip, survived, round(result["tracking_error_mean"], 5), extra)
        return {**figures, "eval_learned": float(said == "yes")}

    return judge


def imitation_metrics(
    result: dict, pd_only: dict, summary: dict, reference_report: dict, evaluation_seconds: float, e2e: dict | None
) -> dict:
    """The stage's metrics JSON: the evaluation rollout, training, the reference and (rendered clips) the truth."""
    asked = asked_seconds(evaluation_seconds, reference_report)
    return {
        "tracking_error_m": round(result["tracking_error_mean"], 5),
        "root_error_final_m": round(result["root_error_final"], 4),
        "survived_seconds": round(result["survived_seconds"], 3),
        "evaluation_seconds": round(asked, 3),
        "survived_fraction": round(min(result["survived_seconds"] / asked, 1.0), 4),
        "fell": result["fallen"],
        "return": round(result["episode_return"], 2),
        "pd_only_survived_seconds": round(pd_only["survived_seconds"], 3),
        "train_samples": summary["timesteps"],
        "train_wall_seconds": summary["wall_seconds"],
        "train_samples_per_second": round(summary["samples_per_second"], 1),
        "train_stopped_learned": bool(summary.get("stopped_learned", False)),
        "reference": reference_report,
        **(e2e or {}),
    }
