"""The terrain experiment: a skill learned from video on flat ground, carried over ground the video never showed.

For each (clip, terrain) run, two policies meet the same terrains (one per evaluation seed, each with its own
random features and episode shift): the clip's flat policy as `imitate` trained it (it cannot see the ground), and
a terrain policy that starts from it, sees a heightmap around it and trains on the terrain for `budget` samples.
Each rollout is scored by how far it got along the terrain, how long it stayed up and how well it tracked the
clip; `summarise` turns the per-seed results into the rows of the stage's table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfv.settings.common import from_record
from sfv.settings.imitate import (
    EnvSettings,
    HeightmapSettings,
    PPOSettings,
    RewardParams,
)
from sfv.settings.irregular_terrain import TerrainRun

#: the two policies of a run
POLICIES = ("flat", "terrain")


class TerrainExperimentError(RuntimeError):
    """A run cannot start (its flat policy is missing or was trained with other observations)."""


@dataclass(frozen=True)
class RunSettings:
    """How a terrain policy trains: its flat policy's settings, on the terrain, with the heightmap on."""

    env: EnvSettings
    reward: RewardParams
    ppo: PPOSettings
    seed: int
    flat_env: EnvSettings  # the flat policy's own observation settings, on the same terrain (its evaluation)


def run_settings(
    flat_dir: str | Path,
    run: TerrainRun,
    heightmap: HeightmapSettings,
    budget: int,
    checkpoint_every: int,
    evaluate_every: int,
) -> RunSettings:
    """The flat policy's recorded settings (its run.json) turned into the terrain policy's: same reward, PPO and
    observation, plus the terrain and the heightmap; `budget` samples on top of nothing (a new run)."""
    run_file = Path(flat_dir) / "run.json"
    if not run_file.is_file():
        raise TerrainExperimentError(
            f"{run_file}: missing; run {run.name} starts from the policy `imitate` trains for clip {run.clip!r}: "
            f"`dvc repro imitate@{run.clip}` first"
        )
    recorded = json.loads(run_file.read_text())
    flat_env = from_record(EnvSettings, recorded["env"])
    if flat_env.heightmap.enabled:
        raise TerrainExperimentError(
            f"{run_file}: this policy already observes a heightmap; the baseline must be a "
            "flat-ground policy without one"
        )
    ppo = {k: v for k, v in recorded["ppo"].items() if k in PPOSettings.model_fields}
    ppo.update(total_timesteps=budget, checkpoint_every=checkpoint_every, evaluate_every=evaluate_every)
    return RunSettings(
        env=flat_env.model_copy(update={"terrain": run.terrain, "heightmap": heightmap}),
        reward=from_record(RewardParams, recorded["reward"]),
        ppo=PPOSettings(**ppo),
        seed=int(recorded["seed"]),
        flat_env=flat_env.model_copy(update={"terrain": run.terrain}),
    )


def score(result: dict, seed: int) -> dict:
    """One rollout's figures: distance along the terrain's travel (m), time up (s), whether it fell, tracking (cm)."""
    root = np.asarray(result["root_pos"])
    travel = result.get("travel")
    start = root[0] if len(root) else np.zeros(3)
    distance = float((root[-1] - start) @ travel) if travel is not None and len(root) else 0.0
    return {
        "seed": seed,
        "distance_m": distance,
        "survived_s": float(result["survived_seconds"]),
        "fell": bool(result["fallen"]),
        "tracking_cm": 100.0 * float(result["tracking_error_mean"]),
    }


def summarise(run: TerrainRun, policy: str, scores: list[dict], samples: int | None) -> dict:
    """A row of the stage's table: the means over the evaluation seeds, and how many rollouts fell."""
    return {
        "clip": run.clip,
        "terrain": run.terrain,
        "policy": policy,
        "distance_m": float(np.mean([s["distance_m"] for s in scores])),
        "survived_s": float(np.mean([s["survived_s"] for s in scores])),
        "falls": f"{sum(s['fell'] for s in scores)}/{len(scores)}",
        "tracking_cm": float(np.mean([s["tracking_cm"] for s in scores])),
        "terrain_samples_m": None if samples is None else samples / 1e6,
    }
