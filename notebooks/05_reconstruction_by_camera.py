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
# # 05 · Pose and reconstruction by camera: is anything tuned to one camera?
#
# Notebooks 03 and 04 run per clip. This one puts every rendered clip side by side with the camera that
# filmed it. Nine clips are filmed at 640×480, 30 fps, through a 45° lens, level. Five more film the same mocap
# otherwise: portrait 1080×1920 at 60 fps through a 65° lens (`walk_portrait`), 1280×720 through a 30° lens
# from 7 m (`jump_720p`), a 75° lens from 2.3 m (`kick_wide`), 60 fps (`run_60fps`), a camera rolled 12° and
# 20° above (`spinkick_tilted`). A setting tuned to the first camera shows up as a worse row on the others.
#
# The columns (millimetres, `sfv/reconstruct/cameras.py`): the pose stage's PA-MPJPE (each frame aligned by
# rotation and scale); then, in one metric (root-aligned, one rotation for the whole clip), the pose stage's
# 3D targets placed in the estimated world, per-frame IK, and the reconstruction, before and now. "Before" is
# the reconstruction with its 2D terms in raw pixels (stored in `bench/results/cameras/before.json`); now
# they are in metres at the body (pixels × depth / focal length), so they weigh the same on every camera.
# "fov used" is the field of view the reconstruction used: estimated from the clip where the person crosses
# the image ("est.", `reconstruct.estimate_fov`), else the assumed 45° (`reconstruct.vertical_fov`). The last
# column is the estimated up direction's error: the reconstruction assumes a level camera
# (`reconstruct.level_camera`).

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

from IPython.display import Image, Markdown, display

from sfv import paths
from sfv.io import write_json
from sfv.notebook import stage_params
from sfv.plots import save_figure
from sfv.reconstruct import cameras

params = stage_params(params_file)
table = cameras.rows(params)
summary = cameras.summary(table)
display(Markdown(cameras.markdown(table)))
print(json.dumps(summary, indent=1))

# %%
display(Image(save_figure(cameras.figure(table), paths.plot_dir("cameras") / "errors_by_camera.png")))

# %% [markdown]
# What to read in the table:
#
# - The 2D term is in metres at the body, so a portrait video at twice the resolution pulls no harder than a
#   640×480 one: the portrait walk's row stays with the others.
# - Estimating the lens helps where the lens is far from the assumed one and the person crosses the view (the
#   portrait walk); it is not trusted where they do not (the long lens on `jump_720p`, the wide one on
#   `kick_wide`), and the assumed `vertical_fov` stays there.
# - `cartwheel_panning` is the cartwheel filmed by a camera that pans to follow her: its turn, read from the
#   background, lets the reconstruction do as well as from the fixed camera (`camera_turn_error_mean_deg` in its
#   metrics); taken as a fixed camera it would not.
# - On every clip the reconstruction is at or below its own 3D targets in the same metric, but the mean stays far
#   above the 70 mm target: the acrobatic clips (cartwheel, roll, spinkick) dominate it.
# - The rolled camera's up error is its roll: the level-camera assumption.

# %%
write_json(paths.metrics_file("cameras"), {"summary": summary, "clips": table})
