"""Every rendered clip's pose and reconstruction errors beside the camera that filmed it: the table that shows
whether a setting is tuned to one camera. Read from the stages' metrics; pure but for the reading.

Columns: the pose stage's PA-MPJPE (per frame, aligned by rotation and scale); then, in one metric (root-aligned,
one rotation for the whole clip), the pose stage's 3D targets in the estimated world, per-frame IK and the
reconstruction (before: a stored earlier result, e.g. the reconstruction before its 2D terms were put in
metres at the body); the estimated up's error.
"""

from __future__ import annotations

import json
from pathlib import Path

from sfv import paths
from sfv.config import Params
from sfv.markdown import markdown_table

BEFORE = paths.RECONSTRUCTION_BEFORE_CAMERA_UNITS


def rows(params: Params, root: Path = Path("."), before: Path | None = BEFORE) -> list[dict]:
    """One row per rendered clip whose render, pose and reconstruct metrics exist (in params' order)."""
    old = {}
    if before is not None and (root / before).is_file():
        old = json.loads((root / before).read_text())["clips"]
    out = []
    for clip in params.render.clips:
        files = [paths.clip_metrics_file(stage, clip, root) for stage in ("render", "pose", "reconstruct")]
        if not all(f.is_file() for f in files):
            continue
        pose, rec = (json.loads(f.read_text()) for f in files[1:])
        cam = params.render.for_clip(params.clips[clip])
        out.append(
            {
                "clip": clip,
                "size": f"{cam.width}x{cam.height}",
                "fps": cam.fps,
                "fov": cam.camera.fov,
                "roll": cam.camera.roll,
                "pose_pa_mpjpe_mm": pose["pa_mpjpe_mm"],
                "targets_mm": rec["mpjpe_mm_targets"],
                "ik_mm": rec["mpjpe_mm_ik"],
                "before_mm": old.get(clip, {}).get("mpjpe_mm"),
                "reconstruction_mm": rec["mpjpe_mm"],
                "up_error_deg": rec["up_error_deg"],
                "fov_used": rec.get("fov_deg"),
                "fov_estimated": rec.get("fov_estimated", False),
            }
        )
    return out


def summary(table: list[dict]) -> dict:
    """Means over the clips (mm), how many reconstructions are at or below their own 3D targets, and the field of
    view's error (degrees) where it was estimated and over every clip (the assumed one elsewhere)."""
    if not table:
        return {"clips": 0}
    mean = lambda k: round(sum(r[k] for r in table) / len(table), 1)  # noqa: E731
    out = {
        "clips": len(table),
        "pose_pa_mpjpe_mm": mean("pose_pa_mpjpe_mm"),
        "targets_mm": mean("targets_mm"),
        "ik_mm": mean("ik_mm"),
        "reconstruction_mm": mean("reconstruction_mm"),
        "reconstruction_at_or_below_targets": sum(r["reconstruction_mm"] <= r["targets_mm"] for r in table),
    }
    with_before = [r for r in table if r["before_mm"] is not None]
    if with_before:  # the stored "before" and now, over the clips that have a "before"
        out.update(
            before_clips=len(with_before),
            before_mm=round(sum(r["before_mm"] for r in with_before) / len(with_before), 1),
            reconstruction_mm_before_clips=round(
                sum(r["reconstruction_mm"] for r in with_before) / len(with_before), 1
            ),
        )
    if all(r.get("fov_used") is not None for r in table):
        err = [abs(r["fov_used"] - r["fov"]) for r in table]
        est = [e for e, r in zip(err, table) if r["fov_estimated"]]
        out.update(
            fov_estimated_clips=len(est),
            fov_error_deg_estimated=round(sum(est) / len(est), 1) if est else None,
            fov_error_deg_max_estimated=round(max(est), 1) if est else None,
            fov_error_deg_all=round(sum(err) / len(err), 1),
        )
    return out


HEAD = (
    "clip",
    "size",
    "fps",
    "fov",
    "roll",
    "fov used",
    "pose PA-MPJPE",
    "3D targets",
    "per-frame IK",
    "recon. before",
    "recon. now",
    "up error deg",
)


def markdown(table: list[dict]) -> str:
    rows = []
    for r in table:
        used = (
            "-" if r.get("fov_used") is None else f"{r['fov_used']:g}" + (" (est.)" if r.get("fov_estimated") else "")
        )
        cells = [
            r["clip"],
            r["size"],
            f"{r['fps']:g}",
            f"{r['fov']:g}",
            f"{r['roll']:g}",
            used,
            r["pose_pa_mpjpe_mm"],
            r["targets_mm"],
            r["ik_mm"],
            "-" if r["before_mm"] is None else r["before_mm"],
            r["reconstruction_mm"],
            r["up_error_deg"],
        ]
        rows.append(cells)
    return markdown_table(HEAD, rows)


def figure(table: list[dict]):
    """Bars per clip: pose PA-MPJPE, 3D targets, the reconstruction before and now."""
    import numpy as np

    from sfv.plots import plt

    fig, ax = plt.subplots(figsize=(max(8, 1.0 * len(table)), 4.5))
    x = np.arange(len(table))
    series = [
        ("pose PA-MPJPE", "pose_pa_mpjpe_mm", "#9e9e9e"),
        ("3D targets", "targets_mm", "#ff7f0e"),
        ("reconstruction before", "before_mm", "#aec7e8"),
        ("reconstruction now", "reconstruction_mm", "#1f77b4"),
    ]
    width = 0.8 / len(series)
    for k, (label, key, colour) in enumerate(series):
        values = [np.nan if r[key] is None else r[key] for r in table]
        ax.bar(x + (k - 1.5) * width, values, width, label=label, color=colour)
    ax.set_xticks(
        x,
        [
            f"{r['clip']}\n{r['size']}\n{r['fps']:g} fps, {r['fov']:g}°"
            + (f"\nroll {r['roll']:g}°" if r["roll"] else "")
            for r in table
        ],
        fontsize=7,
    )
    ax.set_ylabel("error (mm)")
    ax.set_title("every rendered clip, by the camera that filmed it")
    ax.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    return fig
