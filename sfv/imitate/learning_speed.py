"""Samples to skill: when a learning curve's deterministic evaluations first show the skill learned.

Training logs an evaluation from phase 0 every `evaluate_every` samples (sfv.imitate.train). A skill counts
as learned at the first evaluation that tracks the whole evaluation (no fall) within the error threshold;
the samples and wall-clock time of that row are the cost of the skill. Pure functions over curve rows.
"""

from __future__ import annotations

import math


def evaluations(curve: list[dict]) -> list[dict]:
    """The curve's rows that carry an evaluation."""
    return [r for r in curve if not math.isnan(r.get("eval_tracking_error", math.nan))]


def learned(row: dict, threshold: float, seconds: float) -> bool:
    """An evaluation that lasted `seconds` (the whole evaluation: no fall) with mean error <= threshold (m)."""
    return row["eval_survived_seconds"] >= seconds - 1e-6 and row["eval_tracking_error"] <= threshold


def samples_to_skill(curve: list[dict], threshold: float, seconds: float) -> dict:
    """{learned, samples, minutes, error_cm, survived_s}: the first learned evaluation, else the last one (with
    learned False); samples None when the curve has no evaluation yet."""
    rows = evaluations(curve)
    if not rows:
        return {"learned": False, "samples": None, "minutes": None, "error_cm": None, "survived_s": None}
    hit = next((r for r in rows if learned(r, threshold, seconds)), None)
    row = hit or rows[-1]
    return {"learned": hit is not None, "samples": int(row["timesteps"]), "minutes": round(row["wall_seconds"] / 60, 1),
            "error_cm": round(100 * row["eval_tracking_error"], 2), "survived_s": round(row["eval_survived_seconds"], 2)}


def best_evaluation(curve: list[dict], seconds: float) -> dict | None:
    """The evaluation with the lowest error among those that did not fall (else the longest-surviving one)."""
    rows = evaluations(curve)
    if not rows:
        return None
    whole = [r for r in rows if r["eval_survived_seconds"] >= seconds - 1e-6]
    return min(whole, key=lambda r: r["eval_tracking_error"]) if whole else \
        max(rows, key=lambda r: r["eval_survived_seconds"])
