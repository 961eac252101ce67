"""A training in a subprocess killed with SIGKILL once it has checkpointed: the machine that goes away (shared by the
kill -9 and the change-of-machine tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sfv.imitate.train import latest_checkpoint


def kill_after_checkpoint(script: Path, cwd: Path, run_dir: Path, samples: int, timeout: float = 300.0) -> int:
    """Run `script` (a training into `run_dir`) until it has a checkpoint of at least `samples`, then SIGKILL it and
    its workers; returns the newest checkpoint's samples. A run that dies first fails the test with its log."""
    log = script.with_suffix(".log")
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(script)], cwd=cwd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            ckpt = latest_checkpoint(run_dir, report=None)
            if ckpt is not None and int(ckpt.name) >= samples:
                break
            if proc.poll() is not None:  # the run died before its checkpoint: say why
                pytest.fail(f"training exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        else:
            pytest.fail(f"no checkpoint of {samples} samples after {timeout:.0f} s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return int(latest_checkpoint(run_dir, report=None).name)
