"""How a terrain policy reads its observation: the body state as it is, the heightmap through a small conv net.

The env appends the heightmap (the ground's heights on a grid around the character, `imitate.env.heightmap`) to
DeepMimic's state; a plain MLP would treat those numbers as unrelated inputs. This stable-baselines3 features
extractor convolves them as the grid they are (neighbouring heights make an edge, a step, a gap) and passes the
body state through beside the result, so the policy's MLP sees both.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


class HeightmapFeatures(BaseFeaturesExtractor):
    """[body state | conv(heightmap)]: the observation's last rows x cols numbers are the heightmap grid."""

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        heightmap_shape: tuple[int, int],
        channels: int = 8,
        out_features: int = 32,
    ):
        rows, cols = heightmap_shape
        self.grid = rows * cols
        body = int(observation_space.shape[0]) - self.grid
        if body <= 0:
            raise ValueError(
                f"observation of {observation_space.shape[0]} numbers cannot end with a {rows} x {cols} heightmap"
            )
        super().__init__(observation_space, features_dim=body + out_features)
        self.shape, self.body = (rows, cols), body
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(channels * rows * cols, out_features),
            nn.ReLU(),
        )

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        heights = observations[:, self.body :].reshape(-1, 1, *self.shape)
        return torch.cat([observations[:, : self.body], self.conv(heights)], dim=1)


def warm_start(model, source_model, source_normaliser, normaliser) -> list[str]:
    """Start `model` (a terrain policy: heightmap on) from `source_model` (a flat-ground policy of the same clip
    and character, heightmap off): every weight of the same shape is copied; the first layers, which now also read
    the heightmap's features, keep the source's columns for the body state and start at 0 for the rest, so the new
    policy acts exactly as the flat one until it learns to use the ground it sees. The observation statistics of
    the body state are copied too. Returns the parameters copied (whole or in part)."""
    src, dst = source_model.policy.state_dict(), model.policy.state_dict()
    copied = []
    for key, value in dst.items():
        old = src.get(key)
        if old is None:
            continue
        if old.shape == value.shape:
            dst[key] = old.clone()
        elif old.ndim == 2 and old.shape[0] == value.shape[0] and old.shape[1] < value.shape[1]:
            grown = torch.zeros_like(value)
            grown[:, : old.shape[1]] = old
            dst[key] = grown
        else:
            continue
        copied.append(key)
    model.policy.load_state_dict(dst)
    old_rms, new_rms = source_normaliser.obs_rms, normaliser.obs_rms
    n = len(old_rms.mean)
    if len(new_rms.mean) < n:
        raise ValueError(
            f"the source policy observes {n} numbers, more than this env's {len(new_rms.mean)}: "
            "warm_start needs the same character and observation settings, the heightmap added"
        )
    new_rms.mean[:n], new_rms.var[:n] = old_rms.mean, old_rms.var
    new_rms.count = float(min(old_rms.count, 1e5))  # the statistics still adapt to the terrain's states
    return copied
