"""Rollout workers as Ray actors: the blocks of envs of `BatchedSubprocVecEnv`, on any node of a Ray cluster.

Each block (`sfv.rollout_workers.vec_env.EnvBlock`: several simulators stepped as one numpy batch) lives in a Ray actor
instead of a local process; the learner stays in the calling process and talks to the actors as it talks to its
pipes, one command per block and round trip. For the same seeds the rollouts are the ones the local workers give
(tests/test_cluster.py), so the backend is not a stage dependency.

Faults: an actor lost with its node (or killed) is replaced by a new one, which Ray places on a node still alive;
its envs start new episodes, and the step that was lost is returned for them as a truncated end of episode
(reward 0, the last observation seen as the terminal one, info["worker_lost"]), so training goes on. After
`max_replacements` losses in one run the env raises `WorkerLost`; the run then resumes from its last checkpoint
when started again (sfv.imitate.train).

Needs the `cluster` extra (`pip install -e .[cluster]`); the kit (this package) must be importable on every node
(the same environment on each, or a shared filesystem).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from sfv.rollout_workers.vec_env import BlockVecEnv, EnvBlock


class WorkerLost(RuntimeError):
    """A rollout worker was lost more often than a run allows."""


def connect(address: str | None = None):
    """The `ray` module, connected: to `address` ("auto", "host:6379", "ray://host:10001"), else to $RAY_ADDRESS,
    else to a Ray started on this machine (Ray's own rule). A connection already made is kept."""
    try:
        import ray
    except ImportError:
        raise ImportError(
            "the Ray backend needs the cluster extra: pip install -e '.[cluster]' (or set "
            "cluster.backend: local in params.yaml)"
        ) from None
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False, include_dashboard=False, configure_logging=False)
    return ray


def _lost_errors(ray) -> tuple[type[BaseException], ...]:
    """The errors that mean the actor (or its node) is gone, not that the command failed inside it (RayActorError
    covers a dead or unreachable actor)."""
    from ray import exceptions as rx

    return rx.RayActorError, rx.NodeDiedError, rx.WorkerCrashedError, rx.LocalRayletDiedError


class RayEnvBlock(EnvBlock):
    """An env block that can also say which Ray node holds it."""

    def handle(self, cmd: str, data: Any = None) -> Any:
        if cmd == "node":
            import ray

            return ray.get_runtime_context().get_node_id()
        return super().handle(cmd, data)


class RayVecEnv(BlockVecEnv):
    """`len(env_fns)` envs spread evenly over `n_workers` Ray actors (stepped in a row inside each).

    cpus_per_worker: Ray CPUs each actor asks for (fractions let several share a core); spread: place the actors
    on as many nodes as possible (Ray's SPREAD strategy)."""

    def __init__(
        self,
        env_fns: Sequence[Callable[[], gym.Env]],
        n_workers: int,
        address: str | None = None,
        cpus_per_worker: float = 1.0,
        max_replacements: int = 3,
        spread: bool = True,
    ):
        self._ray = ray = connect(address)
        self._lost = _lost_errors(ray)
        self._fns = list(env_fns)
        self._split(len(self._fns), n_workers)
        options = {"num_cpus": cpus_per_worker, "max_restarts": 0}
        if spread:
            options["scheduling_strategy"] = "SPREAD"
        self._actor_class = ray.remote(RayEnvBlock).options(**options)
        self.max_replacements = max_replacements
        self.replacements: list[dict] = []  # one record per actor replaced: worker, command, error
        self.actors = [self._start(w) for w in range(len(self.blocks))]
        self._pending: list[tuple | None] = [None] * len(self.blocks)
        self._send(0, "get_spaces", None)
        observation_space, action_space = self._recv(0)
        nodes = len(set(self.worker_nodes()))
        print(
            f"rollout workers: {len(self.blocks)} Ray actors of {max(len(b) for b in self.blocks)} envs on {nodes} "
            f"node(s) of the cluster at {ray.get_runtime_context().gcs_address}",
            flush=True,
        )
        self._last_obs: np.ndarray | None = None
        self.waiting = False
        self.closed = False
        super().__init__(len(self._fns), observation_space, action_space)

    def _start(self, w: int):
        return self._actor_class.remote([self._fns[i] for i in self.blocks[w]])

    def _send(self, w: int, cmd: str, data: Any) -> None:
        self._pending[w] = (cmd, data, self.actors[w].handle.remote(cmd, data))

    def _recv(self, w: int) -> Any:
        cmd, data, ref = self._pending[w]
        self._pending[w] = None
        try:
            return self._ray.get(ref)
        except self._lost as err:
            return self._replace(w, cmd, data, err)

    def _replace(self, w: int, cmd: str, data: Any, err: BaseException) -> Any:
        """A new actor for block w; the answer the lost one owed."""
        reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        if getattr(err, "actor_init_failed", False):  # its envs could not be made there: not a lost machine
            raise WorkerLost(
                f"rollout worker {w} could not make its envs on its node (is the kit installed there, and "
                f"the motion file on a filesystem every node sees?): {err}"
            ) from err
        if len(self.replacements) >= self.max_replacements:
            raise WorkerLost(
                f"rollout worker {w} lost ({reason}) after {len(self.replacements)} replacements in this "
                f"run (cluster.max_worker_replacements): start the run again to resume from its last "
                f"checkpoint, with enough nodes alive"
            ) from err
        self.replacements.append({"worker": w, "command": cmd, "error": reason})
        print(
            f"rollout worker {w} lost ({reason}); replacing it ({len(self.replacements)} of at most "
            f"{self.max_replacements} in this run): its {len(self.blocks[w])} envs start new episodes",
            flush=True,
        )
        try:
            self._ray.kill(self.actors[w])
        except Exception:  # already gone
            pass
        self.actors[w] = self._start(w)
        if cmd != "step":  # anything else is asked again of the new block (its envs begin afresh)
            self._send(w, cmd, data)
            return self._recv(w)
        block = self.blocks[w]
        self._send(w, "reset", [(None, None)] * len(block))
        started = self._recv(w)
        last = self._last_obs[block[0] : block[-1] + 1] if self._last_obs is not None else [obs for obs, _ in started]
        return [
            (
                obs,
                0.0,
                True,
                {"TimeLimit.truncated": True, "terminal_observation": np.asarray(prev), "worker_lost": reason},
                info,
            )
            for (obs, info), prev in zip(started, last)
        ]

    def step_wait(self):
        obs, rewards, dones, infos = super().step_wait()
        self._last_obs = obs
        return obs, rewards, dones, infos

    def reset(self):
        self._last_obs = super().reset()
        return self._last_obs

    def worker_nodes(self) -> list[str]:
        """The Ray node id each worker's actor runs on now."""
        for w in range(len(self.blocks)):
            self._send(w, "node", None)
        return [self._recv(w) for w in range(len(self.blocks))]

    def close(self) -> None:
        if self.closed:
            return
        for actor in self.actors:
            try:
                self._ray.kill(actor)
            except Exception:
                pass
        self.closed = True
