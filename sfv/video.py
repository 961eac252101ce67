"""Reading and writing the kit's videos (imageio + its bundled ffmpeg), with errors that name the file.

Clips are H.264 mp4. Writing goes to a temporary file moved into place only when every frame is in,
so an interrupted stage never leaves a truncated video behind.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from sfv.io import atomic_path


class VideoError(ValueError):
    """A video the kit cannot use; the message names the file and what to do."""


@dataclass(frozen=True)
class VideoInfo:
    path: str
    frames: int
    fps: float
    width: int
    height: int
    codec: str

    @property
    def duration(self) -> float:
        return self.frames / self.fps


def _reader(path: Path):
    import imageio.v2 as imageio

    if not path.is_file():
        raise VideoError(
            f"{path}: no such video file (put the clip under data/clips/ and check `source` in params.yaml)"
        )
    try:
        return imageio.get_reader(str(path), format="FFMPEG")
    except Exception as e:  # imageio raises OSError/RuntimeError/IndexError depending on what is wrong
        raise VideoError(
            f"{path}: not a readable video ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
            "re-encode it as H.264 mp4, e.g. `ffmpeg -i in.mov -c:v libx264 -pix_fmt yuv420p out.mp4`"
        ) from None


def probe(path: str | Path) -> VideoInfo:
    """Frame count, rate and size of a video (decodes it once: container frame counts are unreliable)."""
    path = Path(path)
    reader = _reader(path)
    try:
        meta = reader.get_meta_data()
        try:
            n = reader.count_frames()
        except Exception as e:
            raise VideoError(f"{path}: could not decode the frames ({e}); re-encode it as H.264 mp4") from None
    finally:
        reader.close()
    fps = float(meta.get("fps") or 0.0)
    if n <= 0:
        raise VideoError(f"{path}: the video has no frames; check the file (a failed download or copy?)")
    if not fps > 0:
        raise VideoError(f"{path}: the video has no frame rate in its header; re-encode it with `-r 30`")
    width, height = meta["size"]
    return VideoInfo(str(path), int(n), fps, int(width), int(height), str(meta.get("codec", "?")))


def read_frames(path: str | Path, first: int = 0, end: int | None = None) -> Iterator[np.ndarray]:
    """RGB frames (H, W, 3) uint8 of [first, end) (end None: to the last frame)."""
    path = Path(path)
    reader = _reader(path)
    try:
        for i, frame in enumerate(reader):
            if end is not None and i >= end:
                break
            if i >= first:
                yield np.asarray(frame)
    finally:
        reader.close()


def check_range(info: VideoInfo, first: int, end: int | None, where: str) -> tuple[int, int]:
    """The clip's [first, end) frame range resolved against the video; a clear error when outside it."""
    stop = info.frames if end is None else end
    if first >= info.frames or stop > info.frames:
        raise VideoError(
            f"{where}: frames [{first}, {end}] is outside {info.path}, which has {info.frames} frames "
            f"(0..{info.frames - 1}); set the range within it, or end null for the last frame"
        )
    return first, stop


@contextmanager
def mp4_writer(path: str | Path, fps: float, quality: int = 8):
    """Yield `append(frame)` for RGB uint8 frames; the mp4 (H.264, yuv420p) appears at `path` on success.

    One encoder thread, so the same frames give the same file on any machine.
    """
    import imageio.v2 as imageio

    with atomic_path(path) as tmp:
        writer = imageio.get_writer(
            str(tmp),
            format="FFMPEG",
            fps=fps,
            codec="libx264",
            quality=quality,
            macro_block_size=2,
            pixelformat="yuv420p",
            ffmpeg_log_level="error",
            output_params=["-threads", "1"],
        )
        try:
            yield writer.append_data
        finally:
            writer.close()
