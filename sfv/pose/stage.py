"""The pose stage on one clip: read its video, estimate, save, measure, draw.

`data/poses/<clip>.npz` keeps every frame of the clip's range: missing frames stay in with
`detected` false and confidence 0. It also keeps the plain video-mode result of every frame (no
search, no actor tracking) so the stage can say what the search changed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from sfv.io import write_npz
from sfv.keypoints import BLAZEPOSE33, BLAZEPOSE_EDGES, BLAZEPOSE_TO_COCO, LIMB_JOINTS
from sfv.pose.metrics import pa_mpjpe, pck, pixel_error
from sfv.pose.poses_file import POSES_FORMAT
from sfv.pose.tracking import ClipPoses, estimate_clip
from sfv.settings.pose import TrackSettings
from sfv.video import VideoError, check_range, probe, read_frames


def estimator_name(model: str) -> str:
    """What the poses file says made it."""
    from sfv.pose.models import MODELS

    return f"BlazePose {model} (mediapipe 0.10.21, model_complexity={MODELS[model][0]})"


class NoPersonError(ValueError):
    """The estimator found nobody in any frame of a clip."""


def estimate_video(
    clip: str, video: str | Path, frames: tuple, settings: TrackSettings, progress: bool = True
) -> tuple[ClipPoses, dict]:
    """Poses of the clip's frame range [first, end) of `video`, and facts about the video."""
    from tqdm.auto import tqdm

    where = f"clips.{clip}"
    try:
        info = probe(video)
    except VideoError as e:
        raise VideoError(f"{where}: {e}") from None
    first, end = check_range(info, frames[0], frames[1], where)
    with tqdm(total=end - first, desc=f"pose {clip}", unit="frame", disable=not progress) as bar:
        poses = estimate_clip(read_frames(video, first, end), settings, progress=bar.update, fps=info.fps)
    if not poses.detected.any():
        raise NoPersonError(
            f"{where}: no person found in any of the {end - first} frames [{first}, {end}) of {video}; check that "
            "the clip shows a whole person, or set `frames` to a range where one is visible"
        )
    facts = {
        "video": str(video),
        "first": first,
        "end": end,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
    }
    return poses, facts


def save_poses(
    path: str | Path, clip: str, poses: ClipPoses, facts: dict, settings: TrackSettings, video_sha256: str
) -> Path:
    meta = {
        "format": POSES_FORMAT,
        "clip": clip,
        "estimator": estimator_name(settings.model),
        "video_sha256": video_sha256,
        "settings": {k: getattr(settings, k) for k in TrackSettings.model_fields},
        **facts,
    }
    arrays = {
        k: getattr(poses, k)
        for k in (
            "keypoints_2d",
            "keypoints_3d",
            "confidence",
            "detected",
            "rotation",
            "searched",
            "source",
            "baseline_2d",
            "baseline_3d",
            "baseline_confidence",
            "baseline_detected",
        )
    }
    return write_npz(
        path, compress=True, meta=np.array(json.dumps(meta)), keypoint_names=np.array(BLAZEPOSE33), **arrays
    )


def summary(poses: ClipPoses) -> dict:
    """Figures that need no ground truth."""
    det = poses.detected
    return {
        "frames": int(len(det)),
        "detection_rate": round(float(det.mean()), 4),
        "mean_confidence": round(float(poses.confidence[det].mean()) if det.any() else 0.0, 4),
        "plain_detection_rate": round(float(poses.baseline_detected.mean()), 4),
        "searched_frames": int(poses.searched.sum()),
        "frames_from_rotated_image": int((poses.rotation != 0).sum()),
        "frames_changed_by_search": int(((poses.source != "video") | (det != poses.baseline_detected)).sum()),
        "seconds_video_mode": round(poses.seconds.get("video", 0.0), 2),
        "seconds_search": round(poses.seconds.get("search", 0.0), 2),
    }


def gt_metrics(poses: ClipPoses, gt: dict, first: int, end: int, threshold: float = 0.05) -> dict:
    """2D error (px), PCK and PA-MPJPE (mm) on COCO-17 against the rendered body's keypoints, for the
    stage's result and for plain BlazePose (video mode, no search)."""
    gt_2d = gt["keypoints_2d"][first:end, :17]
    gt_3d = gt["keypoints_3d"][first:end, :17]
    out = {}
    for name, kp2, kp3, det in (
        ("", poses.keypoints_2d, poses.keypoints_3d, poses.detected),
        ("plain_", poses.baseline_2d, poses.baseline_3d, poses.baseline_detected),
    ):
        p2, p3 = kp2[:, BLAZEPOSE_TO_COCO], kp3[:, BLAZEPOSE_TO_COCO]
        out[f"{name}pixel_error"] = round(pixel_error(p2, gt_2d, det), 2)
        out[f"{name}pck"] = round(pck(p2, gt_2d, det, threshold), 4)
        out[f"{name}pa_mpjpe_mm"] = round(pa_mpjpe(p3[:, LIMB_JOINTS], gt_3d[:, LIMB_JOINTS], det), 1)
    return out


def draw_pose(
    rgb: np.ndarray, keypoints_2d: np.ndarray, confidence: np.ndarray, colour=(40, 200, 60), label: str = ""
) -> np.ndarray:
    """The frame with the skeleton drawn on it (low-confidence parts thinner), and an optional label."""
    import cv2

    img = np.ascontiguousarray(rgb.copy())
    scale = max(1, round(img.shape[0] / 360))
    pts = np.round(keypoints_2d).astype(int)
    for a, b in BLAZEPOSE_EDGES:
        if min(confidence[a], confidence[b]) > 0.0:
            width = scale * (2 if min(confidence[a], confidence[b]) >= 0.5 else 1)
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), colour, width, cv2.LINE_AA)
    for p, c in zip(pts, confidence):
        if c > 0.0:
            cv2.circle(img, tuple(p), 2 * scale, colour if c >= 0.5 else (230, 160, 30), -1, cv2.LINE_AA)
    if label:
        cv2.putText(
            img,
            label,
            (8 * scale, 18 * scale),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5 * scale,
            (255, 255, 255),
            3 * scale,
            cv2.LINE_AA,
        )
        cv2.putText(
            img, label, (8 * scale, 18 * scale), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, (20, 20, 20), scale, cv2.LINE_AA
        )
    return img


def frame_label(poses: ClipPoses, i: int, frame_number: int) -> str:
    if not poses.detected[i]:
        return f"frame {frame_number}: no actor found"
    how = {
        "video": "tracked",
        "redetected": "re-detected",
        "crop": "found near the actor",
        "predicted": "found where the actor's motion led",
        "backward": "found searching back from where the actor was found again",
        "settled": "tracked back from where the tracker had settled on the actor",
        "unmasked": "found once the other people were painted out",
        "rotated": f"found in the image turned {int(poses.rotation[i])} deg",
    }[str(poses.source[i])]
    return f"frame {frame_number}: {how}, confidence {poses.confidence[i].mean():.2f}"


#: the overlay video's longest side (pixels): it is for looking at, and a phone's 1080x1920 source would make it
#: the largest file the stage ships
OVERLAY_MAX_SIDE = 640


def write_overlay(
    video: str | Path,
    out: str | Path,
    poses: ClipPoses,
    first: int,
    end: int,
    fps: float,
    max_side: int = OVERLAY_MAX_SIDE,
) -> Path:
    """An mp4 of the clip with the chosen pose drawn on every frame (drawn at full size, then scaled down to
    `max_side`)."""
    from PIL import Image

    from sfv.video import mp4_writer

    with mp4_writer(out, fps) as append:
        for i, rgb in enumerate(read_frames(video, first, end)):
            drawn = draw_pose(rgb, poses.keypoints_2d[i], poses.confidence[i], label=frame_label(poses, i, first + i))
            h, w = drawn.shape[:2]
            if max(h, w) > max_side:
                size = (2 * round(w * max_side / max(h, w) / 2), 2 * round(h * max_side / max(h, w) / 2))
                drawn = np.asarray(Image.fromarray(drawn).resize(size, Image.BILINEAR))
            append(drawn)
    return Path(out)


def confidence_table(poses: ClipPoses, first: int, fps: float) -> str:
    """Per-frame mean confidence of the stage's result and of plain BlazePose, as CSV (for `dvc plots`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["frame", "time", "confidence", "plain_confidence", "detected"])
    for i in range(len(poses.detected)):
        w.writerow(
            [
                first + i,
                round((first + i) / fps, 4),
                round(float(poses.confidence[i].mean()), 4),
                round(float(poses.baseline_confidence[i].mean()), 4),
                int(poses.detected[i]),
            ]
        )
    return buf.getvalue()


def changed_frames(poses: ClipPoses, count: int = 3) -> list[int]:
    """The frames (at most `count`, in order) where the kept pose is not the plain video-mode one, those where the
    two are furthest apart first: where the search and the actor tracking changed most. A frame where neither
    found anyone (the actor searched for and not found) shows no change and is never picked."""
    somebody = poses.detected | poses.baseline_detected
    changed = np.flatnonzero(((poses.source != "video") | (poses.detected != poses.baseline_detected)) & somebody)
    gap = np.linalg.norm(poses.keypoints_2d - poses.baseline_2d, axis=-1).mean(1)
    gap[~(poses.detected & poses.baseline_detected)] = np.inf
    return sorted(int(i) for i in changed[np.argsort(-gap[changed])[:count]])
