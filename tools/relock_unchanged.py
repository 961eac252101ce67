"""Re-lock the stages that a change to shared code cannot have changed, after checking that on a few of them.

Every stage depends on the modules its notebook imports, so a change to one shared by all (`sfv/notebook.py`,
which names the stages, or `sfv/paths.py`) marks every stage stale, though it changes no output: a new stage's name
added to them, say. Re-running them all costs hours (renders, pose estimation, reconstruction). This re-runs the
`--check` stages for real and compares their outputs with the lock's (executed notebooks aside: they record when
they ran; so are a metrics file's wall-clock timings, CLOCK_KEYS); only if every one is bit-identical does it
`dvc commit` the other stages whose only changed dependencies are the `files` named. A stage stale for any other
reason is left for `dvc repro`.

    python tools/relock_unchanged.py sfv/notebook.py sfv/paths.py --check motion_library clip@walk cameras

A new setting whose default keeps what the stages did is named with `--new-params` (its stages are then stale for a
new parameter too). A stage the change does alter is re-run with `dvc repro` first, so it is no longer a candidate.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _dvc(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"`dvc {' '.join(args)}` failed:\n{proc.stderr[-2000:] or proc.stdout[-2000:]}")
    return proc.stdout


def only_these_changed(status: dict, files: set[str], new_params: set[str] = frozenset()) -> list[str]:
    """The stages of `dvc status --json` whose only change is a modified dependency among `files`, or a parameter
    among `new_params` that is new to them (a setting added with a default that keeps what they did)."""
    out = []
    for stage, changes in status.items():
        changed = []
        for change in changes:
            if isinstance(change, dict) and set(change) == {"changed deps"}:
                changed += [(path, how) for path, how in change["changed deps"].items()]
            else:
                changed.append((None, change))

        def allowed(path, how) -> bool:
            if isinstance(how, dict):  # a params file: {key: "new" | "modified" | "deleted"}
                return all(key in new_params and what == "new" for key, what in how.items())
            return path in files and how == "modified"

        if changed and all(allowed(path, how) for path, how in changed):
            out.append(stage)
    return out


#: metrics that time a run (wall clock): they differ between any two runs, whatever the code
CLOCK_KEYS = {
    "render_seconds_per_frame",
    "wall_seconds",
    "train_wall_seconds",
    "samples_per_second",
    "seconds_video_mode",
    "seconds_search",
}


def without_clock(value):
    """A metrics document with its wall-clock figures (CLOCK_KEYS, at any depth) left out."""
    if isinstance(value, dict):
        return {k: without_clock(v) for k, v in value.items() if k not in CLOCK_KEYS}
    if isinstance(value, list):
        return [without_clock(v) for v in value]
    return value


def _same_but_clock(before: str | None, path: str) -> bool:
    """Whether the metrics JSON at `path` says what `before` (its text before the re-run) said, timings aside."""
    if before is None or not path.endswith(".json") or not (ROOT / path).is_file():
        return False
    return without_clock(json.loads(before)) == without_clock(json.loads((ROOT / path).read_text()))


def _outputs(stage: str) -> dict[str, str]:
    """A stage's locked outputs (path -> md5), executed notebooks aside."""
    entry = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"][stage]
    return {o["path"]: o.get("md5") for o in entry.get("outs", []) if not o["path"].endswith(".ipynb")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="the shared files that changed (paths as in dvc.yaml)")
    parser.add_argument("--check", nargs="+", required=True, help="stages to re-run and compare first")
    parser.add_argument(
        "--new-params", nargs="*", default=[], help="settings added to params.yaml whose default keeps what stages did"
    )
    args = parser.parse_args(argv)
    candidates = only_these_changed(json.loads(_dvc("status", "--json")), set(args.files), set(args.new_params))
    missing = [s for s in args.check if s not in candidates]
    if missing:
        raise SystemExit(f"--check stages {missing} are not stale for {args.files} alone; pick among {candidates}")
    for stage in args.check:
        before = _outputs(stage)
        texts = {p: (ROOT / p).read_text() for p in before if p.endswith(".json") and (ROOT / p).is_file()}
        _dvc("repro", "--single-item", stage)
        after = _outputs(stage)
        changed = sorted(p for p in before if before[p] != after.get(p) and not _same_but_clock(texts.get(p), p))
        if changed:
            raise SystemExit(f"{stage}: outputs changed ({changed}): the change is not neutral; run `dvc repro`")
        print(f"{stage}: re-run, outputs bit-identical (wall-clock timings aside)")
    rest = [s for s in candidates if s not in args.check]
    if rest:
        _dvc("commit", "--force", *rest)
    print(f"re-locked {len(rest)} stages without running them: {', '.join(rest) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
