"""Figures of morphology transfer: the humanoid's pose and the other character's, frame by frame."""

from __future__ import annotations

import numpy as np

from sfv.kinematics import forward_kinematics_np
from sfv.motion import Motion
from sfv.plots import draw_skeleton, plt


def retarget_figure(source: Motion, target: Motion, frames: int = 6):
    """Side views of `frames` evenly spaced frames: the source (top) and its retargeted motion (bottom), each in its
    own world (forward to the right, up upwards)."""
    picks = np.linspace(0, source.n_frames - 1, frames).round().astype(int)
    fig, axes = plt.subplots(2, frames, figsize=(1.8 * frames, 4.4), squeeze=False)
    for row, motion in enumerate((source, target)):
        sk = motion.skeleton
        up = "xyz".index(sk.up_axis)
        pos, _ = forward_kinematics_np(sk, motion.root_pos, motion.root_rot, motion.pose)
        for ax, f in zip(axes[row], picks):
            draw_skeleton(ax, sk, pos[f], axes=(0, up), lw=1.5)
            ax.axhline(0.0, color="#999999", lw=0.8)
            ax.set_aspect("equal")
            ax.set_xlim(pos[f, :, 0].mean() - 0.9, pos[f, :, 0].mean() + 0.9)
            ax.set_ylim(-0.05, 2.0)
            ax.set_xticks([])
            ax.set_title(f"{sk.name}, {f / motion.fps:.2f} s", fontsize=8)
    fig.tight_layout()
    return fig
