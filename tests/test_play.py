"""`sfv play STAGE@CLIP`: a shipped policy rolled out without training reproduces its stage's metrics exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sfv import paths
from sfv.config import PPOSettings, load_params
from sfv.imitate.evaluate import load_policy, rollout
from sfv.imitate.play import main, parse_target, replay
from sfv.imitate.train import train
from sfv.io import write_json
from sfv.mocap import load_mocap
from sfv.motion import save_npz

ROOT = Path(__file__).resolve().parents[1]


def test_targets_name_a_stage_and_a_clip():
    assert parse_target("imitate@walk") == ("imitate", "walk")
    assert parse_target("imitate_oracle@jump") == ("imitate_oracle", "jump")
    for bad in ("walk", "imitate@", "render@walk"):
        with pytest.raises(ValueError, match="STAGE@CLIP"):
            parse_target(bad)


def test_a_replay_equals_the_stage_evaluation_to_the_last_digit(tmp_path, monkeypatch, capsys):
    """The stage evaluates with a video (a ghost body in the world, frames rendered); the replay without one must
    give the same figures, and a policy that changed since must be told apart."""
    monkeypatch.chdir(tmp_path)
    shutil.copy2(ROOT / "params.yaml", tmp_path / "params.yaml")
    params = load_params(tmp_path / "params.yaml")
    folder = paths.policy_dir("walk", "mocap")
    save_npz(load_mocap("walk"), folder / "reference.npz")
    ppo = PPOSettings(total_timesteps=512, n_envs=1, n_steps=256, batch_size=128, n_epochs=1, net_arch=(32, 32))
    train(
        folder / "reference.npz",
        folder,
        params.imitate.env,
        params.imitate.reward,
        ppo,
        progress=False,
        run_dir=tmp_path / "runs" / "x",
    )
    model, normaliser = load_policy(folder)
    cfg = params.imitate
    seen = rollout(
        model,
        load_mocap("walk"),
        cfg.env,
        cfg.reward,
        seconds=cfg.evaluation.seconds,
        video=tmp_path / "stage.mp4",
        width=160,
        height=96,
        policy_normaliser=normaliser,
    )
    metrics = {
        "tracking_error_m": round(seen["tracking_error_mean"], 5),
        "survived_seconds": round(seen["survived_seconds"], 3),
        "root_error_final_m": round(seen["root_error_final"], 4),
        "return": round(seen["episode_return"], 2),
    }
    write_json(paths.clip_metrics_file("imitate_oracle", "walk"), metrics)
    out = replay("imitate_oracle", "walk")
    assert out["same"] is True and out["figures"] == metrics
    assert main(["imitate_oracle@walk", "--no-video"]) == 0
    assert "equal to the stage's metrics" in capsys.readouterr().out
    write_json(paths.clip_metrics_file("imitate_oracle", "walk"), {**metrics, "tracking_error_m": 0.5})
    assert main(["imitate_oracle@walk", "--video", str(tmp_path / "play.mp4")]) == 1
    printed = capsys.readouterr().out
    assert "differs from the stage's metrics" in printed and (tmp_path / "play.mp4").stat().st_size > 1000
    assert json.loads(paths.clip_metrics_file("imitate_oracle", "walk").read_text())["tracking_error_m"] == 0.5


def test_a_missing_policy_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy2(ROOT / "params.yaml", tmp_path / "params.yaml")
    assert main(["imitate@walk", "--no-video"]) == 2
    assert "train the policy first" in capsys.readouterr().out
