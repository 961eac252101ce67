"""The schema of a character file (`sfv/characters/<name>.yaml`): what kinematics, the simulator, the reward and
the reconstruction read from it. It is checked when the character is loaded, so a misspelt key or body name is an
error naming the file and the key, not a joint that silently gets no PD gains or no pose weight."""

from __future__ import annotations

import difflib
from typing import Literal, Optional

from pydantic import ConfigDict, Field, ValidationError

from sfv.settings.common import Section


class PDGains(Section):
    """One joint's PD controller (DeepMimic's character file)."""

    kp: float = Field(ge=0, description="stiffness (N·m/rad)")
    kd: float = Field(ge=0, description="damping (N·m·s/rad)")
    torque_limit: float = Field(gt=0, description="largest torque the joint applies (N·m)")


class RetargetMap(Section):
    """How a motion on another character (`from`) is carried onto this one (sfv.retarget checks the names
    against both skeletons)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from", description="the character the motions come from")
    root: Optional[str] = Field(None, description="the source body the root follows (null: its first body)")
    bodies: dict[str, str] = Field({}, description="this character's body -> the source body it follows")
    segments: list[list[str]] = Field(
        [], description="[body, body, source body, source body]: a limb segment pointed along the source's"
    )
    orient: dict[str, str] = Field(
        {}, description="this character's body -> the source body whose orientation it takes (the feet among them)"
    )
    sole: list[list[float]] = Field([], description="the sole's corners in the foot frame")


class CharacterFile(Section):
    """A character: its URDF, how pybullet loads it, its PD controller, reward weights and keypoint map."""

    name: str
    urdf: str = Field(description='the URDF, beside the file or "pybullet_data:<path>"')
    scale: float = Field(gt=0, description="pybullet's globalScaling")
    up_axis: Literal["x", "y", "z"]
    inertia: Literal["shapes", "file"] = Field(
        "shapes", description="shapes: pybullet derives the moments from the collision shapes; file: the URDF's own"
    )
    root_height: float = Field(gt=0, description="metres the root is spawned at, standing")
    end_effectors: list[str] = Field([], description="bodies of the reward's end-effector term")
    feet: list[str] = Field(min_length=1, description="bodies allowed to touch the ground")
    pd: dict[str, PDGains] = Field(description="each joint's PD gains, by body name")
    pose_weights: dict[str, float] = Field(
        {}, description="each joint's weight in the pose reward (`root` for the root's orientation)"
    )
    keypoints: Optional[dict[str, list[str]]] = Field(
        None, description="body -> the BlazePose landmarks standing for it (characters reconstructed from video)"
    )
    foot_height: Optional[float] = Field(None, gt=0, description="the ankle joint above the ground, standing")
    retarget: Optional[RetargetMap] = None


class CharacterFileError(ValueError):
    """A character file that does not fit its schema or its URDF; the message names the file and the key."""


def check_character_file(data: object, where: str) -> CharacterFile:
    """The file's content, validated; CharacterFileError listing every problem otherwise."""
    try:
        return CharacterFile.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = ".".join(str(x) for x in err["loc"]) or "(top level)"
            model = _model_at(err["loc"][:-1])
            known = [f.alias or n for n, f in model.model_fields.items()] if model else []
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
                hint = f" — did you mean {close[0]!r}?" if close else ""
                problems.append(f"{where}: unknown key {key!r}{hint} (allowed here: {', '.join(known)})")
            else:
                field = (
                    next((f for n, f in model.model_fields.items() if (f.alias or n) == err["loc"][-1]), None)
                    if model
                    else None
                )
                meaning = f" [{err['loc'][-1]}: {field.description}]" if field and field.description else ""
                problems.append(f"{where}: {key}: {err['msg']}{meaning}")
        raise CharacterFileError("\n".join(problems)) from None


def _model_at(loc: tuple) -> type[Section] | None:
    """The schema model of the mapping at `loc` in a character file."""
    if len(loc) == 2 and loc[0] == "pd":
        return PDGains
    return {(): CharacterFile, ("retarget",): RetargetMap}.get(tuple(loc))


def check_body_names(character: CharacterFile, bodies: list[str], where: str) -> None:
    """Every body the file names is one of the URDF's (`bodies`): a misspelt joint would otherwise get no PD gains
    or no pose weight without a word."""
    named = [(f"end_effectors[{i}]", n) for i, n in enumerate(character.end_effectors)]
    named += [(f"feet[{i}]", n) for i, n in enumerate(character.feet)]
    named += [(f"pd.{n}", n) for n in character.pd]
    named += [(f"pose_weights.{n}", n) for n in character.pose_weights if n != "root"]
    named += [(f"keypoints.{n}", n) for n in character.keypoints or {}]
    problems = []
    for key, name in named:
        if name not in bodies:
            close = difflib.get_close_matches(name, bodies, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            problems.append(f"{where}: {key}: {name!r} is not one of its bodies{hint} ({', '.join(bodies)})")
    if problems:
        raise CharacterFileError("\n".join(problems))
