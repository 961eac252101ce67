"""The irregular terrain stage's settings."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from sfv.settings.common import Section, named_file, selection
from sfv.settings.imitate import HeightmapSettings


class TerrainRun(Section):
    """One skill on one terrain: the clip's policy from video (trained on flat ground by `imitate`) is the baseline
    and the starting point of the terrain policy."""

    clip: str = Field(description="a clip in imitate.clips")
    terrain: str = Field(description="a terrain file under sfv/terrains/ other than flat ground")

    @field_validator("terrain")
    @classmethod
    def _irregular(cls, v: str) -> str:
        return named_file(v, "terrains", "terrain", "flat", "is the ground the clip's policy already learned on")

    @property
    def name(self) -> str:
        return f"{self.clip}_{self.terrain}"


class TerrainEvaluation(Section):
    seeds: list[int] = Field(
        [0, 1, 2, 3, 4],
        min_length=1,
        description="terrains (and episode shifts) both policies are evaluated on: the same for both",
    )
    seconds: float = Field(10.0, gt=0, description="length of each deterministic evaluation rollout")
    video: bool = Field(True, description="render both policies on the first seed's terrain (mp4)")
    width: int = Field(640, ge=64, multiple_of=16)
    height: int = Field(384, ge=64, multiple_of=16)


class IrregularTerrainParams(Section):
    """Skills learned from video on flat ground, carried over irregular terrain (the paper's experiment; notebook
    05)."""

    runs: list[TerrainRun] = selection(default_factory=list, description="(clip, terrain) pairs")
    budget: int = Field(1_000_000, ge=1, description="samples each terrain policy trains on, from its flat policy")
    heightmap: HeightmapSettings = Field(
        HeightmapSettings(enabled=True), description="what the terrain policy sees of the ground around it"
    )
    evaluation: TerrainEvaluation = TerrainEvaluation()

    @field_validator("heightmap")
    @classmethod
    def _on(cls, v: HeightmapSettings) -> HeightmapSettings:
        if not v.enabled:
            raise ValueError(
                "heightmap.enabled must be true: a terrain policy sees the ground (the flat policy, its "
                "baseline, is the one without)"
            )
        return v

    @model_validator(mode="after")
    def _unique(self):
        names = [r.name for r in self.runs]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"runs: {repeated} appear more than once")
        return self
