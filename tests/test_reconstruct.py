"""Motion reconstruction core: the loss terms, and the fit on the humanoid recovering a mocap clip from
noisy 3D joints (with an outlier) better and much smoother than per-frame IK."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from sfv.reconstruct import losses
from sfv.reconstruct.fit import FitSettings, MotionVariables, fit, reconstruct

JOINTS = ["root", "chest", "neck", "right_hip", "right_knee", "right_ankle", "right_shoulder", "right_elbow",
          "right_wrist", "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow", "left_wrist"]


def test_robust_loss_saturates():
    r = torch.tensor([0.0, 0.01, 0.1, 1.0, 10.0])
    out = losses.robust(r, 0.1)
    assert out[0] == 0 and torch.all(out[1:] > out[:-1])
    assert out[1] == pytest.approx(0.01 ** 2, rel=0.02)  # quadratic when small
    assert out[-1] < 0.1 ** 2 and out[-1] - out[-2] < 1e-4  # flat when large


def test_frame_weights_follow_sfv():
    w = losses.frame_weights(torch.tensor([0.0, 10.0, 20.0]), e_max=10.0)
    assert torch.allclose(w, torch.exp(-torch.tensor([0.0, 1.0, 4.0])))


def test_smoothness_and_jitter_are_zero_for_constant_velocity():
    t = torch.arange(10, dtype=torch.float64)[:, None, None]
    line = torch.cat([t * 0.1, t * 0.0, t * 0.02], dim=-1).expand(10, 4, 3)
    assert losses.smoothness(line, 30) < 1e-20 and losses.jitter(line, 30) < 1e-10
    bumped = line.clone()
    bumped[5, 0, 0] += 0.01
    assert losses.jitter(bumped, 30) > 0 and losses.smoothness(bumped, 30) > 0


def test_ground_and_sliding():
    assert losses.ground_penetration(torch.tensor([0.1, 0.0, -0.2])) == pytest.approx(0.04 / 3)
    feet = torch.tensor([[[0.0, 0.0]], [[0.1, 0.0]], [[0.1, 0.0]]])
    assert losses.foot_sliding(feet, torch.ones(3, 1), fps=10) == pytest.approx(0.5)  # (1 m/s)^2, then 0
    assert losses.foot_sliding(feet, torch.zeros(3, 1), fps=10) == 0  # in the air: free to move


def test_keypoint_term_weights_by_confidence():
    pred = torch.zeros(2, 2, 3)
    target = torch.zeros(2, 2, 3)
    target[0, 0, 0] = 0.05
    conf = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    assert losses.keypoint_3d(pred, target, conf) == 0  # the wrong keypoint has no confidence
    assert losses.keypoint_3d(pred, target, torch.ones(2, 2)) > 0


def test_variables_round_trip_a_motion(humanoid):
    from sfv.mocap import load_mocap

    m = load_mocap("cartwheel")
    v = MotionVariables.from_motion(m)
    back = v.to_motion(m.fps)
    pos, _ = m.body_positions()
    assert np.allclose(back.body_positions()[0], pos, atol=1e-9)
    assert torch.allclose(v.positions(), torch.as_tensor(pos), atol=1e-9)


def _noisy_walk():
    from sfv.mocap import load_mocap

    m = load_mocap("walk")
    pos, _ = m.body_positions()
    bodies = [m.skeleton.index(n) for n in JOINTS]
    truth = pos[:, bodies]
    noisy = truth + np.random.default_rng(0).normal(scale=0.03, size=truth.shape)
    noisy[10, JOINTS.index("right_ankle")] += [0.4, 0.0, 0.0]  # one wild keypoint
    rest = replace(m, pose=np.tile(m.skeleton.identity_pose(), (m.n_frames, 1)),
                   root_rot=np.tile([0, 0, 0, 1.0], (m.n_frames, 1)), root_pos=noisy[:, 0])
    return m, bodies, truth, noisy, rest


def _root_aligned_error(a, b):
    return float(np.linalg.norm((a - a[:, :1]) - (b - b[:, :1]), axis=-1).mean())


def test_reconstruction_beats_per_frame_ik_on_noisy_mocap():
    m, bodies, truth, noisy, rest = _noisy_walk()
    smooth, ik, curve = reconstruct(rest, noisy, bodies)
    p_smooth, p_ik = smooth.body_positions()[0][:, bodies], ik.body_positions()[0][:, bodies]
    j_smooth = losses.jitter(torch.as_tensor(p_smooth), m.fps).item()
    j_ik = losses.jitter(torch.as_tensor(p_ik), m.fps).item()
    e_smooth, e_ik = _root_aligned_error(p_smooth, truth), _root_aligned_error(p_ik, truth)
    assert j_smooth * 5 <= j_ik, (j_smooth, j_ik)  # the bar: jitter down at least 5x
    assert e_smooth < e_ik, (e_smooth, e_ik)  # and closer to the mocap
    assert e_smooth < 0.025
    ankle = JOINTS.index("right_ankle")
    assert np.linalg.norm(p_smooth[10, ankle] - truth[10, ankle]) < 0.06  # the outlier did not drag it
    assert curve[-1] < curve[0]
    again, _, _ = reconstruct(rest, noisy, bodies)  # deterministic
    assert np.array_equal(again.pose, smooth.pose)


def test_fit_refuses_bad_targets():
    m, bodies, truth, noisy, rest = _noisy_walk()
    with pytest.raises(ValueError, match=r"targets have shape \(39, 14, 3\), expected \(39, 15, 3\)"):
        fit(rest, noisy[:, 1:], bodies, settings=FitSettings(iterations=1))
    broken = noisy.copy()
    broken[7, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"target of body .* at frame 7 is not finite; give it confidence 0"):
        fit(rest, broken, bodies, settings=FitSettings(iterations=1))
