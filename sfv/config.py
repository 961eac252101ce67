"""params.yaml: its schema and a loader whose errors name the file, the key, the line and the fix.

One section per DVC stage, a `base` section shared by all, and the `clips` map. Each setting is defined
once, here, with its default, its range and its meaning; `sfv` functions take these models themselves
(a stage section extends the settings model of the code it drives, e.g. `PoseParams(TrackSettings)`), so
values are checked once, when the file is loaded. A notebook gets only the path of the file and its clip
(`sfv.notebook`), and reads its section with `load_params`.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator
from pydantic.fields import FieldInfo

from sfv.assets import available_mocap, setting_names
from sfv.paths import CLIPS, clip_dir

DEFAULT_PARAMS = Path("params.yaml")


class ParamsError(ValueError):
    """params.yaml does not fit the schema; the message says where and what is expected."""


def _named_file(name: str, folder: str, what: str, excluded: str | None = None, why: str = "") -> str:
    """Check that `sfv/<folder>/<name>.yaml` exists (characters, terrains are files referenced by name) and, with
    `excluded`, that it is not that one (`why` says why, the error lists the others)."""
    known = setting_names(folder)
    if name not in known:
        raise ValueError(f"no {what} {name!r} in sfv/{folder}/; known: {', '.join(known)}")
    if name == excluded:
        raise ValueError(f"{what} {name!r} {why}: name another ({', '.join(n for n in known if n != excluded)})")
    return name


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def overrides_of(model: type[_Section]) -> type[_Section]:
    """The same fields as `model`, each optional (None = keep the default it overrides), same checks and
    descriptions: how a clip's entry overrides the render section without a second list of fields."""
    fields = {name: (Optional[f.annotation], FieldInfo.merge_field_infos(f, default=None))
              for name, f in model.model_fields.items()}
    return create_model(f"{model.__name__}Override", __base__=_Section, __doc__=f"Optional overrides of {model.__name__}.",
                        **fields)


class BaseParams(_Section):
    seed: int = Field(0, ge=0, description="seed for every random generator of every stage")


# --- inputs -----------------------------------------------------------------------------------------
class CameraParams(_Section):
    """The fixed camera that films a rendered clip (sfv.render.gt_clip.frame_camera)."""

    distance: float = Field(3.5, gt=0.5, le=50, description="metres from the middle of the hips' path")
    elevation: float = Field(10.0, ge=-80, le=80, description="degrees above the horizon")
    azimuth: float = Field(-60.0, ge=-360, le=360, description="degrees around the vertical; 0 looks along -x")
    fov: float = Field(45.0, ge=5, le=120, description="vertical field of view, degrees")
    roll: float = Field(0.0, ge=-45, le=45, description="degrees the camera is turned about its optical axis (0 = "
                                                        "level: the horizon horizontal in the image)")
    follow: float = Field(0.0, ge=0, le=1, description="0: a fixed camera; above 0 it stays in place but pans and "
                                                     "tilts to follow the hips, this share of the way (1 keeps them "
                                                     "centred)")


class BodyParams(_Section):
    """anny's phenotype, each in [0, 1]; unset is anny's average adult (gender: 0 male, 1 female; age 0.5 young adult)."""

    gender: Optional[float] = Field(None, ge=0, le=1)
    age: Optional[float] = Field(None, ge=0, le=1)
    muscle: Optional[float] = Field(None, ge=0, le=1)
    weight: Optional[float] = Field(None, ge=0, le=1)
    height: Optional[float] = Field(None, ge=0, le=1)
    proportions: Optional[float] = Field(None, ge=0, le=1)

    def phenotype(self) -> dict[str, float]:
        """The values that are set (what anny's retargeter takes)."""
        return self.model_dump(exclude_none=True)


CameraOverride = overrides_of(CameraParams)


class ClipParams(_Section):
    """One input clip: a video in its own folder `data/clips/<clip>/`, or `mocap:<name>` to render from
    pybullet_data mocap (the render stage then fills that folder)."""

    source: str = Field(description="`data/clips/<clip>/<file>.mp4` or `mocap:<name>`")
    frames: tuple[int, Optional[int]] = Field((0, None), description="[first, end) frame range; end null = to the end")
    fps: float = Field(30.0, gt=0, description="frame rate the stage works at")
    character: str = Field("humanoid", description="character file under sfv/characters/")
    notes: str = ""
    camera: CameraOverride = Field(CameraOverride(), description="rendered clips: overrides of render.camera")
    body: BodyParams = Field(BodyParams(), description="rendered clips: overrides of render.body")
    width: Optional[int] = Field(None, ge=64, le=3840, multiple_of=2,
                                 description="rendered clips: the video's width, overrides render.width")
    height: Optional[int] = Field(None, ge=64, le=3840, multiple_of=2,
                                  description="rendered clips: the video's height, overrides render.height")

    @property
    def is_mocap(self) -> bool:
        return self.source.startswith("mocap:")

    @property
    def mocap(self) -> str:
        """The mocap clip a rendered clip plays."""
        return self.source.removeprefix("mocap:")

    @field_validator("source")
    @classmethod
    def _source_form(cls, v: str) -> str:
        if not (v.startswith("mocap:") or v.startswith(f"{CLIPS.as_posix()}/")):
            raise ValueError(f"must be `mocap:<name>` or a video in the clip's folder under `{CLIPS.as_posix()}/` "
                             f"(e.g. {CLIPS.as_posix()}/my_jump/my_jump.mp4)")
        if v.startswith("mocap:") and v.removeprefix("mocap:") not in available_mocap():
            raise ValueError(f"no mocap clip {v.removeprefix('mocap:')!r}; available: {', '.join(available_mocap())}")
        return v

    @field_validator("character")
    @classmethod
    def _character_exists(cls, v: str) -> str:
        return _named_file(v, "characters", "character")

    @model_validator(mode="after")
    def _range(self):
        first, end = self.frames
        if first < 0 or (end is not None and end <= first):
            raise ValueError(f"frames {list(self.frames)}: need 0 <= first < end (or end null)")
        if not self.is_mocap and (self.camera != CameraOverride() or self.body != BodyParams()
                                  or self.width is not None or self.height is not None):
            raise ValueError("camera, body, width and height only apply to clips rendered from mocap (source "
                             "`mocap:<name>`); a real video has its own camera, size and person: remove them from "
                             "this entry")
        return self


ClipName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$")]


# --- stage render -----------------------------------------------------------------------------------
class _Picture(_Section):
    width: int = Field(640, ge=64, le=3840, multiple_of=2, description="video width (pixels, even: H.264 4:2:0)")
    height: int = Field(480, ge=64, le=3840, multiple_of=2, description="video height (pixels, even: H.264 4:2:0)")
    camera: CameraParams = CameraParams()
    body: BodyParams = BodyParams()


class RenderSettings(_Picture):
    """What one ground-truth clip is rendered with: the render section merged with the clip's entry."""

    fps: float = Field(30.0, gt=0, description="the video's frame rate")
    frames: tuple[int, Optional[int]] = Field((0, None), description="[first, end) of the mocap resampled at fps")


class RenderParams(_Picture):
    """Ground-truth clips rendered from mocap: the defaults every clip's own camera/body entries override."""

    clips: list[str] = Field(description="mocap clips (keys of `clips`) to render; one DVC stage render@<clip> each")
    contact_sheet_frames: int = Field(8, ge=2, le=32, description="video frames shown on the contact sheet")

    def for_clip(self, clip: ClipParams) -> RenderSettings:
        """The clip's settings: these defaults overridden by the clip's own camera/body entries."""
        camera = self.camera.model_copy(update=clip.camera.model_dump(exclude_none=True))
        body = self.body.model_copy(update=clip.body.model_dump(exclude_none=True))
        return RenderSettings(width=clip.width or self.width, height=clip.height or self.height, camera=camera,
                              body=body, fps=clip.fps, frames=clip.frames)


# --- stage pose -------------------------------------------------------------------------------------
class TrackSettings(_Section):
    """How the pose stage follows one actor and searches for flipped people (sfv.pose.tracking)."""

    model: Literal["full", "heavy"] = Field(
        "full", description="BlazePose's landmark model: full (in mediapipe's wheel) or heavy (more accurate, slower; "
                            "installed once by `make pose-heavy`)")
    rotation_search: Literal["off", "auto", "all"] = Field(
        "all", description="ask the detector about the frame turned by 0/90/180/270 deg: on every frame, only on "
                           "missing/weak/tilted/jumping ones (auto), or never")
    weak_confidence: float = Field(0.5, ge=0, le=1, description="auto: a result below this mean confidence is searched")
    tilt_degrees: float = Field(30.0, ge=0, le=180, description="auto: a torso tilted more than this is searched")
    actor: Literal["nearest", "largest"] = Field("nearest", description="which person to follow in a multi-person clip")
    max_jump: float = Field(0.25, gt=0, description="a pose further than this x the actor's height x sqrt(frames "
                                                    "since last seen, counted at 30 fps) from the actor is someone else")
    lost_frames: int = Field(30, ge=1, description="after this many frames (counted at 30 fps: 30 = 1 s) without the "
                                                   "actor, anyone becomes the actor")
    consensus_weight: float = Field(3.0, ge=0, description="score penalty per body height of disagreement with the "
                                                           "other candidates")
    temporal_weight: float = Field(1.0, ge=0, description="score penalty per body height of distance to the last pose")
    crop_scales: list[float] = Field([2.0, 3.0], description="when the actor is lost: crops centred where their "
                                                              "motion predicts them, this many times their height "
                                                              "across, each searched at every turn")
    appearance_weight: float = Field(1.0, ge=0, description="score penalty per unit of colour distance (0 same, 1 "
                                                            "disjoint) between a candidate's torso and the actor's")
    fuse_radius: float = Field(0.1, ge=0, le=1, description="the chosen pose's keypoints (2D and 3D) are averaged "
                                                          "with the candidates within this many body heights of it "
                                                          "(the same person, turned or cropped); 0: not fused")
    mask_others: bool = Field(True, description="when the actor is lost: paint out the people the search found "
                                                "instead (someone else) and search the frame again")


class PoseParams(TrackSettings):
    """Stage 1, pose estimation: the tracking settings and the stage's outputs."""

    clips: list[str] = Field(description="clips (keys of `clips`) to estimate poses on; one DVC stage pose@<clip> each")
    pck_threshold: float = Field(0.05, gt=0, le=1, description="PCK: share of keypoints within this x body size")
    overlay_video: bool = Field(True, description="write an mp4 of the clip with the poses drawn on it")
    contact_sheet_frames: int = Field(8, ge=2, le=32, description="frames shown on the contact sheet")


# --- stage reconstruct ------------------------------------------------------------------------------
class TargetSettings(_Section):
    """How the reconstruction turns poses into world targets (sfv.reconstruct.stage.prepare)."""

    vertical_fov: float = Field(45.0, ge=5, le=120, description="assumed camera field of view, degrees: used where "
                                                               "the clip cannot tell it (see estimate_fov)")
    estimate_fov: bool = Field(True, description="estimate the field of view from the clip where the person crosses "
                                                 "sweeps fov_min_sweep degrees across the view (sfv.reconstruct.field_of_view)")
    fov_min_sweep: float = Field(15.0, gt=0, le=90, description="degrees the ray to the mid-hip must sweep sideways "
                                                               "for the field of view to be estimated")
    camera_motion: bool = Field(True, description="follow a camera that turns (pans, tilts) as it films, read from "
                                                  "the background (sfv.reconstruct.camera_motion)")
    camera_turn_min: float = Field(1.0, ge=0, description="degrees: a camera that turns less than this over the clip "
                                                         "is taken as fixed")
    ray_aligned: bool = Field(True, description="the estimator's 3D pose is as seen along the ray to the person "
                                                "(a crop network's): turn it onto that ray (sfv.reconstruct.camera)")
    level_camera: bool = Field(True, description="the camera has no roll (image x horizontal); false: up is the "
                                                 "median torso direction alone")
    still_foot_speed: float = Field(0.5, ge=0, description="m/s: with a level camera, ankles slower than this set "
                                                         "its pitch (they share one height); 0 = the torso's pitch")
    e_max: float = Field(0.12, gt=0, description="metres: a frame's 3D target counts exp(-(e/e_max)^2) of its 2D error e, "
                                                  "in metres at the body (pixels x its depth / focal length)")
    outlier_turn: float = Field(90.0, gt=0, le=180, description="degrees: a 3D pose turning more than this from one "
                                                                 "frame to the next (and back) is an outlier")
    outlier_seconds: float = Field(0.34, ge=0, description="longest run between such turns taken as an outlier "
                                                          "(seconds: 10 frames at 30 fps, 20 at 60)")


class FitWeights(_Section):
    """The weight of each loss term of the fit (sfv.reconstruct.losses)."""

    keypoint_3d: float = Field(1.0, ge=0, description="robust distance to the root-relative 3D targets (per m^2)")
    root_position: float = Field(0.01, ge=0, description="robust distance of the root to its world target (per m^2)")
    smoothness: float = Field(2e-6, ge=0, description="squared joint acceleration ((m/s^2)^2); 0 = per-frame IK")
    ground: float = Field(10.0, ge=0, description="bodies below the ground (per m^2)")
    reprojection: float = Field(2.5, ge=0, description="robust distance to the 2D keypoints, in metres at the body "
                                                        "(pixels x depth / focal length) (per m^2)")
    joint_limits: float = Field(1.0, ge=0, description="squared violation of revolute joint ranges (per rad^2)")
    foot_sliding: float = Field(1e-3, ge=0, description="squared horizontal speed of a planted foot (per (m/s)^2)")


class FitSettings(_Section):
    """The optimisation that fits a motion to the targets (sfv.reconstruct.fit)."""

    weights: FitWeights = FitWeights()
    robust_scale: float = Field(0.1, gt=0, description="metres: 3D errors beyond this pull no harder")
    robust_reprojection: float = Field(0.12, gt=0, description="metres at the body: 2D errors beyond this pull no "
                                                                "harder")
    contact_height: float = Field(0.12, gt=0, description="metres: a foot's ankle lower than this may be planted")
    contact_speed: float = Field(0.6, gt=0, description="m/s: a low foot slower than this (per-frame IK) is planted")
    optimizer: Literal["lbfgs", "adam"] = Field("lbfgs", description="L-BFGS (strong Wolfe line search) or Adam")
    ik_iterations: int = Field(150, ge=1, description="loss evaluations of the per-frame IK (the baseline and the start)")
    iterations: int = Field(300, ge=1, description="loss evaluations of the full reconstruction")
    learning_rate: float = Field(0.02, gt=0, description="Adam's step size (L-BFGS searches its own)")
    torch_threads: int = Field(1, ge=1, description="torch threads of the fit: its tensors are small, and 2 threads on "
                                                    "2 busy cores ran 10x slower than 1 (bench/reconstruct_throughput.py)")

    def with_weights(self, **weights: float) -> "FitSettings":
        """The same settings with some term weights changed (an ablation)."""
        return self.model_copy(update={"weights": self.weights.model_copy(update=weights)})


class ReconstructParams(TargetSettings, FitSettings):
    """Stage 2, motion reconstruction: targets, fit, and what the notebook compares."""

    clips: list[str] = Field(description="clips (keys of `clips`) to reconstruct; one DVC stage reconstruct@<clip> each")
    ablation_smoothness: list[float] = Field([2e-7, 5e-7, 8e-6], description="more smoothness weights the notebook "
                                                                         "compares (besides 0 and the chosen one)")
    gif: bool = Field(True, description="a stick-figure animation of the targets beside the reconstruction")


# --- stage motion_library ---------------------------------------------------------------------------
class MotionLibraryParams(_Section):
    clips: Union[Literal["all"], list[str]] = Field("all", description='"all" or a list of mocap clip names')
    contact_sheet_frames: int = Field(8, ge=2, le=32, description="stick figures per contact sheet")

    @field_validator("clips")
    @classmethod
    def _known(cls, v):
        unknown = [] if v == "all" else sorted(set(v) - set(available_mocap()))
        if unknown:
            raise ValueError(f"unknown mocap clips {unknown}; available: {', '.join(available_mocap())}")
        return v


# --- stage imitate ----------------------------------------------------------------------------------
class HeightmapSettings(_Section):
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


class EnvSettings(_Section):
    """The simulated task (sfv.imitate.env); the character is the reference motion's."""

    terrain: str = Field("flat", description="terrain file under sfv/terrains/")
    physics_hz: float = Field(240.0, gt=0, description="Bullet steps per second")
    control_hz: float = Field(30.0, gt=0, description="policy actions per second (physics_hz must be a multiple)")
    episode_seconds: float = Field(20.0, gt=0, description="longest training episode")
    state_init: Literal["reference", "adaptive", "start"] = Field(
        "reference", description="reference: RSI (a uniformly random phase, the reference's state); adaptive: ASI (start "
        "phases drawn from a distribution that learns toward the phases the policy does worst, imitate.asi); start: phase 0")
    early_termination: bool = Field(True, description="end an episode when a non-foot body touches the ground")
    pose_termination: float | None = Field(
        None, gt=0, description="end an episode when a body strays farther than this many metres from the "
        "reference's (world positions: MimicKit's pose termination, 1 m there): a character that drifts off stops "
        "collecting reward, so drifting costs the rest of the episode; null: off. Evaluations never end on it "
        "(they measure the drift)")
    action_mode: Literal["residual", "absolute"] = Field("residual", description="PD targets offset from the reference pose or from rest")
    action_scale: float = Field(0.5, gt=0, le=3.2, description="radians per unit of action")
    phase_encoding: Literal["linear", "sincos"] = Field(
        "linear", description="the phase in the observation: linear (one number in [0, 1), DeepMimic) or sincos "
        "(cos and sin of 2 pi phase: no jump where a cyclic clip wraps)")
    reference_root_observation: bool = Field(
        False, description="also observe where the reference's root is (position and heading relative to the "
        "character's root, in its heading frame), so the policy can steer back when it drifts")
    ground_contacts: list[str] = Field(
        [], description="bodies besides the character's feet that may touch the ground without ending the episode "
        "(DeepMimic's per-skill fall_contact_bodies: a cartwheel's hands); a clip adds its own with "
        "imitate.clips.<clip>.ground_contacts")
    heightmap: HeightmapSettings = Field(HeightmapSettings(), description="observe the ground's heights around "
                                         "the character (terrain policies)")

    @property
    def substeps(self) -> int:
        """Physics steps per control step."""
        return int(round(self.physics_hz / self.control_hz))

    @field_validator("terrain")
    @classmethod
    def _terrain_exists(cls, v: str) -> str:
        return _named_file(v, "terrains", "terrain")

    @model_validator(mode="after")
    def _rates(self):
        ratio = self.physics_hz / self.control_hz
        if abs(ratio - round(ratio)) > 1e-9 or ratio < 1:
            raise ValueError(f"physics_hz ({self.physics_hz}) must be a whole multiple of control_hz ({self.control_hz})")
        return self


class RewardTerms(_Section):
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


class RewardParams(_Section):
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


class PPOSettings(_Section):
    """stable-baselines3 PPO (sfv.imitate.train)."""

    total_timesteps: int = Field(4_000_000, ge=1, description="samples to train on (the budget)")
    n_envs: int = Field(8, ge=1, description="simulators in all")
    n_workers: int = Field(2, ge=1, description="processes the simulators are spread over (one per core)")
    n_steps: int = Field(512, ge=8, description="samples per env and rollout (n_envs x n_steps per update)")
    batch_size: int = Field(512, ge=8, description="minibatch size")
    n_epochs: int = Field(5, ge=1)
    learning_rate: float = Field(3e-4, gt=0)
    gamma: float = Field(0.95, gt=0, le=1)
    gae_lambda: float = Field(0.95, gt=0, le=1)
    clip_range: float = Field(0.2, gt=0)
    net_arch: tuple[int, ...] = Field((256, 256), min_length=1, description="hidden layer sizes of actor and critic")
    log_std_init: float = Field(-1.5, description="initial log standard deviation of the action noise")
    torch_threads: int = Field(1, ge=1, description="learner threads during PPO's updates, when the env workers idle "
                               "(rollouts always use one: the workers take the cores then)")
    checkpoint_every: int = Field(100_000, ge=1, description="samples between checkpoints (a kill loses at most this)")
    learning_rate_schedule: Literal["constant", "linear"] = Field(
        "constant", description="constant, or linear: decays to 0 at learning_rate_horizon")
    learning_rate_horizon: Optional[int] = Field(
        None, ge=1, description="samples at which the linear schedule reaches 0 (null: total_timesteps); set, a run "
        "trained in chunks of growing budgets (bench/samples_to_skill.py) follows one schedule instead of restarting "
        "it with each chunk")
    normalize_advantage: bool = Field(True, description="normalise advantages per minibatch")
    clip_range_vf: Optional[float] = Field(None, gt=0, description="clip the value function's change per update "
                                           "(null: no clipping)")
    evaluate_every: int = Field(100_000, ge=0, description="samples between deterministic evaluations logged in the "
                                "learning curve (samples-to-skill; 0: none)")


class ASISettings(_Section):
    """Adaptive state initialisation (SFV): a categorical distribution over start phases, learned by policy
    gradient toward the phases whose starts score worst (sfv.imitate.asi). Used when env.state_init is adaptive."""

    bins: int = Field(20, ge=2, description="phase bins of the start distribution")
    horizon_seconds: float = Field(1.0, gt=0, description="a start is scored by the mean reward of the first this "
                                   "many seconds after it (0 for the steps lost to a fall)")
    temperature: float = Field(0.2, gt=0, description="entropy weight: the distribution settles at "
                               "p ~ exp(difficulty / temperature); larger keeps it nearer uniform")
    step_size: float = Field(2.0, gt=0, description="gradient-ascent step on the logits per PPO rollout")
    memory: float = Field(0.7, ge=0, lt=1, description="weight of a bin's previous difficulty estimate against a "
                          "rollout's new scores")


class EvaluationParams(_Section):
    seconds: float = Field(20.0, gt=0, description="length of the deterministic evaluation rollout from phase 0")
    video: bool = Field(True, description="render the rollout beside the reference (mp4)")
    width: int = Field(640, ge=64, multiple_of=16, description="video width (pixels, multiple of 16)")
    height: int = Field(384, ge=64, multiple_of=16, description="video height (pixels, multiple of 16)")


class ImitateClip(_Section):
    """How one clip's reconstructed motion becomes the reference its policy tracks (sfv.imitate.reference_clip)."""

    frames: tuple[int, Optional[int]] = Field((0, None), description="[first, end) of the reconstructed frames to "
                                              "imitate (null: to the end); e.g. the part of a clip on one ground level")
    cyclic: bool = Field(False, description="the clip is one cycle of a periodic skill: close the loop and repeat it "
                         "(else one-shot: episodes end with the clip)")
    total_timesteps: Optional[int] = Field(None, ge=1, description="this clip's training budget (null: imitate.ppo's)")
    ground_contacts: list[str] = Field([], description="bodies besides the feet this skill puts on the ground (a "
                                       "cartwheel's wrists): touching with them does not end an episode; added to "
                                       "imitate.env.ground_contacts for this clip, from its video or its mocap")

    @field_validator("frames")
    @classmethod
    def _ordered(cls, v):
        first, end = v
        if first < 0 or (end is not None and end <= first):
            raise ValueError(f"frames [{first}, {end}) is empty or negative: give [first, end) with 0 <= first < end")
        return v


class ReferenceChecks(_Section):
    """What a reference motion must satisfy before training starts (else an error names the clip and frame)."""

    min_seconds: float = Field(0.5, gt=0, description="shorter references are refused")
    sink_tolerance: float = Field(0.15, ge=0, description="metres the feet may be reconstructed under the floor (the "
                                  "motion is lifted onto it); deeper is a broken reconstruction")
    level_tolerance: float = Field(0.35, gt=0, description="metres the supporting ground may rise or fall within the "
                                   "clip (a wall, stairs: trim the clip to one level)")
    level_window: float = Field(1.0, gt=0, description="seconds: the ground level at a frame is the lowest foot "
                                "within this window (feet leave the ground in between)")


class ImitateParams(_Section):
    clips: dict[str, ImitateClip] = Field(default_factory=dict, description="clips learned from their video (reference data/motions/<clip>.npz): "
                                          "one DVC stage imitate@<clip> each, with how its reference is made")
    oracle_clips: list[str] = Field([], description="mocap clips also learned from their ground-truth mocap (the "
                                    "upper bound): one DVC stage imitate_oracle@<clip> each")
    reference: ReferenceChecks = ReferenceChecks()
    env: EnvSettings = EnvSettings()
    reward: RewardParams = RewardParams()
    ppo: PPOSettings = PPOSettings()
    asi: ASISettings = ASISettings()
    evaluation: EvaluationParams = EvaluationParams()

    def for_clip(self, clip: str) -> "ImitateParams":
        """These settings as a clip's policy uses them: its own ground contacts added to the env's (a clip without an
        entry in `clips`, such as a mocap clip only benchmarked, keeps the env's)."""
        extra = [b for b in (self.clips[clip].ground_contacts if clip in self.clips else [])
                 if b not in self.env.ground_contacts]
        if not extra:
            return self
        return self.model_copy(update={"env": self.env.model_copy(
            update={"ground_contacts": [*self.env.ground_contacts, *extra]})})


# --- stage motion_completion --------------------------------------------------------------------------
class CompletionModelSettings(_Section):
    """The small network of motion completion (sfv.completion.model.CompletionMLP)."""
    hidden: list[int] = Field([256, 256], min_length=1, description="hidden layer widths")
    epochs: int = Field(600, ge=1, le=100000, description="full-batch Adam steps")
    learning_rate: float = Field(1e-3, gt=0, le=1)
    input_noise: float = Field(0.02, ge=0, le=0.5, description="noise on the input poses while training (m)")


class CompletionShowcase(_Section):
    """The still shown continued by a policy in the notebook."""
    clip: Optional[str] = Field(None, description="a rendered clip in reconstruct.clips: its frame is the still "
                                "(null: the first rendered clip there)")
    frame: int = Field(6, ge=0, description="the still's frame in the clip's reconstruction (at the library rate)")
    seconds: float = Field(4.0, gt=0, le=60, description="how long the policy continues the still")


class MotionCompletionParams(_Section):
    """Motion completion from a single image (the paper's section; notebook 07)."""
    fps: float = Field(30.0, gt=0, le=240, description="the library's common frame rate")
    horizon_seconds: float = Field(0.5, gt=0, le=5, description="how far the completion looks ahead")
    step_seconds: float = Field(0.1, gt=0, le=5, description="spacing of the completion's steps")
    stride: int = Field(2, ge=1, description="a still every this many frames of each rendered clip")
    model: CompletionModelSettings = CompletionModelSettings()
    showcase: CompletionShowcase = CompletionShowcase()

    @model_validator(mode="after")
    def _steps_within_horizon(self):
        if self.step_seconds > self.horizon_seconds:
            raise ValueError(f"step_seconds ({self.step_seconds}) is longer than horizon_seconds "
                             f"({self.horizon_seconds}); make it at most the horizon")
        return self


# --- stage morphology_transfer ------------------------------------------------------------------------------------
class RetargetSettings(_Section):
    """Retargeting a motion to another character (sfv.retarget): one Adam optimisation over all frames."""

    iterations: int = Field(800, ge=1, description="Adam steps")
    learning_rate: float = Field(0.1, gt=0)
    orientation_weight: float = Field(0.3, ge=0, description="feet, torso and root orientation against positions")
    ground_weight: float = Field(100.0, ge=0, description="soles under the ground")
    smoothness_weight: float = Field(10.0, ge=0, description="joint and root accelerations")


class MorphologyEvaluation(_Section):
    seconds: float = Field(10.0, gt=0, description="length of the deterministic evaluation rollout")
    width: int = Field(480, ge=64, multiple_of=16, description="width of each character's view in the video")
    height: int = Field(288, ge=64, multiple_of=16)


class MorphologyTransferParams(_Section):
    """The clips' motions from video on another character (the paper's Atlas; notebook 04b)."""

    characters: list[str] = Field(default_factory=lambda: ["atlas"], min_length=1,
                                  description="character files under sfv/characters/ with a retarget section")
    clips: list[str] = Field(default_factory=list, description="clips in imitate.clips: their video reference is "
                             "retargeted and learned by each character")
    total_timesteps: int = Field(2_000_000, ge=1, description="samples each clip's policy trains on")
    retarget: RetargetSettings = RetargetSettings()
    evaluation: MorphologyEvaluation = MorphologyEvaluation()

    @field_validator("characters")
    @classmethod
    def _other_bodies(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"names a character twice: {v}")
        return [_named_file(c, "characters", "character", "humanoid", "is the body the clips were reconstructed on")
                for c in v]


# --- stage irregular_terrain ------------------------------------------------------------------------------------
class TerrainRun(_Section):
    """One skill on one terrain: the clip's policy from video (trained on flat ground by `imitate`) is the baseline
    and the starting point of the terrain policy."""

    clip: str = Field(description="a clip in imitate.clips")
    terrain: str = Field(description="a terrain file under sfv/terrains/ other than flat ground")

    @field_validator("terrain")
    @classmethod
    def _irregular(cls, v: str) -> str:
        return _named_file(v, "terrains", "terrain", "flat", "is the ground the clip's policy already learned on")

    @property
    def name(self) -> str:
        return f"{self.clip}_{self.terrain}"


class TerrainEvaluation(_Section):
    seeds: list[int] = Field([0, 1, 2, 3, 4], min_length=1, description="terrains (and episode shifts) both policies "
                             "are evaluated on: the same for both")
    seconds: float = Field(10.0, gt=0, description="length of each deterministic evaluation rollout")
    video: bool = Field(True, description="render both policies on the first seed's terrain (mp4)")
    width: int = Field(640, ge=64, multiple_of=16)
    height: int = Field(384, ge=64, multiple_of=16)


class IrregularTerrainParams(_Section):
    """Skills learned from video on flat ground, carried over irregular terrain (the paper's experiment; notebook 05)."""

    runs: list[TerrainRun] = Field(default_factory=list, description="(clip, terrain) pairs")
    budget: int = Field(1_000_000, ge=1, description="samples each terrain policy trains on, from its flat policy")
    heightmap: HeightmapSettings = Field(HeightmapSettings(enabled=True), description="what the terrain policy sees "
                                         "of the ground around it")
    evaluation: TerrainEvaluation = TerrainEvaluation()

    @field_validator("heightmap")
    @classmethod
    def _on(cls, v: HeightmapSettings) -> HeightmapSettings:
        if not v.enabled:
            raise ValueError("heightmap.enabled must be true: a terrain policy sees the ground (the flat policy, its "
                             "baseline, is the one without)")
        return v

    @model_validator(mode="after")
    def _unique(self):
        names = [r.name for r in self.runs]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"runs: {repeated} appear more than once")
        return self


# --- stage report -----------------------------------------------------------------------------------
class ReportParams(_Section):
    """The results report (notebook 06): rollout GIFs for the HTML page and the README."""
    gif_seconds: float = Field(4.0, gt=0, le=30, description="length of each rollout GIF (seconds from the start)")
    gif_fps: float = Field(15.0, gt=0, le=30, description="frame rate of the GIFs (frames are taken from the video's)")
    gif_width: int = Field(480, ge=64, le=1920, description="width of the GIFs in pixels (aspect kept)")


# --- where training runs (no stage depends on it: rollouts are the same on either backend) -----------------
class ClusterParams(_Section):
    """Where imitation's rollout workers run (sfv.imitate.vec_env, sfv.imitate.ray_vec_env) and how many runs share a
    Ray cluster (sfv.cluster). No stage lists it as a dependency: for the same seeds the rollouts are the same on
    either backend (tests/test_cluster.py), so moving a run to a cluster does not re-run it."""

    backend: Literal["local", "ray"] = Field("local", description="local: worker processes on this machine; ray: "
                                             "Ray actors on the nodes of a Ray cluster (needs the cluster extra)")
    address: Optional[str] = Field(None, description='the Ray cluster ("auto", "host:6379", "ray://host:10001"); '
                                   "null: $RAY_ADDRESS, else a Ray started on this machine")
    cpus_per_worker: float = Field(1.0, gt=0, description="Ray CPUs a rollout worker (a block of n_envs / n_workers "
                                   "simulators) asks for")
    cpus_per_run: float = Field(1.0, ge=0, description="Ray CPUs a training run's learner asks for when runs go out "
                                "as Ray tasks (sfv cluster); its rollout workers ask for theirs besides")
    max_worker_replacements: int = Field(3, ge=0, description="rollout workers lost (with their node) that a run "
                                         "replaces before it stops; started again, it resumes from its checkpoint")
    max_run_retries: int = Field(2, ge=0, description="times Ray starts a run again (it resumes from its last "
                                 "checkpoint) when the node running it is lost")


# --- the file ---------------------------------------------------------------------------------------
class Params(_Section):
    base: BaseParams = BaseParams()
    clips: dict[ClipName, ClipParams] = Field(default_factory=dict)
    motion_library: MotionLibraryParams = MotionLibraryParams()
    render: RenderParams = RenderParams(clips=[])
    pose: PoseParams = PoseParams(clips=[])
    reconstruct: ReconstructParams = ReconstructParams(clips=[])
    imitate: ImitateParams = ImitateParams()
    motion_completion: MotionCompletionParams = MotionCompletionParams()
    morphology_transfer: MorphologyTransferParams = MorphologyTransferParams()
    irregular_terrain: IrregularTerrainParams = IrregularTerrainParams()
    report: ReportParams = ReportParams()
    cluster: ClusterParams = ClusterParams()

    def _registered(self, key: str, names: list[str]) -> None:
        unknown = [c for c in names if c not in self.clips]
        if unknown:
            raise ValueError(f"{key} names {unknown}, which are not in `clips` "
                             f"(registered: {', '.join(self.clips) or 'none'}); add an entry under `clips` first")

    def _mocap_clips_only(self, key: str, names: list[str], why: str) -> None:
        """Every name in `<key>` is a registered clip rendered from mocap; else an error naming them and `why`."""
        self._registered(key, names)
        videos = [c for c in names if not self.clips[c].is_mocap]
        if videos:
            raise ValueError(f"{key} {videos} come from video (source {self.clips[videos[0]].source}); {why}")

    @model_validator(mode="after")
    def _videos_in_their_folders(self):
        for name, clip in self.clips.items():
            folder = clip_dir(name)
            if not clip.is_mocap and Path(clip.source).parent != folder:
                raise ValueError(f"clips.{name}.source: {clip.source!r} is not in the clip's own folder: put the "
                                 f"video in {folder.as_posix()}/ (e.g. {(folder / Path(clip.source).name).as_posix()}) "
                                 "and set source to that path; each clip's stages then depend on its folder only")
        return self

    @model_validator(mode="after")
    def _stage_clips_registered(self):
        self._mocap_clips_only("render.clips", self.render.clips,
                               "only `mocap:<name>` clips are rendered (a video is already a video)")
        self._registered("pose.clips", self.pose.clips)
        self._registered("reconstruct.clips", self.reconstruct.clips)
        missing = [c for c in self.reconstruct.clips if c not in self.pose.clips]
        if missing:
            raise ValueError(f"reconstruct.clips {missing} have no poses: add them to pose.clips too")
        unrendered = [c for c in self.pose.clips if self.clips[c].is_mocap and c not in self.render.clips]
        if unrendered:
            raise ValueError(f"pose.clips {unrendered} are rendered from mocap but not in render.clips: add them there "
                             "too (their video is the render)")
        self._registered("imitate.clips", list(self.imitate.clips))
        unreconstructed = [c for c in self.imitate.clips if c not in self.reconstruct.clips]
        if unreconstructed:
            raise ValueError(f"imitate.clips {unreconstructed} have no reconstructed motion to imitate: add them to "
                             "reconstruct.clips (and pose.clips) too")
        self._mocap_clips_only("imitate.oracle_clips", self.imitate.oracle_clips,
                               "an oracle policy tracks the ground-truth mocap, which only a `mocap:` clip has")
        unlearned = [c for c in self.morphology_transfer.clips if c not in self.imitate.clips]
        if unlearned:
            raise ValueError(f"morphology_transfer.clips {unlearned} have no policy from video whose reference to "
                             "retarget: add them to imitate.clips")
        untrained = [r.clip for r in self.irregular_terrain.runs if r.clip not in self.imitate.clips]
        if untrained:
            raise ValueError(f"irregular_terrain.runs: clips {untrained} have no policy from video to carry over: add "
                             "them to imitate.clips")
        show = self.motion_completion.showcase.clip
        if show is not None and (show not in self.reconstruct.clips or not self.clips[show].is_mocap):
            raise ValueError(f"motion_completion.showcase.clip: {show!r} must be a clip rendered from mocap and in "
                             f"reconstruct.clips (its truth scores the completion); rendered and reconstructed: "
                             f"{', '.join(c for c in self.reconstruct.clips if self.clips[c].is_mocap) or 'none'}")
        return self


#: stage name -> the model of its section
STAGE_SECTIONS: dict[str, type[_Section]] = {"motion_library": MotionLibraryParams, "render": RenderParams,
                                              "pose": PoseParams, "reconstruct": ReconstructParams,
                                              "imitate": ImitateParams, "motion_completion": MotionCompletionParams,
                                              "morphology_transfer": MorphologyTransferParams,
                                              "irregular_terrain": IrregularTerrainParams, "report": ReportParams}


def _line_of(text: str, loc: tuple) -> int | None:
    """Line (1-based) of the YAML node at `loc`, or of its nearest existing parent."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: Any = Params
    for key in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        if model is Params and key == "clips":
            return None
        field = model.model_fields.get(str(key))
        if field is None:
            return None
        model = field.annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _describe(err: dict, path: Path, text: str) -> str:
    loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith(("function-", "literal[", "list["))))
    msg = re.sub(r"^Value error, ", "", err["msg"])
    named = re.match(r"^([a-z0-9_]+(?:\.[a-z0-9_]+)+): ", msg)
    if not loc and named:  # a check across sections names the key it is about: point at its line
        line = _line_of(text, tuple(named.group(1).split(".")))
        return f"{path}:{line}: {msg}" if line else f"{path}: {msg}"
    key = ".".join(str(x) for x in loc) or "(top level)"
    line = _line_of(text, loc)
    where = f"{path}:{line}" if line else str(path)
    if err["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        known = list(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f" — did you mean {close[0]!r}?" if close else ""
        return f"{where}: unknown key {key!r}{hint} (allowed here: {', '.join(known)})"
    model = _model_at(loc[:-1]) if loc else None
    field = model.model_fields.get(str(loc[-1])) if model and loc else None
    expected = f" [{loc[-1]}: {field.description}]" if field is not None and field.description else ""
    got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
    return f"{where}: {key}: {msg}{got}{expected}"


def load_params(path: str | Path = DEFAULT_PARAMS) -> Params:
    """Read and validate params.yaml; raise ParamsError listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: not found (run from the repository root, or pass the path to params.yaml)")
    text = path.read_text()
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as e:
        problems = [_describe(err, path, text) for err in e.errors()]
        raise ParamsError("\n".join(problems)) from None


def show(section: BaseModel) -> str:
    """A section as YAML, for a notebook to print what it runs with."""
    return yaml.safe_dump(section.model_dump(mode="json"), sort_keys=False, default_flow_style=None, width=110)
