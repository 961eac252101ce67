"""Adaptive state initialisation: the gradient is J's, the distribution settles where the theory says and moves
toward the phases that score worst; the env starts where the weights say and scores its starts; training with
ASI checkpoints and resumes the distribution."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sfv.config import ASISettings, EnvSettings, PPOSettings
from sfv.imitate.asi import (
    AdaptiveStart,
    objective_gradient,
    phase_bin,
    probabilities,
    update_difficulty,
)
from sfv.imitate.curve import read_curve
from sfv.imitate.env import ImitationEnv
from sfv.imitate.train import latest_checkpoint, train
from sfv.mocap import load_mocap
from sfv.motion import save_npz


def objective(logits, difficulty, temperature):
    p = probabilities(logits)
    return float(p @ difficulty - temperature * p @ np.log(p))


def test_gradient_is_the_objectives():
    rng = np.random.default_rng(3)
    logits, difficulty = rng.normal(size=7), rng.uniform(size=7)
    eps = 1e-6
    numeric = np.array(
        [
            (objective(logits + eps * e, difficulty, 0.2) - objective(logits - eps * e, difficulty, 0.2)) / (2 * eps)
            for e in np.eye(7)
        ]
    )
    assert np.allclose(objective_gradient(logits, difficulty, 0.2), numeric, atol=1e-7)


def test_ascent_settles_at_the_softmax_of_difficulty_over_temperature():
    difficulty = np.array([0.1, 0.1, 0.5, 0.2, 0.1])
    logits = np.zeros(5)
    for _ in range(3000):
        logits += 2.0 * objective_gradient(logits, difficulty, 0.1)
    expected = np.exp(difficulty / 0.1) / np.exp(difficulty / 0.1).sum()
    assert np.allclose(probabilities(logits), expected, atol=1e-3)


def test_difficulty_estimates_blend_and_fill_unseen_bins():
    d, seen = np.zeros(4), np.zeros(4, dtype=bool)
    d, seen = update_difficulty(d, seen, np.array([0, 0, 1]), np.array([1.0, 0.5, 0.0]), memory=0.5)
    assert d[0] == pytest.approx(0.25) and d[1] == pytest.approx(1.0)  # first sight: the mean of 1 - score
    assert d[2] == d[3] == pytest.approx(0.625) and list(seen) == [True, True, False, False]
    d, seen = update_difficulty(d, seen, np.array([0]), np.array([0.0]), memory=0.5)
    assert d[0] == pytest.approx(0.5 * 0.25 + 0.5 * 1.0)
    assert list(phase_bin(np.array([0.0, 0.049, 0.05, 0.999, 1.0]), 20)) == [0, 0, 1, 19, 19]


def test_distribution_moves_toward_the_phases_the_policy_fails():
    """A policy that fails starts in [0.4, 0.5) and does well elsewhere: ASI must favour those starts, RSI's
    uniform distribution stays where it began."""
    asi = AdaptiveStart(ASISettings(bins=10, temperature=0.1, step_size=2.0, memory=0.7))
    rng = np.random.default_rng(0)
    for _ in range(60):
        starts = rng.choice(10, size=50, p=asi.probabilities) / 10 + rng.uniform(0, 0.1, size=50)
        scores = np.where((starts >= 0.4) & (starts < 0.5), 0.2, 0.9) + rng.normal(0, 0.05, size=50)
        asi.update(starts, np.clip(scores, 0, 1))
    p = asi.probabilities
    assert p.argmax() == 4 and p[4] > 0.5
    # the entropy term keeps every phase visited: no bin below its share at the fixed point, exp(-0.7 / 0.1) x p[4]
    assert p.min() > 0.5 * np.exp(-0.7 / 0.1) * p[4]
    restored = AdaptiveStart(asi.settings)
    restored.load(json.loads(json.dumps(asi.state())))
    assert np.allclose(restored.probabilities, p)
    with pytest.raises(ValueError, match="bins"):
        AdaptiveStart(ASISettings(bins=5)).load(asi.state())


def test_env_starts_in_the_weighted_bin_and_scores_each_start():
    env = ImitationEnv(
        load_mocap("walk"), EnvSettings(state_init="adaptive"), asi=ASISettings(bins=10, horizon_seconds=0.5)
    )
    weights = np.zeros(10)
    weights[7] = 1.0
    env.set_start_weights(weights)
    scores = []
    for episode in range(6):
        env.reset(seed=episode)
        for _ in range(30):
            _, _, terminated, truncated, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
            if "start_score" in info:
                scores.append(info["start_score"])
            if terminated or truncated:
                break
    assert len(scores) == 6  # exactly one score per start: after 15 steps, or at the fall
    assert all(0.7 <= f < 0.8 and 0.0 <= s <= 1.0 for f, s in scores)
    with pytest.raises(ValueError, match="10 non-negative"):
        env.set_start_weights(np.ones(3))
    env.close()


def test_training_with_asi_checkpoints_and_resumes_its_distribution(tmp_path):
    motion = str(save_npz(load_mocap("walk"), tmp_path / "walk.npz"))
    tiny = dict(
        n_envs=2,
        n_workers=1,
        n_steps=256,
        batch_size=128,
        n_epochs=1,
        net_arch=(16, 16),
        checkpoint_every=1024,
        evaluate_every=1024,
    )
    env = EnvSettings(state_init="adaptive")
    asi = ASISettings(bins=5, horizon_seconds=0.3, step_size=5.0)
    train(
        motion,
        tmp_path / "p",
        env,
        ppo=PPOSettings(total_timesteps=1024, **tiny),
        asi=asi,
        progress=False,
        evaluation_seconds=1.0,
    )
    state = json.loads((latest_checkpoint(tmp_path / "p") / "asi.json").read_text())
    assert not np.allclose(state["logits"], 0)  # it learned from the scored starts
    curve = read_curve(tmp_path / "p" / "curve.csv")
    assert all(0 < r["start_entropy"] < 1 for r in curve)
    assert np.isnan(curve[0]["eval_tracking_error"]) and curve[-1]["eval_survived_seconds"] > 0  # at 1024 samples
    out = train(
        motion,
        tmp_path / "p",
        env,
        ppo=PPOSettings(total_timesteps=1536, **tiny),
        asi=asi,
        progress=False,
        evaluation_seconds=1.0,
    )
    assert out["timesteps"] == 1536
    resumed = json.loads((latest_checkpoint(tmp_path / "p") / "asi.json").read_text())
    assert resumed["seen"] and not np.allclose(resumed["logits"], state["logits"])
