"""Shared fixtures: the humanoid, a pybullet client (tests only: the package's kinematics never imports it)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# No per-example deadline: the first example pays for torch/roma warm-up, and CI machines are shared.
settings.register_profile("sfv", deadline=None, derandomize=True)
settings.load_profile("sfv")

REPORT: dict[str, str] = {}  # figures the tests measured, printed at the end of the run

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # the Ray tests' local clusters report nowhere


@pytest.fixture(scope="session")
def humanoid():
    from sfv.skeleton import load_character

    return load_character("humanoid")


@pytest.fixture(scope="session")
def bullet():
    """A DIRECT pybullet client with the humanoid loaded as the DeepMimic port loads it."""
    pybullet = pytest.importorskip("pybullet")
    import pybullet_data

    client = pybullet.connect(pybullet.DIRECT)
    pybullet.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
    body = pybullet.loadURDF(
        "humanoid/humanoid.urdf",
        [0, 0.889540259, 0],
        globalScaling=0.25,
        flags=pybullet.URDF_MAINTAIN_LINK_ORDER,
        physicsClientId=client,
    )
    joints = {
        pybullet.getJointInfo(body, j, physicsClientId=client)[12].decode(): j
        for j in range(pybullet.getNumJoints(body, physicsClientId=client))
    }
    yield pybullet, client, body, joints
    pybullet.disconnect(client)


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("sfv measured figures")
        for key, value in REPORT.items():
            terminalreporter.write_line(f"{key}: {value}")
