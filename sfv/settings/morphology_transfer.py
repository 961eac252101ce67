"""The morphology transfer stage's settings: retargeting and training on other characters."""

from __future__ import annotations

from pydantic import Field, field_validator

from sfv.settings.common import Section, named_file, selection


class RetargetSettings(Section):
    """Retargeting a motion to another character (sfv.retarget): one Adam optimisation over all frames."""

    iterations: int = Field(800, ge=1, description="Adam steps")
    learning_rate: float = Field(0.1, gt=0)
    orientation_weight: float = Field(0.3, ge=0, description="feet, torso and root orientation against positions")
    ground_weight: float = Field(100.0, ge=0, description="soles under the ground")
    smoothness_weight: float = Field(10.0, ge=0, description="joint and root accelerations")


class MorphologyEvaluation(Section):
    seconds: float = Field(10.0, gt=0, description="length of the deterministic evaluation rollout")
    width: int = Field(480, ge=64, multiple_of=16, description="width of each character's view in the video")
    height: int = Field(288, ge=64, multiple_of=16)


class MorphologyTransferParams(Section):
    """The clips' motions from video on another character (the paper's Atlas; notebook 08)."""

    characters: list[str] = selection(
        default_factory=lambda: ["atlas"],
        min_length=1,
        description="character files under sfv/characters/ with a retarget section",
    )
    clips: list[str] = selection(
        default_factory=list,
        description="clips in imitate.clips: their video reference is retargeted and learned by each character",
    )
    total_timesteps: int = Field(2_000_000, ge=1, description="samples each clip's policy trains on")
    retarget: RetargetSettings = RetargetSettings()
    evaluation: MorphologyEvaluation = MorphologyEvaluation()

    @field_validator("characters")
    @classmethod
    def _other_bodies(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"names a character twice: {v}")
        return [
            named_file(c, "characters", "character", "humanoid", "is the body the clips were reconstructed on")
            for c in v
        ]
