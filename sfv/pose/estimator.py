"""Per-frame pose estimators behind one small interface, and the image rotations the search uses.

An estimator takes an RGB frame and returns a `FramePose` (33 BlazePose keypoints in pixels, in metres
about the mid-hip, a confidence per keypoint) or None when it finds nobody. BlazePose comes from
mediapipe 0.10.21's legacy `solutions.pose`: the full landmark model (model_complexity=1, in the wheel) or the
heavy one (model_complexity=2, installed by `make pose-heavy`: sfv.pose.models).
Another backend only has to implement `process` and `close`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class FramePose:
    keypoints_2d: np.ndarray  # (K, 2) pixels, in the frame the estimator was given
    keypoints_3d: np.ndarray  # (K, 3) metres, origin at the mid-hip, axes along the image's (x right, y down)
    confidence: np.ndarray  # (K,) in [0, 1]: the estimator's probability that the keypoint is visible

    @property
    def score(self) -> float:
        return float(self.confidence.mean())

    def bbox(self) -> np.ndarray:
        """(x0, y0, x1, y1) around the keypoints."""
        return np.concatenate([self.keypoints_2d.min(0), self.keypoints_2d.max(0)])


class Estimator(Protocol):
    name: str

    def process(self, rgb: np.ndarray) -> FramePose | None: ...

    def close(self) -> None: ...


class BlazePose:
    """mediapipe BlazePose, its `model` "full" or "heavy". `video=True` tracks across calls (frames must come in
    order); `video=False` detects afresh on every image (what the rotation and actor searches use)."""

    name = "blazepose"

    def __init__(self, video: bool = True, min_detection_confidence: float = 0.5, model: str = "full"):
        from sfv.pose.models import complexity

        os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging: warnings and up only
        from mediapipe.python.solutions import pose as mp_pose

        self.model = model
        self._pose = mp_pose.Pose(
            static_image_mode=not video,
            model_complexity=complexity(model),
            smooth_landmarks=video,
            min_detection_confidence=min_detection_confidence,
        )

    def process(self, rgb: np.ndarray) -> FramePose | None:
        h, w = rgb.shape[:2]
        result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return None
        lm = result.pose_landmarks.landmark
        world = result.pose_world_landmarks.landmark
        return FramePose(
            keypoints_2d=np.array([[p.x * w, p.y * h] for p in lm]),
            keypoints_3d=np.array([[p.x, p.y, p.z] for p in world]),
            confidence=np.clip(np.array([p.visibility for p in lm]), 0.0, 1.0),
        )

    def close(self) -> None:
        self._pose.close()


# --- rotations --------------------------------------------------------------------------------------
def rotate_image(rgb: np.ndarray, quarter_turns: int) -> np.ndarray:
    """The frame turned counter-clockwise by 90 degrees `quarter_turns` times."""
    return np.ascontiguousarray(np.rot90(rgb, quarter_turns % 4))


def unrotate(pose: FramePose, quarter_turns: int, width: int, height: int) -> FramePose:
    """A pose found in `rotate_image(frame, k)` expressed in the original (width x height) frame.

    Pixel coordinates are continuous (the image spans [0, width] x [0, height]); the 3D keypoints turn
    about the optical axis by the same quarter turns.
    """
    k = quarter_turns % 4
    x, y = pose.keypoints_2d[:, 0], pose.keypoints_2d[:, 1]
    X, Y, Z = pose.keypoints_3d.T
    if k == 0:
        uv, xyz = np.stack([x, y], 1), np.stack([X, Y, Z], 1)
    elif k == 1:  # rotated (x', y') = (y, W - x)
        uv, xyz = np.stack([width - y, x], 1), np.stack([-Y, X, Z], 1)
    elif k == 2:
        uv, xyz = np.stack([width - x, height - y], 1), np.stack([-X, -Y, Z], 1)
    else:  # rotated (x', y') = (H - y, x)
        uv, xyz = np.stack([y, height - x], 1), np.stack([Y, -X, Z], 1)
    return FramePose(keypoints_2d=uv, keypoints_3d=xyz, confidence=pose.confidence.copy())


def crop(rgb: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The square region around `box` (x0, y0, x1, y1) twice its size, clipped to the frame; and its
    top-left corner (to map poses found in the crop back)."""
    h, w = rgb.shape[:2]
    centre = (box[:2] + box[2:]) / 2
    side = 2.0 * max(box[2] - box[0], box[3] - box[1], 32.0)
    x0, y0 = (np.clip(centre - side / 2, 0, None)).astype(int)
    x1, y1 = int(min(centre[0] + side / 2, w)), int(min(centre[1] + side / 2, h))
    return np.ascontiguousarray(rgb[y0:y1, x0:x1]), np.array([x0, y0], dtype=float)


def crop_square(rgb: np.ndarray, centre: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """The square region `side` pixels across centred on `centre`, clipped to the frame; and its top-left corner."""
    h, w = rgb.shape[:2]
    side = max(float(side), 32.0)
    x0, y0 = (np.clip(np.asarray(centre, dtype=float) - side / 2, 0, None)).astype(int)
    x1, y1 = int(min(centre[0] + side / 2, w)), int(min(centre[1] + side / 2, h))
    return np.ascontiguousarray(rgb[y0 : max(y1, y0), x0 : max(x1, x0)]), np.array([x0, y0], dtype=float)
