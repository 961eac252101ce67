"""The references a policy tracks, as the imitation stage makes them today and made physically consistent
(sfv.imitate.physical), against the ground truth on every rendered clip: body error, foot skate where the truth's
feet are planted, penetration, flight time, and how long the PD controller alone holds each (zero action).

    python bench/reference_physics.py [--clips walk jump] [--out bench/results/reference_physics.json]

Reads the reconstructions (`data/motions/<clip>.npz`, from `dvc repro reconstruct@<clip>`) and the mocap.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sfv import paths
from sfv.analysis import reference_quality as quality
from sfv.analysis.fidelity import fidelity, motion_states
from sfv.config import load_params
from sfv.imitate.evaluate import rollout
from sfv.imitate.physical import (
    airborne,
    contact_phases,
    flights,
    image_contact_phases,
    make_physical,
)
from sfv.imitate.reference_clip import load_reference, prepare_reference, standing_foot_height
from sfv.io import write_json
from sfv.settings.imitate import ImitateClip


def measure(reference, truth, offset: float, params, foot_height: float, allowed: list[str]) -> dict:
    """One reference against the truth (the mocap from `offset` seconds on, resampled at the reference's frames)."""
    times = np.arange(reference.n_frames) / reference.fps
    truth_frames = truth.sample(times + offset)
    truth_planted = contact_phases(truth_frames, foot_height, allowed=allowed)
    planted = contact_phases(reference, foot_height, allowed=allowed)
    fit = fidelity(motion_states(reference), times, truth, reference.skeleton.up_axis, reference.fps, offset)
    cfg = params.imitate
    pd = rollout(None, reference, cfg.env, cfg.reward, seconds=min(reference.duration, cfg.evaluation.seconds))
    return {
        "body_error_cm": round(100 * fit["body_error_m"], 2),
        "skate_cm_s": round(100 * quality.foot_skate(reference, truth_planted[:, :2]), 1),  # the feet's columns
        "penetration_cm": round(100 * quality.penetration(reference, foot_height), 2),
        "flight_s": round(
            sum(b - a for a, b in flights(airborne(reference, planted, allowed=allowed))) / reference.fps, 3
        ),
        "truth_flight_s": round(
            sum(b - a for a, b in flights(airborne(truth_frames, truth_planted, allowed=allowed))) / reference.fps, 3
        ),
        "pd_only_s": round(float(pd["survived_seconds"]), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", nargs="*", help="rendered clips (default: every rendered clip reconstructed)")
    parser.add_argument("--out", type=Path, default=paths.BENCH_RESULTS / "reference_physics.json")
    args = parser.parse_args(argv)
    params = load_params()
    rendered = [c for c in params.reconstruct.clips if params.clips[c].is_mocap]
    clips = args.clips or rendered
    rows = []
    for clip in clips:
        entry = params.clips[clip]
        imitate_entry = params.imitate.clips.get(clip, ImitateClip())
        motion = load_reference(paths.reconstructed_motion(clip, ".npz"), clip)
        reference, _ = prepare_reference(motion, imitate_entry, params.imitate.reference, clip)  # not physical
        settings = params.imitate.physical
        truth = load_reference(paths.mocap_motion(entry.mocap), clip)
        offset = (entry.frames[0] + imitate_entry.frames[0]) / entry.fps
        foot = standing_foot_height(reference.skeleton)
        t0 = time.time()
        allowed = list(imitate_entry.ground_contacts)
        physical, report = make_physical(reference, foot, settings, allowed)
        seconds = time.time() - t0
        poses = np.load(paths.poses_file(clip), allow_pickle=True)
        first = imitate_entry.frames[0]
        if len(poses["detected"]) != motion.n_frames:
            raise SystemExit(f"{clip}: {len(poses['detected'])} pose frames, {motion.n_frames} reconstructed")
        frames = slice(first, first + reference.n_frames)
        seen = image_contact_phases(
            reference, poses["keypoints_2d"][frames], poses["detected"][frames].astype(bool), foot, settings
        )
        from_video, _ = make_physical(reference, foot, settings, allowed, feet_planted=seen)
        for kind, m in (("today", reference), ("physical", physical), ("physical, feet from the image", from_video)):
            row = {"clip": clip, "reference": kind, **measure(m, truth, offset, params, foot, allowed)}
            if kind == "physical":
                row.update(optimise_s=round(seconds, 1), bodies_moved_cm=round(100 * report["bodies_moved_m"], 2))
            rows.append(row)
            print(row, flush=True)
    print(quality.table(rows))
    write_json(args.out, {"rows": rows, "settings": params.imitate.physical.model_dump()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
