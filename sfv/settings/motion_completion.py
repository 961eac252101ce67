"""The motion completion stage's settings."""

from __future__ import annotations

from typing import Optional

from pydantic import Field, model_validator

from sfv.settings.common import Section, selection


class CompletionModelSettings(Section):
    """The small network of motion completion (sfv.completion.model.CompletionMLP)."""

    hidden: list[int] = Field([256, 256], min_length=1, description="hidden layer widths")
    epochs: int = Field(600, ge=1, le=100000, description="full-batch Adam steps")
    learning_rate: float = Field(1e-3, gt=0, le=1)
    input_noise: float = Field(0.02, ge=0, le=0.5, description="noise on the input poses while training (m)")


class CompletionShowcase(Section):
    """The still shown continued by a policy in the notebook."""

    clip: Optional[str] = selection(
        None,
        description="a rendered clip in reconstruct.clips: its frame is the still "
        "(null: the first rendered clip there)",
    )
    frame: int = Field(6, ge=0, description="the still's frame in the clip's reconstruction (at the library rate)")
    seconds: float = Field(4.0, gt=0, le=60, description="how long the policy continues the still")


class MotionCompletionParams(Section):
    """Motion completion from a single image (the paper's section; notebook 10)."""

    fps: float = Field(30.0, gt=0, le=240, description="the library's common frame rate")
    horizon_seconds: float = Field(0.5, gt=0, le=5, description="how far the completion looks ahead")
    step_seconds: float = Field(0.1, gt=0, le=5, description="spacing of the completion's steps")
    stride: int = Field(2, ge=1, description="a still every this many frames of each rendered clip")
    model: CompletionModelSettings = CompletionModelSettings()
    showcase: CompletionShowcase = CompletionShowcase()

    @model_validator(mode="after")
    def _steps_within_horizon(self):
        if self.step_seconds > self.horizon_seconds:
            raise ValueError(
                f"step_seconds ({self.step_seconds}) is longer than horizon_seconds "
                f"({self.horizon_seconds}); make it at most the horizon"
            )
        return self
