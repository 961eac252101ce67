"""The report stage's settings."""

from __future__ import annotations

from pydantic import Field

from sfv.settings.common import Section


class ReportParams(Section):
    """The results report (notebook 11): rollout GIFs for the HTML page and the README."""

    gif_seconds: float = Field(4.0, gt=0, le=30, description="length of each rollout GIF (seconds from the start)")
    gif_fps: float = Field(15.0, gt=0, le=30, description="frame rate of the GIFs (frames are taken from the video's)")
    gif_width: int = Field(720, ge=64, le=1920, description="width of the GIFs in pixels (aspect kept)")
