"""The compiled per-step kernel (sfv.imitate.kernel) computes what the readable numpy definitions say.

The definitions are sfv.imitate.numpy_step's: sfv.imitate.reward's terms, `heading_frames`, and DeepMimic's observation
in the root's heading frame, over a batch axis. States come from real simulated steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from sfv import rotations
from sfv.config import EnvSettings, HeightmapSettings, RewardParams
from sfv.imitate.env import (
    ImitationEnv,
    _evaluate,
    reset_many,
    step_many,
)
from sfv.imitate.numpy_step import step_figures
from sfv.imitate.sim import BodyState
from sfv.mocap import load_mocap
from sfv.motion import Motion
from sfv.skeleton import load_character


def _at_rest(name: str, frames: int = 60) -> Motion:
    """A character holding its rest pose (each joint at 0 or its nearest limit) at its standing height."""
    body = load_character(name)
    low, high = np.array([j.limits for j in body.joints]).T
    return Motion(
        body,
        30.0,
        np.tile([0.0, 0.0, float(body.settings["root_height"])], (frames, 1)),
        np.tile(rotations.IDENTITY, (frames, 1)),
        np.tile(np.clip(0.0, low, high), (frames, 1)),
        name=f"{name}_at_rest",
    )


CASES = {
    "walk": lambda: (load_mocap("walk"), EnvSettings()),  # y up, cyclic: later cycles shift the reference
    "jump, phase as one number, no reference root": lambda: (
        load_mocap("jump"),
        EnvSettings(phase_encoding="linear", reference_root_observation=False),
    ),
    "walk on rough ground, heightmap": lambda: (
        load_mocap("walk"),
        EnvSettings(terrain="rough", heightmap=HeightmapSettings(enabled=True)),
    ),
    "atlas (z up, revolute joints)": lambda: (_at_rest("atlas"), EnvSettings()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_kernel_computes_what_the_numpy_definitions_say(case):
    motion, settings = CASES[case]()
    reward = RewardParams(
        scales=dict(pose=2, velocity=0.1, end_effector=40, root=5, com=10, root_velocity=0.5),
        weights=dict(pose=0.5, velocity=0.05, end_effector=0.15, root=0.1, com=0.1, root_velocity=0.1),
    )
    envs = [ImitationEnv(motion, settings, reward) for _ in range(3)]
    late = 0.85 * envs[0].reference.duration  # a cyclic clip's next cycle comes within a few steps
    reset_many(envs, [0, 1, 2], [{"time": late}] * 3)
    rng = np.random.default_rng(0)
    compared, last_cycle = 0, 0
    for step in range(45):  # long enough for a walk's later cycle and for falls (random actions)
        results = step_many(envs, rng.uniform(-0.5, 0.5, size=(3,) + envs[0].action_space.shape))
        live = [e for e, r in zip(envs, results) if not (r[2] or r[3])]
        if step % 3 == 2 and live:
            s = BodyState.stack([e.state for e in live])
            rows, cycles = live[0].reference.locate_many(np.array([e.time for e in live]))
            fields = None if live[0].field is None else [e.field for e in live]
            got, want = (
                _evaluate(live[0], s, rows, cycles, fields)._asdict(),
                step_figures(live[0], s, rows, cycles, fields),
            )
            k = len(want["obs"][0])  # the heightmap, after these columns, is numpy's in both
            assert np.allclose(got["obs"][:, :k], want["obs"], rtol=0, atol=1e-6), case
            for name in ("errors", "terms", "reward", "tracking", "far_sq", "root_distance"):
                assert np.allclose(got[name], want[name], rtol=1e-12, atol=1e-12), (case, name)
            compared += len(live)
            last_cycle = max(last_cycle, int(cycles.max()))
        ended = [e for e, r in zip(envs, results) if r[2] or r[3]]
        if ended:
            reset_many(ended)
    assert compared >= 10
    assert last_cycle >= 1 or not envs[0].reference.loop  # the cycle shift was exercised
    for env in envs:
        env.close()


def test_an_env_alone_and_in_a_batch_gets_the_same_bits():
    """Each env's numbers are computed from its own row only: a batch of n gives each the bits it gets alone."""
    walk = load_mocap("walk")
    envs = [ImitationEnv(walk, EnvSettings()) for _ in range(4)]
    reset_many(envs, [3, 4, 5, 6])
    step_many(envs, np.random.default_rng(1).uniform(-0.3, 0.3, size=(4,) + envs[0].action_space.shape))
    s = BodyState.stack([e.state for e in envs])
    rows, cycles = envs[0].reference.locate_many(np.array([e.time for e in envs]))
    together = _evaluate(envs[0], s, rows, cycles, None)
    for i, env in enumerate(envs):
        alone = _evaluate(env, BodyState.stack([env.state]), rows[i : i + 1], cycles[i : i + 1], None)
        for a, b in zip(alone, together):
            assert np.array_equal(a[0], b[i])
    for env in envs:
        env.close()
