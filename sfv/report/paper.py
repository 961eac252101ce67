"""Published figures the report sets beside the kit's, each with where it comes from.

Only figures checked against their source are here (`../shared/REFERENCE.md` records what was checked). The
SFV paper's own tables (normalised returns per skill, ASI against uniform initialisation, the retargeting
and terrain results) are not in the kit's checked references, so the report names the paper's table for
each of those quantities and leaves the value empty rather than quoting a figure from memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from sfv.markdown import markdown_table


@dataclass(frozen=True)
class PaperFigure:
    quantity: str
    value: str | None  # None: the source's value is not in the kit's checked references
    source: str


#: report section -> the published figures for the same quantities
PAPER: dict[str, tuple[PaperFigure, ...]] = {
    "reconstruction": (
        PaperFigure(
            "optimisation",
            "Adam, lr 1e-3, 300 iterations over the whole clip",
            "SFV official code (akanazawa/motion_reconstruction, src/config.py)",
        ),
        PaperFigure(
            "loss weights",
            "2D 10, 3D consistency 100, joint smoothness 25, camera smoothness 1, shape 0.5",
            "SFV official code (src/config.py, src/refiner.py)",
        ),
    ),
    "imitation": (
        PaperFigure("samples per skill", "about 60 M", "DeepMimic (Peng et al. 2018), the framework SFV trains with"),
        PaperFigure("wall-clock per skill", "about a day on 16 workers", "DeepMimic (Peng et al. 2018)"),
        PaperFigure("normalised return per skill", None, "SFV, Table 1 (per-skill performance statistics)"),
    ),
    "asi": (PaperFigure("ASI against uniform RSI", None, "SFV, the table comparing ASI with RSI"),),
    "morphology": (
        PaperFigure("Atlas retargeted skills", "backflip, handspring, dance, vault (shown)", "SFV project page"),
    ),
    "terrain": (
        PaperFigure(
            "skills on irregular terrain",
            "backflip on slopes, cartwheel across gaps (shown)",
            "SFV paper (Fig. 1) and project page",
        ),
    ),
}


def markdown(section: str) -> str:
    """The section's published figures as a markdown table ('' when the paper has none for it)."""
    figures = PAPER.get(section, ())
    if not figures:
        return ""
    return markdown_table(
        ["quantity", "published", "source"],
        (
            [f.quantity, f.value if f.value is not None else "not in the kit’s checked references", f.source]
            for f in figures
        ),
    )
