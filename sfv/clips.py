"""The registry of input clips: for each entry of params.yaml `clips`, the video a stage reads and its facts.

A clip is a real video in its folder data/clips/<clip>/, or a rendering of mocap made into that folder
by the render stage. `describe_clip` checks that the video is there and readable and that the entry's frame range
and frame rate fit it, with errors that name the clip, the file and the fix.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sfv import paths
from sfv.video import VideoError, check_range, probe


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def describe_clip(name: str, clip, root: Path = Path(".")) -> dict:
    """Facts of a registered clip (`clip` a config.ClipParams), checked against its video."""
    video = paths.clip_video(name, clip.source, root)
    where = f"clips.{name}"
    if clip.is_mocap and not video.is_file():
        raise VideoError(
            f"{where}: {video} is missing; it is rendered from {clip.source} by the render stage: "
            f"add {name!r} to render.clips in params.yaml and run `dvc repro`"
        )
    try:
        info = probe(video)
    except VideoError as e:
        raise VideoError(f"{where}: {e}") from None
    first, end = check_range(info, clip.frames[0], clip.frames[1], where)
    if abs(info.fps - clip.fps) > 0.01:
        raise VideoError(
            f"{where}: fps is {clip.fps:g} but {video} runs at {info.fps:g} fps; set `fps: {info.fps:g}` "
            "in its entry (the stages work at the video's own rate)"
        )
    facts = {
        "kind": "rendered" if clip.is_mocap else "video",
        "source": clip.source,
        "video": str(video.relative_to(root) if video.is_relative_to(root) else video),
        "frames": end - first,
        "first": first,
        "end": end,
        "video_frames": info.frames,
        "fps": info.fps,
        "seconds": round((end - first) / info.fps, 3),
        "width": info.width,
        "height": info.height,
        "codec": info.codec,
        "sha256": file_sha256(video),
    }
    if clip.is_mocap:
        facts["ground_truth"] = str(paths.ground_truth(name))
    return facts
