"""The imitation task as a gymnasium env (DeepMimic): track a reference motion with PD targets.

Observation: the phase of the clip, the root height, and every body's position, orientation,
linear and angular velocity relative to the root in its heading frame (DeepMimic's state).
Action: one PD target per joint DOF in [-1, 1], an exponential-map offset (radians = action x
`action_scale`) from the reference pose ("residual") or from the rest pose ("absolute").
Episodes start at a random phase with the reference's state (reference state initialisation, or
adaptive: phases drawn from `start_weights`, which training's ASI sets), end early when a body other
than the feet touches the ground (and, with `pose_termination`, when a body strays that far from the
reference's), and last `episode_seconds` at most (a non-cyclic clip also ends with
its last frame). Each start is scored by the mean reward of its first `asi.horizon_seconds` (info
`start_score`: the start's fraction of the startable range, and the score), which ASI learns from.
Options: the phase as one number or as its cosine and sine; the reference root's position and heading
relative to the character's (so the policy can see and correct drift).

On terrain other than flat ground (`settings.terrain`, sfv.imitate.terrain), the clip's heights are heights above
the ground: the reference's root and the end effectors are measured from the ground under the character, resets
stand the reference's pose on the ground, leaving the terrain or sinking below its (gap-spanning) tracked ground
ends an episode as a fall does, and with `settings.heightmap` on, the ground's heights around the character end
the observation. A seeded reset on a randomised terrain lays that seed's terrain; every reset shifts its features.
A scene (terrain kind "scene", sfv.imitate.scene) is the ground the reference stood on, laid where it stood: its
tracked ground is level, so the reference is tracked at its own heights, over the platform and off it.
On flat ground none of this runs: the flat path is what it was.

The Python around the physics is the env's overhead, so a step indexes precomputed reference tables;
`step_many` steps several envs of one worker together (the reference lookup and PD targets in numpy over a batch
axis, physics per env, one conversion of their states, then reward, observation and tracking metrics for all of
them in one compiled call, sfv.imitate.kernel), and `step` is `step_many` of one env, so both follow one code path.
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np

from sfv.imitate import kernel
from sfv.imitate.reference import heading_frames, shared_track
from sfv.imitate.reward import TERMS
from sfv.imitate.scene import scene_terrain
from sfv.imitate.sim import BodyState, Simulation, load_terrain
from sfv.imitate.terrain import make_heightfield, travel_direction
from sfv.motion import Motion
from sfv.settings.imitate import (
    ASISettings,
    EnvSettings,
    HeightmapSettings,
    RewardParams,
)


class ImitationEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 30}

    def __init__(
        self,
        motion: Motion,
        settings: EnvSettings = EnvSettings(),
        reward: RewardParams = RewardParams(),
        render_mode: str | None = None,
        asi: ASISettings = ASISettings(),
    ):
        """The character is the motion's own: its skeleton's name is the character file's."""
        self.settings, self.reward = settings, reward
        self.render_mode = render_mode
        self.motion = motion
        self.reference = ref = shared_track(motion, settings.physics_hz)
        self.up = "xyz".index(motion.skeleton.up_axis)
        self.terrain = load_terrain(settings.terrain)
        # terrain other than flat ground lies along the clip's travel, from where the clip starts; a scene is the
        # ground the reference itself stood on, where it stood on it
        if self.terrain.kind == "plane":
            self.field = None
        elif self.terrain.kind == "scene":
            self.field = scene_terrain(motion, self.terrain, settings.ground_contacts, clip=motion.name)
        else:
            self.field = make_heightfield(
                self.terrain, travel_direction(ref.root_pos, ref.heading[0], self.up), self.up, origin=ref.root_pos[0]
            )
        self.sim = Simulation(
            motion.skeleton.name,
            settings,
            ghost=render_mode is not None,
            heightfield=self.field,
            gui=render_mode == "human",
        )
        sk = self.sim.skeleton
        self.dt = 1.0 / settings.control_hz
        self.weights = reward.normalised_weights()

        pw = sk.settings.get("pose_weights", {})
        self.joint_weights = np.array([float(pw.get(n, 0.0)) for n in sk.joint_names])
        self.root_weight = float(pw.get("root", 0.0))
        self.end_effector_index = ref.end_effector_index

        # action layout: 3 numbers (exponential map) per spherical joint, 1 angle per revolute joint
        spherical = self.sim.spherical
        sizes = np.where(spherical, 3, 1)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        self._sph_cols = np.concatenate(
            [np.arange(starts[j], starts[j] + 3) for j in np.flatnonzero(spherical)] or [np.zeros(0, dtype=int)]
        )  # a robot may have revolute joints only
        self._rev_cols = starts[:-1][~spherical]
        self._order = [
            (bool(s), int(k))
            for s, k in zip(spherical, np.where(spherical, np.cumsum(spherical) - 1, np.cumsum(~spherical) - 1))
        ]
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(int(starts[-1]),), dtype=np.float32)
        self.n_bodies = len(sk.bodies) - 1  # every body but the base (it coincides with the root)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(observation_size(self.n_bodies, settings),), dtype=np.float32
        )
        self._heightmap_grid = heightmap_grid(settings.heightmap, self.up) if settings.heightmap.enabled else None
        self._tables = kernel.tables(ref)
        self._kernel_setup = kernel.setup(
            self.up,
            self.end_effector_index,
            self.joint_weights,
            self.root_weight,
            self.weights,
            reward.scales,
            settings.phase_encoding,
            settings.reference_root_observation,
            ref.n,
        )
        self._batch, self._index, self._state = None, 0, None
        self.time = 0.0
        self.end_time = settings.episode_seconds
        # the startable rows of the reference table (a one-shot clip keeps one control step before its end)
        self._last_start = max(ref.n - 1 if ref.loop else ref.n - 1 - self.sim.substeps, 1)
        self.start_weights = np.full(asi.bins, 1.0 / asi.bins)  # ASI's distribution over start bins
        self._score_steps = max(int(round(asi.horizon_seconds * settings.control_hz)), 1)
        self._start_fraction, self._steps, self._score_sum, self._score_horizon = 0.0, 0, 0.0, 1

    def set_heightfield(self, field) -> None:
        """Lay another grid as this env's ground (a hand-built one in the tests, or one drawn from another seed)."""
        self.sim.set_heightfield(field)
        self.field = field

    def set_start_weights(self, weights) -> None:
        """ASI's new start distribution (a probability per bin of the startable range)."""
        w = np.asarray(weights, dtype=float)
        if w.shape != self.start_weights.shape or not np.isfinite(w).all() or w.min() < 0 or w.sum() <= 0:
            raise ValueError(f"start weights must be {len(self.start_weights)} non-negative numbers, got {w}")
        self.start_weights = w / w.sum()

    # --- gymnasium API ----------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        return reset_many([self], [seed], [options])[0]

    def _place_at_start(self, seed: int | None, options: dict | None) -> dict:
        """A reset up to the observation: draw the start (RSI, ASI or given), lay the ground, put the character in
        the reference's state there; the reset's info."""
        gym.Env.reset(self, seed=seed)
        options = options or {}
        ref = self.reference
        if self.field is not None and self.terrain.randomise:
            if seed is not None:  # a seeded reset lays this seed's terrain
                self.set_heightfield(
                    make_heightfield(
                        self.terrain,
                        self.field.forward,
                        self.up,
                        origin=self.reference.root_pos[0],
                        seed=self.terrain.seed + seed,
                    )
                )
            self.sim.shift_heightfield(self.np_random.uniform(0.0, self.terrain.episode_shift))
        last = self._last_start
        if "time" in options:
            start = float(options["time"])
        elif self.settings.state_init == "reference":
            # a random phase on the table's grid, so every control step lands on a tabulated row
            start = int(self.np_random.integers(0, last)) / ref.rate
        elif self.settings.state_init == "adaptive":  # a bin drawn from ASI's weights, a row within it
            bins = len(self.start_weights)
            k = int(self.np_random.choice(bins, p=self.start_weights))
            lo = min(-(-k * last // bins), last - 1)  # the rows whose fraction row / last falls in bin k
            start = int(self.np_random.integers(lo, max(-(-(k + 1) * last // bins), lo + 1))) / ref.rate
        else:
            start = 0.0
        self.time = start
        self.end_time = start + self.settings.episode_seconds
        if not ref.loop:
            self.end_time = min(self.end_time, ref.duration)
        self._start_fraction = min(start * ref.rate / last, 1.0)
        self._steps, self._score_sum = 0, 0.0
        self._score_horizon = max(min(self._score_steps, int(round((self.end_time - start) / self.dt))), 1)
        frame = ref.frame(start)
        root_pos = frame.root_pos
        if self.field is not None:  # the reference's pose on this ground: no body below the ground under it
            root_pos = root_pos + np.eye(3)[self.up] * float(
                self.field.height(np.vstack([frame.body_pos, root_pos[None]]), tracking=True).max()
            )
        self.sim.set_state(
            root_pos, frame.root_rot, frame.joint_rot, frame.root_lin_vel, frame.root_ang_vel, frame.joint_vel
        )
        return {"time": self.time, "phase": frame.phase}

    def step(self, action):
        return step_many([self], np.asarray(action)[None])[0]

    def teleport(
        self, root_pos, root_rot, joint_rot, root_lin_vel=(0, 0, 0), root_ang_vel=(0, 0, 0), joint_vel=None
    ) -> np.ndarray:
        """Put the character in a state and observe it: `reset` puts it in the reference's; motion completion, after
        a reset has fixed the time, in the pose of a still image, which a policy then continues."""
        self.sim.set_state(root_pos, root_rot, joint_rot, root_lin_vel, root_ang_vel, joint_vel)
        self._batch, self._index, self._state = self.sim.states([self.sim.read_raw()]), 0, None
        return self._observe()

    @property
    def state(self) -> BodyState:
        """The simulated character now (after `step_many`, a view into the batch it was stepped in)."""
        if self._state is None:
            self._state = self._batch.take(self._index)
        return self._state

    @state.setter
    def state(self, value: BodyState) -> None:
        self._state, self._batch = value, None

    def render(self):
        if self.render_mode != "rgb_array":
            raise RuntimeError("create the env with render_mode='rgb_array' to render")
        ref = self.reference.frame(self.time)
        root_pos = ref.root_pos
        if self.field is not None:  # the reference as it is tracked: standing on the ground under the character
            root_pos = root_pos + np.eye(3)[self.up] * float(self.field.height(self.state.root_pos, tracking=True))
        return self.sim.render_with_ghost(root_pos, ref.root_rot, ref.joint_rot)

    def close(self):
        self.sim.close()

    # --- pieces (batched over envs that share one reference track; one env = a batch of one) ----------------
    def _pd_targets(self, a: np.ndarray, row: int) -> list[list[float]]:
        """PD targets for one action (already scaled to radians) at a reference row."""
        return self._pd_targets_many(np.asarray(a)[None], np.array([row]))[0]

    def _pd_targets_many(self, a: np.ndarray, rows: np.ndarray) -> list[list[list[float]]]:
        """PD targets in pybullet's form, per env: exponential map per spherical joint, angle per revolute one."""
        n = len(a)
        # Elementwise sums in a fixed order, not einsum: einsum's kernels depend on the batch's shape, and one
        # rounding difference in a PD target grows in the physics, so a batch of n must give each env the bits
        # it gets stepped alone (tests/test_imitate_vec_env.py).
        d = a[:, self._sph_cols].reshape(n, -1, 3)
        angle = np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] + d[..., 2] * d[..., 2])
        half = 0.5 * angle
        k = np.where(angle > 1e-9, np.sin(half) / np.maximum(angle, 1e-12), 0.5)
        delta = np.concatenate([d * k[..., None], np.cos(half)[..., None]], axis=-1)
        rev = a[:, self._rev_cols]
        if self.settings.action_mode == "residual":
            p = self.reference.spherical_left[rows] * delta[..., None, :]
            delta = p[..., 0] + p[..., 1] + p[..., 2] + p[..., 3]
            rev = rev + self.reference.revolute_angle[rows]
        out = []
        for sph, rv in zip(delta.tolist(), rev.tolist()):
            out.append([sph[k] if s else [rv[k]] for s, k in self._order])
        return out

    def _as_batch(self) -> BodyState:
        """This env's state as a batch of one (the one it was read in, when it was read alone)."""
        if self._batch is not None and len(self._batch.root_pos) == 1:
            return self._batch
        return BodyState.stack([self.state])

    def errors(self) -> dict[str, float]:
        """The reward's errors for the state now against the reference now (what a step ending here scores)."""
        rows, cycles = self.reference.locate_many(np.array([self.time]))
        errors = _evaluate(self, self._as_batch(), rows, cycles, self._fields()).errors
        return {k: float(v) for k, v in zip(TERMS, errors[0])}

    def _observe(self) -> np.ndarray:
        """The observation of the state now (after a reset or a teleport)."""
        return _observe_envs([self], self._as_batch())[0]

    def _fields(self) -> list | None:
        """This env's ground as a batch of one (None: flat ground)."""
        return None if self.field is None else [self.field]

    def _heightmap(self, s: BodyState, h: np.ndarray, fields: list | None) -> np.ndarray:
        """The ground's heights on the grid around each root, in its heading frame, minus the root's height (n, k);
        on flat ground, minus the root's height."""
        points = s.root_pos[:, None] + self._heightmap_grid @ h  # heading-frame offsets turned to world (h: inverse)
        ground = np.zeros(points.shape[:2]) if fields is None else ground_heights(fields, points)
        return (ground - s.root_pos[:, None, self.up]).astype(np.float32)

    def off_terrain(self) -> bool:
        """Whether the character has left the terrain's grid (beyond it there is no ground) or sunk below the ground
        it tracks (fell into a gap): an episode ends there as at a fall."""
        if self.field is None:
            return False
        root = self.state.root_pos
        return not bool(self.field.inside(root)) or bool(root[self.up] < self.field.height(root, tracking=True))


class _Numbers(NamedTuple):
    """What `_evaluate` computes for a batch (one row per env)."""

    obs: np.ndarray  # (n, observation size) float32
    errors: np.ndarray  # (n, len(TERMS)) the reward's errors
    terms: np.ndarray  # (n, len(TERMS)) exp(-scale * error)
    reward: np.ndarray  # (n,)
    tracking: np.ndarray  # (n,) mean root-relative body error, metres (MimicKit's evaluation metric)
    far_sq: np.ndarray  # (n,) the largest squared distance of a body from the reference's (pose termination)
    root_distance: np.ndarray  # (n,) metres from the reference's root


def _evaluate(first: ImitationEnv, s: BodyState, rows: np.ndarray, cycles: np.ndarray, fields: list | None) -> _Numbers:
    """Reward, observation and tracking metrics of envs on `first`'s reference track in states `s`, at table rows
    `rows` of cycles `cycles`; `fields`: each row's ground (None: flat ground)."""
    n, n_terms = len(rows), len(TERMS)
    if fields is None:
        ground, ee_ground = np.zeros(n), np.zeros((n, len(first.end_effector_index)))
    else:  # the reference stands on the ground under each character; end effectors' heights are above it
        ground = ground_heights(fields, s.root_pos, tracking=True)
        ee_ground = ground_heights(fields, s.body_pos[:, first.end_effector_index], tracking=True)
    obs = np.empty((n, first.observation_space.shape[0]), dtype=np.float32)
    out = np.empty((5 + 2 * n_terms, n))
    errors, terms = out[:n_terms].T, out[n_terms : 2 * n_terms].T
    reward, tracking, far_sq, root_distance = (
        out[2 * n_terms],
        out[2 * n_terms + 1],
        out[2 * n_terms + 2],
        out[2 * n_terms + 3],
    )
    kernel.evaluate(
        s.root_pos,
        s.root_rot,
        s.root_lin_vel,
        s.root_ang_vel,
        s.joint_rot,
        s.joint_vel,
        s.body_pos,
        s.body_rot,
        s.body_lin_vel,
        s.body_ang_vel,
        s.com_vel,
        rows,
        cycles,
        ground,
        ee_ground,
        first._tables,
        first._kernel_setup,
        obs,
        errors,
        terms,
        reward,
        tracking,
        far_sq,
        root_distance,
    )
    if first._heightmap_grid is not None:
        h, _ = heading_frames(s.root_rot, first.sim.up_axis)
        obs[:, -first._heightmap_grid.shape[0] :] = first._heightmap(s, h, fields)
    return _Numbers(obs, errors, terms, reward, tracking, far_sq, root_distance)


def _batchable(first: ImitationEnv, env: ImitationEnv) -> bool:
    return (
        env.reference is first.reference
        and (env.settings is first.settings or env.settings == first.settings)
        and (env.reward is first.reward or env.reward == first.reward)
    )


def step_many(envs: list[ImitationEnv], actions: np.ndarray) -> list[tuple]:
    """Step several envs, one action row each; gymnasium's (obs, reward, terminated, truncated, info) per env.

    Envs on one reference track with equal settings (a worker's: see `shared_track`) are stepped as one batch;
    others one at a time."""
    first = envs[0]
    if len(envs) > 1 and not all(_batchable(first, e) for e in envs[1:]):
        return [step_many([e], a[None])[0] for e, a in zip(envs, actions)]
    st, track = first.settings, first.reference
    n = len(envs)
    a = np.minimum(np.maximum(np.asarray(actions, dtype=np.float64), -1.0), 1.0) * st.action_scale
    times = np.empty(n)
    for i, e in enumerate(envs):
        e.time += e.dt
        times[i] = e.time
    rows, cycles = track.locate_many(times)
    raws = []
    for e, targets in zip(envs, first._pd_targets_many(a, rows)):
        e.sim.step(targets)
        raws.append(e.sim.read_raw())
    s = first.sim.states(raws)
    fields = None if first.field is None else [e.field for e in envs]  # each env's own ground (seeded terrains differ)
    numbers = _evaluate(first, s, rows, cycles, fields)
    obs = numbers.obs
    if st.pose_termination is None:
        lost = [False] * n
    else:  # MimicKit's pose termination: a body (world position) farther than the distance from the reference's
        lost = (numbers.far_sq > st.pose_termination**2).tolist()
    tracking, root_error = numbers.tracking.tolist(), numbers.root_distance.tolist()
    rewards, phases = numbers.reward.tolist(), (rows / max(track.n - 1, 1)).tolist()
    terms = numbers.terms.tolist()
    results = []
    for i, e in enumerate(envs):
        e._batch, e._index, e._state = s, i, None
        fallen = st.early_termination and (e.sim.fallen() or e.off_terrain())
        terminated = fallen or lost[i]
        truncated = not terminated and e.time >= e.end_time - 1e-9
        info = {
            "time": e.time,
            "phase": phases[i],
            "fallen": fallen,
            "lost_track": lost[i],
            "reward_terms": dict(zip(TERMS, terms[i])),
            "tracking_error": tracking[i],
            "root_error": root_error[i],
        }
        e._steps += 1
        if e._steps <= e._score_horizon:
            e._score_sum += rewards[i]
            if e._steps == e._score_horizon or terminated:  # an ended episode scores 0 for the steps it cuts off
                info["start_score"] = (e._start_fraction, e._score_sum / e._score_horizon)
        results.append((obs[i], rewards[i], terminated, truncated, info))
    return results


def reset_many(envs: list[ImitationEnv], seeds: list | None = None, options: list | None = None) -> list[tuple]:
    """Reset several envs; gymnasium's (obs, info) per env. Each draws its own start and is placed there one at a
    time; envs on one reference track with equal settings (a worker's) are then read and observed as one batch."""
    n, first = len(envs), envs[0]
    seeds, options = seeds or [None] * n, options or [None] * n
    if n > 1 and not all(_batchable(first, e) for e in envs[1:]):
        return [reset_many([e], [sd], [op])[0] for e, sd, op in zip(envs, seeds, options)]
    infos = [e._place_at_start(sd, op) for e, sd, op in zip(envs, seeds, options)]
    s = first.sim.states([e.sim.read_raw() for e in envs])
    for i, e in enumerate(envs):
        e._batch, e._index, e._state = s, i, None
    return list(zip(_observe_envs(envs, s), infos))


def _observe_envs(envs: list[ImitationEnv], s: BodyState) -> np.ndarray:
    """The observations of envs on one reference track in the states `s` (one row each), at their own times."""
    first = envs[0]
    rows, cycles = first.reference.locate_many(np.array([e.time for e in envs]))
    return _evaluate(first, s, rows, cycles, None if first.field is None else [e.field for e in envs]).obs


def ground_heights(fields: list | None, points: np.ndarray, tracking: bool = False) -> np.ndarray | None:
    """Each batch row's ground height under its points (n, ..., 3) -> (n, ...); `fields`: one heightfield per row
    (the envs of a worker each lay their own terrain). None: flat ground (the callers then skip the ground)."""
    if fields is None:
        return None
    if all(f is fields[0] for f in fields):
        return fields[0].height(points, tracking)
    return np.stack([f.height(p, tracking) for f, p in zip(fields, points)])


def observation_size(n_bodies: int, settings: EnvSettings) -> int:
    """Length of the observation: the head (phase, root height, optional reference root), 13 per body, and the
    heightmap when it is on."""
    head = (1 if settings.phase_encoding == "linear" else 2) + 1 + (5 if settings.reference_root_observation else 0)
    return head + 13 * n_bodies + settings.heightmap.size


def heightmap_grid(settings: HeightmapSettings, up: int) -> np.ndarray:
    """The heightmap's points (k, 3) in the heading frame (x ahead, then across; 0 along `up`), row-major over
    (across, along) so the observation's tail reshapes to `settings.shape` (sfv.imitate.features)."""
    n_across, n_along = settings.shape
    along = settings.forward[0] + settings.spacing * np.arange(n_along)
    across = settings.lateral[0] + settings.spacing * np.arange(n_across)
    grid = np.zeros((n_across, n_along, 3))
    grid[..., 0] = along[None, :]
    grid[..., 3 - up] = across[:, None]  # the horizontal axis besides x: z for a y-up character, y for a z-up one
    return grid.reshape(-1, 3)


ImitationEnv.step_many = staticmethod(step_many)
ImitationEnv.reset_many = staticmethod(reset_many)
