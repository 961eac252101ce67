"""A policy's learning curve: one CSV row per PPO rollout (what training writes and the notebooks plot)."""

from __future__ import annotations

import csv
from pathlib import Path

from sfv.io import atomic_path

CURVE_FIELDS = ("timesteps", "wall_seconds", "episode_return", "episode_seconds", "tracking_error", "step_reward")


def read_curve(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path) as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def write_curve(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CURVE_FIELDS)
        w.writeheader()
        w.writerows(rows)
