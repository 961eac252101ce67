"""The clip registry: each params.yaml clip resolves to a video whose range and rate fit its entry."""

from __future__ import annotations

import numpy as np
import pytest

from sfv.clips import describe_clip
from sfv.config import ClipParams
from sfv.video import VideoError, mp4_writer


def _video(path, n=5, fps=25):
    path.parent.mkdir(parents=True, exist_ok=True)
    with mp4_writer(path, fps) as append:
        for i in range(n):
            append(np.full((32, 48, 3), 40 * i, dtype=np.uint8))
    return path


def test_real_clip_is_described(tmp_path):
    _video(tmp_path / "data" / "clips" / "mine.mp4")
    clip = ClipParams(source="data/clips/mine.mp4", frames=(1, None), fps=25)
    facts = describe_clip("mine", clip, tmp_path)
    assert facts["kind"] == "video" and facts["video"] == "data/clips/mine.mp4"
    assert (facts["frames"], facts["first"], facts["end"], facts["width"], facts["height"]) == (4, 1, 5, 48, 32)
    assert len(facts["sha256"]) == 64 and "ground_truth" not in facts


def test_clip_problems_name_the_entry_and_the_fix(tmp_path):
    _video(tmp_path / "data" / "clips" / "mine.mp4")
    with pytest.raises(VideoError, match=r"clips.mine: fps is 30 but .*mine.mp4 runs at 25 fps; set `fps: 25`"):
        describe_clip("mine", ClipParams(source="data/clips/mine.mp4", fps=30), tmp_path)
    with pytest.raises(VideoError, match=r"clips.mine: frames \[2, 8\] is outside .* has 5 frames"):
        describe_clip("mine", ClipParams(source="data/clips/mine.mp4", frames=(2, 8), fps=25), tmp_path)
    with pytest.raises(VideoError, match=r"clips.gone: .*gone.mp4: no such video file"):
        describe_clip("gone", ClipParams(source="data/clips/gone.mp4"), tmp_path)
    (tmp_path / "data" / "clips" / "junk.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(VideoError, match=r"clips.junk: .*junk.mp4: not a readable video"):
        describe_clip("junk", ClipParams(source="data/clips/junk.mp4"), tmp_path)
    with pytest.raises(VideoError, match=r"clips.jump: .*jump/video.mp4 is missing; .*add 'jump' to render.clips"):
        describe_clip("jump", ClipParams(source="mocap:jump"), tmp_path)


def test_rendered_clip_points_at_its_ground_truth(tmp_path):
    _video(tmp_path / "data" / "clips" / "jump" / "video.mp4", n=3, fps=30)
    facts = describe_clip("jump", ClipParams(source="mocap:jump"), tmp_path)
    assert facts["kind"] == "rendered" and facts["ground_truth"].endswith("data/clips/jump/ground_truth.npz")
