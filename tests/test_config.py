"""params.yaml schema: the shipped file loads; mistakes are reported with file, line, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfv.config import ParamsError, load_params
from sfv.notebook import notebook_parameters
from sfv.settings.imitate import PhysicalOverride

ROOT = Path(__file__).resolve().parents[1]


def _params(tmp_path, text):
    p = tmp_path / "params.yaml"
    p.write_text(text)
    return p


def test_shipped_params_load():
    p = load_params(ROOT / "params.yaml")
    assert p.base.seed == 0
    assert {"walk", "backflip", "cartwheel"} <= set(p.clips)
    assert all(c.source.startswith(("mocap:", "data/clips/")) for c in p.clips.values())
    videos = [(name, c.source) for name, c in p.clips.items() if not c.is_mocap]
    assert videos and all(
        source.startswith(f"data/clips/{name}/") and (ROOT / source).is_file() for name, source in videos
    )


def test_typo_in_section_name(tmp_path):
    with pytest.raises(
        ParamsError, match=r"params.yaml:3: unknown key 'motion_libary' — did you mean 'motion_library'"
    ):
        load_params(_params(tmp_path, "base:\n  seed: 1\nmotion_libary:\n  clips: all\n"))


def test_typo_inside_section(tmp_path):
    with pytest.raises(
        ParamsError, match=r":3: unknown key 'motion_library.contact_sheet_frame' — did you mean 'contact_sheet_frames'"
    ):
        load_params(_params(tmp_path, "motion_library:\n  clips: all\n  contact_sheet_frame: 4\n"))


def test_wrong_type_names_key_and_line(tmp_path):
    with pytest.raises(ParamsError, match=r":2: base.seed: .*integer.*\(got 'zero'\)"):
        load_params(_params(tmp_path, "base:\n  seed: zero\n"))
    with pytest.raises(ParamsError, match=r"motion_library.contact_sheet_frames: .*greater than or equal to 2"):
        load_params(_params(tmp_path, "motion_library:\n  contact_sheet_frames: 1\n"))


def test_clip_entries_are_checked(tmp_path):
    with pytest.raises(
        ParamsError, match=r":3: clips.mine.source: must be `mocap:<name>` or a video in the clip's folder"
    ):
        load_params(_params(tmp_path, "clips:\n  mine:\n    source: /home/me/v.mp4\n"))
    with pytest.raises(ParamsError, match=r"no mocap clip 'jmup'"):
        load_params(_params(tmp_path, "clips:\n  j:\n    source: 'mocap:jmup'\n"))
    with pytest.raises(ParamsError, match=r"frames \[10, 5\]"):
        load_params(_params(tmp_path, "clips:\n  j:\n    source: 'mocap:jump'\n    frames: [10, 5]\n"))
    with pytest.raises(ParamsError, match=r"clips.j.character: no character 'atlas2'.*known: atlas, humanoid"):
        load_params(_params(tmp_path, "clips:\n  j:\n    source: 'mocap:jump'\n    character: atlas2\n"))
    with pytest.raises(ParamsError, match=r"clips.j.fpz"):
        load_params(_params(tmp_path, "clips:\n  j:\n    source: 'mocap:jump'\n    fpz: 30\n"))


def test_missing_and_non_mapping(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ParamsError, match="top level must be a mapping"):
        load_params(_params(tmp_path, "- a\n- b\n"))


def test_a_real_clip_lives_in_its_own_folder(tmp_path):
    """Each clip's stages depend on its folder alone: a video elsewhere is refused, naming the line and the fix."""
    text = "clips:\n  walk: {source: 'mocap:walk'}\n  mine:\n    source: data/clips/mine.mp4\n"
    with pytest.raises(
        ParamsError,
        match=r"params.yaml:4: clips.mine.source: 'data/clips/mine.mp4' is not in the "
        r"clip's own folder: put the video in data/clips/mine/ \(e.g. "
        r"data/clips/mine/mine.mp4\)",
    ):
        load_params(_params(tmp_path, text))
    ok = load_params(_params(tmp_path, text.replace("clips/mine.mp4", "clips/mine/take_2.mp4")))
    assert ok.clips["mine"].source == "data/clips/mine/take_2.mp4"


def test_notebooks_get_the_file_and_the_clip_only():
    """A notebook reads its section from the file itself: nothing of its values is copied into it."""
    p = load_params(ROOT / "params.yaml")
    assert notebook_parameters(p, "motion_library", None, "/x/params.yaml") == {"params_file": "/x/params.yaml"}
    assert notebook_parameters(p, "pose", "walk", "params.yaml") == {"params_file": "params.yaml", "clip": "walk"}
    # the two imitation stages share a notebook: it is told which reference it learns from
    assert notebook_parameters(p, "imitate", "walk", "p.yaml") == {
        "params_file": "p.yaml",
        "clip": "walk",
        "reference": "video",
    }
    assert notebook_parameters(p, "imitate_oracle", "walk", "p.yaml")["reference"] == "mocap"
    with pytest.raises(ParamsError, match="unknown stage 'train'"):
        notebook_parameters(p, "train", None, "params.yaml")


def test_cli_check_params_exit_codes(tmp_path, capsys):
    from sfv.cli import main

    assert main(["check-params", str(ROOT / "params.yaml")]) == 0
    assert f"OK ({len(load_params(ROOT / 'params.yaml').clips)} clips)" in capsys.readouterr().out
    bad = _params(tmp_path, "base:\n  sed: 1\n")
    assert main(["check-params", str(bad)]) == 2
    assert "unknown key 'base.sed' — did you mean 'seed'" in capsys.readouterr().err
    assert main(["run", "no_such_stage", "--params", str(ROOT / "params.yaml")]) == 2
    assert "unknown stage 'no_such_stage'" in capsys.readouterr().err


def test_imitate_section_is_checked(tmp_path):
    clips = 'clips:\n  walk: {source: "mocap:walk"}\n  mine: {source: "data/clips/mine/mine.mp4"}\n'
    refused = {  # the imitate section -> what the error says
        "clips: {walk: {}, run: {}}": r"imitate.clips names \['run'\], which are not in `clips`.*add an entry",
        "clips: {mine: {}}": r"imitate.clips \['mine'\] have no reconstructed motion.*reconstruct.clips",
        "clips: {walk: {frames: [5, 3]}}": r"imitate.clips.walk.frames: .*\[5, 3\) is empty",
        "oracle_clips: [walk]": r"imitate.oracle_clips \['walk'\] are not in imitate.clips.*add them to imitate.clips",
        "second_seed: [walk]": r"imitate.second_seed \['walk'\] are not in imitate.clips.*add them to imitate.clips",
        "clips: {walk: {physical: {plants_to_arc: true}}}": r"imitate.clips.walk.physical: plants_to_arc without "
        r"ballistic_from_speed does nothing.*set ballistic_from_speed: true there too",
        "physical: {plants_to_arc: true}": r"imitate.physical: plants_to_arc without ballistic_from_speed",
        "oracle_clips: []\n  env:\n    physics_hz: 200": r":6: imitate.env: physics_hz \(200.0\) must be a whole "
        r"multiple of control_hz",
        "env: {terrain: moon}": r"imitate.env.terrain: no terrain 'moon'.*known: flat",
        "ppo: {total_steps: 10}": r"unknown key 'imitate.ppo.total_steps' — did you mean 'total_timesteps'",
    }
    for section, message in refused.items():
        with pytest.raises(ParamsError, match=message):
            load_params(_params(tmp_path, clips + f"imitate:\n  {section}\n"))
    both = clips + "pose: {clips: [mine]}\nreconstruct: {clips: [mine]}\n"
    with pytest.raises(ParamsError, match=r"imitate.oracle_clips \['mine'\] come from video.*only a `mocap:` clip"):
        load_params(_params(tmp_path, both + "imitate:\n  clips: {mine: {}}\n  oracle_clips: [mine]\n"))
    p = load_params(
        _params(tmp_path, both + "imitate:\n  clips: {mine: {frames: [3, 40], cyclic: true}}\n  oracle_clips: []\n")
    )
    assert p.imitate.clips["mine"].frames == (3, 40) and p.imitate.clips["mine"].cyclic


def test_morphology_transfer_names_other_bodies_once_each(tmp_path):
    refused = {  # morphology_transfer.characters -> what the error says
        "[humanoid]": r"morphology_transfer.characters.*character 'humanoid' is the body the clips were reconstructed "
        r"on: name another \(atlas, mujoco_humanoid\)",
        "[atlas, atlas]": r"morphology_transfer.characters.*names a character twice",
        "[atlass]": r"morphology_transfer.characters.*no character 'atlass'.*known: atlas, humanoid, mujoco_humanoid",
        "[]": r"morphology_transfer.characters.*at least 1 item",
    }
    for characters, message in refused.items():
        with pytest.raises(ParamsError, match=message):
            load_params(_params(tmp_path, f"morphology_transfer:\n  characters: {characters}\n"))
    assert load_params(
        _params(tmp_path, "morphology_transfer: {characters: [atlas]}\n")
    ).morphology_transfer.characters == ["atlas"]


def test_per_clip_stages_need_their_clip():
    p = load_params(ROOT / "params.yaml")
    for stage in ("clip", "render", "pose", "reconstruct", "imitate", "imitate_oracle"):
        with pytest.raises(ParamsError, match="runs per clip: pass --clip NAME"):
            notebook_parameters(p, stage, None, "params.yaml")
    with pytest.raises(ParamsError, match="does not run per clip"):
        notebook_parameters(p, "motion_library", "walk", "params.yaml")


def test_stage_sections_extend_the_settings_their_code_takes():
    """One definition per setting: the code's settings model is the section's base, with the same defaults."""
    from sfv.config import (
        FitSettings,
        PoseParams,
        ReconstructParams,
        TargetSettings,
        TrackSettings,
    )

    p = load_params(ROOT / "params.yaml")
    assert isinstance(p.pose, TrackSettings) and isinstance(p.reconstruct, FitSettings)
    assert isinstance(p.reconstruct, TargetSettings)
    assert PoseParams(clips=[]).rotation_search == TrackSettings().rotation_search == p.pose.rotation_search
    assert ReconstructParams(clips=[]).weights == FitSettings().weights
    ablated = p.reconstruct.with_weights(smoothness=0.0)
    assert ablated.weights.smoothness == 0.0 and ablated.weights.ground == p.reconstruct.weights.ground
    assert p.reconstruct.weights.smoothness > 0  # the original is untouched


def test_render_section_is_checked(tmp_path):
    clips = (
        'clips:\n  jump: {source: "mocap:jump"}\n  walk: {source: "mocap:walk"}\n'
        "  real: {source: data/clips/real/x.mp4}\n"
    )
    p = load_params(_params(tmp_path, clips + "render:\n  clips: [jump]\n"))
    assert p.render.clips == ["jump"] and p.render.camera.distance == 3.5
    with pytest.raises(ParamsError, match=r"render.clips names \['jmup'\], which are not in `clips`"):
        load_params(_params(tmp_path, clips + "render:\n  clips: [jmup]\n"))
    with pytest.raises(
        ParamsError, match=r"render.clips \['real'\] come from video .*only `mocap:<name>` clips are rendered"
    ):
        load_params(_params(tmp_path, clips + "render:\n  clips: [real]\n"))
    with pytest.raises(
        ParamsError, match=r"render.camera.elevation: .*less than or equal to 80.*degrees above the horizon"
    ):
        load_params(_params(tmp_path, clips + "render:\n  clips: [jump]\n  camera: {elevation: 95}\n"))
    with pytest.raises(
        ParamsError, match=r"clips.real: .*camera, body, width, height, scene and cycles only apply to clips rendered"
    ):
        load_params(_params(tmp_path, clips.replace("x.mp4}", "x.mp4, camera: {distance: 3}}")))
    with pytest.raises(
        ParamsError, match=r"clips.real: .*camera, body, width, height, scene and cycles only apply to clips rendered"
    ):
        load_params(_params(tmp_path, clips.replace("x.mp4}", "x.mp4, width: 1280}")))
    with pytest.raises(ParamsError, match=r"clips.real: .*camera, body, width, height, scene and cycles only apply"):
        load_params(_params(tmp_path, clips.replace("x.mp4}", "x.mp4, scene: {platform: 0.4}}")))
    with pytest.raises(ParamsError, match=r"clips.real: .*scene and cycles only apply"):
        load_params(_params(tmp_path, clips.replace("x.mp4}", "x.mp4, cycles: 3}")))
    with pytest.raises(ParamsError, match=r"clips.jump.cycles: .*greater than or equal to 1"):
        load_params(_params(tmp_path, clips.replace('"mocap:jump"', '"mocap:jump", cycles: 0')))
    with pytest.raises(ParamsError, match=r"clips.jump.scene.platform: .*less than or equal to 2.*drops off it"):
        load_params(_params(tmp_path, clips.replace('"mocap:jump"', '"mocap:jump", scene: {platform: 3}')))
    # a rendered clip's own size, frame rate and camera roll override the render section's
    own = clips.replace('"mocap:walk"}', '"mocap:walk", fps: 60, width: 1080, height: 1920, camera: {roll: 12}}')
    p = load_params(_params(tmp_path, own + "render:\n  clips: [jump, walk]\n"))
    walk, jump = p.render.for_clip(p.clips["walk"]), p.render.for_clip(p.clips["jump"])
    assert (walk.width, walk.height, walk.fps, walk.camera.roll) == (1080, 1920, 60, 12)
    assert (jump.width, jump.height, jump.fps, jump.camera.roll) == (640, 480, 30, 0)
    with pytest.raises(ParamsError, match=r"clips.walk.width: .*multiple of 2"):
        load_params(_params(tmp_path, clips.replace('"mocap:walk"}', '"mocap:walk", width: 1081}')))
    with pytest.raises(ParamsError, match=r"pose.clips \['walk'\] are rendered from mocap but not in render.clips"):
        load_params(_params(tmp_path, clips + "render:\n  clips: [jump]\npose:\n  clips: [jump, walk]\n"))
    with pytest.raises(ParamsError, match=r"clips.jump.body.gendr"):
        load_params(_params(tmp_path, clips.replace('jump"}', 'jump", body: {gendr: 1}}')))


def test_render_settings_merge_clip_overrides():
    p = load_params(ROOT / "params.yaml")
    s = p.render.for_clip(p.clips["cartwheel"])
    assert s.camera.distance == p.clips["cartwheel"].camera.distance != p.render.camera.distance
    assert s.camera.elevation == p.render.camera.elevation
    assert s.body.phenotype() == {"gender": p.clips["cartwheel"].body.gender}
    assert (s.fps, s.frames, s.width) == (p.clips["cartwheel"].fps, p.clips["cartwheel"].frames, p.render.width)


def test_clip_camera_overrides_are_the_cameras_fields():
    """A clip's camera override has the render camera's fields and checks, each optional."""
    from sfv.config import CameraOverride, CameraParams

    assert list(CameraOverride.model_fields) == list(CameraParams.model_fields)
    assert CameraOverride().distance is None
    with pytest.raises(ValueError, match="less than or equal to 80"):
        CameraOverride(elevation=95)


def test_a_clips_ground_contacts_join_the_envs_for_that_clip_only():
    params = load_params()
    env = params.imitate.env.model_copy(update={"ground_contacts": ["left_wrist"]})
    imitate = params.imitate.model_copy(update={"env": env})
    assert imitate.for_clip("cartwheel").env.ground_contacts == ["left_wrist", "right_wrist"]  # no duplicate
    assert imitate.for_clip("walk").env.ground_contacts == ["left_wrist"]
    assert imitate.for_clip("backflip").env.ground_contacts == ["left_wrist"]  # no imitate.clips entry
    assert params.imitate.for_clip("cartwheel").env.ground_contacts == ["right_wrist", "left_wrist"]


def test_a_clips_physical_settings_override_imitate_physical_for_that_clip_only(tmp_path):
    """A clip's `physical` entry changes the keys it gives, for that clip; the others follow imitate.physical (a
    change there still reaches the clip), and a misspelt key gets the section's own help."""
    import yaml

    params = load_params()
    physical = params.imitate.physical.model_copy(update={"contact_height": 0.2})
    clips = dict(params.imitate.clips)
    clips["jump"] = clips["jump"].model_copy(update={"physical": PhysicalOverride(contacts="video")})
    imitate = params.imitate.model_copy(update={"physical": physical, "clips": clips})
    jump, walk = imitate.for_clip("jump").physical, imitate.for_clip("walk").physical
    assert (jump.contacts, jump.contact_height) == ("video", 0.2)
    assert (walk.contacts, walk.contact_height) == ("reconstruction", 0.2)
    assert imitate.for_clip("kick").physical == physical  # its entry sets no physical keys
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["imitate"]["clips"]["walk"]["physical"] = {"contact_hieght": 0.1}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError, match=r"unknown key 'imitate.clips.walk.physical.contact_hieght' — did you mean "):
        load_params(path)
    raw["imitate"]["clips"]["walk"]["physical"] = {"contacts": "image"}
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError, match=r"imitate.clips.walk.physical.contacts"):
        load_params(path)


def _selections(model) -> set[str]:
    return {name for name, f in model.model_fields.items() if (f.json_schema_extra or {}).get("selection")}


def _differences(raw, default, where: str) -> list[str]:
    """Leaves of params.yaml (`raw`) whose value is not the schema's default (`default`, a model instance), except
    the project's selections (which clips, characters, runs): those have no default to match."""
    from pydantic import BaseModel

    out = []
    for key, value in raw.items():
        if key in _selections(type(default)):
            continue
        current = getattr(default, key)
        if isinstance(current, BaseModel) and isinstance(value, dict):
            out += _differences(value, current, f"{where}{key}.")
            continue
        shipped = type(default).model_validate({**default.model_dump(), key: value})
        if getattr(shipped, key) != current:
            out.append(f"{where}{key}: params.yaml {value!r}, schema default {current!r}")
    return out


def test_schema_defaults_are_the_shipped_params():
    """One truth: `train()`, `ImitationEnv(motion)` or any settings model built in Python gets what the pipeline
    runs with. Every value params.yaml sets equals its schema default, except the project's selections."""
    import yaml

    from sfv.config import Params

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert _differences(raw, Params(), "") == []


def test_the_defaults_check_catches_a_drift():
    import yaml

    from sfv.config import Params

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["imitate"]["ppo"]["n_steps"] = 64
    raw["irregular_terrain"]["heightmap"]["spacing"] = 0.5
    assert _differences(raw, Params(), "") == [
        "imitate.ppo.n_steps: params.yaml 64, schema default 128",
        "irregular_terrain.heightmap.spacing: params.yaml 0.5, schema default 0.3",
    ]


def test_a_misspelt_key_in_a_clips_entry_gets_the_entrys_keys(tmp_path):
    import yaml

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["imitate"]["clips"]["walk"] = {"cyclc": True}
    raw["clips"]["walk"]["fpz"] = 30
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert "unknown key 'imitate.clips.walk.cyclc' — did you mean 'cyclic'? (allowed here: frames, cyclic," in str(
        err.value
    )
    assert "unknown key 'clips.walk.fpz' — did you mean 'fps'? (allowed here: source, frames, fps," in str(err.value)


def test_a_clips_frames_are_cut_once():
    """A real video is cut to `frames` where it is read; a rendered clip's video already holds only its range."""
    from sfv.config import ClipParams

    video = ClipParams(source="data/clips/mine/mine.mp4", frames=(30, 90))
    rendered = ClipParams(source="mocap:walk", frames=(30, None))
    assert video.video_frames == (30, 90)
    assert rendered.video_frames == (0, None)


def test_a_setting_added_after_a_run_reads_as_the_run_behaved():
    """Today's defaults are the tuned ones; a policy recorded before a setting existed behaved as without it, so
    its record reads that way (its observation, its resume check), not as today's default."""
    from sfv.config import EnvSettings
    from sfv.imitate.train import run_differences
    from sfv.settings.common import from_record

    assert EnvSettings().reference_root_observation is True and EnvSettings().pose_termination == 1.0
    old = from_record(EnvSettings, {"action_scale": 0.4})
    assert old.reference_root_observation is False and old.pose_termination is None and old.action_scale == 0.4
    today = EnvSettings().model_dump(mode="json")
    stored = {"env": {k: v for k, v in today.items() if k not in ("reference_root_observation", "pose_termination")}}
    assert run_differences(stored, {"env": today}) == [
        "env.pose_termination: None -> 1.0",
        "env.reference_root_observation: False -> True",
    ]
