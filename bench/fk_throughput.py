"""Forward-kinematics throughput: the kit's batched torch FK vs pybullet's (reset pose + read link frames).

Prints frames per second for each and their ratio, measured in the same run on the same frames
(all 15 humanoid mocap clips), and the latency of a one-frame call (what an optimisation step or
an environment step pays). Also prints the largest position difference between the two.
Run: `python bench/fk_throughput.py` (or `make bench`).
"""

from __future__ import annotations

import time

import numpy as np
import pybullet as pb
import pybullet_data
import torch

from sfv.assets import available_mocap
from sfv.kinematics import forward_kinematics
from sfv.mocap import load_mocap
from sfv.skeleton import load_character


def main(repeats: int = 5) -> None:
    torch.set_num_threads(1)
    skeleton = load_character("humanoid")
    motions = [load_mocap(n) for n in available_mocap()]
    root_pos = np.concatenate([m.root_pos for m in motions])
    root_rot = np.concatenate([m.root_rot for m in motions])
    pose = np.concatenate([m.pose for m in motions])
    n = len(pose)

    results = {}
    for dtype in (torch.float32, torch.float64):
        args = [torch.as_tensor(a, dtype=dtype) for a in (root_pos, root_rot, pose)]
        with torch.no_grad():
            forward_kinematics(skeleton, *args)  # warm-up
            t0 = time.perf_counter()
            for _ in range(repeats):
                pos, _ = forward_kinematics(skeleton, *args)
            results[str(dtype).split(".")[1]] = n * repeats / (time.perf_counter() - t0)
    ours = pos.numpy()
    one = [torch.as_tensor(a[:1]) for a in (root_pos, root_rot, pose)]
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(500):
            forward_kinematics(skeleton, *one)
        latency_us = (time.perf_counter() - t0) / 500 * 1e6

    client = pb.connect(pb.DIRECT)
    pb.setAdditionalSearchPath(pybullet_data.getDataPath())
    body = pb.loadURDF("humanoid/humanoid.urdf", globalScaling=0.25, flags=pb.URDF_MAINTAIN_LINK_ORDER)
    index = {pb.getJointInfo(body, j)[12].decode(): j for j in range(pb.getNumJoints(body))}
    slices = skeleton.dof_slices
    joint_ids = [index[b.name] for b in skeleton.joints]
    joint_slices = [slices[b.name] for b in skeleton.joints]
    links = list(range(pb.getNumJoints(body)))
    body_link = [index[b.name] if b.parent >= 0 else None for b in skeleton.bodies]
    worst = 0.0
    t0 = time.perf_counter()
    for f in range(n):
        pb.resetBasePositionAndOrientation(body, root_pos[f].tolist(), root_rot[f].tolist())
        for j, sl in zip(joint_ids, joint_slices):
            pb.resetJointStateMultiDof(body, j, pose[f, sl].tolist())
        states = pb.getLinkStates(body, links, computeForwardKinematics=True)
        if f % 50 == 0:
            ref = np.array([states[k][4] for k in body_link if k is not None])
            worst = max(
                worst, float(np.abs(ref - ours[f, [i for i, k in enumerate(body_link) if k is not None]]).max())
            )
    peer = n / (time.perf_counter() - t0)
    pb.disconnect(client)

    print(f"frames: {n} (15 clips), torch threads: 1")
    print(f"pybullet reset + getLinkStates: {peer:10.0f} frames/s (peer)")
    for k, v in results.items():
        print(f"sfv FK batched torch {k}: {v:10.0f} frames/s  ratio vs peer {v / peer:6.1f}x")
    print(f"sfv FK one-frame call latency (float64): {latency_us:.0f} us (pybullet: {1e6 / peer:.0f} us)")
    print(f"max |FK - pybullet| on sampled frames (float64): {worst:.2e} m")


if __name__ == "__main__":
    main()
