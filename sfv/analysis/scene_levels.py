"""The ground under every reconstructed clip, as `sfv.imitate.scene` recovers it: how many levels, at what heights,
when the body stood on each; or why no scene explains the clip. Notebook 07 shows it; a flat clip must come out as
one level (no false walls), a clip filmed on a wall as two, and a clip rendered on a known platform is scored
against it (its height, its edge)."""

from __future__ import annotations

from sfv import paths
from sfv.imitate.reference_clip import load_reference, standing_foot_height
from sfv.imitate.scene import Scene, SceneError, find_scene
from sfv.motion import Motion
from sfv.render.ground_truth import load_gt


def clip_scene_row(params, clip: str) -> dict:
    """One clip's levels from its reconstruction (data/motions/<clip>.npz), or the refusal's message."""
    motion = load_reference(paths.reconstructed_motion(clip, ".npz"), clip)
    # the parts besides the feet that may bear weight: the env's and the clip's own (a cartwheel's hands)
    feet = motion.skeleton.settings["feet"]
    allowed = [b for b in params.imitate.for_clip(clip).env.ground_contacts if b not in feet]
    entry = params.clips[clip]
    row = {"clip": clip, "kind": "rendered" if entry.is_mocap else "real", "frames": motion.n_frames}
    known = entry.is_mocap and entry.scene.platform > 0
    if known:  # scored below; a refusal keeps the truth beside it
        row |= {"truth_heights_m": [0.0, round(entry.scene.platform, 3)], "height_error_m": None, "edge_error_m": None}
    try:
        scene = find_scene(motion, standing_foot_height(motion.skeleton), allowed, clip=clip)
    except SceneError as e:
        return row | {"levels": None, "refused": str(e)}
    ground = scene.levels[0].height
    row |= {
        "levels": len(scene.levels),
        "heights_m": [round(lv.height - ground, 3) for lv in scene.levels],
        "level_frames": [list(lv.frames) for lv in scene.levels],
        "planted_frames": [lv.planted_frames for lv in scene.levels],
        "refused": None,
    }
    if known:
        row |= platform_errors(scene, motion, load_gt(paths.ground_truth(clip)))
    return row


def platform_errors(scene: Scene, motion: Motion, truth: dict) -> dict:
    """A clip rendered on a known platform (`sfv.render.platform`): the recovered levels against it. The height is
    the top level's above the ground; the edge is where the top level ends along the travel, measured from the root
    at the last frame the body stood on it (each in its own world: the reconstruction's is not the source's)."""
    height = float(truth["scene_platform_height"])
    out = {"truth_heights_m": [0.0, round(height, 3)], "height_error_m": None, "edge_error_m": None}
    if motion.n_frames != len(truth["source_root_pos"]):
        raise ValueError(
            f"clip {truth['clip']!s}: the reconstruction has {motion.n_frames} frames, its ground truth "
            f"{len(truth['source_root_pos'])}; re-run `dvc repro reconstruct@{truth['clip']!s}`"
        )
    if len(scene.levels) != 2:
        return out  # no top level to score: the row's level count says what was found
    ground, top = scene.levels
    last = top.frames[1]
    forward = truth["scene_platform_forward"]
    truth_edge = float(truth["scene_platform_edge"]) - float(truth["source_root_pos"][last] @ forward)
    found_edge = top.u[1] - float(motion.root_pos[last] @ scene.forward)
    return out | {
        "height_error_m": round(abs(top.height - ground.height - height), 3),
        "edge_error_m": round(abs(found_edge - truth_edge), 3),
    }


def scene_rows(params) -> list[dict]:
    """Every reconstructed clip's row, in reconstruct.clips' order."""
    return [clip_scene_row(params, clip) for clip in params.reconstruct.clips]


def rendered_not_flat(rows: list[dict]) -> list[str]:
    """The rendered clips filmed on the render's flat floor that did not come out as exactly one level: false
    walls, or a refusal."""
    return [r["clip"] for r in rows if r["kind"] == "rendered" and "truth_heights_m" not in r and r["levels"] != 1]
