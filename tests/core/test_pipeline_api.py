"""FrameLogic's public API for the browser layer: abort_frame, reconfigure, and track ids on slow frames."""
import numpy as np
import pytest

from moodcam.detection.anchors import BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.detection.letterbox import Letterbox
from moodcam.detection.result import Detections
from moodcam.mood.labels import EMOTIONS
from moodcam.mood.state import MOOD
from moodcam.mood.voting import DEFAULT_VOTING, MovingAverageVoting
from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig
from moodcam.tracking.tracker import FaceTracker, TrackerConfig

ANCHORS = generate_anchors(BLAZEFACE_SHORT_RANGE)
W, H = 640, 480
LB = Letterbox.fit(W, H, 128, 128)
FACE = [200, 120, 320, 260]


def raw_for(face_boxes_px):
    """Raw BlazeFace outputs that decode to these frame-pixel boxes (empty list: no face)."""
    boxes_px = np.asarray(face_boxes_px, float).reshape(-1, 4)
    norm = LB.boxes_to_target(boxes_px) / 128.0
    ids, rows, kps = [], [], []
    for b in norm:
        near = anchors_near(ANCHORS, b[None], 2)[0]
        ids.extend(near)
        rows.extend([b, b + 0.002])
        kps.extend([np.tile(b[:2], (6, 1))] * 2)
    logits = np.tile([4.0, 3.0], len(norm))
    return encode_raw_outputs(ANCHORS, ids, np.array(rows).reshape(-1, 4), np.array(kps).reshape(-1, 6, 2), logits)


def one_hot(label, p=0.9):
    v = np.full(7, (1 - p) / 6)
    v[EMOTIONS.index(label)] = p
    return v


def run_frames(logic, times, face_present=lambda i: True, label="happy"):
    results = []
    for i, t in enumerate(times):
        plan = logic.begin_frame(t, W, H)
        if plan.run_detector:
            logic.submit_detections(*raw_for([FACE] if face_present(i) else []))
        for req in logic.emotion_requests():
            logic.submit_emotion(req.face_id, one_hot(label))
        results.append(logic.end_frame())
    return results


def test_one_face_keeps_its_id_when_frames_are_slow():
    # 400 ms a frame, detector every 3rd: 1.2 s between detector runs, far over max_missing_ms (700).
    logic = FrameLogic(FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=3)))
    results = run_frames(logic, [i * 400.0 for i in range(40)])
    ids = {f.id for r in results for f in r.faces}
    assert ids == {1}
    assert all(len(r.faces) == 1 for r in results)


def test_face_that_left_is_dropped_after_missed_runs_and_time():
    logic = FrameLogic(FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=1)))
    gone_from = 10
    results = run_frames(logic, [i * 100.0 for i in range(30)], face_present=lambda i: i < gone_from)
    counts = [len(r.faces) for r in results]
    assert counts[gone_from - 1] == 1
    # Missed 2 runs after 200 ms, but the face must also be unseen for > 700 ms: dropped at frame 17.
    first_empty = counts.index(0)
    assert first_empty == gone_from - 1 + 8, counts


def test_tracker_needs_both_missed_runs_and_time():
    def det(*boxes):
        b = np.asarray(boxes, np.float32).reshape(-1, 4)
        return Detections(b, np.full(len(b), 0.9, np.float32), np.zeros((len(b), 6, 2), np.float32))

    tr = FaceTracker(TrackerConfig(max_missing_ms=500, max_missed_runs=3))
    tr.update(det([0, 0, 50, 50]), 0)
    # Time passes without detector runs: the face stays.
    assert tr.update(det(), 2000) == ([], []) and len(tr.tracks) == 1 and tr.tracks[0].missed_runs == 1
    assert tr.update(det(), 2001)[1] == []
    _, dropped = tr.update(det(), 2002)
    assert [t.id for t in dropped] == [1]
    # Many quick runs without it, but not yet the time: stays; seen again: counter resets.
    tr.update(det([0, 0, 50, 50]), 3000)
    for k in range(5):
        assert tr.update(det(), 3001 + k)[1] == []
    tr.update(det([0, 0, 50, 50]), 3100)
    assert tr.tracks[0].missed_runs == 0 and tr.tracks[0].id == 2
    with pytest.raises(ValueError):
        TrackerConfig(max_missed_runs=0)


def test_abort_frame_leaves_logic_ready_and_is_a_noop_between_frames():
    logic = FrameLogic()
    assert logic.abort_frame() is False
    plan = logic.begin_frame(0.0, W, H)
    logic.submit_detections(*raw_for([FACE]))
    assert logic.in_frame and logic.abort_frame() is True and not logic.in_frame
    # What was submitted stays: the face is tracked; the next frame begins normally.
    nxt = logic.begin_frame(33.0, W, H)
    assert nxt.frame_index == plan.frame_index + 1
    result = logic.end_frame()
    assert [f.id for f in result.faces] == [1]


def test_reconfigure_keeps_tracks_and_mood():
    logic = FrameLogic(FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=2, emotion_every_n_frames=1)))
    results = run_frames(logic, [i * 50.0 for i in range(60)])
    assert results[-1].mood.state == MOOD and results[-1].mood.mood == "happy"
    new = FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=5, emotion_every_n_frames=1))
    logic.reconfigure(new)
    assert logic.config is new and logic.scheduler.config.detector_every_n_frames == 5
    after = run_frames(logic, [3000.0 + i * 50.0 for i in range(20)])
    assert all(r.mood.mood == "happy" for r in after)
    assert {f.id for r in after for f in r.faces} == {1}
    ran = [r.ran_detector for r in after]
    assert sum(ran) == 4, ran         # every 5th frame now


def test_reconfigure_during_a_frame_applies_when_it_ends():
    logic = FrameLogic()
    logic.begin_frame(0.0, W, H)
    spec = logic.config.detector
    from dataclasses import replace

    strict = replace(logic.config, detector=type(spec)(spec.anchors, replace(spec.decode, min_score_thresh=0.99),
                                                       replace(spec.nms, min_score=0.99)))
    logic.reconfigure(strict)
    assert logic.config is not strict             # not yet: the frame in flight keeps its knobs
    logic.submit_detections(*raw_for([FACE]))    # scores ~0.98: found with the old threshold
    assert len(logic.end_frame().faces) == 1
    assert logic.config is strict
    assert len(logic.postprocess(*raw_for([FACE]), LB)) == 0


def test_reconfigure_voting_restarts_votes_only_when_the_rule_changes():
    cfg = FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=1, emotion_every_n_frames=1))
    logic = FrameLogic(cfg)
    run_frames(logic, [i * 50.0 for i in range(5)])
    assert logic._voters
    logic.reconfigure(FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=2, emotion_every_n_frames=1),
                                       voting=DEFAULT_VOTING))
    assert logic._voters                           # same rule: votes kept
    logic.reconfigure(FrameLogicConfig(voting=MovingAverageVoting()))
    assert not logic._voters
