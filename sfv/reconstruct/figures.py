"""Figures of the reconstruction: joint trajectories, accelerations, and a stick-figure animation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sfv.io import atomic_path
from sfv.keypoints import MID_HIP, MID_SHOULDER, BodyMap, body_map
from sfv.skeleton import Skeleton

#: the pose targets' stick figure, as landmark groups (whichever bodies a character maps them to)
_TARGET_LIMBS = (
    (MID_HIP, MID_SHOULDER),
    (MID_HIP, ("right_hip",)),
    (("right_hip",), ("right_knee",)),
    (("right_knee",), ("right_ankle",)),
    (MID_HIP, ("left_hip",)),
    (("left_hip",), ("left_knee",)),
    (("left_knee",), ("left_ankle",)),
    (MID_SHOULDER, ("right_shoulder",)),
    (("right_shoulder",), ("right_elbow",)),
    (("right_elbow",), ("right_wrist",)),
    (MID_SHOULDER, ("left_shoulder",)),
    (("left_shoulder",), ("left_elbow",)),
    (("left_elbow",), ("left_wrist",)),
)


def target_edges(bodies: BodyMap) -> list[tuple[int, int]]:
    """The stick figure's edges as indices into a character's target arrays."""
    return [(bodies.role(a), bodies.role(b)) for a, b in _TARGET_LIMBS]


def trajectories(series: dict[str, np.ndarray], fps: float, joint: int, title: str):
    """Height and acceleration over time of one joint, for each motion in `series` ((T, J, 3) each)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(8, 4.6), sharex=True)
    for (name, pos), colour in zip(series.items(), ("#999999", "#d62728", "#2ca02c")):
        t = np.arange(len(pos)) / fps
        axes[0].plot(t, pos[:, joint, 1], color=colour, label=name, lw=1.5 if "recon" in name else 1)
        acc = np.linalg.norm(pos[2:, joint] - 2 * pos[1:-1, joint] + pos[:-2, joint], axis=-1) * fps**2
        axes[1].plot(t[1:-1], acc, color=colour, lw=1.5 if "recon" in name else 1)
    axes[0].set_ylabel("height (m)")
    axes[1].set_ylabel("acceleration (m/s²)")
    axes[1].set_xlabel("time (s)")
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def stick_gif(
    path: str | Path, targets: np.ndarray, positions: np.ndarray, skeleton: Skeleton, fps: float, title: str
) -> Path:
    """An animated GIF: the pose targets (left) beside the reconstructed motion (right), seen along the
    world z axis (the camera's side of the scene), each panel following the body."""
    import imageio.v2 as imageio
    import matplotlib.pyplot as plt

    from sfv.plots import draw_skeleton

    top = max(targets[..., 1].max(), positions[..., 1].max()) + 0.2
    bottom = min(targets[..., 1].min(), positions[..., 1].min(), 0.0) - 0.1
    half = max(0.5 * (top - bottom) * 0.75, 0.9)  # panels 3:4, at least 1.8 m wide
    frames = []
    fig, axes = plt.subplots(1, 2, figsize=(6.4, 4.2), dpi=75)
    for t in range(len(positions)):
        centre = positions[t, 0, 0]
        for ax in axes:
            ax.clear()
            ax.axhline(0.0, color="#8c6d31", lw=1)
            ax.set_xlim(centre - half, centre + half)
            ax.set_ylim(bottom, top)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
        for a, b in target_edges(body_map(skeleton)):
            axes[0].plot(targets[t, [a, b], 0], targets[t, [a, b], 1], color="#d62728", lw=2)
        draw_skeleton(axes[1], skeleton, positions[t], axes=(0, 1))
        axes[0].set_title("pose targets", fontsize=8)
        axes[1].set_title("reconstruction", fontsize=8)
        fig.suptitle(f"{title} · {t / fps:.2f} s", fontsize=9)
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    with atomic_path(path) as tmp:
        imageio.mimsave(tmp, frames, format="GIF", duration=1.0 / fps, loop=0)
    return Path(path)


def loss_curve(curve: list[float], ik_evaluations: int, optimizer: str):
    """The loss per evaluation (log scale), the end of the per-frame IK phase dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.semilogy(curve)
    ax.axvline(ik_evaluations, color="#999999", ls="--", lw=1)
    ax.set_xlabel(f"loss evaluation, {optimizer} (per-frame IK, then the whole clip)")
    ax.set_ylabel("loss")
    return fig


def smoothness_ablation(rows: list[dict]):
    """Jitter and error (MPJPE when known, else 2D reprojection) against the smoothness weight (0 at 1e-8)."""
    import matplotlib.pyplot as plt

    known = all(r["mpjpe_mm"] is not None for r in rows)
    fig, ax = plt.subplots(1, 2, figsize=(8, 2.8))
    xs = [max(r["smoothness"], 1e-8) for r in rows]
    ax[0].semilogx(xs, [r["jitter"] for r in rows], "o-")
    ax[0].set_ylabel("jitter (m/s²)")
    ax[1].semilogx(xs, [r["mpjpe_mm"] if known else r["reprojection_error_px"] for r in rows], "o-", color="#d62728")
    ax[1].set_ylabel("MPJPE vs source (mm)" if known else "2D reprojection (px)")
    for a in ax:
        a.set_xlabel("smoothness weight (0 drawn at 1e-8)")
    fig.tight_layout()
    return fig


TERM_LABELS = {
    "mpjpe_mm": "MPJPE vs source (mm)",
    "reprojection_error_px": "2D reprojection (px)",
    "jitter": "jitter (m/s²)",
    "foot_sliding": "planted-foot speed (m/s)",
    "joint_limit_violations": "joint-range violations",
}


def term_ablation(rows: dict[str, dict]):
    """One bar chart per score, one bar per variant (the reconstruction first, in blue)."""
    import matplotlib.pyplot as plt

    first = next(iter(rows.values()))
    shown = [
        "mpjpe_mm" if "mpjpe_mm" in first else "reprojection_error_px",
        "jitter",
        "foot_sliding",
        "joint_limit_violations",
    ]
    names = list(rows)
    fig, axes = plt.subplots(1, len(shown), figsize=(12, 2.6), sharey=True)
    for ax, key in zip(axes, shown):
        ax.barh(names, [rows[n][key] for n in names], color=["#1f77b4"] + ["#aaaaaa"] * (len(names) - 1))
        ax.set_title(TERM_LABELS[key], fontsize=9)
    axes[0].invert_yaxis()  # the reconstruction on top (the axes share it)
    fig.tight_layout()
    return fig


def fov_costs(estimate, true_fov: float | None = None):
    """The reprojection cost per candidate field of view (a `FovEstimate`), the one used and, on a rendered clip,
    the camera's own."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(estimate.grid, 100 * estimate.costs, "o-", ms=3, label="bodies placed along their rays")
    ax.axvline(
        estimate.fov,
        color="C1",
        label=f"used: {estimate.fov:.1f}° ({'estimated' if estimate.estimated else 'assumed'})",
    )
    if not estimate.estimated:
        ax.axvline(estimate.best, color="C1", ls=":", label=f"cost minimum (not trusted): {estimate.best:.1f}°")
    if true_fov is not None:
        ax.axvline(true_fov, color="k", ls="--", label=f"the render camera: {true_fov:.1f}°")
    ax.set_xlabel("vertical field of view (degrees)")
    ax.set_ylabel("reprojection error (% of body size)")
    ax.set_title(f"field of view: the ray to the person sweeps {estimate.sweep:.0f}° across the view")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def camera_turn(motion, fps: float, true_rotations: np.ndarray | None = None):
    """A turning camera's pan (about the image's vertical axis) and tilt per frame, as read from the background,
    and on a rendered clip the camera's own."""
    import matplotlib.pyplot as plt

    def pan_tilt(R):
        forward = R[:, 2, :]  # the first frame's optical axis seen from frame t: its third row
        # pan positive to the right, tilt positive upwards (the camera's y points down)
        return np.degrees(np.arctan2(forward[:, 0], forward[:, 2])), np.degrees(
            np.arctan2(-forward[:, 1], forward[:, 2])
        )

    t = np.arange(len(motion.rotations)) / fps
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for values, style, who in (
        (pan_tilt(motion.rotations), "-", "read from the background"),
        (pan_tilt(true_rotations) if true_rotations is not None else None, "--", "the render camera"),
    ):
        if values is None:
            continue
        ax.plot(t, values[0], style, color="C0", label=f"pan, {who}")
        ax.plot(t, values[1], style, color="C1", label=f"tilt, {who}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("degrees from the first frame")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
