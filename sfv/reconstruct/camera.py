"""A camera and a world frame estimated from the clip's own poses (never from a ground-truth camera).

BlazePose's 3D keypoints are metric and lie along the image axes (x right, y down, z away), centred at
the mid-hip. Given a focal length, each frame's position of the body in front of the camera follows
by linear least squares from its 2D keypoints: the 2D root position gives the direction, the body's
size in pixels the depth ("depth from scale"). The focal length itself cannot be told apart from depth
with one person in view (measured on the rendered clips: the best-fitting focal length runs to the
orthographic limit), so it comes from an assumed field of view, as SFV assumed one.

The world frame: up is the person's median torso direction (hips to shoulders) in the camera frame,
with the camera taken as level (no roll: the image's x axis is horizontal) unless told otherwise, and
its pitch refined so that feet at rest share one height; the ground lies under the lowest ankles of the
clip (where a clip's entry says `roll_from: scene`, the camera is level once turned back by the roll that the
scene's vertical edges show: `sfv.reconstruct.scene_roll`). Positions come out in the humanoid's y-up world.
Measured on the nine rendered clips, the torso alone is 5-33 degrees off the true up (people lean into a jump, a
kick, a roll); its pitch alone, with the camera level, 0-8 degrees; re-pitched by the feet at rest, 0-7.8 (under
2.5 on four clips).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sfv.camera import Camera, FrameCameras, intrinsics, perspective, roll_matrix
from sfv.keypoints import MID_HIP, MID_SHOULDER, BodyMap
from sfv.reconstruct.contact import steady_speed

if TYPE_CHECKING:
    from sfv.reconstruct.camera_motion import CameraMotion
    from sfv.reconstruct.field_of_view import FovEstimate

BODY = np.arange(11, 33)  # shoulders to feet: the landmarks that fix depth (the face is small and flat)


@dataclass(frozen=True)
class Lens:
    """The clip's intrinsics, made once (`Lens.of`) and passed on: the image's size, the vertical field of view the
    reconstruction uses and how it was found, and the matrix K they give."""

    width: int
    height: int
    vertical_fov: float  # degrees
    K: np.ndarray  # (3, 3) pixels
    estimate: FovEstimate | None = None  # how the clip told the field of view (None: the assumed one, not looked for)

    @classmethod
    def of(cls, width: int, height: int, vertical_fov: float, estimate: FovEstimate | None = None) -> "Lens":
        return cls(width, height, vertical_fov, intrinsics(width, height, vertical_fov), estimate)


@dataclass
class ClipCamera:
    """The clip's camera, estimated once from its poses and passed on: its lens, its pose in the world, a turning
    camera's motion, and where it puts the body in each frame."""

    lens: Lens
    camera: Camera  # the estimated camera in the (y-up) world (a turning camera's at the first frame)
    translation: np.ndarray  # (T, 3) mid-hip position in each frame's camera coordinates
    camera_joints: np.ndarray  # (T, J, 3) the character's mapped bodies in (the first frame's) camera coordinates
    world_joints: np.ndarray  # (T, J, 3) the same in the y-up world
    reprojection_error: np.ndarray  # (T,) pixels: each frame's 3D prediction against its 2D keypoints
    metres_per_pixel: np.ndarray  # (T,) the body's depth over the focal length: one pixel at the body, in metres
    # (missing frames interpolated); pixel errors times this mean the same on any camera
    motion: CameraMotion | None = None  # the camera's turn per frame as read from the background (None: not looked
    # for); followed where it turned more than the threshold (`motion.moving`)
    roll_deg: float = 0.0  # the roll about the optical axis the level camera was taken with (0: none)
    pitch_deg: float | None = None  # the level camera's pitch when it was given (read from the scene), else None

    @property
    def rotations(self) -> np.ndarray | None:
        """(T, 3, 3) a turning camera's orientation per frame relative to `camera` (x_t = R_t x): None for a camera
        taken as fixed."""
        return self.motion.rotations if self.motion is not None and self.motion.moving else None

    @property
    def frames(self) -> FrameCameras:
        """The camera of every frame (all `camera` for a fixed one): what the 2D keypoints were seen through."""
        T = len(self.metres_per_pixel)
        Q = np.tile(np.eye(3), (T, 1, 1)) if self.rotations is None else self.rotations
        c = self.camera
        return FrameCameras(K=c.K, R=Q @ c.R, t=np.einsum("tij,j->ti", Q, c.t), width=c.width, height=c.height)

    @property
    def vertical_fov(self) -> float:
        """The camera's vertical field of view, degrees."""
        return self.lens.vertical_fov

    @property
    def reprojection_error_m(self) -> np.ndarray:
        """(T,) each frame's reprojection error in metres at the body (NaN where no person was found)."""
        return self.reprojection_error * self.metres_per_pixel


def solve_translation(uv: np.ndarray, xyz: np.ndarray, weight: np.ndarray, K: np.ndarray) -> np.ndarray:
    """The translation T (3,) that best projects xyz + T onto uv (pixels) through K, by weighted least squares
    on u (z + Tz) = f (x + Tx) + c (z + Tz), linear in T."""
    f, c = np.array([K[0, 0], K[1, 1]]), K[:2, 2]
    d = uv - c
    A = np.zeros((2 * len(uv), 3))
    b = np.zeros(2 * len(uv))
    for axis in range(2):
        A[axis::2, axis] = f[axis]
        A[axis::2, 2] = -d[:, axis]
        b[axis::2] = d[:, axis] * xyz[:, 2] - f[axis] * xyz[:, axis]
    w = np.repeat(np.sqrt(np.maximum(weight, 0.0)), 2)
    return np.linalg.lstsq(A * w[:, None], b * w, rcond=None)[0]


def ray_rotation(direction: np.ndarray) -> np.ndarray:
    """The smallest rotation (3, 3) that turns the optical axis (0, 0, 1) onto `direction` (3,): from a view
    straight at the person (what a pose network sees in its crop) to the camera's frame."""
    d = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    axis = np.array([-d[1], d[0], 0.0])  # (0, 0, 1) x d
    s, c = np.linalg.norm(axis), d[2]
    if s < 1e-12:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + k + k @ k * ((1.0 - c) / s**2)


def place_body(
    uv: np.ndarray, xyz: np.ndarray, weight: np.ndarray, K: np.ndarray, ray_aligned: bool = True, iterations: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """One frame's body in camera coordinates, `xyz @ R.T + T`: the rotation R (3, 3) and translation T (3,).
    With `ray_aligned`, the estimator's 3D pose is taken as seen along the ray to the person (the network
    only sees its crop, never where the crop was in the image) and turned from that ray into the camera's
    frame; measured on the rendered clips, its heading error follows the ray's angle with a slope near 1
    (walk 1.00, run 1.04, backflip 1.24)."""
    R = np.eye(3)
    T = solve_translation(uv, xyz, weight, K)
    for _ in range(iterations if ray_aligned else 0):
        R = ray_rotation(T)
        T = solve_translation(uv, xyz @ R.T, weight, K)
    return R, T


def still_feet_pitch(
    ankles: np.ndarray,
    detected: np.ndarray,
    fps: float,
    up: np.ndarray,
    max_speed: float = 0.5,
    min_points: int = 10,
    min_depth_range: float = 0.3,
) -> np.ndarray:
    """A level camera's up (0, y, z) re-pitched so that the ankles standing still (slower than `max_speed`
    m/s, camera coordinates (T, 2, 3)) share one height: feet at rest are mostly on the ground, wherever
    the person has moved. `up` is returned as it is when too few still points (`min_points`) or too
    little spread in depth (`min_depth_range` m) leave the pitch undetermined (a run, someone in place)."""
    still = (steady_speed(ankles, fps) < max_speed) & detected[:, None]
    points = ankles[still]
    if len(points) < min_points or np.ptp(points[:, 2]) < min_depth_range:
        return up
    pitch0 = np.arctan2(-up[2], -up[1])
    best_cost, best_up = np.inf, up
    for pitch in pitch0 + np.radians(np.arange(-45.0, 45.01, 0.25)):
        u = np.array([0.0, -np.cos(pitch), -np.sin(pitch)])
        h = points @ u
        r = np.abs(h - np.median(h))
        # robust spread of the heights (a foot held still in the air weighs at most 10 cm), and a faint
        # preference for the torso's pitch where the spread cannot tell
        cost = np.mean(np.minimum(r, 0.1) ** 2) + 1e-7 * np.degrees(pitch - pitch0) ** 2
        if cost < best_cost:
            best_cost, best_up = cost, u
    return best_up


def estimate_camera(
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    confidence: np.ndarray,
    detected: np.ndarray,
    lens: Lens,
    bodies: BodyMap,
    level: bool = True,
    fps: float = 30.0,
    still_foot_speed: float = 0.5,
    ray_aligned: bool = True,
    motion: CameraMotion | None = None,
    roll_deg: float = 0.0,
    pitch_deg: float | None = None,
) -> ClipCamera:
    """Camera, per-frame body translation and world-frame joints from a clip's BlazePose output. With
    `level`, the camera has no roll (up has no image-x component), as a camera on a tripod or held upright,
    and with `still_foot_speed` > 0 its pitch comes from the feet at rest (`still_feet_pitch`) where they
    tell it; `roll_deg` turns that level about the optical axis, for a camera known to be rolled by so much
    (`sfv.reconstruct.scene_roll`; positive: the world's up leans to the image's right). `pitch_deg`: that level
    camera's pitch when it is known (`sfv.reconstruct.scene_pitch`; positive: looking down), instead of the torso's
    re-pitched by the feet. `ray_aligned`: see
    `place_body`. `motion`: the camera's turn read from the background
    (`sfv.reconstruct.camera_motion`); where it turned, the world is built in the first frame's camera,
    and `translation` stays in each frame's own. `bodies`: the character's keypoint map (the joints placed, and its
    foot height, which puts the ground under the ankles)."""
    K = lens.K
    rotations = motion.rotations if motion is not None and motion.moving else None
    T = len(detected)
    trans = np.full((T, 3), np.nan)
    err = np.full(T, np.nan)
    placed = np.array(keypoints_3d, dtype=float)
    for t in np.flatnonzero(detected):
        w = confidence[t, BODY]
        R, trans[t] = place_body(keypoints_2d[t, BODY], keypoints_3d[t, BODY], w, K, ray_aligned)
        placed[t] = keypoints_3d[t] @ R.T
        uv = perspective(placed[t, BODY] + trans[t], np.array([K[0, 0], K[1, 1]]), K[:2, 2])
        err[t] = float((w * np.linalg.norm(uv - keypoints_2d[t, BODY], axis=1)).sum() / max(w.sum(), 1e-9))
    cam_joints = bodies.joints(placed) + trans[:, None, :]
    if rotations is not None:  # into the first frame's camera: x_0 = R_t^T x_t (row vectors: x_t @ R_t)
        cam_joints = np.einsum("tji,tnj->tni", rotations, cam_joints)
    # up: the median torso direction (camera y points down, so "up" is mostly -y)
    ankle_index = [bodies.role(("left_ankle",)), bodies.role(("right_ankle",))]
    torso = cam_joints[detected, bodies.role(MID_SHOULDER)] - cam_joints[detected, bodies.role(MID_HIP)]
    torso /= np.linalg.norm(torso, axis=1, keepdims=True)
    unroll = roll_matrix(roll_deg).T if level and roll_deg else None  # camera -> a level camera's coordinates
    if unroll is not None:
        torso = torso @ unroll.T
    up = np.median(torso, axis=0)
    if level:
        up[0] = 0.0
    up /= np.linalg.norm(up)
    if level and pitch_deg is not None:
        up = np.array([0.0, -np.cos(np.radians(pitch_deg)), -np.sin(np.radians(pitch_deg))])
    elif level and still_foot_speed > 0:
        ankles = cam_joints[:, ankle_index]
        if unroll is not None:
            ankles = ankles @ unroll.T
        up = still_feet_pitch(np.nan_to_num(ankles), detected, fps, up, still_foot_speed)
    if unroll is not None:
        up = unroll.T @ up
    # world axes: y = up, x = the camera's x made horizontal, z completes a right-handed frame
    x = np.array([1.0, 0.0, 0.0]) - up * up[0]
    x /= np.linalg.norm(x)
    z = np.cross(x, up)
    R_cam_to_world = np.stack([x, up, z])  # rows: world axes in camera coordinates
    world = cam_joints @ R_cam_to_world.T
    ankles = world[:, ankle_index, 1]
    ground = np.nanpercentile(ankles[detected], 5) - bodies.foot_height
    world[..., 1] -= ground
    # the camera in that world: x_cam = R_w2c (x_world + ground*y) with R_w2c = R_cam_to_world^T
    R = R_cam_to_world.T
    t_cam = R @ np.array([0.0, ground, 0.0])
    camera = Camera(K=K, R=R, t=t_cam, width=lens.width, height=lens.height)
    found = np.flatnonzero(detected)
    depth = np.interp(np.arange(T), found, np.maximum(trans[found, 2], 0.1))  # the body's depth, gaps bridged
    return ClipCamera(
        lens=lens,
        camera=camera,
        translation=trans,
        camera_joints=cam_joints,
        world_joints=world,
        reprojection_error=err,
        metres_per_pixel=depth / K[1, 1],
        motion=motion,
        roll_deg=roll_deg if level else 0.0,
        pitch_deg=pitch_deg if level else None,
    )
