"""Reading the pose stage's output, `data/poses/<clip>.npz` (written by `sfv.pose.stage.save_poses`).

Apart from the stage itself, so that what reads poses (the reconstruction) depends on this format alone,
not on the estimator and its tracking.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

POSES_FORMAT = "sfv-poses/1"


def load_poses(path: str | Path, clip: str | None = None) -> dict:
    """A poses file as a dict (its metadata under "meta"); checks the format and, given `clip`, that it
    belongs to that clip."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no poses here; run `dvc repro pose` to make them")
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    meta = json.loads(str(data.pop("meta"))) if "meta" in data else {}
    if meta.get("format") != POSES_FORMAT:
        raise ValueError(
            f"{path}: format {meta.get('format')!r}, expected {POSES_FORMAT!r} (an older or foreign "
            "file); re-run `dvc repro pose`"
        )
    if clip is not None and meta.get("clip") != clip:
        raise ValueError(f"{path}: holds the poses of clip {meta.get('clip')!r}, not {clip!r}")
    data["meta"] = meta
    return data
