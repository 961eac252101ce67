"""Ablation of the imitation's levers: each variant of `imitate` settings trains the same mocap clip for the same
budget and seed, then one deterministic evaluation; prints the table (samples, minutes, error, survival).

    python bench/imitation_levers.py --clip walk --budget 600000
    python bench/imitation_levers.py --list                     # the variants and their overrides
    python bench/imitation_levers.py --throughput 40960 --variants baseline envs_16 learner_threads_2
                                      # training samples/s of each variant, measured in one run (idle machine)

A variant is a set of overrides of params.yaml's `imitate` section (dotted keys, e.g. `ppo.n_epochs`).
A larger --budget continues a variant's run where the smaller one stopped (a row per budget is kept).
Every run lives in runs/levers/<clip>@<variant>/ (`sfv store save` carries it to another machine) and resumes after an
interruption (sfv.imitate.train); a finished variant is evaluated once, its row kept in
bench/results/levers/<clip>.json and its learning curve copied to bench/results/levers/curves/<clip>/,
so a rerun only adds what is missing (sfv.paths names these files; the results page, notebook 11, shows them).
Variants run one after another, each on all the cores (ppo.n_workers).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: which params.yaml the variants override (rows of other defaults stay in the table, labelled with theirs)
DEFAULTS = "32 envs x 128 steps, 2 learner threads, reference root observed, pose termination 1 m"
#: variant name -> overrides of `imitate` (dotted keys); "baseline" is params.yaml as it is
VARIANTS: dict[str, dict] = {
    "baseline": {},
    "epochs_10": {"ppo.n_epochs": 10},
    "epochs_3": {"ppo.n_epochs": 3},
    "minibatch_256": {"ppo.batch_size": 256},
    "minibatch_1024": {"ppo.batch_size": 1024},
    "rollout_256": {"ppo.n_steps": 256},
    "rollout_1024": {"ppo.n_steps": 1024},
    "envs_16": {"ppo.n_envs": 16, "ppo.n_steps": 256},
    "envs_32": {"ppo.n_envs": 32, "ppo.n_steps": 128},
    "learner_threads_2": {"ppo.torch_threads": 2},  # the envs idle while PPO learns: give it both cores
    "envs_16_threads_2": {
        "ppo.n_envs": 16,
        "ppo.n_steps": 256,
        "ppo.torch_threads": 2,
    },  # same samples per update, 8 envs stepped together per worker
    "lr_1e-4": {"ppo.learning_rate": 1.0e-4},
    "lr_1e-3": {"ppo.learning_rate": 1.0e-3},
    "lr_linear": {"ppo.learning_rate_schedule": "linear", "ppo.learning_rate": 6.0e-4},
    "no_advantage_norm": {"ppo.normalize_advantage": False},
    "value_clip_0.2": {"ppo.clip_range_vf": 0.2},
    "gamma_0.99": {"ppo.gamma": 0.99},
    "gamma_0.9": {"ppo.gamma": 0.9},
    "net_128": {"ppo.net_arch": [128, 128]},
    "net_512_256": {"ppo.net_arch": [512, 256]},
    "noise_std_0.1": {"ppo.log_std_init": -2.3},
    "noise_std_0.37": {"ppo.log_std_init": -1.0},
    "action_scale_0.25": {"env.action_scale": 0.25},
    "action_scale_1": {"env.action_scale": 1.0},
    "action_absolute": {"env.action_mode": "absolute", "env.action_scale": 1.0},
    "phase_sincos": {"env.phase_encoding": "sincos"},
    "reference_root_obs": {"env.reference_root_observation": True},
    "no_early_termination": {"env.early_termination": False},
    "physics_120hz": {"env.physics_hz": 120.0},
    "ee_scale_10": {"reward.scales.end_effector": 10.0},
    "paper_weights": {"reward.weights": {"pose": 0.65, "velocity": 0.1, "end_effector": 0.15, "root": 0.0, "com": 0.1}},
    "root_weight_0.4": {"reward.weights.root": 0.4},
    # drift (walk: <= 0.5 m over 20 s): the reference root observed, and a root term that still pulls when far
    "root_obs_root_scale_1": {"env.reference_root_observation": True, "reward.scales.root": 1.0},
    "root_obs_root_weight_0.4": {"env.reference_root_observation": True, "reward.weights.root": 0.4},
    "root_obs_gamma_0.99": {"env.reference_root_observation": True, "ppo.gamma": 0.99},
    "root_velocity_0.1": {"reward.weights.root": 0.15, "reward.weights.root_velocity": 0.1},  # MimicKit's split
    # drift: MimicKit's pose termination (an episode ends when a body strays this far from the reference's)
    "pose_termination_1": {"env.pose_termination": 1.0},
    "pose_termination_0.5": {"env.pose_termination": 0.5},
    "start_only": {"env.state_init": "start"},
    "asi": {"env.state_init": "adaptive"},
}


def settings_of(imitate, overrides: dict):
    """`imitate` with the dotted overrides applied, validated by the params schema (a wrong key fails)."""
    data = imitate.model_dump(mode="json")
    for key, value in overrides.items():
        *path, last = key.split(".")
        node = data
        for part in path:
            node = node[part]
        if last not in node:
            raise KeyError(f"override {key!r}: imitate has no such setting")
        node[last] = value
    return type(imitate).model_validate(data)


def run_variant(clip: str, name: str, overrides: dict, budget: int, seed: int, root: Path) -> dict:
    from sfv import paths
    from sfv.config import load_params
    from sfv.imitate.evaluate import load_policy, rollout
    from sfv.imitate.reference_clip import load_reference
    from sfv.imitate.train import train

    params = load_params(ROOT / "params.yaml")
    imitate = settings_of(params.imitate.for_clip(clip), overrides)
    ppo = imitate.ppo.model_copy(update={"total_timesteps": budget})
    folder = paths.lever_run_dir(clip, name, root)
    folder.mkdir(parents=True, exist_ok=True)
    reference = folder / "reference.npz"
    if not reference.is_file():
        motion = load_reference(ROOT / paths.mocap_motion(params.clips[clip].mocap), clip)
        motion.save(reference)
    summary = train(
        reference,
        folder,
        imitate.env,
        imitate.reward,
        ppo,
        seed=seed,
        progress=False,
        asi=imitate.asi,
        evaluation_seconds=imitate.evaluation.seconds,
    )
    curve_copy = paths.lever_curve_file(clip, name, root)
    curve_copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "curve.csv", curve_copy)
    model, normaliser = load_policy(folder)
    result = rollout(
        model,
        load_reference(reference, clip),
        imitate.env,
        imitate.reward,
        imitate.evaluation.seconds,
        policy_normaliser=normaliser,
    )
    return {
        "variant": name,
        "overrides": overrides,
        "defaults": DEFAULTS,
        "budget": budget,
        "samples": summary["timesteps"],
        "minutes": round(summary["wall_seconds"] / 60, 1),
        "samples_per_second": round(summary["samples_per_second"]),
        "tracking_error_cm": round(100 * result["tracking_error_mean"], 2),
        "survived_seconds": round(result["survived_seconds"], 2),
        "root_drift_m": round(result["root_error_final"], 2),
        "seed": seed,
    }


def throughput(clip: str, names: list[str], samples: int) -> list[tuple[str, float]]:
    """Training samples/s (sampling and learning, the first update left out) of each variant, in this run."""
    import tempfile

    from sfv import paths
    from sfv.config import load_params
    from sfv.imitate.curve import read_curve
    from sfv.imitate.reference_clip import load_reference
    from sfv.imitate.train import train

    params = load_params(ROOT / "params.yaml")
    motion = load_reference(ROOT / paths.mocap_motion(params.clips[clip].mocap), clip)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        reference = motion.save(Path(tmp) / "reference.npz")
        for name in names:
            imitate = settings_of(params.imitate.for_clip(clip), VARIANTS[name])
            ppo = imitate.ppo.model_copy(
                update={"total_timesteps": samples, "evaluate_every": 0, "checkpoint_every": 10 * samples}
            )
            train(reference, Path(tmp) / name, imitate.env, imitate.reward, ppo, progress=False, asi=imitate.asi)
            curve = read_curve(Path(tmp) / name / "curve.csv")
            first, last = curve[0], curve[-1]
            out.append(
                (name, (last["timesteps"] - first["timesteps"]) / (last["wall_seconds"] - first["wall_seconds"]))
            )
            print(f"{name}: {out[-1][1]:.0f} samples/s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clip", default="walk", help="a mocap clip of params.yaml's `clips`")
    ap.add_argument("--budget", type=int, default=600_000, help="samples per variant")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", type=Path, default=ROOT, help="where bench/results/levers/ goes (default: the kit)")
    ap.add_argument("--variants", nargs="*", default=None, help=f"default: all ({', '.join(VARIANTS)})")
    ap.add_argument("--list", action="store_true", help="print the variants and exit")
    ap.add_argument(
        "--throughput",
        type=int,
        metavar="SAMPLES",
        help="only measure each variant's training speed over this many samples (no evaluation, nothing kept)",
    )
    args = ap.parse_args()
    if args.list:
        for name, o in VARIANTS.items():
            print(f"{name:22s} {o}")
        return
    names = args.variants or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        ap.error(f"unknown variants {unknown}; --list shows them")
    from sfv import paths

    if args.throughput:
        rates = throughput(args.clip, names, args.throughput)
        base = dict(rates).get("baseline")
        print(f"training samples/s ({args.clip}, {args.throughput:,} samples each, first update left out)")
        for name, rate in rates:
            print(f"  {name:22s} {rate:7.0f}" + (f"   ({rate / base:.2f}x baseline)" if base else ""))
        return
    rows_file = paths.lever_rows_file(args.clip, args.root)
    rows = json.loads(rows_file.read_text()) if rows_file.is_file() else []
    done = {(r["variant"], r["seed"], r["budget"], r.get("defaults")) for r in rows if "budget" in r}
    for name in names:
        if (name, args.seed, args.budget, DEFAULTS) in done:
            continue
        t0 = time.time()
        row = run_variant(args.clip, name, VARIANTS[name], args.budget, args.seed, args.root)
        # read again before writing: another run of this bench may have added rows meanwhile
        rows = json.loads(rows_file.read_text()) if rows_file.is_file() else []
        rows = [
            r
            for r in rows
            if (r["variant"], r["seed"], r.get("budget"), r.get("defaults")) != (name, args.seed, args.budget, DEFAULTS)
        ] + [row]
        rows_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = rows_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows, indent=1))
        tmp.replace(rows_file)
        print(
            f"{name}: {row['tracking_error_cm']} cm, survived {row['survived_seconds']} s ({time.time() - t0:.0f} s)",
            flush=True,
        )
    from sfv.analysis.learning_speed import lever_table

    print(lever_table([r for r in rows if r["variant"] in names and r["seed"] == args.seed]))


if __name__ == "__main__":
    main()
