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
# # 04 · Motion reconstruction: a smooth reference motion on the character
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
# - every 2D distance (this term, e, e_max) in **metres at the body**: pixels times the body's depth over the
#   focal length. In raw pixels the same weight pulls 16 times harder on a 1920-pixel-high video than on a
#   480-pixel one; in metres at the body it means the same on every camera, whatever focal length is assumed
#   (depth from scale grows with it). Smoothness is in (m/s²)², averaged over frames, and outliers are judged
#   in seconds, so a 60 fps video is fitted like the same motion at 30 fps;
# - **smoothness**: squared joint acceleration;
# - **a steady turn**, for a clip of a person who spins (`reconstruct.turning`): the squared angular acceleration of
#   the hips' line about the vertical. Seen edge-on, the pose estimator's hips stall and then jump a quarter turn in
#   a frame or two; the joints' smoothness barely sees it (the hips are a hand's width from the root);
# - **plausibility**: knees and elbows within the character's joint ranges (the simulator enforces them,
#   and a knee bent forwards fits 3D points as well as the right bend), no body below the floor, and no
#   sliding of a foot that is planted (low and slow in the per-frame IK);
# - robust (Geman–McClure) distances, so a single wild keypoint or frame cannot drag the motion.
#
# Missing frames carry no weight: the smoothness term fills them. The baseline is per-frame IK of the same
# targets: the same fit with every term that couples frames (smoothness, foot sliding) off, and as many
# loss evaluations. The full fit starts from a shorter IK run. Both use L-BFGS with a line search. Code:
# `sfv/reconstruct/` (`camera.py`,
# `losses.py`, `fit.py`, `stage.py`, `evaluate.py`, `figures.py`); parameters: `params.yaml`, section
# `reconstruct` (printed below).

# %% tags=["parameters"]
params_file = "params.yaml"
clip = "jump"

# %%
import numpy as np
import torch
from IPython.display import Image, display
from tqdm.auto import tqdm

from sfv import paths
from sfv.config import show
from sfv.io import write_json
from sfv.keypoints import body_map
from sfv.notebook import stage_params
from sfv.plots import save_figure
from sfv.pose.poses_file import load_poses
from sfv.reconstruct import evaluate, figures
from sfv.reconstruct.camera_motion import person_boxes, track_background
from sfv.reconstruct.stage import initial_motion, prepare
from sfv.render.ground_truth import load_gt
from sfv.skeleton import load_character
from sfv.video import read_frames

params = stage_params(params_file)
cfg, entry, seed = params.reconstruct.for_clip(clip), params.clips[clip], params.base.seed
print(show(cfg))
if clip in cfg.turning.clips:
    print(
        f"{clip!r} spins: its fit holds the hips' turn steady (weights.turn_smoothness {cfg.weights.turn_smoothness:g})"
    )
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
# BlazePose's 3D keypoints are metric and centred at the hips. The network only sees a crop around the
# person, so its 3D pose is as seen straight along the ray to them: the kit turns it from that ray into the
# camera's frame (`ray_aligned`; on the rendered clips the pose's heading error follows the ray's angle, and
# the turn lowers the 3D targets' error: notebook 05 compares). With a focal length,
# each frame's body position follows from its 2D keypoints (where it is in the image, and how large).
#
# **The field of view.** Where the person crosses the view (the ray to them sweeps `fov_min_sweep` degrees), the ray's
# turn and the stretch of an off-centre body tell the lens: the kit tries a range of fields of view and
# keeps the one whose bodies reproject best. Where the person stays near the centre this cue is flat and what
# remains is biased by the network's depth errors, so the assumed `vertical_fov` stays (the plot shows the
# cost either way). Up is the median torso direction with the camera level (no roll: `level_camera`), its pitch
# then turned so that the ankles at rest (slower than `still_foot_speed`) share one height: feet at rest
# are mostly on the ground, wherever the person went. The ground lies under the lowest ankles. On the
# rendered clips the torso alone is far off the true up (people lean into a jump or a kick); each step brings
# it closer (the `up_error_deg` of the metrics below, and notebook 05's table).
#
# **A camera not held level.** A clip whose entry says `roll_from: scene` was filmed by a camera turned about its
# axis (a lab camera mounted at a slant, a phone held askew). Walls, door frames and posts are vertical: the
# direction their edges lean together gives the roll (`sfv/reconstruct/scene_roll.py`), the candidate nearest the
# person's torso where the scene has several, and the level camera above is built in the camera turned back by it.
# Left level, such a clip's reference leans sideways by the whole roll, and physics then tips the character over.
#
# **A pitch the feet cannot tell.** A jumper on a platform rests once on it and once on the ground below: any pitch
# puts two places on two levels, and filmed from in front the drop towards the camera reads as height. A clip whose
# entry says `pitch_from: scene` takes the pitch from the scene's horizontal edges instead: parallel edges meet at
# one vanishing point, whose ray is their direction, and two perpendicular sets of them (floor tiles, a box's
# sides) give up as their cross product (`sfv/reconstruct/scene_pitch.py`).
#
# **Outlier poses.** The estimator sometimes flips a whole 3D pose for a few frames (seen on the rendered
# roll and cartwheel, for a few frames at ordinary confidence). The body then turns more than
# `outlier_turn` degrees from one frame to the next, and back within `outlier_seconds`, which no
# skill does at 30 fps. The reconstruction treats such frames as missing (their 3D and 2D weights are 0,
# the smoothness term fills them); per-frame IK, the baseline, fits them as they are.

# %% [markdown]
# **A camera that turns.** Someone filming a skill often pans to keep the person in view. Then the person's
# place in the image no longer says where they went. Corners of the background (the person masked out) are
# tracked from frame to frame; the rotation that turns their viewing rays onto each other is the camera's turn
# (`camera_motion`). A camera that turns less than `camera_turn_min` over the clip is taken as fixed.

# %%
background = None
if cfg.camera_motion:
    video = paths.clip_video(clip, entry.source)
    with tqdm(total=poses["meta"]["end"] - first, desc=f"background {clip}", unit="frame") as bar:
        background = track_background(
            read_frames(video, first, poses["meta"]["end"]),
            person_boxes(poses["keypoints_2d"], poses["detected"]),
            progress=bar.update,
        )
scene_frames = lambda: read_frames(paths.clip_video(clip, entry.source), first, poses["meta"]["end"])  # noqa: E731
targets = prepare(
    poses,
    skeleton,
    cfg,
    background=background,
    scene_frames=scene_frames,
    roll_from=entry.roll_from,
    pitch_from=entry.pitch_from,
)
cam = targets.camera
if cam.roll_deg:
    print(f"camera roll read from the scene: {cam.roll_deg:.1f} deg (positive: up leans to the image's right)")
if cam.pitch_deg is not None:
    print(f"camera pitch read from the scene's horizontal edges: {cam.pitch_deg:.1f} deg (positive: looking down)")
print(
    f"estimated camera: f = {cam.camera.K[0, 0]:.0f} px ({cam.vertical_fov:.1f} deg), body "
    f"{np.nanmedian(cam.translation[:, 2]):.2f} m away (median); initial 2D error "
    f"{np.nanmedian(cam.reprojection_error):.1f} px = {1000 * np.nanmedian(cam.reprojection_error_m):.0f} mm at the "
    f"body (median)"
)
print(f"outlier frames: {np.flatnonzero(targets.outliers).tolist() or 'none'}")
init = initial_motion(targets.start, skeleton, fps, name=clip)
truth = evaluate.Truth.from_ground_truth(gt, first, len(poses["detected"]), targets.bodies) if gt is not None else None
if targets.camera.motion is not None:
    turning = targets.camera.motion
    print(
        f"camera: turns up to {turning.turn_deg.max():.1f} deg from the first frame "
        f"({'followed' if turning.moving else 'taken as fixed'}); background points per frame: median "
        f"{np.median(turning.tracked[1:]) if len(turning.tracked) > 1 else 0:.0f}"
    )
    if turning.moving:
        display(
            Image(
                save_figure(
                    figures.camera_turn(turning, fps, truth.rotations if truth else None), plot_dir / "camera_turn.png"
                )
            )
        )
if targets.camera.lens.estimate is not None:
    print(
        f"field of view: {targets.camera.lens.estimate.reason}"
        + (f"; the camera's was {truth.fov:.1f} deg" if truth else "")
    )
    display(
        Image(
            save_figure(
                figures.fov_costs(targets.camera.lens.estimate, truth.fov if truth else None),
                plot_dir / "field_of_view.png",
            )
        )
    )

# %% [markdown]
# ## Fit: per-frame IK, then the whole clip

# %%
with tqdm(total=2 * (cfg.ik_iterations + cfg.iterations), desc=f"reconstruct {clip}", unit="step") as bar:
    motion, ik_phase, curve, ik = evaluate.fit_clip(init, targets, cfg, progress=bar.update, seed=seed)
metrics = evaluate.clip_metrics(motion, ik, targets, curve, cfg, truth)
if cam.roll_deg:
    metrics["camera_roll_deg"] = round(float(cam.roll_deg), 1)
for k, v in metrics.items():
    print(f"{k:26s} {v}")
display(Image(save_figure(figures.loss_curve(curve, cfg.ik_iterations, cfg.optimizer), plot_dir / "loss.png")))

# %% [markdown]
# ## Before and after
#
# The right ankle's height and acceleration: the pose targets, per-frame IK (as jittery as its targets)
# and the reconstruction.

# %%
series = {
    "pose targets": targets.world,
    "per-frame IK": ik.body_positions()[0][:, targets.bodies],
    "reconstruction": motion.body_positions()[0][:, targets.bodies],
}
ankle = body_map(skeleton).role(("right_ankle",))
fig = figures.trajectories(series, fps, ankle, f"{clip}: right ankle")
display(Image(save_figure(fig, plot_dir / "trajectories.png")))

# %% [markdown]
# ## Ablation: the smoothness weight
#
# The same fit with other smoothness weights (0 is per-frame IK). Jitter falls as the weight grows; on
# rendered clips, the error against the source mocap shows where smoothing starts to flatten real motion.

# %%
rows = evaluate.smoothness_ablation(init, targets, cfg, cfg.ablation_smoothness, motion, ik, ik_phase, truth, seed=seed)
display(Image(save_figure(figures.smoothness_ablation(rows), plot_dir / "ablation.png")))
metrics["ablation"] = rows

# %% [markdown]
# ## What each other term does
#
# The reconstruction again, each time without one ingredient: outlier frames kept as the estimator gave
# them, no joint-range term, no foot-sliding term, and the root held to its depth-from-scale position
# (`root_position` 1 instead of a weak pull); for a clip that spins, its hips' turn not held steady. The figures
# show what each one buys on this clip; on rendered
# clips the error against the source mocap says whether it buys accuracy too.

# %%
with tqdm(total=len(evaluate.TERM_VARIANTS) - 1, desc="term ablation") as bar:
    term_rows = evaluate.term_ablation(init, targets, cfg, motion, ik, ik_phase, truth, progress=bar.update, seed=seed)
display(Image(save_figure(figures.term_ablation(term_rows), plot_dir / "terms.png")))
metrics["term_ablation"] = evaluate.rounded(term_rows)
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
    figures.stick_gif(
        plot_dir / "targets_vs_reconstruction.gif", targets.world, motion.body_positions()[0], skeleton, fps, clip
    )
    display(Image(str(plot_dir / "targets_vs_reconstruction.gif")))
write_json(paths.clip_metrics_file("reconstruct", clip), metrics)
print(f"motion: {paths.reconstructed_motion(clip, '.txt')}; metrics: {paths.clip_metrics_file('reconstruct', clip)}")
