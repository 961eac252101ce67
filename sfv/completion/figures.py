"""Figures of motion completion: errors by clip and method, and one still's completions beside the truth."""

from __future__ import annotations

import numpy as np

from sfv.plots import draw_skeleton, plt
from sfv.skeleton import Skeleton


def errors_figure(rows: list[dict]):
    """Per protocol, the completion error of each method on each clip (bars, cm)."""
    protocols = list(dict.fromkeys(r["protocol"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    clips = list(dict.fromkeys(r["clip"] for r in rows))
    fig, axes = plt.subplots(len(protocols), 1, figsize=(max(8, 0.7 * len(clips)), 3.2 * len(protocols)), squeeze=False)
    width = 0.8 / max(len(methods), 1)
    for ax, protocol in zip(axes[:, 0], protocols):
        for k, method in enumerate(methods):
            err = {r["clip"]: r["error_cm"] for r in rows if r["protocol"] == protocol and r["method"] == method}
            ax.bar(np.arange(len(clips)) + k * width, [err.get(c, np.nan) for c in clips], width, label=method)
        ax.set_xticks(np.arange(len(clips)) + 0.4 - width / 2, clips, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("error over the horizon (cm)")
        ax.set_title(f"{protocol} skill: completion error by clip")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def completion_figure(truth: np.ndarray, answers: dict[str, np.ndarray], skeleton: Skeleton, title: str):
    """Side views (forward x, height y; the still's heading frame): the truth's continuation and each method's,
    every step drawn, later steps darker."""
    panels = {"truth": truth, **answers}
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4), sharey=True)
    lo = min(p[..., 0].min() for p in panels.values()) - 0.3
    hi = max(p[..., 0].max() for p in panels.values()) + 0.3
    for ax, (name, steps) in zip(np.atleast_1d(axes), panels.items()):
        for k, bodies in enumerate(steps):
            draw_skeleton(ax, skeleton, bodies, axes=(0, 1), lw=1.5, alpha=0.25 + 0.75 * (k + 1) / len(steps))
        error = "" if name == "truth" else f"\n{100 * np.linalg.norm(steps - truth, axis=-1).mean():.1f} cm off"
        ax.set_title(f"{name}{error}", fontsize=9)
        ax.set_xlim(lo, hi)
        ax.set_aspect("equal")
        ax.axhline(0.0, color="#999999", lw=0.8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
