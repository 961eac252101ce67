"""The DeepMimic mocap clips that ship in pybullet_data: the kit's ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sfv.assets import MOCAP_PREFIX, available_mocap, mocap_dir
from sfv.motion import Motion, load_deepmimic


def mocap_path(name: str) -> Path:
    path = mocap_dir() / f"{MOCAP_PREFIX}{name}.txt"
    if not path.is_file():
        raise KeyError(f"no humanoid mocap clip {name!r} in pybullet_data; available: {', '.join(available_mocap())}")
    return path


def load_mocap(name: str) -> Motion:
    return load_deepmimic(mocap_path(name), "humanoid", name=name)


def library_entry(motion: Motion) -> dict:
    """A clip's line in the motion library's catalogue: length, rate, loop mode, how far and how fast the
    root travels (horizontally; the humanoid is y-up), and the lowest body origin."""
    pos, _ = motion.body_positions()
    travel = pos[-1, 0] - pos[0, 0]
    root_speed = np.linalg.norm(motion.velocities()["root_lin"], axis=1)
    return {
        "frames": motion.n_frames,
        "fps": motion.fps,
        "duration_s": round(motion.duration, 4),
        "loop": motion.loop,
        "root_travel_m": round(float(np.linalg.norm(travel[[0, 2]])), 4),
        "max_root_speed_mps": round(float(root_speed.max()), 4),
        "lowest_body_origin_m": round(float(pos[..., 1].min()), 4),
    }


def library_metrics(catalogue: dict[str, dict]) -> dict:
    """The motion library's figures over its catalogue (`library_entry` per clip)."""
    return {
        "clips": len(catalogue),
        "total_frames": sum(s["frames"] for s in catalogue.values()),
        "total_seconds": round(sum(s["duration_s"] for s in catalogue.values()), 3),
        "max_root_speed_mps": max(s["max_root_speed_mps"] for s in catalogue.values()),
    }
