"""The imitation task as a gymnasium env (DeepMimic): track a reference motion with PD targets.

Observation: the phase of the clip, the root height, and every body's position, orientation,
linear and angular velocity relative to the root in its heading frame (DeepMimic's state).
Action: one PD target per joint DOF in [-1, 1], an exponential-map offset (radians = action x
`action_scale`) from the reference pose ("residual") or from the rest pose ("absolute").
Episodes start at a random phase with the reference's state (reference state initialisation), end
early when a body other than the feet touches the ground, and last `episode_seconds` at most
(a non-cyclic clip also ends with its last frame).

A step costs about as much Python as one physics substep, so the per-step work indexes
precomputed reference tables and uses few, whole-array numpy operations.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from sfv.config import EnvSettings, RewardParams
from sfv.imitate import reward as rw
from sfv.imitate.reference import ReferenceTrack, heading_frame
from sfv.imitate.sim import Simulation
from sfv.motion import Motion


class ImitationEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, motion: Motion, settings: EnvSettings = EnvSettings(), reward: RewardParams = RewardParams(),
                 render_mode: str | None = None):
        """The character is the motion's own: its skeleton's name is the character file's."""
        self.settings, self.reward = settings, reward
        self.render_mode = render_mode
        self.sim = Simulation(motion.skeleton.name, settings, ghost=render_mode == "rgb_array")
        sk = self.sim.skeleton
        self.motion = motion
        self.reference = ref = ReferenceTrack(motion, settings.physics_hz)
        self.dt = 1.0 / settings.control_hz
        self.up = "xyz".index(sk.up_axis)
        self.weights = reward.normalised_weights()

        pw = sk.settings.get("pose_weights", {})
        self.joint_weights = np.array([float(pw.get(n, 0.0)) for n in sk.joint_names])
        self.root_weight = float(pw.get("root", 0.0))
        self.end_effector_index = ref.end_effector_index

        # action layout: 3 numbers (exponential map) per spherical joint, 1 angle per revolute joint
        spherical = self.sim.spherical
        sizes = np.where(spherical, 3, 1)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        self._sph_cols = np.concatenate([np.arange(starts[j], starts[j] + 3) for j in np.flatnonzero(spherical)])
        self._rev_cols = starts[:-1][~spherical]
        self._order = [(bool(s), int(k)) for s, k in
                       zip(spherical, np.where(spherical, np.cumsum(spherical) - 1, np.cumsum(~spherical) - 1))]
        self._rev_axes = self.sim.axes[~spherical]
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(int(starts[-1]),), dtype=np.float32)
        self.n_bodies = len(sk.bodies) - 1  # every body but the base (it coincides with the root)
        self._obs = np.zeros(2 + self.n_bodies * 13, dtype=np.float32)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=self._obs.shape, dtype=np.float32)
        self.time = 0.0
        self.end_time = settings.episode_seconds

    # --- gymnasium API ----------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        ref = self.reference
        if "time" in options:
            start = float(options["time"])
        elif self.settings.state_init == "reference":
            # a random phase on the table's grid, so every control step lands on a tabulated row
            last = ref.n - 1 if ref.loop else max(ref.n - 1 - self.sim.substeps, 1)
            start = int(self.np_random.integers(0, max(last, 1))) / ref.rate
        else:
            start = 0.0
        self.time = start
        self.end_time = start + self.settings.episode_seconds
        if not ref.loop:
            self.end_time = min(self.end_time, ref.duration)
        frame = ref.frame(start)
        self.sim.set_state(frame.root_pos, frame.root_rot, frame.joint_rot, frame.root_lin_vel, frame.root_ang_vel,
                           frame.joint_vel)
        self.state = self.sim.read_state()
        return self._observe(frame.phase), {"time": self.time, "phase": frame.phase}

    def step(self, action):
        a = np.minimum(np.maximum(np.asarray(action, dtype=np.float64), -1.0), 1.0) * self.settings.action_scale
        self.time += self.dt
        ref = self.reference.frame(self.time)
        self.sim.step(self._pd_targets(a, ref.row))
        self.state = s = self.sim.read_state()
        heading = heading_frame(s.root_rot, self.sim.up_axis)
        rel = s.body_pos - s.root_pos  # bodies relative to the root, world axes
        reward, terms = rw.combine(self._errors(s, ref, rel, heading[0]), self.weights, self.reward.scales)
        fallen = self.settings.early_termination and self.sim.fallen()
        truncated = not fallen and self.time >= self.end_time - 1e-9
        d = rel - (ref.body_pos - ref.root_pos)
        r = s.root_pos - ref.root_pos
        info = {"time": self.time, "phase": ref.phase, "fallen": fallen, "reward_terms": terms,
                # MimicKit's evaluation metrics (metres): mean root-relative body error, root error
                "tracking_error": float(np.sqrt(np.einsum("ij,ij->i", d, d)).sum()) / len(d),
                "root_error": float(np.sqrt(r @ r))}
        return observe(s, ref.phase, self.up, *heading, rel, self._obs), reward, fallen, truncated, info

    def render(self):
        if self.render_mode != "rgb_array":
            raise RuntimeError("create the env with render_mode='rgb_array' to render")
        ref = self.reference.frame(self.time)
        return self.sim.render_with_ghost(ref.root_pos, ref.root_rot, ref.joint_rot)

    def close(self):
        self.sim.close()

    # --- pieces -----------------------------------------------------------------------------------
    def _pd_targets(self, a: np.ndarray, row: int) -> list[list[float]]:
        """PD targets in pybullet's form: exponential map per spherical joint, angle per revolute one."""
        d = a[self._sph_cols].reshape(-1, 3)
        angle = np.sqrt(np.einsum("ij,ij->i", d, d))
        half = 0.5 * angle
        k = np.where(angle > 1e-9, np.sin(half) / np.maximum(angle, 1e-12), 0.5)
        delta = np.concatenate([d * k[:, None], np.cos(half)[:, None]], axis=1)
        rev = a[self._rev_cols]
        if self.settings.action_mode == "residual":
            delta = np.einsum("jab,jb->ja", self.reference.spherical_left[row], delta)
            rev = rev + self.reference.revolute_angle[row]
        sph, rev = delta.tolist(), rev.tolist()
        return [sph[k] if s else [rev[k]] for s, k in self._order]

    def _errors(self, s, ref, rel: np.ndarray, h: np.ndarray) -> dict[str, float]:
        ee = rel[self.end_effector_index]
        ee[:, self.up] = s.body_pos[self.end_effector_index, self.up]  # height above the ground
        return {
            "pose": rw.pose_error(s.joint_rot, ref.joint_rot, s.root_rot, ref.root_rot, self.joint_weights, self.root_weight),
            "velocity": rw.velocity_error(s.joint_vel, ref.joint_vel, s.root_ang_vel, ref.root_ang_vel,
                                          self.joint_weights, self.root_weight),
            "end_effector": rw.end_effector_error(ee @ h.T, ref.end_effectors),
            "root": rw.root_error(s.root_pos, ref.root_pos, s.root_rot, ref.root_rot, s.root_lin_vel, ref.root_lin_vel,
                                  s.root_ang_vel, ref.root_ang_vel),
            "com": rw.com_error(s.com_vel, ref.com_vel),
        }

    def _observe(self, phase: float) -> np.ndarray:
        s = self.state
        return observe(s, phase, self.up, *heading_frame(s.root_rot, self.sim.up_axis), s.body_pos - s.root_pos,
                       self._obs)


def observe(s, phase: float, up: int, h: np.ndarray, lq: np.ndarray, rel: np.ndarray,
            out: np.ndarray | None = None) -> np.ndarray:
    """DeepMimic's state: phase, root height, and per body (base excluded) its position, orientation
    (quaternion, w >= 0), linear and angular velocity, all in the root's heading frame.

    h, lq: the inverse heading (`heading_frame`); rel: body positions minus the root's; out: a buffer.
    """
    n = len(s.body_pos) - 1
    out = np.empty(2 + 13 * n, dtype=np.float32) if out is None else out
    ht = h.T
    out[0] = phase
    out[1] = s.root_pos[up]
    out[2:2 + 3 * n] = (rel[1:] @ ht).ravel()
    rot = s.body_rot[1:] @ lq.T
    rot *= np.where(rot[:, 3:] < 0, -1.0, 1.0)
    out[2 + 3 * n:2 + 7 * n] = rot.ravel()
    out[2 + 7 * n:2 + 10 * n] = (s.body_lin_vel[1:] @ ht).ravel()
    out[2 + 10 * n:] = (s.body_ang_vel[1:] @ ht).ravel()
    return out.copy()
