"""Ground-truth rendering speed: seconds per frame of the render stage, and of its renderer against the
usual way of drawing a mesh with pybullet's TinyRenderer (export each posed mesh to an OBJ file and
load it as a visual shape), measured in the same run on the same posed frames.

Prints, for 640x480 frames of the walk clip:
  - posing: anny posed like the mocap (batched torch), per frame;
  - sfv renderer: `sfv.render.tiny.TinyRenderer.render` (vertex arrays straight to pybullet, fresh scene);
  - peer: trimesh OBJ export + createVisualShape(fileName=...) + getCameraImage, one client;
  - the whole stage (pose, render, visibility, H.264 encode, ground-truth file), per frame.
Run: `python bench/render_throughput.py` (or `make bench`). Builds anny first if .cache/anny is empty.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path


def main(n_frames: int = 24) -> None:
    import pybullet as pb
    import pybullet_data
    import torch
    import trimesh

    from sfv.config import RenderSettings
    from sfv.mocap import load_mocap
    from sfv.render.body import COLOURS, BodyRetargeter, load_anny
    from sfv.render.gt_clip import frame_camera, render_gt_clip
    from sfv.render.tiny import TinyRenderer
    from sfv.skeleton import load_character

    torch.set_num_threads(1)
    retargeter = BodyRetargeter(load_anny(), load_character("humanoid"), {})
    motion = load_mocap("walk").resample(30)
    settings = RenderSettings(width=640, height=480)
    n = min(n_frames, motion.n_frames)

    t0 = time.perf_counter()
    posed = retargeter.pose_frames(motion.root_pos[:n], motion.root_rot[:n], motion.pose[:n])
    pose_s = (time.perf_counter() - t0) / n
    camera = frame_camera(posed, settings)
    view, proj = camera.opengl_matrices()

    with TinyRenderer(camera) as r:
        r.render(posed.vertices[0], retargeter.face_groups, COLOURS)  # warm-up
        t0 = time.perf_counter()
        for f in range(n):
            r.render(posed.vertices[f], retargeter.face_groups, COLOURS)
        ours = (time.perf_counter() - t0) / n

    client = pb.connect(pb.DIRECT)
    pb.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
    pb.loadURDF("plane.urdf", physicsClientId=client)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for f in range(n):
            path = Path(tmp) / f"frame{f}.obj"
            trimesh.Trimesh(posed.vertices[f], retargeter.faces, process=False).export(path)
            shape = pb.createVisualShape(
                pb.GEOM_MESH, fileName=str(path), rgbaColor=COLOURS["skin"], physicsClientId=client
            )
            body = pb.createMultiBody(baseVisualShapeIndex=shape, physicsClientId=client)
            pb.getCameraImage(
                640,
                480,
                viewMatrix=view,
                projectionMatrix=proj,
                renderer=pb.ER_TINY_RENDERER,
                shadow=0,
                physicsClientId=client,
            )
            pb.removeBody(body, physicsClientId=client)
        peer = (time.perf_counter() - t0) / n
    pb.disconnect(client)

    with tempfile.TemporaryDirectory() as tmp:
        short = replace(motion, root_pos=motion.root_pos[:n], root_rot=motion.root_rot[:n], pose=motion.pose[:n])
        t0 = time.perf_counter()
        render_gt_clip("walk", short, retargeter, settings, Path(tmp) / "v.mp4", Path(tmp) / "gt.npz", progress=False)
        stage = (time.perf_counter() - t0) / n

    print(f"frames: {n} of walk at 640x480, one thread")
    print(f"posing (anny, batched):                 {pose_s * 1000:7.1f} ms/frame")
    print(f"sfv renderer (arrays, fresh scene):     {ours:7.3f} s/frame")
    print(f"peer (OBJ export + load + render):      {peer:7.3f} s/frame")
    print(f"ratio peer / sfv:                       {peer / ours:7.2f}x")
    print(f"whole stage (pose+render+encode+gt):    {stage:7.3f} s/frame ({1 / stage:.1f} frames/s)")


if __name__ == "__main__":
    main()
