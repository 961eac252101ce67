"""The camera's pitch read from the scene's horizontal edges (`sfv.reconstruct.scene_pitch`), measured on every
rendered clip against the render's camera, beside the pitch the reconstruction takes by default (the torso's,
re-pitched so that the feet at rest share one height).

    python bench/scene_pitch.py     # needs the pose stage's outputs

Prints per clip the true pitch, the default camera's pitch and up error, and with `pitch_from: scene` the pitch and
up error, or why the scene could not tell it (no two perpendicular families of edges: with a lens estimated wrong,
the floor's two families are skewed from perpendicular). The rendered floor is tiled, so every rendered clip has
such edges; the reconstruction reads them only where a clip's entry asks (`pitch_from: scene`): where the feet
tell the pitch well, the edges' lens-dependence makes them no better.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sfv.reconstruct.scene_pitch import level_pitch  # noqa: E402


def main() -> None:
    from sfv import paths
    from sfv.config import load_params
    from sfv.pose.poses_file import load_poses
    from sfv.reconstruct.stage import ReconstructionInputError, prepare
    from sfv.render.ground_truth import load_gt
    from sfv.skeleton import load_character
    from sfv.video import read_frames

    params, skeleton = load_params(ROOT / "params.yaml"), load_character("humanoid")
    print(
        "| clip | true pitch | field of view (true, used) | default: pitch, up error | scene: pitch, up error |\n"
        "|---|---|---|---|---|"
    )
    for clip in params.render.clips:
        entry = params.clips[clip]
        poses = load_poses(ROOT / paths.poses_file(clip), clip)
        meta = poses["meta"]
        truth = load_gt(ROOT / paths.ground_truth(clip))
        true_up = truth["camera_R"] @ np.array([0.0, 0.0, 1.0])  # a turning camera's: its first frame's
        true_fov = float(np.degrees(2 * np.arctan(truth["camera"].height / 2 / truth["camera"].K[1, 1])))
        cfg = params.reconstruct.for_clip(clip)

        def frames():
            return read_frames(ROOT / paths.clip_video(clip, entry.source), meta["first"], meta["end"])

        cells = []
        for pitch_from in (None, "scene"):
            try:
                cam = prepare(poses, skeleton, cfg, scene_frames=frames, pitch_from=pitch_from).camera
            except ReconstructionInputError as e:
                cells.append(str(e).split(";")[0].split(", but ")[-1])
                continue
            up = cam.camera.R[:, 1]
            error = np.degrees(np.arccos(np.clip(up @ true_up, -1.0, 1.0)))
            cells.append(f"{level_pitch(up):.1f}, {error:.1f}")
            used_fov = cam.vertical_fov
        print(
            f"| {clip} | {level_pitch(true_up):.1f} | {true_fov:.1f}, {used_fov:.1f} | {' | '.join(cells)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
