"""Reading a ground-truth clip's npz (written by `sfv.render.gt_clip`), without the body model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sfv.camera import Camera

GT_FORMAT = "sfv-gt-clip/1"


def load_gt(path: str | Path) -> dict:
    """A ground-truth npz as a dict of arrays (the camera rebuilt as a `Camera` under "camera")."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no ground truth here; run `dvc repro render` to make it")
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    if str(data.get("format")) != GT_FORMAT:
        raise ValueError(f"{path}: format {data.get('format')!s}, expected {GT_FORMAT}; re-run `dvc repro render`")
    data["camera"] = Camera.from_arrays(data)
    data["silhouette"] = np.unpackbits(data.pop("silhouette_packed"), axis=2)[..., : data["camera"].width].astype(bool)
    return data
