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
# # 00 · Input clips: every video the pipeline will read, checked
#
# The kit takes two kinds of clip, both registered under `clips` in `params.yaml`:
#
# - **real videos** under `data/clips/` (the shipped demo is a man leaping off a low wall from the
#   Sports2D project; `data/clips/README.md` says where it comes from and how it was made). Add your own by
#   dropping an mp4 there and adding an entry with `source: data/clips/<file>.mp4`.
# - **ground-truth clips** (`source: mocap:<name>`), rendered from motion capture by the render stage, whose
#   true motion, keypoints and camera are known.
#
# This stage opens each one, checks its frame range and frame rate against the entry, and records what
# the later stages will read (`metrics/clips.json`), with a contact sheet of each clip to look at.

# %% tags=["parameters"]
clips = {"sports2d_demo": {"source": "data/clips/sports2d_demo.mp4", "frames": [0, None], "fps": 30}}
seed = 0

# %%
import numpy as np
from IPython.display import Image, display

from sfv import paths
from sfv.clips import describe_clip
from sfv.config import section
from sfv.io import write_json
from sfv.plots import save_figure
from sfv.video import read_frames

cfg = section("clips", dict(clips=clips))
index = {}
for name, clip in cfg.clips.items():
    index[name] = describe_clip(name, clip)
    f = index[name]
    print(f"{name:14s} {f['kind']:8s} {f['frames']:4d} frames {f['fps']:5.1f} fps {f['seconds']:6.2f} s "
          f"{f['width']}x{f['height']} {f['codec']}  {f['video']}")

# %% [markdown]
# ## Contact sheets
#
# Eight frames spread over each clip's range. For the real clip, look for what the pose stage will face:
# a small person against a busy background, a second person walking by, motion blur during the leap.

# %%
import matplotlib.pyplot as plt  # noqa: E402

plot_dir = paths.plot_dir("clips")
for name, f in index.items():
    picks = np.unique(np.linspace(f["first"], f["end"] - 1, 8).round().astype(int))
    wanted = set(picks.tolist())
    frames = [img for i, img in enumerate(read_frames(f["video"], 0, f["end"])) if i in wanted]
    fig, axes = plt.subplots(2, 4, figsize=(12, 12 * 2 / 4 * f["height"] / f["width"] + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i, img in zip(axes.flat, picks, frames):
        ax.imshow(img)
        ax.set_title(f"frame {i} · {i / f['fps']:.2f} s", fontsize=8)
    fig.suptitle(f"{name}: {f['kind']} clip, {f['frames']} frames at {f['fps']:g} fps ({f['source']})", fontsize=10)
    fig.tight_layout()
    save_figure(fig, plot_dir / f"{name}.png", dpi=80)
display(Image(str(plot_dir / f"{next(iter(index))}.png")))

# %%
write_json(paths.metrics_file("clips"), {"clips": len(index), "total_frames": sum(f["frames"] for f in index.values()),
                                         "index": index})
print(f"{len(index)} clips, {sum(f['frames'] for f in index.values())} frames: {paths.metrics_file('clips')}")
