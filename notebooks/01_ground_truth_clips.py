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
# # 01 · Ground-truth clips: mocap played by a human body, filmed by a known camera
#
# Every later stage turns a video into a motion. To measure how well it does, we need videos whose true
# motion we know exactly. This notebook makes one: it takes a motion-capture clip of the DeepMimic
# humanoid (the motion library), dresses it in a human body (the `anny` body model), films it with a
# camera whose intrinsics and extrinsics we store, and keeps everything the film was made from: the
# source motion, the body's COCO keypoints in 3D and in pixels, which of them are visible, and the
# body's silhouette.
#
# The code is in `sfv/render/`: `body.py` (posing anny like the humanoid), `tiny.py` (pybullet's CPU
# renderer), `gt_clip.py` (the clip and its ground truth), `figures.py`; the pinhole camera is
# `sfv/camera.py`. Parameters come from `params.yaml`, section `render` (defaults) and the clip's own
# entry in `clips` (overrides). The clip's video and ground truth go to its folder, `data/clips/<clip>/`.

# %% tags=["parameters"]
params_file = "params.yaml"
clip = "jump"

# %%
import numpy as np
from IPython.display import Image, Video, display

from sfv import paths
from sfv.config import show
from sfv.frame_grid import evenly_spaced, frames_at
from sfv.io import write_json
from sfv.notebook import stage_params
from sfv.plots import save_figure
from sfv.render import figures, gt_clip
from sfv.render.body import BodyRetargeter, load_anny
from sfv.render.ground_truth import load_gt
from sfv.render.platform import clip_truth
from sfv.skeleton import load_character

params = stage_params(params_file)
cfg, entry = params.render, params.clips[clip]
settings = cfg.for_clip(entry)
print(show(settings))
mocap = entry.mocap
motion, platform = clip_truth(entry)  # the mocap; or, with a known scene, the mocap made to drop off a platform
plot_dir = paths.clip_plot_dir("render", clip)
print(
    f"clip {clip!r}: mocap {mocap!r}, {motion.n_frames} frames at {motion.fps:g} fps; "
    f"video {settings.width}x{settings.height} at {settings.fps:g} fps"
)
print("body phenotype:", settings.body.phenotype() or "anny's average adult (all 0.5)")
if platform is not None:
    print(
        f"scene: a platform {platform.height:g} m high under the take-off; the body drops off its edge in the "
        f"flight (mocap frames {platform.takeoff}-{platform.landing})"
    )

# %% [markdown]
# ## The body and how it is posed
#
# anny is built from MakeHuman's CC0 data: 104 bones, a 13,718-vertex skin, a phenotype (gender, age,
# muscle, weight, height, proportions) that reshapes it. Its rest pose is not the humanoid's: anny
# stands in an A-pose with bent elbows and splayed legs, the humanoid with arms and legs straight down.
#
# Retargeting by bone orientations: each anny bone turns with one humanoid body (thigh with the hip,
# shin with the knee, spine between root and chest, hands with the elbow...). A calibration rotation per
# bone, taken once in the two rest poses after swinging anny's limbs onto the humanoid's limb directions,
# makes every anny limb point exactly where the humanoid's segment points, frame by frame. Bone *lengths*
# stay anny's: the hips follow the humanoid's root scaled by the ratio of leg lengths, and the body is
# raised or lowered once per clip so that its soles meet the humanoid's where the mocap's feet are down.

# %%
model = load_anny()
retargeter = BodyRetargeter(model, load_character(entry.character), settings.body.phenotype())
skeleton = retargeter.skeleton
rest = skeleton.identity_pose()[None]
calibrated = retargeter.pose_frames(np.zeros((1, 3)), np.array([[0, 0, 0, 1.0]]), rest)
print(f"leg-length scale (anny / humanoid): {retargeter.scale:.3f}")

import torch  # noqa: E402

with torch.no_grad():
    anny_rest = model(model(None)["rest_bone_poses"])["vertices"][0].numpy()
fig = figures.retargeting_figure(anny_rest, calibrated, skeleton)
save_figure(fig, plot_dir / "retargeting.png")
display(Image(str(plot_dir / "retargeting.png")))

# %% [markdown]
# ## Render the clip
#
# The camera is aimed at the middle of the path of the hips 0.9 m above the ground. It is fixed, unless the
# clip sets `camera.follow`: then it stays in place but pans and tilts to follow the hips that share of the
# way, as someone filming would (each frame's camera is stored). It must see every COCO keypoint of every
# frame (otherwise the stage stops and says which frame and keypoint).
# pybullet's TinyRenderer draws each frame on the CPU; a keypoint counts as *visible* when it is in the
# image and no more than 15 cm of body lies in front of it (joint centres sit inside their limb).

# %%
video = paths.rendered_video(clip)
gt_file = paths.ground_truth(clip)
metrics = gt_clip.render_gt_clip(clip, motion, retargeter, settings, video, gt_file, platform=platform)
if platform is not None:
    metrics.update(scene={"platform_m": platform.height, "edge_margin_m": entry.scene.edge_margin})
metrics.update(mocap=mocap, camera=settings.camera.model_dump(), body=settings.body.phenotype())
write_json(paths.clip_metrics_file("render", clip), metrics)
for k in (
    "frames",
    "render_seconds_per_frame",
    "joint_error_mean_m",
    "limb_direction_error_max_deg",
    "sole_gap_in_contact_m",
    "coco_visible_fraction",
    "coco_on_silhouette_fraction",
):
    print(f"{k:32s} {metrics[k]}")

# %% [markdown]
# **Reading the figures.** *joint error* is the distance between the body's joints (anny's bone heads)
# and the humanoid's, placed the same way: what remains is the difference in proportions (hip and
# shoulder width), since every limb direction is copied exactly (*limb direction error* ≈ 0).
# *sole gap in contact* is the distance between the body's soles and the mocap's (the bottoms of the
# humanoid's foot boxes) in the frames where the mocap's foot is down.
# *on silhouette* is the share of projected COCO keypoints that land on the rendered body: the check
# that the stored camera is the camera that drew the video.

# %% [markdown]
# ## Contact sheet: the video with its ground truth
#
# Green: the COCO skeleton projected with the stored camera (hollow orange: hidden keypoints).

# %%
gt = load_gt(gt_file)
n = gt["keypoints_2d"].shape[0]
picks = evenly_spaced(n, cfg.contact_sheet_frames)
shown = frames_at(video, picks)
fig = gt_clip.contact_sheet(
    [shown[i] for i in picks],
    [gt["keypoints_2d"][i, :17] for i in picks],
    [gt["visible"][i, :17] for i in picks],
    [f"frame {i} · {i / settings.fps:.2f} s" for i in picks],
    f"{clip}: rendered from mocap {mocap!r} with its ground-truth keypoints",
)
save_figure(fig, plot_dir / "contact_sheet.png")
display(Image(str(plot_dir / "contact_sheet.png")))

# %% [markdown]
# ## Feet and ground
#
# Where the mocap's feet are on the ground, the body's soles should be too. Below: the height of the
# lowest point of each of the body's shoes and of the humanoid's foot boxes, over the clip
# (`sole_heights` and `source_sole_heights` in the ground truth: foot contact for the stages that need it).
# anny's feet are longer than the humanoid's boxes, so pointed toes dip lower than the mocap's.

# %%
fig = figures.feet_figure(gt["sole_heights"], gt["source_sole_heights"], settings.fps)
save_figure(fig, plot_dir / "feet_height.png")
display(Image(str(plot_dir / "feet_height.png")))

# %%
display(Video(str(video), embed=False, width=min(settings.width, 480)))
print(
    f"video: {video} ({metrics['frames']} frames); ground truth: {gt_file}; metrics: "
    f"{paths.clip_metrics_file('render', clip)}"
)
