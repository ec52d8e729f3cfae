import numpy as np
import pytest

from moodcam.detection.result import Detections
from moodcam.tracking.one_euro import OneEuroConfig, OneEuroFilter
from moodcam.tracking.tracker import FaceTracker, TrackerConfig, greedy_iou_match


def faces(*boxes, score=0.9):
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    kps = np.repeat(b[:, None, :2], 6, axis=1)
    return Detections(b, np.full(len(b), score, np.float32), kps)


def test_ids_persist_and_new_faces_get_new_ids():
    tr = FaceTracker()
    created, _ = tr.update(faces([100, 100, 200, 200]), 0)
    assert [t.id for t in created] == [1]
    tr.update(faces([105, 100, 205, 200], [400, 100, 480, 180]), 33)
    ids = {t.id: t for t in tr.tracks}
    assert set(ids) == {1, 2}
    assert ids[1].hits == 2 and ids[2].hits == 1


def test_a_run_that_keeps_a_face_in_place_says_it_is_there_without_moving_it():
    tr = FaceTracker(TrackerConfig(max_missing_ms=0, max_missed_runs=1))
    tr.update(faces([100, 100, 200, 200], [400, 100, 440, 140]), 0)
    wide = lambda boxes: (boxes[:, 2] - boxes[:, 0]) >= 96  # noqa: E731
    created, dropped = tr.update(faces([110, 112, 214, 220], [404, 102, 444, 142]), 33, keeps_place=wide)
    assert created == [] and dropped == []
    big, small = tr.tracks
    np.testing.assert_allclose(big.box, [100, 100, 200, 200])        # not moved, still seen
    assert big.last_seen_ms == 33 and big.hits == 2 and big.missed_runs == 0
    assert small.box[0] > 400                                         # moved as ever


def test_crossing_faces_keep_their_ids_by_best_iou():
    pairs = greedy_iou_match(np.array([[0, 0, 10, 10], [8, 0, 18, 10]]),
                             np.array([[9, 0, 19, 10], [1, 0, 11, 10]]), 0.3)
    assert sorted(pairs) == [(0, 1), (1, 0)]


def test_unseen_face_is_dropped_after_timeout_not_before():
    tr = FaceTracker(TrackerConfig(max_missing_ms=500))
    tr.update(faces([100, 100, 200, 200]), 0)
    assert tr.update(Detections.empty(), 400) == ([], [])
    assert len(tr.tracks) == 1
    _, dropped = tr.update(Detections.empty(), 501)
    assert [t.id for t in dropped] == [1] and tr.tracks == ()
    created, _ = tr.update(faces([100, 100, 200, 200]), 600)
    assert created[0].id == 2  # ids are never reused


def test_expire_between_detector_runs():
    tr = FaceTracker(TrackerConfig(max_missing_ms=100))
    tr.update(faces([0, 0, 50, 50]), 0)
    assert tr.expire(50) == [] and len(tr.expire(101)) == 1


def test_smoothing_removes_jitter_but_follows_fast_motion():
    rng = np.random.default_rng(0)
    tr = FaceTracker()
    base = np.array([200, 150, 300, 250], float)
    errors = []
    for i in range(60):
        noisy = base + rng.normal(0, 3, 4)
        tr.update(faces(noisy), i * 33.3)
        if i > 10:
            errors.append(np.abs(tr.tracks[0].box - base).mean())
    assert np.mean(errors) < 1.2  # raw noise has mean |error| ~2.4 px
    # Then a fast move (600 px/s): the smoothed box must keep up within a few px.
    t0 = 60 * 33.3
    for j in range(1, 11):
        moved = base + np.array([20, 0, 20, 0]) * j
        tr.update(faces(moved), t0 + j * 33.3)
    lag = np.abs(tr.tracks[0].box - moved)[[0, 2]].max()
    assert lag < 10, f"lag {lag:.1f} px after a 20 px/frame move"


def test_max_tracks_and_bad_time():
    tr = FaceTracker(TrackerConfig(max_tracks=1))
    tr.update(faces([0, 0, 10, 10], [50, 50, 60, 60]), 0)
    assert len(tr.tracks) == 1
    with pytest.raises(ValueError, match="must not decrease"):
        tr.update(Detections.empty(), -1)


def test_one_euro_known_behaviour():
    f = OneEuroFilter(OneEuroConfig(min_cutoff=1.0, beta=0.0))
    assert f([0.0], 0)[0] == 0.0
    y = f([10.0], 1000 / 30)[0]
    # beta 0: a plain exponential filter with alpha = 1 / (1 + tau / dt), tau = 1 / (2 pi).
    alpha = 1 / (1 + (1 / (2 * np.pi)) / (1 / 30))
    assert y == pytest.approx(10 * alpha)
    with pytest.raises(ValueError, match="shape"):
        f([1.0, 2.0], 100)
