"""Rollout clips for the report: the first seconds of each policy's evaluation video, small, looping and silent, so
the results page shows motion where people would rather look than read.

They are short H.264 mp4s played by a `<video autoplay loop muted>` tag, which every browser and Jupyter plays
inline: a GIF of the same frames is six to eight times larger (measured: 18-25 kB a frame at 360 pixels against
about 3 kB), and the page carries each clip once, in the store too.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from sfv.video import VideoError, mp4_writer, probe, read_frames

#: H.264 quality (imageio's 0-10) of the clips: the same as the evaluation videos they are cut from
CLIP_QUALITY = 5
#: data: URI media types of what a page may carry
MEDIA_TYPES = {
    ".gif": "image/gif",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".mp4": "video/mp4",
}


def video_clip(video: str | Path, clip: str | Path, seconds: float, fps: float, width: int) -> Path:
    """The first `seconds` of `video` at about `fps` frames/s (every k-th frame, k = round(video fps / fps)) and
    `width` pixels wide at most (aspect kept, never enlarged, even sizes for H.264), as an mp4 written atomically."""
    import numpy as np
    from PIL import Image

    video = Path(video)
    info = probe(video)
    step = max(int(round(info.fps / fps)), 1)
    end = min(info.frames, max(int(round(seconds * info.fps)), 1))
    frames = [f for i, f in enumerate(read_frames(video, 0, end)) if i % step == 0]
    if not frames:
        raise VideoError(f"{video}: no frames in its first {seconds} s")
    h, w = frames[0].shape[:2]
    width = min(width, w)
    size = (2 * max(int(round(width / 2)), 1), 2 * max(int(round(h * width / w / 2)), 1))
    with mp4_writer(clip, info.fps / step, quality=CLIP_QUALITY) as append:
        for frame in frames:
            append(np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR)))
    return Path(clip)


def data_uri(path: str | Path) -> str:
    """An image or video file as a data: URI (base64), for a page that stands alone."""
    path = Path(path)
    return f"data:{MEDIA_TYPES[path.suffix.lower()]};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _relative(path: str | Path, base: str | Path) -> str:
    return Path(os.path.relpath(Path(path), Path(base))).as_posix()


def linked_img(path: str | Path, alt: str, base: str | Path) -> str:
    """An <img> tag that points at the image (relative to `base`, the folder of the notebook that shows it): the
    executed notebook keeps a link, not a second copy; the exported page takes the image itself in
    (`sfv.report.export.notebook_html`)."""
    return f'<img src="{_relative(path, base)}" alt="{alt}">'


def linked_video(path: str | Path, title: str, base: str | Path) -> str:
    """A looping, silent, autoplaying <video> tag that points at the clip (relative to `base`, as `linked_img`)."""
    return f'<video src="{_relative(path, base)}" title="{title}" autoplay loop muted playsinline></video>'
