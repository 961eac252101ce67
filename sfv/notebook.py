"""Run a stage's notebook: jupytext py:percent source -> papermill, given the params file and the clip.

The executed .ipynb is a DVC output. The kernel is always the interpreter running this code (a
`python3` kernelspec shipped in the package, first on JUPYTER_PATH), so a stage never silently runs
in another environment's Python.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

from sfv import paths
from sfv.config import DEFAULT_PARAMS, Params, ParamsError, load_params

#: stage -> notebook source (relative to the repository root)
NOTEBOOKS = {
    "motion_library": "notebooks/00_motion_library.py",
    "render": "notebooks/01_ground_truth_clips.py",
    "clip": "notebooks/02_input_clips.py",
    "pose": "notebooks/03_pose_estimation.py",
    "reconstruct": "notebooks/04_motion_reconstruction.py",
    "imitate": "notebooks/06_motion_imitation.py",
    "imitate_oracle": "notebooks/06_motion_imitation.py",
    "imitate_seed2": "notebooks/06_motion_imitation.py",
    "end_to_end": "notebooks/07_end_to_end.py",
    "cameras": "notebooks/05_reconstruction_by_camera.py",
    "report": "notebooks/11_results.py",
    "motion_completion": "notebooks/10_motion_completion.py",
    "irregular_terrain": "notebooks/09_irregular_terrain.py",
    "morphology_transfer": "notebooks/08_morphology_transfer.py",
}
#: stages that run once per clip (DVC `foreach`): their notebook also gets `clip`
PER_CLIP_STAGES = {"clip", "render", "pose", "reconstruct", *paths.IMITATION_RUNS}
#: stages that share a notebook tell it which they are: the imitation notebook learns from the video or the mocap,
#: with the project's seed or a further one
STAGE_ARGUMENTS = {
    stage: {"reference": reference, **({"seed_offset": offset} if offset else {})}
    for stage, (reference, offset) in paths.IMITATION_RUNS.items()
}
#: what tells apart the executed notebooks of stages that share a source
EXECUTED_SUFFIX = {"imitate_oracle": "_oracle", "imitate_seed2": "_seed2"}
KERNELS = Path(__file__).parent / "jupyter"


def notebook_parameters(params: Params, stage: str, clip: str | None, params_path: str | Path) -> dict:
    """What papermill injects into a stage's notebook: the params file to load (the notebook reads its section
    from it, so no value is copied into the notebook) and, for a per-clip stage, the clip."""
    if stage not in NOTEBOOKS:
        raise ParamsError(f"unknown stage {stage!r}; stages: {', '.join(NOTEBOOKS)}")
    values = {"params_file": str(params_path)}
    if stage in PER_CLIP_STAGES:
        if clip is None or clip not in params.clips:
            raise ParamsError(
                f"stage {stage!r} runs per clip: pass --clip NAME with NAME one of "
                f"{', '.join(params.clips) or '(no clips registered)'}"
            )
        values["clip"] = clip
    elif clip is not None:
        raise ParamsError(f"stage {stage!r} does not run per clip; drop --clip")
    return {**values, **STAGE_ARGUMENTS.get(stage, {})}


def executed_path(stage: str, root: Path = Path("."), clip: str | None = None) -> Path:
    stem = Path(NOTEBOOKS[stage]).stem + EXECUTED_SUFFIX.get(stage, "") + (f"_{clip}" if clip else "")
    return root / paths.EXECUTED_NOTEBOOKS / (stem + ".ipynb")


def notebook_source(stage: str, root: Path = Path(".")) -> Path:
    if stage not in NOTEBOOKS:
        raise KeyError(f"unknown stage {stage!r}; stages with a notebook: {', '.join(NOTEBOOKS)}")
    return root / NOTEBOOKS[stage]


def run_stage(
    stage: str,
    params_path: str | Path = DEFAULT_PARAMS,
    root: str | Path = ".",
    output: str | Path | None = None,
    progress: bool = True,
    clip: str | None = None,
) -> Path:
    """Execute the stage's notebook on params.yaml (for a per-clip stage, on `clip`). The file is checked
    here first, so a mistake stops the run before a kernel starts; the notebook then loads it itself."""
    import jupytext
    import papermill

    root = Path(root).resolve()
    params_file = (root / params_path).resolve()  # an absolute params_path stays as it is
    parameters = notebook_parameters(load_params(params_file), stage, clip, params_file)
    source = notebook_source(stage, root)
    output = Path(output) if output else executed_path(stage, root, clip)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (sfv)", "language": "python"}
    running = output.with_suffix(".running.ipynb")
    try:
        with _kernels_first():
            papermill.execute_notebook(
                nb,
                str(running),
                parameters=parameters,
                kernel_name="python3",
                cwd=str(root),
                progress_bar=progress,
                log_output=False,
                request_save_on_cell_execute=False,
            )
    except BaseException:
        failed = output.with_suffix(".failed.ipynb")
        if running.exists():
            os.replace(running, failed)
            print(f"stage {stage} failed; the executed notebook with the error is {failed}", file=sys.stderr)
        raise
    os.replace(running, output)
    return output


@contextmanager
def _kernels_first():
    """The kit's kernelspec first on JUPYTER_PATH while a notebook runs; the caller's environment is restored."""
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(KERNELS), before or ""]).rstrip(os.pathsep)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = before


def stage_params(params_file: str | Path = DEFAULT_PARAMS):
    """The validated params a stage's notebook runs with (`sfv.config.Params`).

    Under `sfv run` the path is absolute and the working directory is the repository root. Opened in
    Jupyter from `notebooks/`, the relative default is not found there: the notebook then moves to the
    repository root, where every data path of the kit is relative to.
    """
    path = Path(params_file)
    if not path.is_absolute() and not path.is_file() and (Path("..") / path).is_file():
        os.chdir("..")
        print(f"working directory: {Path.cwd()} (the repository root)")
    return load_params(path)
