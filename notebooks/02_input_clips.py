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
# # 02 · Input clip: the video the pipeline will read, checked
#
# The kit takes two kinds of clip, both registered under `clips` in `params.yaml`, each with its own
# folder `data/clips/<clip>/`:
#
# - **real videos** (the shipped demo is a man leaping off a low wall from the Sports2D project;
#   `data/clips/README.md` says where it comes from and how it was made). Add your own by putting an mp4
#   in `data/clips/<name>/` and adding an entry with `source: data/clips/<name>/<file>.mp4`.
# - **ground-truth clips** (`source: mocap:<name>`), rendered from motion capture by the render stage into
#   their folder, with their true motion, keypoints and camera.
#
# This stage (`clip@<name>`, one per registered clip) opens the clip's video, checks its frame range and
# frame rate against the entry, and records what the later stages will read (`metrics/clips/<name>.json`),
# with a contact sheet to look at. It reads that clip's folder and entry only, so adding a clip runs
# nothing for the others.

# %% tags=["parameters"]
params_file = "params.yaml"
clip = "sports2d_demo"

# %%
from IPython.display import Image, display

from sfv import paths
from sfv.clips import describe_clip
from sfv.config import show
from sfv.frame_grid import evenly_spaced, frame_grid, frames_at
from sfv.io import write_json
from sfv.notebook import stage_params
from sfv.plots import save_figure

entry = stage_params(params_file).clips[clip]
print(show(entry))
facts = describe_clip(clip, entry)
print(
    f"{clip}: {facts['kind']} clip, {facts['frames']} frames at {facts['fps']:g} fps ({facts['seconds']:.2f} s), "
    f"{facts['width']}x{facts['height']} {facts['codec']}: {facts['video']}"
)

# %% [markdown]
# ## Contact sheet
#
# Eight frames spread over the clip's range. For a real clip, look for what the pose stage will face:
# a small person against a busy background, a second person walking by, motion blur during a leap.

# %%
picks = evenly_spaced(facts["frames"], 8)
shown = frames_at(facts["video"], picks, facts["first"], facts["end"])
first, fps = facts["first"], facts["fps"]
fig = frame_grid(
    [shown[i] for i in picks],
    [f"frame {first + i} · {(first + i) / fps:.2f} s" for i in picks],
    f"{clip}: {facts['kind']} clip, {facts['frames']} frames at {fps:g} fps ({facts['source']})",
    panel_width=3.0,
    title_room=0.6,
)
sheet = save_figure(fig, paths.clip_plot_dir("clips", clip) / "contact_sheet.png", dpi=80)
display(Image(str(sheet)))

# %%
write_json(paths.clip_metrics_file("clips", clip), facts)
print(f"{clip}: {paths.clip_metrics_file('clips', clip)}")
