"""The one grid of video frames behind every contact sheet, and the sampling of the frames it shows."""

from __future__ import annotations

import numpy as np
import pytest

from sfv.frame_grid import evenly_spaced, frame_grid, frames_at
from sfv.video import mp4_writer


def test_evenly_spaced_keeps_first_and_last():
    assert evenly_spaced(100, 8).tolist() == [0, 14, 28, 42, 57, 71, 85, 99]
    assert evenly_spaced(3, 8).tolist() == [0, 1, 2]  # a short clip shows each frame once
    assert evenly_spaced(1, 8).tolist() == [0]
    with pytest.raises(ValueError, match="no frames"):
        evenly_spaced(0, 8)


def test_frames_at_reads_the_asked_frames_of_the_range(tmp_path):
    """Frame k of a clip starting at `first` is video frame first + k; only the asked ones come back."""
    path = tmp_path / "ramp.mp4"
    with mp4_writer(path, 30) as append:
        for i in range(12):
            append(np.full((32, 48, 3), 20 * i, dtype=np.uint8))
    got = frames_at(path, [0, 3], first=5, end=10)
    assert sorted(got) == [0, 3]
    assert abs(float(got[0].mean()) - 100) < 4 and abs(float(got[3].mean()) - 160) < 4  # video frames 5 and 8


def test_frame_grid_lays_out_every_frame_with_its_title_and_overlay():
    images = [np.full((20, 40, 3), 30 * k, dtype=np.uint8) for k in range(6)]
    drawn = []
    fig = frame_grid(images, [f"f{k}" for k in range(6)], "six frames", cols=4, draw=lambda ax, k: drawn.append(k))
    try:
        shown = [ax for ax in fig.axes if ax.images]
        assert len(fig.axes) == 8 and len(shown) == 6  # two rows of four, the last two left empty
        assert [ax.get_title() for ax in shown] == [f"f{k}" for k in range(6)]
        assert drawn == list(range(6)) and fig._suptitle.get_text() == "six frames"
        assert np.array_equal(shown[5].images[0].get_array(), images[5])
        w, h = fig.get_size_inches()
        assert w == pytest.approx(4 * 3.2) and h == pytest.approx(2 * 3.2 * 20 / 40 + 0.5)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    with pytest.raises(ValueError, match="6 frames but 5 titles"):
        frame_grid(images, ["t"] * 5, "x")
