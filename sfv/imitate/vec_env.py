"""Several simulators per worker process: PPO's sampling on few cores without per-env overhead.

stable-baselines3's SubprocVecEnv runs one env per process. With a 1 ms physics step, the parent's
per-step work (policy inference, pipes, pickling) then costs as much as the physics, and the
workers wait for it. Here each of `n_workers` processes (one per core) steps a block of envs in a
row, so each round trip and each batched inference serves a whole block of samples. Envs whose class
offers `step_many(envs, actions)` and `reset_many(envs)` (sfv.imitate.env.ImitationEnv) are stepped and
restarted by them, so the block's rewards and observations are computed together; wrap such envs at the vec level (VecMonitor), since a
per-env wrapper hides the method.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import CloudpickleWrapper, VecEnv


def _worker(remote, parent_remote, fns_wrapper: CloudpickleWrapper, core: int | None = None) -> None:
    from stable_baselines3.common.env_util import is_wrapped

    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})
    parent_remote.close()
    envs: list[gym.Env] = [fn() for fn in fns_wrapper.var]
    kinds = {type(env) for env in envs}
    kind = kinds.pop() if len(kinds) == 1 else None
    step_many, reset_many = getattr(kind, "step_many", None), getattr(kind, "reset_many", None)
    try:
        while True:
            try:
                cmd, data = remote.recv()
            except (EOFError, KeyboardInterrupt):
                break
            if cmd == "step":
                results = []
                stepped = step_many(envs, data) if step_many is not None else \
                    [env.step(action) for env, action in zip(envs, data)]
                for obs, reward, terminated, truncated, info in stepped:
                    done = terminated or truncated
                    info["TimeLimit.truncated"] = truncated and not terminated
                    if done:  # SB3's convention: keep the last observation, start the next episode
                        info["terminal_observation"] = obs
                    results.append([obs, reward, done, info, {}])
                ended = [i for i, r in enumerate(results) if r[2]]
                if ended:  # the next episodes, started together (one batch) where the envs can
                    started = reset_many([envs[i] for i in ended]) if reset_many is not None else \
                        [envs[i].reset() for i in ended]
                    for i, (obs, reset_info) in zip(ended, started):
                        results[i][0], results[i][4] = obs, reset_info
                remote.send([tuple(r) for r in results])
            elif cmd == "reset":
                seeds, options = [seed for seed, _ in data], [opt or None for _, opt in data]
                if reset_many is not None:
                    remote.send(reset_many(envs, seeds, options))
                else:
                    remote.send([env.reset(seed=seed, **({"options": opt} if opt else {}))
                                 for env, seed, opt in zip(envs, seeds, options)])
            elif cmd == "get_spaces":
                remote.send((envs[0].observation_space, envs[0].action_space))
            elif cmd == "get_attr":
                name, local = data
                remote.send([envs[i].get_wrapper_attr(name) for i in local])
            elif cmd == "set_attr":
                name, value, local = data
                for i in local:
                    setattr(envs[i], name, value)
                remote.send(None)
            elif cmd == "env_method":
                name, args, kwargs, local = data
                remote.send([envs[i].get_wrapper_attr(name)(*args, **kwargs) for i in local])
            elif cmd == "is_wrapped":
                cls, local = data
                remote.send([is_wrapped(envs[i], cls) for i in local])
            elif cmd == "render":
                remote.send([env.render() for env in envs])
            elif cmd == "close":
                break
            else:
                raise ValueError(f"BatchedSubprocVecEnv worker: unknown command {cmd!r}")
    finally:
        for env in envs:
            env.close()
        remote.close()


class BatchedSubprocVecEnv(VecEnv):
    """`len(env_fns)` envs spread evenly over `n_workers` processes (stepped in a row inside each)."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], n_workers: int, start_method: str = "forkserver",
                 pin: bool = False):
        n = len(env_fns)
        n_workers = max(1, min(n_workers, n))
        bounds = np.linspace(0, n, n_workers + 1).astype(int)
        self.blocks = [list(range(bounds[w], bounds[w + 1])) for w in range(n_workers)]
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
        self.remotes[0].send(("get_spaces", None))
        observation_space, action_space = self.remotes[0].recv()
        self.waiting = False
        self.closed = False
        super().__init__(n, observation_space, action_space)

    # --- stepping ---------------------------------------------------------------------------------
    def step_async(self, actions: np.ndarray) -> None:
        for remote, block in zip(self.remotes, self.blocks):
            remote.send(("step", actions[block[0]:block[-1] + 1]))
        self.waiting = True

    def step_wait(self):
        results = [r for remote in self.remotes for r in remote.recv()]
        self.waiting = False
        obs, rewards, dones, infos, self.reset_infos = zip(*results)
        return np.stack(obs), np.array(rewards, dtype=np.float32), np.array(dones), list(infos)

    def reset(self):
        for remote, block in zip(self.remotes, self.blocks):
            remote.send(("reset", [(self._seeds[i], self._options[i]) for i in block]))
        results = [r for remote in self.remotes for r in remote.recv()]
        obs, self.reset_infos = zip(*results)
        self._reset_seeds()
        self._reset_options()
        return np.stack(obs)

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
            self.remotes[w].send((cmd, payload(local)))
        return [x for w, _ in routes for x in (self.remotes[w].recv() or [])]

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return self._ask("get_attr", lambda local: (attr_name, local), indices)

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        self._ask("set_attr", lambda local: (attr_name, value, local), indices)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        return self._ask("env_method", lambda local: (method_name, method_args, method_kwargs, local), indices)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices=None) -> list[bool]:
        return self._ask("is_wrapped", lambda local: (wrapper_class, local), indices)

    def get_images(self) -> Sequence[np.ndarray | None]:
        for remote in self.remotes:
            remote.send(("render", None))
        return [img for remote in self.remotes for img in remote.recv()]
