"""Atomic file writes (an output is either complete or absent, never half-written), and quiet C output."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the mode a plain open() would (umask applied)
        umask = os.umask(0)
        os.umask(umask)
        if os.path.exists(tmp):
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def remove_interrupted_writes(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporaries `atomic_path` leaves behind when its process is killed mid-write
    (`.NAME.<random>.tmp.EXT`): in a folder kept between runs (a policy's), one would become part of the output."""
    folder = Path(folder)
    left = sorted(p for p in folder.glob(".*.tmp*") if p.is_file()) if folder.is_dir() else []
    for p in left:
        p.unlink()
    return left


def write_npz(path: str | os.PathLike, compress: bool = False, **arrays) -> Path:
    """`np.savez` (or `savez_compressed`), atomically and byte-stable: numpy stamps each entry with the time
    of writing, so equal arrays made a different file and DVC re-ran every stage downstream; here the
    entries carry a fixed date, and the same arrays always make the same bytes."""
    import numpy as np

    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=method) as zf:
        for name, value in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | os.PathLike, data, indent: int = 2) -> Path:
    return write_text(path, json.dumps(data, indent=indent, sort_keys=False) + "\n")


@contextlib.contextmanager
def quiet_stdio():
    """Silence C-level stdout/stderr (pybullet's loaders print warnings straight to the descriptors)."""
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
