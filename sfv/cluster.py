"""Many training runs at once on a Ray cluster: each DVC stage (a clip's `imitate@<clip>`, any stage) as a Ray task.

`dvc repro` runs stages one after another on one machine, and DVC's queue (`dvc exp run --queue`, `dvc queue start
-j N`) runs whole experiments side by side on that machine. Across machines this module does it with Ray:

1. the stages the targets depend on are brought up to date first, on this machine, by `dvc repro` (they are the
   short ones: render, pose, reconstruction);
2. each target's own command (its `cmd` in dvc.yaml, exactly what `dvc repro` would run) goes out as one Ray task,
   all at once; Ray places them on the cluster's nodes by the CPUs they ask for (`cluster.cpus_per_run`), and
   each run's rollout workers follow `cluster.backend` (Ray actors, or processes on the run's node);
3. when they are done, `dvc commit` records what the runs wrote (policies, metrics, learning curves) in dvc.lock,
   so `dvc status` / `dvc repro` see them as up to date.

The repository must be at the same path on every node (one machine, or a shared filesystem): the runs write their
outputs and checkpoints there. A run whose node is lost is started again by Ray (`cluster.max_run_retries`) and
resumes from its last checkpoint (sfv.imitate.train).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sfv.settings.cluster import ClusterParams


@dataclass(frozen=True)
class RunResult:
    stage: str
    returncode: int
    seconds: float
    node: str  # the Ray node the run ended on
    log: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def stage_plan(targets: list[str], repo: Path = Path(".")) -> tuple[dict[str, str], list[str]]:
    """Each target stage's command (from dvc.yaml) and the stages they depend on (not themselves), for `dvc repro`.
    A name that is not a stage raises ValueError naming the stages there are."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    with contextlib.chdir(repo), Repo(".") as dvc_repo:  # DVC names stages relative to the working directory
        commands, upstream = {}, []
        graph = dvc_repo.index.graph
        for target in targets:
            try:
                stages = dvc_repo.stage.collect(target)
            except DvcException as err:
                names = sorted(s.addressing for s in dvc_repo.index.stages)
                raise ValueError(
                    f"{target!r} is not a stage of {repo.resolve() / 'dvc.yaml'} ({err}); stages: {', '.join(names)}"
                ) from None
            for stage in stages:
                if not stage.cmd:
                    raise ValueError(f"stage {stage.addressing} has no command to run")
                commands[stage.addressing] = stage.cmd if isinstance(stage.cmd, str) else " && ".join(stage.cmd)
                upstream += [s.addressing for s in graph.successors(stage)]
        upstream = sorted(set(upstream) - set(commands))
    return commands, upstream


def _run_command(stage: str, command: str, cwd: str, log: str) -> tuple[int, float, str]:
    """A stage's command in the repository, its output to `log`; (exit code, seconds, Ray node)."""
    import ray

    start = time.time()
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        out.write(
            f"--- {stage}: {command} (node {ray.get_runtime_context().get_node_id()}, "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n"
        )
        out.flush()
        # the node's Python first on the PATH: the stage's `python -m sfv.cli ...` is the kit's environment there
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        # and this cluster's address, so a run with `cluster.backend: ray` puts its rollout workers here too
        address = os.environ.get("RAY_ADDRESS") or ray.get_runtime_context().gcs_address
        code = subprocess.run(
            command,
            shell=True,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PATH": path, "PYTHONUNBUFFERED": "1", "RAY_ADDRESS": address},
        ).returncode
    return code, time.time() - start, ray.get_runtime_context().get_node_id()


def run_stages(
    targets: list[str],
    cluster: ClusterParams = ClusterParams(),
    repo: Path = Path("."),
    reproduce_upstream: bool = True,
    commit: bool = True,
    echo=print,
) -> list[RunResult]:
    """Run the target stages at once as Ray tasks (see the module's docstring); one result per target."""
    from sfv.rollout_workers.ray_vec_env import connect

    repo = Path(repo).resolve()
    commands, upstream = stage_plan(targets, repo)
    if reproduce_upstream and upstream:
        echo(f"bringing {len(upstream)} upstream stages up to date here: dvc repro {' '.join(upstream)}")
        subprocess.run(["dvc", "repro", *upstream], cwd=repo, check=True)
    ray = connect(cluster.address)
    task = ray.remote(_run_command).options(num_cpus=cluster.cpus_per_run, max_retries=cluster.max_run_retries)
    logs = {s: repo / "logs" / "cluster" / f"{s.replace('@', '_')}.log" for s in commands}
    echo(
        f"{len(commands)} runs on Ray ({ray.cluster_resources().get('CPU', 0):g} CPUs, "
        f"{len([n for n in ray.nodes() if n['Alive']])} nodes): {', '.join(commands)}; "
        f"logs in {logs[targets[0]].parent}"
    )
    refs = {task.remote(s, cmd, str(repo), str(logs[s])): s for s, cmd in commands.items()}
    results = {}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        stage = refs[done[0]]
        code, seconds, node = ray.get(done[0])
        results[stage] = RunResult(stage, code, seconds, node, logs[stage])
        outcome = "done" if code == 0 else f"FAILED (exit {code}), see {logs[stage]}"
        echo(f"  {stage}: {outcome} in {seconds / 60:.1f} min on node {node[:8]}")
    ok = [s for s in commands if results[s].ok]
    if commit and ok:
        subprocess.run(["dvc", "commit", "--force", *ok], cwd=repo, check=True)
        echo(f"dvc.lock records {', '.join(ok)}")
    return [results[s] for s in commands]


def main(argv: list[str] | None = None) -> int:
    """`sfv cluster STAGE...`: the stages at once on the Ray cluster of params.yaml's `cluster` section."""
    import argparse

    from sfv.config import load_params

    ap = argparse.ArgumentParser(prog="sfv cluster", description=main.__doc__)
    ap.add_argument("stages", nargs="+", help="dvc.yaml stages, e.g. imitate@walk imitate@jump")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument(
        "--address", default=None, help="Ray cluster address (default: params.yaml cluster.address, then $RAY_ADDRESS)"
    )
    ap.add_argument("--no-upstream", action="store_true", help="do not run `dvc repro` on the stages they depend on")
    ap.add_argument("--no-commit", action="store_true", help="do not record the outputs in dvc.lock")
    a = ap.parse_args(argv)
    cluster = load_params(a.params).cluster
    if a.address:
        cluster = cluster.model_copy(update={"address": a.address})
    try:
        results = run_stages(a.stages, cluster, Path("."), reproduce_upstream=not a.no_upstream, commit=not a.no_commit)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0 if all(r.ok for r in results) else 1
