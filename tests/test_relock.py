"""tools/relock_unchanged.py picks only the stages whose one change is a shared file that changed."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("relock_unchanged", ROOT / "tools" / "relock_unchanged.py")
relock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(relock)


def test_only_stages_stale_for_the_shared_files_alone_are_picked():
    status = {
        "render@walk": [{"changed deps": {"sfv/notebook.py": "modified", "sfv/paths.py": "modified"}}],
        "pose@walk": [{"changed deps": {"sfv/notebook.py": "modified", "sfv/pose/estimate.py": "modified"}}],
        "imitate@walk": [{"changed deps": {"sfv/paths.py": "modified"}}, {"changed outs": {"data/x": "deleted"}}],
        "cameras": [{"changed deps": {"params.yaml": {"render.width": "modified"}}}],
        "report": [{"changed deps": {"sfv/paths.py": "deleted"}}],
    }
    assert relock.only_these_changed(status, {"sfv/notebook.py", "sfv/paths.py"}) == ["render@walk"]


def test_a_new_setting_named_as_such_is_allowed_and_nothing_else_about_params():
    status = {
        "pose@walk": [{"changed deps": {"sfv/pose/tracking.py": "modified", "params.yaml": {"pose.settle": "new"}}}],
        "pose@run": [{"changed deps": {"params.yaml": {"pose.settle": "modified"}}}],
        "pose@jump": [{"changed deps": {"params.yaml": {"pose.settle": "new", "pose.max_jump": "modified"}}}],
        "pose@kick": [{"changed deps": {"params.yaml": {"pose.other": "new"}}}],
    }
    assert relock.only_these_changed(status, {"sfv/pose/tracking.py"}, {"pose.settle"}) == ["pose@walk"]
    assert relock.only_these_changed(status, {"sfv/pose/tracking.py"}) == []


def test_a_re_run_that_differs_only_in_its_timings_counts_as_unchanged():
    before = {"frames": 39, "render_seconds_per_frame": 0.2016, "nested": {"train_wall_seconds": 10, "x": [1, 2]}}
    same = {"frames": 39, "render_seconds_per_frame": 0.2102, "nested": {"train_wall_seconds": 12, "x": [1, 2]}}
    other = {"frames": 40, "render_seconds_per_frame": 0.2016, "nested": {"train_wall_seconds": 10, "x": [1, 2]}}
    assert relock.without_clock(before) == relock.without_clock(same)
    assert relock.without_clock(before) != relock.without_clock(other)
    assert relock.without_clock(before) != relock.without_clock({**before, "nested": {"x": [1, 3]}})
