"""Samples to skill: when a learning curve's deterministic evaluations first show the skill learned.

Training logs an evaluation from phase 0 every `evaluate_every` samples (sfv.imitate.train). A skill counts
as learned at the first evaluation that tracks the whole evaluation (no fall) within the error threshold
(and, for a gait, ends with its root within a drift limit of the reference's); the samples and wall-clock time of that
row are the cost of the skill. Pure functions over curve rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sfv import paths
from sfv.imitate.curve import read_curve
from sfv.markdown import markdown_table


def evaluations(curve: list[dict]) -> list[dict]:
    """The curve's rows that carry an evaluation."""
    return [r for r in curve if not math.isnan(r.get("eval_tracking_error", math.nan))]


def learned(row: dict, threshold: float, seconds: float, max_drift: float | None = None) -> bool:
    """An evaluation that lasted `seconds` (the whole evaluation: no fall) with mean error <= threshold (m) and,
    with `max_drift`, a root that ended within that many metres of the reference's."""
    return (
        row["eval_survived_seconds"] >= seconds - 1e-6
        and row["eval_tracking_error"] <= threshold
        and (max_drift is None or row.get("eval_root_drift", math.inf) <= max_drift)
    )


def samples_to_skill(curve: list[dict], threshold: float, seconds: float, max_drift: float | None = None) -> dict:
    """{learned, samples, minutes, error_cm, survived_s, drift_m}: the first learned evaluation, else the last one
    (with learned False); samples None when the curve has no evaluation yet. drift_m: how far the root was from the
    reference's at the evaluation's end."""
    rows = evaluations(curve)
    if not rows:
        return {
            "learned": False,
            "samples": None,
            "minutes": None,
            "error_cm": None,
            "survived_s": None,
            "drift_m": None,
        }
    hit = next((r for r in rows if learned(r, threshold, seconds, max_drift)), None)
    row = hit or rows[-1]
    drift = row.get("eval_root_drift", math.nan)
    return {
        "learned": hit is not None,
        "samples": int(row["timesteps"]),
        "minutes": round(row["wall_seconds"] / 60, 1),
        "error_cm": round(100 * row["eval_tracking_error"], 2),
        "survived_s": round(row["eval_survived_seconds"], 2),
        "drift_m": None if math.isnan(drift) else round(drift, 2),
    }


def best_evaluation(curve: list[dict], seconds: float) -> dict | None:
    """The evaluation with the lowest error among those that did not fall (else the longest-surviving one)."""
    rows = evaluations(curve)
    if not rows:
        return None
    whole = [r for r in rows if r["eval_survived_seconds"] >= seconds - 1e-6]
    return (
        min(whole, key=lambda r: r["eval_tracking_error"])
        if whole
        else max(rows, key=lambda r: r["eval_survived_seconds"])
    )


# --- the benchmarks' results (bench/imitation_levers.py, bench/samples_to_skill.py), as the results page (notebook 11)
# shows them --
def curve_tail(curve: list[dict], updates: int = 10) -> dict:
    """The training episodes over the last `updates` rollouts: mean length (s) and tracking error (cm). Averaged
    over hundreds of episodes, steadier than one evaluation."""
    tail = [r for r in curve[-updates:] if not math.isnan(r["episode_seconds"])]
    if not tail:
        return {"episode_s": None, "error_cm": None}
    return {
        "episode_s": round(sum(r["episode_seconds"] for r in tail) / len(tail), 2),
        "error_cm": round(100 * sum(r["tracking_error"] for r in tail) / len(tail), 2),
    }


def _overrides_text(overrides: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items())


def lever_table(rows: list[dict], curves: dict[str, list[dict]] | None = None) -> str:
    """Markdown: one row per variant and budget of the lever ablation (same clip and seed): the evaluation after the
    budget and, from the learning curve up to it, the training episodes of the last 10 updates."""
    header = [
        "variant",
        "overrides",
        "of the defaults",
        "samples",
        "minutes",
        "samples/s",
        "evaluation: tracking error cm",
        "survived s",
        "root drift m",
        "training episodes (last 10 updates): length s",
        "tracking error cm",
    ]
    lines = []
    for r in rows:
        overrides = _overrides_text(r["overrides"]) or "params.yaml"
        upto = [c for c in (curves or {}).get(r["variant"], []) if c["timesteps"] <= r["samples"]]  # its budget's part
        tail = curve_tail(upto)
        lines.append(
            [
                r["variant"],
                overrides,
                r.get("defaults", ""),
                f"{r['samples']:,}",
                r["minutes"],
                r["samples_per_second"],
                r["tracking_error_cm"],
                r["survived_seconds"],
                r["root_drift_m"],
                tail["episode_s"],
                tail["error_cm"],
            ]
        )
    return markdown_table(header, lines)


def learned_label(row: dict) -> str:
    """yes, no, or (a run stopped before its wall-clock limit: its machine was not kept) how far it got."""
    if row["learned"]:
        return "yes"
    if row.get("stopped"):
        return f"not yet: stopped at {row['trained_minutes']} of {row['limit_minutes']} min"
    return "no"


def skill_table(rows: list[dict]) -> str:
    """Markdown: samples and minutes to each skill, per clip and seed (or where the run stands)."""
    header = [
        "clip",
        "seed",
        "target",
        "learned",
        "samples",
        "minutes",
        "error cm (at that evaluation)",
        "survived s",
        "root drift m",
        "trained (samples, min)",
        "pose termination",
    ]
    lines = []
    for r in rows:
        clip = r["clip"] + (f" ({r['variant']}: {_overrides_text(r.get('overrides', {}))})" if r.get("variant") else "")
        span = f" over {r['evaluated_seconds']} s" if "evaluated_seconds" in r else ""
        span += f", drift <= {r['max_drift_m']} m" if r.get("max_drift_m") is not None else ""
        drift = "—" if r.get("drift_m") is None else r["drift_m"]
        lines.append(
            [
                clip,
                r["seed"],
                f"<= {r['threshold_cm']} cm{span} in {r['limit_minutes']} min",
                learned_label(r),
                f"{r['samples'] or 0:,}",
                r["minutes"],
                r["error_cm"],
                r["survived_s"],
                drift,
                f"{r['trained_samples']:,}, {r['trained_minutes']}",
                "off" if r.get("pose_termination_m") is None else str(r["pose_termination_m"]) + " m",
            ]
        )
    return markdown_table(header, lines)


def lever_results(root: Path = Path(".")) -> dict[str, tuple[list[dict], dict[str, list[dict]]]]:
    """clip -> (the ablation's rows, variant -> learning curve) for every clip the ablation has run on."""
    out = {}
    folder = root / paths.BENCH_RESULTS / "levers"
    for table in sorted(folder.glob("*.json")):
        clip = table.stem
        rows = json.loads(table.read_text())
        curves = {r["variant"]: read_curve(paths.lever_curve_file(clip, r["variant"], root)) for r in rows}
        out[clip] = (rows, curves)
    return out


def skill_results(root: Path = Path(".")) -> tuple[list[dict], dict[str, list[dict]]]:
    """(the samples-to-skill rows, "clip seed k" -> learning curve); empty when the benchmark has not run."""
    table = paths.skill_table_file(root)
    rows = json.loads(table.read_text()) if table.is_file() else []
    curves = {
        f"{r['clip']} seed {r['seed']}" + (f" ({r['variant']})" if r.get("variant") else ""): read_curve(
            paths.skill_curve_file(r["clip"], r["seed"], root, r.get("variant"))
        )
        for r in rows
    }
    return rows, curves
