"""The pipeline's wiring: notebooks take exactly their params.yaml section, DVC stages declare what they
read, and (slow) `dvc repro` works on a fresh copy of the repository."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
import yaml

from sfv.config import PER_CLIP_STAGES, STAGE_SECTIONS
from sfv.notebook import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]


def parameters_cell(source: Path) -> dict:
    nb = jupytext.read(source)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{source}: needs exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    return {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}


@pytest.mark.parametrize("stage", sorted(NOTEBOOKS))
def test_notebook_parameters_are_its_section(stage):
    names = set(parameters_cell(ROOT / NOTEBOOKS[stage]))
    extra = {"clip", "clip_params"} if stage in PER_CLIP_STAGES else set()
    assert names == set(STAGE_SECTIONS[stage].model_fields) | {"seed"} | extra


def _sfv_modules_imported(source: Path) -> set[str]:
    """sfv modules a notebook imports, and (one level down) the sfv modules those import."""
    def imports(path: Path) -> set[str]:
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "sfv":
                found |= {f"sfv/{a.name}.py" for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sfv."):
                found.add(node.module.replace(".", "/") + ".py")
        return {m for m in found if (ROOT / m).is_file()}

    direct = imports(source)
    return direct | {m for d in direct for m in imports(ROOT / d)}


@pytest.mark.parametrize("stage", sorted(NOTEBOOKS))
def test_dvc_stage_declares_notebook_params_and_code(stage):
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]
    if stage in PER_CLIP_STAGES:
        assert spec["foreach"] == f"${{{stage}.clips}}"
        spec = spec["do"]
        assert spec["cmd"] == f"python -m sfv.cli run {stage} --clip ${{item}}"
        assert "clips.${item}" in spec["params"]
        sections = {p for p in spec["params"] if p.startswith(f"{stage}.")}
        assert sections == {f"{stage}.{f}" for f in STAGE_SECTIONS[stage].model_fields if f != "clips"}
    else:
        assert spec["cmd"] == f"python -m sfv.cli run {stage}"
        assert stage in spec["params"]
    assert NOTEBOOKS[stage] in spec["deps"]
    assert "base.seed" in spec["params"]
    used = {"sfv/config.py", "sfv/notebook.py"} | _sfv_modules_imported(ROOT / NOTEBOOKS[stage])
    missing = sorted(m for m in used if m not in spec["deps"])
    assert not missing, f"dvc.yaml stage {stage} does not list {missing} as deps"


def test_executed_notebooks_are_not_committed():
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked.strip() == ""


@pytest.mark.slow
def test_dvc_repro_on_a_fresh_copy(tmp_path):
    """What a user does after cloning: `dvc repro` runs every stage and writes its outputs and metrics."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    work = tmp_path / "clone"
    for rel in filter(None, tracked.split("\0")):
        if (ROOT / rel).is_file():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, work / rel)
    for rel in ("data/mocap", "plots/motion_library", "metrics/motion_library.json", "dvc.lock"):
        assert not (work / rel).exists() or rel.endswith((".json", ".lock")), f"{rel} should not be in git"
    (work / "metrics" / "motion_library.json").unlink(missing_ok=True)
    shutil.rmtree(work / "metrics" / "imitate", ignore_errors=True)
    shutil.rmtree(work / "metrics" / "render", ignore_errors=True)
    shutil.rmtree(work / "metrics" / "pose", ignore_errors=True)
    shutil.rmtree(work / "metrics" / "reconstruct", ignore_errors=True)
    shutil.rmtree(work / "plots" / "pose_confidence", ignore_errors=True)
    (work / "metrics" / "clips.json").unlink(missing_ok=True)
    shutil.rmtree(work / "plots" / "imitate_curves", ignore_errors=True)
    # the imitation stage on a smoke budget: two PPO updates, a checkpoint, a 2 s evaluation with video
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["imitate"]["ppo"].update(total_timesteps=2048, n_steps=128, checkpoint_every=1024)
    params["imitate"]["evaluation"].update(seconds=2, width=320, height=192)
    # two short ground-truth clips (the other mocap clips leave `clips` too, or the clips stage would look for them)
    params["render"].update(clips=["jump", "walk"], width=320, height=240)
    params["clips"] = {"jump": {**params["clips"]["jump"], "frames": [0, 12]},
                       "walk": {**params["clips"]["walk"], "frames": [0, 6]},
                       "sports2d_demo": {**params["clips"]["sports2d_demo"], "frames": [95, 110]}}
    params["pose"].update(clips=["jump", "sports2d_demo"])
    params["reconstruct"].update(clips=["jump"], ik_iterations=20, iterations=20, ablation_smoothness=[1e-5])
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    env_bin = Path(sys.executable).parent
    proc = subprocess.run(
        [str(env_bin / "dvc"), "repro"], cwd=work, capture_output=True, text=True, timeout=900,
        env={"PATH": f"{env_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg",
             "ANNY_CACHE_DIR": str(ROOT / ".cache" / "anny")},  # reuse the body model built once per checkout
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads((work / "metrics" / "motion_library.json").read_text())
    assert metrics["clips"] == 15 and metrics["total_frames"] > 1500
    assert len(list((work / "data" / "mocap").glob("*.npz"))) == 15
    index = json.loads((work / "data" / "mocap" / "index.json").read_text())
    assert index["walk"]["frames"] == 39 and index["backflip"]["fps"] == 16.0
    assert len(list((work / "plots" / "motion_library").glob("*.png"))) == 15
    assert (work / "reports" / "notebooks" / "00_motion_library.ipynb").is_file()
    render = json.loads((work / "metrics" / "render" / "jump.json").read_text())
    assert render["frames"] == 12 and render["coco_on_silhouette_fraction"] > 0.95
    assert (work / "data" / "rendered" / "jump.mp4").stat().st_size > 10_000
    assert (work / "data" / "rendered" / "jump.gt.npz").is_file()
    assert (work / "plots" / "render" / "jump" / "contact_sheet.png").is_file()
    clips = json.loads((work / "metrics" / "clips.json").read_text())
    assert clips["index"]["sports2d_demo"]["frames"] == 15 and clips["index"]["jump"]["kind"] == "rendered"
    assert {p.name for p in (work / "plots" / "clips").glob("*.png")} == {"jump.png", "walk.png", "sports2d_demo.png"}
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
    imitate = json.loads((work / "metrics" / "imitate" / "walk.json").read_text())
    assert imitate["train_samples"] == 2048 and imitate["survived_seconds"] > 0
    assert (work / "data" / "policies" / "walk" / "model.zip").is_file()
    assert (work / "data" / "policies" / "walk" / "evaluation.mp4").stat().st_size > 10_000
    assert {p.name for p in (work / "plots" / "imitate" / "walk").glob("*.png")} >= {
        "reward_terms.png", "pd_only.png", "rsi_start_phases.png", "learning_curves.png", "evaluation.png"}
    assert (work / "reports" / "notebooks" / "03_motion_imitation_walk.ipynb").is_file()
    assert len((work / "plots" / "imitate_curves" / "walk.csv").read_text().splitlines()) == 3  # header + 2 updates
    status = subprocess.run([str(env_bin / "dvc"), "status"], cwd=work, capture_output=True, text=True)
    assert "up to date" in status.stdout.lower() or status.stdout.strip() == "", status.stdout


@pytest.mark.slow
def test_failed_stage_keeps_notebook_with_error(tmp_path):
    """A stage that fails leaves `.failed.ipynb` beside where the output would be, and no output."""
    for rel in ("params.yaml", "notebooks/00_motion_library.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    params = (tmp_path / "params.yaml").read_text().replace("clips: all ", "clips: [walk, nosuchclip] ")
    (tmp_path / "params.yaml").write_text(params)
    proc = subprocess.run([sys.executable, "-m", "sfv.cli", "run", "motion_library"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "nosuchclip" in proc.stderr + proc.stdout
    out = tmp_path / "reports" / "notebooks"
    assert (out / "00_motion_library.failed.ipynb").is_file()
    assert not (out / "00_motion_library.ipynb").exists()
