"""The pinhole camera and its projection, below both the renderer (which films with one) and the
reconstruction (which estimates one): intrinsics K, extrinsics [R | t], image size.

Conventions (OpenCV, what pose estimators and reconstruction code expect): world points x map to
camera points R x + t with the camera looking down +z, x to the right of the image and y down;
pixel (u, v) = (fx X/Z + cx, fy Y/Z + cy), with pixel centres at integer + 0.5 (the image's
top-left corner is (0, 0)). The world's up axis is the caller's: the ground-truth renders use a z-up
world (`look_at`'s default up), the reconstruction a y-up one. Pure numpy (and `perspective` also on
torch tensors): no renderer here; `opengl_matrices` gives the same camera to an OpenGL-style renderer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def perspective(points, focal, centre, min_depth: float | None = None):
    """Camera coordinates (..., 3) -> pixels (..., 2): focal (fx, fy) and centre (cx, cy) in pixels. Works on
    numpy arrays and on torch tensors (the reconstruction differentiates through it); `min_depth` keeps a
    point behind the camera from flipping through it while an optimiser moves it."""
    depth = points[..., 2:3]
    if min_depth is not None:
        depth = depth.clamp_min(min_depth) if hasattr(depth, "clamp_min") else np.maximum(depth, min_depth)
    return points[..., :2] / depth * focal + centre


class CameraError(ValueError):
    """A camera that cannot exist or cannot see what it must."""


@dataclass(frozen=True)
class Camera:
    K: np.ndarray  # (3, 3) intrinsics, pixels
    R: np.ndarray  # (3, 3) world -> camera rotation
    t: np.ndarray  # (3,) world -> camera translation, metres
    width: int
    height: int
    near: float = 0.05
    far: float = 50.0

    def __post_init__(self):
        if not np.allclose(self.R @ self.R.T, np.eye(3), atol=1e-6) or np.linalg.det(self.R) < 0:
            raise CameraError("R must be a rotation matrix")
        if self.K[0, 0] <= 0 or self.K[1, 1] <= 0:
            raise CameraError(f"focal lengths must be positive, got fx={self.K[0, 0]}, fy={self.K[1, 1]}")
        if self.K[0, 1] != 0:
            raise CameraError(f"skewed pixels (K[0, 1] = {self.K[0, 1]}) are not supported")
        if not 0 < self.near < self.far:
            raise CameraError(f"need 0 < near < far, got near={self.near}, far={self.far}")

    @property
    def position(self) -> np.ndarray:
        """The camera centre in world coordinates."""
        return -self.R.T @ self.t

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) -> camera coordinates (..., 3)."""
        return np.asarray(points) @ self.R.T + self.t

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (..., 3) -> pixels (..., 2) and depth along the optical axis (..., ) in metres."""
        cam = self.to_camera(points)
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = perspective(cam, self.focal, self.K[:2, 2])
        return uv, cam[..., 2]

    @property
    def focal(self) -> np.ndarray:
        """(fx, fy) in pixels."""
        return np.array([self.K[0, 0], self.K[1, 1]])

    def unproject(self, uv: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixels (..., 2) at depths (...,) -> world points (..., 3): the inverse of `project`."""
        uv = np.asarray(uv, dtype=float)
        xy = (uv - self.K[:2, 2]) @ np.linalg.inv(self.K[:2, :2]).T
        cam = np.concatenate([xy * depth[..., None], np.asarray(depth, dtype=float)[..., None]], axis=-1)
        return (cam - self.t) @ self.R

    def in_image(self, uv: np.ndarray, depth: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Which projected points land inside the image (at least `margin` pixels from its border)."""
        return (
            (depth > self.near)
            & (uv[..., 0] >= margin)
            & (uv[..., 0] <= self.width - margin)
            & (uv[..., 1] >= margin)
            & (uv[..., 1] <= self.height - margin)
        )

    def opengl_matrices(self) -> tuple[list[float], list[float]]:
        """(view, projection) as 16 floats each, column-major, for pybullet's getCameraImage.

        OpenGL cameras look down -z with y up: the view is the OpenCV extrinsics with y and z flipped.
        The projection maps the same K onto normalised device coordinates (v grows downwards in
        pixels, upwards in NDC).
        """
        flip = np.diag([1.0, -1.0, -1.0])
        view = np.eye(4)
        view[:3, :3] = flip @ self.R
        view[:3, 3] = flip @ self.t
        fx, fy, cx, cy, s = self.K[0, 0], self.K[1, 1], self.K[0, 2], self.K[1, 2], self.K[0, 1]
        w, h, n, f = self.width, self.height, self.near, self.far
        proj = np.array(
            [
                [2 * fx / w, -2 * s / w, 1 - 2 * cx / w, 0],
                [0, 2 * fy / h, 2 * cy / h - 1, 0],
                [0, 0, -(f + n) / (f - n), -2 * f * n / (f - n)],
                [0, 0, -1, 0],
            ]
        )
        return view.T.reshape(-1).tolist(), proj.T.reshape(-1).tolist()

    def linear_depth(self, zbuffer: np.ndarray) -> np.ndarray:
        """An OpenGL depth buffer in [0, 1] -> metres along the optical axis."""
        n, f = self.near, self.far
        return f * n / (f - (f - n) * np.asarray(zbuffer, dtype=np.float64))

    # --- storage -----------------------------------------------------------------------------------
    def to_arrays(self, prefix: str = "camera_") -> dict[str, np.ndarray]:
        return {
            f"{prefix}K": self.K,
            f"{prefix}R": self.R,
            f"{prefix}t": self.t,
            f"{prefix}size": np.array([self.width, self.height]),
            f"{prefix}clip": np.array([self.near, self.far]),
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "camera_") -> "Camera":
        width, height = (int(x) for x in arrays[f"{prefix}size"])
        near, far = (float(x) for x in arrays[f"{prefix}clip"])
        return cls(
            K=np.asarray(arrays[f"{prefix}K"], dtype=float),
            R=np.asarray(arrays[f"{prefix}R"], dtype=float),
            t=np.asarray(arrays[f"{prefix}t"], dtype=float),
            width=width,
            height=height,
            near=near,
            far=far,
        )


@dataclass(frozen=True)
class FrameCameras:
    """One camera per frame sharing intrinsics: a camera that turns (pans) as it films. Frame t maps world
    points x to R[t] x + t[t]."""

    K: np.ndarray  # (3, 3)
    R: np.ndarray  # (T, 3, 3)
    t: np.ndarray  # (T, 3)
    width: int
    height: int

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (T, ..., 3), frame by frame -> pixels (T, ..., 2) and depth (T, ...)."""
        points = np.asarray(points, dtype=float)
        shape = points.shape
        flat = points.reshape(shape[0], -1, 3)
        cam = np.einsum("tij,tnj->tni", self.R, flat) + self.t[:, None]
        uv = perspective(cam, np.array([self.K[0, 0], self.K[1, 1]]), self.K[:2, 2])
        return uv.reshape(shape[:-1] + (2,)), cam[..., 2].reshape(shape[:-1])


def intrinsics(width: int, height: int, vertical_fov_deg: float) -> np.ndarray:
    """Square pixels, principal point at the image centre, the given vertical field of view."""
    if not 1.0 <= vertical_fov_deg <= 170.0:
        raise CameraError(f"vertical field of view must be in [1, 170] degrees, got {vertical_fov_deg}")
    f = 0.5 * height / np.tan(np.radians(vertical_fov_deg) / 2)
    return np.array([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]])


def look_at(
    eye: np.ndarray, target: np.ndarray, up: np.ndarray = np.array([0.0, 0.0, 1.0])
) -> tuple[np.ndarray, np.ndarray]:
    """Extrinsics (R, t) of a camera at `eye` looking at `target`, the image's up along world `up`."""
    eye, target = np.asarray(eye, dtype=float), np.asarray(target, dtype=float)
    forward = target - eye
    if np.linalg.norm(forward) < 1e-9:
        raise CameraError("camera position and target coincide")
    z = forward / np.linalg.norm(forward)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        raise CameraError("the camera looks straight along the up axis; lower its elevation below 90 degrees")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)  # image down
    R = np.stack([x, y, z])
    return R, -R @ eye


def roll_matrix(roll_deg: float) -> np.ndarray:
    """(3, 3) the turn about the optical axis (camera z) that rolls a level camera by `roll_deg`, in camera
    coordinates (positive: the world's up (0, -1, 0) leans to the image's right, to (sin r, -cos r, 0)); its
    transpose levels a camera rolled by that much."""
    c, s = np.cos(np.radians(roll_deg)), np.sin(np.radians(roll_deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def orbit_camera(
    target: np.ndarray,
    distance: float,
    elevation_deg: float,
    azimuth_deg: float,
    width: int,
    height: int,
    vertical_fov_deg: float,
    roll_deg: float = 0.0,
) -> Camera:
    """A camera `distance` metres from `target`, raised by `elevation_deg`, around it by `azimuth_deg`, turned
    by `roll_deg` about its optical axis (0 keeps the horizon horizontal; positive turns the picture clockwise:
    the world's up leans to the image's right).

    Azimuth 0 puts the camera on the +x side looking back along -x; 90 on the +y side.
    """
    if distance <= 0:
        raise CameraError(f"camera distance must be positive, got {distance}")
    el, az = np.radians(elevation_deg), np.radians(azimuth_deg)
    offset = distance * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    R, t = look_at(np.asarray(target) + offset, target)
    if roll_deg:
        turn = roll_matrix(roll_deg)
        R, t = turn @ R, turn @ t
    return Camera(K=intrinsics(width, height, vertical_fov_deg), R=R, t=t, width=width, height=height)
