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
# # 11 · Results: what the kit reproduces, and how well
#
# One page for the whole kit. Every table below is read from the metrics the other stages wrote, and the
# learning-speed benchmarks' results committed under `bench/results/` (`sfv/report/tables.py`). Nothing is
# recomputed here. This stage also exports this page, without its code, to `reports/results.html`.
#
# **Reading it.** "not run" means a stage that covers the clip has not written its metrics yet (run
# `dvc repro`). "—" means the quantity does not apply: a real video has no ground truth, and a clip not in a
# stage's clip list is not trained. A policy that fell is reported as such, with the fraction of the
# evaluation it stood through and its learning curve. A failed skill is kept in the tables.
#
# Where the paper or DeepMimic published a figure for the same quantity, it is listed beside the section
# with its source (`sfv/report/paper.py`). The SFV paper's own result tables are not in the kit's checked
# references, so their values are left empty rather than quoted from memory.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

from IPython.display import HTML, Image, Markdown, display

from sfv import paths
from sfv.analysis import learning_speed
from sfv.imitate import figures
from sfv.io import write_json, write_text
from sfv.notebook import executed_path, stage_params
from sfv.plots import save_figure
from sfv.report import paper
from sfv.report.export import HTML_PAGES
from sfv.report.media import linked_video, video_clip
from sfv.report.tables import all_tables

params = stage_params(params_file)
cfg = params.report
print(f"report settings: {cfg.model_dump()}")
plot_dir = paths.plot_dir("report")
here = executed_path("report").parent  # the rollout clips are linked from where the executed notebook lies
tables = all_tables(params)


def show(name: str) -> None:
    table = tables[name]
    display(Markdown(f"**{table.title}**\n\n{table.markdown()}"))
    published = paper.markdown(name)
    if published:
        display(Markdown("Published figures for the same quantities:\n\n" + published))


def show_figure(path) -> None:
    if path.is_file():
        display(Image(str(path)))
    else:
        display(Markdown(f"*not run:* no `{path}` yet"))


# %% [markdown]
# ## Every clip through the chain
#
# Per clip: the pose estimator's 3D error and the reconstruction's error against the rendered truth (mm), the
# reconstruction's jitter before and after the fit, the policy learned from the video (its tracking error
# against its own reference, the fraction of the 20 s evaluation it survived, the samples and hours it
# trained), and that policy against the ground truth.

# %%
show("overview")

# %% [markdown]
# ## The policies, moving
#
# The first seconds of each policy's evaluation: the source video, the simulated character, and its
# reference (notebook 06 makes the full videos, `data/policies/<kind>/<clip>/evaluation.mp4`).

# %%
rollout_clips = {}
for kind, clips in (("video", list(params.imitate.clips)), ("mocap", list(params.imitate.oracle_clips))):
    for clip in clips:
        video = paths.policy_dir(clip, kind) / "evaluation.mp4"
        label = f"{clip} ({'from its video' if kind == 'video' else 'oracle, on the mocap'})"
        if not video.is_file():
            display(Markdown(f"*{label}: not run* (no {video})"))
            continue
        clip_file = video_clip(video, plot_dir / f"{clip}_{kind}.mp4", cfg.gif_seconds, cfg.gif_fps, cfg.gif_width)
        rollout_clips[label] = str(clip_file)
        display(HTML(f"<p><b>{label}</b></p>" + linked_video(clip_file, label, here)))

# %% [markdown]
# ## Pose estimation
#
# 2D error and PCK@0.05 against the rendered keypoints, 3D PA-MPJPE against the mocap joints, with and
# without the rotation search (notebook 03).

# %%
show("pose")

# %% [markdown]
# ## Motion reconstruction
#
# Jitter is the mean joint acceleration (mm/frame²). "Before" is the estimator's 3D poses, and "after" is the
# reconstructed motion. The errors are MPJPE against the mocap the clip was rendered from (notebook 04).
# The second table sets every rendered clip beside the camera that filmed it (notebook 05).

# %%
show("reconstruction")
show("cameras")
show_figure(paths.plot_dir("cameras") / "errors_by_camera.png")

# %% [markdown]
# ## Motion imitation
#
# Each policy in a deterministic 20 s rollout from phase 0, against its own reference (notebook 06). The oracle
# is the same training on the ground-truth mocap: the upper bound a perfect reconstruction would allow.

# %%
show("imitation")

# %% [markdown]
# ## End to end, against the ground truth
#
# The reference, the video policy and the oracle policy, each against the truth with one measure (notebook 07).

# %%
show("end_to_end")
show_figure(paths.plot_dir("end_to_end") / "end_to_end.png")
show_figure(paths.plot_dir("end_to_end") / "learning_curves.png")

# %% [markdown]
# ## What limits each policy
#
# Each policy learned from video, its evaluation replayed and read: what ended it, which bodies carry its error
# and when, and how much of it is its heading (notebook 07).

# %%
show("limits")
show_figure(paths.plot_dir("end_to_end") / "limits.png")

# %% [markdown]
# ## The reference step
#
# Every rendered clip's reference as the imitation stage makes it, without and with the physical step (planted
# feet held, no body under the floor, ballistic flights), each against its truth (notebook 07).

# %%
show("reference_physics")

# %% [markdown]
# ## The ground each clip was filmed on
#
# The levels each reconstructed clip's body stood on, read from the reconstruction (notebook 07): one for a clip
# filmed on flat ground, more for one filmed on a wall, a box or stairs.

# %%
show("scenes")

# %% [markdown]
# ## Learning speed
#
# Samples and wall-clock time until a policy tracks the whole mocap clip within its threshold, on 2 cores
# (`bench/samples_to_skill.py`). Then the paper's adaptive state initialisation against reference state
# initialisation, at the same seed and budget (`bench/imitation_levers.py`). Both are benchmarks run by hand
# (hours of training, resumed across sessions), and their results are committed under `bench/results/`.

# %%
show("samples_to_skill")
show("asi")

# %% [markdown]
# The lever ablation: each variant changes one setting of `imitate` (PPO's rollout, minibatch, epochs,
# learning rate and its schedule, advantage normalisation, value clipping, discount; network size; action mode
# and scale; phase encoding; the reference-root observation; reward scales; early termination; ASI) and trains
# the same mocap clip for the same budget and seed (`bench/imitation_levers.py`). The defaults in `params.yaml`
# are the variants these measurements chose. One seed per variant: differences of a centimetre are within the
# noise between seeds.

# %%
for bench_clip, (rows, lever_curves) in learning_speed.lever_results().items():
    display(
        Markdown(
            f"**Lever ablation on `{bench_clip}`** (mocap reference, one seed; evaluation after the "
            "budget)\n\n" + learning_speed.lever_table(rows, lever_curves)
        )
    )
    if {"baseline", "asi"} <= set(lever_curves):
        display(
            Image(
                save_figure(
                    figures.compare_curves(
                        {"RSI": lever_curves["baseline"], "ASI": lever_curves["asi"]},
                        f"{bench_clip}: ASI against RSI (same seed)",
                    ),
                    plot_dir / f"asi_vs_rsi_{bench_clip}.png",
                )
            )
        )
    with_evaluations = {k: c for k, c in lever_curves.items() if learning_speed.evaluations(c)}
    if len(with_evaluations) > 1:
        display(
            Image(
                save_figure(
                    figures.compare_curves(with_evaluations, f"{bench_clip}: lever ablation"),
                    plot_dir / f"levers_{bench_clip}.png",
                )
            )
        )
skill_rows, skill_curves = learning_speed.skill_results()
if skill_rows:
    display(
        Markdown(
            "**Samples to skill** (2 cores; the default settings, but where the clip's column "
            "names a variant and its overrides)\n\n" + learning_speed.skill_table(skill_rows)
        )
    )
    display(
        Image(save_figure(figures.compare_curves(skill_curves, "samples to skill"), plot_dir / "samples_to_skill.png"))
    )
else:
    print("samples to skill: not run yet (python bench/samples_to_skill.py)")

# %% [markdown]
# ## The paper's experiments
#
# Morphology transfer (Atlas and the MuJoCo humanoid), irregular terrain, and motion completion from a single
# image. Each shows its table once its stage has written `metrics/<stage>.json`.

# %%
for name in ("morphology", "terrain", "motion_completion"):
    show(name)
for video in sorted((paths.DATA / "morphology").glob("*_side_by_side.mp4")):  # notebook 08: every body on a clip
    clip = video.name.removesuffix("_side_by_side.mp4")
    clip_file = video_clip(video, plot_dir / f"morphology_{clip}.mp4", cfg.gif_seconds, cfg.gif_fps, cfg.gif_width * 3)
    rollout_clips[f"morphology transfer: {clip}"] = str(clip_file)
    display(
        HTML(
            f"<p><b>morphology transfer, {clip}: the source and the humanoid (left), then each other body "
            "(morphology_transfer.characters)</b></p>" + linked_video(clip_file, clip, here)
        )
    )
for video in sorted((paths.DATA / "terrain").glob("*/*_policy.mp4")):  # notebook 09: flat and terrain policies
    run, policy = video.parent.name, video.stem.removesuffix("_policy")
    clip_file = video_clip(video, plot_dir / f"terrain_{run}_{policy}.mp4", cfg.gif_seconds, cfg.gif_fps, cfg.gif_width)
    rollout_clips[f"irregular terrain: {run}, {policy} policy"] = str(clip_file)
    display(HTML(f"<p><b>irregular terrain, {run}: the {policy} policy</b></p>" + linked_video(clip_file, run, here)))
still_video = paths.DATA / "completion" / "still_to_motion.mp4"  # notebook 10: one still continued by a policy
if still_video.is_file():
    clip_file = video_clip(still_video, plot_dir / "still_to_motion.mp4", cfg.gif_seconds, cfg.gif_fps, cfg.gif_width)
    rollout_clips["motion completion: a still, continued by a policy"] = str(clip_file)
    display(
        HTML(
            "<p><b>A still (left), continued in physics by the policy of the skill it shows</b></p>"
            + linked_video(clip_file, "still to motion", here)
        )
    )

# %%
summary = {name: t.records() for name, t in tables.items()}
summary["rollout_clips"] = rollout_clips
write_json(paths.metrics_file("report"), {name: {"ran": t.ran, "rows": len(t.rows)} for name, t in tables.items()})
write_json(HTML_PAGES["report"].with_name("results_tables.json"), summary)  # every table as data
write_text(HTML_PAGES["report"].with_name("results_overview.md"), tables["overview"].markdown() + "\n")
print(json.dumps({name: t.ran for name, t in tables.items()}, indent=1))
print(f"`sfv run report` exports this notebook without its code to {HTML_PAGES['report']}")
