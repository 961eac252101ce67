"""Adaptive state initialisation (SFV, section 6): where episodes start is learned along with the policy.

Reference state initialisation (RSI) starts every episode at a uniformly random phase of the clip. A
backflip's take-off is then visited as often as its landing, although the policy already masters one and
keeps failing the other. ASI keeps a categorical distribution p over phase bins, with logits z, and
raises the probability of the phases where the policy does worst: it ascends

    J(z) = sum_k p_k d_k + temperature * H(p),

where d_k is bin k's difficulty (1 - the mean reward of the first `horizon_seconds` after a start in it,
0 for the steps a fall cuts off) and H the entropy, which keeps every phase visited. The exact gradient
given the difficulty estimates is dJ/dz_k = p_k (d_k - p.d) - temperature p_k (log p_k + H); at its
fixed point p ~ exp(d / temperature). (The paper also learns a Gaussian over the state within a bin;
here the state within a bin is the reference's.)

Pure numpy; the training callback (sfv.imitate.train) feeds it the scores the envs report and hands the
new probabilities back to the envs.
"""

from __future__ import annotations

import numpy as np

from sfv.settings.imitate import ASISettings


def phase_bin(phase: np.ndarray | float, bins: int) -> np.ndarray:
    """The bin (0..bins-1) of phases in [0, 1]."""
    return np.minimum((np.asarray(phase, dtype=float) * bins).astype(int), bins - 1)


def probabilities(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()


def objective_gradient(logits: np.ndarray, difficulty: np.ndarray, temperature: float) -> np.ndarray:
    """dJ/dz of J = E_p[difficulty] + temperature * H(p), p = softmax(z)."""
    p = probabilities(logits)
    log_p = np.log(np.maximum(p, 1e-300))
    entropy = -float(p @ log_p)
    return p * (difficulty - float(p @ difficulty)) - temperature * p * (log_p + entropy)


def update_difficulty(
    difficulty: np.ndarray, seen: np.ndarray, bins_hit: np.ndarray, scores: np.ndarray, memory: float
) -> tuple[np.ndarray, np.ndarray]:
    """New per-bin difficulty estimates after a rollout's starts (`bins_hit`, their `scores` in [0, 1]).

    A bin seen before keeps `memory` of its old estimate; a bin seen for the first time takes its new mean;
    a bin never seen takes the mean of the bins seen (so it is neither favoured nor starved)."""
    difficulty, seen = difficulty.copy(), seen.copy()
    bins = len(difficulty)
    counts = np.bincount(bins_hit, minlength=bins)
    sums = np.bincount(bins_hit, weights=1.0 - np.asarray(scores, dtype=float), minlength=bins)
    hit = counts > 0
    new = np.divide(sums, counts, out=np.zeros(bins), where=hit)
    difficulty[hit] = np.where(seen[hit], memory * difficulty[hit] + (1 - memory) * new[hit], new[hit])
    seen |= hit
    if seen.any():
        difficulty[~seen] = difficulty[seen].mean()
    return difficulty, seen


class AdaptiveStart:
    """The start-phase distribution and its learning state (saved with each checkpoint)."""

    def __init__(self, settings: ASISettings):
        self.settings = settings
        n = settings.bins
        self.logits = np.zeros(n)
        self.difficulty = np.zeros(n)
        self.seen = np.zeros(n, dtype=bool)

    @property
    def probabilities(self) -> np.ndarray:
        return probabilities(self.logits)

    def update(self, start_phases, scores) -> None:
        """One rollout's scored starts: re-estimate the difficulties, then one gradient step of the logits."""
        start_phases = np.asarray(start_phases, dtype=float)
        if start_phases.size == 0:
            return
        s = self.settings
        self.difficulty, self.seen = update_difficulty(
            self.difficulty, self.seen, phase_bin(start_phases, s.bins), np.asarray(scores, dtype=float), s.memory
        )
        self.logits = self.logits + s.step_size * objective_gradient(self.logits, self.difficulty, s.temperature)
        self.logits -= self.logits.mean()

    def state(self) -> dict:
        return {"logits": self.logits.tolist(), "difficulty": self.difficulty.tolist(), "seen": self.seen.tolist()}

    def load(self, state: dict) -> None:
        logits = np.asarray(state["logits"], dtype=float)
        if len(logits) != self.settings.bins:
            raise ValueError(f"saved ASI state has {len(logits)} bins, settings ask for {self.settings.bins}")
        self.logits = logits
        self.difficulty = np.asarray(state["difficulty"], dtype=float)
        self.seen = np.asarray(state["seen"], dtype=bool)
