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
# # 02b · Pose and reconstruction by camera: is anything tuned to one camera?
#
# Notebooks 01 and 02 run per clip. This one puts every rendered clip side by side with the camera that
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
# The last column is the estimated up direction's error: the reconstruction assumes a level camera and a 45°
# lens (`reconstruct.level_camera`, `reconstruct.vertical_fov`).

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
# What the table says (at the time of writing; the numbers above are the run's own):
#
# - In raw pixels the portrait walk's 2D term pulled 16 times harder than the 640×480 walk's, and its
#   reconstruction was 75 mm against 66; in metres at the body both are 66 mm.
# - On every clip the reconstruction is at or below its own 3D targets in the same metric, but the mean stays
#   far above the 70 mm: the acrobatic clips (cartwheel, roll, spinkick) dominate it.
# - The rolled camera's up is 14° off: the level-camera assumption. Estimating the camera is the next step.

# %%
write_json(paths.metrics_file("cameras"), {"summary": summary, "clips": table})
