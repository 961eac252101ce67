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
# # 08 · Morphology transfer: the motions from video on other bodies
#
# The paper's transfer experiment: the motions reconstructed from video drive characters of other shapes, which
# learn the same skills in simulation. The bodies are `morphology_transfer.characters`, each unlike the kit's
# humanoid (45 kg, ball joints, y up):
#
# - **Atlas** (`sfv/characters/atlas.yaml`): Boston Dynamics' robot, DART's Atlas v3 from Debian's `dart-doc`
#   package (`tools/robots_from_dart_deb.py` regenerates it). 1.8 m and 146 kg, shoulders 10 cm wider, 27
#   single-axis joints with limits, z up.
# - **The MuJoCo humanoid** (`sfv/characters/mujoco_humanoid.yaml`): OpenAI Gym's, from the MJCF file in
#   pybullet_data (`tools/character_from_mjcf.py`). 1.57 m and 41 kg, 21 single-axis joints (a waist in two parts,
#   skewed shoulder and ankle axes), capsule limbs and feet, no neck, z up; its root is the upper torso.
#
# 1. **Retargeting** (`sfv/retarget.py`): the clip's reference, on the humanoid, becomes a motion on each body by
#    inverse kinematics through the kit's forward kinematics. Its legs go where the humanoid's are, scaled by the
#    ratio of hip heights. Its arm segments point as the humanoid's do, at their own length. Its feet and torso turn
#    as the humanoid's. Every angle stays inside its joint's limits, and the soles stay on the ground. What maps to
#    what is in each character's file (`retarget`).
# 2. **Imitation**: the same env, reward and PPO as the humanoid's (`imitate` settings), on each body.
#
# The reference is the one the humanoid's policy from video tracks (`data/policies/video/<clip>/reference.npz`),
# so all bodies imitate the same motion.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

from IPython.display import Image, Markdown, Video, display

from sfv import paths
from sfv.declared_deps import require_declared
from sfv.imitate.curve import read_curve
from sfv.imitate.evaluate import load_policy, rollout
from sfv.imitate.figures import compare_curves
from sfv.imitate.train import train
from sfv.io import write_json
from sfv.markdown import markdown_table
from sfv.morphology.figures import retarget_figure
from sfv.morphology.transfer import humanoid_figures, side_by_side, transfer_reference, transfer_row, video_reference
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
runs = [(character, clip) for character in cfg.characters for clip in cfg.clips]
# DVC re-runs this stage when these clips' policies from video change: dvc.yaml names them one by one
require_declared(
    "morphology_transfer",
    [p for c in cfg.clips for p in (paths.policy_dir(c, "video"), paths.clip_metrics_file("imitate", c))],
    "morphology_transfer.clips",
)

# %% [markdown]
# ## Retargeting
#
# Per body and clip: how close the fit came, in centimetres. *Key points*: the body's hips, knees and ankles against
# the scaled humanoid's. *Limbs*: the arm segments against the humanoid's. *Penetration*: the soles' deepest point
# under the ground. *Foot skate*: how far a foot slides per frame while it is down (the body, and the scaled
# humanoid for comparison).

# %%
references, fits = {}, {}
for character, clip in runs:
    motion, fit = transfer_reference(clip, character, cfg.retarget)
    references[character, clip] = save_npz(motion, out_dir / character / clip / "reference.npz")
    fits[character, clip] = fit
    display(
        Image(
            str(
                save_figure(
                    retarget_figure(load_motion(video_reference(clip)), motion),
                    plot_dir / f"{character}_{clip}_retarget.png",
                )
            )
        )
    )
display(
    Markdown(
        markdown_table(
            [
                "body",
                "clip",
                "scale",
                "key points (cm)",
                "limbs (cm)",
                "penetration (cm)",
                "foot skate (cm/frame)",
                "humanoid's skate",
            ],
            (
                [
                    ch,
                    c,
                    f"{f['scale']:.3f}",
                    f"{f['keypoint_error_cm']:.1f}",
                    f"{f['limb_error_cm']:.1f}",
                    f"{f['penetration_cm']:.2f}",
                    f"{f['foot_skate_cm']:.2f}",
                    f"{f['source_foot_skate_cm']:.2f}",
                ]
                for (ch, c), f in fits.items()
            ),
        )
    )
)

# %% [markdown]
# ## Learning on the other bodies
#
# The humanoid's imitation settings (`imitate.env`, `imitate.reward`, `imitate.ppo`), with this stage's budget.
# Training resumes from its last checkpoint when interrupted.

# %%
ppo = params.imitate.ppo.model_copy(update={"total_timesteps": cfg.total_timesteps})
summaries, curves = {}, {}
for character, clip in runs:
    policy_folder = out_dir / character / clip
    summaries[character, clip] = train(
        references[character, clip],
        policy_folder,
        params.imitate.env,
        params.imitate.reward,
        ppo,
        seed=params.base.seed,
        evaluation_seconds=cfg.evaluation.seconds,
        cluster=params.cluster,
        run_dir=paths.run_dir("morphology_transfer", f"{character}_{clip}"),
        tensorboard_dir=paths.tensorboard_dir("morphology_transfer", f"{character}_{clip}"),
    )
    curves[f"{character} {clip}"] = read_curve(policy_folder / "curve.csv")
    print(
        f"{character} {clip}: {summaries[character, clip]['timesteps']:,} samples, "
        f"{summaries[character, clip]['wall_seconds'] / 60:.0f} min"
    )

# %% [markdown]
# ## The bodies beside the humanoid
#
# One deterministic rollout from the clip's start per body. The video puts the humanoid's evaluation (the source
# video and the humanoid) beside each body's. The table compares them with the humanoid's own policy from video
# (`metrics/imitate/<clip>.json`, evaluated over `imitate.evaluation.seconds`).

# %%
rows = []
for clip in cfg.clips:
    videos = []
    for character in cfg.characters:
        policy_folder = out_dir / character / clip
        model, normaliser = load_policy(policy_folder)
        videos.append(policy_folder / "evaluation.mp4")
        result = rollout(
            model,
            load_motion(references[character, clip], character),
            params.imitate.env,
            params.imitate.reward,
            cfg.evaluation.seconds,
            video=videos[-1],
            width=cfg.evaluation.width,
            height=cfg.evaluation.height,
            policy_normaliser=normaliser,
        )
        rows.append(
            transfer_row(
                clip, character, fits[character, clip], result, summaries[character, clip], humanoid_figures(clip)
            )
        )
    humanoid_video = paths.policy_dir(clip, "video") / "evaluation.mp4"
    if humanoid_video.is_file():
        videos.insert(0, humanoid_video)
    both = side_by_side(videos, out_dir / f"{clip}_side_by_side.mp4", cfg.evaluation.height)
    display(
        Markdown(
            f"**{clip}**: "
            + ("the source video and the humanoid, then " if humanoid_video.is_file() else "")
            + ", ".join(cfg.characters)
        )
    )
    display(Video(str(both), embed=False, width=min(1280, (len(videos) + 1) * cfg.evaluation.width)))

display(
    Markdown(
        markdown_table(
            [
                "body",
                "clip",
                "tracking (cm)",
                "time up (s)",
                "samples (M)",
                "minutes",
                "humanoid tracking (cm)",
                "humanoid time up (s)",
            ],
            (
                [
                    r["character"],
                    r["clip"],
                    f"{r['tracking_cm']:.1f}",
                    f"{r['survived_s']:.1f} of {r['evaluated_s']:g}",
                    f"{r['samples_m']:.2f}",
                    f"{r['minutes']:.0f}",
                    *(
                        (f"{r['humanoid_tracking_cm']:.1f}", f"{r['humanoid_survived_s']:.1f}")
                        if r["humanoid_tracking_cm"] is not None
                        else ("—", "—")
                    ),
                ]
                for r in rows
            ),
        )
    )
)

# %%
display(
    Image(
        str(
            save_figure(
                compare_curves(curves, "other bodies learning the clips from video"), plot_dir / "learning_curves.png"
            )
        )
    )
)
write_json(paths.metrics_file("morphology_transfer"), {"rows": rows, "characters": cfg.characters})
print(f"wrote {paths.metrics_file('morphology_transfer')}")
