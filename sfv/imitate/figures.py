"""The imitation stage's figures: reward terms, rollouts, learning curves (matplotlib, no simulator)."""

from __future__ import annotations

import numpy as np

from sfv.imitate.reward import TERMS, RewardScales, RewardWeights
from sfv.plots import plt

TERM_LABELS = {"pose": "pose", "velocity": "velocity", "end_effector": "end effector", "root": "root", "com": "centre of mass"}


def reward_term_shapes(weights: RewardWeights, scales: RewardScales):
    """Each term exp(-scale * error) against its error, labelled with its weight: what a reward 'costs'."""
    w = weights.normalised()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for k in TERMS:
        s = getattr(scales, k)
        err = np.linspace(0, 4.0 / s, 200)  # up to where the term has almost vanished
        ax.plot(err * s, np.exp(-s * err), label=f"{TERM_LABELS[k]}: weight {w[k]:.2f}, scale {s:g}")
    ax.set_xlabel("scale x error (each term's error in its own units)")
    ax.set_ylabel("term value exp(-scale x error)")
    ax.set_title("DeepMimic reward terms: each in [0, 1], total = weighted sum")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def rollout_figure(rollouts: dict[str, dict], title: str):
    """Reward terms and tracking error over time for one or more rollouts (label -> `evaluate.rollout`)."""
    fig, axes = plt.subplots(3, 1, figsize=(7.5, 7), sharex=True)
    for label, r in rollouts.items():
        t = r["time"]
        line, = axes[0].plot(t, r["reward"], label=label)
        for k in TERMS:
            axes[1].plot(t, r[k], color=line.get_color(), alpha=0.35 + 0.13 * TERMS.index(k), lw=1,
                         label=f"{label}: {TERM_LABELS[k]}" if len(rollouts) == 1 else None)
        axes[2].plot(t, r["tracking_error"] * 100, color=line.get_color(), label=label)
        if r["fallen"]:
            for ax in axes:
                ax.axvline(t[-1], color=line.get_color(), ls="--", lw=1)
    axes[0].set_ylabel("reward per step")
    axes[1].set_ylabel("reward terms")
    axes[2].set_ylabel("tracking error (cm)")
    axes[2].set_xlabel("time (s); dashed: early termination (a non-foot body touched the ground)")
    axes[0].legend(fontsize=8)
    if len(rollouts) == 1:
        axes[1].legend(fontsize=7, ncol=2)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def learning_curves(curve: list[dict], title: str):
    """Tracking error against samples and against wall-clock time; episode length against samples."""
    ts = np.array([r["timesteps"] for r in curve])
    wall = np.array([r["wall_seconds"] for r in curve]) / 60
    err = np.array([r["tracking_error"] for r in curve]) * 100
    ep = np.array([r["episode_seconds"] for r in curve])
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    axes[0].plot(ts / 1e6, err)
    axes[0].set_xlabel("samples (millions)")
    axes[0].set_ylabel("tracking error (cm)")
    axes[1].plot(wall, err)
    axes[1].set_xlabel("wall-clock (minutes)")
    axes[1].set_ylabel("tracking error (cm)")
    axes[2].plot(ts / 1e6, ep)
    axes[2].set_xlabel("samples (millions)")
    axes[2].set_ylabel("mean episode length (s)")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def start_phases(phases: np.ndarray, title: str):
    """Histogram of the phases episodes start at (reference state initialisation)."""
    fig, ax = plt.subplots(figsize=(5, 2.8))
    ax.hist(phases, bins=20, range=(0, 1), color="#4c72b0")
    ax.set_xlabel("start phase")
    ax.set_ylabel("episodes")
    ax.set_title(title)
    fig.tight_layout()
    return fig
