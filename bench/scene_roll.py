"""An experiment, not part of the pipeline: the camera's roll read from the scene. The reconstruction takes the
camera as level (`reconstruct.level_camera`); both real clips from pose2sim were filmed by rolled cameras (their
calibration: 13.4 and -26.1 deg), and there the level camera's up is 13.7 and 24.2 deg off.

Walls, door frames, windows and posts are vertical, and a rolled camera sees them lean together. Every straight
segment of the image (OpenCV's line segment detector) spans, with the camera's centre, a plane; the segments of
vertical edges lie in planes that contain the world's up. A RANSAC over pairs of near-vertical segments finds the
directions that the most segment length agrees with, one after another (a room also has receding horizontal edges,
a force plate's long sides, that meet elsewhere). The person's own outline (segments along a bone) is left out. The
candidate nearest the roll of the person's median torso is taken (the torso is a poor measure of the roll itself:
people lean; it tells the walls from the floor).

    python bench/scene_roll.py     # needs the pose stage's outputs; the real clips' truth needs the pose2sim wheel

Prints per clip the true roll (calibration or the render's camera), the candidates (roll, support in image heights
of segments per frame looked at), the one chosen, and the level camera's up error. Measured: the real clips' roll is
found within 0.4 deg (13.2 and -25.7), but on the rendered clips, which have no walls, spurious candidates of the
same support appear (up to 0.45 image heights per frame against 0.49 for the true one on pose2sim_demo), so no
threshold tells them apart and the pipeline keeps the level camera.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass
class RollCandidate:
    roll_deg: float  # the camera's roll that this direction means (0: level; positive: up leans to image right)
    direction: np.ndarray  # (3,) unit vector in camera coordinates (x right, y down, z forward), pointing up
    support: float  # total length of the agreeing segments, in image heights per frame looked at


def line_segments(rgb: np.ndarray, min_length: float) -> np.ndarray:
    """(N, 4) segments x0, y0, x1, y1 in pixels at least `min_length` long."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    found = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD).detect(gray)[0]
    if found is None:
        return np.zeros((0, 4))
    seg = found.reshape(-1, 4).astype(float)
    return seg[np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]) >= min_length]


def roll_of(direction: np.ndarray) -> float:
    """Degrees: the angle of an up direction (camera coordinates) from the image's up, in the image plane."""
    return float(np.degrees(np.arctan2(direction[0], -direction[1])))


def vertical_candidates(
    segments: np.ndarray,
    K: np.ndarray,
    frames: int,
    height: int,
    count: int = 3,
    max_lean_deg: float = 45.0,
    tolerance_deg: float = 1.0,
    iterations: int = 1500,
    seed: int = 0,
) -> list[RollCandidate]:
    """Up to `count` directions within `max_lean_deg` of the image's up that the most near-vertical segment length
    (segments gathered from `frames` frames of `height` pixels) points at, strongest first."""
    if len(segments) < 2:
        return []
    ends = [np.c_[segments[:, k : k + 2], np.ones(len(segments))] @ np.linalg.inv(K).T for k in (0, 2)]
    normals = np.cross(*ends)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    dx, dy = segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]
    upright = np.degrees(np.arctan2(np.abs(dx), np.abs(dy))) < max_lean_deg
    normals, length = normals[upright], np.hypot(dx, dy)[upright]
    rng = np.random.default_rng(seed)
    within = np.sin(np.radians(tolerance_deg))
    free = np.ones(len(normals), dtype=bool)
    out: list[RollCandidate] = []
    for _ in range(count):
        idx = np.flatnonzero(free)
        if len(idx) < 2:
            break
        best, best_score = None, 0.0
        for _ in range(iterations):
            i, j = rng.choice(idx, 2, replace=False)
            d = np.cross(normals[i], normals[j])
            norm = np.linalg.norm(d)
            if norm < 1e-9:
                continue
            d = d / norm * (-1.0 if d[1] > 0 else 1.0)  # pointing up the image (y down)
            if -d[1] < np.cos(np.radians(max_lean_deg)):
                continue
            score = length[idx][np.abs(normals[idx] @ d) < within].sum()
            if score > best_score:
                best, best_score = d, score
        if best is None:
            break
        free &= ~(np.abs(normals @ best) < within)
        out.append(RollCandidate(roll_of(best), best, float(best_score) / (frames * height)))
    return out


def near_bones(segments: np.ndarray, keypoints_2d: np.ndarray, reach: float) -> np.ndarray:
    """(N,) bool: the segment's midpoint lies within `reach` pixels of one of the person's bones (BlazePose's
    edges between the keypoints (33, 2)): the outline of a limb, not the scene."""
    from sfv.keypoints import BLAZEPOSE_EDGES

    if not len(segments):
        return np.zeros(0, dtype=bool)
    mid = (segments[:, :2] + segments[:, 2:]) / 2
    a = keypoints_2d[[e[0] for e in BLAZEPOSE_EDGES]]
    b = keypoints_2d[[e[1] for e in BLAZEPOSE_EDGES]]
    ab = b - a
    u = np.clip(np.einsum("nkd,kd->nk", mid[:, None] - a, ab) / np.maximum((ab**2).sum(1), 1e-9), 0.0, 1.0)
    gap = np.linalg.norm(mid[:, None] - (a + u[..., None] * ab), axis=-1)
    return gap.min(axis=1) <= reach


def scene_candidates(
    frames: Iterable[np.ndarray],
    K: np.ndarray,
    fps: float,
    keypoints_2d: np.ndarray | None = None,
    detected: np.ndarray | None = None,
    every_seconds: float = 1 / 3,
    min_length: float = 0.05,
    limb_reach: float = 0.1,
) -> list[RollCandidate]:
    """The vertical-direction candidates of a clip: segments at least `min_length` image heights long from one frame
    every `every_seconds`, leaving out the outline of the person (a standing person's legs are near-vertical edges
    too): segments whose middle is within `limb_reach` of their height from a bone, where `keypoints_2d` (T, 33, 2)
    found them (`detected`)."""
    step = max(1, round(every_seconds * fps))
    found, looked, height = [], 0, 1
    for i, rgb in enumerate(frames):
        if i % step:
            continue
        height = rgb.shape[0]
        seg = line_segments(rgb, min_length * height)
        if keypoints_2d is not None and (detected is None or detected[i]):
            kp = keypoints_2d[i]
            size = float(np.ptp(kp[:, 1])) or float(height)
            seg = seg[~near_bones(seg, kp, limb_reach * size)]
        found.append(seg)
        looked += 1
    if not looked:
        return []
    return vertical_candidates(np.concatenate(found), K, looked, height)


def pick_roll(
    candidates: list[RollCandidate], torso_roll_deg: float, min_support: float = 0.3, max_from_torso_deg: float = 30.0
) -> RollCandidate | None:
    """The candidate with at least `min_support` image heights of segments per frame whose roll is nearest the
    torso's, if within `max_from_torso_deg` of it; None (keep the camera level) otherwise."""
    strong = [c for c in candidates if c.support >= min_support]
    if not strong:
        return None
    best = min(strong, key=lambda c: abs(c.roll_deg - torso_roll_deg))
    return best if abs(best.roll_deg - torso_roll_deg) <= max_from_torso_deg else None


def main() -> None:
    from sfv import paths
    from sfv.camera import intrinsics
    from sfv.config import load_params
    from sfv.keypoints import MID_HIP, MID_SHOULDER, body_map
    from sfv.pose.poses_file import load_poses
    from sfv.reconstruct.stage import prepare
    from sfv.skeleton import load_character
    from sfv.video import probe, read_frames

    sys.path.insert(0, str(ROOT / "bench"))
    import pose2sim_reference as reference

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sfv-pose2sim")
    a = ap.parse_args()
    params, skeleton = load_params(ROOT / "params.yaml"), load_character("humanoid")
    bodies = body_map(skeleton)
    truths = {}
    for clip, (folder, cam, _) in reference.CLIPS.items():
        cams = reference.qualisys_cameras(reference.fetch_demo(a.cache, folder) / "calibration" / "Calib.qca.txt")
        truths[clip] = cams[cam][1] @ np.array([0.0, 0.0, 1.0])  # the world's up (z) in the clip camera's frame
    print(
        "| clip | true roll | candidates (roll deg, support) | chosen | level camera's up error deg |\n"
        "|---|---|---|---|---|"
    )
    for clip in [*reference.CLIPS, *params.render.clips]:
        entry = params.clips[clip]
        video = ROOT / paths.clip_video(clip, entry.source)
        poses = load_poses(ROOT / f"data/poses/{clip}.npz", clip)
        info, meta = probe(video), poses["meta"]
        found = scene_candidates(
            read_frames(video, meta["first"], meta["end"]),
            intrinsics(info.width, info.height, 45.0),
            info.fps,
            poses["keypoints_2d"],
            poses["detected"],
        )
        level = prepare(poses, skeleton, params.reconstruct)
        up = level.camera.camera.R[:, 1]
        if clip in truths:
            true_up = truths[clip]
        else:
            true_up = np.load(ROOT / paths.ground_truth(clip))["camera_R"] @ np.array([0.0, 0.0, 1.0])
            true_up = true_up if true_up.ndim == 1 else true_up[0]
        torso = level.camera.camera_joints
        det = poses["detected"].astype(bool)
        lean = np.median(torso[det, bodies.role(MID_SHOULDER)] - torso[det, bodies.role(MID_HIP)], axis=0)
        chosen = pick_roll(found, roll_of(lean))
        error = np.degrees(np.arccos(np.clip(up @ true_up, -1.0, 1.0)))
        print(
            f"| {clip} | {roll_of(true_up):.1f} | "
            f"{', '.join(f'{c.roll_deg:.1f} ({c.support:.2f})' for c in found) or '-'} "
            f"| {'-' if chosen is None else f'{chosen.roll_deg:.1f}'} | {error:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
