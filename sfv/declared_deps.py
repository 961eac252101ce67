"""A stage that reads some clips' files, chosen by its settings, checks that dvc.yaml declares them as its deps.

DVC cannot take a stage's deps from a list in params.yaml, so the experiments that read a few clips' policies
(morphology transfer, irregular terrain) name those clips' folders one by one in dvc.yaml. Depending on the whole
`data/policies/video` instead would re-run them whenever any clip's policy changed. A user who adds a clip to
their settings and not to dvc.yaml would otherwise get a stage DVC never re-runs when that clip's policy changes.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def undeclared(stage: str, read: list[Path], dvc_file: Path = Path("dvc.yaml")) -> list[str]:
    """The paths of `read` that no dep of `stage` in `dvc_file` covers (a dep covers itself and what is under it)."""
    deps = [Path(d) for d in yaml.safe_load(dvc_file.read_text())["stages"][stage].get("deps", [])]
    return [str(p) for p in read if not any(p == d or d in p.parents for d in deps)]


def require_declared(stage: str, read: list[Path], setting: str, dvc_file: Path = Path("dvc.yaml")) -> None:
    """Raise, naming the paths and where to add them, when `stage` reads files dvc.yaml does not make it depend on.
    Outside a DVC project (no `dvc_file`: a notebook run by hand elsewhere) there is nothing to check."""
    if not dvc_file.is_file():
        return
    missing = undeclared(stage, read, dvc_file)
    if missing:
        raise ValueError(
            f"{dvc_file}: stage {stage!r} reads {', '.join(missing)} (from {setting} in params.yaml), but they are "
            f"not among its deps: add each to stages.{stage}.deps in {dvc_file}, or `dvc repro` will not re-run "
            "this stage when they change"
        )
