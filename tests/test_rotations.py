"""Property tests of the numpy quaternion helpers against roma and scipy."""

from __future__ import annotations

import numpy as np
import roma
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import Rotation

from sfv import rotations

finite = st.floats(-1.0, 1.0, allow_nan=False)
quats = arrays(np.float64, 4, elements=finite).filter(lambda q: np.linalg.norm(q) > 0.1).map(rotations.normalize)
rotvecs = arrays(np.float64, 3, elements=st.floats(-3.0, 3.0)).filter(lambda r: np.linalg.norm(r) < 3.1)
vectors = arrays(np.float64, 3, elements=st.floats(-10.0, 10.0))
angles3 = arrays(np.float64, 3, elements=st.floats(-np.pi, np.pi))


def same_rotation(a, b, tol=1e-9):
    return abs(abs(float(np.dot(rotations.normalize(a), rotations.normalize(b)))) - 1.0) < tol


@given(quats)
def test_wxyz_round_trip(q):
    np.testing.assert_array_equal(rotations.wxyz_to_xyzw(rotations.xyzw_to_wxyz(q)), q)
    assert rotations.xyzw_to_wxyz(q)[0] == q[3]


@given(quats, quats)
def test_multiply_matches_roma(a, b):
    expected = roma.quat_product(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(rotations.multiply(a, b), expected, atol=1e-12)


@given(quats, vectors)
def test_rotate_matches_scipy(q, v):
    np.testing.assert_allclose(rotations.rotate(q, v), Rotation.from_quat(q).apply(v), atol=1e-9)


@given(quats)
def test_matrix_matches_scipy(q):
    np.testing.assert_allclose(rotations.to_matrix(q), Rotation.from_quat(q).as_matrix(), atol=1e-9)


@given(rotvecs)
def test_rotvec_round_trip_and_roma(r):
    q = rotations.from_rotvec(r)
    assert same_rotation(q, roma.rotvec_to_unitquat(torch.tensor(r)).numpy())
    np.testing.assert_allclose(rotations.to_rotvec(q), r, atol=1e-8)


@given(quats)
def test_to_rotvec_matches_scipy(q):
    assert same_rotation(rotations.from_rotvec(rotations.to_rotvec(q)), q)
    assert np.linalg.norm(rotations.to_rotvec(q)) <= np.pi + 1e-9


@given(angles3)
def test_rpy_is_urdf_fixed_axis_xyz(rpy):
    # URDF rpy: roll about X, then pitch about Y, then yaw about Z, all fixed axes (scipy's lower-case 'xyz').
    assert same_rotation(rotations.from_rpy(rpy), Rotation.from_euler("xyz", rpy).as_quat())


@settings(max_examples=50)
@given(quats, quats, st.floats(0.0, 1.0))
def test_slerp_endpoints_and_constant_speed(a, b, t):
    np.testing.assert_allclose(np.abs(np.dot(rotations.slerp(a, b, 0.0), a)), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.abs(np.dot(rotations.slerp(a, b, 1.0), b)), 1.0, atol=1e-9)
    total = rotations.angle_between(a, b)
    mid = rotations.slerp(a, b, t)
    np.testing.assert_allclose(rotations.angle_between(a, mid), t * total, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(mid), 1.0, atol=1e-12)


def test_axis_angle_quarter_turn():
    q = rotations.from_axis_angle(np.array([0, 0, 1.0]), np.pi / 2)
    np.testing.assert_allclose(rotations.rotate(q, np.array([1.0, 0, 0])), [0, 1, 0], atol=1e-12)


def test_one_rigid_alignment_for_the_kit():
    """sfv.alignment: b ≈ R a for column vectors; rotation only, with scale, and no reflection."""
    from scipy.spatial.transform import Rotation

    from sfv.alignment import best_rotation, rotated_onto, similarity_aligned

    rng = np.random.default_rng(4)
    a = rng.normal(size=(20, 3))
    R = Rotation.from_rotvec([0.3, -1.1, 0.4]).as_matrix()
    assert np.allclose(best_rotation(a, a @ R.T), R, atol=1e-12)
    assert np.allclose(rotated_onto(a, a @ R.T), a @ R.T, atol=1e-12)
    b = 1.7 * a @ R.T + np.array([0.5, -2.0, 3.0])
    assert np.allclose(similarity_aligned(a, b), b, atol=1e-12)
    mirrored = a * np.array([1.0, 1.0, -1.0])  # a reflection is not a rotation: the fit stays proper
    assert np.isclose(np.linalg.det(best_rotation(a, mirrored)), 1.0)
    assert not np.allclose(rotated_onto(a, mirrored), mirrored, atol=1e-3)
