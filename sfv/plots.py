"""One `save_figure` for every stage, and the stick-figure drawings shared by the notebooks."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: stages run under papermill and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sfv import rotations  # noqa: E402
from sfv.io import atomic_path  # noqa: E402
from sfv.skeleton import Skeleton  # noqa: E402

LEFT, RIGHT, CENTRE = "#1f77b4", "#d62728", "#333333"


#: colours of a saved PNG: a palette image is about a third of matplotlib's RGBA one (photos in contact sheets too),
#: and every figure is stored twice (the file and the executed notebook) and shipped in the store
PNG_COLOURS = 256


def save_figure(fig, path: str | Path, dpi: int = 100) -> Path:
    """Save atomically (deterministic metadata) and close the figure; a PNG is written with a palette."""
    import io

    path = Path(path)
    kind = path.suffix.lstrip(".") or "png"
    with atomic_path(path) as tmp:
        if kind == "png":
            from PIL import Image

            buffer = io.BytesIO()
            fig.savefig(buffer, dpi=dpi, format="png", metadata={"Software": None})
            image = Image.open(buffer).convert("RGB")
            image.quantize(colors=PNG_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
                tmp, format="PNG", optimize=True
            )
        else:
            fig.savefig(tmp, dpi=dpi, format=kind, metadata={"Software": None})
    plt.close(fig)
    return path


def _colour(name: str) -> str:
    return LEFT if name.startswith(("left", "l_")) else RIGHT if name.startswith(("right", "r_")) else CENTRE


def extremities(skeleton: Skeleton, positions: np.ndarray, orientations: np.ndarray) -> dict[int, np.ndarray]:
    """Tip of each leaf body with an off-origin centre of mass (head top, toes): origin + 2 x its COM offset."""
    has_child = {b.parent for b in skeleton.bodies}
    tips = {}
    for i, body in enumerate(skeleton.bodies):
        if i not in has_child and np.linalg.norm(body.com) > 1e-6:
            tips[i] = positions[..., i, :] + rotations.rotate(orientations[..., i, :], 2.0 * body.com)
    return tips


def draw_skeleton(
    ax,
    skeleton: Skeleton,
    positions: np.ndarray,
    axes=(0, 1),
    lw: float = 2.0,
    alpha: float = 1.0,
    orientations: np.ndarray | None = None,
):
    """Draw one frame's bodies (B, 3) as line segments parent -> child, projected on `axes`.

    With `orientations` (B, 4), leaf bodies (head, feet) are drawn out to their tips too.
    """
    a, b = axes
    if orientations is not None:
        for i, tip in extremities(skeleton, positions, orientations).items():
            o = positions[i]
            ax.plot([o[a], tip[a]], [o[b], tip[b]], color=_colour(skeleton.bodies[i].name), lw=lw, alpha=alpha)
    for i, body in enumerate(skeleton.bodies):
        if body.parent < 0 or np.allclose(positions[i], positions[body.parent]):
            continue
        p, c = positions[body.parent], positions[i]
        ax.plot([p[a], c[a]], [p[b], c[b]], color=_colour(body.name), lw=lw, alpha=alpha, solid_capstyle="round")
    ax.scatter(positions[:, a], positions[:, b], s=6, color=CENTRE, alpha=alpha, zorder=3)


def contact_sheet(
    skeleton: Skeleton,
    positions: np.ndarray,
    frames: list[int],
    fps: float,
    title: str,
    orientations: np.ndarray | None = None,
):
    """Stick figures of `frames` (positions (T, B, 3)): two side views, ground at height 0."""
    up = "xyz".index(skeleton.up_axis)
    horizontal = [i for i in range(3) if i != up]
    n = len(frames)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 4.2), squeeze=False)
    height = max(positions[..., up].max() + 0.1, 1.0)
    half = 0.9
    for col, f in enumerate(frames):
        root = positions[f, 0]
        for row, h in enumerate(horizontal):
            ax = axes[row, col]
            ax.axhline(0.0, color="#8c6d31", lw=1.5)
            draw_skeleton(
                ax, skeleton, positions[f], axes=(h, up), orientations=None if orientations is None else orientations[f]
            )
            ax.set_xlim(root[h] - half, root[h] + half)
            ax.set_ylim(min(-0.05, positions[f, :, up].min() - 0.05), height)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{f / fps:.2f} s", fontsize=8)
    for row, h in enumerate(horizontal):
        axes[row, 0].set_ylabel(f"{'xyz'[h]} (horizontal) vs {'xyz'[up]} (up)", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def crop_box(keypoints_2d: np.ndarray, width: int, height: int, margin: float = 0.2) -> tuple[int, int, int, int]:
    """A box (x0, y0, x1, y1) around all the given keypoints, widened by `margin`, in the image's aspect."""
    lo, hi = keypoints_2d.reshape(-1, 2).min(0), keypoints_2d.reshape(-1, 2).max(0)
    centre, size = (lo + hi) / 2, (hi - lo) * (1 + margin) + 20
    size = np.maximum(size, [size[1] * width / height, size[0] * height / width])
    size = np.minimum(size, [width, height])
    x0 = int(np.clip(centre[0] - size[0] / 2, 0, width - size[0]))
    y0 = int(np.clip(centre[1] - size[1] / 2, 0, height - size[1]))
    return x0, y0, x0 + int(size[0]), y0 + int(size[1])
