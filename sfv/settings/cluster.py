"""Where training runs. No stage depends on it: for the same seeds the rollouts are the same on either backend."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from sfv.settings.common import Section


class ClusterParams(Section):
    """Where imitation's rollout workers run (sfv.rollout_workers) and how many runs share a Ray cluster
    (sfv.cluster). No stage lists its keys as parameters: for the same seeds the rollouts are the same on either
    backend (tests/test_cluster.py), so moving a run to a cluster does not re-run it."""

    backend: Literal["local", "ray"] = Field(
        "local",
        description="local: worker processes on this machine; ray: "
        "Ray actors on the nodes of a Ray cluster (needs the cluster extra)",
    )
    address: Optional[str] = Field(
        None,
        description='the Ray cluster ("auto", "host:6379", "ray://host:10001"); '
        "null: $RAY_ADDRESS, else a Ray started on this machine",
    )
    cpus_per_worker: float = Field(
        1.0, gt=0, description="Ray CPUs a rollout worker (a block of n_envs / n_workers simulators) asks for"
    )
    cpus_per_run: float = Field(
        1.0,
        ge=0,
        description="Ray CPUs a training run's learner asks for when runs go out "
        "as Ray tasks (sfv cluster); its rollout workers ask for theirs besides",
    )
    max_worker_replacements: int = Field(
        3,
        ge=0,
        description="rollout workers lost (with their node) that a run "
        "replaces before it stops; started again, it resumes from its checkpoint",
    )
    max_run_retries: int = Field(
        2,
        ge=0,
        description="times Ray starts a run again (it resumes from its last "
        "checkpoint) when the node running it is lost",
    )
