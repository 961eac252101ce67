"""The camera's roll read from the scene (`sfv.reconstruct.scene_roll`), measured on every clip against the true
roll. The reconstruction takes the camera as level (`reconstruct.level_camera`) unless a clip's entry says
`roll_from: scene`; both real clips from pose2sim were filmed by rolled cameras (their calibration: 13.4 and
-26.1 deg), and there the level camera's up is 13.7 and 24.2 deg off.

    python bench/scene_roll.py     # needs the pose stage's outputs; the real clips' truth needs the pose2sim wheel

Prints per clip the true roll (calibration or the render's camera), the candidates (roll, support in image heights
of segments per frame looked at), the one chosen, and the level camera's up error. Measured: the real clips' roll is
found within 0.4 deg (13.2 and -25.7), but on the rendered clips, which have no walls, spurious candidates of the
same support appear (up to 0.45 image heights per frame against 0.49 for the true one on pose2sim_demo), so no
threshold tells them apart: the roll is read only where a clip's entry asks for it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sfv.reconstruct.scene_roll import pick_roll, roll_of, scene_candidates  # noqa: E402


def main() -> None:
    from sfv import paths
    from sfv.camera import intrinsics
    from sfv.config import load_params
    from sfv.keypoints import MID_HIP, MID_SHOULDER, body_map
    from sfv.pose.poses_file import load_poses
    from sfv.reconstruct.stage import prepare
    from sfv.skeleton import load_character
    from sfv.video import probe, read_frames

    sys.path.insert(0, str(ROOT / "bench"))
    import pose2sim_reference as reference

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sfv-pose2sim")
    a = ap.parse_args()
    params, skeleton = load_params(ROOT / "params.yaml"), load_character("humanoid")
    bodies = body_map(skeleton)
    truths = {}
    for clip, (folder, cam, _) in reference.CLIPS.items():
        cams = reference.qualisys_cameras(reference.fetch_demo(a.cache, folder) / "calibration" / "Calib.qca.txt")
        truths[clip] = cams[cam][1] @ np.array([0.0, 0.0, 1.0])  # the world's up (z) in the clip camera's frame
    print(
        "| clip | true roll | candidates (roll deg, support) | chosen | level camera's up error deg |\n"
        "|---|---|---|---|---|"
    )
    for clip in [*reference.CLIPS, *params.render.clips]:
        entry = params.clips[clip]
        video = ROOT / paths.clip_video(clip, entry.source)
        poses = load_poses(ROOT / f"data/poses/{clip}.npz", clip)
        info, meta = probe(video), poses["meta"]
        found = scene_candidates(
            read_frames(video, meta["first"], meta["end"]),
            intrinsics(info.width, info.height, 45.0),
            info.fps,
            poses["keypoints_2d"],
            poses["detected"],
        )
        level = prepare(poses, skeleton, params.reconstruct)
        up = level.camera.camera.R[:, 1]
        if clip in truths:
            true_up = truths[clip]
        else:
            true_up = np.load(ROOT / paths.ground_truth(clip))["camera_R"] @ np.array([0.0, 0.0, 1.0])
            true_up = true_up if true_up.ndim == 1 else true_up[0]
        torso = level.camera.camera_joints
        det = poses["detected"].astype(bool)
        lean = np.median(torso[det, bodies.role(MID_SHOULDER)] - torso[det, bodies.role(MID_HIP)], axis=0)
        chosen = pick_roll(found, roll_of(lean))
        error = np.degrees(np.arccos(np.clip(up @ true_up, -1.0, 1.0)))
        print(
            f"| {clip} | {roll_of(true_up):.1f} | "
            f"{', '.join(f'{c.roll_deg:.1f} ({c.support:.2f})' for c in found) or '-'} "
            f"| {'-' if chosen is None else f'{chosen.roll_deg:.1f}'} | {error:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
