"""PPO sampling+learning throughput on this machine's cores: the kit's trainer vs two baselines.

All three train stable-baselines3 PPO (same hyperparameters as params.yaml `imitate.ppo`, 4096
samples per update) on the walk clip for a few updates after one warm-up update, in this run:
- sfv: the kit's setting, `n_envs` simulators spread over `n_workers` processes (BatchedSubprocVecEnv);
- sfv, one env per process: SB3's own SubprocVecEnv with `n_workers` envs (what most SB3 code does);
- peer: pybullet_envs' DeepMimic env behind a thin gymnasium adapter, SB3 SubprocVecEnv, `n_workers` envs.
Run: `python bench/ppo_throughput.py` (or `make bench`). Target: sfv >= 1,000 samples/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial

import gymnasium as gym
import numpy as np
import torch

from sfv.config import load_params
from sfv.imitate.train import make_env


class PeerDeepMimic(gym.Env):
    """pybullet_envs' DeepMimic walk env as its own gym wrapper drives it, in gymnasium's API."""

    def __init__(self):
        from env_throughput import load_peer

        self.env = load_peer()
        self.offset, self.scale = self.env.build_action_offset(-1), self.env.build_action_scale(-1)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=np.shape(self.offset), dtype=np.float32)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(197,), dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.env.reset()
        return np.asarray(self.env.record_state(-1), dtype=np.float32), {}

    def step(self, action):
        action = np.asarray(action) / self.scale - self.offset  # the gym wrapper's rescaling
        reward = self.env.calc_reward(-1)
        self.env.set_action(-1, action)
        for _ in range(8):
            self.env.update(1.0 / 240)
        done = self.env.is_episode_end()
        return np.asarray(self.env.record_state(-1), dtype=np.float32), reward, done, False, {"tracking_error": 0.0}


def make_peer(rank: int):
    from stable_baselines3.common.monitor import Monitor

    return Monitor(PeerDeepMimic())


def measure(venv, ppo, updates: int) -> float:
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecNormalize

    venv = VecNormalize(venv, norm_obs=True, norm_reward=False, gamma=ppo.gamma)
    per_update = venv.num_envs * (4096 // venv.num_envs)
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=4096 // venv.num_envs,
        batch_size=ppo.batch_size,
        n_epochs=ppo.n_epochs,
        learning_rate=ppo.learning_rate,
        gamma=ppo.gamma,
        gae_lambda=ppo.gae_lambda,
        policy_kwargs={
            "net_arch": list(ppo.net_arch),
            "log_std_init": ppo.log_std_init,
            "activation_fn": torch.nn.ReLU,
        },
        device="cpu",
        seed=0,
    )
    model.learn(per_update)  # warm-up: process start, first rollout
    t0 = time.perf_counter()
    model.learn(updates * per_update, reset_num_timesteps=False)
    rate = updates * per_update / (time.perf_counter() - t0)
    venv.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=5)
    parser.add_argument("--skip-peer", action="store_true")
    a = parser.parse_args()
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from sfv.rollout_workers.vec_env import BatchedSubprocVecEnv

    params = load_params()
    env_settings, reward, ppo = params.imitate.env, params.imitate.reward, params.imitate.ppo
    torch.set_num_threads(ppo.torch_threads)
    motion = "data/mocap/walk.npz"
    if not os.path.exists(motion):
        raise SystemExit(f"{motion} is missing: run `dvc repro motion_library` first")
    fns = [partial(make_env, motion, env_settings, reward, 0, i) for i in range(ppo.n_envs)]
    ours = measure(BatchedSubprocVecEnv(fns, ppo.n_workers), ppo, a.updates)
    plain = measure(SubprocVecEnv(fns[: ppo.n_workers], start_method="forkserver"), ppo, a.updates)
    print(f"PPO samples/s including learning, {os.cpu_count()} cores, {a.updates} updates of 4096 samples, walk")
    print(f"  sfv ({ppo.n_envs} envs in {ppo.n_workers} processes):      {ours:7.0f}   (target >= 1000)")
    print(f"  sfv env, SB3 SubprocVecEnv ({ppo.n_workers} envs):   {plain:7.0f}   (sfv is {ours / plain:.2f}x)")
    if not a.skip_peer:
        peer = measure(
            SubprocVecEnv([partial(make_peer, i) for i in range(ppo.n_workers)], start_method="forkserver"),
            ppo,
            a.updates,
        )
        print(f"  peer pybullet_envs.deep_mimic ({ppo.n_workers} envs):   {peer:7.0f}   (sfv is {ours / peer:.2f}x)")


if __name__ == "__main__":
    main()
