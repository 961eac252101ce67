"""Every output path of the pipeline, built from the stage and clip name (no timestamps)."""

from __future__ import annotations

from pathlib import Path

DATA = Path("data")
CLIPS = DATA / "clips"  # one folder per clip: a real clip's video, or a rendered clip's render
PLOTS = Path("plots")
METRICS = Path("metrics")
#: trainings in progress, one folder each (runs/<stage>/<name>): checkpoints, not outputs; `sfv store save` carries
#: them to the next machine through the shipped store
RUNS = Path("runs")
#: what a run leaves for a person to look at, never shipped (git-ignored): TensorBoard logs, played policies' videos
LOGS = Path("logs")
TENSORBOARD = LOGS / "tensorboard"
PLAYED = LOGS / "play"
#: the executed notebooks (DVC outputs) and the results page
REPORTS = Path("reports")
EXECUTED_NOTEBOOKS = REPORTS / "notebooks"
RESULTS_PAGE = REPORTS / "results.html"


def mocap_motion(clip: str, root: Path = Path(".")) -> Path:
    """The motion_library stage's copy of a pybullet_data mocap clip in the kit's npz format."""
    return root / DATA / "mocap" / f"{clip}.npz"


def mocap_index(root: Path = Path(".")) -> Path:
    """Catalogue of the motion library: frames, fps, duration, loop mode and root travel per clip."""
    return root / DATA / "mocap" / "index.json"


def plot_dir(stage: str, root: Path = Path(".")) -> Path:
    return root / PLOTS / stage


def metrics_file(stage: str, root: Path = Path(".")) -> Path:
    return root / METRICS / f"{stage}.json"


#: where an imitation policy's reference comes from: the clip's video (its reconstruction) or, for a rendered
#: clip, the ground-truth mocap it was rendered from (the oracle, an upper bound)
REFERENCES = ("video", "mocap")
#: the DVC stage that trains each kind of policy (and names its metrics and plots folders)
IMITATE_STAGES = {"video": "imitate", "mocap": "imitate_oracle"}
#: every DVC stage that trains an imitation policy: what it learns from, and the seed it adds to base.seed (a
#: second seed of a clip from its video shows the spread of one training; its files sit beside the first's)
IMITATION_RUNS = {
    "imitate": ("video", 0),
    "imitate_oracle": ("mocap", 0),
    "imitate_seed2": ("video", 1),
}


def _reference_kind(reference: str) -> str:
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    return reference


def run_name(clip: str, seed_offset: int = 0) -> str:
    """What a policy's files are named by: its clip, and for a further seed the clip and the seed's number
    (`walk_seed2`: base.seed + 1), so that both seeds' policies, metrics and curves sit side by side."""
    if seed_offset < 0:
        raise ValueError(f"seed_offset must be >= 0, got {seed_offset}")
    return clip if seed_offset == 0 else f"{clip}_seed{seed_offset + 1}"


def policy_dir(clip: str, reference: str = "video", root: Path = Path(".")) -> Path:
    """Checkpoints, final policy, learning curve, evaluation video and the reference a policy tracks."""
    return root / DATA / "policies" / _reference_kind(reference) / clip


def run_dir(stage: str, name: str, root: Path = Path(".")) -> Path:
    """The checkpoints of a training in progress: one folder per stage and run, at one depth (a run name never
    holds a '/'), so that the store can track each as a whole."""
    if "/" in name or not name:
        raise ValueError(f"a run name is one folder name, got {name!r}")
    return root / RUNS / stage / name


def tensorboard_dir(stage: str, name: str, root: Path = Path(".")) -> Path:
    return root / TENSORBOARD / stage / name


def imitate_stage(reference: str) -> str:
    """The stage (and plots/metrics folder) of a policy learned from `reference`."""
    return IMITATE_STAGES[_reference_kind(reference)]


def clip_plot_dir(stage: str, clip: str, root: Path = Path(".")) -> Path:
    return root / PLOTS / stage / clip


def clip_metrics_file(stage: str, clip: str, root: Path = Path(".")) -> Path:
    return root / METRICS / stage / f"{clip}.json"


def learning_curve_file(clip: str, reference: str = "video", root: Path = Path(".")) -> Path:
    """A copy of a policy's learning curve for `dvc plots` (committed, like the metrics)."""
    return root / PLOTS / f"{imitate_stage(reference)}_curves" / f"{clip}.csv"


def clip_dir(clip: str, root: Path = Path(".")) -> Path:
    """A clip's inputs, and all that its pose and reconstruction stages read of them: a real clip's video (and
    nothing else of the other clips), or what the render stage made of a `mocap:` clip."""
    return root / CLIPS / clip


def rendered_video(clip: str, root: Path = Path(".")) -> Path:
    """The video the render stage makes of a `mocap:` clip."""
    return clip_dir(clip, root) / "video.mp4"


def ground_truth(clip: str, root: Path = Path(".")) -> Path:
    """The render stage's ground truth of a clip: source motion, keypoints 2D/3D, visibility, camera."""
    return clip_dir(clip, root) / "ground_truth.npz"


def clip_video(clip: str, source: str, root: Path = Path(".")) -> Path:
    """The video every video stage reads for a clip: the file itself, or the rendering of a mocap clip."""
    return rendered_video(clip, root) if source.startswith("mocap:") else root / source


def poses_file(clip: str, root: Path = Path(".")) -> Path:
    """The pose stage's per-frame 2D/3D keypoints, confidence and detection flags of a clip."""
    return root / DATA / "poses" / f"{clip}.npz"


def pose_overlay(clip: str, root: Path = Path(".")) -> Path:
    """The clip with its estimated poses drawn on it."""
    return root / DATA / "poses" / f"{clip}.overlay.mp4"


def pose_confidence_file(clip: str, root: Path = Path(".")) -> Path:
    """Per-frame confidence of a clip's poses, for `dvc plots` (committed, like the metrics)."""
    return root / PLOTS / "pose_confidence" / f"{clip}.csv"


def reconstructed_motion(clip: str, suffix: str = ".txt", root: Path = Path(".")) -> Path:
    """The reference motion the reconstruction stage makes of a clip (.txt DeepMimic format, or .npz)."""
    return root / DATA / "motions" / f"{clip}{suffix}"


#: what the learning-speed benchmarks measured (bench/imitation_levers.py, bench/samples_to_skill.py): small
#: tables and learning curves, committed; their trainings are runs like the stages' (runs/levers, runs/samples_to_skill)
BENCH_RESULTS = Path("bench") / "results"
#: the reconstruction with its 2D terms in raw pixels and its outlier window in frames, kept to compare the cameras
RECONSTRUCTION_BEFORE_CAMERA_UNITS = BENCH_RESULTS / "cameras" / "before.json"


def lever_rows_file(clip: str, root: Path = Path(".")) -> Path:
    """The lever ablation's table for a clip (one row per variant and seed)."""
    return root / BENCH_RESULTS / "levers" / f"{clip}.json"


def lever_curve_file(clip: str, variant: str, root: Path = Path(".")) -> Path:
    return root / BENCH_RESULTS / "levers" / "curves" / clip / f"{variant}.csv"


def lever_run_dir(clip: str, variant: str, root: Path = Path(".")) -> Path:
    return run_dir("levers", f"{clip}@{variant}", root)


def skill_table_file(root: Path = Path(".")) -> Path:
    """Samples to skill: one row per clip and seed."""
    return root / BENCH_RESULTS / "samples_to_skill" / "table.json"


def _skill_run_name(clip: str, seed: int, variant: str | None) -> str:
    return f"{clip}_seed{seed}" + (f"@{variant}" if variant else "")


def skill_curve_file(clip: str, seed: int, root: Path = Path("."), variant: str | None = None) -> Path:
    """A samples-to-skill run's learning curve; `variant`: a run with settings other than params.yaml's."""
    return root / BENCH_RESULTS / "samples_to_skill" / "curves" / f"{_skill_run_name(clip, seed, variant)}.csv"


def skill_run_dir(clip: str, seed: int, root: Path = Path("."), variant: str | None = None) -> Path:
    return run_dir("samples_to_skill", _skill_run_name(clip, seed, variant), root)
