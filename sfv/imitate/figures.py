"""The imitation stage's figures: reward terms, rollouts, learning curves (matplotlib, no simulator)."""

from __future__ import annotations

import numpy as np

from sfv.imitate.reward import TERMS
from sfv.plots import plt
from sfv.settings.imitate import RewardParams

TERM_LABELS = {
    "pose": "pose",
    "velocity": "velocity",
    "end_effector": "end effector",
    "root": "root",
    "com": "centre of mass",
    "root_velocity": "root velocity",
}


def reward_term_shapes(reward: RewardParams):
    """Each term against an error in everyday units, with its weight: how forgiving each term is.

    The x axes assume the same error everywhere: every joint off by the same angle (the joint weights
    sum to 1, root included), every hand and foot off by the same distance, and so on.
    """
    w, scales = reward.normalised_weights(), reward.scales
    cases = {  # term -> (x label, x range, error as a function of x)
        "pose": ("every joint off by (degrees)", np.linspace(0, 90, 200), lambda x: np.radians(x) ** 2),
        "velocity": ("every joint's angular velocity off by (rad/s)", np.linspace(0, 10, 200), lambda x: x**2),
        "end_effector": ("each hand and foot off by (cm)", np.linspace(0, 40, 200), lambda x: (x / 100) ** 2),
        "root": ("root position off by (cm)", np.linspace(0, 100, 200), lambda x: (x / 100) ** 2),
        "com": ("centre-of-mass velocity off by (m/s)", np.linspace(0, 4, 200), lambda x: 0.1 * x**2),
        "root_velocity": ("root velocity off by (m/s)", np.linspace(0, 4, 200), lambda x: x**2),
    }
    fig, axes = plt.subplots(1, len(TERMS), figsize=(3 * len(TERMS), 3.1), sharey=True)
    for ax, k in zip(axes, TERMS):
        label, x, err = cases[k]
        s = getattr(scales, k)
        y = np.exp(-s * err(x))
        ax.plot(x, y, color="#4c72b0")
        half = x[np.argmin(np.abs(y - 0.5))]
        ax.axvline(half, color="grey", ls=":", lw=1)
        ax.set_title(f"{TERM_LABELS[k]} (weight {w[k]:.2f}, scale {s:g})\nhalf at {half:.3g}", fontsize=9)
        ax.set_xlabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("term value exp(-scale x error)")
    fig.tight_layout()
    return fig


def rollout_figure(rollouts: dict[str, dict], title: str):
    """Reward terms and tracking error over time for one or more rollouts (label -> `evaluate.rollout`)."""
    fig, axes = plt.subplots(3, 1, figsize=(7.5, 7), sharex=True)
    for n, (label, r) in enumerate(rollouts.items()):
        t = r["time"]
        (line,) = axes[0].plot(t, r["reward"], label=label)
        if n == 0:  # the terms of the first rollout only, one colour per term
            for k in TERMS:
                axes[1].plot(t, r[k], lw=1.2, label=TERM_LABELS[k])
        axes[2].plot(t, r["tracking_error"] * 100, color=line.get_color(), label=label)
        if r["fallen"]:
            for ax in axes:
                ax.axvline(t[-1], color=line.get_color(), ls="--", lw=1)
    axes[0].set_ylabel("reward per step")
    axes[1].set_ylabel(f"reward terms\n({next(iter(rollouts))})")
    axes[2].set_ylabel("tracking error (cm)")
    axes[2].set_xlabel("time (s); dashed: early termination (a non-foot body touched the ground)")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=7, ncol=3)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def learning_curves(curve: list[dict], title: str):
    """Tracking error against samples and against wall-clock time; episode length against samples. Line: the
    training episodes (with exploration noise); dots: the deterministic evaluations from phase 0, ringed where the
    stage judged one learned (sfv.imitate.learned: the bar its training stops at)."""
    ts = np.array([r["timesteps"] for r in curve])
    wall = np.array([r["wall_seconds"] for r in curve]) / 60
    err = np.array([r["tracking_error"] for r in curve]) * 100
    ep = np.array([r["episode_seconds"] for r in curve])
    ev = np.array([r.get("eval_tracking_error", np.nan) for r in curve]) * 100
    ev_s = np.array([r.get("eval_survived_seconds", np.nan) for r in curve])
    learned = np.array([r.get("eval_learned", np.nan) for r in curve]) == 1
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    axes[0].plot(ts / 1e6, err, label="training")
    axes[0].plot(ts / 1e6, ev, "o", ms=3, label="evaluation")
    axes[0].set_xlabel("samples (millions)")
    axes[0].set_ylabel("tracking error (cm)")
    axes[1].plot(wall, err)
    axes[1].plot(wall, ev, "o", ms=3)
    axes[1].set_xlabel("wall-clock (minutes)")
    axes[1].set_ylabel("tracking error (cm)")
    axes[2].plot(ts / 1e6, ep, label="training episodes")
    axes[2].plot(ts / 1e6, ev_s, "o", ms=3, label="evaluation survived")
    axes[2].set_xlabel("samples (millions)")
    axes[2].set_ylabel("seconds")
    if learned.any():
        ring = dict(ms=8, mfc="none", mec="#2ca02c", mew=1.5, ls="none")
        axes[0].plot(ts[learned] / 1e6, ev[learned], "o", label="judged learned", **ring)
        axes[1].plot(wall[learned], ev[learned], "o", **ring)
        axes[2].plot(ts[learned] / 1e6, ev_s[learned], "o", **ring)
    if np.isfinite(ev).any():
        axes[0].legend(fontsize=8)
        axes[2].legend(fontsize=8)
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


def asi_distribution(probabilities: np.ndarray, difficulty: np.ndarray, title: str):
    """ASI's learned start distribution over the clip and the difficulty estimate of each phase bin behind it."""
    bins = len(probabilities)
    centres = (np.arange(bins) + 0.5) / bins
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.bar(centres, probabilities, width=0.9 / bins, color="#4c72b0", label="start probability")
    ax.axhline(1 / bins, color="grey", ls=":", lw=1, label="uniform (RSI)")
    ax2 = ax.twinx()
    ax2.plot(centres, difficulty, "o-", color="#c44e52", ms=3, label="difficulty (1 - early reward)")
    ax2.set_ylim(0, 1)
    ax.set_xlabel("start phase (fraction of the startable clip)")
    ax.set_ylabel("probability")
    ax2.set_ylabel("difficulty")
    fig.legend(fontsize=7, loc="lower center", ncol=3)
    ax.set_title(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def reference_figure(raw, reference, first_frame: int, levels: np.ndarray, title: str):
    """What the reference preparation did: the lowest foot and the lowest body of the reconstruction (its
    frames, in its own world) beside the reference's (trimmed, on the floor), and the ground level it checks."""
    from sfv.imitate.reference_clip import foot_indices

    sk = raw.skeleton
    up = "xyz".index(sk.up_axis)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    raw_pos, _ = raw.body_positions()
    ref_pos, _ = reference.body_positions()
    t_raw = raw.times
    t_ref = (first_frame + np.arange(reference.n_frames)) / reference.fps
    ax.plot(
        t_raw,
        raw_pos[:, foot_indices(sk), up].min(axis=1),
        color="#999999",
        lw=1.2,
        label="reconstruction: lowest foot",
    )
    ax.plot(t_ref, ref_pos[:, foot_indices(sk), up].min(axis=1), color="#4c72b0", lw=2, label="reference: lowest foot")
    ax.plot(t_ref, ref_pos[..., up].min(axis=1), color="#dd8452", lw=1, ls="--", label="reference: lowest body")
    ax.plot(t_ref, levels, color="#55a868", lw=1, ls=":", label="reference: ground level (lowest body in the window)")
    ax.axhline(0, color="black", lw=0.8)
    ax.axvspan(t_ref[0], t_ref[-1], color="#4c72b0", alpha=0.06)
    ax.set_xlabel("time in the clip (s); shaded: the imitated frames")
    ax.set_ylabel("height (m)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def physical_figure(before, after, made: dict, title: str):
    """What the physical step did to each foot: its height and horizontal speed before (grounded and looped only)
    and after, the planted phases it held (shaded per foot) and the flights it made ballistic (shaded grey)."""
    from sfv.imitate.reference_clip import foot_indices

    sk = before.skeleton
    up = "xyz".index(sk.up_axis)
    flat = [a for a in range(3) if a != up]
    feet = foot_indices(sk)
    t = before.times
    fig, axes = plt.subplots(2, len(feet), figsize=(4.2 * len(feet), 4.6), sharex=True, squeeze=False)
    for k, (motion, label, style) in enumerate(
        ((before, "before", dict(color="#999999", lw=1.2)), (after, "physical", dict(color="#4c72b0", lw=1.8)))
    ):
        pos, _ = motion.body_positions()
        for f, b in enumerate(feet):
            axes[0, f].plot(t, pos[:, b, up], label=label, **style)
            speed = np.linalg.norm(np.gradient(pos[:, b][:, flat], axis=0), axis=-1) * motion.fps
            axes[1, f].plot(t, speed, label=label, **style)
    for f, name in enumerate(sk.settings["feet"]):
        axes[0, f].set_title(f"{name}", fontsize=9)
        for row in axes[:, f]:
            for a, b in made["plants"].get(name, []):
                row.axvspan(t[a], t[min(b, len(t)) - 1], color="#55a868", alpha=0.15, lw=0)
            for a, b in made.get("flights", []):
                row.axvspan(t[a], t[min(b, len(t)) - 1], color="#333333", alpha=0.12, lw=0)
            row.grid(alpha=0.3)
        axes[1, f].set_xlabel("time (s); green: planted, grey: flight")
    axes[0, 0].set_ylabel("height (m)")
    axes[1, 0].set_ylabel("horizontal speed (m/s)")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def truth_error_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str):
    """Per-frame body error against the ground truth (label -> (time, error m)): reference and policies."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for label, (t, err) in curves.items():
        ax.plot(t, np.asarray(err) * 100, label=f"{label} (mean {np.mean(err) * 100:.1f} cm)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("body error vs ground truth (cm)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def compare_curves(curves: dict[str, list[dict]], title: str, threshold_cm: float | None = None):
    """Several runs' learning curves side by side (an ablation, ASI against RSI): the deterministic evaluation's
    tracking error and survival, and the training episodes' length, against samples."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for label, curve in curves.items():
        ts = np.array([r["timesteps"] for r in curve]) / 1e6
        ev = np.array([r.get("eval_tracking_error", np.nan) for r in curve]) * 100
        sv = np.array([r.get("eval_survived_seconds", np.nan) for r in curve])
        ok = np.isfinite(ev)
        (line,) = axes[0].plot(ts[ok], ev[ok], "o-", ms=3, lw=1.2, label=label)
        axes[1].plot(ts[ok], sv[ok], "o-", ms=3, lw=1.2, color=line.get_color())
        axes[2].plot(ts, [r["episode_seconds"] for r in curve], lw=1.0, color=line.get_color())
    if threshold_cm is not None:
        axes[0].axhline(threshold_cm, color="grey", ls=":", lw=1)
    axes[0].set_ylabel("evaluation tracking error (cm)")
    axes[1].set_ylabel("evaluation survived (s)")
    axes[2].set_ylabel("training episode length (s)")
    # evaluations all start at phase 0; training episodes start where each run's start distribution puts them
    axes[0].set_title("deterministic, from the clip's start", fontsize=8)
    axes[2].set_title("from each run's own starts (ASI: the hard ones)", fontsize=8)
    for ax in axes:
        ax.set_xlabel("samples (millions)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, ncol=2)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
