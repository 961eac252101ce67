"""Pose-stage variants on every rendered clip, against their ground truth, in one run:

- `--compare model` (default): BlazePose full against heavy (needs `make pose-heavy` first);
- `--compare fusion`: the chosen pose as found (`fuse_radius: 0`) against it averaged with the candidates that
  agree with it (params.yaml `pose.fuse_radius`).

For each clip of params.yaml `render.clips` (rendered by `dvc repro`), the stage (`estimate_clip`, the settings of
params.yaml `pose`, rotation search included) runs once per variant on the decoded frames; printed per clip and
variant: PA-MPJPE (mm, 12 limb joints), 2D error (px) and PCK@0.05 against the rendered body, and frames per
second of the whole stage (estimation and search, decoding excluded). The means close the table; the results
also go to bench/results/pose_models.json (model) or bench/results/pose_fusion.json (fusion). Run on an otherwise
idle machine: about 15 minutes on 2 cores for the models, 10 for fusion.

    python bench/pose_models.py [--compare model|fusion] [--clips walk jump]
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


def variants(compare: str, settings) -> dict[str, dict]:
    """Variant name -> the pose settings it changes."""
    if compare == "model":
        return {"full": {"model": "full"}, "heavy": {"model": "heavy"}}
    return {"not fused": {"fuse_radius": 0.0}, f"fused {settings.fuse_radius:g}": {"fuse_radius": settings.fuse_radius}}


def measure(clip: str, settings, changes: dict[str, dict]) -> dict[str, dict]:
    from sfv import paths
    from sfv.config import load_params
    from sfv.pose.stage import gt_metrics
    from sfv.pose.tracking import estimate_clip
    from sfv.render.ground_truth import load_gt
    from sfv.video import probe, read_frames

    entry = load_params(ROOT / "params.yaml").clips[clip]
    video = ROOT / paths.clip_video(clip, entry.source)
    info = probe(video)
    first = entry.video_frames[0]
    end = entry.video_frames[1] if entry.video_frames[1] is not None else info.frames
    frames = list(read_frames(video, first, end))
    gt = load_gt(ROOT / paths.ground_truth(clip))
    out = {}
    for name, change in changes.items():
        t0 = time.perf_counter()
        poses = estimate_clip(frames, settings.model_copy(update=change), fps=info.fps)
        fps = len(frames) / (time.perf_counter() - t0)
        m = gt_metrics(poses, gt, first, end, settings.pck_threshold)
        out[name] = {
            "pa_mpjpe_mm": m["pa_mpjpe_mm"],
            "pixel_error": m["pixel_error"],
            "pck": m["pck"],
            "fps": round(fps, 2),
            "frames": len(frames),
            "detected": round(float(poses.detected.mean()), 3),
        }
    return out


def main() -> None:
    from sfv.config import load_params
    from sfv.pose.models import complexity

    params = load_params(ROOT / "params.yaml")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", choices=("model", "fusion"), default="model")
    ap.add_argument("--clips", nargs="*", default=params.render.clips)
    a = ap.parse_args()
    if a.compare == "model":
        complexity("heavy")  # installed? (the message says how)
    changes = variants(a.compare, params.pose)
    (one, two) = changes
    results = {}
    print(f"{'clip':16s} | {'PA-MPJPE mm':>15s} | {'2D error px':>13s} | {'PCK':>13s} | {'fps':>11s}   ({one} | {two})")
    for clip in a.clips:
        r = results[clip] = measure(clip, params.pose, changes)
        f, h = r[one], r[two]
        print(
            f"{clip:16s} | {f['pa_mpjpe_mm']:7.1f} {h['pa_mpjpe_mm']:7.1f} | {f['pixel_error']:6.2f} "
            f"{h['pixel_error']:6.2f} | {f['pck']:6.3f} {h['pck']:6.3f} | {f['fps']:5.1f} {h['fps']:5.1f}",
            flush=True,
        )
    n = len(results)
    mean = lambda v, k: sum(r[v][k] for r in results.values()) / n  # noqa: E731
    print(
        f"{'mean of ' + str(n):16s} | {mean(one, 'pa_mpjpe_mm'):7.1f} {mean(two, 'pa_mpjpe_mm'):7.1f} | "
        f"{mean(one, 'pixel_error'):6.2f} {mean(two, 'pixel_error'):6.2f} | {mean(one, 'pck'):6.3f} "
        f"{mean(two, 'pck'):6.3f} | {mean(one, 'fps'):5.1f} {mean(two, 'fps'):5.1f}"
    )
    better = sum(r[two]["pa_mpjpe_mm"] < r[one]["pa_mpjpe_mm"] for r in results.values())
    sharper = sum(r[two]["pixel_error"] < r[one]["pixel_error"] for r in results.values())
    print(
        f"{two} has the lower PA-MPJPE on {better} of {n} clips and the lower 2D error on {sharper}; it runs at "
        f"{mean(two, 'fps') / mean(one, 'fps'):.2f}x the frame rate of {one} (rotation search: "
        f"{params.pose.rotation_search})"
    )
    name = "pose_models.json" if a.compare == "model" else "pose_fusion.json"
    out = ROOT / "bench" / "results" / name
    out.write_text(
        json.dumps({"rotation_search": params.pose.rotation_search, "variants": changes, "clips": results}, indent=1)
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
