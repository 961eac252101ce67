"""Predicting what follows a still pose: a nearest-neighbour baseline, a small network, and holding still.

All three answer the same question from the same input, a still's pose features (`library.pose_features`):
the continuation (the bodies over the horizon), the skill and the phase it is at.
- `HoldStill`: nothing moves; the floor any method must beat.
- `NearestNeighbour`: the library frame whose pose is closest; its continuation, skill and phase.
- `CompletionMLP`: a small torch MLP trained on the library, with three heads (continuation, skill, phase as
  a point on the circle). Noise is added to its input poses while it trains, as reconstructions from video
  are noisy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfv.completion.library import UP, Entry


@dataclass
class Prediction:
    continuation: np.ndarray  # (N, K, B, 3)
    skill: list[str | None]  # None: the method does not name one
    phase: np.ndarray  # (N,) nan where no phase is named
    matched: list[str | None]  # the library motion the answer came from (nearest neighbour)


@dataclass
class Examples:
    features: np.ndarray  # (N, F)
    continuation: np.ndarray  # (N, K, B, 3)
    skill: np.ndarray  # (N,) index into `skills`
    phase: np.ndarray  # (N,)
    entry: np.ndarray  # (N,) index into the entries
    skills: list[str]
    names: list[str]


def stack(entries: list[Entry]) -> Examples:
    if not entries:
        raise ValueError("the motion library is empty: nothing to complete a pose from")
    skills = sorted({e.skill for e in entries})
    n = [len(e.features) for e in entries]
    return Examples(
        features=np.concatenate([e.features for e in entries]),
        continuation=np.concatenate([e.continuation for e in entries]),
        skill=np.repeat([skills.index(e.skill) for e in entries], n),
        phase=np.concatenate([e.phase for e in entries]),
        entry=np.repeat(np.arange(len(entries)), n),
        skills=skills,
        names=[e.name for e in entries],
    )


class HoldStill:
    """The still's own pose held over the whole horizon (its bodies, rebuilt from the features)."""

    def __init__(self, n_bodies: int, steps: int):
        self.n_bodies, self.steps = n_bodies, steps

    def fit(self, entries: list[Entry]) -> "HoldStill":
        return self

    def predict(self, features: np.ndarray) -> Prediction:
        n, nb = len(features), self.n_bodies
        bodies = np.zeros((n, nb, 3))
        bodies[:, 1:] = features[:, : 3 * (nb - 1)].reshape(n, nb - 1, 3)
        bodies[:, :, UP] += features[:, 3 * (nb - 1), None]  # relative to the root -> height above the ground
        return Prediction(np.repeat(bodies[:, None], self.steps, axis=1), [None] * n, np.full(n, np.nan), [None] * n)


class NearestNeighbour:
    """The closest library pose (Euclidean distance of the features: metres and unit axes)."""

    def fit(self, entries: list[Entry]) -> "NearestNeighbour":
        self.examples = stack(entries)
        return self

    def nearest(self, features: np.ndarray) -> np.ndarray:
        x = self.examples.features
        d = (features**2).sum(1)[:, None] - 2 * features @ x.T + (x**2).sum(1)[None, :]
        return np.argmin(d, axis=1)

    def predict(self, features: np.ndarray) -> Prediction:
        i = self.nearest(np.asarray(features, dtype=float))
        ex = self.examples
        return Prediction(
            ex.continuation[i], [ex.skills[k] for k in ex.skill[i]], ex.phase[i], [ex.names[k] for k in ex.entry[i]]
        )


class CompletionMLP:
    """Features -> (continuation, skill, phase), one shared MLP trunk; inputs and continuations standardised."""

    def __init__(
        self,
        hidden: tuple[int, ...] = (256, 256),
        epochs: int = 400,
        learning_rate: float = 1e-3,
        input_noise: float = 0.02,
        seed: int = 0,
    ):
        self.hidden, self.epochs, self.learning_rate = tuple(hidden), epochs, learning_rate
        self.input_noise, self.seed = input_noise, seed

    def fit(self, entries: list[Entry]) -> "CompletionMLP":
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # a few thousand small examples: one thread is fastest, and the same on every machine
        try:
            return self._fit(entries)
        finally:
            torch.set_num_threads(threads)

    def _fit(self, entries: list[Entry]) -> "CompletionMLP":
        import torch

        torch.manual_seed(self.seed)
        ex = stack(entries)
        self.skills, self.shape = ex.skills, ex.continuation.shape[1:]
        x = torch.as_tensor(ex.features, dtype=torch.float32)
        y = torch.as_tensor(ex.continuation.reshape(len(x), -1), dtype=torch.float32)
        self.x_mean, self.x_std = x.mean(0), x.std(0).clamp_min(1e-3)
        self.y_mean, self.y_std = y.mean(0), y.std(0).clamp_min(1e-3)
        skill = torch.as_tensor(ex.skill, dtype=torch.long)
        angle = torch.as_tensor(2 * np.pi * ex.phase, dtype=torch.float32)
        circle = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        layers, width = [], x.shape[1]
        for h in self.hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        self.trunk = torch.nn.Sequential(*layers)
        self.heads = torch.nn.ModuleDict(
            {
                "continuation": torch.nn.Linear(width, y.shape[1]),
                "skill": torch.nn.Linear(width, len(self.skills)),
                "phase": torch.nn.Linear(width, 2),
            }
        )
        params = list(self.trunk.parameters()) + list(self.heads.parameters())
        opt = torch.optim.Adam(params, lr=self.learning_rate)
        generator = torch.Generator().manual_seed(self.seed)
        noise_scale = self.input_noise / self.x_std
        yn = (y - self.y_mean) / self.y_std
        self.losses = []
        for _ in range(self.epochs):
            xn = (x - self.x_mean) / self.x_std + torch.randn(x.shape, generator=generator) * noise_scale
            out = self._forward(xn)
            loss = (
                torch.nn.functional.mse_loss(out["continuation"], yn)
                + torch.nn.functional.cross_entropy(out["skill"], skill)
                + torch.nn.functional.mse_loss(out["phase"], circle)
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            self.losses.append(float(loss.detach()))
        return self

    def _forward(self, xn):
        z = self.trunk(xn)
        return {k: head(z) for k, head in self.heads.items()}

    def predict(self, features: np.ndarray) -> Prediction:
        import torch

        with torch.no_grad():
            xn = (torch.as_tensor(np.asarray(features), dtype=torch.float32) - self.x_mean) / self.x_std
            out = self._forward(xn)
            cont = (out["continuation"] * self.y_std + self.y_mean).numpy().reshape((len(xn),) + self.shape)
            skill = [self.skills[k] for k in out["skill"].argmax(1).tolist()]
            c, s = out["phase"][:, 0].numpy(), out["phase"][:, 1].numpy()
        return Prediction(cont.astype(float), skill, np.mod(np.arctan2(s, c) / (2 * np.pi), 1.0), [None] * len(xn))
