"""The pose stage's figures: what the model sees, what the search changed, confidence over time, and the
contact sheet (matplotlib; frames come in as RGB arrays, nothing here runs the estimator)."""

from __future__ import annotations

import numpy as np

from sfv.frame_grid import frame_grid
from sfv.keypoints import BLAZEPOSE_EDGES
from sfv.plots import crop_box, plt
from sfv.pose.estimator import FramePose
from sfv.pose.stage import draw_pose, frame_label
from sfv.pose.tracking import ClipPoses


def what_the_model_sees(rgb: np.ndarray, pose: FramePose | None, frame_number: int):
    """One frame with BlazePose's 33 landmarks drawn on it (left), and the same landmarks in 3D, metres about
    the mid-hip, seen from the side (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1.6, 1]})
    axes[0].imshow(rgb if pose is None else draw_pose(rgb, pose.keypoints_2d, pose.confidence))
    axes[0].set_title(
        f"frame {frame_number}: " + ("nobody found" if pose is None else f"mean confidence {pose.score:.2f}"),
        fontsize=9,
    )
    axes[0].axis("off")
    if pose is not None:
        k3 = pose.keypoints_3d
        for a, b in BLAZEPOSE_EDGES:
            axes[1].plot(k3[[a, b], 2], -k3[[a, b], 1], color="#2ca02c")
        axes[1].set_aspect("equal")
        axes[1].set_xlabel("z (m, away from the camera)")
        axes[1].set_ylabel("up (m)")
        axes[1].set_title("3D landmarks, side view", fontsize=9)
    return fig


def search_changes(
    poses: ClipPoses, picks: list[int], images: dict[int, np.ndarray], first: int, truth_2d: np.ndarray | None = None
):
    """Per picked frame (clip-relative), the plain video-mode result (left, red) beside the stage's (right,
    green), cropped around them; with `truth_2d` (T, 17, 2, clip frames) the true COCO keypoints in white."""
    fig, axes = plt.subplots(len(picks), 2, figsize=(9, 3.6 * len(picks)), squeeze=False)
    for row, i in enumerate(picks):
        img = images[i]
        points = [
            kp
            for kp, found in (
                (poses.keypoints_2d[i], poses.detected[i]),
                (poses.baseline_2d[i], poses.baseline_detected[i]),
            )
            if found
        ]
        if truth_2d is not None:
            points.append(truth_2d[i])
        x0, y0, x1, y1 = crop_box(np.concatenate(points)[None], img.shape[1], img.shape[0], margin=0.5)
        for col, (kp, conf, title) in enumerate(
            [
                (poses.baseline_2d[i], poses.baseline_confidence[i], "plain BlazePose (video mode)"),
                (poses.keypoints_2d[i], poses.confidence[i], frame_label(poses, i, first + i)),
            ]
        ):
            ax = axes[row, col]
            ax.imshow(draw_pose(img, kp, conf, colour=(220, 40, 40) if col == 0 else (40, 200, 60)))
            if truth_2d is not None:
                g = truth_2d[i]
                ax.scatter(g[:, 0], g[:, 1], s=6, color="white", edgecolors="black", linewidths=0.3, zorder=3)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y1, y0)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return fig


def confidence_over_time(poses: ClipPoses, first: int, fps: float):
    """Mean landmark confidence per frame, for the stage's result and plain BlazePose; frames found in a
    turned image marked."""
    t = (first + np.arange(len(poses.detected))) / fps
    turned = poses.rotation != 0
    fig, ax = plt.subplots(figsize=(8, 2.8))
    ax.plot(t, poses.baseline_confidence.mean(1), color="#d62728", lw=1, label="plain BlazePose")
    ax.plot(t, poses.confidence.mean(1), color="#2ca02c", lw=1.5, label="stage (search + actor)")
    ax.scatter(
        t[turned], poses.confidence.mean(1)[turned], s=10, color="#1f77b4", label="found in a turned image", zorder=3
    )
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mean confidence")
    ax.legend(fontsize=7, loc="lower left")
    return fig


def contact_sheet(poses: ClipPoses, picks, images: dict[int, np.ndarray], first: int, title: str):
    """The picked frames with the kept pose drawn on each, labelled with how it was found."""
    return frame_grid(
        [draw_pose(images[i], poses.keypoints_2d[i], poses.confidence[i]) for i in picks],
        [frame_label(poses, i, first + i) for i in picks],
        title,
        panel_width=3.4,
        title_size=7,
    )
