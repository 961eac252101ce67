"""What limits a policy: read from its evaluation rollout (the stage's own, replayed), what ended it, when and on
which bodies its tracking error is, and how much of that error is its heading alone.

A policy that did not learn its skill is reported with what limits it. Three readings, one rollout:
- **what ended it**: the bodies on the ground that may not be there (`rollout`'s `ended_by`), or none (it stood
  through its evaluation);
- **where the error is**: the tracking error's own measure (each body's distance from its reference's, both taken
  from their roots, world axes) per body and per moment: the bodies that carry most of it, the second where it peaks;
- **heading**: how far the root's heading lags its reference's (frames where either root leans over, in a flip or a
  roll, have no heading and are left out), and the error each pose would have turned to its reference's heading
  (`fidelity.body_error`): a policy that does every move while turning too slowly has a small one.
Pure numpy over a rollout's log; notebook 07 replays each policy (`sfv.imitate.play.policy_rollout`).
"""

from __future__ import annotations

import numpy as np

from sfv.analysis.fidelity import body_error
from sfv.analysis.reference_quality import has_heading
from sfv.imitate.evaluate import ended_by_text
from sfv.imitate.reference import ReferenceTrack, heading_angle
from sfv.imitate.stage import asked_seconds
from sfv.motion import Motion
from sfv.plots import plt

#: how many bodies the table names, those carrying the most error
WORST_BODIES = 3
#: seconds over which the error's peak is found (a moment, not one noisy step)
PEAK_WINDOW_S = 0.25


def per_body_error(log: dict, track: ReferenceTrack) -> np.ndarray:
    """(T, B) each body's distance (m) from its reference's, both relative to their roots, world axes: the tracking
    error's own measure, whose mean over bodies is the rollout's `tracking_error` step by step."""
    rows, cycles = track.locate_many(np.asarray(log["time"]))
    ref = track.body_pos[rows] - track.root_pos[rows][:, None, :]  # a cycle's shift moves root and bodies alike
    sim = np.asarray(log["body_pos"]) - np.asarray(log["root_pos"])[:, None, :]
    return np.linalg.norm(sim - ref, axis=-1)


def heading_lag_deg(log: dict, track: ReferenceTrack) -> np.ndarray:
    """(T,) the simulated root's heading minus its reference's, degrees in (-180, 180]; NaN where either root leans
    over (`has_heading`)."""
    up_axis = track.skeleton.up_axis
    rows, _ = track.locate_many(np.asarray(log["time"]))
    sim_rot, ref_rot = np.asarray(log["root_rot"]), track.root_rot[rows]
    lag = np.degrees(np.angle(np.exp(1j * (heading_angle(sim_rot, up_axis) - heading_angle(ref_rot, up_axis)))))
    return np.where(has_heading(sim_rot, up_axis) & has_heading(ref_rot, up_axis), lag, np.nan)


def heading_aligned_error(log: dict, track: ReferenceTrack) -> np.ndarray:
    """(T,) the mean body error (m) with each pose turned to its own heading: what the tracking error would be if the
    root turned as its reference does (`fidelity.body_error`)."""
    rows, _ = track.locate_many(np.asarray(log["time"]))
    ref = {"body_pos": track.body_pos[rows], "root_pos": track.root_pos[rows], "root_rot": track.root_rot[rows]}
    sim = {k: np.asarray(log[k]) for k in ref}
    return body_error(sim, ref, track.skeleton.up_axis)


def diagnose(log: dict, motion: Motion, control_hz: float) -> dict:
    """What limits one policy, from its evaluation rollout `log` (`rollout`'s output) on `motion`, its reference."""
    track = ReferenceTrack(motion, control_hz)
    errors = per_body_error(log, track)
    per_step = errors.mean(axis=1)
    names = motion.skeleton.body_names
    by_body = errors.mean(axis=0)
    worst = [(names[b], round(float(100 * by_body[b]), 1)) for b in np.argsort(-by_body)[:WORST_BODIES]]
    window = max(int(round(PEAK_WINDOW_S * control_hz)), 1)
    if len(per_step) < window:  # shorter than one window: the step itself
        window = 1
    smooth = np.convolve(per_step, np.ones(window) / window, mode="valid")  # smooth[k]: steps k .. k + window - 1
    peak = int(np.argmax(smooth)) + (window - 1) // 2  # the middle step of the worst window
    lag = heading_lag_deg(log, track)
    seen = ~np.isnan(lag)
    return {
        "survived_s": round(float(log["survived_seconds"]), 3),
        "evaluation_s": asked_seconds(log["seconds"], {"loop": motion.loop, "seconds": round(motion.duration, 3)}),
        "ended_by": list(log["ended_by"]),
        "what_ended_it": ended_by_text(log["ended_by"]),
        "tracking_cm": round(float(100 * per_step.mean()), 2),
        "heading_aligned_cm": round(float(100 * heading_aligned_error(log, track).mean()), 2),
        "heading_lag_max_deg": round(float(np.abs(lag[seen]).max()), 1) if seen.any() else None,
        "heading_lag_mean_deg": round(float(np.abs(lag[seen]).mean()), 1) if seen.any() else None,
        "heading_frames": round(float(seen.mean()), 2),
        "worst_bodies": worst,
        "peak_error_cm": round(float(100 * smooth.max()), 1),
        "peak_at_s": round(float(np.asarray(log["time"])[peak]), 2),
    }


def panel(log: dict, motion: Motion, control_hz: float) -> tuple[np.ndarray, np.ndarray, list[str], bool]:
    """One clip's panel of `figure`: times, each body's error, the body names, whether it fell."""
    errors = per_body_error(log, ReferenceTrack(motion, control_hz))
    return np.asarray(log["time"]), errors, list(motion.skeleton.body_names), bool(log["fallen"])


def figure(panels: dict[str, tuple[np.ndarray, np.ndarray, list[str], bool]]):
    """One panel per clip: each body's tracking error (cm, colour) over the evaluation's time, the moment a fall
    ended it marked. `panels`: clip -> (times (T,), errors (T, B) in m, body names, fell)."""
    n = max(len(panels), 1)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.0 * rows + 0.6), squeeze=False, layout="constrained")
    image = None
    for ax, (clip, (times, errors, names, fell)) in zip(axes.flat, panels.items()):
        keep = [i for i, name in enumerate(names) if errors[:, i].max() > 0]  # the root and a fixed base: no error
        extent = (float(times[0]), float(times[-1]), len(keep) - 0.5, -0.5)
        image = ax.imshow(100 * errors[:, keep].T, aspect="auto", extent=extent, vmin=0, vmax=40, cmap="magma")
        ax.set_yticks(range(len(keep)), [names[i] for i in keep], fontsize=6)
        ax.set_xlabel("time (s)", fontsize=7)
        ax.set_title(f"{clip}{': fell' if fell else ''}", fontsize=9)
        if fell:
            ax.axvline(float(times[-1]), color="cyan", lw=2)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="body's tracking error (cm)")
    fig.suptitle("Where each policy's error is: every body against its reference, over its evaluation")
    return fig


def summary(target: str, d: dict) -> str:
    """`diagnose`'s reading in a few lines, for a person at a terminal (`sfv why`)."""
    lag = "" if d["heading_lag_max_deg"] is None else f" (its heading lags by up to {d['heading_lag_max_deg']:.0f}°)"
    worst = ", ".join(f"{name} {cm:.0f}" for name, cm in d["worst_bodies"])
    return "\n".join(
        (
            f"{target}: stood {min(d['survived_s'], d['evaluation_s']):.2f} of {d['evaluation_s']:.2f} s"
            + (f": {d['what_ended_it']}" if d["ended_by"] else ""),
            f"tracking {d['tracking_cm']:.1f} cm; each pose turned to its reference's heading "
            f"{d['heading_aligned_cm']:.1f} cm{lag}",
            f"most error (cm): {worst}; it peaks at {d['peak_at_s']:.2f} s ({d['peak_error_cm']:.0f} cm)",
        )
    )


def main(argv: list[str]) -> int:
    """`sfv why STAGE@CLIP`: what limits a trained policy, from its evaluation replayed."""
    import argparse

    from sfv.config import load_params
    from sfv.imitate.play import STAGE_REFERENCE, parse_target, policy_rollout

    parser = argparse.ArgumentParser(prog="sfv why", description=main.__doc__.split(": ", 1)[1])
    parser.add_argument("target", help="STAGE@CLIP: imitate@<clip>, imitate_seed2@<clip> or imitate_oracle@<clip>")
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args(argv)
    try:
        stage, clip = parse_target(args.target)
        params = load_params(args.params)
        log, motion = policy_rollout(stage, clip, params, params_file=args.params)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}")
        return 2
    cfg = params.imitate.for_clip(clip) if STAGE_REFERENCE[stage][0] == "video" else params.imitate
    print(summary(args.target, diagnose(log, motion, cfg.env.control_hz)))
    return 0
