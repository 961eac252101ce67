"""Several simulators per worker process: PPO's sampling on few cores without per-env overhead.

stable-baselines3's SubprocVecEnv runs one env per process. With a 1 ms physics step, the parent's
per-step work (policy inference, pipes, pickling) then costs as much as the physics, and the
workers wait for it. Here each of `n_workers` processes (one per core) steps a block of envs in a
row, so each round trip and each batched inference serves a whole block of samples. Envs whose class
offers `step_many(envs, actions)` and `reset_many(envs)` (sfv.imitate.env.ImitationEnv) are stepped and
restarted by them, so the block's rewards and observations are computed together; wrap such envs at the vec
level (VecMonitor), since a per-env wrapper hides the methods. The block itself (`EnvBlock`) does not care what
carries its commands: here a pipe, in `sfv.rollout_workers.ray_vec_env` a Ray actor.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import CloudpickleWrapper, VecEnv


class EnvBlock:
    """A block of envs stepped in a row by one worker, whatever carries its commands: a pipe to a local process
    (`BatchedSubprocVecEnv`) or a Ray actor (`sfv.rollout_workers.ray_vec_env`). `handle(cmd, data)` answers one command
    of stable-baselines3's worker protocol; envs whose class offers `step_many` / `reset_many` are stepped and
    restarted together."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]]):
        self.envs: list[gym.Env] = [fn() for fn in env_fns]
        kinds = {type(env) for env in self.envs}
        kind = kinds.pop() if len(kinds) == 1 else None
        self._step_many, self._reset_many = getattr(kind, "step_many", None), getattr(kind, "reset_many", None)

    def handle(self, cmd: str, data: Any = None) -> Any:
        envs = self.envs
        if cmd == "step":
            return self.step(data)
        if cmd == "reset":
            return self.reset([seed for seed, _ in data], [opt or None for _, opt in data])
        if cmd == "get_spaces":
            return envs[0].observation_space, envs[0].action_space
        if cmd == "get_attr":
            name, local = data
            return [envs[i].get_wrapper_attr(name) for i in local]
        if cmd == "set_attr":
            name, value, local = data
            for i in local:
                setattr(envs[i], name, value)
            return None
        if cmd == "env_method":
            name, args, kwargs, local = data
            return [envs[i].get_wrapper_attr(name)(*args, **kwargs) for i in local]
        if cmd == "is_wrapped":
            from stable_baselines3.common.env_util import is_wrapped

            cls, local = data
            return [is_wrapped(envs[i], cls) for i in local]
        if cmd == "render":
            return [env.render() for env in envs]
        if cmd == "pid":
            return os.getpid()
        raise ValueError(f"env worker: unknown command {cmd!r}")

    def step(self, actions) -> list[tuple]:
        """(obs, reward, done, info, reset_info) per env; an env whose episode ended starts the next one (SB3's
        convention: its last observation goes to info["terminal_observation"])."""
        envs = self.envs
        stepped = (
            self._step_many(envs, actions)
            if self._step_many is not None
            else [env.step(action) for env, action in zip(envs, actions)]
        )
        results = []
        for obs, reward, terminated, truncated, info in stepped:
            done = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            if done:
                info["terminal_observation"] = obs
            results.append([obs, reward, done, info, {}])
        ended = [i for i, r in enumerate(results) if r[2]]
        if ended:  # the next episodes, started together (one batch) where the envs can
            for i, (obs, reset_info) in zip(ended, self.reset([None] * len(ended), [None] * len(ended), ended)):
                results[i][0], results[i][4] = obs, reset_info
        return [tuple(r) for r in results]

    def reset(self, seeds: list, options: list, which: list[int] | None = None) -> list[tuple]:
        envs = self.envs if which is None else [self.envs[i] for i in which]
        if self._reset_many is not None:
            return self._reset_many(envs, seeds, options)
        return [
            env.reset(seed=seed, **({"options": opt} if opt else {})) for env, seed, opt in zip(envs, seeds, options)
        ]

    def close(self) -> None:
        for env in self.envs:
            env.close()


def _worker(remote, parent_remote, fns_wrapper: CloudpickleWrapper, core: int | None = None) -> None:
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})
    parent_remote.close()
    block = EnvBlock(fns_wrapper.var)
    try:
        while True:
            try:
                cmd, data = remote.recv()
            except (EOFError, KeyboardInterrupt):
                break
            if cmd == "close":
                break
            remote.send(block.handle(cmd, data))
    finally:
        block.close()
        remote.close()


class BlockVecEnv(VecEnv):
    """A VecEnv over blocks of envs, one block per worker; how a command reaches a worker (`_send`, `_recv`) is
    the subclass's. Env i lives in block `blocks[w]` for the w whose range holds i."""

    def _split(self, n: int, n_workers: int) -> None:
        n_workers = max(1, min(n_workers, n))
        bounds = np.linspace(0, n, n_workers + 1).astype(int)
        self.blocks = [list(range(bounds[w], bounds[w + 1])) for w in range(n_workers)]

    @abstractmethod
    def _send(self, w: int, cmd: str, data: Any) -> None:
        """Send worker w a command (answered by its `EnvBlock.handle`)."""

    @abstractmethod
    def _recv(self, w: int) -> Any:
        """Worker w's answer to the command last sent to it."""

    # --- stepping ---------------------------------------------------------------------------------
    def step_async(self, actions: np.ndarray) -> None:
        for w, block in enumerate(self.blocks):
            self._send(w, "step", actions[block[0] : block[-1] + 1])
        self.waiting = True

    def step_wait(self):
        results = [r for w in range(len(self.blocks)) for r in self._recv(w)]
        self.waiting = False
        obs, rewards, dones, infos, self.reset_infos = zip(*results)
        return np.stack(obs), np.array(rewards, dtype=np.float32), np.array(dones), list(infos)

    def reset(self):
        for w, block in enumerate(self.blocks):
            self._send(w, "reset", [(self._seeds[i], self._options[i]) for i in block])
        results = [r for w in range(len(self.blocks)) for r in self._recv(w)]
        obs, self.reset_infos = zip(*results)
        self._reset_seeds()
        self._reset_options()
        return np.stack(obs)

    # --- attribute access, by global env index -----------------------------------------------------
    def _route(self, indices) -> list[tuple[int, list[int]]]:
        wanted = list(self._get_indices(indices))
        routes = []
        for w, block in enumerate(self.blocks):
            local = [i - block[0] for i in wanted if i in block]
            if local:
                routes.append((w, local))
        return routes

    def _ask(self, cmd: str, payload: Callable[[list[int]], Any], indices) -> list:
        routes = self._route(indices)
        for w, local in routes:
            self._send(w, cmd, payload(local))
        return [x for w, _ in routes for x in (self._recv(w) or [])]

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return self._ask("get_attr", lambda local: (attr_name, local), indices)

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        self._ask("set_attr", lambda local: (attr_name, value, local), indices)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        return self._ask("env_method", lambda local: (method_name, method_args, method_kwargs, local), indices)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices=None) -> list[bool]:
        return self._ask("is_wrapped", lambda local: (wrapper_class, local), indices)

    def get_images(self) -> Sequence[np.ndarray | None]:
        for w in range(len(self.blocks)):
            self._send(w, "render", None)
        return [img for w in range(len(self.blocks)) for img in self._recv(w)]


class BatchedSubprocVecEnv(BlockVecEnv):
    """`len(env_fns)` envs spread evenly over `n_workers` local processes (stepped in a row inside each)."""

    def __init__(
        self,
        env_fns: Sequence[Callable[[], gym.Env]],
        n_workers: int,
        start_method: str = "forkserver",
        pin: bool = False,
    ):
        n = len(env_fns)
        self._split(n, n_workers)
        ctx = mp.get_context(start_method)
        self.remotes, self.processes = [], []
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        for w, block in enumerate(self.blocks):
            remote, work_remote = ctx.Pipe()
            fns = CloudpickleWrapper([env_fns[i] for i in block])
            core = cores[w % len(cores)] if pin and cores else None
            proc = ctx.Process(target=_worker, args=(work_remote, remote, fns, core), daemon=True)
            proc.start()
            work_remote.close()
            self.remotes.append(remote)
            self.processes.append(proc)
        self._send(0, "get_spaces", None)
        observation_space, action_space = self._recv(0)
        self.waiting = False
        self.closed = False
        super().__init__(n, observation_space, action_space)

    def _send(self, w: int, cmd: str, data: Any) -> None:
        self.remotes[w].send((cmd, data))

    def _recv(self, w: int) -> Any:
        return self.remotes[w].recv()

    def close(self) -> None:
        if self.closed:
            return
        if self.waiting:
            for remote in self.remotes:
                remote.recv()
        for remote in self.remotes:
            remote.send(("close", None))
        for proc in self.processes:
            proc.join()
        for remote in self.remotes:
            remote.close()
        self.closed = True
