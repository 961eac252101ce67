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
# # 00 · Motion library: what a reference motion is
#
# SFV turns a video into a **reference motion** and then trains a simulated character to imitate it.
# Before any video, this notebook looks at the reference motions that DeepMimic used: the motion-capture
# clips that ship with `pybullet_data`. They are the ground truth every later stage is measured on.
#
# A reference motion here is what DeepMimic's text format stores: per frame, the root (pelvis) position,
# the root orientation, and one local rotation per joint of the character — a quaternion for a ball
# joint (chest, neck, hips, ankles, shoulders), an angle for a hinge (knees, elbows).
#
# The stage converts every clip to the kit's `npz` format under `data/mocap/` and draws a stick-figure
# contact sheet per clip (`plots/motion_library/`). Parameters come from `params.yaml`
# (section `motion_library`, printed below); `dvc repro` passes the file's path.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from tqdm import tqdm

from sfv import paths
from sfv.assets import available_mocap
from sfv.config import show
from sfv.io import write_json
from sfv.mocap import library_entry, library_metrics, load_mocap
from sfv.motion import load_npz
from sfv.notebook import stage_params
from sfv.plots import contact_sheet, save_figure
from sfv.skeleton import load_character

cfg = stage_params(params_file).motion_library
print(show(cfg))
names = available_mocap() if cfg.clips == "all" else list(cfg.clips)
print(f"{len(names)} clips:", ", ".join(names))

# %% [markdown]
# ## The character's skeleton
#
# The skeleton is parsed from the DeepMimic humanoid URDF (`pybullet_data/humanoid/humanoid.urdf`),
# scaled by 0.25 as pybullet's DeepMimic port loads it. Each body hangs from its parent by one joint;
# the *offset* is where that joint sits in the parent's frame. The kit's forward kinematics is checked
# against pybullet to within a micrometre (`tests/test_kinematics.py`).

# %%
skeleton = load_character("humanoid")
print(f"{'body':<16}{'parent':<16}{'joint':<11}{'offset (m)':<26}{'mass (kg)':>9}")
for b in skeleton.bodies:
    parent = skeleton.bodies[b.parent].name if b.parent >= 0 else "-"
    print(f"{b.name:<16}{parent:<16}{b.joint_type:<11}{np.array2string(b.offset, precision=3):<26}{b.mass:>9.1f}")
print(f"total mass {skeleton.total_mass:.1f} kg, pose vector of {skeleton.pose_size} numbers per frame")

# %% [markdown]
# ## Convert every clip and draw its contact sheet
#
# Most clips are stored at 60 fps (`roll` has one frame of double length: the loader resamples it to an
# even 60 fps with slerp). Each contact sheet shows evenly spaced frames from the side and from the front;
# the brown line is the ground.

# %%
summary = {}
plot_dir = paths.plot_dir("motion_library")
for name in tqdm(names, desc="clips"):
    motion = load_mocap(name)
    out = motion.save(paths.mocap_motion(name))
    assert np.allclose(load_npz(out).pose, motion.pose)  # what was written reads back
    pos, rot = motion.body_positions()
    frames = np.linspace(0, motion.n_frames - 1, cfg.contact_sheet_frames).round().astype(int).tolist()
    title = f"{name}: {motion.n_frames} frames at {motion.fps:g} fps, loop={motion.loop}"
    save_figure(contact_sheet(skeleton, pos, frames, motion.fps, title, orientations=rot), plot_dir / f"{name}.png")
    summary[name] = library_entry(motion)

metrics = library_metrics(summary)
write_json(paths.mocap_index(), summary)  # the library's catalogue, read by later stages
write_json(paths.metrics_file("motion_library"), metrics)
print(json.dumps(metrics))

# %%
display(Image(filename=str(plot_dir / f"{names[0]}.png")))

# %% [markdown]
# ## Reading a motion: joint angles and velocities
#
# The knee is a hinge: one angle per frame. The hip is a ball joint: we show its rotation angle
# (the size of the rotation away from the rest pose). Velocities are finite differences; the imitation
# reward later compares them between the simulated character and the reference.

# %%
motion = load_mocap(names[0])
slices = skeleton.dof_slices
jq = motion.joint_quaternions()
hip = 2 * np.degrees(np.arccos(np.clip(np.abs(jq[:, skeleton.joint_names.index("right_hip"), 3]), 0, 1)))
knee = np.degrees(motion.pose[:, slices["right_knee"]][:, 0])
speed = np.linalg.norm(motion.velocities()["root_lin"], axis=1)
fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].plot(motion.times, hip, label="right hip (rotation angle)")
ax[0].plot(motion.times, knee, label="right knee (hinge angle)")
ax[0].set_xlabel("time (s)")
ax[0].set_ylabel("degrees")
ax[0].legend()
ax[1].plot(motion.times, speed)
ax[1].set_xlabel("time (s)")
ax[1].set_ylabel("root speed (m/s)")
fig.suptitle(f"{names[0]}: joint angles and root speed")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# Every clip, its length and how far the root travels. Cyclic clips (`loop=wrap`) repeat: the imitation
# stage continues them across cycles, adding the root's displacement each time.

# %%
print(f"{'clip':<16}{'frames':>7}{'fps':>6}{'sec':>7}{'loop':>6}{'travel m':>10}{'max speed':>11}")
for name, s in summary.items():
    print(
        f"{name:<16}{s['frames']:>7}{s['fps']:>6g}{s['duration_s']:>7.2f}{s['loop']:>6}"
        f"{s['root_travel_m']:>10.2f}{s['max_root_speed_mps']:>11.2f}"
    )
