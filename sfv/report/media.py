"""Rollout videos as small GIFs: the report's HTML page and the README show motion where people would rather
look than read, without a video player (a GIF plays inline everywhere, mp4 does not in every viewer)."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from sfv.io import atomic_path
from sfv.video import VideoError, probe, read_frames


def gif_frames(frames: list[np.ndarray], width: int) -> list:
    """RGB frames scaled to `width` pixels (aspect kept), as PIL images with one shared palette (the first
    frame's), so the colours do not flicker from frame to frame."""
    from PIL import Image

    if not frames:
        raise ValueError("no frames to make a GIF of")
    h, w = frames[0].shape[:2]
    size = (int(width), max(int(round(h * width / w)), 1))
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)).resize(size, Image.BILINEAR) for f in frames]
    palette = images[0].quantize(colors=255, method=Image.MEDIANCUT)
    return [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]


def video_gif(video: str | Path, gif: str | Path, seconds: float, fps: float, width: int) -> Path:
    """The first `seconds` of `video` as a looping GIF at `fps` frames/s and `width` pixels (written atomically).

    Frames are taken at the GIF's rate from the video's (every k-th frame, k = round(video fps / fps))."""
    video = Path(video)
    info = probe(video)
    step = max(int(round(info.fps / fps)), 1)
    end = min(info.frames, max(int(round(seconds * info.fps)), 1))
    frames = [f for i, f in enumerate(read_frames(video, 0, end)) if i % step == 0]
    if not frames:
        raise VideoError(f"{video}: no frames in its first {seconds} s")
    images = gif_frames(frames, width)
    with atomic_path(gif) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(round(1000 * step / info.fps)), loop=0, optimize=False)
    return Path(gif)


def data_uri(path: str | Path) -> str:
    """An image file as a data: URI (base64), for a page that stands alone."""
    path = Path(path)
    kind = {".gif": "gif", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}[path.suffix.lower()]
    return f"data:image/{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def linked_img(path: str | Path, alt: str, base: str | Path) -> str:
    """An <img> tag that points at the image (relative to `base`, the folder of the notebook that shows it): the
    executed notebook keeps a link, not a second copy of every GIF; the exported page takes the image itself in
    (`sfv.report.export.notebook_html`)."""
    import os

    return f'<img src="{Path(os.path.relpath(Path(path), Path(base))).as_posix()}" alt="{alt}">'
