"""Pose estimation over a clip: one actor followed through the video, with a rotation search for flips.

Every frame first goes through the video-mode estimator (it tracks, so it is fast). A frame is then
*searched* when that result is missing, weak, tilted far from upright (the paper's failure case:
people upside down), or jumps away from the actor; or on every frame with `rotation_search: all`.
The search asks a fresh detector about the frame turned by 0/90/180/270 degrees and, when the actor
was seen recently, about crops around where their motion predicts them (constant velocity from their last
positions; several sizes, every turn: a small, fast, turning body in a flip is found in a crop when the whole
frame misses it). When the actor is still missing, the people the search did find (someone else: too far
from the actor's path) are painted out and the frame is searched again: the detector reports one person per
image, so a more visible bystander otherwise hides the actor from every search. Candidates are scored by
confidence, minus how far they are from the other candidates (a tracker that drifted off the body disagrees
with every fresh detection), minus how far they are from where the actor should be, minus how different their
torso's colours are from the actor's (what tells two people apart when they are close); the best one is kept,
its keypoints averaged with those of the candidates that agree with it (`fuse_radius`: the same person seen
turned or cropped). A frame where no candidate is the actor is recorded as missing: confidence 0 and
`detected` false, never an invented pose.

A clip whose video-mode tracker finds the person only after its first frames (a small or far person the
detector misses) starts with poses the search patched together while the tracker had not yet settled on the
body: their size and place jump from frame to frame, and depth from body size turns that into metres of motion
that never happened. Those first frames are estimated again by a second video-mode tracker run backwards from
where the first one had settled (`SETTLE_FRAMES`), once it has settled itself: it carries a body it already
holds back to frame 0.

Time is counted in frames at 30 fps (`FRAME_RATE`) whatever the clip's rate, so `max_jump` and `lost_frames`
mean the same on a 60 fps video: a frame of a 60 fps clip is half a step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from sfv.keypoints import BLAZEPOSE33
from sfv.pose.estimator import (
    BlazePose,
    Estimator,
    FramePose,
    crop,
    crop_square,
    rotate_image,
    unrotate,
)
from sfv.settings.pose import TrackSettings

SHOULDERS = [BLAZEPOSE33.index("left_shoulder"), BLAZEPOSE33.index("right_shoulder")]
HIPS = [BLAZEPOSE33.index("left_hip"), BLAZEPOSE33.index("right_hip")]
FRAME_RATE = 30.0  # the tracking settings count frames at this rate
#: frames (at 30 fps) BlazePose's video-mode tracker takes to settle on a body it has just found: a property of the
#: estimator (its region of interest converging from the detector's box), not of a clip
SETTLE_FRAMES = 6


@dataclass
class ClipPoses:
    """Per-frame results over a clip; missing frames have zero keypoints and confidence."""

    keypoints_2d: np.ndarray  # (T, 33, 2) pixels
    keypoints_3d: np.ndarray  # (T, 33, 3) metres about the mid-hip
    confidence: np.ndarray  # (T, 33)
    detected: np.ndarray  # (T,) bool
    rotation: np.ndarray  # (T,) degrees the chosen result was found at (0 when not rotated)
    searched: np.ndarray  # (T,) bool: the search ran on this frame
    source: np.ndarray  # (T,) str: video, redetected, rotated, crop, predicted, unmasked, backward, settled, none
    baseline_2d: np.ndarray  # (T, 33, 2) the plain video-mode result, for comparison
    baseline_3d: np.ndarray  # (T, 33, 3)
    baseline_confidence: np.ndarray  # (T, 33)
    baseline_detected: np.ndarray  # (T,)
    seconds: dict = field(default_factory=dict)  # time spent: video, search


def torso_tilt(pose: FramePose) -> float:
    """Angle (deg) between the hips->shoulders direction and image up: 0 upright, 180 upside down."""
    v = pose.keypoints_2d[SHOULDERS].mean(0) - pose.keypoints_2d[HIPS].mean(0)
    n = np.linalg.norm(v)
    return 0.0 if n < 1e-6 else float(np.degrees(np.arccos(np.clip(-v[1] / n, -1.0, 1.0))))


def height_of(pose: FramePose) -> float:
    box = pose.bbox()
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


def centre_of(pose: FramePose) -> np.ndarray:
    """The torso's centre (mean of shoulders and hips): steadier than the box when limbs swing."""
    return pose.keypoints_2d[SHOULDERS + HIPS].mean(0)


def needs_search(pose: FramePose | None, last: FramePose | None, gap: int, s: TrackSettings) -> bool:
    if s.rotation_search == "all":
        return True
    if pose is None or pose.score < s.weak_confidence:
        return True
    if s.rotation_search == "auto" and torso_tilt(pose) > s.tilt_degrees:
        return True
    return last is not None and is_jump(pose, last, gap, s)


def is_jump(pose: FramePose, last: FramePose, gap: int, s: TrackSettings, expected: np.ndarray | None = None) -> bool:
    """The pose is too far from where the actor was (seen `gap` frames ago) and from where their motion puts
    them now (`expected`), or too much larger or smaller (a detection that merged two people, or someone
    nearer the camera), to be the same person."""
    reach = np.sqrt(max(gap, 1))
    ratio = height_of(pose) / height_of(last)
    far = _offset(pose, last, expected) > s.max_jump * height_of(last) * reach
    return bool(far or not 1 / (1.5 * reach) < ratio < 1.5 * reach)


def _offset(pose: FramePose, last: FramePose, expected: np.ndarray | None) -> float:
    """Pixels from the pose's torso centre to the nearer of the actor's last centre and `expected`."""
    c = centre_of(pose)
    d = float(np.linalg.norm(c - centre_of(last)))
    return d if expected is None else min(d, float(np.linalg.norm(c - expected)))


def predict_centre(track: list[tuple[int, np.ndarray]], frame: int, horizon: int = 5) -> np.ndarray | None:
    """Where the actor's torso centre should be at `frame`: a constant velocity fitted (least squares) to their
    last few (frame, centre) positions, carried at most `horizon` frames on (a velocity from noisy positions
    must not run away); the last position when there is only one."""
    if not track:
        return None
    recent = track[-4:]
    t = np.array([f for f, _ in recent], dtype=float)
    c = np.stack([x for _, x in recent])
    if len(recent) < 2 or np.ptp(t) == 0:
        return c[-1].copy()
    velocity = np.polyfit(t, c, 1)[0]
    return c[-1] + velocity * min(frame - t[-1], horizon)


def torso_colours(rgb: np.ndarray, pose: FramePose) -> np.ndarray | None:
    """A colour signature of the torso (hue x saturation histogram, normalised, of the box around shoulders and
    hips), or None when the torso is too small to tell."""
    import cv2

    pts = pose.keypoints_2d[SHOULDERS + HIPS]
    x0, y0 = np.floor(pts.min(0)).astype(int)
    x1, y1 = np.ceil(pts.max(0)).astype(int)
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [12, 4], [0, 180, 0, 256]).astype(np.float32)
    return hist / max(float(hist.sum()), 1e-9)


def colour_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Bhattacharyya distance of two torso signatures: 0 the same colours, 1 none in common (0 if unknown)."""
    import cv2

    if a is None or b is None:
        return 0.0
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


def choose(
    candidates: list[tuple[FramePose, str, int]],
    last: FramePose | None,
    gap: int,
    s: TrackSettings,
    expected: np.ndarray | None = None,
    appearance: list[float] | None = None,
) -> tuple[FramePose, str, int] | None:
    """The candidate that is the actor, or None.

    When the actor was seen in the last `lost_frames` frames, candidates that jump away from where they
    should be (`expected`, their predicted centre; default their last one) are someone else (`nearest`). The
    rest are scored: confidence, minus `consensus_weight` x the median distance to the other candidates, minus
    `temporal_weight` x the distance to the actor (their last pose shifted to `expected`), minus
    `appearance_weight` x each candidate's colour distance to the actor (`appearance`, aligned with
    `candidates`) (distances in body heights, the temporal one per frame since). `largest` prefers the tallest.
    """
    if last is not None and gap > s.lost_frames:
        last = None
    colours = dict(zip(map(id, candidates), appearance)) if appearance is not None else {}
    if last is not None and s.actor == "nearest":
        candidates = [c for c in candidates if not is_jump(c[0], last, gap, s, expected)]
    if not candidates:
        return None
    poses = [c[0] for c in candidates]
    shifts = [np.zeros(2)] if last is None or expected is None else [np.zeros(2), expected - centre_of(last)]

    def score(c) -> float:
        pose = c[0]
        h = height_of(pose)
        others = [_distance(pose, q) / h for q in poses if q is not pose]
        value = pose.score - s.consensus_weight * (float(np.median(others)) if others else 0.0)
        if last is not None:
            moved = min(
                float(np.linalg.norm(pose.keypoints_2d - (last.keypoints_2d + shift), axis=1).mean())
                for shift in shifts
            )
            value -= s.temporal_weight * moved / height_of(last) / max(gap, 1)
            value -= s.appearance_weight * colours.get(id(c), 0.0)
        if s.actor == "largest":
            value += h / max(height_of(q) for q in poses)
        return value

    return max(candidates, key=score)


def fuse(chosen: FramePose, candidates: list[FramePose], radius: float) -> FramePose:
    """The chosen pose with its 2D and 3D keypoints averaged (weighted by each keypoint's confidence) over the
    candidates within `radius` body heights of it: the same person seen turned, cropped or tracked, whose errors
    partly cancel. Confidences stay the chosen one's; radius 0 keeps the chosen pose as it is."""
    h = height_of(chosen)
    near = [p for p in candidates if p is not chosen and _distance(p, chosen) < radius * h]
    if radius <= 0 or not near:
        return chosen
    near.append(chosen)
    w = np.stack([p.confidence for p in near])[..., None] + 1e-6
    mean = lambda key: (np.stack([getattr(p, key) for p in near]) * w).sum(0) / w.sum(0)  # noqa: E731
    return FramePose(mean("keypoints_2d"), mean("keypoints_3d"), chosen.confidence)


def _distance(a: FramePose, b: FramePose) -> float:
    return float(np.linalg.norm(a.keypoints_2d - b.keypoints_2d, axis=1).mean())


def estimate_clip(
    frames: Iterable[np.ndarray],
    settings: TrackSettings,
    estimator: Estimator | None = None,
    searcher: Estimator | None = None,
    progress: Callable[[int], None] | None = None,
    fps: float = FRAME_RATE,
    settler: Estimator | None = None,
    settle_frames: int = SETTLE_FRAMES,
) -> ClipPoses:
    """Run the estimator over `frames` (RGB, in order, `fps` of them a second) with the actor tracking and
    rotation search.

    Frames where the actor was lost are kept (at most `lost_frames` of them); when the actor is found again,
    the search runs back through them from there (time reversed: the motion prediction then comes from the
    frames after the gap), so a gap is closed from both ends.
    `estimator` (video mode) and `searcher` (fresh detections) default to BlazePose, closed at the end; so does
    `settler` (video mode, run backwards over a start the tracker missed: `settle_frames`, counted at 30 fps; 0: the
    start is kept as the search found it), made only when needed."""
    owned = []
    if estimator is None:
        estimator = BlazePose(video=True, model=settings.model)
        owned.append(estimator)
    if searcher is None:
        searcher = BlazePose(video=False, model=settings.model)
        owned.append(searcher)
    rows: dict[str, list] = {
        k: [] for k in ("kp2", "kp3", "conf", "det", "rot", "searched", "source", "b2", "b3", "bconf", "bdet")
    }
    tick = FRAME_RATE / fps  # one frame of this clip in frames at FRAME_RATE
    keep_missed = max(1, int(settings.lost_frames / tick))
    forward = _Follower(settings, searcher, tick)
    missed: list[tuple[int, np.ndarray]] = []  # frames since the actor was lost: searched again from the far end
    before_gap = None  # (frame, torso centre, height) of the actor just before the frames in `missed`
    settle = round(settle_frames / tick)  # frames the video tracker takes to settle on a body it found
    first_plain = None  # the first frame the video tracker found anyone in
    head: list[np.ndarray] = []  # the clip's first frames, kept while a start the tracker missed may need them
    t_video = 0.0
    try:
        for index, rgb in enumerate(frames):
            t0 = time.perf_counter()
            plain = estimator.process(rgb)
            t_video += time.perf_counter() - t0
            if first_plain is None and plain is not None:
                first_plain = index
            if settle and head is not None:
                if first_plain is None and index >= keep_missed:
                    head = None  # nobody for longer than the tracker's memory: a person who walks in later
                elif first_plain is None or (first_plain > 0 and index < first_plain + 3 * settle):
                    head.append(rgb)
            for key, val in zip(("b2", "b3", "bconf"), _arrays(plain)):
                rows[key].append(val)
            rows["bdet"].append(plain is not None)
            had_actor = forward.last is not None and forward.gap < settings.lost_frames
            chosen, searched = forward.step(index, rgb, plain)
            _record(rows, chosen, searched)
            if chosen is None and had_actor:
                if not missed:
                    before_gap = (forward.track[-1][0], forward.track[-1][1], height_of(forward.last))
                missed = (missed + [(index, rgb)])[-keep_missed:]
            elif chosen is not None and missed:
                _search_back(rows, missed, forward, index, settings, searcher, before_gap)
                missed = []
            if progress is not None:
                progress(1)
        if settle and head and first_plain and len(head) > first_plain + 2 * settle:
            if settler is None:
                settler = BlazePose(video=True, model=settings.model)
                owned.append(settler)
            t0 = time.perf_counter()
            _settle_start(rows, head, first_plain + settle, settle, settler, settings, tick)
            t_video += time.perf_counter() - t0
    finally:
        for model in owned:
            model.close()
    if not rows["det"]:
        raise ValueError("no frames to estimate poses on")
    stack = lambda k, dt=None: np.array(rows[k], dtype=dt) if dt else np.stack(rows[k])  # noqa: E731
    return ClipPoses(
        keypoints_2d=stack("kp2"),
        keypoints_3d=stack("kp3"),
        confidence=stack("conf"),
        detected=stack("det", bool),
        rotation=stack("rot", float),
        searched=stack("searched", bool),
        source=stack("source", str),
        baseline_2d=stack("b2"),
        baseline_3d=stack("b3"),
        baseline_confidence=stack("bconf"),
        baseline_detected=stack("bdet", bool),
        seconds={"video": t_video, "search": forward.seconds},
    )


class _Follower:
    """The actor's state (last pose, frames since, recent positions, colours) and one frame's search for them."""

    def __init__(self, settings: TrackSettings, searcher: Estimator, tick: float = 1.0):
        self.settings, self.searcher, self.tick = settings, searcher, tick
        self.last: FramePose | None = None
        self.gap = 0.0  # time since the actor was last found, in frames at FRAME_RATE
        self.track: list[tuple[int, np.ndarray]] = []  # (frame, torso centre) of the actor's recent poses
        self.signature = None  # the actor's torso colours, averaged over the frames they were found in
        self.seconds = 0.0
        self.turns = 4 if settings.rotation_search != "off" else 1

    def found(self, index: int, rgb: np.ndarray, pose: FramePose) -> None:
        self.last, self.gap = pose, 0
        self.track = (self.track + [(index, centre_of(pose))])[-8:]
        colours = torso_colours(rgb, pose)
        if colours is not None:
            self.signature = colours if self.signature is None else 0.8 * self.signature + 0.2 * colours

    def step(
        self,
        index: int,
        rgb: np.ndarray,
        plain: FramePose | None,
        always_search: bool = False,
        keep: Callable[[FramePose], bool] | None = None,
    ):
        """The actor in this frame (a candidate tuple, or None) and whether the search ran; `keep` filters the
        candidates first."""
        s = self.settings
        h, w = rgb.shape[:2]
        self.gap += self.tick
        if self.last is not None and self.gap > s.lost_frames:
            self.track, self.signature = [], None
        last, gap = self.last, self.gap
        expected = predict_centre(self.track, index, round(5 / self.tick)) if last is not None else None
        candidates = [] if plain is None else [(plain, "video", 0)]
        search = always_search or (s.rotation_search != "off" and needs_search(plain, last, gap, s))
        # a video result that jumps away from the actor: look for the actor where they should be
        lost_actor = (
            last is not None and gap <= s.lost_frames and (plain is None or is_jump(plain, last, gap, s, expected))
        )
        t0 = time.perf_counter()
        if search or lost_actor:
            candidates += _search(rgb, self.searcher, last if lost_actor else None, self.turns, w, h)
        if keep is not None:
            candidates = [c for c in candidates if keep(c[0])]
        appearance = [colour_distance(torso_colours(rgb, c[0]), self.signature) for c in candidates]
        chosen = choose(candidates, last, gap, s, expected, appearance)
        if chosen is None and lost_actor and s.crop_scales:
            # still lost: crops where the motion predicts the actor, at several sizes and every turn
            around = [c for c in self._around(rgb, last, expected) if keep is None or keep(c[0])]
            candidates += around
            appearance += [colour_distance(torso_colours(rgb, c[0]), self.signature) for c in around]
            chosen = choose(candidates, last, gap, s, expected, appearance)
        if chosen is None and lost_actor and s.mask_others and candidates:
            # still lost: the people found are someone else; paint them out and look again
            masked = paint_out(rgb, [c[0] for c in candidates], keep_clear=[expected, centre_of(last)])
            if masked is not None:
                again = _search(masked, self.searcher, None, self.turns, w, h) + self._around(masked, last, expected)
                again = [(c[0], "unmasked", c[2]) for c in again if keep is None or keep(c[0])]
                candidates += again
                appearance += [colour_distance(torso_colours(rgb, c[0]), self.signature) for c in again]
                chosen = choose(candidates, last, gap, s, expected, appearance)
        self.seconds += time.perf_counter() - t0
        if chosen is not None:
            chosen = (fuse(chosen[0], [c[0] for c in candidates], s.fuse_radius), *chosen[1:])
            self.found(index, rgb, chosen[0])
        return chosen, bool(search or lost_actor)

    def _around(self, image: np.ndarray, last: FramePose, expected: np.ndarray | None) -> list:
        """Candidates in crops of `image` centred where the actor's motion puts them and where they were last."""
        found = []
        for centre in _distinct([expected, centre_of(last)], 0.25 * height_of(last)):
            found += _search_around(
                image, self.searcher, centre, height_of(last), self.settings.crop_scales, self.turns
            )
        return found


def _record(rows: dict, chosen, searched: bool, at: int | None = None) -> None:
    pose = chosen[0] if chosen else None
    values = dict(zip(("kp2", "kp3", "conf"), _arrays(pose)))
    values.update(
        det=pose is not None,
        rot=chosen[2] * 90 if chosen else 0,
        searched=searched,
        source=chosen[1] if chosen else "none",
    )
    for key, val in values.items():
        if at is None:
            rows[key].append(val)
        else:
            rows[key][at] = val


def _search_back(
    rows: dict,
    missed: list[tuple[int, np.ndarray]],
    forward: _Follower,
    index: int,
    settings: TrackSettings,
    searcher: Estimator,
    before_gap: tuple | None,
) -> None:
    """Search the frames the actor was missed in again, from the frame they were found in (`index`) backwards:
    time reversed (frame -i), so the prediction carries their motion after the gap back into it. A candidate
    must also lie within reach of the straight path between where the actor was before the gap (`before_gap`:
    frame, centre, height) and after it: someone else who happens to be near one end is not taken."""
    after = (index, centre_of(forward.last), height_of(forward.last))

    def on_path(i: int):
        if before_gap is None:
            return None
        (f0, c0, h0), (f1, c1, h1) = before_gap, after
        u = (i - f0) / max(f1 - f0, 1)
        centre, height = (1 - u) * c0 + u * c1, max(h0, h1)
        reach = settings.max_jump * height * np.sqrt(max(min(i - f0, f1 - i) * forward.tick, 1))
        return lambda pose: bool(np.linalg.norm(centre_of(pose) - centre) <= reach)

    back = _Follower(settings, searcher, forward.tick)
    back.signature = forward.signature
    back.last, back.gap, back.track = forward.last, 0, [(-index, centre_of(forward.last))]
    for i, rgb in reversed(missed):
        chosen, _ = back.step(-i, rgb, None, always_search=True, keep=on_path(i))
        if chosen is None:
            continue
        _record(rows, (chosen[0], "backward", chosen[2]), True, at=i)
    forward.seconds += back.seconds


def _settle_start(
    rows: dict,
    head: list[np.ndarray],
    settled: int,
    settle: int,
    settler: Estimator,
    settings: TrackSettings,
    tick: float,
) -> None:
    """Frames before `settled` estimated again by `settler`, a fresh video-mode tracker run backwards over `head`
    (the clip's first frames, from its last). It settles too: only once it has held a body for more than `settle`
    frames is it trusted. It must be trusted by `settled`, and wherever it is trusted from there on (where the
    forward tracker had settled) hold the same actor as the forward one, else nothing changes; then it replaces
    the start for as long as it keeps the body (no jump from one frame to the one after it)."""
    found: dict[int, FramePose | None] = {}
    held = 0
    for i in reversed(range(len(head))):
        found[i] = settler.process(head[i])
        held = held + 1 if found[i] is not None else 0
        if i >= settled and held > settle:
            forward = _pose_in(rows, i)
            if forward is None or is_jump(found[i], forward, tick, settings):
                return
        if i == settled and held <= settle:
            return
    after = found[settled]
    for i in range(settled - 1, -1, -1):
        pose = found[i]
        if pose is None or is_jump(pose, after, tick, settings):
            return
        _record(rows, (pose, "settled", 0), bool(rows["searched"][i]), at=i)
        after = pose


def _pose_in(rows: dict, i: int) -> FramePose | None:
    return FramePose(rows["kp2"][i], rows["kp3"][i], rows["conf"][i]) if rows["det"][i] else None


def _arrays(pose: FramePose | None):
    if pose is None:
        return np.zeros((33, 2)), np.zeros((33, 3)), np.zeros(33)
    return pose.keypoints_2d, pose.keypoints_3d, pose.confidence


def paint_out(
    rgb: np.ndarray, others: list[FramePose], keep_clear: list[np.ndarray | None], pad: float = 0.1
) -> np.ndarray | None:
    """The frame with the boxes of `others` (padded by `pad` x their height) filled with the frame's median
    colour, so that a detector that reports one person per image looks past them; a box that covers a point of
    `keep_clear` (where the actor should be) is left alone. None when nothing was painted."""
    out, painted = None, False
    h, w = rgb.shape[:2]
    for pose in others:
        x0, y0, x1, y1 = pose.bbox()
        margin = pad * height_of(pose)
        x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
        if any(p is not None and x0 <= p[0] <= x1 and y0 <= p[1] <= y1 for p in keep_clear):
            continue
        if out is None:
            out = np.array(rgb, copy=True)
            fill = np.median(rgb.reshape(-1, rgb.shape[-1]), axis=0).astype(rgb.dtype)
        c0, r0 = max(int(x0), 0), max(int(y0), 0)
        c1, r1 = min(int(np.ceil(x1)), w), min(int(np.ceil(y1)), h)
        if c1 > c0 and r1 > r0:
            out[r0:r1, c0:c1] = fill
            painted = True
    return out if painted else None


def _distinct(points: list[np.ndarray], apart: float) -> list[np.ndarray]:
    """The points, dropping any within `apart` pixels of one kept before it."""
    kept: list[np.ndarray] = []
    for p in points:
        if all(np.linalg.norm(p - q) > apart for q in kept):
            kept.append(p)
    return kept


def _search_around(rgb, searcher: Estimator, centre: np.ndarray, height: float, scales: list[float], turns: int):
    """Fresh detections in square crops centred on `centre`, `scale` x `height` across, each turned by
    0..turns-1 quarter turns, mapped back to the frame."""
    found = []
    for scale in scales:
        region, corner = crop_square(rgb, centre, scale * height)
        if min(region.shape[:2]) < 32:
            continue
        rh, rw = region.shape[:2]
        for k in range(turns):
            p = searcher.process(rotate_image(region, k))
            if p is not None:
                p = unrotate(p, k, rw, rh)
                found.append((FramePose(p.keypoints_2d + corner, p.keypoints_3d, p.confidence), "predicted", k))
    return found


def _search(rgb, searcher: Estimator, last: FramePose | None, turns: int, w: int, h: int):
    """Fresh detections of the whole frame turned by 0..turns-1 quarter turns, and of a crop around `last`."""
    found = []
    for k in range(turns):
        p = searcher.process(rotate_image(rgb, k))
        if p is not None:
            found.append((unrotate(p, k, w, h), "rotated" if k else "redetected", k))
    if last is not None:
        region, corner = crop(rgb, last.bbox())
        if min(region.shape[:2]) >= 32:
            p = searcher.process(region)
            if p is not None:
                found.append((FramePose(p.keypoints_2d + corner, p.keypoints_3d, p.confidence), "crop", 0))
    return found
