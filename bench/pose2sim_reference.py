"""The real clips scored in 3D: pose2sim's demos were filmed by four calibrated cameras, and the kit's clips
`pose2sim_demo` (the single-person demo's first camera) and `pose2sim_multiperson` (the multi-person demo's fourth)
are one of them each. BlazePose's 2D keypoints in all four views, triangulated, give a 3D reference of the same
motion; this prints how far BlazePose's own 3D (the clip's camera) and the reconstruction
(`data/motions/<clip>.npz`, run `dvc repro reconstruct@<clip>` first) are from it, and the same reconstruction
with one of its settings changed (on the first clip the 2D term made the 3D worse).

    python bench/pose2sim_reference.py                              # needs network once: pip downloads the
    python bench/pose2sim_reference.py --clip pose2sim_multiperson  # pose2sim 0.10.49 wheel

In the multi-person demo a woman stands close to the man and the other views' trackers may follow her: there every
triangulated joint must include the clip's own view (whose actor, the man, was checked by eye), so the reference
is the man seen from a second camera at least, never the woman seen from two.

Metric: per-frame PA-MPJPE (rotation, scale and translation aligned) over the 12 limb joints (shoulders to
ankles), median and mean over the 100 frames: BlazePose landmarks against triangulated landmarks, the
humanoid's joint centres against the same. The reference: each joint is triangulated (DLT, confidence-
weighted, lens distortion undone) from the largest set of cameras (at least 2 of 4) whose 2D keypoints it
reprojects onto within `MAX_PX` pixels, so a view that took a landmark on the wrong side or the other person
drops out. The calibration is Qualisys' (`Calib.qca.txt`): positions in mm, pixels in 1/64, camera axes flipped
about x; the conventions were chosen by the triangulation's reprojection error (15 px median against 289 for
the next). Results: bench/results/pose2sim_reference.json (pose2sim_demo) and
bench/results/pose2sim_reference_<clip>.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WHEEL = "pose2sim==0.10.49"
CLIPS = {  # clip -> (demo folder in the wheel, the clip's camera, whether every joint must be seen by that camera)
    "pose2sim_demo": ("Pose2Sim/Demo_SinglePerson", "cam01", False),
    "pose2sim_multiperson": ("Pose2Sim/Demo_MultiPerson", "cam04", True),
}
CAMERAS = ("cam01", "cam02", "cam03", "cam04")
MAX_PX = 25.0  # a view agrees with a triangulated joint when it reprojects within this many pixels
MIN_CONFIDENCE = 0.3
RESULTS = ROOT / "bench" / "results"


def fetch_demo(cache: Path, folder: str) -> Path:
    """The unpacked demo `folder` (videos, calibration), downloaded once into `cache`."""
    demo = cache / "unpacked" / folder
    if not demo.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", WHEEL, "-d", str(cache)], check=True
        )
        wheel = next(cache.glob("pose2sim-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            z.extractall(cache / "unpacked", [n for n in z.namelist() if n.startswith(folder)])
    return demo


def qualisys_cameras(calibration: Path, height: int = 1920) -> dict[str, tuple]:
    """serial -> (K, R, t, distortion) in OpenCV's conventions (world -> camera: R x + t, metres)."""
    cams = {}
    for cam in ET.parse(calibration).getroot().findall("cameras/camera"):
        i = {k: float(v) for k, v in cam.find("intrinsic").attrib.items()}
        t = {k: float(v) for k, v in cam.find("transform").attrib.items()}
        K = np.array(
            [
                [i["focalLengthU"] / 64, 0.0, i["centerPointU"] / 64],
                [0.0, i["focalLengthV"] / 64, height - i["centerPointV"] / 64],
                [0.0, 0.0, 1.0],
            ]
        )
        R = np.diag([1.0, -1.0, -1.0]) @ np.array([[t[f"r{a}{b}"] for b in (1, 2, 3)] for a in (1, 2, 3)])
        centre = np.array([t["x"], t["y"], t["z"]]) / 1000.0
        dist = np.array(
            [
                i["radialDistortion1"],
                i["radialDistortion2"],
                i["tangentalDistortion1"],
                i["tangentalDistortion2"],
                i["radialDistortion3"],
            ]
        )
        cams[cam.attrib["serial"]] = (K, R, -R @ centre, dist)
    return cams


def triangulate(
    views: dict[str, tuple], cams: dict[str, tuple], required: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Joints (T, 33, 3) from views {view: (keypoints_2d (T, 33, 2), confidence (T, 33), detected (T,))} and
    how many views agreed on each (0: none, NaN joint); every set of views includes `required` when given. A
    view is named by its camera, optionally followed by "/" and what it is (two people seen by one camera): a
    set of views never holds one camera twice."""
    import cv2

    camera = {v: v.split("/")[0] for v in views}
    T = min(len(v[0]) for v in views.values())
    J = next(iter(views.values()))[0].shape[1]
    norm = {
        c: cv2.undistortPoints(
            v[0][:T].reshape(-1, 1, 2).astype(np.float64), cams[camera[c]][0], cams[camera[c]][3]
        ).reshape(T, J, 2)
        for c, v in views.items()
    }
    cams = {c: cams[camera[c]] for c in views}
    proj = {c: np.c_[cams[c][1], cams[c][2]] for c in views}
    rvec = {c: cv2.Rodrigues(cams[c][1])[0] for c in views}
    subsets = [
        s
        for k in range(len(views), 1, -1)
        for s in itertools.combinations(views, k)
        if (required is None or required in s) and len({camera[c] for c in s}) == len(s)
    ]
    X, agreed = np.full((T, J, 3), np.nan), np.zeros((T, J), dtype=int)
    for f, j in itertools.product(range(T), range(J)):
        best = None
        for s in subsets:
            if best is not None and len(s) < best[0]:
                break
            if any(not views[c][2][f] or views[c][1][f, j] < MIN_CONFIDENCE for c in s):
                continue
            rows = []
            for c in s:
                (x, y), w, P = norm[c][f, j], views[c][1][f, j], proj[c]
                rows += [w * (x * P[2] - P[0]), w * (y * P[2] - P[1])]
            h = np.linalg.svd(np.array(rows))[2][-1]
            p = h[:3] / h[3]
            if any((cams[c][1] @ p + cams[c][2])[2] <= 0 for c in s):
                continue
            err = max(
                np.linalg.norm(
                    cv2.projectPoints(p[None], rvec[c], cams[c][2], cams[c][0], cams[c][3])[0].reshape(2)
                    - views[c][0][f, j]
                )
                for c in s
            )
            if err < MAX_PX and (best is None or err < best[1]):
                best = (len(s), err, p)
        if best is not None:
            X[f, j], agreed[f, j] = best[2], best[0]
    return X, agreed


def second_person(video: Path, first, settings):
    """The tracker's result on `video` with the person of `first` (a ClipPoses) painted out of every frame."""
    from sfv.pose.estimator import FramePose
    from sfv.pose.tracking import estimate_clip, paint_out
    from sfv.video import probe, read_frames

    def painted():
        for rgb, kp, det in zip(read_frames(video, 0, None), first.keypoints_2d, first.detected):
            out = paint_out(rgb, [FramePose(kp, np.zeros((len(kp), 3)), np.ones(len(kp)))], []) if det else None
            yield rgb if out is None else out

    return estimate_clip(painted(), settings, fps=probe(video).fps)


def pa_mpjpe_per_frame(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """(T,) mm: each frame aligned by rotation, scale and translation (frames with a missing joint: NaN)."""
    from sfv.alignment import similarity_aligned

    return np.array(
        [
            np.linalg.norm(similarity_aligned(p, g) - g, axis=-1).mean() * 1000 if np.isfinite(g).all() else np.nan
            for p, g in zip(pred, ref)
        ]
    )


def limb_joints(motion) -> np.ndarray:
    """The humanoid's shoulders to ankles (T, 12, 3), in COCO's limb order."""
    from sfv.keypoints import COCO17, LIMB_JOINTS

    pos = motion.body_positions()[0]
    return pos[:, [motion.skeleton.index(COCO17[i]) for i in LIMB_JOINTS]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", choices=sorted(CLIPS), default="pose2sim_demo")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sfv-pose2sim")
    args = parser.parse_args()
    clip, (folder, own, must_see) = args.clip, CLIPS[args.clip]

    import torch  # noqa: F401  (the fit below)

    from sfv.config import load_params
    from sfv.keypoints import BLAZEPOSE_TO_COCO, LIMB_JOINTS
    from sfv.motion import load_motion
    from sfv.pose.poses_file import load_poses
    from sfv.pose.stage import estimate_video
    from sfv.reconstruct import evaluate
    from sfv.reconstruct.fit import torch_threads
    from sfv.reconstruct.stage import initial_motion, prepare
    from sfv.skeleton import load_character

    params = load_params(ROOT / "params.yaml")
    demo = fetch_demo(args.cache, folder)
    poses = load_poses(ROOT / f"data/poses/{clip}.npz", clip)
    views = {own: (poses["keypoints_2d"], poses["confidence"], poses["detected"].astype(bool))}
    for cam in CAMERAS:
        if cam != own:
            found, _ = estimate_video(
                clip, demo / "videos" / f"{cam}.mp4", (0, None), params.pose, progress=sys.stderr.isatty()
            )
            views[cam] = (found.keypoints_2d, found.confidence, found.detected)
            if must_see:  # the other person too: the same video with the person followed first painted out
                second = second_person(demo / "videos" / f"{cam}.mp4", found, params.pose)
                views[f"{cam}/second"] = (second.keypoints_2d, second.confidence, second.detected)
    cams = qualisys_cameras(demo / "calibration" / "Calib.qca.txt")
    lens = float(np.degrees(2 * np.arctan(1920 / 2 / cams[own][0][1, 1])))  # the clip camera's vertical field of view
    reference, agreed = triangulate(views, cams, required=own if must_see else None)
    limbs = BLAZEPOSE_TO_COCO[LIMB_JOINTS]
    ref = reference[:, limbs]
    rows = {
        f"BlazePose 3D ({own})": pa_mpjpe_per_frame(poses["keypoints_3d"][:, limbs], ref),
        "reconstruction (pipeline)": pa_mpjpe_per_frame(
            limb_joints(load_motion(ROOT / f"data/motions/{clip}.npz")), ref
        ),
    }
    cfg, skeleton = params.reconstruct, load_character("humanoid")
    variants = {
        "reprojection weight 0": cfg.model_copy(
            update={"weights": cfg.weights.model_copy(update={"reprojection": 0.0})}
        ),
        "not turned onto the ray": cfg.model_copy(update={"ray_aligned": False}),
        f"the calibrated lens ({lens:.1f} deg)": cfg.model_copy(update={"vertical_fov": lens, "estimate_fov": False}),
    }
    for name, settings in variants.items():
        targets = prepare(poses, skeleton, settings)
        with torch_threads(settings.torch_threads):
            motion, _, _, ik_motion = evaluate.fit_clip(
                initial_motion(targets.start, skeleton, 60.0), targets, settings, seed=params.base.seed
            )
        rows[f"reconstruction, {name}"] = pa_mpjpe_per_frame(limb_joints(motion), ref)
        if name == "reprojection weight 0":  # the baseline of that fit: every frame's 3D targets alone
            ik = pa_mpjpe_per_frame(limb_joints(ik_motion), ref)
    rows["per-frame IK (no reprojection term)"] = ik
    print(
        f"reference: {np.isfinite(ref[..., 0]).mean():.0%} of the limb joints triangulated; views agreeing per joint: "
        f"{', '.join(f'{k}: {int((agreed[:, limbs] == k).sum())}' for k in (2, 3, 4))}"
    )
    print(f"| 3D of {clip} against the 4-camera reference | median PA-MPJPE mm | mean |\n|---|---|---|")
    for name, v in rows.items():
        print(f"| {name} | {np.nanmedian(v):.1f} | {np.nanmean(v):.1f} |")
    out = RESULTS / ("pose2sim_reference.json" if clip == "pose2sim_demo" else f"pose2sim_reference_{clip}.json")
    out.write_text(
        json.dumps(
            {
                "metric": "per-frame PA-MPJPE, 12 limb joints, mm",
                "rows": {
                    k: {"median": round(float(np.nanmedian(v)), 1), "mean": round(float(np.nanmean(v)), 1)}
                    for k, v in rows.items()
                },
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
