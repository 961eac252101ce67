"""What a training does besides PPO, as stable-baselines3 callbacks composed in one list (`training_callbacks`).

After each rollout, in the list's order: the learning curve starts the rollout's row (`LearningCurve`); ASI learns
its start distribution from the starts the envs scored and adds its entropy (`AdaptiveStartUpdate`); a
deterministic evaluation from phase 0 adds its error and survival when one is due (`Evaluations`, its time not
counted as training time); the row is recorded (`CurveRecorder`: the curve file, TensorBoard); the training ends
if its last evaluations were judged learned (`StopOnceLearned`); a checkpoint is written when one is due
(`Checkpoints`); the learner takes its threads back for PPO's update (`LearnerThreads`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

from sfv.imitate.asi import AdaptiveStart
from sfv.imitate.curve import write_curve
from sfv.imitate.learned import learned_streak
from sfv.settings.imitate import PPOSettings


def next_multiple(done: int, every: int) -> int | float:
    """The first multiple of `every` above `done` (never, for `every` 0)."""
    return (done // every + 1) * every if every > 0 else float("inf")


class LearningCurve(BaseCallback):
    """Per rollout, the training episodes' mean return and length, the mean tracking error and step reward, and
    the wall-clock time (evaluations excluded). The rollout's row is `row` until `CurveRecorder` appends it to
    `rows` (a resumed run's curve continues the list it was given)."""

    def __init__(self, rows: list[dict], wall_offset: float, dt: float):
        super().__init__()
        self.rows, self.wall_offset, self.dt = rows, wall_offset, dt
        self.row: dict = {}

    def _on_training_start(self) -> None:
        self.t0 = time.time()
        self.returns, self.lengths, self.errors, self.rewards = [], [], [], []

    def exclude(self, seconds: float) -> None:
        """Leave `seconds` (an evaluation) out of the training's wall-clock time."""
        self.t0 += seconds

    def _on_step(self) -> bool:
        for info, reward in zip(self.locals["infos"], np.asarray(self.locals["rewards"]).tolist()):
            if "worker_lost" in info:  # a step its lost worker never took (sfv.rollout_workers.ray_vec_env)
                continue
            self.errors.append(info["tracking_error"])
            self.rewards.append(reward)
            if "episode" in info:
                self.returns.append(info["episode"]["r"])
                self.lengths.append(info["episode"]["l"])
        return True

    def _on_rollout_end(self) -> None:
        wall = self.wall_offset + time.time() - self.t0
        self.row = {
            "timesteps": float(self.num_timesteps),
            "wall_seconds": round(wall, 1),
            "episode_return": float(np.mean(self.returns)) if self.returns else float("nan"),
            "episode_seconds": float(np.mean(self.lengths)) * self.dt if self.lengths else float("nan"),
            "tracking_error": float(np.mean(self.errors)) if self.errors else float("nan"),
            "step_reward": float(np.mean(self.rewards)) if self.rewards else float("nan"),
        }
        self.returns, self.lengths, self.errors, self.rewards = [], [], [], []


class AdaptiveStartUpdate(BaseCallback):
    """ASI (sfv.imitate.asi): the start distribution handed to the envs, learned after each rollout from the starts
    they scored; its entropy goes in the curve."""

    def __init__(self, asi: AdaptiveStart, curve: LearningCurve):
        super().__init__()
        self.asi, self.curve = asi, curve

    def _on_training_start(self) -> None:
        self.starts, self.scores = [], []
        self.training_env.env_method("set_start_weights", self.asi.probabilities)

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "start_score" in info and "worker_lost" not in info:
                self.starts.append(info["start_score"][0])
                self.scores.append(info["start_score"][1])
        return True

    def _on_rollout_end(self) -> None:
        asi = self.asi
        asi.update(self.starts, self.scores)
        self.training_env.env_method("set_start_weights", asi.probabilities)
        self.curve.row["start_entropy"] = float(
            -asi.probabilities @ np.log(asi.probabilities) / np.log(len(asi.logits))
        )
        self.starts, self.scores = [], []


class _Periodic(BaseCallback):
    """Calls `act()` after the first rollout that ends at or past each multiple of `every` samples (never, for 0)."""

    def __init__(self, every: int, act: Callable[[], None]):
        super().__init__()
        self.every, self.act = every, act

    def _on_training_start(self) -> None:
        self.next = next_multiple(self.num_timesteps, self.every)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        if self.num_timesteps >= self.next:
            self.act()
            self.next = next_multiple(self.num_timesteps, self.every)


class Evaluations(_Periodic):
    """Every `every` samples, `evaluate(model)` (a deterministic rollout from phase 0) adds its figures to the
    rollout's row: the samples it took to learn the skill. Its time is not training time."""

    def __init__(self, every: int, evaluate: Callable, curve: LearningCurve):
        super().__init__(every, self._evaluate)
        self.evaluate, self.curve = evaluate, curve

    def _evaluate(self) -> None:
        t = time.time()
        self.curve.row.update(self.evaluate(self.model))
        self.curve.exclude(time.time() - t)


class CurveRecorder(BaseCallback):
    """The rollout's row appended to the curve, written to `<run_dir>/curve.csv` and logged to TensorBoard."""

    def __init__(self, curve: LearningCurve, run_dir: Path):
        super().__init__()
        self.curve, self.run_dir = curve, run_dir

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        row = self.curve.row
        self.curve.rows.append(row)
        self.logger.record("imitate/tracking_error_m", row["tracking_error"])
        self.logger.record("imitate/step_reward", row["step_reward"])
        self.logger.record("imitate/episode_seconds", row["episode_seconds"])
        write_curve(self.run_dir / "curve.csv", self.curve.rows)


class StopOnceLearned(BaseCallback):
    """Ends the training once the curve's last `after` evaluations in a row were judged learned
    (sfv.imitate.learned): the budget is a cap, not a sentence. The policy kept is the one the last of them
    evaluated: stable-baselines3 still runs one PPO update after a rollout ends, and the normaliser sees one more
    step before the next rollout can be stopped, so both are put back as they were (`restore`)."""

    def __init__(self, after: int, curve: LearningCurve):
        super().__init__()
        self.after, self.curve = after, curve
        self.stopped = False
        self._snapshot: tuple | None = None

    def _on_step(self) -> bool:
        return self._snapshot is None

    def _on_rollout_end(self) -> None:
        judged_now = bool(self.curve.rows) and "eval_learned" in self.curve.rows[-1]
        if judged_now and learned_streak(self.curve.rows) >= self.after:
            import copy

            normaliser = self.model.get_vec_normalize_env()
            self._snapshot = (
                copy.deepcopy(self.model.policy.state_dict()),
                copy.deepcopy(normaliser.obs_rms) if normaliser is not None else None,
                self.model.num_timesteps,
            )

    def _on_training_end(self) -> None:
        if self._snapshot is not None:
            state, obs_rms, samples = self._snapshot
            self.model.policy.load_state_dict(state)
            if obs_rms is not None:
                self.model.get_vec_normalize_env().obs_rms = obs_rms
            self.model.num_timesteps = samples
            self.stopped = True


class Checkpoints(_Periodic):
    """A checkpoint (`save(model)`) every `every` samples: a kill loses at most that much training."""

    def __init__(self, every: int, save: Callable):
        super().__init__(every, lambda: save(self.model))


class LearnerThreads(BaseCallback):
    """One torch thread while the env workers collect a rollout (they take the cores then), `threads` for PPO's
    update (the workers idle during it)."""

    def __init__(self, threads: int):
        super().__init__()
        self.threads = threads

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        import torch

        torch.set_num_threads(1)

    def _on_rollout_end(self) -> None:
        import torch

        torch.set_num_threads(self.threads)


class ProgressBar(BaseCallback):
    """A tqdm bar over the budget's samples, with the last rollout's tracking error and episode length."""

    def __init__(self, total: int, curve: LearningCurve):
        super().__init__()
        self.total, self.curve = total, curve

    def _on_training_start(self) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=self.total, initial=self.num_timesteps, unit="sample", desc="PPO", smoothing=0.1, mininterval=2.0
        )

    def _on_step(self) -> bool:
        self.bar.update(self.training_env.num_envs)
        return True

    def _on_rollout_end(self) -> None:
        row = self.curve.row
        self.bar.set_postfix(err=f"{row['tracking_error']:.3f}m", ep=f"{row['episode_seconds']:.1f}s")

    def _on_training_end(self) -> None:
        self.bar.close()


def training_callbacks(
    run_dir: Path,
    ppo: PPOSettings,
    rows: list[dict],
    wall_offset: float,
    dt: float,
    progress: bool,
    evaluate: Callable,
    asi: AdaptiveStart | None,
    save: Callable,
) -> CallbackList:
    """The callbacks of one training, in the order they act after a rollout (see the module's docstring)."""
    curve = LearningCurve(rows, wall_offset, dt)
    callbacks: list[BaseCallback] = [curve]
    if asi is not None:
        callbacks.append(AdaptiveStartUpdate(asi, curve))
    callbacks += [Evaluations(ppo.evaluate_every, evaluate, curve), CurveRecorder(curve, run_dir)]
    if progress:
        callbacks.append(ProgressBar(ppo.total_timesteps, curve))
    if ppo.stop_after_learned > 0:
        callbacks.append(StopOnceLearned(ppo.stop_after_learned, curve))
    callbacks += [Checkpoints(ppo.checkpoint_every, save), LearnerThreads(ppo.torch_threads)]
    return CallbackList(callbacks)
