"""Pose-stage speed: frames per second of `sfv.pose.tracking.estimate_clip` against a bare mediapipe
BlazePose loop (video mode, the same model) on the same frames, in one run.

Frames: the shipped Sports2D clip, frames 0-139 (960x540; the man on the wall, the woman walking by),
decoded into memory first so only estimation is timed. Prints the bare loop, the stage with the
rotation search off (target: at least 90% of the bare loop), and its cost with the search on
(auto and all). Run: `python bench/pose_throughput.py` (or `make bench`), on an otherwise idle machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

CLIP = Path(__file__).resolve().parents[1] / "data" / "clips" / "sports2d_demo.mp4"


def bare_loop(frames) -> float:
    from mediapipe.python.solutions import pose as mp_pose

    model = mp_pose.Pose(static_image_mode=False, model_complexity=1)
    t0 = time.perf_counter()
    for f in frames:
        model.process(f)
    dt = time.perf_counter() - t0
    model.close()
    return len(frames) / dt


def stage(frames, mode: str) -> tuple[float, int]:
    from sfv.pose.tracking import TrackSettings, estimate_clip

    t0 = time.perf_counter()
    out = estimate_clip(frames, TrackSettings(rotation_search=mode))
    return len(frames) / (time.perf_counter() - t0), int(out.searched.sum())


def main(first: int = 0, end: int = 140, repeats: int = 2) -> None:
    from sfv.video import read_frames

    frames = list(read_frames(CLIP, first, end))
    bare_loop(frames[:10])  # warm-up (model load, XNNPACK)
    bare = max(bare_loop(frames) for _ in range(repeats))
    off, searched_off = max(stage(frames, "off") for _ in range(repeats))
    auto, searched_auto = stage(frames, "auto")
    every, _ = stage(frames, "all")
    print(f"frames: {len(frames)} of {CLIP.name} ({frames[0].shape[1]}x{frames[0].shape[0]}), best of {repeats}")
    print(f"bare mediapipe loop (video mode):        {bare:6.1f} frames/s")
    print(
        f"sfv stage, rotation search off:          {off:6.1f} frames/s ({off / bare:.0%} of bare; "
        f"{searched_off} frames searched for the actor)"
    )
    print(
        f"sfv stage, rotation search auto:         {auto:6.1f} frames/s ({auto / bare:.0%}; {searched_auto} searched)"
    )
    print(f"sfv stage, rotation search all:          {every:6.1f} frames/s ({every / bare:.0%})")


if __name__ == "__main__":
    main()
