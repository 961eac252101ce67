"""The pose stage's settings: the estimator, following one actor, the search for flipped people."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sfv.settings.common import Section, selection


class TrackSettings(Section):
    """How the pose stage follows one actor and searches for flipped people (sfv.pose.tracking)."""

    model: Literal["full", "heavy"] = Field(
        "full",
        description="BlazePose's landmark model: full (in mediapipe's wheel) or heavy (more accurate, slower; "
        "installed once by `make pose-heavy`)",
    )
    rotation_search: Literal["off", "auto", "all"] = Field(
        "all",
        description="ask the detector about the frame turned by 0/90/180/270 deg: on every frame, only on "
        "missing/weak/tilted/jumping ones (auto), or never",
    )
    weak_confidence: float = Field(0.5, ge=0, le=1, description="auto: a result below this mean confidence is searched")
    tilt_degrees: float = Field(30.0, ge=0, le=180, description="auto: a torso tilted more than this is searched")
    actor: Literal["nearest", "largest"] = Field("nearest", description="which person to follow in a multi-person clip")
    max_jump: float = Field(
        0.25,
        gt=0,
        description="a pose further than this x the actor's height x sqrt(frames "
        "since last seen, counted at 30 fps) from the actor is someone else",
    )
    lost_frames: int = Field(
        30,
        ge=1,
        description="after this many frames (counted at 30 fps: 30 = 1 s) without the actor, anyone becomes the actor",
    )
    consensus_weight: float = Field(
        3.0, ge=0, description="score penalty per body height of disagreement with the other candidates"
    )
    temporal_weight: float = Field(1.0, ge=0, description="score penalty per body height of distance to the last pose")
    crop_scales: list[float] = Field(
        [2.0, 3.0],
        description="when the actor is lost: crops centred where their "
        "motion predicts them, this many times their height "
        "across, each searched at every turn",
    )
    appearance_weight: float = Field(
        1.0,
        ge=0,
        description="score penalty per unit of colour distance (0 same, 1 "
        "disjoint) between a candidate's torso and the actor's",
    )
    fuse_radius: float = Field(
        0.1,
        ge=0,
        le=1,
        description="the chosen pose's keypoints (2D and 3D) are averaged "
        "with the candidates within this many body heights of it "
        "(the same person, turned or cropped); 0: not fused",
    )
    mask_others: bool = Field(
        True,
        description="when the actor is lost: paint out the people the search found "
        "instead (someone else) and search the frame again",
    )


class PoseParams(TrackSettings):
    """Stage 1, pose estimation: the tracking settings and the stage's outputs."""

    clips: list[str] = selection(
        default_factory=list, description="clips (keys of `clips`) to estimate poses on; one DVC stage pose@<clip> each"
    )
    pck_threshold: float = Field(0.05, gt=0, le=1, description="PCK: share of keypoints within this x body size")
    overlay_video: bool = Field(True, description="write an mp4 of the clip with the poses drawn on it")
    contact_sheet_frames: int = Field(8, ge=2, le=32, description="frames shown on the contact sheet")
