"""Reconstruction speed: seconds per 100 frames of `sfv.reconstruct.fit.reconstruct` (per-frame IK, then
the whole clip) with the defaults (L-BFGS), and the loss along the way (how far from converged the budget
stops). Peer, same run: the same budget with Adam (lr 0.02), the kit's optimiser before L-BFGS.

Input: the walk mocap, three cycles (117 frames), its 14 joints with 3 cm noise, from the rest pose, so the
figure needs no pipeline output. Target: at most 2 s per 100 frames on 2 cores.
Run: `python bench/reconstruct_throughput.py` (or `make bench`), on an otherwise idle machine.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np


def main() -> None:
    from sfv.config import FitSettings
    from sfv.keypoints import body_map
    from sfv.mocap import load_mocap
    from sfv.reconstruct.fit import reconstruct

    m = load_mocap("walk")
    pos = m.body_positions()[0]
    step = pos[-1, 0] - pos[0, 0]
    step[1] = 0.0
    cycles = [pos[:-1] + k * step for k in range(3)]
    bodies = [m.skeleton.index(n) for n in body_map(m.skeleton).names]
    truth = np.concatenate(cycles)[:, bodies]
    T = len(truth)
    noisy = truth + np.random.default_rng(0).normal(scale=0.03, size=truth.shape)
    rest = replace(
        m,
        root_pos=noisy[:, 0],
        root_rot=np.tile([0, 0, 0, 1.0], (T, 1)),
        pose=np.tile(m.skeleton.identity_pose(), (T, 1)),
    )
    settings = FitSettings()
    error = lambda mo: float(np.linalg.norm(mo.body_positions()[0][:, bodies] - truth, axis=-1).mean() * 1000)  # noqa: E731
    times = {}
    for name, s, threads in (
        ("L-BFGS", settings, 1),
        ("L-BFGS", settings, 2),
        ("Adam", settings.model_copy(update={"optimizer": "adam"}), 1),
    ):
        s = s.model_copy(update={"torch_threads": threads})  # reconstruct() runs with the settings' threads
        t0 = time.perf_counter()
        motion, _, curve = reconstruct(rest, noisy, bodies, settings=s)
        dt = time.perf_counter() - t0
        times[name, threads] = dt
        print(
            f"{name:6s} {T} frames, {s.ik_iterations} + {s.iterations} loss evaluations, {threads} thread(s): "
            f"{dt:.2f} s = {dt / T * 100:.2f} s per 100 frames (target <= 2); final loss {curve[-1]:.5f}, "
            f"joint error vs the clean mocap {error(motion):.1f} mm"
        )
        if name == "L-BFGS" and threads == 1:
            marks = [0, s.ik_iterations - 1, s.ik_iterations, len(curve) // 2, len(curve) - 1]
            print(
                "       loss at evaluations",
                {k: round(curve[k], 5) for k in marks},
                f"(the last 10% change it by {abs(curve[-1] - curve[int(0.9 * len(curve))]) / curve[-1]:.1%})",
            )
    print(f"L-BFGS / Adam time, same budget, 1 thread: {times['L-BFGS', 1] / times['Adam', 1]:.2f}")


if __name__ == "__main__":
    main()
