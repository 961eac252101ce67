"""Pose estimation over a clip: one actor followed through the video, with a rotation search for flips.

Every frame first goes through the video-mode estimator (it tracks, so it is fast). A frame is then
*searched* when that result is missing, weak, tilted far from upright (the paper's failure case:
people upside down), or jumps away from the actor; or on every frame with `rotation_search: all`.
The search asks a fresh detector about the frame turned by 0/90/180/270 degrees and, when the actor
was seen recently, about a crop around where they were. Candidates are scored by confidence, minus
how far they are from the other candidates (a tracker that drifted off the body disagrees with every
fresh detection), minus how far they are from the actor's last pose; the best one is kept. A frame where no candidate is
the actor is recorded as missing: confidence 0 and `detected` false, never an invented pose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from sfv.config import TrackSettings
from sfv.keypoints import BLAZEPOSE33
from sfv.pose.estimator import BlazePose, Estimator, FramePose, crop, rotate_image, unrotate

SHOULDERS = [BLAZEPOSE33.index("left_shoulder"), BLAZEPOSE33.index("right_shoulder")]
HIPS = [BLAZEPOSE33.index("left_hip"), BLAZEPOSE33.index("right_hip")]


@dataclass
class ClipPoses:
    """Per-frame results over a clip; missing frames have zero keypoints and confidence."""

    keypoints_2d: np.ndarray  # (T, 33, 2) pixels
    keypoints_3d: np.ndarray  # (T, 33, 3) metres about the mid-hip
    confidence: np.ndarray  # (T, 33)
    detected: np.ndarray  # (T,) bool
    rotation: np.ndarray  # (T,) degrees the chosen result was found at (0 when not rotated)
    searched: np.ndarray  # (T,) bool: the search ran on this frame
    source: np.ndarray  # (T,) str: video | rotated | crop | none
    baseline_2d: np.ndarray  # (T, 33, 2) the plain video-mode result, for comparison
    baseline_3d: np.ndarray  # (T, 33, 3)
    baseline_confidence: np.ndarray  # (T, 33)
    baseline_detected: np.ndarray  # (T,)
    seconds: dict = field(default_factory=dict)  # time spent: video, search


def torso_tilt(pose: FramePose) -> float:
    """Angle (deg) between the hips->shoulders direction and image up: 0 upright, 180 upside down."""
    v = pose.keypoints_2d[SHOULDERS].mean(0) - pose.keypoints_2d[HIPS].mean(0)
    n = np.linalg.norm(v)
    return 0.0 if n < 1e-6 else float(np.degrees(np.arccos(np.clip(-v[1] / n, -1.0, 1.0))))


def height_of(pose: FramePose) -> float:
    box = pose.bbox()
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


def centre_of(pose: FramePose) -> np.ndarray:
    """The torso's centre (mean of shoulders and hips): steadier than the box when limbs swing."""
    return pose.keypoints_2d[SHOULDERS + HIPS].mean(0)


def needs_search(pose: FramePose | None, last: FramePose | None, gap: int, s: TrackSettings) -> bool:
    if s.rotation_search == "all":
        return True
    if pose is None or pose.score < s.weak_confidence:
        return True
    if s.rotation_search == "auto" and torso_tilt(pose) > s.tilt_degrees:
        return True
    return last is not None and is_jump(pose, last, gap, s)


def is_jump(pose: FramePose, last: FramePose, gap: int, s: TrackSettings) -> bool:
    """The pose is too far from the actor's last one (seen `gap` frames ago), or too much larger or
    smaller (a detection that merged two people, or someone nearer the camera), to be the same person."""
    reach = np.sqrt(max(gap, 1))
    ratio = height_of(pose) / height_of(last)
    far = np.linalg.norm(centre_of(pose) - centre_of(last)) > s.max_jump * height_of(last) * reach
    return bool(far or not 1 / (1.5 * reach) < ratio < 1.5 * reach)


def choose(candidates: list[tuple[FramePose, str, int]], last: FramePose | None, gap: int,
           s: TrackSettings) -> tuple[FramePose, str, int] | None:
    """The candidate that is the actor, or None.

    When the actor was seen in the last `lost_frames` frames, candidates that jump away from them are
    someone else (`nearest`). The rest are scored: confidence, minus `consensus_weight` x the median
    distance to the other candidates, minus `temporal_weight` x the distance to the actor's last pose
    (distances in body heights, the temporal one per frame since). `largest` prefers the tallest person.
    """
    if last is not None and gap > s.lost_frames:
        last = None
    if last is not None and s.actor == "nearest":
        candidates = [c for c in candidates if not is_jump(c[0], last, gap, s)]
    if not candidates:
        return None
    poses = [c[0] for c in candidates]

    def score(pose: FramePose) -> float:
        h = height_of(pose)
        others = [_distance(pose, q) / h for q in poses if q is not pose]
        value = pose.score - s.consensus_weight * (float(np.median(others)) if others else 0.0)
        if last is not None:
            value -= s.temporal_weight * _distance(pose, last) / height_of(last) / max(gap, 1)
        if s.actor == "largest":
            value += h / max(height_of(q) for q in poses)
        return value

    return max(candidates, key=lambda c: score(c[0]))


def _distance(a: FramePose, b: FramePose) -> float:
    return float(np.linalg.norm(a.keypoints_2d - b.keypoints_2d, axis=1).mean())


def estimate_clip(frames: Iterable[np.ndarray], settings: TrackSettings, estimator: Estimator | None = None,
                  searcher: Estimator | None = None, progress: Callable[[int], None] | None = None) -> ClipPoses:
    """Run the estimator over `frames` (RGB, in order) with the actor tracking and rotation search.

    `estimator` (video mode) and `searcher` (fresh detections) default to BlazePose, closed at the end."""
    owned = []
    if estimator is None:
        estimator = BlazePose(video=True, model=settings.model)
        owned.append(estimator)
    if searcher is None:
        searcher = BlazePose(video=False, model=settings.model)
        owned.append(searcher)
    rows: dict[str, list] = {k: [] for k in ("kp2", "kp3", "conf", "det", "rot", "searched", "source",
                                            "b2", "b3", "bconf", "bdet")}
    last, gap = None, 0
    t_video = t_search = 0.0
    try:
        for rgb in frames:
            h, w = rgb.shape[:2]
            t0 = time.perf_counter()
            plain = estimator.process(rgb)
            t_video += time.perf_counter() - t0
            for key, val in zip(("b2", "b3", "bconf"), _arrays(plain)):
                rows[key].append(val)
            rows["bdet"].append(plain is not None)
            gap += 1
            candidates = [] if plain is None else [(plain, "video", 0)]
            search = settings.rotation_search != "off" and needs_search(plain, last, gap, settings)
            # a video result that jumps away from the actor: look for the actor near where they were
            lost_actor = last is not None and gap <= settings.lost_frames and (
                plain is None or is_jump(plain, last, gap, settings))
            if search or lost_actor:
                t0 = time.perf_counter()
                candidates += _search(rgb, searcher, last if lost_actor else None,
                                      4 if settings.rotation_search != "off" else 1, w, h)
                t_search += time.perf_counter() - t0
            chosen = choose(candidates, last, gap, settings)
            if chosen is not None:
                last, gap = chosen[0], 0
            pose = chosen[0] if chosen else None
            for key, val in zip(("kp2", "kp3", "conf"), _arrays(pose)):
                rows[key].append(val)
            rows["det"].append(pose is not None)
            rows["rot"].append(chosen[2] * 90 if chosen else 0)
            rows["searched"].append(bool(search or lost_actor))
            rows["source"].append(chosen[1] if chosen else "none")
            if progress is not None:
                progress(1)
    finally:
        for model in owned:
            model.close()
    if not rows["det"]:
        raise ValueError("no frames to estimate poses on")
    stack = lambda k, dt=None: np.array(rows[k], dtype=dt) if dt else np.stack(rows[k])  # noqa: E731
    return ClipPoses(keypoints_2d=stack("kp2"), keypoints_3d=stack("kp3"), confidence=stack("conf"),
                     detected=stack("det", bool), rotation=stack("rot", float), searched=stack("searched", bool),
                     source=stack("source", str), baseline_2d=stack("b2"), baseline_3d=stack("b3"),
                     baseline_confidence=stack("bconf"), baseline_detected=stack("bdet", bool),
                     seconds={"video": t_video, "search": t_search})


def _arrays(pose: FramePose | None):
    if pose is None:
        return np.zeros((33, 2)), np.zeros((33, 3)), np.zeros(33)
    return pose.keypoints_2d, pose.keypoints_3d, pose.confidence


def _search(rgb, searcher: Estimator, last: FramePose | None, turns: int, w: int, h: int):
    """Fresh detections of the whole frame turned by 0..turns-1 quarter turns, and of a crop around `last`."""
    found = []
    for k in range(turns):
        p = searcher.process(rotate_image(rgb, k))
        if p is not None:
            found.append((unrotate(p, k, w, h), "rotated" if k else "redetected", k))
    if last is not None:
        region, corner = crop(rgb, last.bbox())
        if min(region.shape[:2]) >= 32:
            p = searcher.process(region)
            if p is not None:
                found.append((FramePose(p.keypoints_2d + corner, p.keypoints_3d, p.confidence), "crop", 0))
    return found
