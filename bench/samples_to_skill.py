"""Samples to skill: how many samples and minutes of 2-core training until a mocap skill is learned.

Each run trains one mocap clip with params.yaml's default `imitate` settings (one seed), in chunks, until a
deterministic evaluation from the clip's start tracks it without falling and within the clip's threshold
(sfv.analysis.learning_speed), or until its wall-clock limit. Walk, a gait, is evaluated over params.yaml's
`imitate.evaluation.seconds` (20 s of cycles, where its drift shows); a skill done once (jump, cartwheel,
backflip: DeepMimic stores them as cycles too) over one play of its clip:

    walk                  5 cm   60 min   seeds 0 and 1   20 s, ending within 0.5 m of the reference's root
    jump                  5 cm   60 min   seeds 0 and 1   the clip (1.8 s)
    cartwheel, backflip  10 cm  600 min   seed 0          the clip (2.7 s, 1.75 s); hours: it resumes

    python bench/samples_to_skill.py                    # every run, each resumed where it stopped
    python bench/samples_to_skill.py --runs walk:0      # one run
    python bench/samples_to_skill.py --table            # the table of what has run so far
    python bench/samples_to_skill.py --runs jump:0 --variant lr_linear \
        --set ppo.learning_rate_schedule=linear ppo.learning_rate=0.0006 ppo.learning_rate_horizon=7000000
                                                        # a lever tried on the target itself: its own run,
                                                        # curve (<clip>_seed<k>@<variant>.csv) and table row

Policies go to runs/samples_to_skill/<clip>_seed<k> (`sfv store save` carries them to another machine); each run's
learning curve to
bench/results/samples_to_skill/curves/<clip>_seed<k>.csv (a DVC plot: `dvc plots show`) and the table to
bench/results/samples_to_skill/table.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Target(NamedTuple):
    threshold: float  # mean tracking error, metres
    minutes: int  # wall-clock limit
    seeds: tuple
    span: str  # "cycles": params.yaml's evaluation seconds; "clip": one play of the clip
    max_drift: float | None  # metres the root may end from the reference's (a gait's drift), None: any


TARGETS = {
    "walk": Target(0.05, 60, (0, 1), "cycles", 0.5),
    "jump": Target(0.05, 60, (0, 1), "clip", None),
    "cartwheel": Target(0.10, 600, (0,), "clip", None),
    "backflip": Target(0.10, 600, (0,), "clip", None),
}


def run(
    clip: str, seed: int, chunk: int, root: Path = ROOT, variant: str | None = None, overrides: dict | None = None
) -> dict:
    """Train in chunks of `chunk` samples until the skill is learned or the time limit is spent; its table row.
    `variant` names a run with `overrides` (dotted keys of `imitate`, as bench/imitation_levers.py's) applied."""
    from imitation_levers import settings_of  # beside this script

    from sfv import paths
    from sfv.analysis.learning_speed import samples_to_skill
    from sfv.config import load_params
    from sfv.imitate.curve import read_curve
    from sfv.imitate.train import train

    params = load_params(ROOT / "params.yaml")
    cfg = settings_of(params.imitate.for_clip(clip), overrides or {})
    threshold, minutes, _, _, max_drift = TARGETS[clip]
    folder = paths.skill_run_dir(clip, seed, root, variant)
    folder.mkdir(parents=True, exist_ok=True)
    reference = folder / "reference.npz"
    motion, seconds = evaluated_span(clip)
    if not reference.is_file():
        motion.save(reference)
    curve = read_curve(folder / "curve.csv")
    while True:
        result = samples_to_skill(curve, threshold, seconds, max_drift)
        spent = curve[-1]["wall_seconds"] / 60 if curve else 0.0
        if result["learned"] or spent >= minutes:
            break
        done = int(curve[-1]["timesteps"]) if curve else 0
        ppo = cfg.ppo.model_copy(update={"total_timesteps": done + chunk})
        train(
            reference,
            folder,
            cfg.env,
            cfg.reward,
            ppo,
            seed=seed,
            asi=cfg.asi,
            evaluation_seconds=seconds,
            progress=sys.stderr.isatty(),
            cluster=params.cluster,
        )
        curve = read_curve(folder / "curve.csv")
        copy = paths.skill_curve_file(clip, seed, root, variant)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / "curve.csv", copy)
        print(f"{clip} seed {seed}: {samples_to_skill(curve, threshold, seconds, max_drift)}", flush=True)
    # the defaults change as the levers are measured: a row says which it ran with where that matters
    extra = {"variant": variant, "overrides": overrides} if variant else {}
    return table_row(clip, seed, curve, seconds, pose_termination_m=cfg.env.pose_termination, **extra)


def table_row(clip: str, seed: int, curve: list[dict], seconds: float, **extra) -> dict:
    """A run's row of the table: its target, what its learning curve says of it, how far it trained."""
    from sfv.analysis.learning_speed import samples_to_skill

    threshold, minutes, _, _, max_drift = TARGETS[clip]
    last = curve[-1] if curve else {"timesteps": 0, "wall_seconds": 0}
    return {
        "clip": clip,
        "seed": seed,
        "threshold_cm": round(100 * threshold),
        "limit_minutes": minutes,
        "max_drift_m": max_drift,
        "evaluated_seconds": round(seconds, 2),
        **samples_to_skill(curve, threshold, seconds, max_drift),
        "trained_samples": int(last["timesteps"]),
        "trained_minutes": round(last["wall_seconds"] / 60, 1),
        **extra,
    }


def evaluated_span(clip: str):
    """(the clip's mocap reference, the seconds its evaluations must last): params.yaml's evaluation seconds of
    cycles for a gait, one play of the clip for a skill done once."""
    from sfv import paths
    from sfv.config import load_params
    from sfv.imitate.reference_clip import load_reference

    params = load_params(ROOT / "params.yaml")
    seconds = params.imitate.for_clip(clip).evaluation.seconds
    motion = load_reference(ROOT / paths.mocap_motion(params.clips[clip].mocap), clip)
    span = TARGETS[clip].span
    return motion, seconds if span == "cycles" and motion.loop == "wrap" else min(seconds, motion.duration)


def stopped_row(clip: str, seed: int, root: Path, row: dict | None = None) -> dict | None:
    """The row of a run that has a learning curve but stopped before it ended (learned, or its time limit spent):
    its machine was not kept, so it could not resume. None when it has no curve. `row`: its earlier row, whose
    variant and settings it keeps."""
    from sfv import paths
    from sfv.imitate.curve import read_curve

    kept = {k: row[k] for k in ("variant", "overrides", "pose_termination_m") if row and k in row}
    if row is None:  # a default run stopped before its first row: it ran with params.yaml's settings
        from sfv.config import load_params

        kept["pose_termination_m"] = load_params(ROOT / "params.yaml").imitate.env.pose_termination
    curve = read_curve(paths.skill_curve_file(clip, seed, root, kept.get("variant")))
    return table_row(clip, seed, curve, evaluated_span(clip)[1], stopped=True, **kept) if curve else None


def refresh(row: dict, root: Path) -> dict:
    """A table row with its result read again from the run's learning curve."""
    from sfv import paths
    from sfv.analysis.learning_speed import samples_to_skill
    from sfv.imitate.curve import read_curve

    curve = read_curve(paths.skill_curve_file(row["clip"], row["seed"], root, row.get("variant")))
    if not curve:
        return row
    # the clip's exact span, never the row's rounded one: jump's 1.7667 s is stored as 1.77, which no evaluation
    # outlasts (and rows of older kits, without the column, are judged the same way)
    seconds = evaluated_span(row["clip"])[1]
    max_drift = TARGETS[row["clip"]].max_drift
    return {**row, "max_drift_m": max_drift, **samples_to_skill(curve, row["threshold_cm"] / 100, seconds, max_drift)}


def parse_overrides(pairs: list[str], ap: argparse.ArgumentParser) -> dict:
    """`KEY=VALUE` pairs as {dotted key: value}, each value read as YAML (numbers, null, true, lists)."""
    import yaml

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            ap.error(f"--set {pair!r}: expected KEY=VALUE, e.g. ppo.learning_rate=0.0001")
        out[key] = yaml.safe_load(value)
    return out


def write_table(table_file: Path, rows: list[dict]) -> None:
    table_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = table_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=1) + "\n")
    tmp.replace(table_file)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = [f"{c}:{s}" for c, target in TARGETS.items() for s in target.seeds]
    ap.add_argument("--runs", nargs="*", default=default, help=f"clip:seed (default: {' '.join(default)})")
    ap.add_argument("--chunk", type=int, default=500_000, help="samples trained between checks of the curve")
    ap.add_argument("--variant", help="name of runs with other settings than params.yaml's (--set)")
    ap.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="overrides of `imitate` (dotted "
        "keys, YAML values, e.g. ppo.learning_rate_schedule=linear); needs --variant",
    )
    ap.add_argument(
        "--table",
        action="store_true",
        help="only print the table of the runs done so far (each row re-read from its learning curve)",
    )
    ap.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="where bench/results/samples_to_skill/ goes (default: the kit; another lets a copy of the "
        "code train while this one is edited)",
    )
    args = ap.parse_args()
    overrides = parse_overrides(args.set, ap)
    if bool(overrides) != bool(args.variant):
        ap.error("--set and --variant go together: a run with other settings needs a name, and a name other settings")
    if overrides:  # a wrong key or value fails here, before hours of training
        from imitation_levers import settings_of

        from sfv.config import load_params

        try:
            settings_of(load_params(ROOT / "params.yaml").imitate, overrides)
        except (KeyError, ValueError) as e:
            ap.error(f"--set: {e}")
    from sfv import paths

    table_file = paths.skill_table_file(args.root)
    rows = json.loads(table_file.read_text()) if table_file.is_file() else []
    if args.table:  # each row re-read from its learning curve (a row written by an older kit gains new columns)
        rows = [
            refresh(row, args.root) if not row.get("stopped") else stopped_row(row["clip"], row["seed"], args.root, row)
            for row in rows
        ]
        done = {(r["clip"], r["seed"]) for r in rows if not r.get("variant")}
        for clip, target in TARGETS.items():  # runs with a curve but no row yet: where they stopped
            for seed in target.seeds:
                row = None if (clip, seed) in done else stopped_row(clip, seed, args.root)
                rows += [row] if row else []
        write_table(table_file, rows)
    else:
        for spec in args.runs:
            clip, _, seed = spec.partition(":")
            if clip not in TARGETS:
                ap.error(f"--runs {spec}: clip must be one of {sorted(TARGETS)}")
            row = run(clip, int(seed or 0), args.chunk, args.root, args.variant, overrides)
            # read again: another run (another variant, in another process) may have written rows meanwhile
            rows = json.loads(table_file.read_text()) if table_file.is_file() else []
            rows = [
                r
                for r in rows
                if (r["clip"], r["seed"], r.get("variant")) != (row["clip"], row["seed"], row.get("variant"))
            ] + [row]
            write_table(table_file, rows)
    from sfv.analysis.learning_speed import skill_table

    print(skill_table(sorted(rows, key=lambda r: (list(TARGETS).index(r["clip"]), r.get("variant") or "", r["seed"]))))


if __name__ == "__main__":
    main()
