"""What every stage's settings share: the section base (unknown keys refused, values frozen), the clips'
entries (a video or a mocap, with a rendered clip's camera and body) and the seed."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from sfv.assets import available_mocap, setting_names
from sfv.paths import CLIPS


def named_file(name: str, folder: str, what: str, excluded: str | None = None, why: str = "") -> str:
    """Check that `sfv/<folder>/<name>.yaml` exists (characters, terrains are files referenced by name) and, with
    `excluded`, that it is not that one (`why` says why, the error lists the others)."""
    known = setting_names(folder)
    if name not in known:
        raise ValueError(f"no {what} {name!r} in sfv/{folder}/; known: {', '.join(known)}")
    if name == excluded:
        raise ValueError(f"{what} {name!r} {why}: name another ({', '.join(n for n in known if n != excluded)})")
    return name


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def overrides_of(model: type[Section]) -> type[Section]:
    """The same fields as `model`, each optional (None = keep the default it overrides), same checks and
    descriptions: how a clip's entry overrides the render section without a second list of fields."""
    fields = {
        name: (Optional[f.annotation], FieldInfo.merge_field_infos(f, default=None))
        for name, f in model.model_fields.items()
    }
    return create_model(
        f"{model.__name__}Override", __base__=Section, __doc__=f"Optional overrides of {model.__name__}.", **fields
    )


def selection(default: Any = None, default_factory: Any = None, **kwargs: Any) -> Any:
    """A field the project chooses rather than tunes (which clips, characters, runs): the one kind of value in
    params.yaml that need not equal its schema default (tests/test_config.py holds every other one to it)."""
    if default_factory is not None:
        return Field(default_factory=default_factory, json_schema_extra={"selection": True}, **kwargs)
    return Field(default, json_schema_extra={"selection": True}, **kwargs)


def record_defaults(model: type[BaseModel]) -> dict:
    """`model`'s defaults as a run's record (a policy's run.json) reads them. A setting the kit gained after the run
    is absent from its record, and the run behaved as before the setting existed: a field that says so
    (`json_schema_extra={"absent_means": value}`, where today's default differs from that) takes that value."""
    out = model().model_dump(mode="json")
    for name, f in model.model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if "absent_means" in extra:
            out[name] = extra["absent_means"]
    return out


def from_record(model: type[BaseModel], recorded: dict) -> Any:
    """The settings a run was recorded with (its run.json section), the ones it lacks as `record_defaults` says."""
    return model.model_validate({**record_defaults(model), **recorded})


class BaseParams(Section):
    seed: int = Field(0, ge=0, description="seed for every random generator of every stage")


# --- inputs -----------------------------------------------------------------------------------------
class CameraParams(Section):
    """The fixed camera that films a rendered clip (sfv.render.gt_clip.frame_camera)."""

    distance: float = Field(3.5, gt=0.5, le=50, description="metres from the middle of the hips' path")
    elevation: float = Field(10.0, ge=-80, le=80, description="degrees above the horizon")
    azimuth: float = Field(-60.0, ge=-360, le=360, description="degrees around the vertical; 0 looks along -x")
    fov: float = Field(45.0, ge=5, le=120, description="vertical field of view, degrees")
    roll: float = Field(
        0.0,
        ge=-45,
        le=45,
        description="degrees the camera is turned about its optical axis (0 = "
        "level: the horizon horizontal in the image)",
    )
    follow: float = Field(
        0.0,
        ge=0,
        le=1,
        description="0: a fixed camera; above 0 it stays in place but pans and "
        "tilts to follow the hips, this share of the way (1 keeps them "
        "centred)",
    )


class BodyParams(Section):
    """anny's phenotype, each in [0, 1]; unset is anny's average adult (gender: 0 male, 1 female; age 0.5 young
    adult)."""

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


class SceneTruth(Section):
    """A rendered clip's known scene (sfv.render.platform): ground the video shows besides the flat floor."""

    platform: float = Field(
        0.0,
        ge=0,
        le=2,
        description="metres: the clip starts on a platform this high and drops off it in its first flight "
        "(a clip with a flight: jump); 0 = flat floor",
    )
    edge_margin: float = Field(
        0.15,
        ge=0,
        le=1,
        description="metres from the take-off ankles to the platform's edge (the toes at the edge)",
    )


class ClipParams(Section):
    """One input clip: a video in its own folder `data/clips/<clip>/`, or `mocap:<name>` to render from
    pybullet_data mocap (the render stage then fills that folder)."""

    source: str = Field(description="`data/clips/<clip>/<file>.mp4` or `mocap:<name>`")
    frames: tuple[int, Optional[int]] = Field((0, None), description="[first, end) frame range; end null = to the end")
    fps: float = Field(30.0, gt=0, description="frame rate the stage works at")
    character: str = Field("humanoid", description="character file under sfv/characters/")
    notes: str = ""
    camera: CameraOverride = Field(CameraOverride(), description="rendered clips: overrides of render.camera")
    body: BodyParams = Field(BodyParams(), description="rendered clips: overrides of render.body")
    width: Optional[int] = Field(
        None, ge=64, le=3840, multiple_of=2, description="rendered clips: the video's width, overrides render.width"
    )
    height: Optional[int] = Field(
        None, ge=64, le=3840, multiple_of=2, description="rendered clips: the video's height, overrides render.height"
    )
    scene: SceneTruth = Field(SceneTruth(), description="rendered clips: a known scene under the motion")
    roll_from: Optional[Literal["scene"]] = Field(
        None,
        description="the camera's roll about its axis: null = none (reconstruct.level_camera); `scene` = read from the "
        "vertical edges of walls, door frames and posts in view (sfv/reconstruct/scene_roll.py), for a camera that "
        "was not held level",
    )
    pitch_from: Optional[Literal["scene"]] = Field(
        None,
        description="the level camera's pitch: null = from the torso, re-pitched so that the feet at rest share one "
        "height (reconstruct.still_foot_speed); `scene` = read from the horizontal edges in view, two perpendicular "
        "sets of them (floor tiles, a box, steps; sfv/reconstruct/scene_pitch.py), for a clip on two levels filmed "
        "from in front, whose feet cannot tell it",
    )
    cycles: int = Field(
        1,
        ge=1,
        description="rendered clips: a looping mocap played this many times in a row, as a video of several "
        "strides shows it (imitate.clips.<clip>.frames can then take a middle cycle, with strides on both sides)",
    )

    @property
    def is_mocap(self) -> bool:
        return self.source.startswith("mocap:")

    @property
    def mocap(self) -> str:
        """The mocap clip a rendered clip plays."""
        return self.source.removeprefix("mocap:")

    @property
    def video_frames(self) -> tuple[int, Optional[int]]:
        """[first, end) of the clip's video that the stages read. `frames` is applied once: a real video is cut
        here, while a rendered clip's video already holds only its range (the render cut it from the mocap), so
        it is read whole."""
        return (0, None) if self.is_mocap else self.frames

    @field_validator("source")
    @classmethod
    def _source_form(cls, v: str) -> str:
        if not (v.startswith("mocap:") or v.startswith(f"{CLIPS.as_posix()}/")):
            raise ValueError(
                f"must be `mocap:<name>` or a video in the clip's folder under `{CLIPS.as_posix()}/` "
                f"(e.g. {CLIPS.as_posix()}/my_jump/my_jump.mp4)"
            )
        if v.startswith("mocap:") and v.removeprefix("mocap:") not in available_mocap():
            raise ValueError(f"no mocap clip {v.removeprefix('mocap:')!r}; available: {', '.join(available_mocap())}")
        return v

    @field_validator("character")
    @classmethod
    def _character_exists(cls, v: str) -> str:
        return named_file(v, "characters", "character")

    @model_validator(mode="after")
    def _range(self):
        first, end = self.frames
        if first < 0 or (end is not None and end <= first):
            raise ValueError(f"frames {list(self.frames)}: need 0 <= first < end (or end null)")
        if not self.is_mocap and (
            self.camera != CameraOverride()
            or self.body != BodyParams()
            or self.width is not None
            or self.height is not None
            or self.scene != SceneTruth()
            or self.cycles != 1
        ):
            raise ValueError(
                "camera, body, width, height, scene and cycles only apply to clips rendered from mocap (source "
                "`mocap:<name>`); a real video has its own camera, size and person: remove them from "
                "this entry"
            )
        return self


ClipName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$")]
