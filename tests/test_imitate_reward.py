"""DeepMimic's reward terms on hand-computed frames."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sfv import rotations
from sfv.config import RewardParams, RewardTerms
from sfv.imitate import reward as rw


def quat_about(axis, angle):
    return rotations.from_axis_angle(np.asarray(axis, float), np.asarray(angle, float))


def test_pose_error_is_weighted_squared_angles_root_included():
    ref = np.tile(rotations.IDENTITY, (3, 1))
    sim = np.stack([quat_about([1, 0, 0], 0.3), rotations.IDENTITY, quat_about([0, 1, 0], -0.5)])
    w = np.array([0.1, 0.2, 0.3])
    root_sim, root_ref = quat_about([0, 0, 1], 0.2), rotations.IDENTITY
    expected = 0.4 * 0.2**2 + 0.1 * 0.3**2 + 0.3 * 0.5**2
    assert rw.pose_error(sim, ref, root_sim, root_ref, w, 0.4) == pytest.approx(expected, rel=1e-9)


def test_rotation_angle_ignores_quaternion_sign():
    q = quat_about([0.3, 0.4, 0.5], 1.1)
    r = quat_about([0.3, 0.4, 0.5], 0.6)
    assert rw.rotation_angle_sq(q, -r) == pytest.approx(0.25, abs=1e-9)
    assert rw.rotation_angle_sq(np.stack([q, -q]), np.stack([-r, r])) == pytest.approx([0.25, 0.25], abs=1e-9)


def test_velocity_end_effector_root_and_com_errors():
    jv, jv_ref = np.array([[1.0, 0, 0], [0, 2.0, 0]]), np.zeros((2, 3))
    assert rw.velocity_error(
        jv, jv_ref, np.array([0, 0, 3.0]), np.zeros(3), np.array([0.5, 0.25]), 0.1
    ) == pytest.approx(0.1 * 9 + 0.5 * 1 + 0.25 * 4)
    ee = np.array([[0.1, 0, 0], [0, 0, 0], [0, 0.2, 0], [0, 0, 0]])
    assert rw.end_effector_error(ee, np.zeros((4, 3))) == pytest.approx((0.01 + 0.04) / 4)
    err = rw.root_error(
        np.array([0.1, 0, 0]),
        np.zeros(3),
        quat_about([0, 1, 0], 0.5),
        rotations.IDENTITY,
        np.array([0, 2.0, 0]),
        np.zeros(3),
        np.array([0, 0, 10.0]),
        np.zeros(3),
    )
    assert err == pytest.approx(0.01 + 0.1 * 0.25 + 0.01 * 4 + 0.001 * 100)
    assert rw.com_error(np.array([1.0, 1.0, 0]), np.zeros(3)) == pytest.approx(0.2)
    assert rw.root_velocity_error(
        np.array([0, 2.0, 0]), np.zeros(3), np.array([0, 0, 10.0]), np.zeros(3)
    ) == pytest.approx(4 + 0.1 * 100)


def test_combine_weights_and_scales():
    errors = {"pose": 0.1, "velocity": 2.0, "end_effector": 0.01, "root": 0.05, "com": 0.02, "root_velocity": 0.5}
    reward = RewardParams()
    total, terms = rw.combine(errors, reward.normalised_weights(), reward.scales)
    expected_terms = {
        "pose": math.exp(-0.2),
        "velocity": math.exp(-0.2),
        "end_effector": math.exp(-0.4),
        "root": math.exp(-0.25),
        "com": math.exp(-0.2),
        "root_velocity": math.exp(-1.0),
    }
    assert terms == pytest.approx(expected_terms)
    w = {"pose": 0.5, "velocity": 0.05, "end_effector": 0.15, "root": 0.2, "com": 0.1}
    assert total == pytest.approx(sum(w[k] * expected_terms[k] for k in w))  # root_velocity: weight 0 by default
    on = RewardParams(weights={**w, "root": 0.15, "root_velocity": 0.1})
    total_on, _ = rw.combine(errors, on.normalised_weights(), on.scales)
    w_on = {**w, "root": 0.15, "root_velocity": 0.1}
    assert total_on == pytest.approx(sum(w_on[k] * expected_terms[k] for k in w_on) / sum(w_on.values()))
    perfect, _ = rw.combine(dict.fromkeys(rw.TERMS, 0.0), reward.normalised_weights(), reward.scales)
    assert perfect == pytest.approx(1.0)


def test_weights_are_normalised_and_checked():
    w = RewardParams(weights=dict(pose=2, velocity=0, end_effector=1, root=1, com=0)).normalised_weights()
    assert w == {"pose": 0.5, "velocity": 0.0, "end_effector": 0.25, "root": 0.25, "com": 0.0, "root_velocity": 0.0}
    with pytest.raises(ValueError, match="at least one reward weight must be positive"):
        RewardParams(weights=dict(pose=0, velocity=0, end_effector=0, root=0, com=0))
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        RewardParams(weights=dict(pose=-1, velocity=0, end_effector=0, root=2, com=0))


def test_terms_are_the_schemas():
    """The reward's terms are the params schema's, in its order: a term added there is computed here."""
    assert (
        rw.TERMS
        == tuple(RewardTerms.model_fields)
        == ("pose", "velocity", "end_effector", "root", "com", "root_velocity")
    )
    assert set(RewardParams().normalised_weights()) == set(rw.TERMS)


def test_figures_draw_every_term():
    """A term added to the schema is drawn too (its label and its error in everyday units)."""
    from sfv.config import EnvSettings
    from sfv.imitate import figures
    from sfv.imitate.evaluate import rollout
    from sfv.mocap import load_mocap

    shapes = figures.reward_term_shapes(RewardParams())
    assert len(shapes.axes) == len(rw.TERMS)
    r = rollout(None, load_mocap("walk"), EnvSettings(), RewardParams(), seconds=0.2)
    fig = figures.rollout_figure({"PD alone": r}, "walk")
    assert len(fig.axes[1].get_lines()) == len(rw.TERMS)


def test_every_term_has_its_error_and_its_definition():
    """The table notebook 06 shows is built from these: one error function per reward term, each documented."""
    from sfv.imitate.reward import ERRORS, TERMS

    assert tuple(ERRORS) == TERMS
    assert all(f.__doc__ and f.__doc__.strip() for f in ERRORS.values())


def test_the_learning_curves_ring_the_evaluations_judged_learned():
    """The evaluations that met the learned bar are marked on each panel, and only those."""
    from sfv.imitate import figures

    rows = [
        {"timesteps": 4096 * (i + 1), "wall_seconds": 5.0 * i, "tracking_error": 0.09, "episode_seconds": 0.5}
        for i in range(6)
    ]
    judged = {1: 0.0, 3: 1.0, 5: 1.0}  # row -> eval_learned (the others were not evaluated)
    for i, verdict in judged.items():
        rows[i] |= {"eval_tracking_error": 0.07 + 0.01 * i, "eval_survived_seconds": 1.0 + i, "eval_learned": verdict}
    fig = figures.learning_curves(rows, "clip")
    ringed = [line for ax in fig.axes for line in ax.get_lines() if line.get_markeredgecolor() == "#2ca02c"]
    assert len(ringed) == 3
    assert list(ringed[0].get_xdata()) == [4096 * 4 / 1e6, 4096 * 6 / 1e6]
    assert list(ringed[2].get_ydata()) == [4.0, 6.0]
    assert ringed[0].get_label() == "judged learned"
    rows = [{k: v for k, v in r.items() if k != "eval_learned"} for r in rows]  # a curve from before the verdicts
    assert not [
        line
        for ax in figures.learning_curves(rows, "clip").axes
        for line in ax.get_lines()
        if line.get_markeredgecolor() == "#2ca02c"
    ]
