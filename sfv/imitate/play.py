"""Play a trained policy without training: `sfv play imitate@walk` (or `imitate_oracle@walk`, `imitate_seed2@walk`).

The policy folder (restored from the store by `make repro`, or trained here) is rolled out exactly as the stage
evaluated it: the same reference (`reference.npz` in the folder), settings (params.yaml), length and a single
thread, so the figures it prints equal the stage's metrics to the last digit; it says so, or says how they differ.
It writes a video (the reference beside the character) and, with `--gui` where a display exists, shows the rollout
in pybullet's window at the clip's pace.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sfv import paths

#: stage -> (what its policies learned from, the seed it adds to base.seed)
STAGE_REFERENCE = paths.IMITATION_RUNS
#: the stage's metrics that a replay recomputes, and the rollout figure each comes from (rounded as the stage does)
COMPARED = {
    "tracking_error_m": ("tracking_error_mean", 5),
    "survived_seconds": ("survived_seconds", 3),
    "root_error_final_m": ("root_error_final", 4),
    "return": ("episode_return", 2),
}


def parse_target(target: str) -> tuple[str, str]:
    stage, _, clip = target.partition("@")
    if stage not in STAGE_REFERENCE or not clip:
        raise ValueError(
            f"{target!r}: name a policy as STAGE@CLIP with STAGE one of {', '.join(STAGE_REFERENCE)}, e.g. imitate@walk"
        )
    return stage, clip


def policy_rollout(
    stage: str,
    clip: str,
    params,
    video: str | Path | None = None,
    gui: bool = False,
    seconds: float | None = None,
    params_file: str | Path = "params.yaml",
) -> tuple[dict, object]:
    """The stage's policy of `clip` rolled out as its evaluation did (`params`: loaded from `params_file`): the
    rollout's log and figures, and the reference it followed (the one stored beside the policy)."""
    from sfv.imitate.evaluate import load_policy, rollout
    from sfv.imitate.reference_clip import load_reference

    if clip not in params.clips:
        raise ValueError(f"clip {clip!r} is not in {params_file}; clips: {', '.join(params.clips)}")
    reference, seed_offset = STAGE_REFERENCE[stage]
    folder = paths.policy_dir(paths.run_name(clip, seed_offset), reference)
    cfg = params.imitate.for_clip(clip) if reference == "video" else params.imitate
    model, normaliser = load_policy(folder)  # names the missing file and how to get it
    motion = load_reference(folder / "reference.npz", clip)
    result = rollout(
        model,
        motion,
        cfg.env,
        cfg.reward,
        seconds=cfg.evaluation.seconds if seconds is None else seconds,
        video=video,
        width=cfg.evaluation.width,
        height=cfg.evaluation.height,
        policy_normaliser=normaliser,
        gui=gui,
    )
    return result, motion


def replay(
    stage: str,
    clip: str,
    params_file: str | Path = "params.yaml",
    video: str | Path | None = None,
    gui: bool = False,
    seconds: float | None = None,
) -> dict:
    """Roll out the stage's policy of `clip` as its evaluation did; returns the figures, the committed ones and
    whether they agree."""
    from sfv.config import load_params

    result, _ = policy_rollout(stage, clip, load_params(params_file), video, gui, seconds, params_file)
    reference, seed_offset = STAGE_REFERENCE[stage]
    figures = {key: round(float(result[name]), digits) for key, (name, digits) in COMPARED.items()}
    metrics_path = paths.clip_metrics_file(paths.imitate_stage(reference), paths.run_name(clip, seed_offset))
    committed = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
    same = None
    if committed is not None and seconds is None:
        same = all(committed.get(k) == v for k, v in figures.items())
    return {
        "figures": figures,
        "ended_by": result["ended_by"],
        "committed": committed and {k: committed.get(k) for k in figures},
        "metrics_file": metrics_path.as_posix(),
        "same": same,
        "video": video and str(video),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sfv play", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "target",
        help="STAGE@CLIP: imitate@<clip> (from its video), imitate_seed2@<clip> (its second seed) "
        "or imitate_oracle@<clip>",
    )
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--video", default=None, help="where the mp4 goes (default logs/play/<stage>@<clip>.mp4)")
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--gui", action="store_true", help="pybullet's window (needs a display)")
    parser.add_argument("--seconds", type=float, default=None, help="another length than the evaluation's")
    args = parser.parse_args(argv)
    try:
        stage, clip = parse_target(args.target)
        video = None if args.no_video else Path(args.video or paths.PLAYED / f"{stage}@{clip}.mp4")
        if video is not None:
            video.parent.mkdir(parents=True, exist_ok=True)
        out = replay(stage, clip, args.params, video, args.gui, args.seconds)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}")
        return 2
    f = out["figures"]
    print(
        f"{args.target}: survived {f['survived_seconds']} s, tracking error {f['tracking_error_m'] * 100:.2f} cm, "
        f"root error at the end {f['root_error_final_m'] * 100:.1f} cm, return {f['return']}"
    )
    if out["ended_by"]:
        from sfv.imitate.evaluate import ended_by_text

        print(f"fell: {ended_by_text(out['ended_by'])}")
    if out["video"]:
        print(f"video: {out['video']}")
    if out["same"] is True:
        print(f"equal to the stage's metrics ({out['metrics_file']}) to the last digit")
    elif out["same"] is False:
        print(
            f"differs from the stage's metrics ({out['metrics_file']}): {out['committed']}; was the policy retrained "
            "or params.yaml changed since the stage ran (`dvc status`)? Or was it evaluated on another kind of "
            "processor: their float kernels differ in the last bits, and a long rollout carries that into its "
            "figures (docs/store.md, 'Same inputs, same bits?')"
        )
        return 1
    return 0
