"""The results report: tables from the stages' metrics (what has not run shown as such), GIFs, the HTML page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from sfv import paths
from sfv.config import load_params
from sfv.report import paper
from sfv.report.tables import (
    NOT_APPLICABLE,
    NOT_RUN,
    all_tables,
    experiment_table,
    overview,
    pose_table,
)

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def params():
    return load_params(ROOT / "params.yaml")


def test_a_clip_without_metrics_is_not_run_and_one_with_them_shows_its_figures(tmp_path, params):
    rendered = params.pose.clips[0]
    write(
        paths.clip_metrics_file("pose", rendered, tmp_path),
        {"detection_rate": 1.0, "pixel_error": 3.31, "pck": 0.9955, "pa_mpjpe_mm": 50.8},
    )
    table = pose_table(params, tmp_path)
    rows = {r["clip"]: r for r in table.rows}
    assert rows[rendered]["pa_mpjpe_mm"] == 50.8 and rows[rendered]["status"] == "ran"
    others = [c for c in params.pose.clips if c != rendered]
    assert all(rows[c]["status"] == NOT_RUN for c in others)
    text = table.markdown()
    line = next(row for row in text.splitlines() if row.startswith(f"| {rendered} |"))
    assert "50.8" in line and "3.3" in line and "1.00" in line
    assert "| 3D PA-MPJPE, no rotation search (mm) |" in text.splitlines()[0]
    assert text.count(NOT_RUN) >= 5 * len(others)  # every figure of a clip not run says so
    assert table.ran


def test_overview_tells_not_applicable_from_not_run(tmp_path, params):
    """A real clip has no truth ("—"); a trained clip whose imitation has not run says "not run"; figures that
    exist are carried over from their stage's metrics."""
    trained = list(params.imitate.clips)
    real = next(c for c in params.pose.clips if not params.clips[c].is_mocap)
    untrained = next(c for c in params.pose.clips if c not in trained and params.clips[c].is_mocap)
    write(
        paths.clip_metrics_file("reconstruct", trained[0], tmp_path),
        {"jitter_targets": 43.09, "jitter": 5.65, "mpjpe_mm": 65.1},
    )
    write(
        paths.clip_metrics_file("imitate", trained[0], tmp_path),
        {"tracking_error_m": 0.1347, "survived_fraction": 1.0, "train_samples": 1503232, "train_wall_seconds": 2412.6},
    )
    rows = {r["clip"]: r for r in all_tables(params, tmp_path)["overview"].rows}
    first = rows[trained[0]]
    assert first["reconstruction_mm"] == 65.1 and first["jitter"] == "43 → 5.7"
    assert first["tracking_cm"] == pytest.approx(13.47) and first["samples_m"] == pytest.approx(1.503232)
    assert first["hours"] == pytest.approx(0.67, abs=0.001)
    assert first["truth_cm"] is None  # no end_to_end.json: the whole table is missing, not one clip
    assert rows[trained[1]]["tracking_cm"] == NOT_RUN and rows[trained[1]]["reconstruction_mm"] == NOT_RUN
    assert rows[untrained]["tracking_cm"] is None and rows[real]["kind"] == "real"
    table = overview({}, params)
    assert all(r["pose_mm"] is None for r in table.rows)  # no tables at all: nothing applies, nothing invented
    assert NOT_APPLICABLE in table.markdown()


def test_an_experiment_without_a_stage_is_shown_as_not_run_then_its_rows_once_written(tmp_path):
    table = experiment_table("morphology", tmp_path)
    assert not table.ran and table.markdown().startswith(f"*{NOT_RUN}:*") and "morphology_transfer" in table.missing
    write(
        paths.metrics_file("morphology_transfer", tmp_path),
        {"rows": [{"clip": "walk", "character": "atlas", "tracking_error_cm": 6.25, "stills": 12}]},
    )
    table = experiment_table("morphology", tmp_path)
    assert table.ran and "| walk | atlas | 6.250 | 12 |" in table.markdown()


def test_a_broken_metrics_file_names_itself(tmp_path, params):
    path = paths.clip_metrics_file("pose", params.pose.clips[0], tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ValueError, match=str(path.name)):
        pose_table(params, tmp_path)


def test_the_shipped_results_fill_every_stage_table():
    """On the committed benchmark results and this checkout's metrics: ASI against RSI pairs both variants."""
    tables = all_tables(load_params(ROOT / "params.yaml"), ROOT)
    asi = tables["asi"]
    assert asi.ran
    for clip in {r["clip"] for r in asi.rows}:
        assert {r["initialisation"] for r in asi.rows if r["clip"] == clip} == {"RSI (uniform phase)", "ASI (adaptive)"}


def test_paper_figures_name_their_source_and_never_a_guessed_value():
    for section, figures in paper.PAPER.items():
        assert figures, section
        for f in figures:
            assert f.source and (f.value is None or f.value.strip())
    assert "not in the kit’s checked references" in paper.markdown("asi")
    assert paper.markdown("overview") == ""


def test_rollout_clip_takes_every_kth_frame_at_the_asked_width(tmp_path):
    from sfv.report.media import video_clip
    from sfv.video import mp4_writer, probe, read_frames

    video = tmp_path / "v.mp4"
    with mp4_writer(video, fps=30) as append:
        for i in range(30):  # a white square moving right on black, 1 s
            frame = np.zeros((96, 128, 3), np.uint8)
            frame[40:56, 4 * i : 4 * i + 16] = 255
            append(frame)
    clip = video_clip(video, tmp_path / "out" / "v.mp4", seconds=0.5, fps=10, width=64)
    info = probe(clip)
    assert (info.width, info.height) == (64, 48) and info.frames == 5  # frames 0, 3, 6, 9, 12 of the first 15
    assert info.fps == pytest.approx(10)
    xs = [np.argwhere(f.mean(axis=2) > 128)[:, 1].mean() for f in read_frames(clip)]
    assert np.all(np.diff(xs) > 4)  # the square moves right, 3 video frames (12 px -> 6 px at half width) a step


def test_html_page_has_the_outputs_and_no_code(tmp_path):
    import nbformat

    from sfv.report.export import notebook_html

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("secret_variable_name = 41 + 1\nprint(secret_variable_name)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="the answer is 42\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# A title\n\n| a | b |\n|---|---|\n| 1 | 2 |"), cell]
    source = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(source))
    page = notebook_html(source, tmp_path / "page.html").read_text()
    assert "the answer is 42" in page and "<table" in page and "A title" in page
    assert "secret_variable_name" not in page
    # no script loaded from the network (nbconvert's mermaid loader stays: it imports only for mermaid diagrams)
    assert not re.search(r'<script[^>]*src="(https?:)?//', page) and 'src=""' not in page
    with pytest.raises(FileNotFoundError, match="dvc repro report"):
        notebook_html(tmp_path / "missing.ipynb", tmp_path / "x.html")


def test_the_notebook_links_its_media_and_the_page_carries_them(tmp_path):
    """The executed report notebook keeps a link to each rollout clip and image (not a second copy); the exported
    page takes them in, so it stands alone; a link to nothing stays a link."""
    import base64

    import nbformat

    from sfv.report.export import notebook_html
    from sfv.report.media import linked_img, linked_video

    gif = tmp_path / "plots" / "report" / "walk_video.gif"
    gif.parent.mkdir(parents=True)
    gif.write_bytes(b"GIF89a-not-really-but-bytes")
    here = tmp_path / "reports" / "notebooks"
    here.mkdir(parents=True)
    tag = linked_img(gif, "walk", here)
    assert tag == '<img src="../../plots/report/walk_video.gif" alt="walk">'
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(HTML(...))")
    clip = gif.with_name("walk_video.mp4")
    clip.write_bytes(b"not really an mp4 either")
    video = linked_video(clip, "walk", here)
    assert video == (
        '<video src="../../plots/report/walk_video.mp4" title="walk" autoplay loop muted playsinline></video>'
    )
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": tag + video + '<img src="gone.gif" alt="x">'})
    ]
    nb.cells = [cell]
    nbformat.write(nb, str(here / "11_results.ipynb"))
    assert "base64" not in (here / "11_results.ipynb").read_text()
    page = notebook_html(here / "11_results.ipynb", tmp_path / "reports" / "results.html").read_text()
    assert f'src="data:image/gif;base64,{base64.b64encode(gif.read_bytes()).decode()}"' in page
    assert f'src="data:video/mp4;base64,{base64.b64encode(clip.read_bytes()).decode()}"' in page
    assert 'src="gone.gif"' in page


def test_the_readme_is_a_front_door_with_the_metrics_results():
    """The README stays one page (the rest lives in docs/), and its results block (like every generated block in
    docs/) is the committed metrics' tables as tools/generated_blocks.py writes them: no figure typed by hand, none
    stale."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (root / link).is_file(), link
    proc = subprocess.run(
        [sys.executable, str(root / "tools" / "generated_blocks.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_hand_edited_generated_block_is_rewritten():
    """A figure typed into a generated block does not survive: the block is rewritten from the files."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("generated_blocks", root / "tools" / "generated_blocks.py")
    blocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(blocks)
    block = "<!-- generated: training_cost -->\n| imitate | 5 | 99.9 | 0.1 |\n<!-- /generated: training_cost -->"
    page = f"text\n{block}\nmore\n"
    new = blocks.filled(page)
    assert "99.9" not in new and "**The trainings, as their metrics recorded them**" in new
    assert new.startswith("text\n") and new.endswith("more\n") and blocks.filled(new) == new
    with pytest.raises(SystemExit, match="unknown generated block 'nothing'"):
        blocks.filled("<!-- generated: nothing -->\n<!-- /generated: nothing -->")
