"""A grid of video frames: the one drawing behind every contact sheet of a clip (the clip check, the
ground-truth render, the pose stage), and the sampling of the frames it shows."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from sfv.video import read_frames


def evenly_spaced(n_frames: int, count: int) -> np.ndarray:
    """`count` frame indices spread over [0, n_frames), first and last included (fewer for a short clip)."""
    if n_frames < 1:
        raise ValueError("a clip with no frames has no frames to show")
    return np.unique(np.linspace(0, n_frames - 1, min(count, n_frames)).round().astype(int))


def frames_at(
    video: str | Path, indices: Sequence[int], first: int = 0, end: int | None = None
) -> dict[int, np.ndarray]:
    """Only the frames a figure shows ({index relative to `first`: RGB}): a whole clip in memory can be gigabytes."""
    wanted = {int(i) for i in indices}
    last = max(wanted) + 1 if wanted else 0
    stop = first + last if end is None else min(end, first + last)
    return {i: f for i, f in enumerate(read_frames(video, first, stop)) if i in wanted}


def frame_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    suptitle: str,
    cols: int = 4,
    panel_width: float = 3.2,
    title_room: float = 0.5,
    title_size: float = 8,
    draw: Callable[[object, int], None] | None = None,
):
    """Frames side by side in rows of `cols`, each with its title; `draw(ax, k)` adds an overlay to panel k
    (a skeleton, points). Returns the matplotlib figure (save it with `sfv.plots.save_figure`)."""
    import matplotlib.pyplot as plt

    if not len(images):
        raise ValueError("no frames to draw")
    if len(titles) != len(images):
        raise ValueError(f"{len(images)} frames but {len(titles)} titles")
    cols = min(len(images), cols)
    rows = int(np.ceil(len(images) / cols))
    h, w = images[0].shape[:2]
    fig, axes = plt.subplots(
        rows, cols, figsize=(panel_width * cols, panel_width * h / w * rows + title_room), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for k, (ax, img, title) in enumerate(zip(axes.flat, images, titles)):
        ax.imshow(img)
        if draw is not None:
            draw(ax, k)
        ax.set_title(title, fontsize=title_size)
    fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig
