"""The ground under every reconstructed clip, as `sfv.imitate.scene` recovers it: how many levels, at what heights,
when the body stood on each; or why no scene explains the clip. Notebook 07 shows it; a flat clip must come out as
one level (no false walls), a clip filmed on a wall as two."""

from __future__ import annotations

from sfv import paths
from sfv.imitate.reference_clip import load_reference, standing_foot_height
from sfv.imitate.scene import SceneError, find_scene


def clip_scene_row(params, clip: str) -> dict:
    """One clip's levels from its reconstruction (data/motions/<clip>.npz), or the refusal's message."""
    motion = load_reference(paths.reconstructed_motion(clip, ".npz"), clip)
    # the parts besides the feet that may bear weight: the env's and the clip's own (a cartwheel's hands)
    feet = motion.skeleton.settings["feet"]
    allowed = [b for b in params.imitate.for_clip(clip).env.ground_contacts if b not in feet]
    row = {"clip": clip, "kind": "rendered" if params.clips[clip].is_mocap else "real", "frames": motion.n_frames}
    try:
        scene = find_scene(motion, standing_foot_height(motion.skeleton), allowed, clip=clip)
    except SceneError as e:
        return row | {"levels": None, "refused": str(e)}
    ground = scene.levels[0].height
    return row | {
        "levels": len(scene.levels),
        "heights_m": [round(lv.height - ground, 3) for lv in scene.levels],
        "level_frames": [list(lv.frames) for lv in scene.levels],
        "planted_frames": [lv.planted_frames for lv in scene.levels],
        "refused": None,
    }


def scene_rows(params) -> list[dict]:
    """Every reconstructed clip's row, in reconstruct.clips' order."""
    return [clip_scene_row(params, clip) for clip in params.reconstruct.clips]


def rendered_not_flat(rows: list[dict]) -> list[str]:
    """The rendered clips (filmed on the render's flat floor) that did not come out as exactly one level: false
    walls, or a refusal."""
    return [r["clip"] for r in rows if r["kind"] == "rendered" and r["levels"] != 1]
