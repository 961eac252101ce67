"""Write the generated blocks of the README and of docs/ from the committed metrics and benchmark results, so that
no page quotes a measured figure by hand. A block is

    <!-- generated: NAME -->
    ...
    <!-- /generated: NAME -->

and NAME one of BLOCKS. `python tools/generated_blocks.py` rewrites every block in place; `--check` exits 1 when
one is stale (tests/test_report.py runs the check).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- generated: ([a-z_]+) -->\n)(.*?)(<!-- /generated: \2 -->)", re.S)
#: blocks that are tables of the results page (sfv.report.tables), by name
REPORT_TABLES = (
    "overview",
    "pose",
    "reconstruction",
    "imitation",
    "end_to_end",
    "limits",
    "reference_physics",
    "scenes",
    "cameras",
    "samples_to_skill",
    "asi",
    "morphology",
    "terrain",
    "motion_completion",
)


def _report_table(name: str, root: Path) -> str:
    from sfv.config import load_params
    from sfv.report.tables import all_tables

    table = all_tables(load_params(root / "params.yaml"), root)[name]
    return f"**{table.title}**\n\n{table.markdown()}"


def _levers(root: Path) -> str:
    from sfv.analysis import learning_speed

    parts = []
    for clip, (rows, curves) in learning_speed.lever_results(root).items():
        parts.append(
            f"**Lever ablation on `{clip}`** (`bench/results/levers/{clip}.json`; mocap reference, one seed, "
            f"evaluation after the budget)\n\n{learning_speed.lever_table(rows, curves)}"
        )
    return "\n\n".join(parts) or "*not run yet:* `python bench/imitation_levers.py`"


def _skills(root: Path) -> str:
    from sfv.analysis import learning_speed

    rows, _ = learning_speed.skill_results(root)
    if not rows:
        return "*not run yet:* `python bench/samples_to_skill.py`"
    return (
        "**Samples to skill** (`bench/results/samples_to_skill/table.json`; the defaults, but where the clip's "
        f"column names a variant and its overrides)\n\n{learning_speed.skill_table(rows)}"
    )


def _training_cost(root: Path) -> str:
    """The trainings' samples and wall-clock hours as their metrics recorded them: what `make repro-all` trains again
    (on the machines that trained them, with whatever else shared their cores)."""
    import json

    from sfv.markdown import markdown_table

    rows, total_samples, total_hours = [], 0.0, 0.0
    for stage in ("imitate", "imitate_oracle"):
        files = sorted((root / "metrics" / stage).glob("*.json"))
        runs = [json.loads(f.read_text()) for f in files]
        samples = sum(r.get("train_samples", 0) for r in runs) / 1e6
        hours = sum(r.get("train_wall_seconds", 0.0) for r in runs) / 3600
        rows.append([stage, len(runs), f"{samples:.1f}", f"{hours:.1f}"])
        total_samples, total_hours = total_samples + samples, total_hours + hours
    morphology = root / "metrics" / "morphology_transfer.json"
    if morphology.is_file():
        runs = json.loads(morphology.read_text())["rows"]
        samples, hours = sum(r["samples_m"] for r in runs), sum(r["minutes"] for r in runs) / 60
        rows.append(["morphology_transfer", len(runs), f"{samples:.1f}", f"{hours:.1f}"])
        total_samples, total_hours = total_samples + samples, total_hours + hours
    terrain = root / "metrics" / "irregular_terrain.json"
    if terrain.is_file():
        runs = [r for r in json.loads(terrain.read_text())["rows"] if r.get("terrain_samples_m")]
        samples = sum(r["terrain_samples_m"] for r in runs)
        rows.append(["irregular_terrain", len(runs), f"{samples:.1f}", "not recorded"])
        total_samples += samples
    rows.append(["**all**", "", f"**{total_samples:.1f}**", f"**{total_hours:.1f}** and the terrain's"])
    return "**The trainings, as their metrics recorded them**\n\n" + markdown_table(
        ["stage", "policies", "samples (M)", "hours"], rows
    )


def _training_compute(root: Path) -> str:
    """Each imitation policy's training compute as its metrics recorded it: samples, minutes, samples per second, and
    whether it stopped as learned before its budget (`imitate.ppo.stop_after_learned`) or spent it (the trainings
    still in progress are the store's: the `store` block)."""
    import json

    from sfv.markdown import markdown_table

    rows = []
    for stage, kind in (("imitate", "video"), ("imitate_oracle", "mocap (oracle)")):
        for f in sorted((root / "metrics" / stage).glob("*.json")):
            m = json.loads(f.read_text())
            seconds = m.get("train_wall_seconds", 0.0)
            rows.append(
                [
                    f.stem,
                    kind,
                    f"{m['train_samples'] / 1e6:.2f}",
                    f"{seconds / 60:.0f}",
                    f"{m['train_samples'] / max(seconds, 1e-9):.0f}",
                    "learned: stopped early" if m.get("train_stopped_learned") else "its budget",
                ]
            )
    return (
        "**Training compute per policy** (the kit's development machines: 2 CPU cores, no GPU; a run shares them "
        "with whatever else ran)\n\n"
        + markdown_table(["clip", "reference", "samples (M)", "minutes", "samples/s", "trained until"], rows)
    )


def _store(root: Path) -> str:
    """The shipped store's size in the repository and which stages' outputs it holds (`sfv store size` in full)."""
    from sfv.store import contents, folder_bytes, store_dir, tracked_runs

    store = store_dir(root)
    size, count = folder_bytes(root / store) if store is not None else (0, 0)
    rows = contents(root)
    held = [r["stage"] for r in rows if r["held"]]
    missing = [r["stage"] for r in rows if not r["held"] and r["ran"]]
    never = [r["stage"] for r in rows if not r["ran"]]
    families = sorted({s.split("@")[0] for s in held})
    line = (
        f"The shipped store (`store/`) holds **{size / 1e6:.1f} MB** in {count} files (budget: 150 MB): the outputs "
        f"of {len(held)} of the {len(rows)} stages dvc.yaml declares ({', '.join(families) or 'none'})"
    )
    line += f"; not yet: {', '.join(missing)}" if missing else ""
    line += f"; never run: {', '.join(never)}" if never else ""
    runs = [p.with_suffix("").as_posix() for p in tracked_runs(root)]
    line += f". Trainings in progress it carries: {', '.join(runs)}." if runs else "."
    return line


def block(name: str, root: Path = ROOT) -> str:
    """The content of block `name`, from the files under `root`."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    if name == "results":  # the README's summary: the overview and the end-to-end table
        return "\n\n".join(_report_table(n, root) for n in ("overview", "end_to_end"))
    if name == "levers":
        return _levers(root)
    if name == "training_cost":
        return _training_cost(root)
    if name == "store":
        return _store(root)
    if name == "training_compute":
        return _training_compute(root)
    if name == "samples_to_skill_runs":
        return _skills(root)
    if name in REPORT_TABLES:
        return _report_table(name, root)
    raise SystemExit(
        f"unknown generated block {name!r}: known are results, levers, samples_to_skill_runs, training_cost, "
        "training_compute, store, "
        f"{', '.join(REPORT_TABLES)}"
    )


def filled(text: str, root: Path = ROOT) -> str:
    """`text` with every generated block rewritten."""
    return BLOCK.sub(lambda m: f"{m.group(1)}{block(m.group(2), root)}\n{m.group(4)}", text)


def pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a page's block is not what the files say")
    args = parser.parse_args(argv)
    stale = []
    for path in pages():
        text = path.read_text()
        new = filled(text)
        if new == text:
            continue
        if args.check:
            stale.append(path.relative_to(ROOT).as_posix())
        else:
            path.write_text(new)
            print(f"{path.relative_to(ROOT)}: generated blocks written")
    if stale:
        print(f"stale generated blocks in {', '.join(stale)}; run `python tools/generated_blocks.py`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
