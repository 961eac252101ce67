"""Pose and reconstruction error of every rendered clip, with the camera that filmed it (issue 18): the same
mocap filmed at other sizes, frame rates, fields of view and camera rolls, so no setting is tuned to one camera.

Reads the pipeline's metrics (metrics/render, metrics/pose, metrics/reconstruct: run `dvc repro` first) and,
for the "before" column, bench/results/cameras/before.json (the reconstruction before its 2D terms were put in
metres at the body). Columns: the pose stage's PA-MPJPE (per frame, scale-aligned); then, all in one metric
(root-aligned, one rotation for the whole clip), the pose stage's 3D targets in the estimated world, per-frame
IK and the reconstruction, before and now; the estimated up's error.

    python bench/reconstruct_cameras.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rows(root: Path = ROOT) -> list[dict]:
    from sfv.config import load_params

    params = load_params(root / "params.yaml")
    before_file = root / "bench/results/cameras/before.json"
    before = json.loads(before_file.read_text())["clips"] if before_file.is_file() else {}
    out = []
    for clip in params.render.clips:
        files = {k: root / f"metrics/{k}/{clip}.json" for k in ("render", "pose", "reconstruct")}
        if not all(f.is_file() for f in files.values()):
            continue
        render, pose, rec = (json.loads(f.read_text()) for f in files.values())
        cam = params.render.for_clip(params.clips[clip])
        out.append({"clip": clip, "size": f"{cam.width}x{cam.height}", "fps": cam.fps, "fov": cam.camera.fov,
                    "roll": cam.camera.roll, "pose_pa_mpjpe_mm": pose["pa_mpjpe_mm"],
                    "targets_mm": rec["mpjpe_mm_targets"], "ik_mm": rec["mpjpe_mm_ik"],
                    "before_mm": before.get(clip, {}).get("mpjpe_mm"), "reconstruction_mm": rec["mpjpe_mm"],
                    "up_error_deg": rec["up_error_deg"]})
    return out


def main() -> None:
    table = rows()
    head = ("clip", "size", "fps", "fov", "roll", "pose PA-MPJPE", "3D targets", "per-frame IK", "recon. before",
            "recon. now", "up error")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in table:
        cells = [r["clip"], r["size"], f"{r['fps']:g}", f"{r['fov']:g}", f"{r['roll']:g}", r["pose_pa_mpjpe_mm"],
                 r["targets_mm"], r["ik_mm"], r["before_mm"] if r["before_mm"] is not None else "-",
                 r["reconstruction_mm"], r["up_error_deg"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    if table:
        mean = lambda k: sum(r[k] for r in table) / len(table)  # noqa: E731
        beaten = sum(r["reconstruction_mm"] <= r["targets_mm"] for r in table)
        print(f"\nmean over {len(table)} clips (mm): pose PA-MPJPE {mean('pose_pa_mpjpe_mm'):.1f}, 3D targets "
              f"{mean('targets_mm'):.1f}, per-frame IK {mean('ik_mm'):.1f}, reconstruction {mean('reconstruction_mm'):.1f}"
              + (f" (before {sum(r['before_mm'] for r in table) / len(table):.1f})" if all(r["before_mm"] is not None
                                                                                         for r in table) else "")
              + f"; reconstruction <= its 3D targets on {beaten} of {len(table)} clips")


if __name__ == "__main__":
    main()
