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
# # 03 · Motion imitation: a simulated character learns to track the reference
#
# The paper's third stage (SFV §6, built on DeepMimic). The reference motion says where every joint
# should be at every instant; a physics simulation says what can actually happen to a body with mass,
# motors and a floor. A policy — a neural network trained with reinforcement learning (PPO) — looks at
# the character's state and the phase of the clip 30 times a second and picks joint targets that a
# PD controller in each joint turns into torques.
#
# This notebook trains (or resumes) that policy for one clip, then evaluates it. Everything it runs is in
# `sfv/imitate/`: `sim.py` (pybullet), `reference.py`, `reward.py`, `env.py` (gymnasium), `train.py`,
# `evaluate.py`. Parameters come from `params.yaml`, section `imitate` (printed below); the clip comes from
# `clips`. `dvc repro` passes the file and the clip; for a quick interactive run, point `params_file` at a
# copy with a small `imitate.ppo.total_timesteps`.

# %% tags=["parameters"]
params_file = "params.yaml"
clip = "walk"

# %%
import json

import numpy as np
from IPython.display import Image, Video, display

from sfv import paths
from sfv.config import show
from sfv.imitate import figures
from sfv.imitate.env import ImitationEnv
from sfv.imitate.evaluate import load_policy, rollout
from sfv.imitate.train import read_curve, train, write_curve
from sfv.io import write_json
from sfv.motion import load_motion
from sfv.notebook import stage_params
from sfv.plots import save_figure

params = stage_params(params_file)
cfg, entry, seed = params.imitate, params.clips[clip], params.base.seed
print(show(cfg))
motion_path = paths.reference_motion(entry.source)
motion = load_motion(motion_path)
policy_dir = paths.policy_dir(clip)
plot_dir = paths.clip_plot_dir("imitate", clip)
print(f"clip {clip!r}: {motion.n_frames} frames at {motion.fps:g} fps ({motion.duration:.2f} s, loop={motion.loop}) "
      f"from {motion_path}")
print(f"character {motion.skeleton.name!r} on terrain {cfg.env.terrain!r}; physics {cfg.env.physics_hz:g} Hz, "
      f"control {cfg.env.control_hz:g} Hz")

# %% [markdown]
# ## The reward: how close is "close"?
#
# DeepMimic scores every control step by comparing the simulated character with the reference at the
# same instant. Five errors, each turned into a number in [0, 1] by exp(-scale × error):
#
# | term | error |
# |---|---|
# | pose | weighted sum of squared joint-angle differences (root orientation included) |
# | velocity | the same for joint angular velocities |
# | end effector | mean squared distance of hands and feet, each relative to the root, in its heading frame |
# | root | squared root position error + 0.1 rotation² + 0.01 velocity² + 0.001 angular velocity² |
# | centre of mass | 0.1 × squared centre-of-mass velocity error |
#
# The total is their weighted sum (weights normalised to 1). The scale decides how forgiving a term is:
# the end-effector term (scale 40) has halved when hands and feet are off by 13 cm on average.

# %%
display(Image(save_figure(figures.reward_term_shapes(cfg.reward),
                          plot_dir / "reward_terms.png")))

# %% [markdown]
# ## The PD controller alone, and early termination
#
# Before any learning: feed the reference pose itself to the PD controllers (a zero action, since the
# policy's action is an offset from the reference pose — `action_mode: residual`). The character starts
# exactly in the reference state, follows it for a moment, and falls: tracking a pose is not balancing.
# When a body other than the feet touches the ground the episode ends (**early termination**); without
# it, training data would fill up with a character lying on the floor, earning a little reward for
# moving its arms the right way.

# %%
pd_only = rollout(None, motion, cfg.env, cfg.reward, seconds=cfg.evaluation.seconds)
print(f"PD alone: survived {pd_only['survived_seconds']:.2f} s of {cfg.evaluation.seconds:g} s, "
      f"mean tracking error {pd_only['tracking_error_mean'] * 100:.1f} cm")
display(Image(save_figure(figures.rollout_figure({"PD alone (zero action)": pd_only}, f"{clip}: no policy"),
                          plot_dir / "pd_only.png")))

# %% [markdown]
# ## Reference state initialisation (RSI)
#
# If every episode started at phase 0, the policy would have to learn the first steps before it ever saw
# the later ones (for a backflip: it would never reach the landing). RSI starts each training episode at a
# random phase, with the character placed exactly in the reference's state at that phase — pose *and*
# velocities — so every part of the clip is practised from the start. Below: the start phases of 400
# resets, and the reward right after a reset (1.0 would be a perfect copy).

# %%
probe = ImitationEnv(motion, cfg.env, cfg.reward)
starts, first_rewards = [], []
for i in range(400):
    _, info = probe.reset(seed=seed + i)
    starts.append(info["phase"])
    if i < 20:
        first_rewards.append(probe.step(np.zeros(probe.action_space.shape))[1])
probe.close()
print(f"reward after the first step from a reset: {np.mean(first_rewards):.3f} (mean of 20)")
display(Image(save_figure(figures.start_phases(np.array(starts), f"{clip}: RSI start phases (400 resets)"),
                          plot_dir / "rsi_start_phases.png")))

# %% [markdown]
# ## Training (PPO, resumable)
#
# stable-baselines3 PPO with DeepMimic's discount (γ = λ = 0.95), a fixed-size rollout per update, and
# observation normalisation (`VecNormalize`, saved with the model). Progress goes to a bar, TensorBoard
# (`tensorboard --logdir data/policies/<clip>/tb`) and `curve.csv`. A checkpoint is written every
# `checkpoint_every` samples; if the run is interrupted (even `kill -9`), running the stage again resumes
# from the last one. Once the budget is spent, re-running only re-evaluates.

# %%
summary = train(motion_path, policy_dir, cfg.env, cfg.reward, cfg.ppo, seed=seed, progress=True)
curve = read_curve(policy_dir / "curve.csv")
write_curve(paths.learning_curve_file(clip), curve)  # for `dvc plots show`
print(f"{summary['timesteps']:,} samples in {summary['wall_seconds'] / 60:.1f} min of training "
      f"({summary['samples_per_second']:.0f} samples/s including learning)")
display(Image(save_figure(figures.learning_curves(curve, f"{clip}: learning curves"), plot_dir / "learning_curves.png")))

# %% [markdown]
# ## Evaluation
#
# One deterministic rollout from phase 0 (no exploration noise), as long as the evaluation asks or until
# the character falls. The tracking error is MimicKit's: the mean distance between simulated and
# reference bodies, each measured from its own root, in metres. The video shows the policy (light) beside
# the reference (blue).

# %%
model, normaliser = load_policy(policy_dir)
video = policy_dir / "evaluation.mp4" if cfg.evaluation.video else None
result = rollout(model, motion, cfg.env, cfg.reward, seconds=cfg.evaluation.seconds, video=video,
                 width=cfg.evaluation.width, height=cfg.evaluation.height, policy_normaliser=normaliser)
print(f"policy: survived {result['survived_seconds']:.2f} of {cfg.evaluation.seconds:g} s "
      f"({'fell' if result['fallen'] else 'no fall'}), mean tracking error {result['tracking_error_mean'] * 100:.1f} cm, "
      f"root error at the end {result['root_error_final'] * 100:.1f} cm, return {result['episode_return']:.1f}")
display(Image(save_figure(figures.rollout_figure({"policy": result, "PD alone": pd_only}, f"{clip}: evaluation"),
                          plot_dir / "evaluation.png")))
if video:
    display(Video(str(video), embed=False))

# %%
metrics = {
    "tracking_error_m": round(result["tracking_error_mean"], 5),
    "root_error_final_m": round(result["root_error_final"], 4),
    "survived_seconds": round(result["survived_seconds"], 3),
    "evaluation_seconds": cfg.evaluation.seconds,
    "fell": result["fallen"],
    "return": round(result["episode_return"], 2),
    "pd_only_survived_seconds": round(pd_only["survived_seconds"], 3),
    "train_samples": summary["timesteps"],
    "train_wall_seconds": summary["wall_seconds"],
    "train_samples_per_second": round(summary["samples_per_second"], 1),
}
write_json(paths.clip_metrics_file("imitate", clip), metrics)
print(json.dumps(metrics, indent=2))
