"""Motion completion measured leave-one-clip-out on the rendered clips, where the truth is known.

A query is a still from a rendered clip: one frame of its reconstruction from video (what the kit knows of
that image), with the ground-truth mocap's next `horizon` seconds as the answer. Two protocols:
- **unseen** (leave-one-clip-out): every motion of the query's skill leaves the library, both the mocap and
  every reconstruction of it. The method can only answer with another skill: how close does that come?
- **seen**: only the query's own reconstruction leaves the library. The skill's mocap and its other videos
  stay, as they do for a user whose library has the skill: does it pick the right skill and phase?

Per method and clip: the mean body error of the completed motion over the horizon and at its end (cm), the
skill it picked (and how often it was the truth's), and its phase error on the stills whose skill it got right.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

import numpy as np

from sfv.completion.library import Entry, make_entry, phase_error, pose_features
from sfv.completion.model import Prediction
from sfv.motion import Motion

PROTOCOLS = ("unseen", "seen")


@dataclass(frozen=True)
class Query:
    clip: str
    skill: str
    loop: bool  # the skill's mocap is a cycle (its phase wraps)
    frames: np.ndarray  # (Q,) the stills' frames (at the library's rate)
    features: np.ndarray  # (Q, F) of the reconstruction's frames
    truth: np.ndarray  # (Q, K, B, 3) the ground truth's continuation
    phase: np.ndarray  # (Q,) the truth's phase in its skill's mocap


def make_query(
    clip: str,
    skill: str,
    reconstruction: Motion,
    truth: Motion,
    mocap: Entry,
    fps: float,
    horizon_seconds: float,
    step_seconds: float,
    stride: int = 1,
) -> Query:
    """Stills every `stride` frames of a rendered clip whose whole horizon lies inside it; the truth's phase is
    that of the mocap frame its pose matches (the clip may start anywhere in the mocap and be resampled)."""
    rec = make_entry(reconstruction, skill, "reconstruction", fps, horizon_seconds, step_seconds, loop=False)
    gt = make_entry(truth, skill, "mocap", fps, horizon_seconds, step_seconds, loop=False)
    n = min(len(rec.features), len(gt.features))
    frames = np.flatnonzero(gt.complete[:n])[::stride]
    if len(frames) == 0:
        raise ValueError(
            f"clip {clip}: {truth.duration:.2f} s is shorter than the horizon of {horizon_seconds} s; "
            "lower motion_completion.horizon_seconds or drop the clip from motion_completion.clips"
        )
    d = ((gt.features[frames, None] - mocap.features[None]) ** 2).sum(-1)
    return Query(
        clip,
        skill,
        mocap.loop,
        frames,
        rec.features[frames],
        gt.continuation[frames],
        mocap.phase[np.argmin(d, axis=1)],
    )


def library_for(entries: list[Entry], query: Query, protocol: str) -> list[Entry]:
    if protocol == "unseen":
        return [e for e in entries if e.skill != query.skill]
    if protocol == "seen":
        return [e for e in entries if not (e.kind == "reconstruction" and e.name == query.clip)]
    raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


def score(query: Query, p: Prediction) -> dict:
    """One method's figures on one clip's stills."""
    err = np.linalg.norm(p.continuation - query.truth, axis=-1)  # (Q, K, B)
    named = [s for s in p.skill if s is not None]
    row = {
        "stills": len(query.frames),
        "error_cm": round(100 * float(err.mean()), 2),
        "end_error_cm": round(100 * float(err[:, -1].mean()), 2),
    }
    if named:
        right = np.array([s == query.skill for s in p.skill])
        row["skill_right"] = round(float(right.mean()), 3)
        row["picked"] = Counter(named).most_common(1)[0][0]
        row["phase_error"] = (
            round(float(phase_error(p.phase[right], query.phase[right], query.loop).mean()), 3) if right.any() else None
        )
    else:
        row.update(skill_right=None, picked=None, phase_error=None)
    return row


def evaluate(
    entries: list[Entry],
    queries: list[Query],
    methods: dict[str, Callable[[], object]],
    progress: Callable = lambda it, **kw: it,
) -> list[dict]:
    """Rows (protocol, method, clip, figures). Each method is refitted on every library a protocol makes (one
    fit per distinct library)."""
    rows = []
    for protocol in PROTOCOLS:
        fitted: dict[tuple, dict] = {}
        for q in progress(queries, desc=f"completion, {protocol}"):
            library = library_for(entries, q, protocol)
            key = tuple(id(e) for e in library)
            if key not in fitted:
                fitted[key] = {name: make().fit(library) for name, make in methods.items()}
            for name, model in fitted[key].items():
                rows.append(
                    {
                        "protocol": protocol,
                        "method": name,
                        "clip": q.clip,
                        "skill": q.skill,
                        **score(q, model.predict(q.features)),
                    }
                )
    return rows


def summary(rows: list[dict]) -> list[dict]:
    """Per protocol and method: means over the clips (each clip weighs the same)."""
    out = []
    for protocol in PROTOCOLS:
        for method in dict.fromkeys(r["method"] for r in rows):
            sel = [r for r in rows if r["protocol"] == protocol and r["method"] == method]
            if not sel:
                continue

            def mean(key):
                vals = [r[key] for r in sel if r.get(key) is not None]
                return round(float(np.mean(vals)), 3) if vals else None

            out.append(
                {
                    "protocol": protocol,
                    "method": method,
                    "clips": len(sel),
                    "error_cm": mean("error_cm"),
                    "end_error_cm": mean("end_error_cm"),
                    "skill_right": mean("skill_right"),
                    "phase_error": mean("phase_error"),
                }
            )
    return out


def features_of(motion: Motion, frame: int, fps: float) -> np.ndarray:
    """One still's features: `motion`'s frame `frame` at the library's rate."""
    m = motion.resample(fps) if abs(motion.fps - fps) > 1e-9 else motion
    body_pos, _ = m.body_positions()
    return pose_features(m.root_pos[frame : frame + 1], m.root_rot[frame : frame + 1], body_pos[frame : frame + 1])
