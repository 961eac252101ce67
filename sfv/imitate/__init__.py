"""Stage 3, motion imitation: a physics character learns to track a reference motion (DeepMimic).

`sim` is the only module of the kit that simulates (pybullet; `sfv.render.tiny` uses pybullet's renderer
alone); `reference` and `reward` are plain numpy; `env` is the gymnasium environment; `train` and
`evaluate` drive stable-baselines3.
"""
