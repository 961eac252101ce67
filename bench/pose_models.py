"""BlazePose full against heavy (issue 18): accuracy and speed of the pose stage with each landmark model, on
every rendered clip (their ground truth), in one run.

For each clip of params.yaml `render.clips` (rendered by `dvc repro`), the stage (`estimate_clip`, the settings of
params.yaml `pose`, rotation search included) runs once per model on the decoded frames; printed per clip and
model: PA-MPJPE (mm, 12 limb joints), 2D error (px) and PCK@0.05 against the rendered body, and frames per
second of the whole stage (estimation and search, decoding excluded). The means close the table; the results
also go to bench/results/pose_models.json. Needs `make pose-heavy` first. Run on an otherwise idle machine:
about 15 minutes on 2 cores.

    python bench/pose_models.py [--clips walk jump]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MODELS = ("full", "heavy")


def measure(clip: str, settings) -> dict[str, dict]:
    from sfv import paths
    from sfv.config import load_params
    from sfv.pose.stage import gt_metrics
    from sfv.pose.tracking import estimate_clip
    from sfv.render.ground_truth import load_gt
    from sfv.video import probe, read_frames

    entry = load_params(ROOT / "params.yaml").clips[clip]
    video = ROOT / paths.clip_video(clip, entry.source)
    first = entry.frames[0]
    end = entry.frames[1] if entry.frames[1] is not None else probe(video).frames
    frames = list(read_frames(video, first, end))
    gt = load_gt(ROOT / paths.ground_truth(clip))
    out = {}
    for model in MODELS:
        t0 = time.perf_counter()
        poses = estimate_clip(frames, settings.model_copy(update={"model": model}))
        fps = len(frames) / (time.perf_counter() - t0)
        m = gt_metrics(poses, gt, first, end, settings.pck_threshold)
        out[model] = {"pa_mpjpe_mm": m["pa_mpjpe_mm"], "pixel_error": m["pixel_error"], "pck": m["pck"],
                      "fps": round(fps, 2), "frames": len(frames), "detected": round(float(poses.detected.mean()), 3)}
    return out


def main() -> None:
    from sfv.config import load_params
    from sfv.pose.models import complexity

    params = load_params(ROOT / "params.yaml")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="*", default=params.render.clips)
    a = ap.parse_args()
    complexity("heavy")  # installed? (the message says how)
    results = {}
    print(f"{'clip':16s} | {'PA-MPJPE mm':>15s} | {'2D error px':>13s} | {'PCK':>13s} | {'fps':>11s}")
    print(f"{'':16s} | {'full  heavy':>15s} | {'full heavy':>13s} | {'full heavy':>13s} | {'full heavy':>11s}")
    for clip in a.clips:
        r = results[clip] = measure(clip, params.pose)
        f, h = r["full"], r["heavy"]
        print(f"{clip:16s} | {f['pa_mpjpe_mm']:7.1f} {h['pa_mpjpe_mm']:7.1f} | {f['pixel_error']:6.2f} "
              f"{h['pixel_error']:6.2f} | {f['pck']:6.3f} {h['pck']:6.3f} | {f['fps']:5.1f} {h['fps']:5.1f}", flush=True)
    n = len(results)
    mean = lambda model, k: sum(r[model][k] for r in results.values()) / n  # noqa: E731
    print(f"{'mean of ' + str(n):16s} | {mean('full', 'pa_mpjpe_mm'):7.1f} {mean('heavy', 'pa_mpjpe_mm'):7.1f} | "
          f"{mean('full', 'pixel_error'):6.2f} {mean('heavy', 'pixel_error'):6.2f} | {mean('full', 'pck'):6.3f} "
          f"{mean('heavy', 'pck'):6.3f} | {mean('full', 'fps'):5.1f} {mean('heavy', 'fps'):5.1f}")
    better = sum(r["heavy"]["pa_mpjpe_mm"] < r["full"]["pa_mpjpe_mm"] for r in results.values())
    print(f"heavy has the lower PA-MPJPE on {better} of {n} clips; it runs at "
          f"{mean('heavy', 'fps') / mean('full', 'fps'):.2f}x the full model's frame rate (rotation search: "
          f"{params.pose.rotation_search})")
    out = ROOT / "bench" / "results" / "pose_models.json"
    out.write_text(json.dumps({"rotation_search": params.pose.rotation_search, "clips": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
