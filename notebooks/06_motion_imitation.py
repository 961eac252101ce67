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
# # 06 · Motion imitation: a simulated character learns the skill from the video
#
# The paper's third stage (SFV §6, built on DeepMimic). The reference motion says where every joint
# should be at every instant; a physics simulation says what can actually happen to a body with mass,
# motors and a floor. A policy — a neural network trained with reinforcement learning (PPO) — looks at
# the character's state and the phase of the clip 30 times a second and picks joint targets that a
# PD controller in each joint turns into torques.
#
# The reference is the clip's **reconstruction** (`data/motions/<clip>.npz`, notebook 04): this is the
# chain the paper exists for, a skill learned by watching a video. For a clip rendered from mocap the same
# notebook also runs as the **oracle** (stage `imitate_oracle@<clip>`, `reference = "mocap"`): the policy
# tracks the ground-truth mocap itself, the best a policy could do with a perfect reconstruction. On
# rendered clips both are measured against the ground truth, so the gap between them is what learning
# from video costs (the table of all clips is notebook 07).
#
# Everything it runs is in `sfv/imitate/`: `reference_clip.py` (reconstruction → reference), `sim.py`
# (pybullet), `reference.py`, `reward.py`, `env.py` (gymnasium), `train.py`, `evaluate.py`, `fidelity.py`
# (against the ground truth), `stage.py`. Parameters come from `params.yaml`, section `imitate` (printed
# below). `dvc repro` passes the file, the clip and the reference; for a quick interactive run, point
# `params_file` at a copy with a small `imitate.ppo.total_timesteps`.

# %% tags=["parameters"]
params_file = "params.yaml"
clip = "walk"
reference = "video"
seed_offset = 0  # added to base.seed: a second seed of the same clip (stage imitate_seed2) shows the spread

# %%
import json
import math

import numpy as np
from IPython.display import Image, Markdown, Video, display

from sfv import paths
from sfv.config import show
from sfv.imitate import figures, stage
from sfv.imitate.curve import read_curve, write_curve
from sfv.imitate.env import ImitationEnv
from sfv.imitate.evaluate import SourceVideo, load_policy, rollout
from sfv.imitate.reference_clip import load_reference, motion_ground_levels, prepare_reference
from sfv.imitate.reward import ERRORS, TERMS
from sfv.imitate.train import train
from sfv.io import write_json
from sfv.markdown import markdown_table
from sfv.notebook import stage_params
from sfv.plots import save_figure

params = stage_params(params_file)
cfg, entry = params.imitate.for_clip(clip), params.clips[clip]  # the clip's own ground contacts
seed = params.base.seed + seed_offset
run = paths.run_name(clip, seed_offset)  # what this policy's files are named by: the clip (and a further seed's number)
print(show(cfg))
motion, made, motion_path = stage.make_reference(params, clip, reference, run)
ppo = stage.budget(params, clip, reference)
policy_dir = paths.policy_dir(run, reference)
stage_name = paths.imitate_stage(reference)
plot_dir = paths.clip_plot_dir(stage_name, run)
print(
    f"clip {clip!r} learned from its {reference}: {motion.n_frames} frames at {motion.fps:g} fps "
    f"({motion.duration:.2f} s, loop={motion.loop}) from {made['source']}"
)
print(
    f"character {motion.skeleton.name!r} on terrain {cfg.env.terrain!r}; physics {cfg.env.physics_hz:g} Hz, "
    f"control {cfg.env.control_hz:g} Hz; budget {ppo.total_timesteps:,} samples; seed {seed}"
)

# %% [markdown]
# ## From a reconstruction to a reference a body can track
#
# A reconstructed motion is not a mocap clip. It is short (one cycle of a walk, a single jump), it does not
# loop, it lives in the camera's world (its floor is where the reconstruction put it, usually a few
# centimetres off, and for a real video possibly on top of a wall), and its first frame may be mid-stride.
# Trained on as it is, a policy would learn to float, to sink, or to chase a drop no floor can host. So
# before training (`sfv/imitate/reference_clip.py`), and with an error that names the frame and the fix
# when something cannot be mended:
#
# 1. **trim** to `imitate.clips.<clip>.frames`;
# 2. **check**: at least `reference.min_seconds` long, every number finite, and on **one ground level**: the
#    lowest body within a one-second window (a walk's feet come down in that time, a cartwheel's hands) must
#    not rise or fall more than `level_tolerance` over the clip. A man stepping off a wall fails this, and
#    the error says which frames are on one level;
# 3. **ground**: one vertical shift puts the lowest foot of the clip where the character's feet are when it
#    stands (its rest pose at its spawn height). A reconstruction whose feet are more than `sink_tolerance`
#    under its floor is refused rather than silently lifted;
# 4. **make it physical** (`imitate.physical`, `sfv/imitate/physical.py`): what physics knows and one camera
#    cannot show. Each foot's planted phases are read from the reconstruction (low and slow) or from the video's
#    2D keypoints (still in the image); then one optimisation over the whole clip, over the reconstruction's own
#    variables, stays as close as it can to the reconstructed bodies while a planted foot stays put at its
#    standing height (no skating, no sinking), no body goes under the floor, and where nothing touches the
#    ground the centre of mass follows a ballistic arc (g = 9.81 m/s²): the video times the take-off and the
#    landing, gravity then fixes the flight's height, which monocular depth gets wrong;
# 5. **loop** a `cyclic` clip: the last frame of one cycle is the first of the next (DeepMimic's
#    convention), so the difference between them (root height and orientation, every joint) is spread
#    evenly over the clip; the env then repeats it, each cycle shifted by the clip's travel. A one-shot clip
#    ends its episodes with its last frame, and evaluation stops there too.
#
# Velocities (for the reward and for starting an episode mid-clip) are finite differences of this motion,
# which the reconstruction's smoothness term already made smooth. The oracle's reference is the mocap as
# it is (looped as DeepMimic ships it).

# %%
print(json.dumps(made, indent=2))
if reference == "video":
    raw = load_reference(made["source"], clip)
    levels = motion_ground_levels(motion, cfg.reference.level_window)
    display(
        Image(
            save_figure(
                figures.reference_figure(
                    raw,
                    motion,
                    made["first_frame"],
                    levels,
                    f"{clip}: reconstruction -> reference (lift {made['lift_m']:+.3f} m)",
                ),
                plot_dir / "reference.png",
            )
        )
    )
if reference == "video" and "physical" in made:
    before, _ = prepare_reference(raw, params.imitate.clips[clip], cfg.reference, clip)  # the same, not physical
    display(
        Image(
            save_figure(
                figures.physical_figure(
                    before,
                    motion,
                    made["physical"],
                    f"{clip}: the physical step (bodies moved {100 * made['physical']['bodies_moved_m']:.1f} cm "
                    f"on average; {len(made['physical']['flights'])} flight(s))",
                ),
                plot_dir / "physical.png",
            )
        )
    )

# %% [markdown]
# ## The reward: how close is "close"?
#
# DeepMimic scores every control step by comparing the simulated character with the reference at the
# same instant. One error per term (`sfv/imitate/reward.py`), each turned into a number in [0, 1] by
# exp(-scale × error); the total is their weighted sum (weights normalised to 1). The scale decides how
# forgiving a term is: a term has halved where scale × error = ln 2.

# %%
weights = cfg.reward.normalised_weights()
display(
    Markdown(
        markdown_table(
            ["term", "error", "weight", "scale"],
            (
                [
                    term,
                    " ".join(ERRORS[term].__doc__.split()),
                    f"{weights[term]:.3f}",
                    f"{getattr(cfg.reward.scales, term):g}",
                ]
                for term in TERMS
            ),
        )
    )
)
half = math.sqrt(math.log(2) / cfg.reward.scales.end_effector)
print(f"the end-effector term has halved when hands and feet are off by {half * 100:.0f} cm on average")
display(Image(save_figure(figures.reward_term_shapes(cfg.reward), plot_dir / "reward_terms.png")))

# %% [markdown]
# ## The PD controller alone, and early termination
#
# Before any learning: feed the reference pose itself to the PD controllers (a zero action, since the
# policy's action is an offset from the reference pose — `action_mode: residual`). The character starts
# exactly in the reference state, follows it for a moment, and falls: tracking a pose is not balancing.
# When a body other than the feet touches the ground the episode ends (**early termination**); without
# it, training data would fill up with a character lying on the floor, earning a little reward for
# moving its arms the right way. A training episode also ends when a body strays more than
# `imitate.env.pose_termination` metres from the reference's (MimicKit's **pose termination**): a walk that
# falls behind its reference then loses the rest of the episode, which keeps it on the reference's track
# (without it, walk policies drifted metres from their reference: docs/learning_speed.md). Evaluations like
# the one below never end on it: they show the drift.

# %%
pd_only = rollout(None, motion, cfg.env, cfg.reward, seconds=cfg.evaluation.seconds)
print(
    f"PD alone: survived {pd_only['survived_seconds']:.2f} s of {cfg.evaluation.seconds:g} s, "
    f"mean tracking error {pd_only['tracking_error_mean'] * 100:.1f} cm"
)
display(
    Image(
        save_figure(
            figures.rollout_figure({"PD alone (zero action)": pd_only}, f"{clip}: no policy"), plot_dir / "pd_only.png"
        )
    )
)

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
display(
    Image(
        save_figure(
            figures.start_phases(np.array(starts), f"{clip}: RSI start phases (400 resets)"),
            plot_dir / "rsi_start_phases.png",
        )
    )
)

# %% [markdown]
# ## Training (PPO, resumable)
#
# stable-baselines3 PPO with DeepMimic's discount (γ = λ = 0.95), a fixed-size rollout per update, and
# observation normalisation (`VecNormalize`, saved with the model). Progress goes to a bar, TensorBoard
# (`tensorboard --logdir logs/tensorboard`) and `curve.csv`. A checkpoint is written every `checkpoint_every`
# samples into the run's folder `runs/<stage>/<clip>/` (kept apart from the policy folder, which holds only the
# final policy); if the run is interrupted (even `kill -9`), running the stage again resumes from the last one,
# on another machine too once `sfv store save` has carried the folder there. Once the budget is spent,
# re-running only re-evaluates.
#
# The budget is a cap. Every `evaluate_every` samples the deterministic evaluation is judged by the same bar the
# end-to-end table uses (`sfv/imitate/learned.py`: survive 95% of the evaluation, track the reference closely
# enough and, on a rendered clip, stay near the truth); once `stop_after_learned` evaluations in a row pass, the
# training ends and keeps the policy the last of them evaluated. The curve's `eval_learned` column shows each
# verdict.

# %%
truth = stage.ground_truth(params, clip, reference)  # the source mocap of a rendered clip; None for a real video
judge = stage.learned_judge(
    clip, motion, made, truth, cfg.evaluation.seconds, cfg.env.control_hz, reference
)  # each evaluation's verdict: the training stops once `stop_after_learned` in a row are learned
summary = train(
    motion_path,
    policy_dir,
    cfg.env,
    cfg.reward,
    ppo,
    seed=seed,
    progress=True,
    asi=cfg.asi,
    evaluation_seconds=cfg.evaluation.seconds,
    cluster=params.cluster,  # rollouts here or on Ray
    run_dir=paths.run_dir(stage_name, run),
    tensorboard_dir=paths.tensorboard_dir(stage_name, run),
    judge=judge,
)
curve = read_curve(policy_dir / "curve.csv")
write_curve(paths.learning_curve_file(run, reference), curve)  # for `dvc plots show`
print(
    f"{summary['timesteps']:,} samples in {summary['wall_seconds'] / 60:.1f} min of training "
    f"({summary['samples_per_second']:.0f} samples/s including learning)"
    + (f"; stopped as learned before the budget of {ppo.total_timesteps:,}" if summary["stopped_learned"] else "")
)
display(
    Image(save_figure(figures.learning_curves(curve, f"{clip}: learning curves"), plot_dir / "learning_curves.png"))
)
if cfg.env.state_init == "adaptive":  # ASI: where episodes started by the end, and why
    asi_state = json.loads((policy_dir / "asi.json").read_text())
    asi_p = np.exp(np.array(asi_state["logits"]) - max(asi_state["logits"]))
    display(
        Image(
            save_figure(
                figures.asi_distribution(
                    asi_p / asi_p.sum(),
                    np.array(asi_state["difficulty"]),
                    f"{clip}: ASI's start distribution after training",
                ),
                plot_dir / "asi_start_distribution.png",
            )
        )
    )

# %% [markdown]
# ## Evaluation
#
# One deterministic rollout from phase 0 (no exploration noise), as long as the evaluation asks (a one-shot
# clip: until its last frame) or until the character falls. The tracking error is MimicKit's: the mean
# distance between simulated and reference bodies, each measured from its own root, in metres. The video
# shows the policy (light) beside its reference (blue) and, for a policy learned from video, the source
# video on the left, in step (a cyclic clip's video repeats): the paper's figure.

# %%
model, normaliser = load_policy(policy_dir)
video = policy_dir / "evaluation.mp4" if cfg.evaluation.video else None
beside = None
if video and reference == "video":
    beside = SourceVideo(
        paths.clip_video(clip, entry.source),
        entry.video_frames[0] + made["first_frame"],
        motion.n_frames,
        entry.fps,
        cyclic=motion.loop == "wrap",
        height=cfg.evaluation.height,
    )
result = rollout(
    model,
    motion,
    cfg.env,
    cfg.reward,
    seconds=cfg.evaluation.seconds,
    video=video,
    width=cfg.evaluation.width,
    height=cfg.evaluation.height,
    policy_normaliser=normaliser,
    beside=beside,
)
print(
    f"policy: survived {result['survived_seconds']:.2f} s ({'fell' if result['fallen'] else 'no fall'}), "
    f"mean tracking error {result['tracking_error_mean'] * 100:.1f} cm, "
    f"root error at the end {result['root_error_final'] * 100:.1f} cm, return {result['episode_return']:.1f}"
)
display(
    Image(
        save_figure(
            figures.rollout_figure({"policy": result, "PD alone": pd_only}, f"{clip}: evaluation"),
            plot_dir / "evaluation.png",
        )
    )
)
if video:
    display(Video(str(video), embed=False))

# %% [markdown]
# ## Against the ground truth (rendered clips)
#
# The tracking error above compares the policy with *its own* reference. For a clip rendered from mocap the
# truth is known, so the whole chain can be measured: the policy's rollout against the ground-truth mocap
# at the same instants, with the same body measure, each pose turned to face forward first (the video's
# world is the camera's, its heading arbitrary: `sfv/analysis/fidelity.py`), and the drift of the root's
# travel. For a policy learned from video, its reference (the reconstruction) is measured the same way: the
# policy can hardly do better than the motion it was shown. (The tracking error above keeps world axes, so
# a character that walks the right steps but slowly turns away from its reference's heading scores worse
# there than here.)

# %%
e2e = None
if truth is None:
    print(f"{clip} is a real video: no ground truth to measure against")
else:
    e2e, curves = stage.end_to_end(result, motion, truth, cfg.env.control_hz, reference)
    print(json.dumps(e2e, indent=2))
    display(
        Image(
            save_figure(
                figures.truth_error_figure(curves, f"{clip} ({reference} policy) against the ground truth"),
                plot_dir / "truth_error.png",
            )
        )
    )

# %%
metrics = stage.imitation_metrics(result, pd_only, summary, made, cfg.evaluation.seconds, e2e)
write_json(paths.clip_metrics_file(stage_name, run), metrics)
print(json.dumps(metrics, indent=2))

# %% [markdown]
# ## How fast it learns
#
# What learning costs (samples and minutes to skill, the lever ablation, ASI against RSI) is measured by
# benchmarks that train for hours, outside the pipeline; the results page (notebook 11) shows their figures.
