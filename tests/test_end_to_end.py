"""The end-to-end table's verdict on each policy from video, and a clip's second seed beside its first."""

import json

from sfv import paths
from sfv.analysis import end_to_end


def _policy(survived=1.0, tracking_m=0.04, truth_m=0.09, reference_truth_m=0.07, samples=1_500_000):
    return {
        "survived_fraction": survived,
        "tracking_error_m": tracking_m,
        "truth_body_error_m": truth_m,
        "reference_truth_body_error_m": reference_truth_m,
        "train_samples": samples,
    }


def test_a_policy_is_learned_only_when_it_clears_every_bar():
    assert end_to_end.learned("walk", _policy()) == "yes"
    assert end_to_end.learned("walk", None) == "not run"
    assert end_to_end.learned("walk", _policy(survived=0.94)) == "no: fell at 94%"
    assert end_to_end.learned("walk", _policy(tracking_m=0.085)) == "no: tracks 8.5 cm (bar 8)"
    # the tumbling skills get the wider tracking bar
    assert end_to_end.learned("cartwheel", _policy(tracking_m=0.085)) == "yes"
    assert end_to_end.learned("cartwheel", _policy(tracking_m=0.105)).startswith("no: tracks 10.5 cm (bar 10)")
    # further from the truth than its reference by more than the margin: physics lost what the video gave
    assert end_to_end.learned("walk", _policy(truth_m=0.105, reference_truth_m=0.07)).startswith(
        "no: 3.5 cm further from the truth"
    )
    assert end_to_end.learned("walk", _policy(truth_m=0.099, reference_truth_m=0.07)) == "yes"
    # a real clip has no truth: survival and tracking decide
    real = {k: v for k, v in _policy().items() if "truth" not in k}
    assert end_to_end.learned("pose2sim_demo", real) == "yes"
    # a policy below its clip's budget now is still training, however well it scores
    assert end_to_end.learned("jump", _policy(samples=1_000_000), budget=8_000_000) == "training: 1.0 of 8.0 M"
    assert end_to_end.learned("jump", _policy(samples=8_000_000), budget=8_000_000) == "yes"


def _write(path, metrics):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics))


def test_the_table_puts_a_second_seed_beside_the_first_and_counts_the_learned_skills(tmp_path):
    _write(paths.clip_metrics_file("imitate", "walk", tmp_path), _policy())
    _write(paths.clip_metrics_file("imitate", "walk_seed2", tmp_path), _policy(survived=0.5, truth_m=0.2))
    _write(paths.clip_metrics_file("imitate", "jump", tmp_path), _policy(samples=2_000_000))
    _write(paths.clip_metrics_file("imitate_oracle", "walk", tmp_path), _policy(truth_m=0.03))
    budgets = {"walk": 1_500_000, "jump": 8_000_000}
    rows = end_to_end.table(["walk", "jump", "run"], ["walk"], tmp_path, budgets=budgets, second_seed=["walk"])
    by_clip = {r["clip"]: r for r in rows}
    walk, jump, run = by_clip["walk"], by_clip["jump"], by_clip["run"]
    assert walk["learned"] == "yes" and walk["seed2_learned"] == "no: fell at 50%"
    assert walk["seed2_error_cm"] == 20.0 and walk["seed2_survived"] == 0.5 and walk["gap_cm"] == 6.0
    assert jump["learned"] == "training: 2.0 of 8.0 M" and jump["seed2_learned"] is None
    assert run["learned"] == "not run" and run["video_error_cm"] is None
    assert end_to_end.learned_count(rows, ["walk", "jump", "run"]) == (1, 3)
    table = end_to_end.markdown(rows)
    assert "| walk |" in table and "no: fell at 50%" in table and "training: 2.0 of 8.0 M" in table


def test_a_policy_that_stopped_as_learned_before_its_budget_is_judged_not_training():
    stopped = dict(_policy(samples=2_100_000), train_stopped_learned=True)
    assert end_to_end.learned("jump", stopped, budget=8_000_000) == "yes"
    assert end_to_end.learned("jump", _policy(samples=2_100_000), budget=8_000_000) == "training: 2.1 of 8.0 M"


def test_the_training_judge_and_the_table_give_one_verdict():
    """sfv.imitate.learned holds the bars: the stage's judge of an evaluation during training and the table's verdict
    on the stage's metrics agree, edge cases included (a one-shot clip's fraction is capped at 1)."""
    from sfv.imitate import learned

    assert learned.verdict("walk", 0.95, 0.08) == "yes"
    assert learned.verdict("walk", 0.9499, 0.05).startswith("no: fell")
    assert learned.verdict("walk", 1.0, 0.08001).startswith("no: tracks")
    assert learned.verdict("roll", 1.0, 0.095) == "yes"
    assert learned.verdict("walk", 1.0, 0.05, truth_extra_m=0.0301).startswith("no: 3.0 cm further")
    rows = [
        {"timesteps": 1.0, "eval_survived_seconds": 1.0, "eval_learned": 1.0},
        {"timesteps": 2.0, "eval_survived_seconds": float("nan")},  # no evaluation this rollout
        {"timesteps": 3.0, "eval_survived_seconds": 1.0, "eval_learned": 1.0},
    ]
    assert learned.learned_streak(rows) == 2
    assert learned.stopped_learned(rows, 3, after=2) and not learned.stopped_learned(rows, 4, after=2)
    assert not learned.stopped_learned(rows, 3, after=3) and not learned.stopped_learned(rows, 3, after=0)
    assert learned.learned_streak(rows + [{"timesteps": 4.0, "eval_survived_seconds": 1.0, "eval_learned": 0.0}]) == 0
    from sfv.imitate.stage import learned_judge

    judge = learned_judge("jump", None, {"loop": "none", "seconds": 1.77}, None, 20.0, 30.0, "video")
    assert judge({"survived_seconds": 1.70, "tracking_error_mean": 0.079}) == {"eval_learned": 1.0}  # 96% of 1.77 s
    assert judge({"survived_seconds": 1.60, "tracking_error_mean": 0.05}) == {"eval_learned": 0.0}
    cyclic = learned_judge("walk", None, {"loop": "wrap", "seconds": 1.2}, None, 20.0, 30.0, "video")
    assert cyclic({"survived_seconds": 1.2, "tracking_error_mean": 0.05}) == {"eval_learned": 0.0}  # 20 s asked
    assert cyclic({"survived_seconds": 19.0, "tracking_error_mean": 0.05}) == {"eval_learned": 1.0}
