"""The reconstruction stage's settings: world targets from poses, and the fit."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sfv.settings.common import Section, selection


class TargetSettings(Section):
    """How the reconstruction turns poses into world targets (sfv.reconstruct.stage.prepare)."""

    vertical_fov: float = Field(
        45.0,
        ge=5,
        le=120,
        description="assumed camera field of view, degrees: used where the clip cannot tell it (see estimate_fov)",
    )
    estimate_fov: bool = Field(
        True,
        description="estimate the field of view from the clip where the person crosses "
        "sweeps fov_min_sweep degrees across the view (sfv.reconstruct.field_of_view)",
    )
    fov_min_sweep: float = Field(
        15.0,
        gt=0,
        le=90,
        description="degrees the ray to the mid-hip must sweep sideways for the field of view to be estimated",
    )
    camera_motion: bool = Field(
        True,
        description="follow a camera that turns (pans, tilts) as it films, read from "
        "the background (sfv.reconstruct.camera_motion)",
    )
    camera_turn_min: float = Field(
        1.0, ge=0, description="degrees: a camera that turns less than this over the clip is taken as fixed"
    )
    ray_aligned: bool = Field(
        True,
        description="the estimator's 3D pose is as seen along the ray to the person "
        "(a crop network's): turn it onto that ray (sfv.reconstruct.camera)",
    )
    level_camera: bool = Field(
        True, description="the camera has no roll (image x horizontal); false: up is the median torso direction alone"
    )
    still_foot_speed: float = Field(
        0.5,
        ge=0,
        description="m/s: with a level camera, ankles slower than this set "
        "its pitch (they share one height); 0 = the torso's pitch",
    )
    e_max: float = Field(
        0.12,
        gt=0,
        description="metres: a frame's 3D target counts exp(-(e/e_max)^2) of its 2D error e, "
        "in metres at the body (pixels x its depth / focal length)",
    )
    outlier_turn: float = Field(
        90.0,
        gt=0,
        le=180,
        description="degrees: a 3D pose turning more than this from one frame to the next (and back) is an outlier",
    )
    outlier_seconds: float = Field(
        0.34,
        ge=0,
        description="longest run between such turns taken as an outlier (seconds: 10 frames at 30 fps, 20 at 60)",
    )


class FitWeights(Section):
    """The weight of each loss term of the fit (sfv.reconstruct.losses)."""

    keypoint_3d: float = Field(1.0, ge=0, description="robust distance to the root-relative 3D targets (per m^2)")
    root_position: float = Field(0.01, ge=0, description="robust distance of the root to its world target (per m^2)")
    smoothness: float = Field(2e-6, ge=0, description="squared joint acceleration ((m/s^2)^2); 0 = per-frame IK")
    ground: float = Field(10.0, ge=0, description="bodies below the ground (per m^2)")
    reprojection: float = Field(
        2.5,
        ge=0,
        description="robust distance to the 2D keypoints, in metres at the body "
        "(pixels x depth / focal length) (per m^2)",
    )
    joint_limits: float = Field(1.0, ge=0, description="squared violation of revolute joint ranges (per rad^2)")
    foot_sliding: float = Field(1e-3, ge=0, description="squared horizontal speed of a planted foot (per (m/s)^2)")
    turn_smoothness: float = Field(
        0.0, ge=0, description="squared angular acceleration of the hips' turn about the vertical (per (rad/s^2)^2)"
    )


class FitSettings(Section):
    """The optimisation that fits a motion to the targets (sfv.reconstruct.fit)."""

    weights: FitWeights = FitWeights()
    robust_scale: float = Field(0.1, gt=0, description="metres: 3D errors beyond this pull no harder")
    robust_reprojection: float = Field(
        0.12, gt=0, description="metres at the body: 2D errors beyond this pull no harder"
    )
    contact_height: float = Field(0.12, gt=0, description="metres: a foot's ankle lower than this may be planted")
    contact_speed: float = Field(0.6, gt=0, description="m/s: a low foot slower than this (per-frame IK) is planted")
    optimizer: Literal["lbfgs", "adam"] = Field("lbfgs", description="L-BFGS (strong Wolfe line search) or Adam")
    ik_iterations: int = Field(
        150, ge=1, description="loss evaluations of the per-frame IK (the baseline and the start)"
    )
    iterations: int = Field(300, ge=1, description="loss evaluations of the full reconstruction")
    learning_rate: float = Field(0.02, gt=0, description="Adam's step size (L-BFGS searches its own)")
    torch_threads: int = Field(
        1,
        ge=1,
        description="torch threads of the fit: its tensors are small, and 2 threads on "
        "2 busy cores ran 10x slower than 1 (bench/reconstruct_throughput.py)",
    )

    def with_weights(self, **weights: float) -> "FitSettings":
        """The same settings with some term weights changed (an ablation)."""
        return self.model_copy(update={"weights": self.weights.model_copy(update=weights)})


class TurningParams(Section):
    """Clips of a person who spins about the vertical (a pirouette, a spin kick). The pose estimator's hips, seen
    edge-on, stall and then jump by a quarter turn in a frame or two; the fit of these clips holds the hips' turn
    to a steady rate (`sfv.reconstruct.losses.turn_smoothness`). Off for every other clip: a walk's hips swing a
    little at each step, and the term would flatten that."""

    clips: list[str] = selection(
        default_factory=list, description="clips (of `reconstruct.clips`) whose fit holds the hips' turn steady"
    )
    weight: float = Field(
        3e-6,
        ge=0,
        description="their fit's weight of the hips' squared angular acceleration about the vertical "
        "(per (rad/s^2)^2; `weights.turn_smoothness`)",
    )


class ReconstructParams(TargetSettings, FitSettings):
    """Stage 2, motion reconstruction: targets, fit, and what the notebook compares."""

    clips: list[str] = selection(
        default_factory=list,
        description="clips (keys of `clips`) to reconstruct; one DVC stage reconstruct@<clip> each",
    )
    ablation_smoothness: list[float] = Field(
        [2e-7, 5e-7, 8e-6], description="more smoothness weights the notebook compares (besides 0 and the chosen one)"
    )
    turning: TurningParams = Field(TurningParams(), description="clips of a person who spins: a steady turn")
    gif: bool = Field(True, description="a stick-figure animation of the targets beside the reconstruction")

    @model_validator(mode="after")
    def _turning_clips_reconstructed(self):
        stray = [c for c in self.turning.clips if c not in self.clips]
        if stray:
            raise ValueError(
                f"reconstruct.turning.clips {stray} are not in reconstruct.clips: add them there or drop them"
            )
        return self

    def for_clip(self, clip: str) -> "ReconstructParams":
        """The settings one clip is reconstructed with: a clip in `turning.clips` gets its turn's weight."""
        if clip not in self.turning.clips:
            return self
        return self.with_weights(turn_smoothness=self.turning.weight)
