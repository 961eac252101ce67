"""Install files agree with each other and with the README's two commands."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(reqs):
    out = {}
    for r in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", r.strip())
        assert m, f"not pinned with ==: {r!r}"
        out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pyproject = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == pyproject
    assert "python=3.11" in env["dependencies"]


def test_torch_pinned_and_no_second_opencv():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in deps
    assert not [d for d in deps if d.lower().startswith("opencv")]  # mediapipe brings opencv-contrib-python
    assert "mediapipe==0.10.21" in deps and "numpy==1.26.4" in deps


def test_readme_quickstart_is_two_make_targets_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands.*?```(?:bash|sh)?\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make repro", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^repro: setup", makefile, re.M) and re.search(r"^test: setup", makefile, re.M)
    assert "pip install --quiet torch==2.13.0" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
