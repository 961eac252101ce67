"""params.yaml schema: the shipped file loads; mistakes are reported with file, line, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfv.config import ParamsError, load_params, notebook_parameters, section

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


def test_typo_in_section_name(tmp_path):
    with pytest.raises(ParamsError, match=r"params.yaml:3: unknown key 'motion_libary' — did you mean 'motion_library'"):
        load_params(_params(tmp_path, "base:\n  seed: 1\nmotion_libary:\n  clips: all\n"))


def test_typo_inside_section(tmp_path):
    with pytest.raises(ParamsError, match=r":3: unknown key 'motion_library.contact_sheet_frame' — did you mean 'contact_sheet_frames'"):
        load_params(_params(tmp_path, "motion_library:\n  clips: all\n  contact_sheet_frame: 4\n"))


def test_wrong_type_names_key_and_line(tmp_path):
    with pytest.raises(ParamsError, match=r":2: base.seed: .*integer.*\(got 'zero'\)"):
        load_params(_params(tmp_path, "base:\n  seed: zero\n"))
    with pytest.raises(ParamsError, match=r"motion_library.contact_sheet_frames: .*greater than or equal to 2"):
        load_params(_params(tmp_path, "motion_library:\n  contact_sheet_frames: 1\n"))


def test_clip_entries_are_checked(tmp_path):
    with pytest.raises(ParamsError, match=r":3: clips.mine.source: must be `mocap:<name>` or a path under `data/clips/`"):
        load_params(_params(tmp_path, "clips:\n  mine:\n    source: /home/me/v.mp4\n"))
    with pytest.raises(ParamsError, match=r"no mocap clip 'jmup'"):
        load_params(_params(tmp_path, "clips:\n  j:\n    source: 'mocap:jmup'\n"))
    with pytest.raises(ParamsError, match=r"frames \[10, 5\]"):
        load_params(_params(tmp_path, "clips:\n  j:\n    source: 'mocap:jump'\n    frames: [10, 5]\n"))
    with pytest.raises(ParamsError, match=r"clips.j.character: no character 'atlas2'.*known: humanoid"):
        load_params(_params(tmp_path, "clips:\n  j:\n    source: 'mocap:jump'\n    character: atlas2\n"))
    with pytest.raises(ParamsError, match=r"clips.j.fpz"):
        load_params(_params(tmp_path, "clips:\n  j:\n    source: 'mocap:jump'\n    fpz: 30\n"))


def test_missing_and_non_mapping(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ParamsError, match="top level must be a mapping"):
        load_params(_params(tmp_path, "- a\n- b\n"))


def test_notebook_parameters_round_trip():
    p = load_params(ROOT / "params.yaml")
    values = notebook_parameters(p, "motion_library")
    assert values["seed"] == p.base.seed
    assert section("motion_library", values) == p.motion_library
    with pytest.raises(ParamsError, match="unknown stage 'train'"):
        notebook_parameters(p, "train")


def test_cli_check_params_exit_codes(tmp_path, capsys):
    from sfv.cli import main

    assert main(["check-params", str(ROOT / "params.yaml")]) == 0
    assert "OK (10 clips)" in capsys.readouterr().out
    bad = _params(tmp_path, "base:\n  sed: 1\n")
    assert main(["check-params", str(bad)]) == 2
    assert "unknown key 'base.sed' — did you mean 'seed'" in capsys.readouterr().err
    assert main(["run", "no_such_stage", "--params", str(ROOT / "params.yaml")]) == 2
    assert "unknown stage 'no_such_stage'" in capsys.readouterr().err


def test_imitate_section_is_checked(tmp_path):
    clips = 'clips:\n  walk: {source: "mocap:walk"}\n  mine: {source: "data/clips/mine.mp4"}\n'
    with pytest.raises(ParamsError, match=r"imitate.clips names \['run'\], which are not in `clips`.*add an entry"):
        load_params(_params(tmp_path, clips + "imitate:\n  clips: [walk, run]\n"))
    with pytest.raises(ParamsError, match=r"imitate.clips \['mine'\] come from video"):
        load_params(_params(tmp_path, clips + "imitate:\n  clips: [mine]\n"))
    with pytest.raises(ParamsError, match=r":6: imitate.env: physics_hz \(200.0\) must be a whole multiple of control_hz"):
        load_params(_params(tmp_path, clips + "imitate:\n  clips: [walk]\n  env:\n    physics_hz: 200\n"))
    with pytest.raises(ParamsError, match=r"imitate.env.terrain: no terrain 'moon'.*known: flat"):
        load_params(_params(tmp_path, clips + "imitate:\n  env: {terrain: moon}\n"))
    with pytest.raises(ParamsError, match=r"unknown key 'imitate.ppo.total_steps' — did you mean 'total_timesteps'"):
        load_params(_params(tmp_path, clips + "imitate:\n  ppo: {total_steps: 10}\n"))


def test_imitate_notebook_gets_its_clip():
    p = load_params(ROOT / "params.yaml")
    values = notebook_parameters(p, "imitate", "walk")
    assert values["clip"] == "walk" and values["clip_params"]["source"] == "mocap:walk"
    assert values["ppo"]["total_timesteps"] == p.imitate.ppo.total_timesteps and values["seed"] == p.base.seed
    with pytest.raises(ParamsError, match="runs per clip: pass --clip NAME"):
        notebook_parameters(p, "imitate")
    with pytest.raises(ParamsError, match="does not run per clip"):
        notebook_parameters(p, "motion_library", "walk")


def test_render_section_is_checked(tmp_path):
    clips = ('clips:\n  jump: {source: "mocap:jump"}\n  walk: {source: "mocap:walk"}\n  real: {source: data/clips/x.mp4}\n')
    p = load_params(_params(tmp_path, clips + "render:\n  clips: [jump]\n"))
    assert p.render.clips == ["jump"] and p.render.camera.distance == 3.5
    with pytest.raises(ParamsError, match=r"render.clips names \['jmup'\], which are not in `clips`"):
        load_params(_params(tmp_path, clips + "render:\n  clips: [jmup]\n"))
    with pytest.raises(ParamsError, match=r"render.clips \['real'\] come from video .*only `mocap:<name>` clips are rendered"):
        load_params(_params(tmp_path, clips + "render:\n  clips: [real]\n"))
    with pytest.raises(ParamsError, match=r"render.camera.elevation: .*less than or equal to 80.*degrees above the horizon"):
        load_params(_params(tmp_path, clips + "render:\n  clips: [jump]\n  camera: {elevation: 95}\n"))
    with pytest.raises(ParamsError, match=r"clips.real: .*camera and body only apply to clips rendered from mocap"):
        load_params(_params(tmp_path, clips.replace('x.mp4}', 'x.mp4, camera: {distance: 3}}')))
    with pytest.raises(ParamsError, match=r"clips.jump.body.gendr"):
        load_params(_params(tmp_path, clips.replace('jump"}', 'jump", body: {gendr: 1}}')))


def test_render_settings_merge_clip_overrides():
    from sfv.render.gt_clip import settings_from_params

    p = load_params(ROOT / "params.yaml")
    s = settings_from_params(p.render, p.clips["cartwheel"])
    assert s.camera.distance == p.clips["cartwheel"].camera.distance != p.render.camera.distance
    assert s.camera.elevation == p.render.camera.elevation
    assert s.body == {"gender": p.clips["cartwheel"].body.gender}
    values = notebook_parameters(p, "render", "cartwheel")
    assert values["clip_params"]["camera"]["distance"] == s.camera.distance
    clips = notebook_parameters(p, "clips")
    assert set(section("clips", clips).clips) == set(p.clips)
