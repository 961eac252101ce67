"""Figures of the terrain experiment: flat against terrain policy per run, and the terrain policies' learning."""

from __future__ import annotations

import numpy as np

from sfv.plots import plt

COLOURS = {"flat": "#9a9a9a", "terrain": "#2f6fbf"}


def comparison_figure(scores: dict[str, dict[str, list[dict]]]):
    """Per run (clip on terrain), the distance covered and the time up of each policy: one dot per evaluation seed,
    a bar at the mean."""
    runs = list(scores)
    fig, axes = plt.subplots(1, 2, figsize=(max(7.0, 1.6 * len(runs) + 3), 3.6))
    for ax, key, label in (
        (axes[0], "distance_m", "distance along the terrain (m)"),
        (axes[1], "survived_s", "time before a fall (s)"),
    ):
        for k, policy in enumerate(("flat", "terrain")):
            x = np.arange(len(runs)) + (k - 0.5) * 0.38
            values = [[s[key] for s in scores[r].get(policy, [])] for r in runs]
            ax.bar(
                x,
                [np.mean(v) if v else np.nan for v in values],
                0.36,
                color=COLOURS[policy],
                alpha=0.55,
                label=f"{policy} policy",
            )
            for xi, v in zip(x, values):
                ax.plot(np.full(len(v), xi), v, "o", color=COLOURS[policy], ms=3)
        ax.set_xticks(np.arange(len(runs)), runs, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=8)
    fig.suptitle("The flat-ground policy and the terrain policy on the same terrains (dots: seeds)")
    fig.tight_layout()
    return fig


def learning_figure(curves: dict[str, list[dict]]):
    """Each terrain policy's training: its episode return and, where evaluated, its tracking error."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for run, rows in curves.items():
        if not rows:
            continue
        t = np.array([r["timesteps"] for r in rows]) / 1e6
        axes[0].plot(t, [r["episode_return"] for r in rows], label=run)
        ev = [
            (r["timesteps"] / 1e6, 100 * r["eval_tracking_error"])
            for r in rows
            if np.isfinite(r.get("eval_tracking_error", np.nan))
        ]
        if ev:
            axes[1].plot(*zip(*ev), "o-", ms=3, label=run)
    axes[0].set(xlabel="samples on the terrain (M)", ylabel="episode return", title="training episodes")
    axes[1].set(
        xlabel="samples on the terrain (M)",
        ylabel="tracking error (cm)",
        title="deterministic evaluation (seed 0's terrain)",
    )
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def terrain_figure(grids: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """Each terrain's grid (`generate_heights`: along, across, heights): a top view (travel to the right, the start
    at 0) and its profile along the middle of the path."""
    fig, axes = plt.subplots(
        len(grids), 2, figsize=(11, 2.0 * len(grids)), squeeze=False, gridspec_kw={"width_ratios": [3, 2]}
    )
    for (name, (u, v, heights)), (top, side) in zip(grids.items(), axes):
        image = top.imshow(heights, origin="lower", extent=(u[0], u[-1], v[0], v[-1]), aspect="auto", cmap="terrain")
        fig.colorbar(image, ax=top, label="height (m)")
        top.set(title=f"{name}: top view", xlabel="along the travel (m from the start)", ylabel="across (m)")
        side.plot(u, heights[len(v) // 2], color="#555555")
        side.set(title=f"{name}: profile (heights exaggerated)", xlabel="along the travel (m)", ylabel="height (m)")
    fig.tight_layout()
    return fig
