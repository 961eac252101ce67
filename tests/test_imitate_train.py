"""Training is resumable (checkpoints, kill -9), its curve continues, and evaluation writes a video."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from sfv.config import EnvSettings, PPOSettings, RewardParams
from sfv.imitate.curve import read_curve
from sfv.imitate.train import latest_checkpoint, train
from sfv.mocap import load_mocap
from sfv.motion import save_npz
from tests.training import kill_after_checkpoint

TINY = dict(n_envs=1, n_steps=256, batch_size=128, n_epochs=2, net_arch=(32, 32), checkpoint_every=512)


@pytest.fixture(scope="module")
def walk_npz(tmp_path_factory):
    return str(save_npz(load_mocap("walk"), tmp_path_factory.mktemp("motion") / "walk.npz"))


def test_train_checkpoints_and_resumes_where_it_stopped(tmp_path, walk_npz):
    out = tmp_path / "policy"
    first = train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=1024, **TINY), seed=1, progress=False)
    assert first["timesteps"] == 1024
    assert latest_checkpoint(out).name == f"{1024:012d}"
    for name in ("model.zip", "vecnormalize.pkl", "curve.csv", "run.json"):
        assert (out / name).is_file()
    assert any((out / "tb").rglob("events.out.tfevents.*"))
    curve = read_curve(out / "curve.csv")
    assert [r["timesteps"] for r in curve] == [256, 512, 768, 1024]
    assert all(0 < r["tracking_error"] < 1 and 0 < r["step_reward"] <= 1 for r in curve)

    more = train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=1536, **TINY), seed=1, progress=False)
    assert more["timesteps"] == 1536
    resumed = read_curve(out / "curve.csv")
    assert resumed[:4] == curve and [r["timesteps"] for r in resumed[4:]] == [1280, 1536]
    assert resumed[-1]["wall_seconds"] >= curve[-1]["wall_seconds"]

    again = train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=1536, **TINY), seed=1, progress=False)
    assert again["timesteps"] == 1536  # budget spent: nothing more to do

    changed = train(
        walk_npz,
        out,
        EnvSettings(action_scale=0.3),
        ppo=PPOSettings(total_timesteps=512, **TINY),
        seed=1,
        progress=False,
    )
    assert changed["timesteps"] == 512  # other settings: the old checkpoint is not reused
    assert json.loads((out / "run.json").read_text())["env"]["action_scale"] == 0.3
    kept = out / "superseded"  # ... but not deleted either: 1,536 samples of the old run wait there
    assert (kept / "latest").read_text().strip() == f"{1536:012d}"
    assert (kept / "checkpoints" / f"{1536:012d}" / "model.zip").is_file()
    assert json.loads((kept / "run.json").read_text())["env"]["action_scale"] == 0.5


def test_a_stage_keeps_its_run_apart_and_its_final_policy_resumes(tmp_path, walk_npz):
    """A stage's output holds the final policy only (no checkpoints, no TensorBoard logs); the run folder holds the
    checkpoints while it trains and is emptied once the final policy is written, which a larger budget (a fresh
    clone restored from the store, say) then resumes from."""
    out, run, tb = tmp_path / "policy", tmp_path / "runs" / "imitate" / "walk", tmp_path / "logs" / "walk"
    first = train(
        walk_npz,
        out,
        EnvSettings(),
        ppo=PPOSettings(total_timesteps=1024, **TINY),
        seed=1,
        progress=False,
        run_dir=run,
        tensorboard_dir=tb,
    )
    assert first["timesteps"] == 1024
    assert sorted(p.name for p in out.iterdir()) == ["curve.csv", "model.zip", "run.json", "vecnormalize.pkl"]
    assert latest_checkpoint(run) is None and not (run / "checkpoints").exists()  # served: nothing left to carry
    assert any(tb.rglob("events.out.tfevents.*"))
    curve = read_curve(out / "curve.csv")
    more = train(
        walk_npz,
        out,
        EnvSettings(),
        ppo=PPOSettings(total_timesteps=1536, **TINY),
        seed=1,
        progress=False,
        run_dir=run,
        tensorboard_dir=tb,
    )
    assert more["timesteps"] == 1536
    resumed = read_curve(out / "curve.csv")
    assert resumed[:4] == curve and [r["timesteps"] for r in resumed[4:]] == [1280, 1536]
    # other settings than the final policy's: a fresh run, never a resume from it
    other = train(
        walk_npz,
        out,
        EnvSettings(action_scale=0.3),
        ppo=PPOSettings(total_timesteps=512, **TINY),
        seed=1,
        progress=False,
        run_dir=run,
        tensorboard_dir=tb,
    )
    assert other["timesteps"] == 512


def _weights(archive):
    from stable_baselines3 import PPO

    return PPO.load(archive, device="cpu").policy.state_dict()


def test_the_final_policy_ships_without_adams_moments_and_acts_as_its_last_checkpoint(tmp_path, walk_npz, capsys):
    """The shipped policy drops the optimiser's moments (two thirds of the archive): it loads and acts exactly as
    the checkpoint it was written from, which keeps them; a final policy written with them loses them on the next
    run, nothing else changing; a larger budget resumes from it; a half-written file a kill left is removed."""
    import shutil

    from sfv.imitate.train import carries_moments

    out = tmp_path / "policy"
    train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=1024, **TINY), seed=1, progress=False)
    ckpt = latest_checkpoint(out)
    assert carries_moments(ckpt / "model.zip") and not carries_moments(out / "model.zip")
    assert (out / "model.zip").stat().st_size < 0.5 * (ckpt / "model.zip").stat().st_size
    final, last = _weights(out / "model.zip"), _weights(ckpt / "model.zip")
    assert final.keys() == last.keys() and all(np.array_equal(final[k], last[k]) for k in final)

    # a stage's output written before final policies shed their moments (its run folder kept apart and emptied)
    old, run = tmp_path / "old", tmp_path / "runs" / "old"
    old.mkdir()
    for name in ("model.zip", "vecnormalize.pkl", "curve.csv"):
        shutil.copyfile(ckpt / name, old / name)
    shutil.copyfile(out / "run.json", old / "run.json")
    (old / ".evaluation.mp4.k1ll3d00.tmp.mp4").write_bytes(b"half a video")  # a kill mid-write, kept (persist)
    before = {name: (old / name).read_bytes() for name in ("vecnormalize.pkl", "curve.csv", "run.json")}
    again = train(
        walk_npz, old, EnvSettings(), ppo=PPOSettings(total_timesteps=1024, **TINY), seed=1, progress=False, run_dir=run
    )
    assert again["timesteps"] == 1024  # nothing trained ...
    assert not carries_moments(old / "model.zip")  # ... but the moments are gone
    stripped = _weights(old / "model.zip")
    assert all(np.array_equal(stripped[k], last[k]) for k in last)
    assert {name: (old / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in old.iterdir()) == ["curve.csv", "model.zip", "run.json", "vecnormalize.pkl"]
    assert "k1ll3d00.tmp.mp4: removed (a write interrupted by a kill)" in capsys.readouterr().out

    more = train(
        walk_npz, old, EnvSettings(), ppo=PPOSettings(total_timesteps=1536, **TINY), seed=1, progress=False, run_dir=run
    )
    assert more["timesteps"] == 1536 and not carries_moments(old / "model.zip")
    assert [r["timesteps"] for r in read_curve(old / "curve.csv")][-2:] == [1280, 1536]


def test_a_damaged_checkpoint_is_named_and_the_one_before_resumes(tmp_path, walk_npz, capsys):
    """A truncated model.zip (a copy cut short, a failed restore) is passed over with its name, and the run resumes
    from the checkpoint before it (two are kept); with none left it starts afresh."""
    from sfv.imitate.train import checkpoint_problem

    out = tmp_path / "policy"
    train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=1536, **TINY), seed=1, progress=False)
    kept = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert kept == [f"{1024:012d}", f"{1536:012d}"]  # the newest two
    newest = out / "checkpoints" / f"{1536:012d}" / "model.zip"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    assert "model.zip: damaged" in checkpoint_problem(newest.parent)
    capsys.readouterr()
    assert latest_checkpoint(out).name == f"{1024:012d}"
    assert f"checkpoint {newest.parent} is damaged" in capsys.readouterr().out
    summary = train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=2048, **TINY), seed=1, progress=False)
    printed = capsys.readouterr().out
    assert f"resuming from {out / 'checkpoints' / f'{1024:012d}'} (1024 samples done)" in printed
    assert summary["timesteps"] == 2048
    steps = [r["timesteps"] for r in read_curve(out / "curve.csv")]
    assert steps == sorted(set(steps)) and steps[-1] == 2048
    for ckpt in (out / "checkpoints").iterdir():  # every checkpoint unreadable: from scratch, not a crash
        (ckpt / "vecnormalize.pkl").write_bytes(b"not a pickle")
    assert latest_checkpoint(out, report=None) is None
    assert (
        train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=512, **TINY), seed=1, progress=False)[
            "timesteps"
        ]
        == 512
    )


def test_a_changed_reference_starts_afresh_an_equal_one_resumes(tmp_path, walk_npz):
    """A reconstruction that changed (its content, not its file's bytes) must not be resumed on."""
    from dataclasses import replace

    from sfv.motion import load_motion

    motion, ref, out = load_motion(walk_npz), tmp_path / "reference.npz", tmp_path / "policy"
    save_npz(motion, ref)
    ppo = dict(TINY, checkpoint_every=256)
    assert train(ref, out, ppo=PPOSettings(total_timesteps=512, **ppo), progress=False)["timesteps"] == 512
    save_npz(motion, ref)  # rewritten, same content: resumed (the budget is spent, nothing more runs)
    assert train(ref, out, ppo=PPOSettings(total_timesteps=256, **ppo), progress=False)["timesteps"] == 512
    save_npz(replace(motion, root_pos=motion.root_pos + [0.0, 0.01, 0.0]), ref)  # the motion changed
    assert train(ref, out, ppo=PPOSettings(total_timesteps=256, **ppo), progress=False)["timesteps"] == 256


@pytest.mark.slow
def test_kill_minus_nine_loses_at_most_one_checkpoint_interval(tmp_path, walk_npz):
    out = tmp_path / "policy"
    script = textwrap.dedent(f"""
        from sfv.config import EnvSettings, PPOSettings
        from sfv.imitate.train import train
        if __name__ == "__main__":
            train({walk_npz!r}, {str(out)!r}, EnvSettings(),
                  ppo=PPOSettings(total_timesteps=20000, **{dict(TINY, n_envs=2)!r}), seed=2, progress=False)
    """)
    (tmp_path / "run.py").write_text(script)
    saved = kill_after_checkpoint(tmp_path / "run.py", tmp_path, out, 2048)
    curve_before = read_curve(out / "curve.csv")
    done_before = int(curve_before[-1]["timesteps"])
    assert done_before - saved <= 1024  # at most one interval (512 x 2 envs) ahead of the checkpoint
    summary = train(
        walk_npz,
        out,
        EnvSettings(),
        ppo=PPOSettings(total_timesteps=saved + 2048, **dict(TINY, n_envs=2)),
        seed=2,
        progress=False,
    )
    assert summary["timesteps"] == saved + 2048
    steps = [r["timesteps"] for r in read_curve(out / "curve.csv")]
    assert steps == sorted(set(steps)) and steps[-1] == saved + 2048
    assert [r for r in read_curve(out / "curve.csv") if r["timesteps"] <= saved] == [
        r for r in curve_before if r["timesteps"] <= saved
    ]


def test_evaluation_rollout_and_video(tmp_path, walk_npz):
    from sfv.imitate.evaluate import PolicyError, load_policy, rollout
    from sfv.motion import load_motion

    out = tmp_path / "policy"
    with pytest.raises(PolicyError, match="train the policy first"):
        load_policy(out)
    train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=256, **TINY), seed=0, progress=False)
    model, normaliser = load_policy(out)
    video = tmp_path / "eval.mp4"
    result = rollout(
        model,
        load_motion(walk_npz),
        EnvSettings(),
        RewardParams(),
        seconds=1.0,
        video=video,
        width=320,
        height=192,
        policy_normaliser=normaliser,
    )
    n = len(result["time"])
    assert 1 <= n <= 30 and result["survived_seconds"] == pytest.approx(n / 30)
    assert result["fallen"] == (n < 30)
    assert np.all(result["tracking_error"] >= 0) and result["episode_return"] == pytest.approx(result["reward"].sum())
    import imageio.v2 as imageio

    frames = [f for f in imageio.get_reader(video)]
    assert len(frames) == n + 1 and frames[0].shape == (192, 320, 3)
    assert frames[0].std() > 10  # a picture, not a blank frame


def test_evaluation_runs_the_policy_on_one_thread_and_restores_the_callers(walk_npz):
    """Several torch threads sum a matmul in a different order from run to run, and the physics grows the difference:
    the deterministic evaluation must give the same figures every time."""
    import torch

    from sfv.imitate.env import ImitationEnv
    from sfv.imitate.evaluate import rollout
    from sfv.motion import load_motion

    seen = []
    probe = ImitationEnv(load_motion(walk_npz), EnvSettings())
    n_actions = probe.action_space.shape[0]
    probe.close()

    class Recorder:  # a policy that notes the threads it is called with
        def predict(self, obs, deterministic):
            seen.append(torch.get_num_threads())
            return np.zeros(n_actions, dtype=np.float32), None

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        rollout(Recorder(), load_motion(walk_npz), EnvSettings(), RewardParams(), seconds=0.2)
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_reference_touching_down_with_disallowed_bodies_is_refused_before_training(tmp_path):
    from sfv.imitate.reference_clip import ReferenceError

    path = tmp_path / "cartwheel.npz"
    load_mocap("cartwheel").save(path)
    with pytest.raises(ReferenceError, match="imitate.clips.cartwheel.ground_contacts"):
        train(
            path,
            tmp_path / "policy",
            EnvSettings(),
            RewardParams(),
            PPOSettings(total_timesteps=64, n_envs=1, n_steps=64, batch_size=64),
        )
    assert not (tmp_path / "policy").exists()  # nothing made, nothing lost


def test_a_setting_added_later_at_its_default_does_not_restart_a_run(tmp_path, walk_npz):
    from sfv.config import ASISettings
    from sfv.imitate.train import _run_signature, run_differences, same_run

    signature = _run_signature(walk_npz, EnvSettings(), RewardParams(), PPOSettings(), 0, ASISettings())
    older = json.loads(json.dumps(signature))
    del older["env"]["ground_contacts"]  # recorded by a kit without the setting
    assert same_run(older, signature)
    changed = _run_signature(
        walk_npz, EnvSettings(ground_contacts=["left_wrist"]), RewardParams(), PPOSettings(), 0, ASISettings()
    )
    assert not same_run(older, changed)  # the new setting away from its default: a different run
    del older["reward"]["weights"]["root_velocity"], older["reward"]["scales"]["root_velocity"]  # a new reward term
    assert same_run(older, signature)  # (found at any depth: a term's weight lives in reward.weights)
    older["env"]["action_scale"] = 0.25
    assert not same_run(older, signature)  # a recorded setting that differs still starts afresh
    assert run_differences(older, signature) == ["env.action_scale: 0.25 -> 0.5"]  # named in the message


def test_linear_learning_rate_follows_one_schedule_across_chunks_of_a_growing_budget(tmp_path, walk_npz):
    """With a horizon, the linear schedule is a function of the samples done, whatever budget each chunk was given:
    the last update of a chunk ending at 1,024 of 2,048 samples uses half the rate, one ending at 1,536 a quarter
    (without a horizon each chunk's schedule would reach 0 at its own end)."""
    from stable_baselines3 import PPO

    from sfv.imitate.train import learning_rate_schedule

    linear = dict(TINY, learning_rate=1e-3, learning_rate_schedule="linear", learning_rate_horizon=2048)
    rate = learning_rate_schedule(PPOSettings(total_timesteps=1536, **linear))
    assert [rate(p) for p in (1.0, 1 - 1024 / 1536, 0.0)] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert learning_rate_schedule(PPOSettings(total_timesteps=4096, **linear))(0.0) == 0.0  # past the horizon
    assert (
        learning_rate_schedule(PPOSettings(total_timesteps=1536, **dict(linear, learning_rate_horizon=None)))(0.0)
        == 0.0
    )
    assert learning_rate_schedule(PPOSettings(**TINY)) == PPOSettings().learning_rate
    out = tmp_path / "policy"
    for budget, expected in ((1024, 5e-4), (1536, 2.5e-4)):
        train(walk_npz, out, EnvSettings(), ppo=PPOSettings(total_timesteps=budget, **linear), seed=1, progress=False)
        lr = PPO.load(out / "model.zip", device="cpu").policy.optimizer.param_groups[0]["lr"]
        assert lr == pytest.approx(expected)


def test_a_training_stops_once_its_evaluations_are_learned_and_keeps_the_policy_evaluated(tmp_path, walk_npz):
    """With a judge, a run ends after `stop_after_learned` learned evaluations in a row, not at its budget; the policy
    it keeps is the one the last of them evaluated (stable-baselines3 updates once more after a rollout: that update
    is undone), a re-run trains no further, and a streak broken by one failed evaluation starts again."""
    from sfv.imitate.evaluate import load_policy, rollout
    from sfv.motion import load_motion

    judged = []

    def always(result):
        judged.append(result["survived_seconds"])
        return {"eval_learned": 1.0}

    ppo = PPOSettings(total_timesteps=4096, evaluate_every=512, stop_after_learned=2, **TINY)
    out = tmp_path / "policy"
    summary = train(walk_npz, out, EnvSettings(), ppo=ppo, seed=1, progress=False, evaluation_seconds=1.0, judge=always)
    assert summary["timesteps"] == 1024 and summary["stopped_learned"] and len(judged) == 2
    curve = read_curve(out / "curve.csv")
    assert curve[-1]["timesteps"] == 1024 and curve[-1]["eval_learned"] == 1.0
    model, normaliser = load_policy(out)
    assert model.num_timesteps == 1024
    again = rollout(
        model, load_motion(walk_npz), EnvSettings(), RewardParams(), seconds=1.0, policy_normaliser=normaliser
    )
    assert again["tracking_error_mean"] == curve[-1]["eval_tracking_error"]  # the very policy evaluated
    assert again["survived_seconds"] == curve[-1]["eval_survived_seconds"]
    rerun = train(walk_npz, out, EnvSettings(), ppo=ppo, seed=1, progress=False, evaluation_seconds=1.0, judge=always)
    assert rerun["timesteps"] == 1024 and rerun["stopped_learned"] and len(judged) == 2

    verdicts = iter([1.0, 0.0, 1.0, 1.0])  # learned, failed, then two in a row: stops at the fourth evaluation
    broken = train(
        walk_npz,
        tmp_path / "broken",
        EnvSettings(),
        ppo=ppo,
        seed=1,
        progress=False,
        evaluation_seconds=1.0,
        judge=lambda result: {"eval_learned": next(verdicts)},
    )
    assert broken["timesteps"] == 2048 and broken["stopped_learned"]
    never = train(
        walk_npz,
        tmp_path / "never",
        EnvSettings(),
        ppo=PPOSettings(total_timesteps=1536, evaluate_every=512, stop_after_learned=0, **TINY),
        seed=1,
        progress=False,
        evaluation_seconds=1.0,
        judge=always,
    )
    assert never["timesteps"] == 1536 and not never["stopped_learned"]
