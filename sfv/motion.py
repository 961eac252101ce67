"""`Motion`: a reference motion on a skeleton, with the DeepMimic text format and npz.

A motion is sampled at a constant frame rate. Per frame it holds the root position, the root
orientation (quaternion x, y, z, w) and the flat joint vector of the skeleton (a quaternion per
spherical joint, an angle per revolute joint, in the skeleton's joint order).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sfv import rotations
from sfv.io import write_npz, write_text
from sfv.skeleton import Skeleton, load_character

LOOP_MODES = ("wrap", "none")
NPZ_FORMAT = "sfv-motion/1"


class MotionFormatError(ValueError):
    """A motion file or array the kit cannot read; the message names the file and the place."""


@dataclass(frozen=True)
class Motion:
    skeleton: Skeleton
    fps: float
    root_pos: np.ndarray  # (T, 3) metres
    root_rot: np.ndarray  # (T, 4) quaternion xyzw
    pose: np.ndarray  # (T, skeleton.pose_size)
    loop: str = "none"
    name: str = ""

    def __post_init__(self):
        T = len(self.root_pos)
        where = f"motion {self.name!r}" if self.name else "motion"
        if self.loop not in LOOP_MODES:
            raise MotionFormatError(f"{where}: loop must be one of {LOOP_MODES}, got {self.loop!r}")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MotionFormatError(f"{where}: fps must be a positive number, got {self.fps}")
        expected = {"root_pos": (T, 3), "root_rot": (T, 4), "pose": (T, self.skeleton.pose_size)}
        for key, shape in expected.items():
            arr = getattr(self, key)
            if arr.shape != shape:
                raise MotionFormatError(f"{where}: {key} has shape {arr.shape}, expected {shape}")
            bad = np.argwhere(~np.isfinite(arr))
            if len(bad):
                raise MotionFormatError(f"{where}: {key} has a non-finite value at frame {bad[0][0]}")
        if T < 1:
            raise MotionFormatError(f"{where}: no frames")

    # --- basic facts -------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return len(self.root_pos)

    @property
    def duration(self) -> float:
        return (self.n_frames - 1) / self.fps

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.fps

    def joint_quaternions(self) -> np.ndarray:
        """Local rotation of each movable joint as a quaternion (T, n_joints, 4); revolute ones too."""
        import torch

        from sfv.kinematics import joint_rotations

        movable = [self.skeleton.index(n) for n in self.skeleton.joint_names]
        return joint_rotations(self.skeleton, torch.as_tensor(self.pose, dtype=torch.float64)).numpy()[:, movable]

    def body_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """World positions (T, B, 3) and orientations (T, B, 4) of all bodies (forward kinematics)."""
        from sfv.kinematics import forward_kinematics_np

        return forward_kinematics_np(self.skeleton, self.root_pos, self.root_rot, self.pose)

    def fingerprint(self) -> str:
        """sha256 of what the motion is (skeleton, frame rate, loop mode, every number), not of a file's bytes:
        a training resumes only on the motion it started with."""
        h = hashlib.sha256(f"{self.skeleton.name}|{self.fps!r}|{self.loop}".encode())
        for a in (self.root_pos, self.root_rot, self.pose):
            h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
        return h.hexdigest()

    # --- resampling ----------------------------------------------------------------------------
    def sample(self, times: np.ndarray) -> "Motion":
        """Interpolate at arbitrary times (seconds, clamped to the clip): lerp positions and angles, slerp rotations."""
        root_pos, root_rot, pose = _interpolate(
            self.skeleton, self.times, self.root_pos, self.root_rot, self.pose, times
        )
        return replace(self, root_pos=root_pos, root_rot=root_rot, pose=pose)

    def resample(self, fps: float) -> "Motion":
        """The same motion at another frame rate, covering the same duration."""
        n = int(np.floor(self.duration * fps + 1e-6)) + 1
        return replace(self.sample(np.arange(n) / fps), fps=float(fps))

    # --- velocities ----------------------------------------------------------------------------
    def velocities(self) -> dict[str, np.ndarray]:
        """Finite-difference velocities at each frame (forward difference; the last frame repeats).

        root_lin (T, 3) world m/s; root_ang (T, 3) world rad/s; joints (T, n_joints, 3) local rad/s
        for spherical joints (DeepMimic's convention) and about the axis for revolute ones.
        """
        T = self.n_frames
        if T < 2:
            z = np.zeros((T, 3))
            return {"root_lin": z, "root_ang": z.copy(), "joints": np.zeros((T, len(self.skeleton.joints), 3))}

        def pad(v):
            return np.concatenate([v, v[-1:]], axis=0)

        root_lin = pad(np.diff(self.root_pos, axis=0) * self.fps)
        dq_world = rotations.multiply(self.root_rot[1:], rotations.conjugate(self.root_rot[:-1]))
        root_ang = pad(rotations.to_rotvec(dq_world) * self.fps)
        jq = self.joint_quaternions()
        dq_local = rotations.multiply(rotations.conjugate(jq[:-1]), jq[1:])
        joints = pad(rotations.to_rotvec(dq_local) * self.fps)
        return {"root_lin": root_lin, "root_ang": root_ang, "joints": joints}

    # --- files ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write by suffix: `.txt`/`.json` DeepMimic text format, `.npz` the kit's format."""
        path = Path(path)
        if path.suffix == ".npz":
            return save_npz(self, path)
        if path.suffix in (".txt", ".json"):
            return save_deepmimic(self, path)
        raise MotionFormatError(f"{path}: unknown motion suffix {path.suffix!r}; use .txt (DeepMimic) or .npz")


# ------------------------------------------------------------------------------------------------
def _interpolate(skeleton, src_times, root_pos, root_rot, pose, times):
    times = np.clip(np.asarray(times, dtype=float), src_times[0], src_times[-1])
    i1 = np.clip(np.searchsorted(src_times, times, side="right"), 1, len(src_times) - 1)
    i0 = i1 - 1
    span = np.maximum(src_times[i1] - src_times[i0], 1e-12)
    a = np.clip((times - src_times[i0]) / span, 0.0, 1.0)
    if len(src_times) == 1:
        i0 = i1 = np.zeros_like(i1)
    lerp = lambda x: x[i0] + (x[i1] - x[i0]) * a[:, None]  # noqa: E731
    out_pose = lerp(pose)
    for sl in skeleton.quaternion_slices:
        out_pose[:, sl] = rotations.slerp(pose[i0, sl], pose[i1, sl], a)
    return lerp(root_pos), rotations.slerp(root_rot[i0], root_rot[i1], a), out_pose


def _convert_pose(skeleton: Skeleton, pose: np.ndarray, convert) -> np.ndarray:
    out = np.array(pose, dtype=float, copy=True)
    for sl in skeleton.quaternion_slices:
        out[:, sl] = convert(out[:, sl])
    return out


def _frame_lines(text: str) -> list[int]:
    """1-based line number where each row of "Frames" starts (for error messages)."""
    start = text.find('"Frames"')
    lines, depth, line, in_str = [], 0, text.count("\n", 0, max(start, 0)) + 1, False
    for ch in text[max(start, 0) :]:
        if ch == "\n":
            line += 1
        elif ch == '"':
            in_str = not in_str
        elif not in_str and ch == "[":
            depth += 1
            if depth == 2:
                lines.append(line)
        elif not in_str and ch == "]":
            depth -= 1
            if depth == 0:
                break
    return lines


def round_fps(dt: float) -> float:
    """Frame rate from a frame duration, snapped to a whole number when within 0.1% (0.016666 s -> 60)."""
    fps = 1.0 / dt
    return float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else fps


def load_deepmimic(path: str | Path, skeleton: Skeleton | str = "humanoid", name: str | None = None) -> Motion:
    """Read a DeepMimic motion text file (JSON with "Loop" and "Frames").

    Rows are [duration, root pos (3), root quat wxyz (4), joints...]; spherical joints are wxyz.
    Clips with uneven frame durations are resampled to their most common frame rate.
    """
    path = Path(path)
    skel = load_character(skeleton) if isinstance(skeleton, str) else skeleton
    if not path.is_file():
        raise MotionFormatError(f"{path}: motion file not found")
    text = path.read_text(errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise MotionFormatError(
            f"{path}: not a DeepMimic motion file (not JSON: {e.msg} at line {e.lineno}, column {e.colno}); "
            'expected {"Loop": "wrap"|"none", "Frames": [[duration, root pos, root quat, joints...], ...]}'
        ) from None
    if not isinstance(data, dict) or "Frames" not in data:
        raise MotionFormatError(f'{path}: not a DeepMimic motion file: no "Frames" key at the top level')
    loop = data.get("Loop", "none")
    if loop not in LOOP_MODES:
        raise MotionFormatError(f'{path}: "Loop" must be one of {LOOP_MODES}, got {loop!r}')
    frames = data["Frames"]
    if not isinstance(frames, list) or not frames:
        raise MotionFormatError(f'{path}: "Frames" must be a non-empty list of rows')
    width = 1 + 3 + 4 + skel.pose_size
    lines = _frame_lines(text)
    for i, row in enumerate(frames):
        where = f"{path}:{lines[i] if i < len(lines) else '?'}: frame {i}"
        if not isinstance(row, list) or len(row) != width:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise MotionFormatError(
                f"{where} has {got} numbers; a {skel.name} frame has {width} "
                f"(duration, root position 3, root quaternion 4, joints {skel.pose_size})"
            )
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in row):
            raise MotionFormatError(f"{where} holds a value that is not a number")
        if not np.all(np.isfinite(row)):
            col = int(np.argmin(np.isfinite(row)))
            raise MotionFormatError(f"{where}: column {col} is {row[col]} (NaN or infinite); fix or drop the frame")
    arr = np.asarray(frames, dtype=float)
    durations = arr[:, 0]
    steps = durations[:-1] if len(arr) > 1 else durations
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0))
        raise MotionFormatError(f"{path}:{lines[i]}: frame {i} has duration {steps[i]}; only the last frame may be 0")
    root_pos = arr[:, 1:4]
    root_rot = rotations.normalize(rotations.wxyz_to_xyzw(arr[:, 4:8]))
    pose = _convert_pose(skel, arr[:, 8:], lambda q: rotations.normalize(rotations.wxyz_to_xyzw(q)))
    dt = float(np.median(steps))
    fps = round_fps(dt)
    motion_name = name or path.stem.removeprefix("humanoid3d_")
    if len(arr) > 1 and np.max(np.abs(steps - 1.0 / fps)) > 1e-4:
        src_times = np.concatenate([[0.0], np.cumsum(steps)])
        n = int(np.floor(src_times[-1] * fps + 1e-6)) + 1
        root_pos, root_rot, pose = _interpolate(skel, src_times, root_pos, root_rot, pose, np.arange(n) / fps)
    return Motion(skel, fps, root_pos, root_rot, pose, loop=loop, name=motion_name)


def to_deepmimic_dict(motion: Motion) -> dict:
    dt = 1.0 / motion.fps
    durations = np.full(motion.n_frames, dt)
    durations[-1] = 0.0
    pose = _convert_pose(motion.skeleton, motion.pose, rotations.xyzw_to_wxyz)
    rows = np.concatenate([durations[:, None], motion.root_pos, rotations.xyzw_to_wxyz(motion.root_rot), pose], axis=1)
    return {"Loop": motion.loop, "Frames": rows.tolist()}


def save_deepmimic(motion: Motion, path: str | Path) -> Path:
    """Write the DeepMimic text format, one frame per line (pybullet's DeepMimic env plays it)."""
    d = to_deepmimic_dict(motion)
    body = ",\n".join("  " + json.dumps(row) for row in d["Frames"])
    return write_text(path, f'{{\n"Loop": "{d["Loop"]}",\n"Frames": [\n{body}\n]\n}}\n')


def save_npz(motion: Motion, path: str | Path) -> Path:
    skel = motion.skeleton
    return write_npz(
        path,
        format=NPZ_FORMAT,
        name=motion.name,
        skeleton=skel.name,
        fps=motion.fps,
        loop=motion.loop,
        joint_names=np.array(skel.joint_names),
        joint_types=np.array([b.joint_type for b in skel.joints]),
        root_pos=motion.root_pos,
        root_rot=motion.root_rot,
        pose=motion.pose,
    )


def load_npz(path: str | Path, skeleton: Skeleton | None = None) -> Motion:
    path = Path(path)
    if not path.is_file():
        raise MotionFormatError(f"{path}: motion file not found")
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy raises several types for a file that is not npz
        raise MotionFormatError(f"{path}: not an npz file ({e})") from None
    with z:
        missing = [
            k
            for k in ("format", "skeleton", "fps", "loop", "joint_names", "root_pos", "root_rot", "pose")
            if k not in z
        ]
        if missing:
            raise MotionFormatError(f"{path}: not an sfv motion npz; missing arrays {missing}")
        if str(z["format"]) != NPZ_FORMAT:
            raise MotionFormatError(f"{path}: format {str(z['format'])!r}, this kit reads {NPZ_FORMAT!r}")
        stored = str(z["skeleton"])
        if skeleton is not None and stored != skeleton.name:
            raise MotionFormatError(
                f"{path}: a motion on the {stored!r} skeleton, not {skeleton.name!r}: retarget it "
                f"first (sfv.retarget.retarget(motion, load_character({skeleton.name!r})))"
            )
        skel = skeleton or load_character(stored)
        names = [str(n) for n in z["joint_names"]]
        unknown = [n for n in names if n not in skel.joint_names]
        if unknown:
            raise MotionFormatError(
                f"{path}: unknown joint {unknown[0]!r} for skeleton {skel.name!r} "
                f"(its joints: {', '.join(skel.joint_names)})"
            )
        if names != skel.joint_names:
            missing_j = [n for n in skel.joint_names if n not in names]
            raise MotionFormatError(
                f"{path}: joints {names} do not match skeleton {skel.name!r}"
                + (f"; missing {missing_j}" if missing_j else "; the order differs")
            )
        try:
            return Motion(
                skel,
                float(z["fps"]),
                z["root_pos"].astype(float),
                z["root_rot"].astype(float),
                z["pose"].astype(float),
                loop=str(z["loop"]),
                name=str(z["name"]) if "name" in z else path.stem,
            )
        except MotionFormatError as e:
            raise MotionFormatError(f"{path}: {e}") from None


def close_loop(motion: Motion) -> Motion:
    """A cyclic version of the motion: its last frame becomes its first (but for the horizontal travel),
    the difference spread linearly over the clip (DeepMimic's convention: the last frame of a cycle is
    the first of the next)."""
    sk, T = motion.skeleton, motion.n_frames
    up = "xyz".index(sk.up_axis)
    w = np.arange(T) / max(T - 1, 1)
    identity = np.broadcast_to(np.array(rotations.IDENTITY, dtype=float), (T, 4))
    root_pos = motion.root_pos.copy()
    root_pos[:, up] += w * (root_pos[0, up] - root_pos[-1, up])
    world_fix = rotations.multiply(motion.root_rot[0], rotations.conjugate(motion.root_rot[-1]))
    root_rot = rotations.multiply(rotations.slerp(identity, np.broadcast_to(world_fix, (T, 4)), w), motion.root_rot)
    pose = motion.pose.copy()
    quaternions = set()
    for sl in sk.quaternion_slices:
        local_fix = rotations.multiply(rotations.conjugate(pose[-1, sl]), pose[0, sl])
        pose[:, sl] = rotations.multiply(pose[:, sl], rotations.slerp(identity, np.broadcast_to(local_fix, (T, 4)), w))
        quaternions |= set(range(sl.start, sl.stop))
    for i in sorted(set(range(sk.pose_size)) - quaternions):
        pose[:, i] += w * (pose[0, i] - pose[-1, i])
    return replace(motion, root_pos=root_pos, root_rot=rotations.normalize(root_rot), pose=pose, loop="wrap")


def repeat_cycles(motion: Motion, cycles: int) -> Motion:
    """A looping motion played `cycles` times in a row, as one motion: what a video of several strides shows. Its
    loop is closed first (`close_loop`), so that each cycle runs into the next without a jump; then every cycle is
    its frames but the last, shifted by the cycle's horizontal travel times its number, and the last cycle keeps
    its last frame. One cycle is the motion itself, untouched."""
    if cycles < 1:
        raise ValueError(f"cycles must be at least 1, got {cycles}")
    if cycles == 1:
        return motion
    if motion.loop != "wrap":
        raise MotionFormatError(
            f"motion {motion.name!r}: does not loop (loop: {motion.loop}), so it has no cycle to repeat"
        )
    closed = close_loop(motion)
    up = "xyz".index(motion.skeleton.up_axis)
    travel = closed.root_pos[-1] - closed.root_pos[0]
    travel[up] = 0.0
    n = closed.n_frames - 1  # the last frame is the next cycle's first
    k = np.repeat(np.arange(cycles), n)[:, None]
    rows = np.tile(np.arange(n), cycles)
    return replace(
        closed,
        root_pos=np.vstack([closed.root_pos[rows] + k * travel, closed.root_pos[-1:] + (cycles - 1) * travel]),
        root_rot=np.vstack([closed.root_rot[rows], closed.root_rot[-1:]]),
        pose=np.vstack([closed.pose[rows], closed.pose[-1:]]),
    )


def load_motion(path: str | Path, skeleton: Skeleton | str = "humanoid") -> Motion:
    """Read a motion by suffix (.npz or DeepMimic .txt/.json)."""
    path = Path(path)
    if path.suffix == ".npz":
        return load_npz(path, skeleton=None if isinstance(skeleton, str) else skeleton)
    return load_deepmimic(path, skeleton)
