"""Offscreen CPU rendering of a triangle mesh on a ground plane with pybullet's TinyRenderer.

No GPU, no display, no extra dependency. Each frame rebuilds the scene (pybullet keeps every visual
shape it was given until the simulation is reset, so reusing one client frame after frame would grow
without bound). Returns the colour image, the depth in metres and the body's silhouette.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from sfv.camera import Camera
from sfv.io import quiet_stdio

GROUND_URDF = "plane.urdf"  # pybullet_data's checkered ground: texture gives the viewer depth and motion cues
SCENE_COLOUR = (0.62, 0.55, 0.47, 1.0)  # a scene's boxes: a concrete-like grey-brown, apart from body and floor


class TinyRenderer:
    """One DIRECT pybullet client that draws a coloured mesh on the ground from a `Camera`."""

    def __init__(self, camera: Camera, light_direction=(0.4, -0.6, 1.0), ground: bool = True):
        import pybullet
        import pybullet_data

        self.p = pybullet
        with quiet_stdio():
            self.client = pybullet.connect(pybullet.DIRECT)
        pybullet.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=self.client)
        self.camera = camera
        self.view, self.projection = camera.opengl_matrices()
        self.light_direction = list(light_direction)
        self.ground = ground

    def close(self):
        if self.client is not None:
            self.p.disconnect(self.client)
            self.client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def render(
        self,
        vertices: np.ndarray,
        face_groups: dict[str, np.ndarray],
        colours: dict[str, tuple],
        camera: Camera | None = None,
        boxes: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw the mesh (vertices (V, 3); faces per colour group) -> rgb (H, W, 3) uint8, depth (H, W)
        metres (far where nothing was drawn), silhouette (H, W) bool. `camera` (same intrinsics and size) films
        this frame instead of the renderer's own: a camera that moves. `boxes`: axis-aligned (low corner, high
        corner) pairs drawn as the scene (a platform), not part of the silhouette."""
        p, c = self.p, self.client
        view = self.view if camera is None else camera.opengl_matrices()[0]
        p.resetSimulation(physicsClientId=c)
        if self.ground:
            p.loadURDF(GROUND_URDF, physicsClientId=c)
        for lo, hi in boxes:
            lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
            shape = p.createVisualShape(
                p.GEOM_BOX, halfExtents=((hi - lo) / 2).tolist(), rgbaColor=list(SCENE_COLOUR), physicsClientId=c
            )
            p.createMultiBody(baseVisualShapeIndex=shape, basePosition=((hi + lo) / 2).tolist(), physicsClientId=c)
        body_ids = []
        normals = vertex_normals(vertices, np.concatenate(list(face_groups.values())))
        for group, faces in face_groups.items():
            used, inverse = np.unique(faces, return_inverse=True)
            shape = p.createVisualShape(
                p.GEOM_MESH,
                vertices=vertices[used].astype(float).tolist(),
                indices=inverse.reshape(-1).astype(int).tolist(),
                normals=normals[used].astype(float).tolist(),
                rgbaColor=list(colours[group]),
                physicsClientId=c,
            )
            body_ids.append(p.createMultiBody(baseVisualShapeIndex=shape, physicsClientId=c))
        w, h = self.camera.width, self.camera.height
        _, _, rgba, zbuffer, seg = p.getCameraImage(
            w,
            h,
            viewMatrix=view,
            projectionMatrix=self.projection,
            renderer=p.ER_TINY_RENDERER,
            shadow=0,
            lightDirection=self.light_direction,
            physicsClientId=c,
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)[..., :3].copy()
        depth = self.camera.linear_depth(np.asarray(zbuffer).reshape(h, w))
        silhouette = np.isin(np.asarray(seg).reshape(h, w), body_ids)
        return rgb, depth, silhouette


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (smooth shading)."""
    v = vertices.astype(np.float64)
    n = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    out = np.zeros_like(v)
    for k in range(3):
        np.add.at(out, faces[:, k], n)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
