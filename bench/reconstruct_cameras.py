"""Pose and reconstruction error of every rendered clip, with the camera that filmed it: the same
mocap filmed at other sizes, frame rates, fields of view and camera rolls, so no setting is tuned to one camera.

Reads the pipeline's metrics (run `dvc repro` first; the stage `cameras` shows the same table in its notebook)
and, for the "before" column, bench/results/cameras/before.json (the reconstruction before its 2D terms were
put in metres at the body). Columns: see sfv/reconstruct/cameras.py.

    python bench/reconstruct_cameras.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from sfv.config import load_params
    from sfv.reconstruct import cameras

    table = cameras.rows(load_params(ROOT / "params.yaml"), ROOT)
    print(cameras.markdown(table))
    s = cameras.summary(table)
    if table:
        print(
            f"\nmean over {s['clips']} clips (mm): pose PA-MPJPE {s['pose_pa_mpjpe_mm']}, 3D targets "
            f"{s['targets_mm']}, per-frame IK {s['ik_mm']}, reconstruction {s['reconstruction_mm']}"
            + (
                f" (on the {s['before_clips']} clips with a 'before': {s['reconstruction_mm_before_clips']} against "
                f"{s['before_mm']})"
                if "before_mm" in s
                else ""
            )
            + f"; reconstruction <= its 3D targets on {s['reconstruction_at_or_below_targets']} of {s['clips']} clips"
        )
        if "fov_error_deg_all" in s:
            print(
                f"field of view: estimated on {s['fov_estimated_clips']} clips, {s['fov_error_deg_estimated']} deg off "
                f"on average there (at most {s['fov_error_deg_max_estimated']}); over every clip (the assumed "
                f"value elsewhere) {s['fov_error_deg_all']} deg"
            )


if __name__ == "__main__":
    main()
