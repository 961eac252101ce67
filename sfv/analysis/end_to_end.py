"""The end-to-end table: per clip, the reconstruction, the policy learned from video and the oracle policy,
each against the ground truth (what notebook 07 shows and metrics/end_to_end.json holds).

Built from the metrics the reconstruction and imitation stages wrote, so it costs nothing to rebuild.
The gap column is the video policy's body error minus the oracle's: what learning from video costs. Each video
policy gets a verdict, `learned` (the bar below), and a clip trained with a second seed (stage imitate_seed2)
gets that policy's figures beside the first's, to show the spread of one training.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sfv import paths
from sfv.imitate.learned import (  # noqa: F401  (the bars, named here for notebook 07)
    LEARNED_SURVIVAL,
    LEARNED_TRACKING_CM,
    LEARNED_TRACKING_CM_TUMBLING,
    LEARNED_TRUTH_MARGIN_CM,
    TUMBLING_SKILLS,
    verdict,
)
from sfv.markdown import markdown_table
from sfv.plots import plt

#: table columns: (key, header, unit scale, digits); text columns have digits None
COLUMNS = (
    ("mpjpe_mm", "reconstruction MPJPE (mm)", 1, 0),
    ("reference_error_cm", "reference vs truth (cm)", 1, 1),
    ("video_error_cm", "video policy vs truth (cm)", 1, 1),
    ("video_survived", "video policy survived", 1, 2),
    ("video_drift_m", "video policy root drift (m)", 1, 2),
    ("video_samples_m", "video policy samples (M)", 1, 2),
    ("oracle_error_cm", "oracle policy vs truth (cm)", 1, 1),
    ("oracle_survived", "oracle survived", 1, 2),
    ("oracle_drift_m", "oracle root drift (m)", 1, 2),
    ("oracle_samples_m", "oracle samples (M)", 1, 2),
    ("gap_cm", "gap: video - oracle (cm)", 1, 1),
    ("learned", "learned from video", 1, None),
    ("seed2_error_cm", "second seed vs truth (cm)", 1, 1),
    ("seed2_survived", "second seed survived", 1, 2),
    ("seed2_learned", "second seed learned", 1, None),
)


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _get(m: dict | None, key: str, scale: float = 1.0) -> float | None:
    return None if m is None or m.get(key) is None else round(float(m[key]) * scale, 4)


def learned(clip: str, policy: dict | None, budget: int | None = None) -> str:
    """The verdict on one policy from video (its stage's metrics; sfv.imitate.learned): "yes", or "no: " and the
    first bar it misses; "not run" without metrics; "training: x of y M" while it has spent less than its clip's
    budget (`budget`) without having stopped as learned, so that a policy from an earlier, shorter run is not read as
    the skill's result."""
    if policy is None:
        return "not run"
    samples = policy.get("train_samples")
    if budget is not None and samples is not None and samples < budget and not policy.get("train_stopped_learned"):
        return f"training: {samples / 1e6:.1f} of {budget / 1e6:.1f} M"
    extra = None
    if policy.get("truth_body_error_m") is not None and policy.get("reference_truth_body_error_m") is not None:
        extra = policy["truth_body_error_m"] - policy["reference_truth_body_error_m"]
    return verdict(clip, policy["survived_fraction"], policy["tracking_error_m"], extra)


def row(
    clip: str,
    reconstruction: dict | None,
    video: dict | None,
    oracle: dict | None,
    seed2: dict | None = None,
    budget: int | None = None,
    from_video: bool | None = None,
    has_seed2: bool = False,
) -> dict:
    """One clip's row from its stages' metrics (None: that stage did not run for the clip); `budget`: the clip's
    training budget now; `from_video`: the clip is learned from its video (so "not run" without its metrics;
    default: its metrics exist), `has_seed2`: with a second seed too."""

    out = {
        "clip": clip,
        "mpjpe_mm": _get(reconstruction, "mpjpe_mm"),
        "reference_error_cm": _get(video, "reference_truth_body_error_m", 100),
        "video_error_cm": _get(video, "truth_body_error_m", 100),
        "video_tracking_cm": _get(video, "tracking_error_m", 100),
        "video_survived": _get(video, "survived_fraction"),
        "video_drift_m": _get(video, "truth_root_drift_final_m"),
        "video_samples_m": _get(video, "train_samples", 1e-6),
        "oracle_error_cm": _get(oracle, "truth_body_error_m", 100),
        "oracle_survived": _get(oracle, "survived_fraction"),
        "oracle_drift_m": _get(oracle, "truth_root_drift_final_m"),
        "oracle_samples_m": _get(oracle, "train_samples", 1e-6),
    }
    both = out["video_error_cm"] is not None and out["oracle_error_cm"] is not None
    out["gap_cm"] = round(out["video_error_cm"] - out["oracle_error_cm"], 4) if both else None
    from_video = video is not None if from_video is None else from_video
    out["learned"] = learned(clip, video, budget) if from_video else None
    out["seed2_error_cm"] = _get(seed2, "truth_body_error_m", 100)
    out["seed2_tracking_cm"] = _get(seed2, "tracking_error_m", 100)
    out["seed2_survived"] = _get(seed2, "survived_fraction")
    out["seed2_samples_m"] = _get(seed2, "train_samples", 1e-6)
    out["seed2_learned"] = learned(clip, seed2, budget) if has_seed2 else None
    return out


def table(
    clips: list[str],
    oracle_clips: list[str],
    root: Path = Path("."),
    budgets: dict[str, int] | None = None,
    second_seed: list[str] = (),
) -> list[dict]:
    """Rows for every clip learned from video, then every oracle-only clip, read from the stages' metrics;
    `budgets`: each clip's training budget now (its verdict says "training" below it), `second_seed`: the clips
    also trained with a second seed (stage imitate_seed2)."""
    budgets = budgets or {}
    rows = []
    for clip in list(clips) + [c for c in oracle_clips if c not in clips]:
        video = clip in clips
        seed2 = video and clip in second_seed
        rows.append(
            row(
                clip,
                _read(paths.clip_metrics_file("reconstruct", clip, root)),
                _read(paths.clip_metrics_file("imitate", clip, root)) if video else None,
                _read(paths.clip_metrics_file("imitate_oracle", clip, root)) if clip in oracle_clips else None,
                _read(paths.clip_metrics_file("imitate", paths.run_name(clip, 1), root)) if seed2 else None,
                budgets.get(clip) if video else None,
                from_video=video,
                has_seed2=seed2,
            )
        )
    return rows


def learned_count(rows: list[dict], skills: list[str]) -> tuple[int, int]:
    """(how many of `skills` are learned from their video, how many there are): the issue's headline figure."""
    verdicts = {r["clip"]: r["learned"] for r in rows}
    return sum(verdicts.get(s) == "yes" for s in skills), len(skills)


def _cell(value, digits: int | None) -> str:
    return "—" if value is None else str(value) if digits is None else f"{value:.{digits}f}"


def markdown(rows: list[dict]) -> str:
    """The table as markdown (— where a column does not apply)."""
    return markdown_table(
        ["clip", *(h for _, h, _, _ in COLUMNS)],
        ([r["clip"], *(_cell(r.get(k), d) for k, _, _, d in COLUMNS)] for r in rows),
    )


def figure(rows: list[dict]):
    """Body error against the ground truth per clip: the reference, the video policy, the oracle."""
    shown = [r for r in rows if r["reference_error_cm"] is not None or r["oracle_error_cm"] is not None]
    fig, ax = plt.subplots(figsize=(max(7, 1.6 * len(shown) + 2), 3.8))
    x = np.arange(len(shown))
    for k, (key, label, colour) in enumerate(
        (
            ("reference_error_cm", "reference (reconstruction)", "#999999"),
            ("video_error_cm", "policy learned from video", "#4c72b0"),
            ("oracle_error_cm", "oracle policy (mocap)", "#55a868"),
        )
    ):
        values = [np.nan if r[key] is None else r[key] for r in shown]
        bars = ax.bar(x + (k - 1) * 0.27, values, 0.27, label=label, color=colour)
        for b, r in zip(bars, shown):
            survived = (
                r["video_survived"]
                if key == "video_error_cm"
                else r["oracle_survived"]
                if key == "oracle_error_cm"
                else None
            )
            if survived is not None and survived < 1:
                ax.annotate(
                    f"fell\n{survived:.0%}",
                    (b.get_x() + b.get_width() / 2, b.get_height()),
                    fontsize=7,
                    ha="center",
                    va="bottom",
                )
    ax.set_xticks(x, [r["clip"] for r in shown])
    ax.set_ylabel("body error vs ground truth (cm)")
    ax.set_title("From the video to a simulated skill, against the ground truth", fontsize=10)
    ax.set_xlim(-0.6, len(shown) - 0.4)
    ax.margins(y=0.15)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def curves_figure(curves: dict[str, dict[str, list[dict]]]):
    """Learning curves (tracking error during training) per clip: clip -> {policy label -> curve rows}."""
    n = max(len(curves), 1)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.0), squeeze=False)
    for ax, (clip, by_policy) in zip(axes[0], curves.items()):
        for label, rows in by_policy.items():
            if rows:
                ax.plot([r["timesteps"] / 1e6 for r in rows], [r["tracking_error"] * 100 for r in rows], label=label)
        ax.set_title(clip, fontsize=9)
        ax.set_xlabel("samples (M)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("training tracking error (cm)")
    fig.tight_layout()
    return fig
