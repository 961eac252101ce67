"""The render stage's settings: how a ground-truth clip is rendered from mocap."""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from sfv.settings.common import BodyParams, CameraParams, ClipParams, Section, selection


class _Picture(Section):
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

    clips: list[str] = selection(
        default_factory=list, description="mocap clips (keys of `clips`) to render; one DVC stage render@<clip> each"
    )
    contact_sheet_frames: int = Field(8, ge=2, le=32, description="video frames shown on the contact sheet")

    def for_clip(self, clip: ClipParams) -> RenderSettings:
        """The clip's settings: these defaults overridden by the clip's own camera/body entries."""
        camera = self.camera.model_copy(update=clip.camera.model_dump(exclude_none=True))
        body = self.body.model_copy(update=clip.body.model_dump(exclude_none=True))
        return RenderSettings(
            width=clip.width or self.width,
            height=clip.height or self.height,
            camera=camera,
            body=body,
            fps=clip.fps,
            frames=clip.frames,
        )
