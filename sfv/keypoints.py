"""Keypoint sets, defined once for every stage: BlazePose's 33 landmarks (the pose stage), the COCO-17
subset the ground-truth renders and the metrics use, their limb graphs, and how landmarks meet a character's
bodies (the reconstruction), read from the character's file (`body_map`).

BlazePose names are the subject's sides ("left_shoulder" is the person's left), as in COCO.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLAZEPOSE33 = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
COCO17 = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
#: BlazePose index of each COCO-17 keypoint (same names)
BLAZEPOSE_TO_COCO = np.array([BLAZEPOSE33.index(n) for n in COCO17])
#: the 12 limb joints (shoulders, elbows, wrists, hips, knees, ankles): what 3D errors are measured on
LIMB_JOINTS = np.array([COCO17.index(n) for n in COCO17[5:]])
#: COCO's limb graph, for drawing
COCO_EDGES = [
    (15, 13),
    (13, 11),
    (16, 14),
    (14, 12),
    (11, 12),
    (5, 11),
    (6, 12),
    (5, 6),
    (5, 7),
    (6, 8),
    (7, 9),
    (8, 10),
    (1, 2),
    (0, 1),
    (0, 2),
    (1, 3),
    (2, 4),
    (3, 5),
    (4, 6),
]
#: BlazePose's limb graph, for drawing
BLAZEPOSE_EDGES = [
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (24, 26),
    (26, 28),
    (27, 29),
    (29, 31),
    (27, 31),
    (28, 30),
    (30, 32),
    (28, 32),
    (15, 19),
    (16, 20),
    (0, 2),
    (0, 5),
    (2, 7),
    (5, 8),
    (9, 10),
]

#: the landmark groups the reconstruction finds its way by: the mid-hip (the root), the mid-shoulder (the torso's
#: top), the hips (which way the body faces) and the ankles (where the ground is). A character's keypoint map
#: must give a body for each (`BodyMap.role`).
MID_HIP = ("left_hip", "right_hip")
MID_SHOULDER = ("left_shoulder", "right_shoulder")
ROLES = {
    "mid-hip": MID_HIP,
    "mid-shoulder": MID_SHOULDER,
    "left hip": ("left_hip",),
    "right hip": ("right_hip",),
    "left ankle": ("left_ankle",),
    "right ankle": ("right_ankle",),
}


class KeypointMapError(ValueError):
    """A character file whose keypoint map cannot be used (the message names the file, the entry and the fix)."""


@dataclass(frozen=True)
class BodyMap:
    """How the pose estimator's landmarks meet one character's bodies (its file's `keypoints`: each body -> the
    BlazePose landmarks whose mean stands for it; what motion reconstruction fits), and how high its ankle joints
    stand above the ground (`foot_height`)."""

    character: str
    landmarks: tuple[tuple[str, tuple[str, ...]], ...]  # (body, its landmarks), in the file's order
    foot_height: float

    @property
    def names(self) -> list[str]:
        """The mapped bodies, in the map's order (the order of every target array)."""
        return [body for body, _ in self.landmarks]

    def role(self, landmarks: tuple[str, ...]) -> int:
        """The index of the body that stands for exactly these landmarks (see ROLES)."""
        for k, (_, group) in enumerate(self.landmarks):
            if group == tuple(landmarks):
                return k
        raise KeypointMapError(
            f"sfv/characters/{self.character}.yaml: keypoints has no body for the landmarks "
            f"{list(landmarks)}; add one (e.g. `root: {list(MID_HIP)}`)"
        )

    def joints(self, keypoints: np.ndarray) -> np.ndarray:
        """BlazePose keypoints (..., 33, D) -> the mapped bodies, in the map's order (..., J, D)."""
        return np.stack(
            [keypoints[..., [BLAZEPOSE33.index(n) for n in group], :].mean(-2) for _, group in self.landmarks], axis=-2
        )

    def confidence(self, confidence: np.ndarray, detected: np.ndarray) -> np.ndarray:
        """Per-frame confidence (T, J) of each mapped body: the least confident landmark it uses (0 where no one
        was detected)."""
        conf = np.stack(
            [confidence[:, [BLAZEPOSE33.index(n) for n in group]].min(1) for _, group in self.landmarks], axis=1
        )
        return np.where(detected[:, None], conf, 0.0)


def body_map(skeleton) -> BodyMap:
    """The keypoint map of a character (its file's `keypoints` and `foot_height`), checked."""
    where = f"sfv/characters/{skeleton.name}.yaml"
    cfg = skeleton.settings
    if "keypoints" not in cfg or "foot_height" not in cfg:
        raise KeypointMapError(
            f"{where}: needs `keypoints` (body: [BlazePose landmarks]) and `foot_height` (its "
            "ankle joints above the ground, standing) to be reconstructed from video; see "
            "humanoid.yaml. A character without them takes motions by retargeting (sfv.retarget)"
        )
    pairs = []
    for body, group in cfg["keypoints"].items():
        if body not in skeleton.body_names:
            raise KeypointMapError(
                f"{where}: keypoints names {body!r}, which is not one of its bodies ({', '.join(skeleton.body_names)})"
            )
        unknown = [n for n in group if n not in BLAZEPOSE33]
        if unknown or not group:
            raise KeypointMapError(
                f"{where}: keypoints.{body}: {unknown or 'no landmarks'} are not BlazePose "
                f"landmarks; use names from sfv.keypoints.BLAZEPOSE33 ({', '.join(BLAZEPOSE33)})"
            )
        pairs.append((body, tuple(group)))
    mapping = BodyMap(skeleton.name, tuple(pairs), float(cfg["foot_height"]))
    for group in ROLES.values():
        mapping.role(group)  # every role has its body
    return mapping
