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
# # 10 · Motion completion: from one still, the motion that follows
#
# The paper ends with a small experiment: from a single image, predict how the person will move, by starting
# a learned controller in the observed pose and simulating it forward. That needs two things. First, knowing
# from one pose which skill it belongs to and where in that skill it is. Second, a policy that can carry the
# pose on in physics.
#
# 1. **A library of "pose → what follows".** Every motion the kit has (the mocap clips and every reconstruction
#    from video) gives one example per frame: the pose, and the next `horizon_seconds` of the bodies
#    (`sfv/completion/library.py`).
# 2. **Three ways to answer** (`sfv/completion/model.py`): hold the still (nothing moves: the floor); the
#    nearest library pose; and a small network trained on the library, which predicts the continuation, the
#    skill and the phase.
# 3. **Measured leave-one-clip-out** on the rendered clips, where the truth is known
#    (`sfv/completion/evaluate.py`). The still is a frame of the clip's reconstruction from video. The answer
#    is the ground-truth mocap that follows it. *Unseen*: the whole skill leaves the library (its mocap and
#    every video of it). *Seen*: only the query clip's own reconstruction leaves, as for a user whose library
#    has the skill.
# 4. **A still continued in physics** (`sfv/completion/perform.py`): the policy of the skill the still shows
#    starts at the phase picked, in the still's pose.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json
from collections import Counter

from IPython.display import Image, Markdown, Video, display
from tqdm.auto import tqdm

from sfv import paths
from sfv.assets import available_mocap
from sfv.completion.evaluate import evaluate, features_of, library_for, make_query, summary
from sfv.completion.figures import completion_figure, errors_figure
from sfv.completion.library import make_entry
from sfv.completion.model import CompletionMLP, HoldStill, NearestNeighbour
from sfv.completion.perform import policy_for, policy_settings, start_from_still
from sfv.imitate.evaluate import load_policy, rollout
from sfv.io import write_json
from sfv.markdown import markdown_table
from sfv.mocap import load_mocap
from sfv.motion import Motion, load_motion
from sfv.notebook import stage_params
from sfv.plots import save_figure
from sfv.render.ground_truth import load_gt
from sfv.video import read_frames

params = stage_params(params_file)
cfg = params.motion_completion
print(json.dumps(cfg.model_dump(), indent=1))
plot_dir = paths.plot_dir("motion_completion")
out_dir = paths.DATA / "completion"
entry_args = (cfg.fps, cfg.horizon_seconds, cfg.step_seconds)

# %% [markdown]
# ## The library
#
# Every mocap clip of `pybullet_data` (a looping clip continues into its next cycle) and every reconstruction
# in `reconstruct.clips` (a rendered clip's reconstruction counts as its mocap's skill; a real clip is its own
# skill). All are resampled to one rate.

# %%
entries, mocap_entries = [], {}
for name in available_mocap():
    entry = make_entry(load_mocap(name), name, "mocap", *entry_args)
    entries.append(entry)
    mocap_entries[name] = entry
for clip in params.reconstruct.clips:
    skill = params.clips[clip].mocap if params.clips[clip].is_mocap else clip
    motion = load_motion(paths.reconstructed_motion(clip, ".npz"))
    entries.append(make_entry(motion, skill, "reconstruction", *entry_args, loop=False, name=clip))
library_rows = [
    {"motion": e.name, "kind": e.kind, "skill": e.skill, "frames": len(e.features), "cyclic": e.loop} for e in entries
]
display(
    Markdown(
        markdown_table(
            ["motion", "kind", "skill", "frames", "cyclic"],
            ([r["motion"], r["kind"], r["skill"], r["frames"], "yes" if r["cyclic"] else "no"] for r in library_rows),
        )
    )
)
print(
    f"{len(entries)} motions, {sum(r['frames'] for r in library_rows)} examples at {cfg.fps:g} fps; "
    f"continuation: {entries[0].continuation.shape[1]} steps of {cfg.step_seconds} s"
)

# %% [markdown]
# ## Stills with a known future
#
# The rendered clips: a still every `stride` frames whose whole horizon lies inside the clip. The still's pose
# is the reconstruction's. The answer is the ground truth's continuation, and its phase in the skill's mocap.

# %%
queries = []
for clip in params.reconstruct.clips:
    if not params.clips[clip].is_mocap:
        continue
    gt = load_gt(paths.ground_truth(clip))
    reconstruction = load_motion(paths.reconstructed_motion(clip, ".npz"))
    truth = Motion(
        reconstruction.skeleton,
        float(gt["fps"]),
        gt["source_root_pos"],
        gt["source_root_rot"],
        gt["source_pose"],
        name=clip,
    )
    skill = params.clips[clip].mocap
    queries.append(make_query(clip, skill, reconstruction, truth, mocap_entries[skill], *entry_args, stride=cfg.stride))
if not queries:
    raise ValueError(
        "motion_completion scores the completion on rendered clips (their truth is known): add at least "
        "one `mocap:` clip to reconstruct.clips (and render.clips, pose.clips) in params.yaml"
    )
print(", ".join(f"{q.clip} ({len(q.frames)})" for q in queries))

# %% [markdown]
# ## Leave one clip out
#
# Each method is refitted on every library a protocol makes. Errors are the mean distance of corresponding
# bodies over the horizon (and at its end), in centimetres. "skill right" is the fraction of stills whose
# skill it named correctly. "phase error" is the fraction of the clip it was off by, on those stills.

# %%
n_bodies, n_steps = entries[0].continuation.shape[2], entries[0].continuation.shape[1]
m = cfg.model
methods = {
    "hold still": lambda: HoldStill(n_bodies, n_steps),
    "nearest neighbour": NearestNeighbour,
    "network": lambda: CompletionMLP(tuple(m.hidden), m.epochs, m.learning_rate, m.input_noise, seed=params.base.seed),
}
rows = evaluate(entries, queries, methods, progress=tqdm)
table = summary(rows)


def markdown(rows, keys):
    return markdown_table(keys, (["—" if r.get(k) is None else r[k] for k in keys] for r in rows))


display(
    Markdown(markdown(table, ["protocol", "method", "clips", "error_cm", "end_error_cm", "skill_right", "phase_error"]))
)
display(Image(save_figure(errors_figure(rows), plot_dir / "errors_by_clip.png")))
display(
    Markdown(
        markdown(
            [r for r in rows if r["method"] != "hold still"],
            ["protocol", "method", "clip", "stills", "error_cm", "picked", "skill_right", "phase_error"],
        )
    )
)

# %% [markdown]
# What this says: with the skill in the library (*seen*), a single still picks its skill and phase well, and
# the completed motion follows the truth far better than holding still. With the skill left out (*unseen*),
# the library has nothing like it, and no method completes the motion better than holding still. The answers
# are other skills that share a pose, which is the paper's point that a controller can only continue what it
# has learned.

# %% [markdown]
# ## One still, completed
#
# The showcase still, its continuation by each method beside the truth (side view, every step of the horizon).

# %%
show = cfg.showcase
if show.clip is None:  # the first rendered clip of reconstruct.clips
    show = show.model_copy(update={"clip": queries[0].clip})
query = next(q for q in queries if q.clip == show.clip)
reconstruction = load_motion(paths.reconstructed_motion(show.clip, ".npz"))
still = features_of(reconstruction, show.frame, cfg.fps)
library = library_for(entries, query, "seen")
answers = {name: make().fit(library).predict(still) for name, make in methods.items()}
gt = load_gt(paths.ground_truth(show.clip))
truth = Motion(
    reconstruction.skeleton,
    float(gt["fps"]),
    gt["source_root_pos"],
    gt["source_root_rot"],
    gt["source_pose"],
    name=show.clip,
)
truth_entry = make_entry(truth, query.skill, "mocap", *entry_args, loop=False)
if not truth_entry.complete[show.frame]:
    raise ValueError(
        f"motion_completion.showcase.frame {show.frame}: its horizon runs past the end of {show.clip} "
        f"({len(truth_entry.features)} frames at {cfg.fps:g} fps); pick an earlier frame"
    )
display(
    Image(
        save_figure(
            completion_figure(
                truth_entry.continuation[show.frame],
                {k: a.continuation[0] for k, a in answers.items()},
                reconstruction.skeleton,
                f"{show.clip}, frame {show.frame}",
            ),
            plot_dir / "showcase_completion.png",
        )
    )
)
nn = answers["nearest neighbour"]
print(
    f"nearest neighbour: {nn.matched[0]} ({nn.skill[0]}) at phase {nn.phase[0]:.2f}; "
    f"network: {answers['network'].skill[0]} at phase {answers['network'].phase[0]:.2f}"
)

# %% [markdown]
# ## The still, continued in physics
#
# The policy of the skill the nearest neighbour named (the oracle trained on its mocap if there is one, else
# the one learned from its video) starts with its reference at the phase named, in the still's pose. Then it
# runs for `showcase.seconds`. Left: the still (the rendered frame); right: the simulated character and its
# reference.

# %%
skill, phase = nn.skill[0], float(nn.phase[0])
policy_dir = policy_for(skill)
showcase = {
    "clip": show.clip,
    "frame": show.frame,
    "skill": skill,
    "phase": round(phase, 3),
    "matched": nn.matched[0],
    "policy": None,
}
if policy_dir is None:
    display(
        Markdown(
            f"*not run:* no trained policy for **{skill}** (train it: add it to `imitate.oracle_clips` "
            "or `imitate.clips`)."
        )
    )
else:
    reference = load_motion(policy_dir / "reference.npz")
    model, normaliser = load_policy(policy_dir)
    video_frame = params.clips[show.clip].video_frames[0] + int(round(show.frame * float(gt["fps"]) / cfg.fps))
    image = next(read_frames(paths.rendered_video(show.clip), video_frame, video_frame + 1))
    start_time = phase * reference.duration
    video = out_dir / "still_to_motion.mp4"
    env_settings, reward = policy_settings(policy_dir)  # what the policy was trained with
    result = rollout(
        model,
        reference,
        env_settings,
        reward,
        seconds=show.seconds,
        video=video,
        policy_normaliser=normaliser,
        beside=lambda t: image,
        start_time=start_time,
        start=start_from_still(reconstruction.resample(cfg.fps), show.frame),
    )
    showcase.update(
        policy=str(policy_dir),
        start_time=round(start_time, 3),
        survived_seconds=round(result["survived_seconds"], 2),
        fell=bool(result["fallen"]),
        tracking_error_cm=round(100 * result["tracking_error_mean"], 2),
    )
    print(json.dumps(showcase, indent=1))
    display(Video(str(video), embed=True, width=900))

# %%
metrics = {
    "rows": table,
    "clips": rows,
    "showcase": showcase,
    "library": {
        "motions": len(entries),
        "examples": int(sum(r["frames"] for r in library_rows)),
        "skills": dict(Counter(e.skill for e in entries)),
    },
}
write_json(paths.metrics_file("motion_completion"), metrics)
print(json.dumps(table, indent=1))
