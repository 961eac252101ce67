"""params.yaml: the sections put together, and a loader whose errors name the file, the key, the line and the fix.

One section per DVC stage (its schema in `sfv.settings.<stage>`), a `base` section shared by all, and the `clips`
map. Each setting is defined once, in its section's module, with its default (the shipped value: params.yaml
sets the same), its range and its meaning; `sfv` functions take these models themselves (a stage section extends
the settings model of the code it drives, e.g. `PoseParams(TrackSettings)`), so values are checked once, when the
file is loaded. Checks across sections (a clip named by a stage must be registered) live here. A notebook gets
only the path of the file and its clip (`sfv.notebook`), and reads its section with `load_params`.
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError, model_validator

from sfv.paths import clip_dir
from sfv.settings.cluster import ClusterParams  # noqa: F401
from sfv.settings.common import (  # noqa: F401  (re-exported: the one place to import a section from)
    BaseParams,
    BodyParams,
    CameraOverride,
    CameraParams,
    ClipName,
    ClipParams,
    Section,
    named_file,
    overrides_of,
    selection,
)
from sfv.settings.imitate import (  # noqa: F401
    ASISettings,
    EnvSettings,
    EvaluationParams,
    HeightmapSettings,
    ImitateClip,
    ImitateParams,
    PPOSettings,
    ReferenceChecks,
    RewardParams,
    RewardTerms,
)
from sfv.settings.irregular_terrain import (  # noqa: F401
    IrregularTerrainParams,
    TerrainEvaluation,
    TerrainRun,
)
from sfv.settings.morphology_transfer import (  # noqa: F401
    MorphologyEvaluation,
    MorphologyTransferParams,
    RetargetSettings,
)
from sfv.settings.motion_completion import (  # noqa: F401
    CompletionModelSettings,
    CompletionShowcase,
    MotionCompletionParams,
)
from sfv.settings.motion_library import MotionLibraryParams  # noqa: F401
from sfv.settings.pose import PoseParams, TrackSettings  # noqa: F401
from sfv.settings.reconstruct import (  # noqa: F401
    FitSettings,
    FitWeights,
    ReconstructParams,
    TargetSettings,
)
from sfv.settings.render import RenderParams, RenderSettings  # noqa: F401
from sfv.settings.report import ReportParams  # noqa: F401

DEFAULT_PARAMS = Path("params.yaml")


class ParamsError(ValueError):
    """params.yaml does not fit the schema; the message says where and what is expected."""


# --- the file ---------------------------------------------------------------------------------------
class Params(Section):
    base: BaseParams = BaseParams()
    clips: dict[ClipName, ClipParams] = selection(default_factory=dict)
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
            raise ValueError(
                f"{key} names {unknown}, which are not in `clips` "
                f"(registered: {', '.join(self.clips) or 'none'}); add an entry under `clips` first"
            )

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
                raise ValueError(
                    f"clips.{name}.source: {clip.source!r} is not in the clip's own folder: put the "
                    f"video in {folder.as_posix()}/ (e.g. {(folder / Path(clip.source).name).as_posix()}) "
                    "and set source to that path; each clip's stages then depend on its folder only"
                )
        return self

    @model_validator(mode="after")
    def _stage_clips_registered(self):
        self._mocap_clips_only(
            "render.clips", self.render.clips, "only `mocap:<name>` clips are rendered (a video is already a video)"
        )
        self._registered("pose.clips", self.pose.clips)
        self._registered("reconstruct.clips", self.reconstruct.clips)
        missing = [c for c in self.reconstruct.clips if c not in self.pose.clips]
        if missing:
            raise ValueError(f"reconstruct.clips {missing} have no poses: add them to pose.clips too")
        unrendered = [c for c in self.pose.clips if self.clips[c].is_mocap and c not in self.render.clips]
        if unrendered:
            raise ValueError(
                f"pose.clips {unrendered} are rendered from mocap but not in render.clips: add them there "
                "too (their video is the render)"
            )
        self._registered("imitate.clips", list(self.imitate.clips))
        unreconstructed = [c for c in self.imitate.clips if c not in self.reconstruct.clips]
        if unreconstructed:
            raise ValueError(
                f"imitate.clips {unreconstructed} have no reconstructed motion to imitate: add them to "
                "reconstruct.clips (and pose.clips) too"
            )
        self._mocap_clips_only(
            "imitate.oracle_clips",
            self.imitate.oracle_clips,
            "an oracle policy tracks the ground-truth mocap, which only a `mocap:` clip has",
        )
        unlearned = [c for c in self.morphology_transfer.clips if c not in self.imitate.clips]
        if unlearned:
            raise ValueError(
                f"morphology_transfer.clips {unlearned} have no policy from video whose reference to "
                "retarget: add them to imitate.clips"
            )
        untrained = [r.clip for r in self.irregular_terrain.runs if r.clip not in self.imitate.clips]
        if untrained:
            raise ValueError(
                f"irregular_terrain.runs: clips {untrained} have no policy from video to carry over: add "
                "them to imitate.clips"
            )
        show = self.motion_completion.showcase.clip
        if show is not None and (show not in self.reconstruct.clips or not self.clips[show].is_mocap):
            raise ValueError(
                f"motion_completion.showcase.clip: {show!r} must be a clip rendered from mocap and in "
                f"reconstruct.clips (its truth scores the completion); rendered and reconstructed: "
                f"{', '.join(c for c in self.reconstruct.clips if self.clips[c].is_mocap) or 'none'}"
            )
        return self


#: stage name -> the model of its section
STAGE_SECTIONS: dict[str, type[Section]] = {
    "motion_library": MotionLibraryParams,
    "render": RenderParams,
    "pose": PoseParams,
    "reconstruct": ReconstructParams,
    "imitate": ImitateParams,
    "motion_completion": MotionCompletionParams,
    "morphology_transfer": MorphologyTransferParams,
    "irregular_terrain": IrregularTerrainParams,
    "report": ReportParams,
}


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
    """The schema model of the mapping at `loc` in params.yaml, looking through maps keyed by name (`clips`,
    `imitate.clips`) to the model of their entries; None where `loc` is not a model."""
    model: Any = Params
    for key in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            if typing.get_origin(model) is dict:  # `key` names an entry: its model is the map's value type
                model = typing.get_args(model)[1]
                continue
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
