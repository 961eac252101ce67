"""A digest of what the imitation computes, to tell a behaviour-neutral change from one that is not: an env trace
(120 steps of random actions from a seeded reset: every observation and reward) and a short PPO run (6,144 samples,
4 envs on 2 workers, evaluations and checkpoints on, its learning curve without wall-clock times and its final
weights), all with params.yaml's settings. Run it in the tree before and after a change and compare the outputs:
equal bits mean the change did not touch the numbers. `asi` as the argument trains with ASI instead of RSI.

    python tools/behaviour_digest.py [asi] > before.json
"""

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from sfv.config import load_params
from sfv.imitate.env import ImitationEnv
from sfv.imitate.train import train
from sfv.mocap import load_mocap
from sfv.motion import save_npz


def main():
    p = load_params("params.yaml")
    cfg = p.imitate
    if len(sys.argv) > 1 and sys.argv[1] == "asi":
        cfg = cfg.model_copy(update={"env": cfg.env.model_copy(update={"state_init": "adaptive"})})
    out = {}
    h = hashlib.sha256()
    env = ImitationEnv(load_mocap("walk"), cfg.env, cfg.reward)
    obs, _ = env.reset(seed=3, options={"time": 0.3})
    rng = np.random.default_rng(0)
    for i in range(120):
        obs, r, term, trunc, info = env.step(rng.uniform(-0.5, 0.5, env.action_space.shape).astype(np.float32))
        h.update(obs.tobytes())
        h.update(np.float64(r).tobytes())
        if term or trunc:
            obs, _ = env.reset(seed=i)
    env.close()
    out["env_trace"] = h.hexdigest()
    with tempfile.TemporaryDirectory() as d:
        motion = Path(d) / "walk.npz"
        save_npz(load_mocap("walk"), motion)
        ppo = cfg.ppo.model_copy(
            update=dict(
                total_timesteps=6144, n_envs=4, n_steps=256, batch_size=256, checkpoint_every=2048, evaluate_every=2048
            )
        )
        train(
            motion,
            Path(d) / "out",
            cfg.env,
            cfg.reward,
            ppo,
            seed=0,
            progress=False,
            evaluation_seconds=2.0,
            run_dir=Path(d) / "run",
        )
        import csv

        rows = list(csv.DictReader(open(Path(d) / "out" / "curve.csv")))
        for r in rows:
            r.pop("wall_seconds", None)
        out["curve"] = rows
        import zipfile

        with zipfile.ZipFile(Path(d) / "out" / "model.zip") as z:
            out["policy_sha256"] = hashlib.sha256(z.read("policy.pth")).hexdigest()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
