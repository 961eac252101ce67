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
# # 04b · Morphology transfer: the motions from video on another body
#
# The paper's transfer experiment: the motions reconstructed from video drive a character of another shape, the
# Atlas robot, which learns the same skills in simulation. Atlas is 1.8 m and 146 kg, against the humanoid's 45 kg.
# Its shoulders are 10 cm wider, its joints are single axes with limits, and its up axis is z.
#
# 1. **The character** (`sfv/characters/atlas.yaml`, URDF in `sfv/characters/atlas/`): DART's Atlas v3 from
#    Debian's `dart-doc` package, with primitive collision shapes. `tools/robots_from_dart_deb.py` regenerates it.
# 2. **Retargeting** (`sfv/retarget.py`): the clip's reference, on the humanoid, becomes a motion on Atlas by
#    inverse kinematics through the kit's forward kinematics. Atlas's legs go where the humanoid's are, scaled by
#    the ratio of hip heights. Its arm segments point as the humanoid's do, at their own length. Its feet and torso
#    turn as the humanoid's. Every angle stays inside its joint's limits, and the soles stay on the ground.
# 3. **Imitation**: the same env, reward and PPO as the humanoid's (`imitate` settings), on Atlas.
#
# The reference is the one the humanoid's policy from video tracks (`data/policies/video/<clip>/reference.npz`),
# so both bodies imitate the same motion.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

from IPython.display import Image, Markdown, Video, display

from sfv import paths
from sfv.imitate.curve import read_curve
from sfv.imitate.evaluate import load_policy, rollout
from sfv.imitate.figures import compare_curves
from sfv.imitate.train import train
from sfv.io import write_json
from sfv.morphology.figures import retarget_figure
from sfv.morphology.transfer import (humanoid_figures, side_by_side, transfer_reference, transfer_row,
                                     video_reference)
from sfv.motion import load_motion, save_npz
from sfv.notebook import stage_params
from sfv.plots import save_figure

params = stage_params(params_file)
cfg = params.morphology_transfer
print(json.dumps(cfg.model_dump(), indent=1))
plot_dir = paths.plot_dir("morphology_transfer")
out_dir = paths.DATA / "morphology"
if not cfg.clips:
    raise ValueError("morphology_transfer.clips is empty: name clips of imitate.clips, e.g. [walk, jump]")

# %% [markdown]
# ## Retargeting
#
# Per clip: how close the fit came, in centimetres. *Key points*: Atlas's hips, knees and ankles against the scaled
# humanoid's. *Limbs*: the arm segments against the humanoid's. *Penetration*: the soles' deepest point under the
# ground. *Foot skate*: how far a foot slides per frame while it is down (Atlas, and the scaled humanoid for
# comparison).

# %%
references, fits = {}, {}
for clip in cfg.clips:
    motion, fit = transfer_reference(clip, cfg.character, cfg.retarget)
    references[clip] = save_npz(motion, out_dir / clip / "reference.npz")
    fits[clip] = fit
    display(Image(str(save_figure(retarget_figure(load_motion(video_reference(clip)), motion),
                                  plot_dir / f"{clip}_retarget.png"))))
display(Markdown("| clip | scale | key points (cm) | limbs (cm) | penetration (cm) | foot skate (cm/frame) | humanoid's skate |\n"
                 "|---|---|---|---|---|---|---|\n" + "\n".join(
                     f"| {c} | {f['scale']:.3f} | {f['keypoint_error_cm']:.1f} | {f['limb_error_cm']:.1f} | "
                     f"{f['penetration_cm']:.2f} | {f['foot_skate_cm']:.2f} | {f['source_foot_skate_cm']:.2f} |"
                     for c, f in fits.items())))

# %% [markdown]
# ## Learning on Atlas
#
# The humanoid's imitation settings (`imitate.env`, `imitate.reward`, `imitate.ppo`), with this stage's budget.
# Training resumes from its last checkpoint when interrupted.

# %%
ppo = params.imitate.ppo.model_copy(update={"total_timesteps": cfg.total_timesteps})
summaries, curves = {}, {}
for clip in cfg.clips:
    summaries[clip] = train(references[clip], out_dir / clip, params.imitate.env, params.imitate.reward, ppo,
                            seed=params.base.seed, evaluation_seconds=cfg.evaluation.seconds)
    curves[clip] = read_curve(out_dir / clip / "curve.csv")
    print(f"{clip}: {summaries[clip]['timesteps']:,} samples, {summaries[clip]['wall_seconds'] / 60:.0f} min")

# %% [markdown]
# ## Atlas beside the humanoid
#
# One deterministic rollout from the clip's start. The video puts the humanoid's evaluation (the source video and
# the humanoid) beside Atlas's. The table compares Atlas with the humanoid's own policy from video
# (`metrics/imitate/<clip>.json`, evaluated over `imitate.evaluation.seconds`).

# %%
rows = []
for clip in cfg.clips:
    model, normaliser = load_policy(out_dir / clip)
    atlas_video = out_dir / clip / "evaluation.mp4"
    result = rollout(model, load_motion(references[clip], cfg.character), params.imitate.env, params.imitate.reward,
                     cfg.evaluation.seconds, video=atlas_video, width=cfg.evaluation.width,
                     height=cfg.evaluation.height, policy_normaliser=normaliser)
    rows.append(transfer_row(clip, cfg.character, fits[clip], result, summaries[clip], humanoid_figures(clip)))
    humanoid_video = paths.policy_dir(clip, "video") / "evaluation.mp4"
    videos = [humanoid_video, atlas_video] if humanoid_video.is_file() else [atlas_video]
    both = side_by_side(videos, out_dir / clip / "side_by_side.mp4", cfg.evaluation.height)
    display(Markdown(f"**{clip}**: the source video and the humanoid (left), {cfg.character} (right)"))
    display(Video(str(both), embed=True, width=min(1280, 3 * cfg.evaluation.width)))

display(Markdown("| clip | tracking (cm) | time up (s) | samples (M) | minutes | humanoid tracking (cm) | humanoid time up (s) |\n"
                 "|---|---|---|---|---|---|---|\n" + "\n".join(
                     f"| {r['clip']} | {r['tracking_cm']:.1f} | {r['survived_s']:.1f} of {r['evaluated_s']:g} | "
                     f"{r['samples_m']:.2f} | {r['minutes']:.0f} | "
                     + (f"{r['humanoid_tracking_cm']:.1f} | {r['humanoid_survived_s']:.1f} |"
                        if r['humanoid_tracking_cm'] is not None else "— | — |") for r in rows)))

# %%
display(Image(str(save_figure(compare_curves(curves, f"{cfg.character} learning the clips from video"),
                              plot_dir / "learning_curves.png"))))
write_json(paths.metrics_file("morphology_transfer"), {"rows": rows, "character": cfg.character})
print(f"wrote {paths.metrics_file('morphology_transfer')}")
