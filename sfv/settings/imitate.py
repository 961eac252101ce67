"""The imitation stage's settings: the env, reward, PPO, ASI, the reference checks and each clip's entry."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from sfv.settings.common import Section, named_file, overrides_of, selection


class HeightmapSettings(Section):
    """The ground's heights around the character, observed on a grid in its heading frame (relative to its root's
    height), for terrain other than flat ground (sfv.imitate.env; the policy reads them with sfv.imitate.features)."""

    enabled: bool = Field(False, description="append the heightmap to the observation")
    forward: tuple[float, float] = Field((-0.6, 2.4), description="metres behind (negative) and ahead of the root")
    lateral: tuple[float, float] = Field((-0.6, 0.6), description="metres to either side of the root")
    spacing: float = Field(0.3, gt=0, description="metres between grid points")

    @model_validator(mode="after")
    def _ordered(self):
        for name in ("forward", "lateral"):
            lo, hi = getattr(self, name)
            if hi < lo:
                raise ValueError(f"heightmap.{name} {[lo, hi]}: the first number must not exceed the second")
        return self

    @property
    def shape(self) -> tuple[int, int]:
        """(points across, points along) the heading: the grid the features extractor convolves."""
        return tuple(int(math.floor((hi - lo) / self.spacing + 1e-9)) + 1 for lo, hi in (self.lateral, self.forward))

    @property
    def size(self) -> int:
        """Numbers it adds to the observation (0 when off)."""
        return self.shape[0] * self.shape[1] if self.enabled else 0


class EnvSettings(Section):
    """The simulated task (sfv.imitate.env); the character is the reference motion's."""

    terrain: str = Field("flat", description="terrain file under sfv/terrains/")
    physics_hz: float = Field(240.0, gt=0, description="Bullet steps per second")
    control_hz: float = Field(30.0, gt=0, description="policy actions per second (physics_hz must be a multiple)")
    episode_seconds: float = Field(20.0, gt=0, description="longest training episode")
    state_init: Literal["reference", "adaptive", "start"] = Field(
        "reference",
        description="reference: RSI (a uniformly random phase, the reference's state); adaptive: ASI (start "
        "phases drawn from a distribution that learns toward the phases the policy does worst, imitate.asi); "
        "start: phase 0",
    )
    early_termination: bool = Field(True, description="end an episode when a non-foot body touches the ground")
    pose_termination: float | None = Field(
        1.0,
        gt=0,
        description="end an episode when a body strays farther than this many metres from the "
        "reference's (world positions: MimicKit's pose termination, 1 m there): a character that drifts off stops "
        "collecting reward, so drifting costs the rest of the episode; null: off. Evaluations never end on it "
        "(they measure the drift)",
        json_schema_extra={"absent_means": None},  # runs recorded before it existed did not end on it
    )
    action_mode: Literal["residual", "absolute"] = Field(
        "residual", description="PD targets offset from the reference pose or from rest"
    )
    action_scale: float = Field(0.5, gt=0, le=3.2, description="radians per unit of action")
    phase_encoding: Literal["linear", "sincos"] = Field(
        "linear",
        description="the phase in the observation: linear (one number in [0, 1), DeepMimic) or sincos "
        "(cos and sin of 2 pi phase: no jump where a cyclic clip wraps)",
    )
    reference_root_observation: bool = Field(
        True,
        description="also observe where the reference's root is (position and heading relative to the "
        "character's root, in its heading frame), so the policy can steer back when it drifts",
        json_schema_extra={"absent_means": False},  # runs recorded before it existed observed without it
    )
    ground_contacts: list[str] = Field(
        [],
        description="bodies besides the character's feet that may touch the ground without ending the episode "
        "(DeepMimic's per-skill fall_contact_bodies: a cartwheel's hands); a clip adds its own with "
        "imitate.clips.<clip>.ground_contacts",
    )
    heightmap: HeightmapSettings = Field(
        HeightmapSettings(), description="observe the ground's heights around the character (terrain policies)"
    )

    @property
    def substeps(self) -> int:
        """Physics steps per control step."""
        return int(round(self.physics_hz / self.control_hz))

    @field_validator("terrain")
    @classmethod
    def _terrain_exists(cls, v: str) -> str:
        return named_file(v, "terrains", "terrain")

    @model_validator(mode="after")
    def _rates(self):
        ratio = self.physics_hz / self.control_hz
        if abs(ratio - round(ratio)) > 1e-9 or ratio < 1:
            raise ValueError(
                f"physics_hz ({self.physics_hz}) must be a whole multiple of control_hz ({self.control_hz})"
            )
        return self


class RewardTerms(Section):
    """One number per term of DeepMimic's imitation reward (sfv.imitate.reward): the one list of the terms."""

    pose: float = Field(ge=0)
    velocity: float = Field(ge=0)
    end_effector: float = Field(ge=0)
    root: float = Field(ge=0)
    com: float = Field(ge=0)
    # not in DeepMimic (its root term holds the velocities, faintly): the root's velocity on its own, so that it
    # still pulls when the root has drifted far from the reference and the root term is ~0 (MimicKit has such a
    # term). 0 by default, which leaves DeepMimic's reward as it was.
    root_velocity: float = Field(0.0, ge=0)


class RewardParams(Section):
    """DeepMimic's imitation reward: total = sum_k weight_k exp(-scale_k error_k), weights normalised."""

    weights: RewardTerms = RewardTerms(pose=0.5, velocity=0.05, end_effector=0.15, root=0.2, com=0.1, root_velocity=0.0)
    scales: RewardTerms = RewardTerms(pose=2.0, velocity=0.1, end_effector=40.0, root=5.0, com=10.0, root_velocity=2.0)

    @field_validator("weights")
    @classmethod
    def _positive_sum(cls, v: RewardTerms) -> RewardTerms:
        if sum(v.model_dump().values()) <= 0:
            raise ValueError("at least one reward weight must be positive")
        return v

    def normalised_weights(self) -> dict[str, float]:
        """The weights divided by their sum (DeepMimic normalises them to 1)."""
        w = self.weights.model_dump()
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}


class PPOSettings(Section):
    """stable-baselines3 PPO (sfv.imitate.train)."""

    total_timesteps: int = Field(1_500_000, ge=1, description="samples to train on (the budget)")
    n_envs: int = Field(32, ge=1, description="simulators in all")
    n_workers: int = Field(2, ge=1, description="processes the simulators are spread over (one per core)")
    n_steps: int = Field(128, ge=8, description="samples per env and rollout (n_envs x n_steps per update)")
    batch_size: int = Field(512, ge=8, description="minibatch size")
    n_epochs: int = Field(5, ge=1)
    learning_rate: float = Field(3e-4, gt=0)
    gamma: float = Field(0.95, gt=0, le=1)
    gae_lambda: float = Field(0.95, gt=0, le=1)
    clip_range: float = Field(0.2, gt=0)
    net_arch: tuple[int, ...] = Field((256, 256), min_length=1, description="hidden layer sizes of actor and critic")
    log_std_init: float = Field(-1.5, description="initial log standard deviation of the action noise")
    torch_threads: int = Field(
        2,
        ge=1,
        description="learner threads during PPO's updates, when the env workers idle "
        "(rollouts always use one: the workers take the cores then)",
    )
    checkpoint_every: int = Field(100_000, ge=1, description="samples between checkpoints (a kill loses at most this)")
    learning_rate_schedule: Literal["constant", "linear"] = Field(
        "constant", description="constant, or linear: decays to 0 at learning_rate_horizon"
    )
    learning_rate_horizon: Optional[int] = Field(
        None,
        ge=1,
        description="samples at which the linear schedule reaches 0 (null: total_timesteps); set, a run "
        "trained in chunks of growing budgets (bench/samples_to_skill.py) follows one schedule instead of restarting "
        "it with each chunk",
    )
    normalize_advantage: bool = Field(True, description="normalise advantages per minibatch")
    clip_range_vf: Optional[float] = Field(
        None, gt=0, description="clip the value function's change per update (null: no clipping)"
    )
    evaluate_every: int = Field(
        100_000,
        ge=0,
        description="samples between deterministic evaluations logged in the "
        "learning curve (samples-to-skill; 0: none)",
    )
    stop_after_learned: int = Field(
        3,
        ge=0,
        description="a stage's training ends once this many evaluations in a row met the learned bar "
        "(sfv/imitate/learned.py), keeping the policy the last of them evaluated; the budget is then a cap "
        "(0: always train to the budget)",
    )


class ASISettings(Section):
    """Adaptive state initialisation (SFV): a categorical distribution over start phases, learned by policy
    gradient toward the phases whose starts score worst (sfv.imitate.asi). Used when env.state_init is adaptive."""

    bins: int = Field(20, ge=2, description="phase bins of the start distribution")
    horizon_seconds: float = Field(
        1.0,
        gt=0,
        description="a start is scored by the mean reward of the first this "
        "many seconds after it (0 for the steps lost to a fall)",
    )
    temperature: float = Field(
        0.2,
        gt=0,
        description="entropy weight: the distribution settles at "
        "p ~ exp(difficulty / temperature); larger keeps it nearer uniform",
    )
    step_size: float = Field(2.0, gt=0, description="gradient-ascent step on the logits per PPO rollout")
    memory: float = Field(
        0.7, ge=0, lt=1, description="weight of a bin's previous difficulty estimate against a rollout's new scores"
    )


class EvaluationParams(Section):
    seconds: float = Field(20.0, gt=0, description="length of the deterministic evaluation rollout from phase 0")
    video: bool = Field(True, description="render the rollout beside the reference (mp4)")
    width: int = Field(640, ge=64, multiple_of=16, description="video width (pixels, multiple of 16)")
    height: int = Field(384, ge=64, multiple_of=16, description="video height (pixels, multiple of 16)")


class PhysicalReference(Section):
    """How the reference is made physically consistent before training (sfv.imitate.physical): how contacts are
    read, and how hard each physical term pulls against staying close to the reconstruction."""

    enabled: bool = Field(
        True,
        description="make a video reference physically consistent: planted feet held, no body under the floor, "
        "the centre of mass ballistic in flight (false: the reconstruction as it is, grounded and looped)",
    )
    contacts: Literal["reconstruction", "video"] = Field(
        "reconstruction",
        description="where the feet's planted phases are read: the reconstruction's feet (low and slow) or the "
        "video's 2D keypoints (still in the image, for a fixed camera)",
    )
    contact_height: float = Field(
        0.12, gt=0, description="metres above its standing height a foot may be and count as planted"
    )
    contact_speed: float = Field(1.0, gt=0, description="m/s: a low foot slower than this is planted")
    image_speed: float = Field(
        2.0, gt=0, description="contacts: video: torso lengths a second a planted foot may move in the image"
    )
    min_contact_frames: int = Field(3, ge=1, description="shorter planted runs are passing touches, not plants")
    max_gap_frames: int = Field(2, ge=0, description="a planted run broken for at most this many frames is one plant")
    min_flight_frames: int = Field(4, ge=1, description="shorter runs with no foot planted get no ballistic arc")
    flight_fall: float = Field(
        0.25,
        ge=0,
        description="share of g the centre of mass must fall at over a run with nothing planted for it to be a flight "
        "(else a plant the contact test missed: no ballistic arc); 0: every such run is a flight",
    )
    grounded_ends: bool = Field(
        True,
        description="a one-shot clip that starts or ends with nothing planted and its body not falling stands on its "
        "lowest foot there (a plant the contact test missed), rather than starting in the air",
    )
    free_fall_flights: bool = Field(
        False,
        description="frames where every contact body is off the ground and the centre of mass falls at nearly g are "
        "in the air, whatever the contact test says (a foot at a hop's apex stands still in the image)",
    )
    ballistic_from_speed: bool = Field(
        False,
        description="a flight's ballistic arc starts where the centre of mass's upward speed peaks and ends where its "
        "downward speed does (the toes' push-off and the knees' braking are not ballistic), not where the ankles "
        "leave and touch the ground",
    )
    plants_to_arc: bool = Field(
        False,
        description="with ballistic_from_speed: the foot that leaves the ground last stays planted until the "
        "ballistic arc starts, and the one that lands first from where it ends (the toes push and the knees brake on "
        "a foot that stands still; the reconstruction's slides there)",
    )
    plants_from_push: bool = Field(
        False,
        description="inside a run with nothing planted, frames where the centre of mass falls slower than flight_fall "
        "of g stand on the lowest foot (a stance foot that the reconstruction put high and sliding: a run's)",
    )
    max_push: float = Field(
        0.0,
        ge=0,
        description="outside its flights the centre of mass accelerates upwards at most this many g (the ground's "
        "push) and downwards at most g (the ground never pulls); 0: no bound",
    )
    plant_weight: float = Field(100.0, ge=0, description="a planted foot's horizontal spread within its phase (/m^2)")
    height_weight: float = Field(100.0, ge=0, description="a planted foot's height off its standing height (/m^2)")
    floor_weight: float = Field(1000.0, ge=0, description="a body under the floor (/m^2)")
    flight_weight: float = Field(
        1.0, ge=0, description="the centre of mass's departure from a ballistic arc in flight (/(m/s^2)^2)"
    )
    smoothness_weight: float = Field(1e-5, ge=0, description="the bodies' acceleration (/(m/s^2)^2)")
    iterations: int = Field(300, ge=1, description="L-BFGS steps of the one optimisation over the clip")
    floor_shapes: bool = Field(
        False,
        description="keep the collision shapes of the bodies that may not touch the ground (not only their joints) "
        "over it (sfv.imitate.body_shapes): a body there ends the episode, from the reference's own state",
    )
    joint_turn_weight: float = Field(
        0.0,
        ge=0,
        description="before the physical step, refit the reference so that a shoulder or hip does not spin about its "
        "own bone (sfv.imitate.joint_turns): how much a ball joint's turn between frames costs (squared chordal "
        "distance) against its bodies' squared displacement (/m^2); 0: no refit",
    )


PhysicalOverride = overrides_of(PhysicalReference)


class ImitateClip(Section):
    """How one clip's reconstructed motion becomes the reference its policy tracks (sfv.imitate.reference_clip)."""

    frames: tuple[int, Optional[int]] = Field(
        (0, None),
        description="[first, end) of the reconstructed frames to "
        "imitate (null: to the end); e.g. the part of a clip on one ground level",
    )
    cyclic: bool = Field(
        False,
        description="the clip is one cycle of a periodic skill: close the loop and repeat it "
        "(else one-shot: episodes end with the clip)",
    )
    total_timesteps: Optional[int] = Field(None, ge=1, description="this clip's training budget (null: imitate.ppo's)")
    ground_contacts: list[str] = Field(
        [],
        description="bodies besides the feet this skill puts on the ground (a "
        "cartwheel's wrists): touching with them does not end an episode; added to "
        "imitate.env.ground_contacts for this clip, from its video or its mocap",
    )
    physical: PhysicalOverride = Field(
        PhysicalOverride(),
        description="this clip's own settings of imitate.physical (the keys given; the others stay "
        "imitate.physical's), for a video whose reference is made otherwise (contacts: video, where its "
        "reconstruction is too jittery to tell a planted foot)",
    )
    scene: bool = Field(
        False,
        description="learn on the ground the clip stood on (sfv/imitate/scene.py: a wall top, a platform): its "
        "levels laid out under the reference (terrain `scene`), the reference kept at its own heights, the "
        "heightmap observed; the reference then may stand on several levels",
    )

    @field_validator("frames")
    @classmethod
    def _ordered(cls, v):
        first, end = v
        if first < 0 or (end is not None and end <= first):
            raise ValueError(f"frames [{first}, {end}) is empty or negative: give [first, end) with 0 <= first < end")
        return v

    @model_validator(mode="after")
    def _scene_once(self):
        if self.scene and self.cyclic:
            raise ValueError(
                "scene and cyclic together: a cycle repeated carries the body off the ground its clip stood on; "
                "learn a clip on its scene one-shot (cyclic: false)"
            )
        return self


class ReferenceChecks(Section):
    """What a reference motion must satisfy before training starts (else an error names the clip and frame)."""

    min_seconds: float = Field(0.5, gt=0, description="shorter references are refused")
    sink_tolerance: float = Field(
        0.15,
        ge=0,
        description="metres the feet may be reconstructed under the floor (the "
        "motion is lifted onto it); deeper is a broken reconstruction",
    )
    level_tolerance: float = Field(
        0.35,
        gt=0,
        description="metres the supporting ground may rise or fall within the "
        "clip (a wall, stairs: trim the clip to one level)",
    )
    level_window: float = Field(
        1.0,
        gt=0,
        description="seconds: the ground level at a frame is the lowest foot "
        "within this window (feet leave the ground in between)",
    )


class ImitateParams(Section):
    clips: dict[str, ImitateClip] = selection(
        default_factory=dict,
        description="clips learned from their video (reference data/motions/<clip>.npz): "
        "one DVC stage imitate@<clip> each, with how its reference is made",
    )
    oracle_clips: list[str] = selection(
        default_factory=list,
        description="mocap clips also learned from their ground-truth mocap (the "
        "upper bound): one DVC stage imitate_oracle@<clip> each",
    )
    second_seed: list[str] = selection(
        default_factory=list,
        description="clips of `clips` learned from their video once more with seed base.seed + 1 (the spread "
        "of one training): one DVC stage imitate_seed2@<clip> each, files named <clip>_seed2",
    )
    reference: ReferenceChecks = ReferenceChecks()
    physical: PhysicalReference = PhysicalReference()
    env: EnvSettings = EnvSettings()
    reward: RewardParams = RewardParams()
    ppo: PPOSettings = PPOSettings()
    asi: ASISettings = ASISettings()
    evaluation: EvaluationParams = EvaluationParams()

    @model_validator(mode="after")
    def _oracles_and_seeds_of_learned_clips(self):
        alone = [c for c in self.oracle_clips if c not in self.clips]
        if alone:
            raise ValueError(
                f"imitate.oracle_clips {alone} are not in imitate.clips: an oracle is the upper bound of a clip "
                "learned from its video, trained with that clip's budget; add them to imitate.clips too"
            )
        alone = [c for c in self.second_seed if c not in self.clips]
        if alone:
            raise ValueError(
                f"imitate.second_seed {alone} are not in imitate.clips: a second seed repeats a clip's training "
                "from its video; add them to imitate.clips too"
            )
        return self

    @model_validator(mode="after")
    def _arcs_held_only_with_arcs_from_speed(self):
        """`plants_to_arc` holds the feet until the arc `ballistic_from_speed` times: alone it would do nothing."""
        own = {"imitate.physical": {}} | {
            f"imitate.clips.{c}.physical": e.physical.model_dump(exclude_none=True) for c, e in self.clips.items()
        }
        for where, keys in own.items():
            merged = self.physical.model_dump() | keys
            if merged["plants_to_arc"] and not merged["ballistic_from_speed"]:
                raise ValueError(
                    f"{where}: plants_to_arc without ballistic_from_speed does nothing (the feet are held until the "
                    "arc that ballistic_from_speed times starts); set ballistic_from_speed: true there too"
                )
        return self

    def for_clip(self, clip: str) -> "ImitateParams":
        """These settings as a clip's policy uses them: its own ground contacts added to the env's, on its scene
        (`scene`) the scene's terrain with the heightmap observed, and its own reference-step settings (`physical`)
        over imitate.physical's (a clip without an entry in `clips`, such as a mocap clip only benchmarked, keeps
        them all)."""
        entry = self.clips.get(clip)
        extra = [b for b in (entry.ground_contacts if entry else []) if b not in self.env.ground_contacts]
        on_scene = entry is not None and entry.scene
        own = entry.physical.model_dump(exclude_none=True) if entry is not None else {}
        if not extra and not on_scene and not own:
            return self
        update = {"ground_contacts": [*self.env.ground_contacts, *extra]}
        if on_scene:
            update |= {"terrain": "scene", "heightmap": self.env.heightmap.model_copy(update={"enabled": True})}
        physical = self.physical.model_copy(update=own)  # the keys the clip gives: the rest follows imitate.physical
        return self.model_copy(update={"env": self.env.model_copy(update=update), "physical": physical})
