"""The executed report notebook as a static HTML page: tables, figures and GIFs, no code cells.

Uses nbconvert's HTML exporter (no pandoc, nothing fetched: the page's images are inline, linked images and
clips taken in too), written atomically
so a failed export never leaves half a page. The page has no math and no widgets, so the scripts nbconvert
would load from a CDN (require.js, MathJax) are left out: it reads the same offline."""

from __future__ import annotations

import re
from pathlib import Path

from sfv import paths
from sfv.io import atomic_path

#: stage -> the static page its executed notebook is exported to (by `sfv run`, after the notebook ran)
HTML_PAGES = {"report": paths.RESULTS_PAGE}


def inline_images(html: str, base: Path) -> str:
    """Every <img src="relative/path"> and <video src="..."> whose file exists (relative to `base`) carried in the page
    as a data URI, so the page stands alone; links that do not resolve are left as they are."""
    from sfv.report.media import data_uri

    def inline(match: re.Match) -> str:
        target = base / match.group(2)
        return f"{match.group(1)}{data_uri(target)}{match.group(3)}" if target.is_file() else match.group(0)

    return re.sub(r'(<(?:img|video)\s[^>]*?src=")(?![a-z]+:)([^"]+)(")', inline, html)


def notebook_html(notebook: str | Path, html: str | Path, title: str | None = None) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    notebook = Path(notebook)
    if not notebook.is_file():
        raise FileNotFoundError(f"{notebook}: no executed notebook to export; run the stage first (`dvc repro report`)")
    nb = nbformat.read(str(notebook), as_version=4)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, require_js_url="", mathjax_url=""
    )
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r'<script[^>]*\bsrc=""[^>]*>\s*</script>\s*', "", body)
    body = inline_images(body, notebook.parent)
    with atomic_path(html) as tmp:
        Path(tmp).write_text(body, encoding="utf-8")
    return Path(html)
