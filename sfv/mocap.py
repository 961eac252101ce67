"""The DeepMimic mocap clips that ship in pybullet_data: the kit's ground truth."""

from __future__ import annotations

from pathlib import Path

from sfv.motion import Motion, load_deepmimic
from sfv.skeleton import pybullet_data_path

PREFIX = "humanoid3d_"


def motions_dir() -> Path:
    return pybullet_data_path() / "data" / "motions"


def available_clips() -> list[str]:
    """Names of the humanoid mocap clips (backflip, cartwheel, ..., walk)."""
    return sorted(p.stem.removeprefix(PREFIX) for p in motions_dir().glob(f"{PREFIX}*.txt"))


def mocap_path(name: str) -> Path:
    path = motions_dir() / f"{PREFIX}{name}.txt"
    if not path.is_file():
        raise KeyError(f"no humanoid mocap clip {name!r} in pybullet_data; available: {', '.join(available_clips())}")
    return path


def load_mocap(name: str) -> Motion:
    return load_deepmimic(mocap_path(name), "humanoid", name=name)
