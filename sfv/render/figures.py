"""The render stage's figures: the body posed as the humanoid's rest pose, and its feet against the mocap's."""

from __future__ import annotations

import numpy as np

from sfv.plots import plt

#: anny's rest pose faces -y; this turns it to face +x like the humanoid (z up)
FACE_X = np.array([[0, -1.0, 0], [1, 0, 0], [0, 0, 1]])


def retargeting_figure(anny_rest_vertices: np.ndarray, calibrated, skeleton):
    """Front views: anny's own rest pose, and anny posed as the humanoid's rest pose with the (scaled)
    humanoid skeleton that drives it drawn in red. `calibrated` is a `PosedClip` of one frame."""
    fig, axes = plt.subplots(1, 2, figsize=(7, 4.2))
    panels = [
        ("anny's rest pose", anny_rest_vertices @ FACE_X.T, None),
        ("posed as the humanoid's rest pose", calibrated.vertices[0], calibrated.source_joints[0]),
    ]
    for ax, (title, v, joints) in zip(axes, panels):
        ax.scatter(v[::7, 1], v[::7, 2], s=0.3, color="#999999")
        if joints is not None:
            for i, b in enumerate(skeleton.bodies):
                if b.parent > 0:
                    ax.plot(joints[[b.parent, i], 1], joints[[b.parent, i], 2], color="#d62728", lw=2)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("y (m, the body's left)")
    axes[0].set_ylabel("z (m, up)")
    fig.suptitle("front view; red: the humanoid's skeleton (scaled) that drives the body", fontsize=9)
    return fig


def feet_figure(sole_heights: np.ndarray, source_sole_heights: np.ndarray, fps: float):
    """Height of the lowest point of each of the body's shoes and of the humanoid's foot boxes (T, 2: left,
    right) over the clip."""
    fig, ax = plt.subplots(figsize=(7, 2.8))
    t = np.arange(len(sole_heights)) / fps
    for k, (side, colour) in enumerate((("left", "#1f77b4"), ("right", "#d62728"))):
        ax.plot(t, sole_heights[:, k], color=colour, label=f"body {side} sole")
        ax.plot(t, source_sole_heights[:, k], color=colour, ls="--", lw=1, label=f"humanoid {side} foot box")
    ax.axhline(0, color="#8c6d31")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("height (m)")
    ax.legend(fontsize=7, ncol=2)
    return fig
