"""PPO training (stable-baselines3) of an imitation policy, resumable after any interruption, on any machine.

A run writes two folders:
  run_dir (the run in progress; `out` itself unless the caller keeps them apart, as the stages do: runs/<stage>/<name>)
    checkpoints/<steps>/   model.zip, vecnormalize.pkl, curve.csv, asi.json (every `checkpoint_every` samples;
                           the newest two are kept, so a damaged one falls back to the one before)
    latest                 name of the newest complete checkpoint (written last: the commit point)
    run.json               the settings the run was started with (a resume must match them)
  out (what the stage hands on, a DVC output)
    model.zip, vecnormalize.pkl, curve.csv, run.json, asi.json   the final policy (a complete checkpoint itself,
                           so a larger budget later resumes from it), its observation statistics, curve, settings
TensorBoard logs go to `tensorboard_dir` (default run_dir/tb). A killed run (even kill -9) restarts from its newest
good checkpoint, losing at most one checkpoint interval; `sfv store save` carries a run folder to another machine.

Extensions are stable-baselines3 callbacks composed in one list (sfv.imitate.callbacks): the learning curve and
checkpoints; every `evaluate_every` samples a deterministic evaluation from phase 0 (its error and survival go in
the curve: the samples it took to learn the skill), judged by the stage if it gives a `judge`, and the training
ends once `ppo.stop_after_learned` of them in a row were learned; with `state_init: adaptive`, ASI's start distribution
(sfv.imitate.asi), learned from the starts the envs score and handed back to them after each rollout; the learner's
threads; a progress bar.
"""

from __future__ import annotations

import json
import os
import shutil
from functools import partial
from pathlib import Path
from typing import Callable

from sfv.imitate.asi import AdaptiveStart
from sfv.imitate.callbacks import training_callbacks
from sfv.imitate.curve import read_curve, write_curve
from sfv.imitate.env import ImitationEnv
from sfv.imitate.learned import stopped_learned
from sfv.imitate.reference_clip import check_ground_contacts
from sfv.io import atomic_path, remove_interrupted_writes, write_json, write_text
from sfv.motion import load_motion
from sfv.settings.cluster import ClusterParams
from sfv.settings.common import record_defaults
from sfv.settings.imitate import ASISettings, EnvSettings, PPOSettings, RewardParams


def make_env(
    motion_path: str,
    settings: EnvSettings,
    reward: RewardParams,
    seed: int,
    rank: int,
    asi: ASISettings = ASISettings(),
):
    """One env, seeded (module-level so a worker process can unpickle it); episodes are monitored at the vec level
    (VecMonitor), so that a worker can step its envs together."""
    env = ImitationEnv(load_motion(motion_path), settings, reward, asi=asi)
    env.reset(seed=seed + rank)
    env.action_space.seed(seed + rank)
    return env


def _vec_env(
    motion_path: str,
    settings: EnvSettings,
    reward: RewardParams,
    n_envs: int,
    n_workers: int,
    seed: int,
    asi: ASISettings,
    cluster: ClusterParams = ClusterParams(),
):
    """The rollout envs: blocks of simulators in local worker processes (one env in all: in this process), or in
    Ray actors on a cluster (`cluster.backend: ray`); the same rollouts either way."""
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    from sfv.rollout_workers.vec_env import BatchedSubprocVecEnv

    fns = [partial(make_env, str(motion_path), settings, reward, seed, i, asi) for i in range(n_envs)]
    if cluster.backend == "ray":
        from sfv.rollout_workers.ray_vec_env import RayVecEnv

        return VecMonitor(
            RayVecEnv(
                fns,
                n_workers,
                address=cluster.address,
                cpus_per_worker=cluster.cpus_per_worker,
                max_replacements=cluster.max_worker_replacements,
            )
        )
    return VecMonitor(BatchedSubprocVecEnv(fns, n_workers) if n_workers > 1 and n_envs > 1 else DummyVecEnv(fns))


def _run_signature(
    motion_path,
    env_settings: EnvSettings,
    reward: RewardParams,
    ppo: PPOSettings,
    seed: int,
    asi: ASISettings,
    motion=None,
    warm_start: str | Path | None = None,
) -> dict:
    """What must match for a resume (the budget, when to stop once learned, the checkpoint and evaluation intervals
    and the learner's threads may change; anything else starts afresh, a changed reference motion too: the clip's
    reconstruction changed)."""
    signature = {
        "motion": str(motion_path),
        "motion_sha256": (motion or load_motion(motion_path)).fingerprint(),
        "env": env_settings.model_dump(mode="json"),
        "reward": reward.model_dump(mode="json"),
        "ppo": ppo.model_dump(
            mode="json",
            exclude={"total_timesteps", "checkpoint_every", "evaluate_every", "torch_threads", "stop_after_learned"},
        ),
        "seed": seed,
    }
    if env_settings.state_init == "adaptive":
        signature["asi"] = asi.model_dump(mode="json")
    if warm_start is not None:
        signature["warm_start"] = str(warm_start)
    return signature


#: the settings sections of a run signature and their models, for `same_run`
_SECTIONS = {"env": EnvSettings, "reward": RewardParams, "ppo": PPOSettings, "asi": ASISettings}


def _with_defaults(stored, defaults, current):
    """`stored` with every key it lacks (at any depth) that `current` has taken from `defaults`."""
    if not (isinstance(stored, dict) and isinstance(defaults, dict) and isinstance(current, dict)):
        return stored
    filled = {k: defaults[k] for k in current if k not in stored and k in defaults}
    for k, v in stored.items():
        filled[k] = _with_defaults(v, defaults.get(k), current.get(k))
    return filled


def run_differences(stored: dict, signature: dict) -> list[str]:
    """The settings (dotted keys) in which a run recorded with `stored` differs from `signature`. A setting the
    kit gained after the run started (absent from `stored`, at any depth: a new reward term's weight) matches
    when it has the value the run behaved with (`record_defaults`): a new option left there does not throw away
    hours of training."""
    filled = dict(stored)
    for key, model in _SECTIONS.items():
        if isinstance(stored.get(key), dict):
            filled[key] = _with_defaults(stored[key], record_defaults(model), signature.get(key, {}))

    def diff(a, b, prefix: str) -> list[str]:
        if isinstance(a, dict) and isinstance(b, dict):
            return [d for k in sorted(set(a) | set(b), key=str) for d in diff(a.get(k), b.get(k), f"{prefix}{k}.")]
        return [] if a == b else [f"{prefix[:-1]}: {a!r} -> {b!r}"]

    return diff(filled, signature, "")


def same_run(stored: dict, signature: dict) -> bool:
    """Whether a run recorded with `stored` may resume under `signature` (see `run_differences`)."""
    return not run_differences(stored, signature)


def _set_aside(run_dir: Path) -> Path:
    """Move a superseded run's checkpoints, curve and settings to `<run_dir>/superseded/` (replacing an older one
    there), so a settings change never deletes hours of training: move them back to resume it."""
    kept = run_dir / "superseded"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir()
    for name in ("checkpoints", "latest", "run.json", "curve.csv"):
        if (run_dir / name).exists():
            os.replace(run_dir / name, kept / name)
    return kept


#: the files of a checkpoint (asi.json besides, with ASI)
CHECKPOINT_FILES = ("model.zip", "vecnormalize.pkl", "curve.csv")


def checkpoint_problem(folder: Path) -> str | None:
    """Why the checkpoint (or final policy) in `folder` cannot be resumed from, or None: a file missing, a model
    archive that does not open (a truncated copy, a failed restore), statistics that do not unpickle."""
    import pickle
    import zipfile

    for name in CHECKPOINT_FILES:
        if not (folder / name).is_file():
            return f"{folder / name}: missing"
    try:
        with zipfile.ZipFile(folder / "model.zip") as archive:
            if "data" not in archive.namelist() or archive.testzip() is not None:
                return f"{folder / 'model.zip'}: damaged (an incomplete archive)"
    except (zipfile.BadZipFile, OSError) as e:
        return f"{folder / 'model.zip'}: damaged ({e})"
    try:
        with open(folder / "vecnormalize.pkl", "rb") as f:
            pickle.load(f)
    except Exception as e:  # noqa: BLE001 - any unpickling error means the same: unusable
        return f"{folder / 'vecnormalize.pkl'}: damaged ({type(e).__name__}: {e})"
    return None


def checkpoints_newest_first(run_dir: Path) -> list[Path]:
    """The run's checkpoint folders, the one `latest` names first, then the others from newest."""
    ckpts = run_dir / "checkpoints"
    found = (
        sorted((p for p in ckpts.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name), reverse=True)
        if ckpts.is_dir()
        else []
    )
    marker = run_dir / "latest"
    named = ckpts / marker.read_text().strip() if marker.is_file() else None
    return ([named] if named in found else []) + [p for p in found if p != named]


def latest_checkpoint(run_dir: Path, report=print) -> Path | None:
    """The newest checkpoint of the run that can be resumed from; each damaged one met on the way is named
    (`report`) and passed over."""
    for ckpt in checkpoints_newest_first(Path(run_dir)):
        problem = checkpoint_problem(ckpt)
        if problem is None:
            return ckpt
        if report is not None:
            report(f"checkpoint {ckpt} is damaged and is passed over: {problem}")
    return None


def policy_kwargs(env_settings: EnvSettings, ppo: PPOSettings) -> dict:
    """The actor-critic's shape: an MLP per head; with the heightmap on, a conv net reads it first."""
    import torch

    kwargs = {
        "net_arch": {"pi": list(ppo.net_arch), "vf": list(ppo.net_arch)},
        "log_std_init": ppo.log_std_init,
        "activation_fn": torch.nn.ReLU,
    }
    if env_settings.heightmap.enabled:
        from sfv.imitate.features import HeightmapFeatures

        kwargs.update(
            features_extractor_class=HeightmapFeatures,
            features_extractor_kwargs={"heightmap_shape": env_settings.heightmap.shape},
        )
    return kwargs


def save_checkpoint(run_dir: Path, model, curve: list[dict], asi: AdaptiveStart | None = None, keep: int = 2) -> Path:
    """Write a complete checkpoint folder, then point `latest` at it, then drop all but the newest `keep`."""
    ckpts = run_dir / "checkpoints"
    name = f"{model.num_timesteps:012d}"
    tmp = ckpts / (name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _write_policy(tmp, model, curve, asi)
    final = ckpts / name
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    write_text(run_dir / "latest", name + "\n")
    done = sorted((p for p in ckpts.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    for old in done[:-keep]:
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    for stale in ckpts.glob("*.tmp"):  # a write a kill interrupted
        if stale != tmp:
            shutil.rmtree(stale, ignore_errors=True)
    return final


#: stable-baselines3's archive member holding the optimiser's state: Adam's two moments, twice the policy's size
OPTIMISER_MEMBER = "policy.optimizer.pth"


def _write_policy(folder: Path, model, curve: list[dict], asi: AdaptiveStart | None, moments: bool = True) -> None:
    """A checkpoint's files, each written atomically (the final policy's folder is read while it is replaced).
    `moments=False` (the final policy, which the store ships): the model without Adam's moments (`drop_moments`)."""
    with atomic_path(folder / "model.zip") as tmp:
        model.save(tmp)
        if not moments:
            drop_moments(tmp)
    with atomic_path(folder / "vecnormalize.pkl") as tmp:
        model.get_vec_normalize_env().save(str(tmp))
    write_curve(folder / "curve.csv", curve)
    if asi is not None:
        write_json(folder / "asi.json", asi.state())


def _optimiser_state(archive: Path) -> dict:
    import io
    import zipfile

    import torch

    with zipfile.ZipFile(archive) as z:
        return torch.load(io.BytesIO(z.read(OPTIMISER_MEMBER)), map_location="cpu")


def carries_moments(archive: Path) -> bool:
    """Whether a saved model still holds Adam's moments (a checkpoint does; a final policy does not)."""
    return bool(_optimiser_state(archive)["state"])


def drop_moments(archive: Path) -> None:
    """Rewrite a saved model with its optimiser's state emptied, its parameter groups kept: it loads as any model
    (`PPO.load`), acts exactly as before, and is a third of the size; a training resumed from it (a larger budget)
    starts Adam's moments afresh. Checkpoints keep theirs, so a run in progress resumes exactly."""
    import io
    import zipfile

    import torch

    state = _optimiser_state(archive)
    emptied = io.BytesIO()
    torch.save({"state": {}, "param_groups": state["param_groups"]}, emptied)
    with zipfile.ZipFile(archive) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(archive, "w") as z:
        for info, data in members:
            info.date_time = (1980, 1, 1, 0, 0, 0)  # the same weights make the same bytes (no time of writing)
            z.writestr(info, emptied.getvalue() if info.filename == OPTIMISER_MEMBER else data)


def _resume_point(run_dir: Path, out: Path, signature: dict) -> Path | None:
    """Where a run resumes: its newest good checkpoint, else (a run folder kept apart from `out`, on a fresh clone
    after the stage ran) the final policy in `out` when it was trained with the same settings; None: from
    scratch. A checkpoint trained with other settings is set aside first (never deleted)."""
    ckpt = latest_checkpoint(run_dir)
    run_file = run_dir / "run.json"
    if ckpt is not None:
        changes = (
            run_differences(json.loads(run_file.read_text()), signature)
            if run_file.is_file()
            else ["run.json: missing"]
        )
        if not changes:
            return ckpt
        kept = _set_aside(run_dir)
        print(
            f"{run_dir}: the checkpoint was trained with other settings ({'; '.join(changes[:6])}"
            f"{'; ...' if len(changes) > 6 else ''}); starting afresh. The old run is kept in {kept}"
        )
    if (
        out != run_dir
        and (out / "run.json").is_file()
        and checkpoint_problem(out) is None
        and same_run(json.loads((out / "run.json").read_text()), signature)
    ):
        return out
    return None


def learning_rate_schedule(ppo: PPOSettings):
    """PPO's learning rate: a number (constant), or a function of stable-baselines3's progress remaining that decays
    linearly from `learning_rate` at sample 0 to 0 at `learning_rate_horizon` (default: the budget) and stays 0."""
    if ppo.learning_rate_schedule == "constant":
        return ppo.learning_rate
    start, total = ppo.learning_rate, ppo.total_timesteps
    horizon = ppo.learning_rate_horizon or total

    def rate(progress_remaining: float) -> float:
        # stable-baselines3: progress remaining = 1 - samples done / budget (a resumed learn() counts from 0 too)
        return start * max(1.0 - (1.0 - progress_remaining) * total / horizon, 0.0)

    return rate


def train(
    motion_path: str | Path,
    out: str | Path,
    env_settings: EnvSettings = EnvSettings(),
    reward: RewardParams = RewardParams(),
    ppo: PPOSettings = PPOSettings(),
    seed: int = 0,
    progress: bool = True,
    asi: ASISettings = ASISettings(),
    evaluation_seconds: float = 20.0,
    warm_start: str | Path | None = None,
    cluster: ClusterParams = ClusterParams(),
    run_dir: str | Path | None = None,
    tensorboard_dir: str | Path | None = None,
    judge: Callable[[dict], dict] | None = None,
) -> dict:
    """Train (or resume) a policy for the motion; returns a summary. Idempotent once the budget is spent.

    `evaluation_seconds`: the length of the deterministic evaluations logged every `ppo.evaluate_every` samples.
    `warm_start`: a trained policy's folder (same clip and character, flat ground) to start from: a terrain policy
    begins as the flat one (sfv.imitate.features.warm_start).
    `cluster`: where the rollout workers run (params.yaml `cluster`: local processes or Ray actors).
    `run_dir`: the folder of the run in progress (checkpoints; default `out`); a stage keeps it apart from its
    output, so that the output holds only the final policy. `tensorboard_dir`: TensorBoard's logs (default
    run_dir/tb).
    `judge`: the stage's verdict on an evaluation's rollout, figures for the curve (`eval_learned` 1 or 0, and
    `eval_truth_extra` where the truth is known); with it, the training stops once `ppo.stop_after_learned`
    evaluations in a row were learned (sfv.imitate.learned), keeping the policy the last of them evaluated."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecNormalize

    motion = load_motion(motion_path)
    check_ground_contacts(motion, env_settings.ground_contacts, motion.name)  # before the folder is touched
    out = Path(out)
    run_dir = out if run_dir is None else Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    for left in remove_interrupted_writes(out):  # a killed run's half-written file is no part of the output
        print(f"{left}: removed (a write interrupted by a kill)")
    signature = _run_signature(motion_path, env_settings, reward, ppo, seed, asi, motion, warm_start)
    ckpt = _resume_point(run_dir, out, signature)
    write_json(run_dir / "run.json", signature)

    torch.set_num_threads(ppo.torch_threads)
    learning_rate = learning_rate_schedule(ppo)
    venv = _vec_env(motion_path, env_settings, reward, ppo.n_envs, ppo.n_workers, seed, asi, cluster)
    adaptive = AdaptiveStart(asi) if env_settings.state_init == "adaptive" else None
    try:
        if ckpt is not None:
            venv = VecNormalize.load(str(ckpt / "vecnormalize.pkl"), venv)
            # the schedule from this call's settings, not the pickled one: a resumed run's budget may have grown
            model = PPO.load(
                ckpt / "model.zip", env=venv, device="cpu", custom_objects={"learning_rate": learning_rate}
            )
            model.tensorboard_log = str(tensorboard_dir or run_dir / "tb")
            curve = [r for r in read_curve(ckpt / "curve.csv") if r["timesteps"] <= model.num_timesteps]
            if adaptive is not None and (ckpt / "asi.json").is_file():
                adaptive.load(json.loads((ckpt / "asi.json").read_text()))
            print(f"resuming from {ckpt} ({model.num_timesteps} samples done)")
        else:
            venv = VecNormalize(venv, norm_obs=True, norm_reward=False, clip_obs=10.0, gamma=ppo.gamma)
            model = PPO(
                "MlpPolicy",
                venv,
                n_steps=ppo.n_steps,
                batch_size=ppo.batch_size,
                n_epochs=ppo.n_epochs,
                learning_rate=learning_rate,
                gamma=ppo.gamma,
                gae_lambda=ppo.gae_lambda,
                clip_range=ppo.clip_range,
                clip_range_vf=ppo.clip_range_vf,
                normalize_advantage=ppo.normalize_advantage,
                policy_kwargs=policy_kwargs(env_settings, ppo),
                tensorboard_log=str(tensorboard_dir or run_dir / "tb"),
                seed=seed,
                device="cpu",
                verbose=0,
            )
            if warm_start is not None:
                from sfv.imitate.evaluate import load_policy
                from sfv.imitate.features import warm_start as start_from

                source, source_normaliser = load_policy(warm_start)
                start_from(model, source, source_normaliser, venv)
                print(f"{out}: starts from the policy in {warm_start}")
            curve = []
        wall_offset = curve[-1]["wall_seconds"] if curve else 0.0
        remaining = ppo.total_timesteps - model.num_timesteps
        if remaining > 0 and stopped_learned(curve, model.num_timesteps, ppo.stop_after_learned):
            print(f"{out}: stopped as learned at {model.num_timesteps:,} samples; nothing left to train")
            remaining = 0
        if remaining > 0:
            motion = load_motion(motion_path)

            def evaluate(policy) -> dict:
                from sfv.imitate.evaluate import rollout

                result = rollout(
                    policy,
                    motion,
                    env_settings,
                    reward,
                    evaluation_seconds,
                    policy_normaliser=policy.get_vec_normalize_env(),
                )
                return {
                    "eval_tracking_error": result["tracking_error_mean"],
                    "eval_survived_seconds": result["survived_seconds"],
                    "eval_root_drift": result["root_error_final"],
                    **(judge(result) if judge is not None else {}),
                }

            callback = training_callbacks(
                run_dir,
                ppo,
                curve,
                wall_offset,
                1.0 / env_settings.control_hz,
                progress,
                evaluate,
                adaptive,
                save=lambda model: save_checkpoint(run_dir, model, curve, adaptive),
            )
            model.learn(total_timesteps=remaining, callback=callback, reset_num_timesteps=False, tb_log_name="ppo")
            save_checkpoint(run_dir, model, curve, adaptive)
            if stopped_learned(curve, model.num_timesteps, ppo.stop_after_learned):
                after = ppo.stop_after_learned
                print(f"{out}: learned ({after} evaluations in a row) at {model.num_timesteps:,} samples")
        if remaining > 0 or ckpt != out:  # a finished policy resumed from `out` itself is already there, unchanged
            _write_policy(out, model, curve, adaptive, moments=False)
        elif carries_moments(out / "model.zip"):  # ... but one written before final policies shed their moments
            with atomic_path(out / "model.zip") as tmp:
                shutil.copyfile(out / "model.zip", tmp)
                drop_moments(tmp)
        if out != run_dir:  # the final policy is the run's last checkpoint now: the run folder has served
            write_json(out / "run.json", signature)
            for name in ("checkpoints", "latest", "run.json", "curve.csv"):
                path = run_dir / name
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    finally:
        venv.close()
    last = curve[-1] if curve else {}
    return {
        "timesteps": int(model.num_timesteps),
        "wall_seconds": last.get("wall_seconds", 0.0),
        "samples_per_second": model.num_timesteps / max(last.get("wall_seconds", 1e-9), 1e-9) if last else 0.0,
        "stopped_learned": stopped_learned(curve, model.num_timesteps, ppo.stop_after_learned),
    }
