"""Run a stage's notebook: jupytext py:percent source -> papermill with params.yaml injected.

The executed .ipynb is a DVC output. The kernel is always the interpreter running this code (a
`python3` kernelspec shipped in the package, first on JUPYTER_PATH), so a stage never silently runs
in another environment's Python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sfv.config import DEFAULT_PARAMS, load_params, notebook_parameters

#: stage -> notebook source (relative to the repository root)
NOTEBOOKS = {"motion_library": "notebooks/00_motion_library.py", "render": "notebooks/00_ground_truth_clips.py",
             "clips": "notebooks/00_input_clips.py", "pose": "notebooks/01_pose_estimation.py",
             "reconstruct": "notebooks/02_motion_reconstruction.py", "imitate": "notebooks/03_motion_imitation.py"}
KERNELS = Path(__file__).parent / "jupyter"


def executed_path(stage: str, root: Path = Path("."), clip: str | None = None) -> Path:
    stem = Path(NOTEBOOKS[stage]).stem + (f"_{clip}" if clip else "")
    return root / "reports" / "notebooks" / (stem + ".ipynb")


def notebook_source(stage: str, root: Path = Path(".")) -> Path:
    if stage not in NOTEBOOKS:
        raise KeyError(f"unknown stage {stage!r}; stages with a notebook: {', '.join(NOTEBOOKS)}")
    return root / NOTEBOOKS[stage]


def run_stage(stage: str, params_path: str | Path = DEFAULT_PARAMS, root: str | Path = ".",
              output: str | Path | None = None, progress: bool = True, clip: str | None = None) -> Path:
    """Execute the stage's notebook with its params.yaml section (for a per-clip stage, on `clip`)."""
    import jupytext
    import papermill

    root = Path(root).resolve()
    params = load_params(root / params_path)  # an absolute params_path stays as it is
    parameters = notebook_parameters(params, stage, clip)
    source = notebook_source(stage, root)
    output = Path(output) if output else executed_path(stage, root, clip)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (sfv)", "language": "python"}
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(KERNELS), os.environ.get("JUPYTER_PATH", "")]).rstrip(os.pathsep)
    running = output.with_suffix(".running.ipynb")
    try:
        papermill.execute_notebook(
            nb, str(running), parameters=parameters, kernel_name="python3", cwd=str(root),
            progress_bar=progress, log_output=False, request_save_on_cell_execute=False,
        )
    except BaseException:
        failed = output.with_suffix(".failed.ipynb")
        if running.exists():
            os.replace(running, failed)
            print(f"stage {stage} failed; the executed notebook with the error is {failed}", file=sys.stderr)
        raise
    os.replace(running, output)
    return output
