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
# # 02 · Motion reconstruction: a smooth reference motion on the character
#
# The paper's second stage (SFV §5). Per-frame poses are jittery and sometimes wildly wrong; the
# simulated character needs one motion of *its* skeleton that stays close to them and moves smoothly.
# Here that is one optimisation over the whole clip: per-frame root position, root rotation and joint
# rotations of the DeepMimic humanoid (bone lengths fixed), through the kit's forward kinematics, with
#
# - **3D consistency**: robust, confidence-weighted distance to the pose stage's 3D keypoints, root-relative,
#   each frame weighted by exp(−(e/e_max)²) of its initial 2D reprojection error e (as SFV does);
# - **root position**: a weak pull of the root towards where depth-from-scale puts it (that depth is rough:
#   a tucked body looks smaller, so seems farther away);
# - **2D reprojection** onto the 2D keypoints through a camera estimated from the clip (never the
#   ground-truth camera); with the weak root term, this is what places the body in the world;
# - **smoothness**: squared joint acceleration;
# - **plausibility**: knees and elbows within the character's joint ranges (the simulator enforces them,
#   and a knee bent forwards fits 3D points as well as the right bend), no body below the floor, and no
#   sliding of a foot that is planted (low and slow in the per-frame IK);
# - robust (Geman–McClure) distances, so a single wild keypoint or frame cannot drag the motion.
#
# Missing frames carry no weight: the smoothness term fills them. The baseline is per-frame IK of the same
# targets: the same fit with every term that couples frames (smoothness, foot sliding) off, and as many
# loss evaluations. The full fit starts from a shorter IK run. Both use L-BFGS with a line search. Code: `sfv/reconstruct/` (`camera.py`,
# `losses.py`, `fit.py`, `stage.py`, `figures.py`); parameters: `params.yaml`, section `reconstruct`.

# %% tags=["parameters"]
clips = ["jump"]
vertical_fov = 45.0
level_camera = True
still_foot_speed = 0.5
e_max = 20.0
outlier_turn = 90.0
outlier_frames = 10
weights = {}
robust_scale = 0.1
robust_pixels = 20.0
contact_height = 0.12
contact_speed = 0.6
optimizer = "lbfgs"
ik_iterations = 50
iterations = 100
learning_rate = 0.02
ablation_smoothness = [5e-7, 8e-6]
gif = False
seed = 0
clip = "jump"
clip_params = {"source": "mocap:jump", "fps": 30}

# %%
import numpy as np
import torch
from IPython.display import Image, display
from tqdm.auto import tqdm

from sfv import paths
from sfv.config import ClipParams, section
from sfv.io import write_json
from sfv.plots import save_figure
from sfv.pose.keypoints import HUMANOID_JOINTS
from sfv.pose.stage import load_poses
from sfv.reconstruct import figures, losses
from sfv.reconstruct.fit import per_frame, planted_feet, reconstruct
from sfv.reconstruct.stage import (fit_settings, foot_sliding_speed, initial_motion, limit_violations, mpjpe, prepare,
                                   reprojection_error, root_trajectory_error)
from sfv.render.ground_truth import load_gt
from sfv.skeleton import load_character

cfg = section("reconstruct", dict(clips=clips, vertical_fov=vertical_fov, level_camera=level_camera,
                                  still_foot_speed=still_foot_speed, e_max=e_max, outlier_turn=outlier_turn,
                                  outlier_frames=outlier_frames, weights=weights,
                                  robust_scale=robust_scale, robust_pixels=robust_pixels, contact_height=contact_height,
                                  contact_speed=contact_speed, optimizer=optimizer, ik_iterations=ik_iterations,
                                  iterations=iterations, learning_rate=learning_rate,
                                  ablation_smoothness=ablation_smoothness, gif=gif))
entry = ClipParams.model_validate(clip_params)
settings = fit_settings(cfg, seed)
skeleton = load_character(entry.character)
poses = load_poses(paths.poses_file(clip), clip)
fps = float(poses["meta"]["fps"])
first = poses["meta"]["first"]
gt = load_gt(paths.ground_truth(clip)) if entry.is_mocap else None
plot_dir = paths.clip_plot_dir("reconstruct", clip)
torch.manual_seed(seed)
print(f"clip {clip!r}: {len(poses['detected'])} frames at {fps:g} fps, {int(poses['detected'].sum())} with a person")

# %% [markdown]
# ## Camera and targets
#
# BlazePose's 3D keypoints are metric and aligned with the image axes; with a focal length, each frame's
# body position follows from its 2D keypoints (where it is in the image, and how large). The focal length
# comes from an assumed field of view (`vertical_fov`): with one person in view it cannot be told apart
# from depth. Up is the median torso direction with the camera level (no roll: `level_camera`), its pitch
# then turned so that the ankles at rest (slower than `still_foot_speed`) share one height: feet at rest
# are mostly on the ground, wherever the person went. The ground lies under the lowest ankles. On the
# rendered clips the torso alone is 5–33° off the true up (people lean into a jump or a kick); its pitch
# with the camera level 0–8°; re-pitched by the feet at rest 0–7.8° (under 2.5° on four of nine).
#
# **Outlier poses.** The estimator sometimes flips a whole 3D pose for a few frames (seen on the rendered
# roll and cartwheel: 0.5 m off for 3–5 frames, at ordinary confidence). The body then turns more than
# `outlier_turn` degrees from one frame to the next, and back within `outlier_frames` frames, which no
# skill does at 30 fps. The reconstruction treats such frames as missing (their 3D and 2D weights are 0,
# the smoothness term fills them); per-frame IK, the baseline, fits them as they are.

# %%
targets = prepare(poses, skeleton, cfg.vertical_fov, cfg.e_max, outlier_turn_deg=cfg.outlier_turn,
                  outlier_frames_max=cfg.outlier_frames, level_camera=cfg.level_camera,
                  still_foot_speed=cfg.still_foot_speed)
cam = targets.camera
print(f"estimated camera: f = {cam.camera.K[0, 0]:.0f} px (assumed {cfg.vertical_fov:g} deg), body "
      f"{np.nanmedian(cam.translation[:, 2]):.2f} m away (median); initial 2D error "
      f"{np.nanmedian(cam.reprojection_error):.1f} px (median)")
print(f"outlier frames: {np.flatnonzero(targets.outliers).tolist() or 'none'}")
init = initial_motion(targets.start, skeleton, fps, name=clip)

# %% [markdown]
# ## Fit: per-frame IK, then the whole clip

# %%
from dataclasses import replace  # noqa: E402

image = (cam.camera, targets.keypoints_2d, targets.reconstruction_confidence_2d)
baseline_image = (cam.camera, targets.keypoints_2d, targets.confidence_2d)
with tqdm(total=2 * (settings.ik_iterations + settings.iterations), desc=f"reconstruct {clip}", unit="step") as bar:
    motion, ik_phase, curve = reconstruct(init, targets.world, targets.bodies, targets.reconstruction_confidence,
                                          settings, progress=bar.update, image=image)
    # the baseline: per-frame IK, as many steps
    ik, _, _ = reconstruct(init, targets.world, targets.bodies, targets.confidence, per_frame(settings),
                           progress=bar.update, image=baseline_image)
pos = motion.body_positions()[0][:, targets.bodies]
pos_ik = ik.body_positions()[0][:, targets.bodies]
jit = lambda p: losses.jitter(torch.as_tensor(p), fps).item()  # noqa: E731
metrics = {
    "frames": int(motion.n_frames), "fps": fps,
    "jitter_targets": round(jit(targets.world), 2), "jitter_ik": round(jit(pos_ik), 2), "jitter": round(jit(pos), 2),
    "reprojection_error_px_ik": round(reprojection_error(pos_ik, targets), 2),
    "reprojection_error_px": round(reprojection_error(pos, targets), 2),
    "loss_first": round(curve[0], 5), "loss_last": round(curve[-1], 5),
    "outlier_frames": np.flatnonzero(targets.outliers).tolist(),
}
planted = planted_feet(ik, settings.weights)  # where the per-frame IK has a foot down
metrics.update(planted_fraction=round(float(planted.mean()), 3),
               foot_sliding_ik=round(foot_sliding_speed(ik, planted), 3), foot_sliding=round(foot_sliding_speed(motion, planted), 3),
               joint_limit_violations_ik=limit_violations(ik), joint_limit_violations=limit_violations(motion))
metrics["jitter_drop"] = round(metrics["jitter_ik"] / max(metrics["jitter"], 1e-9), 2)
if gt is not None:
    src = gt["source_joints"][first:first + motion.n_frames][:, targets.bodies]
    metrics.update(mpjpe_mm_targets=round(mpjpe(targets.world, src), 1), mpjpe_mm_ik=round(mpjpe(pos_ik, src), 1),
                   mpjpe_mm=round(mpjpe(pos, src), 1), jitter_source=round(jit(src), 2))
    src_root = gt["source_joints"][first:first + motion.n_frames][:, 0]
    metrics.update(root_error_m_ik=round(root_trajectory_error(ik.root_pos, src_root), 3),
                   root_error_m=round(root_trajectory_error(motion.root_pos, src_root), 3))
    true_up = gt["camera_R"] @ np.array([0.0, 0.0, 1.0])  # the render world is z-up
    metrics["up_error_deg"] = round(float(np.degrees(np.arccos(np.clip(cam.camera.R[:, 1] @ true_up, -1, 1)))), 1)
for k, v in metrics.items():
    print(f"{k:26s} {v}")

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(6, 2.6))
ax.semilogy(curve)
ax.axvline(settings.ik_iterations, color="#999999", ls="--", lw=1)
ax.set_xlabel(f"loss evaluation, {cfg.optimizer} (per-frame IK, then the whole clip)")
ax.set_ylabel("loss")
save_figure(fig, plot_dir / "loss.png")
display(Image(str(plot_dir / "loss.png")))

# %% [markdown]
# ## Before and after
#
# The right ankle's height and acceleration: the pose targets, per-frame IK (as jittery as its targets)
# and the reconstruction.

# %%
series = {"pose targets": targets.world, "per-frame IK": pos_ik, "reconstruction": pos}
if gt is not None:
    series = {"source mocap": src, **series}
ankle = list(HUMANOID_JOINTS).index("right_ankle")
fig = figures.trajectories(dict(list(series.items())[-3:]), fps, ankle, f"{clip}: right ankle")
save_figure(fig, plot_dir / "trajectories.png")
display(Image(str(plot_dir / "trajectories.png")))

# %% [markdown]
# ## Ablation: the smoothness weight
#
# The same fit with other smoothness weights (0 is per-frame IK). Jitter falls as the weight grows; on
# rendered clips, the error against the source mocap shows where smoothing starts to flatten real motion.

# %%
rows = [(0.0, jit(pos_ik), mpjpe(pos_ik, src) if gt is not None else np.nan, reprojection_error(pos_ik, targets)),
        (settings.weights.smoothness, jit(pos), mpjpe(pos, src) if gt is not None else np.nan,
         reprojection_error(pos, targets))]
for w in cfg.ablation_smoothness:
    s = replace(settings, weights=replace(settings.weights, smoothness=float(w)))
    m_w, _, _ = reconstruct(init, targets.world, targets.bodies, targets.reconstruction_confidence, s, image=image,
                            ik=ik_phase)  # the same IK phase: only the smoothness weight differs
    p_w = m_w.body_positions()[0][:, targets.bodies]
    rows.append((w, jit(p_w), mpjpe(p_w, src) if gt is not None else np.nan, reprojection_error(p_w, targets)))
rows.sort(key=lambda r: r[0])
fig, ax = plt.subplots(1, 2, figsize=(8, 2.8))
xs = [max(r[0], 1e-8) for r in rows]
ax[0].semilogx(xs, [r[1] for r in rows], "o-")
ax[0].set_ylabel("jitter (m/s²)")
ax[1].semilogx(xs, [r[2] if gt is not None else r[3] for r in rows], "o-", color="#d62728")
ax[1].set_ylabel("MPJPE vs source (mm)" if gt is not None else "2D reprojection (px)")
for a in ax:
    a.set_xlabel("smoothness weight (0 drawn at 1e-8)")
fig.tight_layout()
save_figure(fig, plot_dir / "ablation.png")
display(Image(str(plot_dir / "ablation.png")))
metrics["ablation"] = [{"smoothness": r[0], "jitter": round(r[1], 2), "mpjpe_mm": None if np.isnan(r[2]) else round(r[2], 1),
                        "reprojection_error_px": round(r[3], 2)} for r in rows]

# %% [markdown]
# ## What each other term does
#
# The reconstruction again, each time without one ingredient: outlier frames kept as the estimator gave
# them, no joint-range term, no foot-sliding term, and the root held to its depth-from-scale position
# (`root_position` 1 instead of a weak pull). The figures show what each one buys on this clip; on rendered
# clips the error against the source mocap says whether it buys accuracy too.

# %%
def scores(m) -> dict:
    p = m.body_positions()[0][:, targets.bodies]
    out = {"jitter": jit(p), "reprojection_error_px": reprojection_error(p, targets),
           "foot_sliding": foot_sliding_speed(m, planted), "joint_limit_violations": limit_violations(m)}
    if gt is not None:
        out.update(mpjpe_mm=mpjpe(p, src), root_error_m=root_trajectory_error(m.root_pos, src_root))
    return out


weights_with = lambda **kw: replace(settings, weights=replace(settings.weights, **kw))  # noqa: E731
variants = {
    "reconstruction": None,
    # with no outlier frames this variant is the reconstruction itself: not fitted twice
    "outlier frames kept": (weights_with(), targets.confidence, baseline_image) if targets.outliers.any() else None,
    "no joint ranges": (weights_with(joint_limits=0.0), targets.reconstruction_confidence, image),
    "no foot sliding term": (weights_with(foot_sliding=0.0), targets.reconstruction_confidence, image, ik_phase),
    "root held to depth from scale": (weights_with(root_position=1.0), targets.reconstruction_confidence, image),
}
term_rows = {}
for name, spec in tqdm(variants.items(), desc="term ablation"):
    if spec is None:  # the reconstruction above
        term_rows[name] = scores(motion)
        continue
    s_v, conf_v, image_v, *start = spec  # a variant with per-frame terms unchanged reuses the IK phase
    m_v, _, _ = reconstruct(init, targets.world, targets.bodies, conf_v, s_v, image=image_v, ik=start[0] if start else None)
    term_rows[name] = scores(m_v)
shown = ["mpjpe_mm" if gt is not None else "reprojection_error_px", "jitter", "foot_sliding", "joint_limit_violations"]
labels = {"mpjpe_mm": "MPJPE vs source (mm)", "reprojection_error_px": "2D reprojection (px)", "jitter": "jitter (m/s²)",
          "foot_sliding": "planted-foot speed (m/s)", "joint_limit_violations": "joint-range violations"}
fig, axes = plt.subplots(1, len(shown), figsize=(12, 2.6), sharey=True)
names = list(term_rows)
for ax, key in zip(axes, shown):
    ax.barh(names, [term_rows[n][key] for n in names], color=["#1f77b4"] + ["#aaaaaa"] * (len(names) - 1))
    ax.set_title(labels[key], fontsize=9)
axes[0].invert_yaxis()  # the reconstruction on top (the axes share it)
fig.tight_layout()
save_figure(fig, plot_dir / "terms.png")
display(Image(str(plot_dir / "terms.png")))
metrics["term_ablation"] = {n: {k: round(float(v), 3) for k, v in r.items()} for n, r in term_rows.items()}
for n, r in term_rows.items():
    print(f"{n:32s}", "  ".join(f"{k} {v:.3g}" for k, v in r.items()))

# %% [markdown]
# ## The reference motion
#
# Saved in the DeepMimic text format (it plays in the imitation stage and in pybullet's tools) and as npz.

# %%
motion.save(paths.reconstructed_motion(clip, ".txt"))
motion.save(paths.reconstructed_motion(clip, ".npz"))
if cfg.gif:
    figures.stick_gif(plot_dir / "targets_vs_reconstruction.gif", targets.world, motion.body_positions()[0],
                      skeleton, fps, clip)
    display(Image(str(plot_dir / "targets_vs_reconstruction.gif")))
write_json(paths.clip_metrics_file("reconstruct", clip), metrics)
print(f"motion: {paths.reconstructed_motion(clip, '.txt')}; metrics: {paths.clip_metrics_file('reconstruct', clip)}")
