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
# # 03 · Pose estimation: 2D keypoints, 3D pose and confidence in every frame
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
#   near their last position instead; when a more visible bystander is all the detector will report, the
#   people it found are painted out and the frame is searched again. Frames where the actor is not found
#   stay in the output with confidence 0; nothing is made up.
#
# The kept pose is averaged with the candidates that agree with it (the same person seen turned or
# cropped), which cuts the 3D error a little on most rendered clips.
#
# The code is in `sfv/pose/`: `estimator.py` (the BlazePose interface, image rotations), `tracking.py` (the
# search and the actor), `metrics.py`, `stage.py` (files, the stage's steps), `figures.py`. Parameters:
# `params.yaml`, section `pose` (printed below); the clip comes from `clips`.

# %% tags=["parameters"]
params_file = "params.yaml"
clip = "jump"

# %%
from IPython.display import Image, Video, display

from sfv import paths
from sfv.clips import file_sha256
from sfv.config import show
from sfv.frame_grid import evenly_spaced, frames_at
from sfv.io import write_json, write_text
from sfv.notebook import stage_params
from sfv.plots import save_figure
from sfv.pose import figures, stage
from sfv.pose.estimator import BlazePose
from sfv.render.ground_truth import load_gt
from sfv.video import probe

params = stage_params(params_file)
cfg, entry = params.pose, params.clips[clip]
print(show(cfg))
video = paths.clip_video(clip, entry.source)
plot_dir = paths.clip_plot_dir("pose", clip)
gt = load_gt(paths.ground_truth(clip)) if entry.is_mocap else None
print(
    f"clip {clip!r}: {video}, frames {list(entry.video_frames)} of its video; "
    f"ground truth: {'yes' if gt else 'no (a real video)'}"
)

# %% [markdown]
# ## What the model sees
#
# One frame from the middle of the clip, and BlazePose's answer on it: 33 landmarks in the image
# (left), and the same landmarks in 3D, metres about the mid-hip (right, seen from the side).

# %%
first = entry.video_frames[0]
end = entry.video_frames[1] if entry.video_frames[1] is not None else probe(video).frames
middle = (end - first) // 2
shown = frames_at(video, [middle], first, end)[middle]
probe_model = BlazePose(video=False, model=cfg.model)
one = probe_model.process(shown)
probe_model.close()
display(
    Image(save_figure(figures.what_the_model_sees(shown, one, first + middle), plot_dir / "what_the_model_sees.png"))
)

# %% [markdown]
# ## Run the stage
#
# Video mode first on every frame (it tracks the person from frame to frame, so it is fast), then the
# search on the frames `rotation_search` selects. The result and the plain video-mode result are both
# kept in `data/poses/<clip>.npz`.

# %%
poses, facts = stage.estimate_video(clip, video, entry.video_frames, cfg)
stage.save_poses(paths.poses_file(clip), clip, poses, facts, cfg, file_sha256(video))
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
picks = stage.changed_frames(poses)
if picks:
    truth = gt["keypoints_2d"][first:end, :17] if gt is not None else None
    fig = figures.search_changes(poses, picks, frames_at(video, picks, first, end), first, truth)
    display(Image(save_figure(fig, plot_dir / "search_changes.png")))
else:
    print("the search changed no frame of this clip")

# %% [markdown]
# ## Confidence over time
#
# Mean landmark confidence per frame, for the stage's result and for plain BlazePose. A gap at zero is a
# frame where the actor was not found (recorded, not filled in).

# %%
display(Image(save_figure(figures.confidence_over_time(poses, first, facts["fps"]), plot_dir / "confidence.png")))
write_text(paths.pose_confidence_file(clip), stage.confidence_table(poses, first, facts["fps"]))

# %% [markdown]
# ## Contact sheet and overlay video

# %%
picks = evenly_spaced(end - first, cfg.contact_sheet_frames)
fig = figures.contact_sheet(
    poses,
    picks,
    frames_at(video, picks, first, end),
    first,
    f"{clip}: BlazePose + rotation search ({cfg.rotation_search}) + actor ({cfg.actor})",
)
display(Image(save_figure(fig, plot_dir / "contact_sheet.png")))
if cfg.overlay_video:
    stage.write_overlay(video, paths.pose_overlay(clip), poses, first, end, facts["fps"])
    display(Video(str(paths.pose_overlay(clip)), embed=False, width=480))

# %%
write_json(paths.clip_metrics_file("pose", clip), metrics)
print(f"poses: {paths.poses_file(clip)}; metrics: {paths.clip_metrics_file('pose', clip)}")
