"""The pipeline's wiring: notebooks take exactly their params.yaml section, DVC stages declare what they
read, and (slow) `dvc repro` works on a fresh copy of the repository."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
import yaml

from sfv import paths
from sfv.config import STAGE_SECTIONS, load_params
from sfv.declared_deps import require_declared, undeclared
from sfv.notebook import NOTEBOOKS, PER_CLIP_STAGES, STAGE_ARGUMENTS

ROOT = Path(__file__).resolve().parents[1]


def parameters_cell(source: Path) -> dict:
    nb = jupytext.read(source)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{source}: needs exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    return {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}


@pytest.mark.parametrize("stage", sorted(NOTEBOOKS))
def test_notebook_parameters_are_the_file_and_the_clip(stage):
    """A notebook keeps no copy of a setting: papermill gives it the params file (and its clip), and it reads
    its section from that file through `stage_params`."""
    assert set(NOTEBOOKS) == set(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])
    params = parameters_cell(ROOT / NOTEBOOKS[stage])
    shared = {k for s, arguments in STAGE_ARGUMENTS.items() if NOTEBOOKS[s] == NOTEBOOKS[stage] for k in arguments}
    assert set(params) == {"params_file"} | ({"clip"} if stage in PER_CLIP_STAGES else set()) | shared
    assert params["params_file"] == "params.yaml"
    assert "stage_params(params_file)" in (ROOT / NOTEBOOKS[stage]).read_text()


def sfv_modules_used(*sources: Path) -> set[str]:
    """Every sfv module a notebook imports, directly or through other sfv modules (imports inside functions
    included): what its stage's output can depend on."""

    def imports(path: Path) -> set[str]:
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module == "sfv" or (node.module or "").startswith("sfv.")):
                base = node.module.replace(".", "/")
                found |= {base + ".py"} | {f"{base}/{a.name}.py" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name.replace(".", "/") + ".py" for a in node.names if a.name.startswith("sfv.")}
        return {m for m in found if (ROOT / m).is_file()}

    seen, todo = {s.relative_to(ROOT).as_posix() for s in sources if s.is_relative_to(ROOT)}, list(sources)
    while todo:
        path = todo.pop()
        found = imports(path)
        if path == ROOT / "sfv/config.py":  # the loader puts every section together: a stage reads its own
            found = {m for m in found if not m.startswith("sfv/settings/")}
        for m in found - seen:
            seen.add(m)
            todo.append(ROOT / m)
    return seen


def settings_read(spec: dict) -> set[str]:
    """The schema modules of the params.yaml sections a stage reads (its params keys say which): a change to
    another section's schema cannot change its outputs, so it is not a dependency."""
    tops = {p.split(".")[0] for p in spec["params"]}
    return {"sfv/settings/common.py"} | {
        f"sfv/settings/{t}.py" for t in tops if (ROOT / f"sfv/settings/{t}.py").is_file()
    }


def test_module_closure_follows_imports(tmp_path):
    """The dependency walk sees `from sfv.x import y` (module and submodule) and goes through modules."""
    nb = tmp_path / "nb.py"
    nb.write_text("from sfv.reconstruct import evaluate\n")
    used = sfv_modules_used(nb)
    assert {
        "sfv/reconstruct/evaluate.py",
        "sfv/reconstruct/fit.py",
        "sfv/settings/reconstruct.py",
        "sfv/assets.py",
    } <= used
    assert "sfv/pose/tracking.py" not in used and "sfv/imitate/sim.py" not in used


#: per-clip stages that iterate over something else than `<stage>.clips` (DVC foreach, and the loop variable)
FOREACH = {
    "clip": ("${clips}", "${key}"),
    "imitate": ("${imitate.clips}", "${key}"),
    "imitate_oracle": ("${imitate.oracle_clips}", "${item}"),
    "imitate_seed2": ("${imitate.second_seed}", "${item}"),
}
#: stages that read another stage's section; keys of it they do not read; per-clip keys they read instead
SECTION_OF = {"imitate_oracle": "imitate", "imitate_seed2": "imitate", "end_to_end": "imitate", "cameras": "render"}
NOT_READ = {
    "imitate": {"oracle_clips", "second_seed"},
    "imitate_seed2": {"oracle_clips", "second_seed"},
    "imitate_oracle": {"oracle_clips", "second_seed", "reference", "physical"},
}
PER_CLIP_KEYS = {
    "imitate": {"imitate.clips.${key}"},
    "imitate_oracle": {"imitate.clips.${item}"},
    "imitate_seed2": {"imitate.clips.${item}"},
}


@pytest.mark.parametrize("stage", sorted(NOTEBOOKS))
def test_dvc_stage_declares_exactly_the_code_it_runs(stage):
    """Each stage lists as deps every sfv module its notebook uses, and no other (a change elsewhere must
    not re-run it), plus its params keys."""
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]
    if stage in PER_CLIP_STAGES:
        foreach, item = FOREACH.get(stage, (f"${{{stage}.clips}}", "${item}"))
        assert spec["foreach"] == foreach
        spec = spec["do"]
        assert spec["cmd"] == f"python -m sfv.cli run {stage} --clip {item}"
        assert f"clips.{item}" in spec["params"]
        section = SECTION_OF.get(stage, stage)
        if section in STAGE_SECTIONS:
            sections = {p for p in spec["params"] if p.startswith(f"{section}.")}
            fields = set(STAGE_SECTIONS[section].model_fields) - {"clips"} - NOT_READ.get(stage, set())
            assert sections == {f"{section}.{f}" for f in fields} | PER_CLIP_KEYS.get(stage, set())
    else:
        assert spec["cmd"] == f"python -m sfv.cli run {stage}"
        assert SECTION_OF.get(stage, stage) in {p.split(".")[0] for p in spec["params"]}
    assert NOTEBOOKS[stage] in spec["deps"]
    assert "base.seed" in spec["params"]
    code = {d for d in spec["deps"] if d.startswith("sfv/") and d.endswith(".py")}
    used = sfv_modules_used(ROOT / NOTEBOOKS[stage], *(ROOT / m for m in settings_read(spec))) - {NOTEBOOKS[stage]}
    assert not used - code, f"dvc.yaml stage {stage} does not list {sorted(used - code)} as deps"
    assert not code - used, f"dvc.yaml stage {stage} lists {sorted(code - used)}, which its notebook never imports"


def test_per_clip_stages_read_their_own_clip_only():
    """The video stages of a clip depend on its folder, never on the folders of all clips (a new real clip
    would then wait for every render, and a render change re-run every clip)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for stage in ("clip", "pose", "reconstruct"):
        deps = stages[stage]["do"]["deps"]
        data = [d for d in deps if d.startswith("data/") or d.startswith("metrics/")]
        assert all("${" in d for d in data), f"{stage} depends on shared data {data}"
    assert stages["render"]["do"]["outs"][0] == "data/clips/${item}"


def test_the_experiments_depend_on_the_clips_their_settings_read_and_no_other(tmp_path):
    """morphology_transfer and irregular_terrain list in dvc.yaml the policies of exactly the clips their settings
    name (a dep on every clip's folder would re-run them whenever any clip's policy changed), and their notebooks
    refuse settings that name a clip dvc.yaml does not (DVC would never re-run them when its policy changes)."""
    params = load_params(ROOT / "params.yaml")
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    clips = params.morphology_transfer.clips
    read = {
        "morphology_transfer": {paths.policy_dir(c) for c in clips}
        | {paths.clip_metrics_file("imitate", c) for c in clips},
        "irregular_terrain": {paths.policy_dir(run.clip) for run in params.irregular_terrain.runs},
    }
    for stage, files in read.items():
        data = {Path(d) for d in stages[stage]["deps"] if d.startswith(("data/policies", "metrics/imitate"))}
        assert data == files, f"dvc.yaml stage {stage}: {sorted(map(str, data))} against its settings' {files}"
        assert undeclared(stage, sorted(files), ROOT / "dvc.yaml") == []
    # a file under a declared folder is covered; another clip's folder, or a sibling whose name starts alike, is not
    assert undeclared("irregular_terrain", [paths.policy_dir("walk") / "model.zip"], ROOT / "dvc.yaml") == []
    assert undeclared("irregular_terrain", [Path("data/policies/video/walk_seed2")], ROOT / "dvc.yaml") == [
        "data/policies/video/walk_seed2"
    ]
    with pytest.raises(ValueError, match=r"data/policies/video/run .*morphology_transfer.clips.*stages\.morphology"):
        require_declared(
            "morphology_transfer", [paths.policy_dir("run")], "morphology_transfer.clips", ROOT / "dvc.yaml"
        )
    # outside a DVC project there is nothing to hold the settings to
    require_declared("morphology_transfer", [paths.policy_dir("run")], "morphology_transfer.clips", tmp_path / "x.yaml")


def _tracked_copy(dest: Path) -> Path:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for rel in filter(None, tracked.split("\0")):
        # without the shipped store and its runs in progress: a clone that computes everything itself
        if (ROOT / rel).is_file() and not rel.startswith(("store/", "runs/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


def test_a_new_real_clip_runs_only_its_own_stages(tmp_path):
    """On a fresh clone, a user's clip `x` (its folder and entry) reconstructs through its check, its poses and
    its reconstruction only: no render, no other clip (the stages `dvc repro reconstruct@x` runs are the
    target's ancestors in DVC's graph)."""
    work = _tracked_copy(tmp_path / "clone")
    (work / "data" / "clips" / "x").mkdir()
    shutil.copy2(
        ROOT / "data" / "clips" / "sports2d_demo" / "sports2d_demo.mp4", work / "data" / "clips" / "x" / "x.mp4"
    )
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["clips"]["x"] = {"source": "data/clips/x/x.mp4", "frames": [0, 20], "fps": 30}
    params["pose"]["clips"].append("x")
    params["reconstruct"]["clips"].append("x")
    # morphology transfer: jump's video reference retargeted to each body (a short fit), two PPO updates, a 1 s
    # rollout
    params["morphology_transfer"].update(
        clips=["jump"],
        total_timesteps=2048,
        retarget={"iterations": 50},
        evaluation={"seconds": 1, "width": 320, "height": 192},
    )
    # irregular terrain: jump's video policy carried over gaps, two PPO updates from it, two 1 s evaluations each
    params["irregular_terrain"].update(
        runs=[{"clip": "jump", "terrain": "gaps"}],
        budget=2048,
        evaluation={"seeds": [0, 1], "seconds": 1, "width": 320, "height": 192},
    )
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env_bin = Path(sys.executable).parent
    proc = subprocess.run(
        [str(env_bin / "dvc"), "dag", "--dot", "reconstruct@x"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{env_bin}:{os.environ['PATH']}"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    stages = set(re.findall(r'^"([^"]+)";$', proc.stdout, flags=re.M))
    assert stages == {"clip@x", "pose@x", "reconstruct@x"}, proc.stdout
    assert '"clip@x" -> "pose@x"' in proc.stdout and '"pose@x" -> "reconstruct@x"' in proc.stdout


def test_executed_notebooks_are_not_committed():
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked.strip() == ""


@pytest.mark.slow
def test_dvc_repro_on_a_fresh_copy(tmp_path):
    """What a user does after cloning: `dvc repro` runs every stage and writes its outputs and metrics."""
    work = _tracked_copy(tmp_path / "clone")
    for rel in ("data/mocap", "plots/motion_library", "metrics/motion_library.json", "dvc.lock"):
        assert not (work / rel).exists() or rel.endswith((".json", ".lock")), f"{rel} should not be in git"
    (work / "metrics" / "motion_library.json").unlink(missing_ok=True)
    shutil.rmtree(work / "metrics" / "imitate", ignore_errors=True)
    shutil.rmtree(work / "metrics" / "render", ignore_errors=True)
    shutil.rmtree(work / "metrics" / "pose", ignore_errors=True)
    shutil.rmtree(work / "metrics" / "reconstruct", ignore_errors=True)
    shutil.rmtree(work / "plots" / "pose_confidence", ignore_errors=True)
    shutil.rmtree(work / "metrics" / "clips", ignore_errors=True)
    for rel in ("plots/imitate_curves", "plots/imitate_oracle_curves", "metrics/imitate_oracle"):
        shutil.rmtree(work / rel, ignore_errors=True)
    (work / "metrics" / "end_to_end.json").unlink(missing_ok=True)
    (work / "metrics" / "reference_physics.json").unlink(missing_ok=True)
    # the imitation stages on a smoke budget: two PPO updates, a checkpoint, a 2 s evaluation with video; jump
    # learned from its 12-frame video (0.4 s, so the shortest reference allowed is lowered), and its oracle
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["imitate"].update(clips={"jump": {"cyclic": True}}, oracle_clips=["jump"], second_seed=["jump"])
    params["imitate"]["reference"].update(min_seconds=0.2)
    params["imitate"]["ppo"].update(
        total_timesteps=2048, n_envs=8, n_steps=128, checkpoint_every=1024, evaluate_every=1024
    )
    params["imitate"]["evaluation"].update(seconds=2, width=320, height=192)
    # two short ground-truth clips (the other mocap clips leave `clips` too, or the clips stage would look for them)
    params["render"].update(clips=["jump", "walk"], width=320, height=240)
    params["clips"] = {
        "jump": {**params["clips"]["jump"], "frames": [0, 12]},
        "walk": {**params["clips"]["walk"], "frames": [0, 6]},
        "sports2d_demo": {**params["clips"]["sports2d_demo"], "frames": [95, 110]},
    }
    params["pose"].update(clips=["jump", "sports2d_demo"])
    params["reconstruct"].update(clips=["jump"], ik_iterations=20, iterations=20, ablation_smoothness=[1e-5])
    params["reconstruct"]["turning"]["clips"] = []  # the spinning clips are not reconstructed here
    # motion completion on the 12-frame jump: a 0.2 s horizon, a small network, the still continued by jump's
    # policy
    params["motion_completion"].update(
        horizon_seconds=0.2,
        step_seconds=0.1,
        model={"hidden": [32], "epochs": 20},
        showcase={"clip": "jump", "frame": 2, "seconds": 1},
    )
    # morphology transfer: jump's video reference retargeted to each body (a short fit), two PPO updates, a 1 s
    # rollout
    params["morphology_transfer"].update(
        clips=["jump"],
        total_timesteps=2048,
        retarget={"iterations": 50},
        evaluation={"seconds": 1, "width": 320, "height": 192},
    )
    # irregular terrain: jump's video policy carried over gaps, two PPO updates from it, two 1 s evaluations each
    params["irregular_terrain"].update(
        runs=[{"clip": "jump", "terrain": "gaps"}],
        budget=2048,
        evaluation={"seeds": [0, 1], "seconds": 1, "width": 320, "height": 192},
    )
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    # both experiments now read jump's policy only, and walk is not learned here: their deps say so
    dvc_yaml = yaml.safe_load((work / "dvc.yaml").read_text())
    for stage in ("morphology_transfer", "irregular_terrain"):
        deps = dvc_yaml["stages"][stage]["deps"]
        deps[:] = [d for d in deps if d not in ("data/policies/video/walk", "metrics/imitate/walk.json")]
    (work / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml, sort_keys=False))
    env_bin = Path(sys.executable).parent
    proc = subprocess.run(
        [str(env_bin / "dvc"), "repro"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=1500,
        env={
            "PATH": f"{env_bin}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "MPLBACKEND": "Agg",
            "ANNY_CACHE_DIR": str(ROOT / ".cache" / "anny"),
        },  # reuse the body model built once per checkout
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads((work / "metrics" / "motion_library.json").read_text())
    from sfv.assets import available_mocap

    shipped = len(available_mocap())  # every humanoid clip pybullet_data ships, however many that is
    assert metrics["clips"] == shipped and metrics["total_frames"] > 100 * shipped
    assert len(list((work / "data" / "mocap").glob("*.npz"))) == shipped
    index = json.loads((work / "data" / "mocap" / "index.json").read_text())
    assert index["walk"]["frames"] == 39 and index["backflip"]["fps"] == 16.0
    assert len(list((work / "plots" / "motion_library").glob("*.png"))) == shipped
    assert (work / "reports" / "notebooks" / "00_motion_library.ipynb").is_file()
    render = json.loads((work / "metrics" / "render" / "jump.json").read_text())
    assert render["frames"] == 12 and render["coco_on_silhouette_fraction"] > 0.95
    assert (work / "data" / "clips" / "jump" / "video.mp4").stat().st_size > 10_000
    assert (work / "data" / "clips" / "jump" / "ground_truth.npz").is_file()
    assert (work / "plots" / "render" / "jump" / "contact_sheet.png").is_file()
    real = json.loads((work / "metrics" / "clips" / "sports2d_demo.json").read_text())
    rendered = json.loads((work / "metrics" / "clips" / "jump.json").read_text())
    assert real["frames"] == 15 and real["kind"] == "video" and rendered["kind"] == "rendered"
    assert {p.parent.name for p in (work / "plots" / "clips").glob("*/contact_sheet.png")} == {
        "jump",
        "walk",
        "sports2d_demo",
    }
    pose = json.loads((work / "metrics" / "pose" / "jump.json").read_text())
    assert pose["frames"] == 12 and pose["detection_rate"] == 1.0 and pose["pixel_error"] < 15
    assert pose["pa_mpjpe_mm"] < 150 and "plain_pck" in pose
    real = json.loads((work / "metrics" / "pose" / "sports2d_demo.json").read_text())
    assert real["frames"] == 15 and real["first"] == 95 and "pixel_error" not in real
    assert (work / "data" / "poses" / "sports2d_demo.overlay.mp4").stat().st_size > 10_000
    assert (work / "plots" / "pose" / "jump" / "contact_sheet.png").is_file()
    assert len((work / "plots" / "pose_confidence" / "jump.csv").read_text().splitlines()) == 13
    rec = json.loads((work / "metrics" / "reconstruct" / "jump.json").read_text())
    assert rec["frames"] == 12 and rec["jitter"] < rec["jitter_ik"] and rec["mpjpe_mm"] > 0
    assert len(rec["ablation"]) == 3
    from sfv.motion import load_motion

    assert load_motion(work / "data" / "motions" / "jump.txt").n_frames == 12
    assert (work / "plots" / "reconstruct" / "jump" / "targets_vs_reconstruction.gif").stat().st_size > 10_000
    imitate = json.loads((work / "metrics" / "imitate" / "jump.json").read_text())
    assert imitate["train_samples"] == 2048 and imitate["survived_seconds"] > 0
    assert imitate["reference"]["source"] == "data/motions/jump.npz" and imitate["reference"]["loop"] == "wrap"
    assert imitate["reference"]["physical"]["bodies_moved_m"] > 0  # the physical step ran
    physics = json.loads((work / "metrics" / "reference_physics.json").read_text())
    assert [(r["clip"], r["reference"]) for r in physics["rows"]] == [("jump", "reconstruction"), ("jump", "physical")]
    assert physics["skills"] == ["jump"] and physics["means"]["physical"]["clips"] == 1
    assert 0 < imitate["reference_truth_body_error_m"] < 0.3 and imitate["truth_body_error_m"] > 0
    policy = work / "data" / "policies" / "video" / "jump"
    assert (policy / "model.zip").is_file() and (policy / "reference.npz").is_file()
    import imageio.v3 as iio

    frame = iio.imread(policy / "evaluation.mp4", index=0)  # the source video beside the simulation
    assert frame.shape[0] == 192 and frame.shape[1] > 320 + 192
    assert {p.name for p in (work / "plots" / "imitate" / "jump").glob("*.png")} >= {
        "reference.png",
        "physical.png",
        "reward_terms.png",
        "pd_only.png",
        "rsi_start_phases.png",
        "learning_curves.png",
        "evaluation.png",
        "truth_error.png",
    }
    assert (work / "reports" / "notebooks" / "06_motion_imitation_jump.ipynb").is_file()
    from sfv.imitate.curve import read_curve

    curve = read_curve(work / "plots" / "imitate_curves" / "jump.csv")  # 2 updates, an evaluation after each
    assert len(curve) == 2 and all(r["eval_survived_seconds"] > 0 for r in curve)
    oracle = json.loads((work / "metrics" / "imitate_oracle" / "jump.json").read_text())
    assert oracle["reference"]["source"] == "data/mocap/jump.npz" and "reference_truth_body_error_m" not in oracle
    assert oracle["train_samples"] == imitate["train_samples"]  # the clip's budget, on its mocap
    assert (work / "data" / "policies" / "mocap" / "jump" / "evaluation.mp4").is_file()
    assert (work / "reports" / "notebooks" / "06_motion_imitation_oracle_jump.ipynb").is_file()
    seed2 = json.loads((work / "metrics" / "imitate" / "jump_seed2.json").read_text())  # jump's second seed
    assert seed2["train_samples"] == imitate["train_samples"] and seed2["return"] != imitate["return"]
    assert read_curve(work / "plots" / "imitate_curves" / "jump_seed2.csv") != curve  # another seed, another run
    assert (work / "data" / "policies" / "video" / "jump_seed2" / "model.zip").is_file()
    assert (work / "reports" / "notebooks" / "06_motion_imitation_seed2_jump.ipynb").is_file()
    table = json.loads((work / "metrics" / "end_to_end.json").read_text())["clips"]
    assert [r["clip"] for r in table] == ["jump"]
    assert table[0]["video_error_cm"] > 0 and table[0]["oracle_error_cm"] > 0
    assert table[0]["seed2_survived"] == seed2["survived_fraction"] and table[0]["learned"] is not None
    assert (work / "plots" / "end_to_end" / "end_to_end.png").is_file()
    completion = json.loads((work / "metrics" / "motion_completion.json").read_text())
    assert {(r["protocol"], r["method"]) for r in completion["rows"]} == {
        (p, m) for p in ("unseen", "seen") for m in ("hold still", "nearest neighbour", "network")
    }
    show = completion["showcase"]  # the still names a skill with a policy here (jump's, from video or mocap)
    assert show["skill"] == "jump" and show["policy"] and show["survived_seconds"] > 0
    assert (work / "data" / "completion" / "still_to_motion.mp4").stat().st_size > 10_000
    terrain = json.loads((work / "metrics" / "irregular_terrain.json").read_text())
    assert [(r["clip"], r["terrain"], r["policy"]) for r in terrain["rows"]] == [
        ("jump", "gaps", "flat"),
        ("jump", "gaps", "terrain"),
    ]
    assert terrain["rows"][1]["terrain_samples_m"] == pytest.approx(0.002048)
    assert all(0 < s["survived_s"] <= 1.0 + 1e-6 for p in terrain["per_seed"]["jump_gaps"].values() for s in p)
    for policy in ("flat", "terrain"):
        assert (work / "data" / "terrain" / "jump_gaps" / f"{policy}_policy.mp4").stat().st_size > 10_000
    assert (work / "plots" / "irregular_terrain" / "flat_vs_terrain.png").is_file()
    transfer = json.loads((work / "metrics" / "morphology_transfer.json").read_text())
    assert [(r["clip"], r["character"]) for r in transfer["rows"]] == [("jump", "atlas"), ("jump", "mujoco_humanoid")]
    assert all(r["samples_m"] == pytest.approx(0.002048) and r["keypoint_error_cm"] > 0 for r in transfer["rows"])
    from sfv.motion import load_motion as load_any

    for character in ("atlas", "mujoco_humanoid"):
        reference = load_any(work / "data" / "morphology" / character / "jump" / "reference.npz", character)
        assert reference.skeleton.name == character
    assert (work / "data" / "morphology" / "jump_side_by_side.mp4").stat().st_size > 10_000
    # the report: every table from the metrics above
    report = json.loads((work / "metrics" / "report.json").read_text())
    assert report["imitation"]["ran"] and report["end_to_end"]["rows"] == 1
    assert report["reference_physics"]["ran"] and report["reference_physics"]["rows"] == 4  # 2 kinds, their means
    assert report["motion_completion"]["ran"] and report["terrain"]["ran"] and report["morphology"]["ran"]
    page = (work / "reports" / "results.html").read_text()
    assert "jump" in page and "not run" in page and "stage_params" not in page  # tables, no code
    assert (work / "plots" / "report" / "jump_video.mp4").stat().st_size > 5_000  # the rollout clips, linked...
    assert (work / "plots" / "report" / "terrain_jump_gaps_terrain.mp4").stat().st_size > 5_000
    assert page.count("data:video/mp4;base64,") >= 3  # ...and carried by the page alone, not by the notebook too
    assert "data:video/mp4" not in (work / "reports" / "notebooks" / "11_results.ipynb").read_text()
    assert "| jump | rendered |" in (work / "reports" / "results_overview.md").read_text()
    status = subprocess.run([str(env_bin / "dvc"), "status"], cwd=work, capture_output=True, text=True)
    assert "up to date" in status.stdout.lower() or status.stdout.strip() == "", status.stdout


@pytest.mark.slow
def test_failed_stage_keeps_notebook_with_error(tmp_path):
    """A stage whose notebook fails leaves `.failed.ipynb` beside where the output would be, and no output; a
    params mistake stops the run before any notebook starts."""
    shutil.copy2(ROOT / "params.yaml", tmp_path / "params.yaml")
    source = tmp_path / "notebooks" / "00_motion_library.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        '# %% tags=["parameters"]\nparams_file = "params.yaml"\n\n# %%\n'
        'raise RuntimeError("the stage broke on purpose")\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "sfv.cli", "run", "motion_library"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0
    assert "the stage broke on purpose" in proc.stderr + proc.stdout
    out = tmp_path / "reports" / "notebooks"
    assert (out / "00_motion_library.failed.ipynb").is_file()
    assert not (out / "00_motion_library.ipynb").exists()
    bad = (tmp_path / "params.yaml").read_text().replace("clips: all ", "clips: [walk, nosuchclip] ")
    (tmp_path / "params.yaml").write_text(bad)
    (out / "00_motion_library.failed.ipynb").unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "sfv.cli", "run", "motion_library"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 2 and "unknown mocap clips ['nosuchclip']" in proc.stderr
    assert not list(out.glob("*.ipynb"))


def test_architecture_page_names_every_module():
    """docs/architecture.md says which module owns which idea: a module added without a line there fails."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    modules = {p.stem for p in (ROOT / "sfv").glob("*.py") if p.stem not in ("__init__", "cli")}
    packages = {p.parent.name for p in (ROOT / "sfv").glob("*/__init__.py")}
    missing = sorted(m for m in modules | packages if f"`{m}`" not in page and f"`{m}/`" not in page)
    assert not missing, f"docs/architecture.md does not mention {missing}"
    for pkg in packages:
        for p in (ROOT / "sfv" / pkg).glob("*.py"):
            if p.stem != "__init__":
                assert f"`{p.stem}`" in page, f"docs/architecture.md does not mention sfv/{pkg}/{p.name}"


def test_running_a_notebook_leaves_the_callers_environment_alone(monkeypatch):
    """The kit's kernelspec goes first on JUPYTER_PATH only while a notebook runs."""
    from sfv.notebook import KERNELS, _kernels_first

    monkeypatch.setenv("JUPYTER_PATH", "/somewhere")
    with _kernels_first():
        assert os.environ["JUPYTER_PATH"].split(os.pathsep) == [str(KERNELS), "/somewhere"]
    assert os.environ["JUPYTER_PATH"] == "/somewhere"
    monkeypatch.delenv("JUPYTER_PATH")
    with pytest.raises(RuntimeError):
        with _kernels_first():
            raise RuntimeError("a failing notebook")
    assert "JUPYTER_PATH" not in os.environ


def test_notebooks_are_numbered_in_pipeline_order():
    """A notebook's file number is its title's, and the numbers follow dvc.yaml's stages (the report last)."""
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    numbers = []
    for stage in spec:
        source = NOTEBOOKS[stage]
        number = Path(source).name[:2]
        title = next(line for line in (ROOT / source).read_text().splitlines() if line.startswith("# # "))
        assert title.startswith(f"# # {number} · "), (source, title)
        numbers.append(number)
    assert numbers == sorted(numbers), list(zip(spec, numbers))
