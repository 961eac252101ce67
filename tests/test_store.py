"""The shipped store: a training interrupted on one machine resumes on a fresh clone on another (slow: git, DVC and
a real training in subprocesses); the store's configuration is the one the kit documents (fast)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sfv.imitate.curve import read_curve
from sfv.imitate.train import latest_checkpoint
from tests.training import kill_after_checkpoint

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TINY = dict(n_envs=2, n_steps=256, batch_size=128, n_epochs=2, net_arch=(32, 32), checkpoint_every=512)


def test_the_default_remote_is_the_store_in_the_repository():
    from sfv.store import store_dir

    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc" / "config")
    assert config.get("core", "remote") == "store"
    assert store_dir(ROOT) == ROOT / "store"
    ignored = (ROOT / ".dvcignore").read_text()
    assert "/runs/*/*/tb/" in ignored and "/runs/*/*/superseded/" in ignored  # never shipped


def _git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def _sfv(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "sfv.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _kit_skeleton(dest: Path) -> Path:
    """A repository with the kit's DVC and git settings and nothing else of it (no pipeline to push)."""
    dest.mkdir(parents=True)
    for rel in (".dvc/config", ".dvcignore", ".gitignore"):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    (dest / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("commit", "-q", "-m", "kit", cwd=dest)
    return dest


@pytest.mark.slow
def test_an_interrupted_training_resumes_on_a_fresh_clone(tmp_path):
    """Machine A trains until it goes away (SIGKILL) and saves its run to the store; a clone on machine B restores
    it and resumes: the sample count continues and the curve up to the checkpoint is A's. A damaged newest
    checkpoint there is named and the one before it resumes."""
    from sfv.mocap import load_mocap
    from sfv.motion import save_npz

    a = _kit_skeleton(tmp_path / "a")
    save_npz(load_mocap("walk"), a / "reference.npz")
    _git("add", "reference.npz", cwd=a)
    _git("commit", "-q", "-m", "reference", cwd=a)
    run = Path("runs") / "imitate" / "walk"
    script = textwrap.dedent(f"""
        from sfv.config import EnvSettings, PPOSettings
        from sfv.imitate.train import train
        if __name__ == "__main__":
            train("reference.npz", "policy", EnvSettings(), ppo=PPOSettings(total_timesteps=100_000, **{TINY!r}),
                  seed=3, progress=False, run_dir={str(run)!r})
    """)
    (tmp_path / "train.py").write_text(script)
    saved = kill_after_checkpoint(tmp_path / "train.py", a, a / run, 1536)  # the machine goes away
    curve_a = read_curve(a / run / "curve.csv")

    said = _sfv("store", "save", cwd=a)
    assert f"run in progress: {run}" in said
    assert (a / run.with_suffix(".dvc")).is_file() and any((a / "store").rglob("*"))
    _git("commit", "-q", "-m", "store", cwd=a)
    assert not _git("status", "--porcelain", cwd=a).strip()  # everything to carry is committed, nothing else

    b = tmp_path / "b"
    _git("clone", "-q", str(a), str(b), cwd=tmp_path)
    assert not (b / run).exists()
    restored = _sfv("store", "restore", cwd=b)
    assert f"{run}: resumes from {saved} samples" in restored
    budget = saved + 1024
    resume = textwrap.dedent(f"""
        from sfv.config import EnvSettings, PPOSettings
        from sfv.imitate.train import train
        if __name__ == "__main__":
            print(train("reference.npz", "policy", EnvSettings(), ppo=PPOSettings(total_timesteps={budget},
                        **{TINY!r}), seed=3, progress=False, run_dir={str(run)!r})["timesteps"])
    """)
    (tmp_path / "resume.py").write_text(resume)
    out = subprocess.run([sys.executable, str(tmp_path / "resume.py")], cwd=b, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"resuming from {run / 'checkpoints' / f'{saved:012d}'} ({saved} samples done)" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == str(budget)
    curve_b = read_curve(b / "policy" / "curve.csv")
    assert [r for r in curve_b if r["timesteps"] <= saved] == [r for r in curve_a if r["timesteps"] <= saved]
    assert curve_b[-1]["timesteps"] == budget
    assert latest_checkpoint(b / run, report=None) is None  # finished: the run folder has served

    # a third machine whose restore cut the newest checkpoint short: named, and the one before it resumes
    c = tmp_path / "c"
    _git("clone", "-q", str(a), str(c), cwd=tmp_path)
    _sfv("store", "restore", cwd=c)
    newest = c / run / "checkpoints" / f"{saved:012d}" / "model.zip"
    newest.write_bytes(newest.read_bytes()[:1000])
    said = []
    assert int(latest_checkpoint(c / run, report=said.append).name) == saved - 512
    assert said == [
        f"checkpoint {c / run / 'checkpoints' / f'{saved:012d}'} is damaged and is passed over: "
        f"{newest}: damaged (File is not a zip file)"
    ]
    # restoring again keeps this clone's own file and says which; --force takes the store's copy back
    again = subprocess.run([sys.executable, "-m", "sfv.cli", "store", "restore"], cwd=c, capture_output=True, text=True)
    assert again.returncode == 2 and "nothing restored: 1 file(s)" in again.stderr and "model.zip" in again.stderr
    _sfv("store", "restore", "--force", cwd=c)
    assert int(latest_checkpoint(c / run, report=None).name) == saved


def test_a_save_while_dvc_runs_collects_nothing(tmp_path, monkeypatch):
    """A running `dvc repro` has removed its stage's outputs from the workspace: collecting then would drop the
    store's copies of them. The save pushes but collects nothing, and says so; an ended process's lock entry (DVC
    leaves them) does not count."""
    import json
    import os
    import subprocess
    import sys

    from sfv import store

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".dvc" / "tmp").mkdir(parents=True)
    (tmp_path / ".dvc" / "config").write_text("[core]\n    remote = store\n['remote \"store\"']\n    url = ../store\n")
    rwlock = tmp_path / ".dvc" / "tmp" / "rwlock"
    gone = {"pid": int(ended.stdout), "cmd": "dvc repro old"}
    rwlock.write_text(json.dumps({"read": {"/x": [gone]}, "write": {}}))
    assert store.running_dvc(tmp_path) == []
    calls, said = [], []
    monkeypatch.setattr(store, "_dvc", lambda *args, **kw: calls.append(args) or subprocess.CompletedProcess(args, 0))
    store.save(tmp_path, stage_git=False, say=said.append)
    assert ("push",) in calls and any(c[0] == "gc" for c in calls)
    calls.clear()
    running = {"pid": os.getppid(), "cmd": "dvc repro --single-item imitate@jump"}  # a live process
    rwlock.write_text(json.dumps({"read": {"/x": [gone, running]}, "write": {"/y": running}}))
    assert store.running_dvc(tmp_path) == ["dvc repro --single-item imitate@jump"]
    store.save(tmp_path, stage_git=False, say=said.append)
    assert ("push",) in calls and not any(c[0] == "gc" for c in calls)
    assert any("not collecting" in s and "imitate@jump" in s for s in said)


def test_the_stages_the_store_should_hold_are_every_stage_dvc_yaml_declares(tmp_path):
    """dvc.yaml's stages, a `foreach` one once per item of its params list or mapping; one that never ran (not in
    dvc.lock) is counted, as never run, rather than left out of "N of M stages"."""
    from sfv.store import contents, declared_stages

    (tmp_path / "dvc.yaml").write_text(
        textwrap.dedent(
            """\
            stages:
              render: {cmd: a, outs: [out/render]}
              imitate: {foreach: "${imitate.clips}", do: {cmd: "b ${key}", outs: ["out/${key}"]}}
              oracle: {foreach: "${imitate.oracles}", do: {cmd: "c ${item}", outs: ["out/o_${item}"]}}
            """
        )
    )
    (tmp_path / "params.yaml").write_text("imitate:\n  clips: {walk: {}, jump: {}}\n  oracles: [walk]\n")
    assert declared_stages(tmp_path) == ["render", "imitate@walk", "imitate@jump", "oracle@walk"]
    (tmp_path / "store").mkdir()
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text("[core]\n    remote = store\n['remote \"store\"']\n    url = ../store\n")
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  imitate@walk:\n    cmd: b walk\n    outs:\n    - path: out/walk\n"
        "      md5: 0123456789abcdef0123456789abcdef.dir\n      size: 10\n"
    )
    _git("init", "-q", cwd=tmp_path)
    rows = {r["stage"]: r for r in contents(tmp_path)}
    assert set(rows) == {"render", "imitate@walk", "imitate@jump", "oracle@walk"}
    assert rows["imitate@walk"]["ran"] and not rows["imitate@walk"]["held"]  # ran, its outputs not pushed
    assert not rows["imitate@jump"]["ran"] and not rows["render"]["ran"]
