"""Where the kit's shipped assets are: pybullet_data (URDFs, DeepMimic mocap) and read-only file views.

The lowest layer of the package: it imports no other sfv module, so the params schema can check a
clip's mocap name and the skeleton can find its URDF without importing pybullet or each other.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import MappingProxyType
from typing import Any

MOCAP_PREFIX = "humanoid3d_"
#: the package's own setting files, referenced by name: sfv/characters/<name>.yaml, sfv/terrains/<name>.yaml
PACKAGE_DIR = Path(__file__).parent


class AssetError(ValueError):
    """A shipped asset is missing: the install is incomplete."""


def pybullet_data_path() -> Path:
    """Folder of the `pybullet_data` package, found without importing pybullet itself."""
    spec = importlib.util.find_spec("pybullet_data")
    if spec is None or not spec.submodule_search_locations:
        raise AssetError("package pybullet_data not found: install the project (`make setup`).")
    return Path(list(spec.submodule_search_locations)[0])


def resolve_asset(path: str, relative_to: Path | None = None) -> Path:
    """`pybullet_data:x/y.urdf` -> a file inside pybullet_data; other paths relative to `relative_to`."""
    if path.startswith("pybullet_data:"):
        return pybullet_data_path() / path.split(":", 1)[1]
    p = Path(path)
    if not p.is_absolute() and relative_to is not None:
        p = relative_to / p
    return p


def setting_file(folder: str, name: str) -> Path:
    """`sfv/<folder>/<name>.yaml`, a character or terrain file (it may not exist: see `setting_names`)."""
    return PACKAGE_DIR / folder / f"{name}.yaml"


def setting_names(folder: str) -> list[str]:
    """The names of the files in `sfv/<folder>/`: the characters or terrains a params file may name."""
    return sorted(p.stem for p in (PACKAGE_DIR / folder).glob("*.yaml"))


def mocap_dir() -> Path:
    """pybullet_data's DeepMimic motion folder."""
    return pybullet_data_path() / "data" / "motions"


def available_mocap() -> list[str]:
    """Names of the humanoid mocap clips in pybullet_data (backflip, cartwheel, ..., walk)."""
    return sorted(p.stem.removeprefix(MOCAP_PREFIX) for p in mocap_dir().glob(f"{MOCAP_PREFIX}*.txt"))


def frozen(value: Any) -> Any:
    """A read-only deep copy of parsed YAML: mappings become MappingProxyType, lists tuples. Cached loaders
    hand these out, so no caller can change what the next caller reads."""
    if isinstance(value, dict):
        return MappingProxyType({k: frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(frozen(v) for v in value)
    return value
