# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (sfv)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Pose estimation: 2D keypoints, 3D pose and confidence in every frame
#
# The paper's first stage (SFV §4). A pretrained estimator looks at each frame and says where the
# person's joints are in the image (2D, pixels), how they sit in space (3D, metres about the hips), and how
# sure it is of each one. Here the estimator is BlazePose (mediapipe 0.10.21, the "full" model whose weights
# ship in the wheel): 33 landmarks per person.
#
# Two things go wrong on acrobatics and real footage, and this stage handles both:
# - **Flips.** Estimators learn mostly from upright people. The paper trained with rotated images; here
#   the *rotation search* asks the detector about the frame turned by 0/90/180/270 degrees and keeps the
#   answer that agrees with the others and with the previous frame.
# - **Other people.** The detector returns one person, not always the same one. The stage follows *one
#   actor*: a pose that jumps away from where the actor was is someone else, and the actor is looked for
#   near their last position instead. Frames where the actor is not found stay in the output with
#   confidence 0; nothing is made up.
#
# The code is in `sfv/pose/`: `estimator.py` (the BlazePose interface, image rotations), `tracking.py` (the
# search and the actor), `metrics.py`, `stage.py` (files and drawings). Parameters: `params.yaml`, section
# `pose`; the clip comes from `clips`.

# %% tags=["parameters"]
clips = ["jump"]
rotation_search = "all"
weak_confidence = 0.5
tilt_degrees = 30.0
actor = "nearest"
max_jump = 0.25
lost_frames = 30
consensus_weight = 3.0
temporal_weight = 1.0
pck_threshold = 0.05
overlay_video = False
contact_sheet_frames = 8
seed = 0
clip = "jump"
clip_params = {"source": "mocap:jump", "fps": 30, "frames": [0, 20]}

# %%
import csv
import io

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, Video, display

from sfv import paths
from sfv.clips import file_sha256
from sfv.config import ClipParams, section
from sfv.io import write_json, write_text
from sfv.plots import crop_box, save_figure
from sfv.pose import stage
from sfv.pose.estimator import BlazePose
from sfv.pose.keypoints import BLAZEPOSE_EDGES
from sfv.render.ground_truth import load_gt
from sfv.video import read_frames

cfg = section("pose", dict(clips=clips, rotation_search=rotation_search, weak_confidence=weak_confidence,
                           tilt_degrees=tilt_degrees, actor=actor, max_jump=max_jump, lost_frames=lost_frames,
                           consensus_weight=consensus_weight, temporal_weight=temporal_weight,
                           pck_threshold=pck_threshold, overlay_video=overlay_video,
                           contact_sheet_frames=contact_sheet_frames))
entry = ClipParams.model_validate(clip_params)
settings = stage.settings_from_params(cfg)
video = paths.clip_video(clip, entry.source)
plot_dir = paths.clip_plot_dir("pose", clip)
gt = load_gt(paths.ground_truth(clip)) if entry.is_mocap else None
print(f"clip {clip!r}: {video}, frames {list(entry.frames)}; ground truth: {'yes' if gt else 'no (a real video)'}")
print(settings)

# %% [markdown]
# ## What the model sees
#
# One frame from the middle of the clip, and BlazePose's answer on it: 33 landmarks in the image
# (left), and the same landmarks in 3D, metres about the mid-hip (right, seen from the side).

# %%
def frames_at(indices) -> dict:
    """Only the frames a figure shows (clip-relative indices): a whole clip in memory can be gigabytes."""
    wanted = set(int(i) for i in indices)
    return {i: f for i, f in enumerate(read_frames(video, entry.frames[0], entry.frames[1])) if i in wanted}


n = sum(1 for _ in read_frames(video, entry.frames[0], entry.frames[1]))
middle = n // 2
shown = frames_at([middle])[middle]
probe_model = BlazePose(video=False)
one = probe_model.process(shown)
probe_model.close()
fig, axes = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1.6, 1]})
axes[0].imshow(shown if one is None else stage.draw_pose(shown, one.keypoints_2d, one.confidence))
axes[0].set_title(f"frame {entry.frames[0] + middle}: " + ("nobody found" if one is None else
                  f"mean confidence {one.score:.2f}"), fontsize=9)
axes[0].axis("off")
if one is not None:
    k3 = one.keypoints_3d
    for a, b in BLAZEPOSE_EDGES:
        axes[1].plot(k3[[a, b], 2], -k3[[a, b], 1], color="#2ca02c")
    axes[1].set_aspect("equal")
    axes[1].set_xlabel("z (m, away from the camera)")
    axes[1].set_ylabel("up (m)")
    axes[1].set_title("3D landmarks, side view", fontsize=9)
save_figure(fig, plot_dir / "what_the_model_sees.png")
display(Image(str(plot_dir / "what_the_model_sees.png")))

# %% [markdown]
# ## Run the stage
#
# Video mode first on every frame (it tracks the person from frame to frame, so it is fast), then the
# search on the frames `rotation_search` selects. The result and the plain video-mode result are both
# kept in `data/poses/<clip>.npz`.

# %%
poses, facts = stage.estimate_video(clip, video, tuple(entry.frames), settings)
stage.save_poses(paths.poses_file(clip), clip, poses, facts, settings, file_sha256(video))
first, end = facts["first"], facts["end"]
metrics = {**stage.summary(poses), "video": facts["video"], "first": first, "end": end}
if gt is not None:
    metrics.update(stage.gt_metrics(poses, gt, first, end, cfg.pck_threshold))
for k, v in metrics.items():
    print(f"{k:28s} {v}")

# %% [markdown]
# ## What the search changed
#
# Frames where the kept pose is not the plain video-mode one: on the left the plain result, on the right
# the stage's (and, on rendered clips, the true skeleton in white). Flips show the rotation search at work;
# a multi-person clip shows the actor being kept.

# %%
changed = np.flatnonzero((poses.source != "video") | (poses.detected != poses.baseline_detected))
if len(changed):
    # the frames where the plain result was furthest from the kept one
    gap = np.linalg.norm(poses.keypoints_2d - poses.baseline_2d, axis=-1).mean(1)
    gap[~(poses.detected & poses.baseline_detected)] = np.inf
    picks = sorted(changed[np.argsort(-gap[changed])[:3]])
    images = frames_at(picks)
    fig, axes = plt.subplots(len(picks), 2, figsize=(9, 3.6 * len(picks)), squeeze=False)
    for row, i in enumerate(picks):
        img = images[i]
        points = [kp for kp, found in ((poses.keypoints_2d[i], poses.detected[i]),
                                       (poses.baseline_2d[i], poses.baseline_detected[i])) if found]
        if gt is not None:
            points.append(gt["keypoints_2d"][first + i, :17])
        x0, y0, x1, y1 = crop_box(np.concatenate(points)[None], img.shape[1], img.shape[0], margin=0.5)
        for col, (kp, conf, title) in enumerate([
                (poses.baseline_2d[i], poses.baseline_confidence[i], "plain BlazePose (video mode)"),
                (poses.keypoints_2d[i], poses.confidence[i], stage.frame_label(poses, i, first + i))]):
            shown = stage.draw_pose(img, kp, conf, colour=(220, 40, 40) if col == 0 else (40, 200, 60))
            axes[row, col].imshow(shown)
            if gt is not None:
                g = gt["keypoints_2d"][first + i, :17]
                axes[row, col].scatter(g[:, 0], g[:, 1], s=6, color="white", edgecolors="black", linewidths=0.3,
                                       zorder=3)
            axes[row, col].set_xlim(x0, x1)
            axes[row, col].set_ylim(y1, y0)
            axes[row, col].set_title(title, fontsize=8)
            axes[row, col].axis("off")
    fig.tight_layout()
    save_figure(fig, plot_dir / "search_changes.png")
    display(Image(str(plot_dir / "search_changes.png")))
else:
    print("the search changed no frame of this clip")

# %% [markdown]
# ## Confidence over time
#
# Mean landmark confidence per frame, for the stage's result and for plain BlazePose. A gap at zero is a
# frame where the actor was not found (recorded, not filled in).

# %%
t = (first + np.arange(len(poses.detected))) / facts["fps"]
fig, ax = plt.subplots(figsize=(8, 2.8))
ax.plot(t, poses.baseline_confidence.mean(1), color="#d62728", lw=1, label="plain BlazePose")
ax.plot(t, poses.confidence.mean(1), color="#2ca02c", lw=1.5, label="stage (search + actor)")
ax.scatter(t[poses.rotation != 0], poses.confidence.mean(1)[poses.rotation != 0], s=10, color="#1f77b4",
           label="found in a turned image", zorder=3)
ax.set_ylim(-0.02, 1.02)
ax.set_xlabel("time (s)")
ax.set_ylabel("mean confidence")
ax.legend(fontsize=7, loc="lower left")
save_figure(fig, plot_dir / "confidence.png")
display(Image(str(plot_dir / "confidence.png")))
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(["frame", "time", "confidence", "plain_confidence", "detected"])
for i in range(len(t)):
    w.writerow([first + i, round(t[i], 4), round(float(poses.confidence[i].mean()), 4),
                round(float(poses.baseline_confidence[i].mean()), 4), int(poses.detected[i])])
write_text(paths.pose_confidence_file(clip), buf.getvalue())

# %% [markdown]
# ## Contact sheet and overlay video

# %%
picks = np.unique(np.linspace(0, n - 1, min(contact_sheet_frames, n)).round().astype(int))
images = frames_at(picks)
cols = min(len(picks), 4)
rows = int(np.ceil(len(picks) / cols))
h, w_ = images[picks[0]].shape[:2]
fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.4 * h / w_ * rows + 0.5), squeeze=False)
for ax in axes.flat:
    ax.axis("off")
for ax, i in zip(axes.flat, picks):
    ax.imshow(stage.draw_pose(images[i], poses.keypoints_2d[i], poses.confidence[i]))
    ax.set_title(stage.frame_label(poses, i, first + i), fontsize=7)
fig.suptitle(f"{clip}: BlazePose + rotation search ({cfg.rotation_search}) + actor ({cfg.actor})", fontsize=10)
fig.tight_layout()
save_figure(fig, plot_dir / "contact_sheet.png")
display(Image(str(plot_dir / "contact_sheet.png")))
if overlay_video:
    stage.write_overlay(video, paths.pose_overlay(clip), poses, first, end, facts["fps"])
    display(Video(str(paths.pose_overlay(clip)), embed=False, width=480))

# %%
write_json(paths.clip_metrics_file("pose", clip), metrics)
print(f"poses: {paths.poses_file(clip)}; metrics: {paths.clip_metrics_file('pose', clip)}")
