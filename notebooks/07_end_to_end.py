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
# # 07 · End to end: what a character learns from a video, against the ground truth
#
# Notebooks 03–06 each measure their own step. This one puts the chain together, for every clip whose
# policy was trained (`imitate.clips`, and the oracles of `imitate.oracle_clips`). On a clip rendered from
# mocap the truth is known, so three things are measured against it with one measure (the mean distance of
# corresponding bodies, each relative to its root and turned to face forward, time-aligned:
# `sfv/analysis/fidelity.py`):
#
# - the **reference**: the reconstruction from the video, made ready for imitation;
# - the **video policy**: the simulated character trained on that reference, in a deterministic rollout;
# - the **oracle policy**: the same training on the ground-truth mocap itself, the upper bound.
#
# The gap between the two policies is what learning from video costs. A policy that fell is shown as such
# (its error is over the time it stood). A real video has no truth: its row shows only how the policy did.
# Everything here is read from the metrics of the earlier stages (`sfv/analysis/end_to_end.py`).

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

from IPython.display import Image, Markdown, display
from tqdm.auto import tqdm

from sfv import paths
from sfv.analysis import end_to_end, limits, reference_quality, scene_levels
from sfv.imitate import stage
from sfv.imitate.curve import read_curve
from sfv.imitate.evaluate import PolicyError
from sfv.imitate.play import policy_rollout
from sfv.io import write_json
from sfv.notebook import stage_params
from sfv.plots import save_figure
from sfv.report.tables import limits_table, reference_physics_table, scenes_table

params = stage_params(params_file)
cfg = params.imitate
print(f"learned from video: {', '.join(cfg.clips)}; oracles: {', '.join(cfg.oracle_clips) or 'none'}")
plot_dir = paths.plot_dir("end_to_end")

# %% [markdown]
# ## The table
#
# Errors in centimetres except the reconstruction's MPJPE (notebook 04, millimetres, on its own joints).
# "survived": the fraction of the evaluation the policy stood through (1.00: it never fell). "root drift":
# how far the simulated root's travel ended from the truth's. "samples": the training budget actually spent
# (policies trained with different budgets are not directly comparable; see the curves below). "—": the column
# does not apply, or its stage has not run yet (a policy still training).
#
# "learned from video" is the verdict on each video policy: it stands through at least `LEARNED_SURVIVAL` of its
# evaluation, tracks its reference within `LEARNED_TRACKING_CM` (`LEARNED_TRACKING_CM_TUMBLING` for the skills
# that turn the body over) and, on a rendered clip, ends no more than `LEARNED_TRUTH_MARGIN_CM` further from the
# truth than its own reference: physics kept what the video gave (the bars are printed below). A policy that has
# spent less than its clip's budget is "training", whatever it scores. The clips in `imitate.second_seed` were
# trained again with the next seed: their second policy's figures show how much one training varies.

# %%
budgets = {clip: stage.budget(params, clip, "video").total_timesteps for clip in cfg.clips}
rows = end_to_end.table(list(cfg.clips), cfg.oracle_clips, budgets=budgets, second_seed=cfg.second_seed)
_, skills = reference_quality.rendered_clips(params)
done, of = end_to_end.learned_count(rows, skills)
print(
    f"learned bars: survive {end_to_end.LEARNED_SURVIVAL:.0%}, track within {end_to_end.LEARNED_TRACKING_CM:g} cm "
    f"({end_to_end.LEARNED_TRACKING_CM_TUMBLING:g} cm for {', '.join(end_to_end.TUMBLING_SKILLS)}), at most "
    f"{end_to_end.LEARNED_TRUTH_MARGIN_CM:g} cm further from the truth than the reference"
)
print(f"rendered skills learned from their video: {done} of {of}")
display(Markdown(end_to_end.markdown(rows)))
display(Image(save_figure(end_to_end.figure(rows), plot_dir / "end_to_end.png")))

# %% [markdown]
# ## Learning curves
#
# The tracking error during training (each policy against its own reference, exploration noise on), per
# clip. Where both policies exist, the curves compare them at equal samples, whatever budgets they ended at.

# %%
curves = {}  # a clip not trained yet (its stage has not run) has no curve
runs = [(c, c, "video", "video") for c in cfg.clips]
runs += [(c, paths.run_name(c, 1), "video", "video, second seed") for c in cfg.second_seed]
runs += [(c, c, "mocap", "oracle (mocap)") for c in cfg.oracle_clips]
for clip, run, kind, label in runs:
    if paths.learning_curve_file(run, kind).is_file():
        curves.setdefault(clip, {})[label] = read_curve(paths.learning_curve_file(run, kind))
display(Image(save_figure(end_to_end.curves_figure(curves), plot_dir / "learning_curves.png")))

# %%
write_json(paths.metrics_file("end_to_end"), {"clips": rows})
print(json.dumps(rows, indent=1))

# %% [markdown]
# ## What limits each policy
#
# A verdict names the bar a policy missed; this reads why. Each policy learned from video, and each oracle beside
# it (the same reading on the mocap: what the skill costs in this simulation, whatever the video), is rolled out again
# exactly as its stage evaluated it (`sfv play imitate@<clip>`: the reference stored beside it, the same settings
# and length, one thread, so the same figures) and read (`sfv/analysis/limits.py`): what ended it (a body on the
# ground that may not be there: the feet and the clip's `ground_contacts` may), which bodies carry its tracking
# error and when that error peaks, how far its root's heading lags its reference's (where both roots are upright
# enough to have one), and its error with each pose turned to its reference's heading: a policy that makes every
# move but turns too slowly has a small one. The figure shows every body's error over the evaluation of each
# policy learned from video.

# %%
verdicts = {r["clip"]: r["learned"] for r in rows}
limit_rows, panels = [], {}
order = list(cfg.clips) + [c for c in cfg.oracle_clips if c not in cfg.clips]  # each oracle after its video policy
policies = sorted(
    [(c, "imitate") for c in cfg.clips] + [(c, "imitate_oracle") for c in cfg.oracle_clips],
    key=lambda p: order.index(p[0]),
)
for clip, stage_name in tqdm(policies, desc="policies"):
    video = stage_name == "imitate"
    kind = "video" if video else "oracle (mocap)"
    row = {"clip": clip, "policy": kind, "learned": verdicts.get(clip) if video else None}
    try:
        log, motion = policy_rollout(stage_name, clip, params)
    except PolicyError:
        print(f"{stage_name}@{clip}: no policy yet (its stage has not run)")
        limit_rows.append(row)
        continue
    control_hz = (cfg.for_clip(clip) if video else cfg).env.control_hz
    limit_rows.append({**row, **limits.diagnose(log, motion, control_hz)})
    if video:
        panels[clip] = limits.panel(log, motion, control_hz)
write_json(paths.metrics_file("limits"), {"clips": limit_rows})
display(Markdown(limits_table().markdown()))
display(Image(save_figure(limits.figure(panels), plot_dir / "limits.png")))

# %% [markdown]
# ## The reference step: what physics can follow
#
# Between the reconstruction and the imitation, the stage makes each reference physically consistent
# (`imitate.physical`, notebook 06): planted feet held, no body under the floor, a ballistic centre of mass in
# flight. Here every rendered clip's reference is made both ways, with the imitation stage's own code, and each
# is measured against its truth: the body error (the measure above), MPJPE (root-aligned, one rotation for the
# clip), how fast its feet slide where the truth's are planted, how deep it goes under the floor, its flight
# time against the truth's, how often its centre of mass asks the ground for what it cannot give (a sideways push
# beyond friction, or a pull; the truth's own share beside it), and how long the PD controller alone (zero action)
# holds the character on it, a first sign of whether physics can follow it at all. The means are over the skills
# (the first clip rendered from each mocap); the camera variants are listed too.

# %%
rendered, _ = reference_quality.rendered_clips(params)
reference_rows = [row for clip in tqdm(rendered, desc="references") for row in reference_quality.compare(params, clip)]
reference_summary = reference_quality.summary(reference_rows, skills)
reference_metrics = {"skills": skills, "means": reference_summary, "rows": reference_rows}
write_json(paths.metrics_file("reference_physics"), reference_metrics)
display(Markdown(reference_physics_table().markdown()))  # the results page's table: the rows, then the means

# %% [markdown]
# ## The ground each clip was filmed on
#
# The imitation assumes a flat floor; people film skills on walls, boxes and stairs. `sfv/imitate/scene.py`
# reads the ground from the reconstruction itself: wherever a foot (or a hand, for the skills that put one down)
# is the lowest weight-bearing part and at rest for a few frames, there is a surface, at that height. Plants
# within a level tolerance of each other are one level; the lowest is the ground, the others are blocks whose
# footprint is where the body stood on them. A clip rendered on the render's flat floor must come out as one
# level (a second would be a false wall); a clip that crosses levels shows them, or the reason no scene of blocks
# can host it (a body inside a surface names its frame). Heights are above the clip's ground level. A clip rendered
# on a known scene (`clips.<clip>.scene`: a platform the jump drops off) is scored against it: the top level's
# height, and where it ends along the travel (its edge), each against the platform's.

# %%
scenes = scene_levels.scene_rows(params)
write_json(paths.metrics_file("scenes"), {"clips": scenes})
not_flat = scene_levels.rendered_not_flat(scenes)
flat_floor = [r for r in scenes if r["kind"] == "rendered" and "truth_heights_m" not in r]
print(
    f"{len(flat_floor)} clips rendered on a flat floor: "
    f"{'every one one level' if not not_flat else 'more than one level or refused: ' + ', '.join(not_flat)}"
)
for r in scenes:
    if "truth_heights_m" in r:
        found = (
            (r["refused"] or "no second level found")
            if r["height_error_m"] is None
            else (f"height error {100 * r['height_error_m']:.1f} cm, edge error {100 * r['edge_error_m']:.1f} cm")
        )
        print(f"{r['clip']}: a known platform {r['truth_heights_m'][1]:g} m high; {r['levels']} levels found; {found}")
display(Markdown(scenes_table().markdown()))
