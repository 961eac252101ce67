"""The report's tables, gathered from what the stages and benchmarks wrote.

Each table reads the metrics files of one stage (or one benchmark's results) for the clips params.yaml gives
it. Nothing is recomputed, so the report costs seconds. What has not run yet is shown, never an error: a clip
whose stage has no metrics is a row marked "not run", and an experiment with no output at all is a table
whose `missing` says how to produce it. A cell that does not apply (no ground truth on a real video, a clip
not trained) is "—".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sfv import paths
from sfv.markdown import markdown_table

NOT_RUN = "not run"
NOT_APPLICABLE = "—"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    digits: int | None = None  # None: shown as text


@dataclass
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict] = field(default_factory=list)
    #: why the whole table is empty and how to fill it (None when it has rows)
    missing: str | None = None

    @property
    def ran(self) -> bool:
        return self.missing is None and any(r.get("status") != NOT_RUN for r in self.rows)

    def markdown(self) -> str:
        if self.missing is not None:
            return f"*{NOT_RUN}:* {self.missing}"
        return markdown_table([c.header for c in self.columns], ([cell(r, c) for c in self.columns] for r in self.rows))

    def records(self) -> dict:
        """The table as JSON-ready data (metrics/report.json)."""
        return {"title": self.title, "ran": self.ran, "missing": self.missing, "rows": self.rows}


def cell(row: dict, column: Column) -> str:
    if row.get("status") == NOT_RUN and column.key not in ("clip", "kind", "policy", "status"):
        return NOT_RUN
    value = row.get(column.key)
    if value is None:
        return NOT_APPLICABLE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column.digits is None or not isinstance(value, (int, float)) or isinstance(value, int):
        return str(value)  # counts stay counts
    return f"{value:.{column.digits}f}"


def read_json(path: Path):
    """A metrics file's content, or None when the stage has not written it."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); re-run the stage that writes it (`dvc repro`)") from None


def _get(m: dict | None, key: str, scale: float = 1.0):
    if m is None or m.get(key) is None:
        return None
    value = m[key]
    return round(float(value) * scale, 6) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _kind(params, clip: str) -> str:
    return "rendered" if params.clips[clip].is_mocap else "real"


# --- per-stage tables ----------------------------------------------------------------------------------------
POSE_COLUMNS = (
    Column("clip", "clip"),
    Column("kind", "video"),
    Column("detection_rate", "detected", 2),
    Column("pixel_error", "2D error (px)", 1),
    Column("pck", "PCK@0.05", 3),
    Column("pa_mpjpe_mm", "3D PA-MPJPE (mm)", 1),
    Column("plain_pa_mpjpe_mm", "3D PA-MPJPE, no rotation search (mm)", 1),
)


def pose_row(clip: str, kind: str, m: dict | None) -> dict:
    if m is None:
        return {"clip": clip, "kind": kind, "status": NOT_RUN}
    return {"clip": clip, "kind": kind, "status": "ran", **{c.key: _get(m, c.key) for c in POSE_COLUMNS[2:]}}


def pose_table(params, root: Path = Path(".")) -> Table:
    rows = [
        pose_row(c, _kind(params, c), read_json(paths.clip_metrics_file("pose", c, root))) for c in params.pose.clips
    ]
    return Table(
        "pose", "Pose estimation (BlazePose with rotation search), against the rendered truth", POSE_COLUMNS, rows
    )


RECONSTRUCTION_COLUMNS = (
    Column("clip", "clip"),
    Column("kind", "video"),
    Column("jitter_before", "jitter before (mm/frame²)", 1),
    Column("jitter_after", "jitter after (mm/frame²)", 1),
    Column("mpjpe_mm_targets", "estimator 3D vs truth (mm)", 1),
    Column("mpjpe_mm", "reconstruction vs truth (mm)", 1),
    Column("root_error_m", "root error (m)", 3),
    Column("foot_sliding", "foot sliding", 3),
    Column("fov_deg", "lens used (°)", 1),
    Column("fov_error_deg", "lens error (°)", 1),
)


def reconstruction_row(clip: str, kind: str, m: dict | None) -> dict:
    if m is None:
        return {"clip": clip, "kind": kind, "status": NOT_RUN}
    row = {
        "clip": clip,
        "kind": kind,
        "status": "ran",
        "jitter_before": _get(m, "jitter_targets"),
        "jitter_after": _get(m, "jitter"),
    }
    row.update({c.key: _get(m, c.key) for c in RECONSTRUCTION_COLUMNS[4:]})
    return row


def reconstruction_table(params, root: Path = Path(".")) -> Table:
    rows = [
        reconstruction_row(c, _kind(params, c), read_json(paths.clip_metrics_file("reconstruct", c, root)))
        for c in params.reconstruct.clips
    ]
    return Table(
        "reconstruction",
        "Motion reconstruction: jitter of the estimator's 3D poses (before) and of the "
        "fitted motion (after); errors against the mocap it was rendered from",
        RECONSTRUCTION_COLUMNS,
        rows,
    )


IMITATION_COLUMNS = (
    Column("clip", "clip"),
    Column("reference", "reference"),
    Column("tracking_error_cm", "tracking error (cm)", 1),
    Column("survived_fraction", "survived (of the evaluation)", 2),
    Column("fell", "fell"),
    Column("samples_m", "samples (M)", 2),
    Column("hours", "hours to train", 2),
    Column("samples_per_second", "samples/s", 0),
)


def imitation_row(clip: str, reference: str, m: dict | None) -> dict:
    if m is None:
        return {"clip": clip, "reference": reference, "status": NOT_RUN}
    return {
        "clip": clip,
        "reference": reference,
        "status": "ran",
        "tracking_error_cm": _get(m, "tracking_error_m", 100),
        "survived_fraction": _get(m, "survived_fraction"),
        "fell": m.get("fell"),
        "samples_m": _get(m, "train_samples", 1e-6),
        "hours": _get(m, "train_wall_seconds", 1 / 3600),
        "samples_per_second": _get(m, "train_samples_per_second"),
    }


def imitation_table(params, root: Path = Path(".")) -> Table:
    rows = [
        imitation_row(c, "video", read_json(paths.clip_metrics_file("imitate", c, root))) for c in params.imitate.clips
    ]
    second = {c: paths.clip_metrics_file("imitate", paths.run_name(c, 1), root) for c in params.imitate.second_seed}
    rows += [imitation_row(c, "video, second seed", read_json(path)) for c, path in second.items()]
    rows += [
        imitation_row(c, "mocap (oracle)", read_json(paths.clip_metrics_file("imitate_oracle", c, root)))
        for c in params.imitate.oracle_clips
    ]
    return Table(
        "imitation",
        "Motion imitation (PPO, DeepMimic reward): deterministic evaluation of each policy against its own reference",
        IMITATION_COLUMNS,
        rows,
    )


END_TO_END_COLUMNS = (
    Column("clip", "clip"),
    Column("mpjpe_mm", "reconstruction MPJPE (mm)", 1),
    Column("reference_error_cm", "reference vs truth (cm)", 1),
    Column("video_error_cm", "video policy vs truth (cm)", 1),
    Column("video_survived", "video policy survived", 2),
    Column("oracle_error_cm", "oracle policy vs truth (cm)", 1),
    Column("gap_cm", "gap: video − oracle (cm)", 1),
    Column("learned", "learned from video"),
    Column("seed2_error_cm", "second seed vs truth (cm)", 1),
    Column("seed2_learned", "second seed learned"),
)


def _stage_rows_table(stage: str, name: str, title: str, columns: tuple[Column, ...], root: Path) -> Table:
    """A table of one whole-pipeline stage's metrics file (`{"clips": [rows]}`), or "not run" without it."""
    m = read_json(paths.metrics_file(stage, root))
    if m is None:
        return Table(
            name, title, columns, missing=f"stage `{stage}` has not written metrics/{stage}.json: `dvc repro {stage}`"
        )
    return Table(name, title, columns, [{"status": "ran", **r} for r in m["clips"]])


def end_to_end_table(params, root: Path = Path(".")) -> Table:
    return _stage_rows_table(
        "end_to_end",
        "end_to_end",
        "End to end: the policy learned from video against the ground truth, beside the oracle on the mocap",
        END_TO_END_COLUMNS,
        root,
    )


LIMITS_COLUMNS = (
    Column("clip", "clip"),
    Column("policy", "policy"),
    Column("learned", "learned from video"),
    Column("survived", "stood (s)"),
    Column("ended_by", "what ended it"),
    Column("tracking_cm", "tracking (cm)", 1),
    Column("heading_aligned_cm", "turned to its reference's heading (cm)", 1),
    Column("heading_lag_max_deg", "heading lag, largest (°)", 0),
    Column("worst", "bodies with the most error (cm)"),
    Column("peak", "error peaks at (s): cm"),
)


def limits_table(root: Path = Path(".")) -> Table:
    """The end-to-end stage's reading of what limits each policy learned from video, and each oracle beside it
    (sfv.analysis.limits)."""
    title = "What limits each policy learned from video (and its oracle): its evaluation, replayed and read"
    m = read_json(paths.metrics_file("limits", root))
    if m is None:
        return Table("limits", title, LIMITS_COLUMNS, missing="stage `end_to_end` has not written metrics/limits.json")
    rows = [
        {"clip": r["clip"], "policy": r.get("policy"), "status": NOT_RUN}  # no policy yet: its stage has not run
        if "survived_s" not in r
        else {
            "status": "ran",
            **r,
            "survived": f"{min(r['survived_s'], r['evaluation_s']):.2f} of {r['evaluation_s']:.2f}",
            "ended_by": r["what_ended_it"],
            "worst": ", ".join(f"{name} {cm:.0f}" for name, cm in r["worst_bodies"]),
            "peak": f"{r['peak_at_s']:.2f}: {r['peak_error_cm']:.0f}",
        }
        for r in m["clips"]
    ]
    return Table("limits", title, LIMITS_COLUMNS, rows)


REFERENCE_COLUMNS = (
    Column("clip", "clip"),
    Column("reference", "reference"),
    Column("body_error_cm", "body vs truth (cm)", 2),
    Column("mpjpe_mm", "MPJPE vs truth (mm)", 1),
    Column("skate_cm_s", "foot skate where the truth is planted (cm/s)", 1),
    Column("penetration_cm", "penetration (cm)", 2),
    Column("flight_s", "flight (s)", 2),
    Column("truth_flight_s", "the truth's flight (s)", 2),
    Column("outside_cone", "beyond the ground's push (share of standing frames)", 2),
    Column("truth_outside_cone", "the truth's share", 2),
    Column("heading_deg", "heading vs truth (deg)", 1),
    Column("joint_spin_rad_s", "fastest joint turn (rad/s)", 1),
    Column("truth_joint_spin_rad_s", "the truth's (rad/s)", 1),
    Column("pd_only_s", "PD alone holds it (s)", 2),
)


def reference_physics_table(root: Path = Path(".")) -> Table:
    """The end-to-end stage's reference step: each rendered clip's reference without and with the physical step
    against its truth, then each kind's mean over the skills."""
    title = "The reference step: every rendered clip's reference without and with the physical step, against the truth"
    m = read_json(paths.metrics_file("reference_physics", root))
    if m is None:
        return Table(
            "reference_physics",
            title,
            REFERENCE_COLUMNS,
            missing="stage `end_to_end` has not written metrics/reference_physics.json: `dvc repro end_to_end`",
        )
    rows = [{"status": "ran", **r} for r in m["rows"]]
    rows += [
        {"status": "ran", "clip": f"mean over {means['clips']} skills", "reference": kind, **means}
        for kind, means in m["means"].items()
    ]
    return Table("reference_physics", title, REFERENCE_COLUMNS, rows)


SCENE_COLUMNS = (
    Column("clip", "clip"),
    Column("kind", "video"),
    Column("levels", "levels", 0),
    Column("heights", "heights above the ground (m)"),
    Column("frames", "frames on each level"),
    Column("truth", "true heights (m)"),
    Column("height_error_cm", "height error (cm)", 1),
    Column("edge_error_cm", "edge error (cm)", 1),
    Column("refused", "why no scene"),
)


def scenes_table(root: Path = Path(".")) -> Table:
    """The end-to-end stage's scenes: the levels each reconstructed clip's body stood on (sfv.imitate.scene)."""
    title = "The ground each clip was filmed on: the levels its reconstruction stood on"
    m = read_json(paths.metrics_file("scenes", root))
    if m is None:
        return Table("scenes", title, SCENE_COLUMNS, missing="stage `end_to_end` has not written metrics/scenes.json")
    rows = [
        {
            "status": "ran",
            **r,
            "heights": None if r["levels"] is None else ", ".join(f"{h:.2f}" for h in r["heights_m"]),
            "frames": None if r["levels"] is None else ", ".join(f"{a}–{b}" for a, b in r["level_frames"]),
            "truth": ", ".join(f"{h:.2f}" for h in r["truth_heights_m"]) if "truth_heights_m" in r else None,
            "height_error_cm": None if r.get("height_error_m") is None else 100 * r["height_error_m"],
            "edge_error_cm": None if r.get("edge_error_m") is None else 100 * r["edge_error_m"],
            "refused": r["refused"] and r["refused"].split(": ", 1)[-1],
        }
        for r in m["clips"]
    ]
    return Table("scenes", title, SCENE_COLUMNS, rows)


CAMERA_COLUMNS = (
    Column("clip", "clip"),
    Column("size", "size"),
    Column("fps", "fps", 0),
    Column("fov", "true lens (°)", 0),
    Column("fov_used", "lens used (°)", 1),
    Column("pose_pa_mpjpe_mm", "pose PA-MPJPE (mm)", 1),
    Column("targets_mm", "estimator 3D (mm)", 1),
    Column("reconstruction_mm", "reconstruction (mm)", 1),
    Column("up_error_deg", "up error (°)", 1),
)


def cameras_table(params, root: Path = Path(".")) -> Table:
    return _stage_rows_table(
        "cameras", "cameras", "Every rendered clip by the camera that filmed it", CAMERA_COLUMNS, root
    )


# --- benchmarks (run by hand, results committed under bench/results) -------------------------------------------
SKILL_COLUMNS = (
    Column("clip", "clip"),
    Column("seed", "seed"),
    Column("threshold_cm", "threshold (cm)", 0),
    Column("learned", "learned"),
    Column("samples_m", "samples (M)", 2),
    Column("minutes", "minutes", 1),
    Column("error_cm", "error (cm)", 2),
    Column("survived_s", "survived (s)", 2),
    Column("drift_m", "root drift (m)", 2),
)


def samples_to_skill_table(root: Path = Path(".")) -> Table:
    rows = read_json(paths.skill_table_file(root))
    title = (
        "Samples to skill (mocap references): samples and minutes until the whole clip is tracked within the "
        "threshold without a fall"
    )
    if rows is None:
        return Table(
            "samples_to_skill",
            title,
            SKILL_COLUMNS,
            missing="no runs yet: `python bench/samples_to_skill.py` (hours; it resumes)",
        )
    from sfv.analysis.learning_speed import learned_label

    out = [{"status": "ran", **r, "learned": learned_label(r), "samples_m": _get(r, "samples", 1e-6)} for r in rows]
    return Table("samples_to_skill", title, SKILL_COLUMNS, out)


ASI_COLUMNS = (
    Column("clip", "clip"),
    Column("initialisation", "start states"),
    Column("samples_m", "samples (M)", 2),
    Column("tracking_error_cm", "tracking error (cm)", 2),
    Column("survived_seconds", "survived (s)", 2),
    Column("minutes", "minutes", 1),
)
ASI_VARIANTS = {"baseline": "RSI (uniform phase)", "asi": "ASI (adaptive)"}


def asi_table(clips: tuple[str, ...] = ("cartwheel", "backflip"), root: Path = Path(".")) -> Table:
    """ASI against RSI: the lever benchmark's `baseline` and `asi` rows (same seed and budget) per clip."""
    rows = []
    for clip in clips:
        for r in read_json(paths.lever_rows_file(clip, root)) or []:
            if r.get("variant") in ASI_VARIANTS:
                rows.append(
                    {
                        "status": "ran",
                        "clip": clip,
                        "initialisation": ASI_VARIANTS[r["variant"]],
                        "samples_m": _get(r, "samples", 1e-6),
                        "tracking_error_cm": r.get("tracking_error_cm"),
                        "survived_seconds": r.get("survived_seconds"),
                        "minutes": r.get("minutes"),
                    }
                )
    title = "Adaptive state initialisation (ASI) against reference state initialisation (RSI), same seed and budget"
    if not rows:
        return Table(
            "asi",
            title,
            ASI_COLUMNS,
            missing="no runs yet: `python bench/imitation_levers.py --clip "
            "cartwheel --variants baseline asi` (and the same with --clip backflip)",
        )
    return Table("asi", title, ASI_COLUMNS, rows)


# --- experiments the kit has no stage for yet --------------------------------------------------------------------
EXPERIMENTS = {
    "morphology": ("Morphology transfer: Atlas and the MuJoCo humanoid imitating the clips", "morphology_transfer"),
    "terrain": ("Irregular terrain: the skills on slopes, gaps, stairs and rough ground", "irregular_terrain"),
    "motion_completion": ("Motion completion from a single image", "motion_completion"),
}


def experiment_table(name: str, root: Path = Path(".")) -> Table:
    """An experiment's table from metrics/<stage>.json (`{"rows": [...]}`), or a table saying it has not run."""
    title, stage = EXPERIMENTS[name]
    m = read_json(paths.metrics_file(stage, root))
    if m is None:
        return Table(
            name,
            title,
            (),
            missing=f"no metrics/{stage}.json: the `{stage}` stage has not run (or is not in dvc.yaml yet)",
        )
    rows = [{"status": "ran", **r} for r in m.get("rows", [])]
    keys = list(dict.fromkeys(k for r in rows for k in r if k != "status"))
    columns = tuple(Column(k, k.replace("_", " "), 3) for k in keys)
    return Table(name, title, columns, rows)


# --- the overview -------------------------------------------------------------------------------------------------
OVERVIEW_COLUMNS = (
    Column("clip", "clip"),
    Column("kind", "video"),
    Column("pose_mm", "pose 3D PA-MPJPE (mm)", 0),
    Column("reconstruction_mm", "reconstruction MPJPE (mm)", 0),
    Column("jitter", "jitter before → after (mm/frame²)"),
    Column("tracking_cm", "policy tracking (cm)", 1),
    Column("survived", "survived", 2),
    Column("samples_m", "samples (M)", 2),
    Column("hours", "hours", 2),
    Column("truth_cm", "policy vs truth (cm)", 1),
    Column("learned", "learned"),
)


def overview(tables: dict[str, Table], params) -> Table:
    """One row per clip across the chain: pose, reconstruction, the video policy and its error against the truth.

    A clip a stage does not cover (not in its clip list, or a real clip with no truth) has "—"; a clip the
    stage covers but has not run yet has "not run".
    """

    def by_clip(name, reference=None):
        t = tables.get(name)
        if t is None or t.missing is not None:
            return {}
        return {r["clip"]: r for r in t.rows if reference is None or r.get("reference") == reference}

    pose, recon, imit, e2e = (
        by_clip("pose"),
        by_clip("reconstruction"),
        by_clip("imitation", "video"),
        by_clip("end_to_end"),
    )

    def value(rows, clip, key):
        r = rows.get(clip)
        if r is None:
            return None
        return NOT_RUN if r.get("status") == NOT_RUN else r.get(key)

    out = []
    for clip in params.pose.clips:
        before, after = value(recon, clip, "jitter_before"), value(recon, clip, "jitter_after")
        jitter = (
            NOT_RUN
            if NOT_RUN in (before, after)
            else (f"{before:.0f} → {after:.1f}" if before is not None and after is not None else None)
        )
        out.append(
            {
                "clip": clip,
                "kind": _kind(params, clip),
                "pose_mm": value(pose, clip, "pa_mpjpe_mm"),
                "reconstruction_mm": value(recon, clip, "mpjpe_mm"),
                "jitter": jitter,
                "tracking_cm": value(imit, clip, "tracking_error_cm"),
                "survived": value(imit, clip, "survived_fraction"),
                "samples_m": value(imit, clip, "samples_m"),
                "hours": value(imit, clip, "hours"),
                "truth_cm": value(e2e, clip, "video_error_cm"),
                "learned": value(e2e, clip, "learned"),
            }
        )
    return Table("overview", "Every clip through the chain", OVERVIEW_COLUMNS, out)


def all_tables(params, root: Path = Path(".")) -> dict[str, Table]:
    """Every table of the report, the overview first."""
    tables = {
        t.name: t
        for t in (
            pose_table(params, root),
            reconstruction_table(params, root),
            imitation_table(params, root),
            end_to_end_table(params, root),
            limits_table(root),
            reference_physics_table(root),
            scenes_table(root),
            cameras_table(params, root),
            samples_to_skill_table(root),
            asi_table(root=root),
        )
    }
    for name in EXPERIMENTS:
        tables[name] = experiment_table(name, root)
    return {"overview": overview(tables, params), **tables}
