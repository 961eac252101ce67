"""A policy's learning curve: one CSV row per PPO rollout (what training writes and the notebooks plot).

The training columns are filled every rollout; `eval_*` (a deterministic evaluation from phase 0) every
`evaluate_every` samples, with the stage's verdict on it where the stage gives one (`eval_learned`: 1 or 0; and,
where the truth is known, `eval_truth_extra`: the policy's body error against it minus its reference's, m);
`start_entropy` (ASI's start distribution, 1 = uniform) only with ASI. A value not measured is written as nan and
read back as `math.nan` (one object, so rows read twice compare equal); curves written before a column existed
read with it all nan."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from sfv.io import atomic_path

CURVE_FIELDS = (
    "timesteps",
    "wall_seconds",
    "episode_return",
    "episode_seconds",
    "tracking_error",
    "step_reward",
    "eval_tracking_error",
    "eval_survived_seconds",
    "eval_root_drift",
    "start_entropy",
    "eval_truth_extra",
    "eval_learned",
)


def read_curve(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path) as f:
        return [{k: _number(row.get(k)) for k in CURVE_FIELDS} for row in csv.DictReader(f)]


def _number(text: str | None) -> float:
    value = float(text) if text else math.nan
    return math.nan if math.isnan(value) else value


def write_curve(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CURVE_FIELDS, restval="nan")
        w.writeheader()
        w.writerows(rows)
