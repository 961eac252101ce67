"""Where the reconstruction's error comes from, on every rendered clip.

For each clip rendered from mocap, from the pipeline's outputs (run `dvc repro reconstruct` first): the stage's
MPJPE (one rotation per clip); the same with one rotation per frame (the articulated pose alone); the
root-relative error in the camera's axes, image plane against depth, for BlazePose's 3D targets and for the
reconstruction; the bones whose depth sign is the truth's opposite (the monocular flip); the MPJPE with only
those signs mended from the truth (an oracle); and the floor the ground truth itself sets: the rendered body's
(anny's) own joints against the humanoid mocap joints the error is measured on. See
`sfv/reconstruct/error_sources.py`.

    python bench/reconstruct_error_sources.py [--clips walk jump]

Writes bench/results/reconstruct_error_sources.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sfv import paths  # noqa: E402
from sfv.config import load_params  # noqa: E402
from sfv.io import write_json  # noqa: E402
from sfv.motion import load_npz  # noqa: E402
from sfv.pose.poses_file import load_poses  # noqa: E402
from sfv.reconstruct import error_sources as es  # noqa: E402
from sfv.reconstruct.camera_motion import person_boxes, track_background  # noqa: E402
from sfv.reconstruct.evaluate import mpjpe  # noqa: E402
from sfv.reconstruct.stage import prepare  # noqa: E402
from sfv.render.ground_truth import load_gt  # noqa: E402
from sfv.skeleton import load_character  # noqa: E402
from sfv.video import read_frames  # noqa: E402

LIMBS = [
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
]


def definition_floor(gt: dict, frames: slice) -> float:
    """MPJPE (mm) over the clip's `frames` of the rendered body's own joints (root: mid-hips) against the humanoid's:
    what a reconstruction of exactly the body in the video would still score, since the two bodies' joints sit
    apart."""
    rendered, source = list(gt["body_joint_names"]), list(gt["source_joint_names"])
    body = gt["body_joints"][frames][:, [rendered.index(n) for n in LIMBS]]
    humanoid = gt["source_joints_render"][frames][:, [source.index(n) for n in LIMBS]]
    hips = [LIMBS.index("right_hip"), LIMBS.index("left_hip")]
    return mpjpe(
        np.concatenate([body[:, hips].mean(1, keepdims=True), body], 1),
        np.concatenate([humanoid[:, hips].mean(1, keepdims=True), humanoid], 1),
    )


def clip_sources(clip: str, params, skeleton) -> dict:
    cfg, entry = params.reconstruct, params.clips[clip]
    poses = load_poses(paths.poses_file(clip, ROOT), clip)
    first, T = poses["meta"]["first"], len(poses["detected"])
    background = None
    if cfg.camera_motion:  # as the stage does: a turning camera is read off the background
        frames = read_frames(paths.clip_video(clip, entry.source, ROOT), first, poses["meta"]["end"])
        background = track_background(frames, person_boxes(poses["keypoints_2d"], poses["detected"]))
    targets = prepare(poses, skeleton, cfg, background=background)
    motion = load_npz(ROOT / "data" / "motions" / f"{clip}.npz", skeleton)
    recon = motion.body_positions()[0][:, targets.bodies]
    gt = load_gt(paths.ground_truth(clip, ROOT))
    names = list(gt["source_joint_names"])
    truth = gt["source_joints"][first : first + T][:, [names.index(skeleton.body_names[b]) for b in targets.bodies]]
    # camera coordinates (rotation only: root-relative errors need no translation)
    true_R = gt["camera_frames_R"][first : first + T] if "camera_frames_R" in gt else np.tile(gt["camera_R"], (T, 1, 1))
    to_camera = true_R @ gt["source_to_render_rotation"]
    truth_cam = np.einsum("tij,tnj->tni", to_camera, truth)
    est_R = targets.camera.frames.R
    recon_cam = np.einsum("tij,tnj->tni", est_R, recon)
    targets_cam = np.einsum("tij,tnj->tni", est_R, targets.world)
    parents = es.chain_parents(skeleton, targets.bodies)
    detected = poses["detected"].astype(bool)
    out = {"frames": T, "definition_floor_mm": round(definition_floor(gt, slice(first, first + T)), 1)}
    for name, x, x_cam in (("targets", targets.world, targets_cam), ("reconstruction", recon, recon_cam)):
        flipped, counted = es.depth_flips(x_cam[detected], truth_cam[detected], parents)
        mended = es.with_true_depth_signs(x_cam, truth_cam, parents)
        out[name] = {
            "mpjpe_mm": round(mpjpe(x, truth), 1),
            "frame_aligned_mm": round(es.frame_aligned_mpjpe(x, truth), 1),
            "camera_axes_rms_mm": [round(float(v), 1) for v in es.camera_axes_error(x_cam, truth_cam)],
            "flipped_bones": int(flipped.sum()),
            "signed_bones": int(counted.sum()),
            "with_true_depth_signs_mm": round(mpjpe(mended, truth_cam), 1),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clips", nargs="*", help="rendered clips (default: every one in params.yaml reconstruct.clips)"
    )
    a = parser.parse_args()
    params = load_params(ROOT / "params.yaml")
    skeleton = load_character("humanoid")
    clips = a.clips or [c for c in params.reconstruct.clips if params.clips[c].is_mocap]
    table = {}
    print(
        "clip | MPJPE | per-frame aligned | camera x / y / depth RMS (targets -> reconstruction) | depth-flipped bones "
        "| with the true depth signs | floor (mm)"
    )
    for clip in clips:
        r = table[clip] = clip_sources(clip, params, skeleton)
        t, m = r["targets"], r["reconstruction"]
        axes = " / ".join(f"{u:.0f}->{v:.0f}" for u, v in zip(t["camera_axes_rms_mm"], m["camera_axes_rms_mm"]))
        print(
            f"{clip} | {m['mpjpe_mm']} | {m['frame_aligned_mm']} | {axes} | "
            f"{t['flipped_bones']}/{t['signed_bones']} -> {m['flipped_bones']}/{m['signed_bones']} | "
            f"{m['with_true_depth_signs_mm']} | {r['definition_floor_mm']}",
            flush=True,
        )

    def mean(key, part="reconstruction"):
        return round(float(np.mean([r[part][key] if part else r[key] for r in table.values()])), 1)

    flips = {
        p: sum(r[p]["flipped_bones"] for r in table.values())
        / max(sum(r[p]["signed_bones"] for r in table.values()), 1)
        for p in ("targets", "reconstruction")
    }
    summary = {
        "clips": len(table),
        "mpjpe_mm": mean("mpjpe_mm"),
        "frame_aligned_mm": mean("frame_aligned_mm"),
        "with_true_depth_signs_mm": mean("with_true_depth_signs_mm"),
        "definition_floor_mm": mean("definition_floor_mm", None),
        "camera_axes_rms_mm": {
            p: np.mean([r[p]["camera_axes_rms_mm"] for r in table.values()], 0).round(1).tolist()
            for p in ("targets", "reconstruction")
        },
        "flipped_fraction": {p: round(v, 3) for p, v in flips.items()},
    }
    print(
        f"\nmean over {summary['clips']} clips: MPJPE {summary['mpjpe_mm']} mm; per-frame aligned "
        f"{summary['frame_aligned_mm']}; with the true depth signs {summary['with_true_depth_signs_mm']}; "
        f"floor {summary['definition_floor_mm']}"
    )
    print(
        f"camera axes x, y, depth RMS (mm): targets {summary['camera_axes_rms_mm']['targets']}, reconstruction "
        f"{summary['camera_axes_rms_mm']['reconstruction']}; depth-flipped bones: targets "
        f"{flips['targets']:.0%}, reconstruction {flips['reconstruction']:.0%}"
    )
    out = ROOT / "bench" / "results" / "reconstruct_error_sources.json"
    write_json(out, {"summary": summary, "clips": table}, indent=1)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
