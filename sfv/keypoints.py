"""Keypoint sets, defined once for every stage: BlazePose's 33 landmarks (the pose stage), the COCO-17
subset the ground-truth renders and the metrics use, their limb graphs, and how landmarks meet the
humanoid's joints (the reconstruction).

BlazePose names are the subject's sides ("left_shoulder" is the person's left), as in COCO.
"""

from __future__ import annotations

import numpy as np

BLAZEPOSE33 = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
COCO17 = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
          "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
          "right_knee", "left_ankle", "right_ankle")
#: BlazePose index of each COCO-17 keypoint (same names)
BLAZEPOSE_TO_COCO = np.array([BLAZEPOSE33.index(n) for n in COCO17])
#: the 12 limb joints (shoulders, elbows, wrists, hips, knees, ankles): what 3D errors are measured on
LIMB_JOINTS = np.array([COCO17.index(n) for n in COCO17[5:]])
#: COCO's limb graph, for drawing
COCO_EDGES = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
              (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6)]
#: BlazePose's limb graph, for drawing
BLAZEPOSE_EDGES = [(11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24), (23, 25),
                   (25, 27), (24, 26), (26, 28), (27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32),
                   (15, 19), (16, 20), (0, 2), (0, 5), (2, 7), (5, 8), (9, 10)]

#: How the landmarks meet the DeepMimic humanoid's joints (what motion reconstruction fits): each
#: humanoid joint -> the BlazePose landmarks whose mean stands for it. Hips, knees, ankles, shoulders,
#: elbows and wrists are one landmark each; the root is the mid-hip (BlazePose's 3D origin); the neck
#: joint (top of the chest) is the mid-shoulder; the head has no joint of its own in the humanoid, and the
#: nose and ears say where it points. BlazePose's hips sit higher and wider than anatomical hip centres,
#: and its ankles are at the malleoli: a reconstruction should weight them as approximate.
HUMANOID_JOINTS = {
    "root": ("left_hip", "right_hip"),
    "neck": ("left_shoulder", "right_shoulder"),
    "right_hip": ("right_hip",), "right_knee": ("right_knee",), "right_ankle": ("right_ankle",),
    "left_hip": ("left_hip",), "left_knee": ("left_knee",), "left_ankle": ("left_ankle",),
    "right_shoulder": ("right_shoulder",), "right_elbow": ("right_elbow",), "right_wrist": ("right_wrist",),
    "left_shoulder": ("left_shoulder",), "left_elbow": ("left_elbow",), "left_wrist": ("left_wrist",),
}


def humanoid_joints(keypoints: np.ndarray) -> np.ndarray:
    """BlazePose keypoints (..., 33, D) -> the humanoid joints of HUMANOID_JOINTS, in its order (..., 14, D)."""
    return np.stack([keypoints[..., [BLAZEPOSE33.index(n) for n in names], :].mean(-2)
                     for names in HUMANOID_JOINTS.values()], axis=-2)
