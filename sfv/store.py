"""The shipped store: a DVC remote inside the repository (`store/`, the default remote in `.dvc/config`), so that a
fresh clone restores every stage's outputs and every training in progress without computing them again.

`save` puts what this machine made into the store: each training in progress under `runs/<stage>/<name>` (its
checkpoints) is tracked by a small `runs/<stage>/<name>.dvc` file, a finished one's file is dropped, every output is
pushed, and what nothing refers to any more is collected. `restore` is `dvc pull`: the outputs and the runs come back
(`make repro` does it before `dvc repro`), and an interrupted training resumes where the other machine left it. A
user with S3, SSH or a shared disk points the default remote elsewhere (`dvc remote add -d NAME URL`).
"""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from sfv import paths

#: what a run folder holds that never travels (TensorBoard logs, runs set aside): .dvcignore keeps them out
RUN_FOLDER_LOCAL = ("tb", "superseded")


class StoreError(RuntimeError):
    """The store cannot be used as asked (no default remote, a dvc command that failed)."""


def store_dir(root: Path = Path(".")) -> Path | None:
    """The default remote's folder, from .dvc/config (a path relative to .dvc/, as DVC reads it); None for a remote
    that is not a folder (S3, SSH, ...: `dvc push`/`pull` reach it all the same, git does not carry it)."""
    config = configparser.ConfigParser()
    config.read(root / ".dvc" / "config")
    name = config.get("core", "remote", fallback=None)
    section = f"'remote \"{name}\"'"
    if name is None or not config.has_section(section):
        raise StoreError(
            f"{root / '.dvc' / 'config'}: no default remote; the kit's is `store` (`dvc remote add -d store ../store`)"
        )
    url = config.get(section, "url")
    if "://" in url:
        return None
    return (root / ".dvc" / url).resolve() if not Path(url).is_absolute() else Path(url)


def _dvc(*args: str, root: Path = Path("."), check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, text=True, capture_output=True)
    if check and proc.returncode != 0:
        raise StoreError(f"`dvc {' '.join(args)}` failed ({proc.returncode}):\n{(proc.stderr or proc.stdout)[-3000:]}")
    return proc


def running_dvc(root: Path = Path(".")) -> list[str]:
    """The dvc commands running in this repository now (DVC's lock file names each one's process; the entries of
    processes that have ended stay in it and are passed over)."""
    import json
    import os

    lock = root / ".dvc" / "tmp" / "rwlock"
    try:
        info = json.loads(lock.read_text())
    except (OSError, ValueError):
        return []
    holders = [h for entries in info.get("read", {}).values() for h in entries]
    holders += list(info.get("write", {}).values())
    live = set()
    for holder in holders:
        pid = holder.get("pid")
        if not isinstance(pid, int) or pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:  # alive, another user's
            pass
        live.add(holder.get("cmd", f"pid {pid}"))
    return sorted(live)


def run_folders(root: Path = Path(".")) -> list[Path]:
    """Every training folder under runs/ (runs/<stage>/<name>), relative to `root`."""
    base = root / paths.RUNS
    return sorted(p.relative_to(root) for p in base.glob("*/*") if p.is_dir()) if base.is_dir() else []


def tracked_runs(root: Path = Path(".")) -> list[Path]:
    """The runs the store holds: runs/<stage>/<name>.dvc files, relative to `root`."""
    base = root / paths.RUNS
    return sorted(p.relative_to(root) for p in base.glob("*/*.dvc")) if base.is_dir() else []


def live_runs(root: Path = Path(".")) -> list[Path]:
    """The run folders that hold a checkpoint to resume from (a finished stage's run folder is emptied)."""
    from sfv.imitate.train import latest_checkpoint

    return [p for p in run_folders(root) if latest_checkpoint(root / p, report=None) is not None]


def folder_bytes(folder: Path) -> tuple[int, int]:
    """(bytes, files) under `folder`."""
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    return sum(p.stat().st_size for p in files), len(files)


def _object(store: Path, md5: str) -> Path:
    """Where DVC 3 keeps an object in a folder remote (files/md5/<2>/<30>, a directory's listing with `.dir`)."""
    return store / "files" / "md5" / md5[:2] / md5[2:]


def declared_stages(root: Path = Path(".")) -> list[str]:
    """Every stage dvc.yaml declares, a `foreach` stage once per item of the params list or mapping it names
    (`imitate@walk`), in dvc.yaml's order: what the store should hold once every stage has run."""
    import yaml

    spec = yaml.safe_load((root / "dvc.yaml").read_text()).get("stages", {})
    params = yaml.safe_load((root / "params.yaml").read_text()) if (root / "params.yaml").is_file() else {}
    names = []
    for stage, entry in spec.items():
        over = entry.get("foreach") if isinstance(entry, dict) else None
        if over is None:
            names.append(stage)
            continue
        items = over
        if isinstance(over, str) and over.startswith("${") and over.endswith("}"):
            items = params
            for key in over[2:-1].split("."):
                items = items.get(key, {}) if isinstance(items, dict) else {}
        names += [f"{stage}@{item}" for item in items]  # a mapping's keys, or a list's items
    return names


def contents(root: Path = Path(".")) -> list[dict]:
    """Per stage: the bytes of its cached outputs and whether the store holds each (metrics and curves are in git,
    not here). dvc.lock's stages first; then the stages dvc.yaml declares that have never run (`ran` False), which
    the store cannot hold yet."""
    import yaml

    store = store_dir(root)
    lock = root / "dvc.lock"
    if store is None or not lock.is_file():
        return []
    in_git = set(subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.splitlines())
    rows = []
    locked = yaml.safe_load(lock.read_text()).get("stages", {})
    for stage, entry in locked.items():
        outs = [o for o in entry.get("outs", []) if "md5" in o and o["path"] not in in_git]  # metrics: in git
        held = [o for o in outs if _object(store, o["md5"]).is_file()]
        if outs:
            rows.append(
                {
                    "stage": stage,
                    "bytes": sum(o.get("size", 0) for o in outs),
                    "held": len(held) == len(outs),
                    "outputs": len(outs),
                    "ran": True,
                }
            )
    rows += [
        {"stage": stage, "bytes": 0, "held": False, "outputs": 0, "ran": False}
        for stage in declared_stages(root)
        if stage not in locked
    ]
    return rows


def save(root: Path = Path("."), collect: bool = True, stage_git: bool = True, say=print) -> dict:
    """Put this machine's outputs and trainings in progress into the store; returns what it holds.

    Run it before a machine goes away (the end of a session), then commit `store/`, `runs/*/*.dvc` and dvc.lock.
    Safe while a training runs: it tracks the run folder as it is at that moment (a checkpoint is complete
    before `latest` names it, and a restore falls back to the previous one if it caught one half-written); while a
    dvc command runs here it collects nothing (a running stage's outputs are gone from the workspace, and the
    store's copies of them would go too)."""
    root = Path(root)
    store = store_dir(root)
    live = live_runs(root)
    for run in live:
        _dvc("add", "--quiet", run.as_posix(), root=root)
        say(f"run in progress: {run} (tracked by {run.as_posix()}.dvc)")
    for dvc_file in tracked_runs(root):
        if dvc_file.with_suffix("") not in live:  # finished (its policy is a stage output) or gone
            _dvc("remove", dvc_file.as_posix(), root=root)
            say(f"run finished or removed: {dvc_file} dropped from the store")
    pushed = _dvc("push", root=root, check=False)
    if pushed.returncode != 0:
        # outputs listed in dvc.lock that this machine never made cannot be pushed; everything else was
        say(
            "dvc push: some outputs are not on this machine (stages not run here); the rest is in the store:\n"
            + _tail(pushed.stderr or pushed.stdout)
        )
    busy = running_dvc(root) if collect else []
    if busy:  # a running stage's outputs are half-made: collecting now would drop what the store held of them
        say(
            f"not collecting the store's unused objects while dvc runs here ({'; '.join(busy)}): run `sfv store save` "
            "again when it has ended"
        )
    elif collect:
        _dvc("gc", "--workspace", "--cloud", "--force", "--quiet", root=root)
    inside = store is not None and store.is_relative_to(root.resolve())
    if stage_git and inside and (root / ".git").exists():
        subprocess.run(
            ["git", "add", "-A", "--", str(store.relative_to(root.resolve())), paths.RUNS.as_posix()],
            cwd=root,
            check=False,
        )
    size, count = folder_bytes(store) if store is not None else (0, 0)
    where = store.relative_to(root.resolve()) if inside else store or "the default remote"
    say(
        f"store {where}: {size / 1e6:.1f} MB in {count} files; {len(live)} run(s) in progress. Commit it: "
        f"git commit -m 'store' -- {'store ' if inside else ''}runs dvc.lock"
    )
    return {"bytes": size, "files": count, "runs": [r.as_posix() for r in live]}


def restore(root: Path = Path("."), say=print, force: bool = False) -> dict:
    """Bring back from the store what this clone lacks: the stages' outputs and the trainings in progress (dvc
    pull; what the store does not hold is left to `dvc repro`). Returns the runs that can resume. A clone with
    files of its own where the store's would go gets nothing and a StoreError saying which (`force`: the store's
    replace them)."""
    root = Path(root)
    store = store_dir(root)
    if store is not None and not store.is_dir():
        say(f"no store at {store}: nothing to restore, `dvc repro` computes everything")
        return {"runs": []}
    pulled = _dvc("pull", "--allow-missing", *(["--force"] if force else []), root=root, check=False)
    if pulled.returncode != 0:
        message = (pulled.stderr or pulled.stdout).strip()
        in_the_way = [line.strip() for line in message.splitlines() if line.strip().startswith("/")]
        if "without confirmation" in message:  # a pull is all or nothing: this clone has files of its own there
            raise StoreError(
                f"nothing restored: {len(in_the_way)} file(s) of this clone would be replaced by the "
                f"store's, e.g. {', '.join(in_the_way[:3])}. Keep them: run `dvc repro` (it re-runs what "
                "does not match its lock); or take the store's copies: `sfv store restore --force`"
            )
        say("dvc pull could not restore everything (those stages will run again):\n" + _tail(message))
    from sfv.imitate.train import latest_checkpoint

    runs = []
    for dvc_file in tracked_runs(root):
        folder = root / dvc_file.with_suffix("")
        ckpt = latest_checkpoint(folder, report=say)
        if ckpt is None:
            say(f"{dvc_file}: no usable checkpoint came back; that training starts afresh")
        else:
            say(f"{folder.relative_to(root)}: resumes from {ckpt.name.lstrip('0') or '0'} samples")
            runs.append(folder.relative_to(root).as_posix())
    return {"runs": runs}


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join("  " + line for line in text.strip().splitlines()[-lines:])


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="sfv store", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    saving = sub.add_parser("save", help="outputs and trainings in progress into the store (then commit it)")
    saving.add_argument("--keep-unused", action="store_true", help="do not collect what nothing refers to")
    restoring = sub.add_parser("restore", help="outputs and trainings in progress back from the store (dvc pull)")
    restoring.add_argument("--force", action="store_true", help="the store's copies replace this clone's own files")
    sub.add_parser("size", help="what the store holds")
    args = parser.parse_args(argv)
    try:
        if args.action == "save":
            save(collect=not args.keep_unused)
        elif args.action == "restore":
            restore(force=args.force)
        else:
            store = store_dir()
            size, count = folder_bytes(store) if store is not None else (0, 0)
            rows = contents()
            for row in rows:
                state = "held" if row["held"] else "MISSING" if row["ran"] else "never run"
                print(f"  {row['stage']:<28} {row['bytes'] / 1e6:7.1f} MB  {state}")
            missing = [r["stage"] for r in rows if not r["held"]]
            print(
                f"{store or 'the default remote (not a folder)'}: {size / 1e6:.1f} MB in {count} files; "
                f"{len(rows) - len(missing)} of {len(rows)} stages' outputs held"
                + (f" (missing: {', '.join(missing[:8])}{', ...' if len(missing) > 8 else ''})" if missing else "")
                + "; runs in progress: "
                f"{', '.join(p.with_suffix('').as_posix() for p in tracked_runs()) or 'none'}"
            )
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
