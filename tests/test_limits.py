"""What limits a policy (sfv.analysis.limits): its readings of a rollout hold to the rollout's own figures, see a
turn for what it is, and name what ended a fall."""

from __future__ import annotations

import numpy as np
import pytest

from sfv import rotations
from sfv.analysis import limits
from sfv.config import EnvSettings, RewardParams
from sfv.imitate.evaluate import ended_by_text, rollout
from sfv.imitate.reference import ReferenceTrack
from sfv.mocap import load_mocap

RATE = 30.0


@pytest.fixture(scope="module")
def walk():
    return load_mocap("walk")


@pytest.fixture(scope="module")
def pd_walk(walk):
    """The PD controller alone on the walk, started late in its cycle so that it walks on into the next (a cyclic
    reference moves on there) before it falls."""
    log = rollout(None, walk, EnvSettings(), RewardParams(), seconds=1.0, start_time=1.1)
    assert log["time"][-1] > walk.duration + 0.3
    return log


def test_the_body_errors_are_the_tracking_error_body_by_body(walk, pd_walk):
    """Averaged over the bodies, each step's body errors are the env's own tracking error (to rounding), across the
    cycle's wrap; the diagnosis reports that mean and the bodies that carry most of it."""
    errors = limits.per_body_error(pd_walk, ReferenceTrack(walk, RATE))
    assert errors.shape == (len(pd_walk["time"]), len(walk.skeleton.body_names))
    np.testing.assert_allclose(errors.mean(axis=1), pd_walk["tracking_error"], atol=1e-9)
    assert pd_walk["tracking_error"].max() > 0.02  # the PD controller alone does drift: the check is not of zeros
    d = limits.diagnose(pd_walk, walk, RATE)
    assert d["tracking_cm"] == pytest.approx(100 * pd_walk["tracking_error_mean"], abs=0.01)
    assert d["survived_s"] == pytest.approx(pd_walk["survived_seconds"], abs=1e-3)
    assert d["ended_by"] == pd_walk["ended_by"] != []  # it fell, on a body that may not touch the ground
    worst = [name for name, _ in d["worst_bodies"]]
    assert worst == [walk.skeleton.body_names[b] for b in np.argsort(-errors.mean(axis=0))[: limits.WORST_BODIES]]


def test_a_pose_turned_about_the_vertical_lags_by_that_turn_and_nothing_else(walk):
    """The reference itself, every frame turned 30 degrees about the vertical through its root: its heading lags by
    30 degrees, its turned-to-heading error is zero while its tracking error is not; a root pitched over (its forward
    axis turned up, as in a flip) has no heading to compare."""
    track = ReferenceTrack(walk, RATE)
    times = np.arange(1, track.n) / RATE
    rows, _ = track.locate_many(times)
    up = np.zeros(3)
    up["xyz".index(walk.skeleton.up_axis)] = 1.0
    turn = rotations.from_axis_angle(up, np.array(np.radians(30.0)))
    root_pos, root_rot = track.root_pos[rows], track.root_rot[rows]
    body_pos = root_pos[:, None] + rotations.rotate(turn, track.body_pos[rows] - root_pos[:, None])
    log = {"time": times, "root_pos": root_pos, "root_rot": rotations.multiply(turn, root_rot), "body_pos": body_pos}
    lag = limits.heading_lag_deg(log, track)
    np.testing.assert_allclose(lag, 30.0, atol=1e-6)
    assert limits.heading_aligned_error(log, track).max() < 1e-9
    assert limits.per_body_error(log, track).mean() > 0.05
    pitched = rotations.from_axis_angle(np.cross(up, [1.0, 0.0, 0.0]), np.array(np.pi / 2))  # forward turned up
    log["root_rot"] = rotations.multiply(np.broadcast_to(pitched, root_rot.shape), root_rot)
    assert np.isnan(limits.heading_lag_deg(log, track)).all()


def test_a_fall_names_the_bodies_that_ended_it(walk):
    """Started lying on its side, the character falls at the first step and the rollout names the bodies on the
    ground, feet left out; a body the clip allows on the ground (`ground_contacts`) is not named."""
    lying = rotations.from_axis_angle(np.array([1.0, 0.0, 0.0]), np.array(np.pi / 2))

    def on_its_side(env):
        return {"root_pos": [0.0, 0.12, 0.0], "root_rot": lying, "joint_rot": env.reference.joint_rot[0]}

    fell = rollout(None, walk, EnvSettings(), RewardParams(), seconds=1.0, start=on_its_side)
    assert fell["fallen"] and fell["ended_by"]
    assert not set(fell["ended_by"]) & {"right_ankle", "left_ankle"}
    assert set(fell["ended_by"]) <= set(walk.skeleton.body_names)
    allowed = EnvSettings(ground_contacts=[fell["ended_by"][0]])
    again = rollout(None, walk, allowed, RewardParams(), seconds=1.0, start=on_its_side)
    assert fell["ended_by"][0] not in again["ended_by"]
    d = limits.diagnose(fell, walk, RATE)
    assert d["ended_by"] == fell["ended_by"] and d["what_ended_it"] == f"{', '.join(fell['ended_by'])} on the ground"
    assert ended_by_text([]) == "stood to the end"


def test_the_table_reads_each_policy_and_marks_one_not_trained_yet(tmp_path, walk, pd_walk):
    from sfv import paths
    from sfv.io import write_json
    from sfv.report.tables import NOT_RUN, limits_table

    assert limits_table(tmp_path).missing is not None  # before the stage ran: how to fill it
    row = {"clip": "walk", "policy": "video", "learned": "no: fell at 5%", **limits.diagnose(pd_walk, walk, RATE)}
    not_yet = {"clip": "run", "policy": "oracle (mocap)", "learned": None}
    write_json(paths.metrics_file("limits", tmp_path), {"clips": [row, not_yet]})
    lines = limits_table(tmp_path).markdown().splitlines()
    walk_line = next(line for line in lines if line.startswith("| walk |"))
    survived = f"{row['survived_s']:.2f} of {row['evaluation_s']:.2f}"
    assert survived in walk_line and f"{', '.join(row['ended_by'])} on the ground" in walk_line
    name, cm = row["worst_bodies"][0]
    assert f"| {name} {cm:.0f}, " in walk_line
    assert walk_line.startswith("| walk | video | no: fell at 5% |")
    run_line = next(line for line in lines if line.startswith("| run |"))
    assert run_line.startswith("| run | oracle (mocap) |")
    assert run_line.count(NOT_RUN) == len(limits_table(tmp_path).columns) - 2


def test_sfv_why_reads_a_trained_policy_and_says_how_to_get_a_missing_one(tmp_path, monkeypatch, capsys):
    """`sfv why imitate_oracle@walk` on a (barely) trained policy prints its stand, its tracking as the replay
    measures it, and the bodies with the most error; a policy not trained yet says how to get it."""
    import shutil
    from pathlib import Path

    from sfv import paths
    from sfv.cli import main
    from sfv.config import PPOSettings, load_params
    from sfv.imitate.play import policy_rollout
    from sfv.imitate.train import train
    from sfv.motion import save_npz

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(tmp_path)
    shutil.copy2(root / "params.yaml", tmp_path / "params.yaml")
    assert main(["why", "imitate_oracle@walk"]) == 2
    assert "train the policy first" in capsys.readouterr().out
    params = load_params(tmp_path / "params.yaml")
    folder = paths.policy_dir("walk", "mocap")
    save_npz(load_mocap("walk"), folder / "reference.npz")
    ppo = PPOSettings(total_timesteps=512, n_envs=1, n_steps=256, batch_size=128, n_epochs=1, net_arch=(32, 32))
    cfg = params.imitate
    train(folder / "reference.npz", folder, cfg.env, cfg.reward, ppo, progress=False, run_dir=tmp_path / "runs" / "x")
    assert main(["why", "imitate_oracle@walk"]) == 0
    printed = capsys.readouterr().out
    log, motion = policy_rollout("imitate_oracle", "walk", params)
    d = limits.diagnose(log, motion, cfg.env.control_hz)
    assert printed.strip() == limits.summary("imitate_oracle@walk", d)
    assert f"tracking {100 * log['tracking_error_mean']:.1f} cm" in printed
    assert d["worst_bodies"][0][0] in printed and (not log["fallen"] or d["what_ended_it"] in printed)


def test_the_peak_is_the_middle_of_the_worst_quarter_second(walk, pd_walk):
    """One step's error made far larger than the rest: the worst window is the one around it, and it is named at
    its own time; a log shorter than one window peaks at its worst step."""
    log = dict(pd_walk)
    body_pos = np.array(log["body_pos"], copy=True)
    k = len(body_pos) // 2
    body_pos[k, 1:] += 3.0  # every body but the root 3 m off at one step
    log["body_pos"] = body_pos
    d = limits.diagnose(log, walk, RATE)
    window = int(round(limits.PEAK_WINDOW_S * RATE))
    assert abs(d["peak_at_s"] - round(float(log["time"][k]), 2)) <= (window // 2) / RATE + 1e-9
    assert d["peak_error_cm"] > 100 * 3.0 / window * 0.8
    states = ("time", "body_pos", "root_pos", "root_rot")
    short = {**log, **{key: np.asarray(log[key])[k - 1 : k + 2] for key in states}}
    assert limits.diagnose(short, walk, RATE)["peak_at_s"] == round(float(log["time"][k]), 2)
