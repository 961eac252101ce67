"""Reconstruction speed: seconds per 100 frames of `sfv.reconstruct.fit.reconstruct` (per-frame IK, then
the whole clip) with the defaults, and the loss along the way (how far from converged the step budget stops).

Input: the walk mocap, three cycles (117 frames), its 14 joints with 3 cm noise, from the rest pose, so the
figure needs no pipeline output. Target (issue 5): at most 2 s per 100 frames on 2 cores.
Run: `python bench/reconstruct_throughput.py` (or `make bench`), on an otherwise idle machine.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch


def main() -> None:
    from sfv.mocap import load_mocap
    from sfv.pose.keypoints import HUMANOID_JOINTS
    from sfv.reconstruct.fit import FitSettings, reconstruct

    m = load_mocap("walk")
    pos = m.body_positions()[0]
    step = pos[-1, 0] - pos[0, 0]
    step[1] = 0.0
    cycles = [pos[:-1] + k * step for k in range(3)]
    bodies = [m.skeleton.index(n) for n in HUMANOID_JOINTS]
    truth = np.concatenate(cycles)[:, bodies]
    T = len(truth)
    noisy = truth + np.random.default_rng(0).normal(scale=0.03, size=truth.shape)
    rest = replace(m, root_pos=noisy[:, 0], root_rot=np.tile([0, 0, 0, 1.0], (T, 1)),
                   pose=np.tile(m.skeleton.identity_pose(), (T, 1)))
    settings = FitSettings()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        _, _, curve = reconstruct(rest, noisy, bodies, settings=settings)
        dt = time.perf_counter() - t0
        print(f"{T} frames, {settings.ik_iterations} + {settings.iterations} Adam steps, {threads} thread(s): "
              f"{dt:.2f} s = {dt / T * 100:.2f} s per 100 frames (target <= 2)")
    marks = [0, settings.ik_iterations - 1, settings.ik_iterations, len(curve) // 2, len(curve) - 1]
    print("loss at steps", {k: round(curve[k], 5) for k in marks},
          f"(last 10% of the steps change it by {abs(curve[-1] - curve[int(0.9 * len(curve))]) / curve[-1]:.1%})")


if __name__ == "__main__":
    main()
