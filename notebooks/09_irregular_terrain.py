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
# # 09 · Irregular terrain: a skill from a flat-ground video, on ground the video never showed
#
# Every clip was filmed on flat ground, and its policy learned on flat ground. The paper then puts the skills on
# slopes, gaps and uneven ground, with a heightmap of the surroundings as extra input. This notebook does the same
# for the runs in `params.yaml` (`irregular_terrain.runs`).
#
# 1. **Terrain as a heightfield** (`sfv/imitate/terrain.py`, files in `sfv/terrains/`): slopes (ramps up and
#    down), stairs, gaps (trenches) and rough ground (a Gaussian random field), each drawn from a seed and laid
#    along the clip's direction of travel, flat around the start. pybullet collides with the same grid the env
#    queries.
# 2. **Ground-relative tracking** (`sfv/imitate/env.py`): the clip was flat, so its root height, and its hands' and
#    feet's heights, are heights *above the ground*. On a slope or a step, the reward measures them from the ground
#    under the character, so it keeps its meaning. Across a gap, the tracked ground spans the gap (`bridge`): the
#    reference still jumps over it, it does not fall in. Falling into a gap, or walking off the terrain's edge,
#    ends the episode as a fall does.
# 3. **A heightmap observation**: the ground's heights on a grid around the character, in its heading frame,
#    relative to its root. The policy reads it with a small conv net (`sfv/imitate/features.py`), beside the body
#    state.
# 4. **Warm start**: the terrain policy begins as the flat policy. Every weight is copied, and the heightmap's new
#    inputs start at zero weight. So it acts exactly like the flat policy until training teaches it to use what it
#    sees.
#
# The comparison: the flat policy (blind to the ground) against the terrain policy. Both run on the same terrains,
# one per evaluation seed, each with its own features and its own shift along the path.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

from IPython.display import Image, Markdown, Video, display

from sfv import paths
from sfv.declared_deps import require_declared
from sfv.imitate.curve import read_curve
from sfv.imitate.evaluate import load_policy, rollout
from sfv.imitate.terrain import generate_heights, read_terrain
from sfv.imitate.train import train
from sfv.io import write_json
from sfv.irregular_terrain.experiment import POLICIES, run_settings, score, summarise
from sfv.irregular_terrain.figures import comparison_figure, learning_figure, terrain_figure
from sfv.markdown import markdown_table
from sfv.motion import load_motion
from sfv.notebook import stage_params
from sfv.plots import save_figure

params = stage_params(params_file)
cfg = params.irregular_terrain
print(json.dumps(cfg.model_dump(), indent=1))
plot_dir = paths.plot_dir("irregular_terrain")
out_dir = paths.DATA / "terrain"
if not cfg.runs:
    raise ValueError(
        "irregular_terrain.runs is empty: add (clip, terrain) pairs to params.yaml, e.g. {clip: walk, terrain: slope}"
    )
# DVC re-runs this stage when these clips' flat policies change: dvc.yaml names them one by one
require_declared(
    "irregular_terrain", [paths.policy_dir(run.clip, "video") for run in cfg.runs], "irregular_terrain.runs"
)

# %% [markdown]
# ## The terrains
#
# Each terrain as its file lays it with its own seed. Training draws a new one per simulator (a seeded reset) and
# shifts its features every episode. The heights are exaggerated in the profiles.

# %%
terrains = list(dict.fromkeys(run.terrain for run in cfg.runs))
fig = terrain_figure({name: generate_heights(read_terrain(name)) for name in terrains})
display(Image(str(save_figure(fig, plot_dir / "terrains.png"))))
for name in terrains:
    spec = read_terrain(name)
    print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in spec.model_dump().items() if k not in ("name",)))

# %% [markdown]
# ## Training the terrain policies
#
# Each one starts from its clip's flat policy (`data/policies/video/<clip>`). It keeps that policy's reward, PPO
# settings and seed (its `run.json`), and trains `budget` samples on the terrain. Training resumes from its last
# checkpoint when interrupted.

# %%
settings, summaries, curves = {}, {}, {}
for run in cfg.runs:
    flat_dir = paths.policy_dir(run.clip, "video")
    settings[run.name] = s = run_settings(
        flat_dir, run, cfg.heightmap, cfg.budget, params.imitate.ppo.checkpoint_every, params.imitate.ppo.evaluate_every
    )
    print(f"{run.name}: from {flat_dir}, {cfg.budget:,} samples on {run.terrain}")
    summaries[run.name] = train(
        flat_dir / "reference.npz",
        out_dir / run.name,
        s.env,
        s.reward,
        s.ppo,
        seed=s.seed,
        evaluation_seconds=cfg.evaluation.seconds,
        warm_start=flat_dir,
        cluster=params.cluster,
        run_dir=paths.run_dir("irregular_terrain", run.name),
        tensorboard_dir=paths.tensorboard_dir("irregular_terrain", run.name),
    )
    curves[run.name] = read_curve(out_dir / run.name / "curve.csv")
    minutes = summaries[run.name]["wall_seconds"] / 60
    print(f"  {summaries[run.name]['timesteps']:,} samples, {minutes:.0f} min")
display(Image(str(save_figure(learning_figure(curves), plot_dir / "learning_curves.png"))))

# %% [markdown]
# ## Flat policy against terrain policy, on the same terrains
#
# Per run and policy: the distance covered along the terrain's direction of travel, the time before a fall (at most
# `evaluation.seconds`), how many of the seeds' rollouts fell, and the tracking error while up (MimicKit's mean
# body distance, root-relative). A policy that stays up but walks elsewhere than the clip shows a small distance and
# a large tracking error.

# %%
scores, rows = {}, []
for run in cfg.runs:
    s = settings[run.name]
    motion = load_motion(paths.policy_dir(run.clip, "video") / "reference.npz")
    scores[run.name] = {}
    for policy in POLICIES:
        folder = paths.policy_dir(run.clip, "video") if policy == "flat" else out_dir / run.name
        env = s.flat_env if policy == "flat" else s.env
        model, normaliser = load_policy(folder)
        per_seed = []
        for seed in cfg.evaluation.seeds:
            video = None
            if cfg.evaluation.video and seed == cfg.evaluation.seeds[0]:
                video = out_dir / run.name / f"{policy}_policy.mp4"
            result = rollout(
                model,
                motion,
                env,
                s.reward,
                cfg.evaluation.seconds,
                video=video,
                width=cfg.evaluation.width,
                height=cfg.evaluation.height,
                policy_normaliser=normaliser,
                seed=seed,
            )
            per_seed.append(score(result, seed))
        scores[run.name][policy] = per_seed
        rows.append(summarise(run, policy, per_seed, None if policy == "flat" else summaries[run.name]["timesteps"]))

display(
    Markdown(
        markdown_table(
            ["clip", "terrain", "policy", "distance (m)", "time up (s)", "falls", "tracking (cm)"],
            (
                [
                    r["clip"],
                    r["terrain"],
                    r["policy"],
                    f"{r['distance_m']:.2f}",
                    f"{r['survived_s']:.1f}",
                    r["falls"],
                    f"{r['tracking_cm']:.1f}",
                ]
                for r in rows
            ),
        )
    )
)
display(Image(str(save_figure(comparison_figure(scores), plot_dir / "flat_vs_terrain.png"))))

# %% [markdown]
# ## Videos
#
# The first evaluation seed's terrain: the flat policy, then the terrain policy (the blue figure is the clip's
# reference, standing on the ground under the character, one metre to its side).

# %%
if cfg.evaluation.video:
    for run in cfg.runs:
        for policy in POLICIES:
            display(Markdown(f"**{run.name}**, {policy} policy"))
            display(Video(str(out_dir / run.name / f"{policy}_policy.mp4"), embed=False, width=cfg.evaluation.width))

# %%
write_json(
    paths.metrics_file("irregular_terrain"),
    {
        "rows": rows,
        "seconds": cfg.evaluation.seconds,
        "seeds": list(cfg.evaluation.seeds),
        "per_seed": {name: per_policy for name, per_policy in scores.items()},
    },
)
print(f"wrote {paths.metrics_file('irregular_terrain')}")
