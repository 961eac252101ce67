"""The motion library stage's settings: which mocap clips it converts."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, field_validator

from sfv.assets import available_mocap
from sfv.settings.common import Section, selection


class MotionLibraryParams(Section):
    clips: Union[Literal["all"], list[str]] = selection("all", description='"all" or a list of mocap clip names')
    contact_sheet_frames: int = Field(8, ge=2, le=32, description="stick figures per contact sheet")

    @field_validator("clips")
    @classmethod
    def _known(cls, v):
        unknown = [] if v == "all" else sorted(set(v) - set(available_mocap()))
        if unknown:
            raise ValueError(f"unknown mocap clips {unknown}; available: {', '.join(available_mocap())}")
        return v
