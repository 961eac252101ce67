"""The transfer experiment's pieces: a clip's video reference on another character, its row in the stage's table,
and the video that shows both characters beside the source."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sfv import paths
from sfv.imitate.evaluate import VIDEO_QUALITY
from sfv.motion import Motion, load_motion
from sfv.retarget import RetargetSettings, retarget
from sfv.skeleton import load_character
from sfv.video import mp4_writer, probe, read_frames


class TransferError(RuntimeError):
    """A clip cannot be transferred (its humanoid policy from video, whose reference is retargeted, is missing)."""


def video_reference(clip: str, root: Path = Path(".")) -> Path:
    """The reference the clip's humanoid policy tracks (the reconstruction trimmed, grounded, looped by `imitate`):
    what is retargeted, so both characters imitate the same motion."""
    path = paths.policy_dir(clip, "video", root) / "reference.npz"
    if not path.is_file():
        raise TransferError(
            f"{path}: missing; morphology transfer retargets the reference of clip {clip!r}'s policy "
            f"from video: `dvc repro imitate@{clip}` first"
        )
    return path


def transfer_reference(
    clip: str, character: str, settings: RetargetSettings, root: Path = Path(".")
) -> tuple[Motion, dict]:
    """The clip's video reference on `character`, and the fit's figures (`sfv.retarget.retarget`)."""
    return retarget(load_motion(video_reference(clip, root)), load_character(character), settings)


def humanoid_figures(clip: str, root: Path = Path(".")) -> dict:
    """The humanoid policy's own figures (metrics/imitate/<clip>.json), for the table's comparison."""
    path = paths.clip_metrics_file("imitate", clip, root)
    m = json.loads(path.read_text()) if path.is_file() else {}
    return {
        "tracking_cm": 100 * m["tracking_error_m"] if "tracking_error_m" in m else None,
        "survived_s": m.get("survived_seconds"),
        "evaluated_s": m.get("evaluation_seconds"),
    }


def transfer_row(clip: str, character: str, fit: dict, evaluation: dict, summary: dict, humanoid: dict) -> dict:
    """A row of the stage's table: the retargeting's figures, then the character's policy beside the humanoid's."""
    return {
        "clip": clip,
        "character": character,
        "keypoint_error_cm": fit["keypoint_error_cm"],
        "limb_error_cm": fit["limb_error_cm"],
        "penetration_cm": fit["penetration_cm"],
        "foot_skate_cm": fit["foot_skate_cm"],
        "tracking_cm": 100 * evaluation["tracking_error_mean"],
        "survived_s": evaluation["survived_seconds"],
        "evaluated_s": evaluation["seconds"],
        "samples_m": summary["timesteps"] / 1e6,
        "minutes": summary["wall_seconds"] / 60,
        "humanoid_tracking_cm": humanoid["tracking_cm"],
        "humanoid_survived_s": humanoid["survived_s"],
    }


def side_by_side(videos: list[Path], out: Path, height: int) -> Path:
    """The videos next to each other at one height, as long as the longest (a shorter one holds its last frame)."""
    from PIL import Image

    fps = probe(videos[0]).fps
    clips = [list(read_frames(v)) for v in videos]
    n = max(len(c) for c in clips)

    def scaled(frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        width = int(round(w * height / h / 2)) * 2
        return np.asarray(Image.fromarray(frame).resize((width, height), Image.BILINEAR))

    with mp4_writer(out, fps, quality=VIDEO_QUALITY) as append:
        for i in range(n):
            append(np.concatenate([scaled(c[min(i, len(c) - 1)]) for c in clips], axis=1))
    return Path(out)
