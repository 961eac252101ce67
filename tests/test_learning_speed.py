"""Samples to skill from a learning curve, and the benchmarks' tables as the notebook shows them."""

from __future__ import annotations

import json
import math

from sfv import paths
from sfv.analysis import learning_speed as ls
from sfv.imitate.curve import write_curve


def row(t, wall, err=None, survived=None):
    r = {
        "timesteps": float(t),
        "wall_seconds": float(wall),
        "episode_return": 1.0,
        "episode_seconds": 1.0,
        "tracking_error": 0.1,
        "step_reward": 0.5,
    }
    if err is not None:
        r.update(eval_tracking_error=err, eval_survived_seconds=survived, eval_root_drift=t / 1e6)
    return r


def test_first_evaluation_that_tracks_the_whole_clip_within_the_threshold():
    curve = [
        row(4096, 5),
        row(100_000, 120, 0.04, 3.0),  # within 5 cm but fell after 3 s: not learned
        row(150_000, 170),
        row(200_000, 240, 0.06, 20.0),  # whole clip, too far
        row(300_000, 360, 0.049, 20.0),
        row(400_000, 480, 0.03, 20.0),
    ]
    got = ls.samples_to_skill(curve, 0.05, 20.0)
    assert got == {
        "learned": True,
        "samples": 300_000,
        "minutes": 6.0,
        "error_cm": 4.9,
        "survived_s": 20.0,
        "drift_m": 0.3,
    }
    assert ls.best_evaluation(curve, 20.0)["timesteps"] == 400_000
    unlearned = ls.samples_to_skill(curve[:4], 0.05, 20.0)  # reports the last evaluation
    assert not unlearned["learned"] and unlearned["samples"] == 200_000 and unlearned["error_cm"] == 6.0
    assert ls.samples_to_skill([row(4096, 5)], 0.05, 20.0)["samples"] is None
    # a gait's drift limit: the 300k evaluation ended 0.3 m off, the 400k one 0.4 m
    assert ls.samples_to_skill(curve, 0.05, 20.0, max_drift=0.35)["samples"] == 300_000
    assert ls.samples_to_skill(curve, 0.05, 20.0, max_drift=0.25)["learned"] is False
    nan_row = dict(row(1, 1), eval_tracking_error=math.nan)
    assert ls.evaluations([nan_row]) == []


def test_benchmark_results_are_read_as_written(tmp_path):
    rows = [
        {
            "variant": "baseline",
            "overrides": {},
            "samples": 600_000,
            "minutes": 12.0,
            "samples_per_second": 838,
            "tracking_error_cm": 9.6,
            "survived_seconds": 5.5,
            "root_drift_m": 4.0,
            "seed": 0,
        },
        {
            "variant": "epochs_3",
            "overrides": {"ppo.n_epochs": 3},
            "samples": 600_000,
            "minutes": 9.0,
            "samples_per_second": 1100,
            "tracking_error_cm": 8.0,
            "survived_seconds": 20.0,
            "root_drift_m": 2.0,
            "seed": 0,
        },
    ]
    table = paths.lever_rows_file("walk", tmp_path)
    table.parent.mkdir(parents=True)
    table.write_text(json.dumps(rows))
    for r in rows:
        curve = paths.lever_curve_file("walk", r["variant"], tmp_path)
        curve.parent.mkdir(parents=True, exist_ok=True)
        write_curve(curve, [row(4096, 5), row(100_000, 120, 0.05, 20.0)])
    results = ls.lever_results(tmp_path)
    assert list(results) == ["walk"] and results["walk"][0] == rows
    assert results["walk"][1]["epochs_3"][1]["eval_survived_seconds"] == 20.0
    text = ls.lever_table(rows, results["walk"][1])
    assert "| epochs_3 | ppo.n_epochs=3 |  | 600,000 | 9.0 | 1100 | 8.0 | 20.0 | 2.0 | 1.0 | 10.0 |" in text
    assert "| baseline | params.yaml |" in text
    assert ls.curve_tail([]) == {"episode_s": None, "error_cm": None}
    assert ls.skill_results(tmp_path) == ([], {})  # not run yet: nothing, no error


def test_skill_table_names_the_target_and_the_evaluated_span():
    row = {
        "clip": "jump",
        "seed": 1,
        "threshold_cm": 5,
        "limit_minutes": 60,
        "evaluated_seconds": 1.77,
        "learned": True,
        "samples": 1_200_000,
        "minutes": 16.5,
        "error_cm": 4.2,
        "survived_s": 1.77,
        "trained_samples": 1_500_000,
        "trained_minutes": 20.1,
    }
    text = ls.skill_table([row])
    assert (
        "| jump | 1 | <= 5 cm over 1.77 s in 60 min | yes | 1,200,000 | 16.5 | 4.2 | 1.77 | — | 1,500,000, 20.1 |"
        in text
    )
    old = {k: v for k, v in row.items() if k != "evaluated_seconds"}  # a row written before the span was recorded
    assert "| <= 5 cm in 60 min |" in ls.skill_table([old])
    assert "| 1.77 | 0.4 | 1,500,000" in ls.skill_table([{**row, "drift_m": 0.4}])
    assert text.endswith("| 1,500,000, 20.1 | off |")  # ran without pose termination
    gait = {**row, "clip": "walk", "max_drift_m": 0.5, "evaluated_seconds": 20.0, "pose_termination_m": 1.0}
    assert ls.skill_table([gait]).endswith(
        "| walk | 1 | <= 5 cm over 20.0 s, drift <= 0.5 m in 60 min | yes | "
        "1,200,000 | 16.5 | 4.2 | 1.77 | — | 1,500,000, 20.1 | 1.0 m |"
    )


def test_a_run_stopped_before_its_limit_says_how_far_it_got():
    """A run whose machine was not kept is neither learned nor failed: the table says where it stopped."""
    row = {
        "clip": "backflip",
        "seed": 0,
        "threshold_cm": 10,
        "limit_minutes": 600,
        "evaluated_seconds": 1.75,
        "learned": False,
        "samples": 4_001_792,
        "minutes": 50.0,
        "error_cm": 14.27,
        "survived_s": 1.77,
        "trained_samples": 4_030_464,
        "trained_minutes": 50.3,
        "stopped": True,
    }
    assert ls.learned_label(row) == "not yet: stopped at 50.3 of 600 min"
    assert "| not yet: stopped at 50.3 of 600 min | 4,001,792 |" in ls.skill_table([row])
    assert ls.learned_label({**row, "stopped": False}) == "no"
    assert ls.learned_label({**row, "learned": True}) == "yes"  # learned is learned, however the run ended


def test_a_variant_run_has_its_own_curve_and_says_its_settings_in_the_table(tmp_path):
    """A lever tried on a samples-to-skill target (bench/samples_to_skill.py --variant/--set) is read from its own
    curve beside the default run of the same clip and seed, and its row names the variant and its overrides."""
    base = {
        "clip": "jump",
        "seed": 0,
        "threshold_cm": 5,
        "limit_minutes": 60,
        "evaluated_seconds": 1.77,
        "learned": False,
        "samples": 4_500_000,
        "minutes": 60.0,
        "error_cm": 5.9,
        "survived_s": 1.77,
        "trained_samples": 4_500_000,
        "trained_minutes": 60.0,
    }
    variant = {
        **base,
        "variant": "lr_linear",
        "overrides": {"ppo.learning_rate_schedule": "linear"},
        "learned": True,
        "error_cm": 4.8,
    }
    table = paths.skill_table_file(tmp_path)
    table.parent.mkdir(parents=True)
    table.write_text(json.dumps([base, variant]))
    for r, err in ((base, 0.059), (variant, 0.048)):
        curve = paths.skill_curve_file("jump", 0, tmp_path, r.get("variant"))
        curve.parent.mkdir(parents=True, exist_ok=True)
        write_curve(curve, [row(4096, 5), row(4_500_000, 3600, err, 1.77)])
    assert paths.skill_curve_file("jump", 0, tmp_path, "lr_linear").name == "jump_seed0@lr_linear.csv"
    rows, curves = ls.skill_results(tmp_path)
    assert curves["jump seed 0"][-1]["eval_tracking_error"] == 0.059
    assert curves["jump seed 0 (lr_linear)"][-1]["eval_tracking_error"] == 0.048
    text = ls.skill_table(rows)
    assert "| jump | 0 | <= 5 cm over 1.77 s in 60 min | no |" in text
    assert "| jump (lr_linear: ppo.learning_rate_schedule=linear) | 0 | <= 5 cm over 1.77 s in 60 min | yes |" in text


def test_the_bench_table_rereads_a_jump_that_outlasted_its_clip_as_learned(tmp_path, monkeypatch):
    """`bench/samples_to_skill.py --table` re-reads each row from its curve against the clip's exact span: jump's
    one play lasts 1.7667 s, which the row stores rounded (1.77 s), and an evaluation that lasted the whole clip
    (1.7667 s) must still count as learned."""
    module = samples_to_skill_bench()
    seconds = 53 / 30  # jump's one play (the mocap's span; data/mocap is a DVC output, absent from a fresh clone)
    monkeypatch.setattr(module, "evaluated_span", lambda clip: (None, seconds))
    curve = paths.skill_curve_file("jump", 0, tmp_path, "lr_linear")
    curve.parent.mkdir(parents=True)
    write_curve(
        curve,
        [
            row(4096, 5),
            row(6_000_000, 2900, 0.0508, seconds),
            row(6_600_000, 2980, 0.0491, seconds),
            row(7_000_000, 3170, 0.0509, seconds),
        ],
    )
    stored = {
        "clip": "jump",
        "seed": 0,
        "variant": "lr_linear",
        "threshold_cm": 5,
        "evaluated_seconds": 1.77,
        "learned": False,
    }
    got = module.refresh(stored, tmp_path)
    assert got["learned"] is True and got["samples"] == 6_600_000 and got["error_cm"] == 4.91


def samples_to_skill_bench():
    """bench/samples_to_skill.py as a module (a script, not part of the package)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "samples_to_skill_bench", Path(__file__).resolve().parents[1] / "bench" / "samples_to_skill.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_default_run_stopped_before_its_first_row_says_the_pose_termination_it_ran_with(tmp_path, monkeypatch):
    """A run stopped before it wrote its row (its curve only) ran with params.yaml's settings: its row records
    their pose termination, not "off"."""
    from sfv.config import load_params

    module = samples_to_skill_bench()
    monkeypatch.setattr(module, "evaluated_span", lambda clip: (None, 2.7333))  # data/mocap: a DVC output
    curve = paths.skill_curve_file("cartwheel", 0, tmp_path)
    curve.parent.mkdir(parents=True)
    write_curve(curve, [row(4096, 5), row(3_300_000, 1540, 0.152, 2.73)])
    got = module.stopped_row("cartwheel", 0, tmp_path)
    assert got["stopped"] and got["samples"] == 3_300_000 and got["error_cm"] == 15.2
    assert got["pose_termination_m"] == load_params().imitate.env.pose_termination is not None
    kept = module.stopped_row("cartwheel", 0, tmp_path, {"pose_termination_m": None})
    assert kept["pose_termination_m"] is None  # an earlier row's setting is kept
