"""A human body (the `anny` model) posed to follow a motion of the DeepMimic humanoid.

Retargeting by bone orientations. Every anny bone is driven by one humanoid body (thigh by the hip,
shin by the knee, spine by the root and chest, ...): its world orientation is the driver's world
orientation times a constant calibration rotation. The calibration is taken in the two rest poses,
after swinging anny's limbs (A-pose, bent elbows, splayed legs) onto the humanoid's rest limb
directions (arms and legs straight down), so each anny limb points exactly where the humanoid's
segment points in every frame. Positions then come from anny's own bone lengths (anny's
"world-orient" pose parameterisation); the hips follow the humanoid's root, scaled by the ratio of
leg lengths, and the body is raised or lowered once per clip so that its soles meet the humanoid's
soles (the bottoms of its foot boxes) in the frames where the mocap's feet are down.

The render world is z-up, the ground is z = 0, and the humanoid's forward (+x) stays +x.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sfv import rotations
from sfv.skeleton import Skeleton

#: phenotype parameters anny takes, each in [0, 1] (0.5 = its average adult)
PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")
#: the humanoid joints whose positions the body must follow, with the anny bone whose head sits there
FOLLOWED_JOINTS = {
    "right_hip": "upperleg01.R",
    "right_knee": "lowerleg01.R",
    "right_ankle": "foot.R",
    "left_hip": "upperleg01.L",
    "left_knee": "lowerleg01.L",
    "left_ankle": "foot.L",
    "right_shoulder": "upperarm01.R",
    "right_elbow": "lowerarm01.R",
    "right_wrist": "wrist.R",
    "left_shoulder": "upperarm01.L",
    "left_elbow": "lowerarm01.L",
    "left_wrist": "wrist.L",
}
#: limb segments aligned at calibration: (anny bones, from bone head, to bone head, humanoid from, humanoid to)
LIMBS = [
    (("upperleg01", "upperleg02"), "upperleg01", "lowerleg01", "hip", "knee"),
    (("lowerleg01", "lowerleg02"), "lowerleg01", "foot", "knee", "ankle"),
    (("upperarm01", "upperarm02"), "upperarm01", "lowerarm01", "shoulder", "elbow"),
    (("lowerarm01", "lowerarm02"), "lowerarm01", "wrist", "elbow", "wrist"),
]
SIDES = {"L": "left", "R": "right"}
#: the z-up render world from a y-up character: x stays, y becomes z, z becomes -y (a right-handed rotation)
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: anny faces -y with +x on its left; the humanoid, once z-up, faces +x with +y on its left: turn anny by +90 deg
ANNY_TO_HUMANOID_FACING = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
#: clothing colours (RGBA) by body region, so left/right and limbs read clearly on video
COLOURS = {
    "skin": (0.87, 0.69, 0.58, 1.0),
    "shirt": (0.80, 0.25, 0.20, 1.0),
    "trousers": (0.17, 0.24, 0.45, 1.0),
    "shoes": (0.15, 0.15, 0.15, 1.0),
}


def default_cache_dir() -> Path:
    """Where anny's ~790 MB of built model data lives: $ANNY_CACHE_DIR, else .cache/anny (git-ignored)."""
    return Path(os.environ.get("ANNY_CACHE_DIR", Path.cwd() / ".cache" / "anny")).resolve()


def load_anny(cache_dir: str | Path | None = None, progress: bool = True):
    """anny's full-body model (float64, pure-torch skinning). The first call builds its data from the
    wheel's MakeHuman files (1 to 3 min, ~790 MB in `cache_dir`); later calls load it in about a second."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    os.environ["ANNY_CACHE_DIR"] = str(cache)  # anny reads it when imported
    import anny
    from anny.paths import set_anny_cache_path

    set_anny_cache_path(cache)
    first = not any(cache.rglob("*.safetensors")) if cache.exists() else True
    stop = threading.Event()
    if first and progress:
        print(f"Building the anny body model (first time only: 1-3 min, ~790 MB into {cache}) ...", flush=True)

        def tick():
            from tqdm.auto import tqdm

            with tqdm(desc="building anny", unit="s", bar_format="{desc}: {n} s elapsed", mininterval=5) as bar:
                while not stop.wait(1.0):
                    bar.update(1)

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
    try:
        model = anny.Anny(pose_parameterization="world-orient", skinning_method="lbs")
    finally:
        stop.set()
        if first and progress:
            ticker.join()
    return model


def _slerp_matrices(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    qa, qb = _quat(a), _quat(b)
    return rotations.to_matrix(rotations.slerp(qa, qb, np.full(qa.shape[:-1], w)))


def _quat(m: np.ndarray) -> np.ndarray:
    import roma

    return roma.rotmat_to_unitquat(torch.as_tensor(m)).numpy()


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (3, 3) taking direction a onto direction b."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        perp = np.cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0])
        return rotations.to_matrix(rotations.from_axis_angle(perp / np.linalg.norm(perp), np.pi))
    return rotations.to_matrix(rotations.from_axis_angle(axis / s, np.arctan2(s, c)))


def foot_boxes(skeleton: Skeleton) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Collision box (centre, half extents) of each ankle body in its frame, read from the character's URDF."""
    import xml.etree.ElementTree as ET

    scale = float(skeleton.settings.get("scale", 1.0))
    text = Path(skeleton.source).read_bytes()
    root = ET.fromstring(text[: text.rfind(b"</robot>") + len(b"</robot>")])
    boxes = {}
    for side in ("left", "right"):
        link = root.find(f"link[@name='{side}_ankle']")
        box = None if link is None else link.find("collision/geometry/box")
        if box is None:
            raise ValueError(
                f"{skeleton.source}: link {side}_ankle has no collision box (the foot the ground truth "
                "aligns the body's soles with)"
            )
        origin = link.find("collision/origin")
        if origin is not None and any(float(x) for x in origin.get("rpy", "0 0 0").split()):
            raise ValueError(
                f"{skeleton.source}: {side}_ankle's collision box is rotated; only axis-aligned feet are supported"
            )
        centre = np.array([float(x) for x in (origin.get("xyz", "0 0 0") if origin is not None else "0 0 0").split()])
        half = np.array([float(x) for x in box.get("size").split()]) / 2
        boxes[f"{side}_ankle"] = (centre * scale, half * scale)
    return boxes


def foot_down(sole_heights: np.ndarray, band: float = 0.02) -> np.ndarray:
    """Frames (T, 2) where each foot is down: within `band` metres of its lowest height in the clip."""
    return sole_heights <= sole_heights.min(axis=0) + band


def driver_of(bone: str) -> tuple[str, str, float]:
    """(humanoid body a, humanoid body b, w): the bone turns with slerp(a, b, w)."""
    side = SIDES.get(bone.rsplit(".", 1)[-1]) if "." in bone else None
    stem = bone.rsplit(".", 1)[0]
    if side:
        if stem.startswith(("upperleg",)):
            return f"{side}_hip", f"{side}_hip", 0.0
        if stem.startswith("lowerleg"):
            return f"{side}_knee", f"{side}_knee", 0.0
        if stem.startswith(("foot", "toe")):
            return f"{side}_ankle", f"{side}_ankle", 0.0
        if stem.startswith("upperarm"):
            return f"{side}_shoulder", f"{side}_shoulder", 0.0
        if stem.startswith(("lowerarm", "wrist", "finger", "metacarpal")):
            return f"{side}_elbow", f"{side}_elbow", 0.0
        if stem.startswith(("clavicle", "shoulder")):
            return "chest", "chest", 0.0
        if stem.startswith("pelvis"):
            return "root", "root", 0.0
        if stem.startswith("eye"):
            return "neck", "neck", 0.0
    table = {
        "root": ("root", "root", 0.0),
        "spine05": ("root", "root", 0.0),
        "spine04": ("root", "chest", 0.25),
        "spine03": ("root", "chest", 0.6),
        "spine02": ("chest", "chest", 0.0),
        "spine01": ("chest", "chest", 0.0),
        "neck01": ("chest", "neck", 0.5),
        "neck02": ("neck", "neck", 0.0),
        "neck03": ("neck", "neck", 0.0),
        "head": ("neck", "neck", 0.0),
    }
    if bone not in table:
        raise KeyError(f"anny bone {bone!r} has no humanoid driver")
    return table[bone]


def region_of(bone: str) -> str:
    """Clothing region of the vertices a bone mostly moves."""
    stem = bone.rsplit(".", 1)[0]
    if stem.startswith(("foot", "toe")):
        return "shoes"
    if stem in ("root",) or stem.startswith(("pelvis", "upperleg", "lowerleg")):
        return "trousers"
    if stem.startswith(("spine", "clavicle", "shoulder", "upperarm")):
        return "shirt"
    return "skin"


@dataclass
class PosedClip:
    """A clip of the posed body, in the z-up render world (metres)."""

    vertices: np.ndarray  # (T, V, 3) float32
    keypoints: np.ndarray  # (T, K, 3) anny's regressed COCO(+feet) keypoints
    keypoint_names: tuple[str, ...]
    body_joints: np.ndarray  # (T, J, 3) anny bone heads at the FOLLOWED_JOINTS
    source_joints: np.ndarray  # (T, B, 3) the humanoid's bodies, scaled and placed as the body is
    sole_heights: np.ndarray  # (T, 2) height of the lowest vertex of the body's left and right shoe
    source_sole_heights: np.ndarray  # (T, 2) height of the lowest corner of the humanoid's left, right foot box
    scale: float  # anny leg length / humanoid leg length: the humanoid's positions are scaled by it
    lift: float  # metres added to the body's z so that its soles meet the humanoid's where its feet are down


class BodyRetargeter:
    """Poses anny like a humanoid motion (see the module docstring); one instance per phenotype."""

    def __init__(self, model, skeleton: Skeleton, phenotype: dict[str, float] | None = None):
        if skeleton.up_axis not in ("y", "z"):
            raise ValueError(f"character {skeleton.name!r}: up axis {skeleton.up_axis!r} not supported (y or z)")
        unknown = set(phenotype or {}) - set(PHENOTYPES)
        if unknown:
            raise ValueError(f"unknown phenotype parameter(s) {sorted(unknown)}; known: {', '.join(PHENOTYPES)}")
        self.model, self.skeleton = model, skeleton
        self.phenotype = {k: float(v) for k, v in (phenotype or {}).items()}
        self.to_world = Y_UP_TO_Z_UP if skeleton.up_axis == "y" else np.eye(3)
        self.labels: list[str] = list(model.bone_labels)
        self.faces = model.get_triangular_faces().numpy().astype(np.int32)
        from anny import KeypointsRegressor

        self.keypoint_regressor = KeypointsRegressor.coco(model)
        self.keypoint_names = tuple(self.keypoint_regressor.labels)
        with torch.no_grad():
            rest = model(None, phenotype_kwargs=self._phenotype(1))
        self.rest_poses = rest["rest_bone_poses"][0].numpy()  # (104, 4, 4)
        self.drivers = [driver_of(b) for b in self.labels]
        self.foot_boxes = foot_boxes(skeleton)
        self._calibrate()
        weights = model.vertex_bone_weights.numpy()
        dominant = model.vertex_bone_indices.numpy()[np.arange(len(weights)), weights.argmax(1)]
        vertex_region = np.array([region_of(self.labels[i]) for i in dominant])
        self.shoe_vertices = np.flatnonzero(vertex_region == "shoes")
        dominant_side = np.array([self.labels[i].rsplit(".", 1)[-1] if "." in self.labels[i] else "" for i in dominant])
        self.sole_vertices = {
            side: np.flatnonzero((vertex_region == "shoes") & (dominant_side == s)) for s, side in SIDES.items()
        }
        face_region = vertex_region[self.faces[:, 0]]
        self.face_groups = {r: self.faces[face_region == r] for r in COLOURS if np.any(face_region == r)}

    def _phenotype(self, batch: int) -> dict:
        return {k: torch.full((batch,), v, dtype=torch.float64) for k, v in self.phenotype.items()} or None

    def _humanoid_rest(self) -> tuple[np.ndarray, np.ndarray]:
        from sfv.kinematics import forward_kinematics_np

        s = self.skeleton
        pos, quat = forward_kinematics_np(s, np.zeros(3), rotations.IDENTITY, s.identity_pose())
        return pos @ self.to_world.T, self.to_world @ rotations.to_matrix(quat)

    def _driver_rotations(self, body_mats: np.ndarray) -> np.ndarray:
        """World rotation (..., 104, 3, 3) of each anny bone's driver from the humanoid's body rotations."""
        idx = {n: i for i, n in enumerate(self.skeleton.body_names)}
        out = np.empty(body_mats.shape[:-3] + (len(self.labels), 3, 3))
        cache: dict[tuple, np.ndarray] = {}
        for j, (a, b, w) in enumerate(self.drivers):
            key = (a, b, w)
            if key not in cache:
                ma = body_mats[..., idx[a], :, :]
                cache[key] = ma if (w == 0.0 or a == b) else _slerp_matrices(ma, body_mats[..., idx[b], :, :], w)
            out[..., j, :, :] = cache[key]
        return out

    def _calibrate(self):
        """C_c = (driver rest orientation)^T x (anny bone in the humanoid's rest pose), per bone."""
        pos, mats = self._humanoid_rest()
        idx = {n: i for i, n in enumerate(self.skeleton.body_names)}
        R_rest = self.rest_poses[:, :3, :3]
        heads = self.rest_poses[:, :3, 3] @ ANNY_TO_HUMANOID_FACING.T
        calib = np.einsum("ij,bjk->bik", ANNY_TO_HUMANOID_FACING, R_rest)
        swing = {}
        for bones, head_from, head_to, h_from, h_to in LIMBS:
            for side, name in SIDES.items():
                src = heads[self.labels.index(f"{head_to}.{side}")] - heads[self.labels.index(f"{head_from}.{side}")]
                dst = pos[idx[f"{name}_{h_to}"]] - pos[idx[f"{name}_{h_from}"]]
                S = _swing(src, dst)
                for bone in bones:
                    swing[f"{bone}.{side}"] = S
        # a bone with no limb target of its own (foot, toes, hand) turns with the nearest swung ancestor
        for j, bone in enumerate(self.labels):
            k = j
            while k > 0 and self.labels[k] not in swing:
                k = self.model.bone_parents[k]
            if self.labels[k] in swing:
                calib[j] = swing[self.labels[k]] @ calib[j]
        drivers = self._driver_rotations(mats)
        self.calibration = np.einsum("bji,bjk->bik", drivers, calib)  # driver^T @ calib
        leg = np.linalg.norm(pos[idx["right_ankle"]] - pos[idx["right_hip"]])
        anny_leg = sum(
            np.linalg.norm(heads[self.labels.index(f"{b}.R")] - heads[self.labels.index(f"{a}.R")])
            for a, b in (("upperleg01", "lowerleg01"), ("lowerleg01", "foot"))
        )
        self.scale = float(anny_leg / leg)

    def pose_frames(
        self, root_pos: np.ndarray, root_rot: np.ndarray, pose: np.ndarray, batch: int = 64, progress=None
    ) -> PosedClip:
        """Pose the body for humanoid frames (root position (T, 3), root quaternion xyzw (T, 4), joint
        vector (T, pose_size)) in the humanoid's own world; returns the clip in the render world."""
        from sfv.kinematics import forward_kinematics_np

        pos, quat = forward_kinematics_np(self.skeleton, root_pos, root_rot, pose)
        pos = pos @ self.to_world.T * self.scale
        mats = np.einsum("ij,tbjk->tbik", self.to_world, rotations.to_matrix(quat))
        orient = np.einsum("tbij,bjk->tbik", self._driver_rotations(mats), self.calibration)
        T = len(pos)
        deltas = np.zeros((T, len(self.labels), 4, 4))
        deltas[..., :3, :3] = orient
        deltas[..., 3, 3] = 1.0
        hips = [self.labels.index("upperleg01.L"), self.labels.index("upperleg01.R")]
        followed = [self.labels.index(b) for b in FOLLOWED_JOINTS.values()]
        root = self.skeleton.body_names.index("root")
        verts, kps, joints = [], [], []
        for start in range(0, T, batch):
            d = torch.as_tensor(deltas[start : start + batch])
            with torch.no_grad():
                out = self.model(d, phenotype_kwargs=self._phenotype(len(d)))
                kp = self.keypoint_regressor(out)
            heads = out["bone_poses"][..., :3, 3].numpy()
            shift = pos[start : start + batch, root] - heads[:, hips].mean(1)  # anny's hip centre onto the humanoid's
            verts.append((out["vertices"].numpy() + shift[:, None]).astype(np.float32))
            kps.append(kp.numpy() + shift[:, None])
            joints.append(heads[:, followed] + shift[:, None])
            if progress is not None:
                progress(len(d))
        vertices = np.concatenate(verts)
        soles = np.stack([vertices[:, self.sole_vertices[side], 2].min(1) for side in ("left", "right")], axis=1)
        source_soles = self.source_sole_heights(pos, mats)
        # Feet are where the mocap touches the ground; anny's feet are longer than the humanoid's boxes, so
        # match soles where the humanoid's are down (not the lowest point of the clip: pointed toes reach lower)
        down = foot_down(source_soles)
        lift = float(np.median(source_soles[down] - soles[down]))
        up = np.array([0.0, 0.0, lift])
        return PosedClip(
            vertices=vertices + up.astype(np.float32),
            keypoints=np.concatenate(kps) + up,
            keypoint_names=self.keypoint_names,
            body_joints=np.concatenate(joints) + up,
            source_joints=pos,
            scale=self.scale,
            lift=lift,
            sole_heights=soles + lift,
            source_sole_heights=source_soles,
        )

    def source_sole_heights(self, pos: np.ndarray, mats: np.ndarray) -> np.ndarray:
        """Lowest corner (T, 2) of the humanoid's left and right foot collision boxes (render world, scaled)."""
        out = []
        for side in ("left", "right"):
            b = self.skeleton.body_names.index(f"{side}_ankle")
            centre, half = self.foot_boxes[f"{side}_ankle"]
            corners = centre + half * np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
            world = pos[:, b, None] + self.scale * np.einsum("tij,cj->tci", mats[:, b], corners)
            out.append(world[..., 2].min(1))
        return np.stack(out, axis=1)

    def followed_source_joints(self, clip: PosedClip) -> np.ndarray:
        """The humanoid joints (T, J, 3) that `clip.body_joints` follow, in the same order."""
        idx = [self.skeleton.body_names.index(n) for n in FOLLOWED_JOINTS]
        return clip.source_joints[:, idx]


def follow_errors(retargeter: BodyRetargeter, clip: PosedClip) -> dict[str, float]:
    """How faithfully the body follows the mocap: joint distances (m) and limb direction errors (deg)."""
    src = retargeter.followed_source_joints(clip)
    dist = np.linalg.norm(clip.body_joints - src, axis=-1)
    names = list(FOLLOWED_JOINTS)
    angles = []
    for a, b in [("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist")]:
        for side in ("left", "right"):
            i, j = names.index(f"{side}_{a}"), names.index(f"{side}_{b}")
            u, v = clip.body_joints[:, j] - clip.body_joints[:, i], src[:, j] - src[:, i]
            cos = np.sum(u * v, -1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
            angles.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    angles = np.stack(angles, axis=1)
    return {
        "joint_error_mean_m": float(dist.mean()),
        "joint_error_max_m": float(dist.max()),
        "limb_direction_error_max_deg": float(angles.max()),
    }
