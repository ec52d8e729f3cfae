import json

import numpy as np
import pytest

from moodcam.detection.anchors import BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.detection.letterbox import Letterbox
from moodcam.mood.labels import EMOTIONS
from moodcam.mood.presentation import PRESENTATIONS, contrast_text_color, presentation_for
from moodcam.mood.state import MOOD, OBSERVING, PAUSED, MoodSnapshot
from moodcam.pipeline import FrameLogic, FrameLogicConfig
from moodcam.schedule import ScheduleConfig, Scheduler

ANCHORS = generate_anchors(BLAZEFACE_SHORT_RANGE)
W, H = 640, 480
LB = Letterbox.fit(W, H, 128, 128)


def raw_for(face_boxes_px):
    """Raw BlazeFace outputs whose decoding gives these frame-pixel boxes (4 anchors fire per face)."""
    boxes_px = np.asarray(face_boxes_px, float).reshape(-1, 4)
    norm = LB.boxes_to_target(boxes_px) / 128.0
    ids, rows, kps = [], [], []
    for b in norm:
        near = anchors_near(ANCHORS, b[None], 4)[0]
        jitter = np.array([[0, 0, 0, 0], [0.004, 0, 0.004, 0], [0, 0.004, 0, 0.004], [-0.003, 0, -0.003, 0]])
        ids.extend(near)
        rows.extend(b + jitter)
        eye_y = b[1] + 0.3 * (b[3] - b[1])
        kp = np.array([[b[0] + 0.3 * (b[2] - b[0]), eye_y], [b[0] + 0.7 * (b[2] - b[0]), eye_y]] + [[b[0], b[1]]] * 4)
        kps.extend([kp] * 4)
    logits = np.tile([4.0, 3.0, 2.5, 1.0], len(norm))
    return encode_raw_outputs(ANCHORS, ids, np.array(rows), np.array(kps), logits)


def one_hot(label, p=0.9):
    v = np.full(7, (1 - p) / 6)
    v[EMOTIONS.index(label)] = p
    return v


def test_full_protocol_one_face_reaches_a_mood():
    logic = FrameLogic(FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=2, emotion_every_n_frames=1)))
    raw = raw_for([[200, 120, 320, 260]])
    moods = []
    for i in range(60):
        t = i * 33.0
        plan = logic.begin_frame(t, W, H)
        assert plan.frame_index == i
        if i == 0:
            assert plan.run_detector  # no tracks yet: run at once
        if plan.run_detector:
            det = logic.submit_detections(*raw)
            assert len(det) == 1
            np.testing.assert_allclose(det.boxes[0], [200, 120, 320, 260], atol=2.5)
        for req in logic.emotion_requests():
            assert req.size == 64 and req.box is not None and len(req.transform) == 8
            logic.submit_emotion(req.face_id, one_hot("happy"))
        result = logic.end_frame()
        moods.append(result.mood.mood)
    assert result.faces[0].id == 1 and result.faces[0].label == "happy" and result.faces[0].primary
    assert result.mood.state == MOOD and result.mood.mood == "happy"
    first = moods.index("happy")
    # entered once the first answer's dwell (MoodConfig.first_dwell_ms, 500 ms) had passed
    assert 500 <= first * 33.0 <= 600
    json.dumps(result.to_dict())  # plain data for the browser


def test_detector_schedule_and_emotion_budget():
    sched = Scheduler(ScheduleConfig(detector_every_n_frames=3, emotion_every_n_frames=4, max_emotion_runs_per_frame=1))
    assert sched.detector_due(0, has_tracks=True)
    sched.detector_ran(0)
    assert [sched.detector_due(i, True) for i in (1, 2, 3)] == [False, False, True]
    assert sched.detector_due(1, has_tracks=False)
    assert sched.emotion_due(0, [1, 2]) == [1]
    sched.emotion_ran(1, 0)
    assert sched.emotion_due(1, [1, 2]) == [2]  # the never-classified face goes first
    sched.emotion_ran(2, 1)
    assert sched.emotion_due(3, [1, 2]) == []
    assert sched.emotion_due(4, [1, 2]) == [1]
    with pytest.raises(ValueError):
        ScheduleConfig(detector_every_n_frames=0)


def test_two_faces_primary_is_the_largest_and_face_lost_clears():
    logic = FrameLogic(FrameLogicConfig(schedule=ScheduleConfig(detector_every_n_frames=1)))
    raw2 = raw_for([[60, 100, 160, 220], [380, 80, 560, 300]])
    r = logic.process(0, W, H, *raw2)
    assert len(r.faces) == 2
    assert [f.primary for f in r.faces] == [False, True]
    assert r.mood.state == OBSERVING
    empty = raw_for(np.zeros((0, 4)))
    t = 0
    while r.mood.state != "no_face":
        t += 100
        r = logic.process(t, W, H, *empty)
        assert t < 5000
    assert r.faces == () and "face_lost" in [e.kind for e in r.events]


def test_faces_and_crops_are_in_source_pixels():
    # Mirroring a selfie preview is the renderer's job: the core never mirrors.
    logic = FrameLogic(FrameLogicConfig())
    logic.begin_frame(0, W, H)
    logic.submit_detections(*raw_for([[100, 120, 220, 260]]))
    req = logic.emotion_requests()[0]
    assert req.crop.center_x == pytest.approx(160, abs=3)
    face = logic.end_frame().faces[0]
    np.testing.assert_allclose(face.box[[0, 2]], [100, 220], atol=3)


def test_pause_forgets_faces_and_resume_restarts():
    logic = FrameLogic()
    raw = raw_for([[200, 120, 320, 260]])
    logic.process(0, W, H, *raw)
    logic.pause(100)
    r = logic.process(200, W, H, *raw)
    assert r.mood.state == PAUSED and "paused" in [e.kind for e in r.events]
    logic.resume(5000)
    r = logic.process(5001, W, H, *raw)
    kinds = [e.kind for e in r.events]
    assert "resumed" in kinds and "face_found" in kinds


def test_protocol_misuse_is_explained():
    logic = FrameLogic()
    with pytest.raises(RuntimeError, match="begin_frame"):
        logic.submit_detections(*raw_for([[0, 0, 50, 50]]))
    logic.begin_frame(0, W, H)
    with pytest.raises(RuntimeError, match="end_frame"):
        logic.begin_frame(1, W, H)
    with pytest.raises(ValueError, match="no tracked face"):
        logic.submit_emotion(99, one_hot("sad"))
    with pytest.raises(ValueError, match=r"\(896, 16\)"):
        logic.submit_detections(np.zeros((1, 896, 12)), np.zeros((1, 896, 1)))


def test_rotated_crops_give_a_transform_only():
    logic = FrameLogic(FrameLogicConfig(rotate_crops=True))
    logic.begin_frame(0, W, H)
    logic.submit_detections(*raw_for([[200, 120, 320, 260]]))
    req = logic.emotion_requests()[0]
    assert req.box is None and len(req.transform) == 8


def test_every_state_and_label_has_a_presentation():
    for key in (*EMOTIONS, "observing", "no_face", "starting", "paused"):
        p = PRESENTATIONS[key]
        assert p.prompt and p.name and p.color.startswith("#") and len(p.color) == 7
    colours = [PRESENTATIONS[k].color for k in EMOTIONS]
    assert len(set(colours)) == len(EMOTIONS)
    assert presentation_for(MoodSnapshot(MOOD, "sad", 0)).key == "sad"
    assert presentation_for(MoodSnapshot(OBSERVING, None, 0)).key == "observing"
    assert contrast_text_color("#F0E442") == "#000000" and contrast_text_color("#0072B2") == "#FFFFFF"


def test_pause_during_a_frame_lets_it_finish_and_ignores_late_results():
    logic = FrameLogic()
    logic.begin_frame(0, W, H)
    logic.submit_detections(*raw_for([[200, 120, 320, 260]]))
    req = logic.emotion_requests()[0]
    logic.pause(10)  # visibilitychange fired while the emotion net was running
    assert logic.submit_emotion(req.face_id, one_hot("happy")) is None
    r = logic.end_frame()
    assert r.mood.state == PAUSED and r.faces == ()
    plan = logic.begin_frame(20, W, H)
    assert plan.paused and not plan.run_detector and logic.emotion_requests() == ()
    logic.end_frame()


def test_in_frame_flag():
    logic = FrameLogic()
    assert not logic.in_frame
    logic.begin_frame(0, W, H)
    assert logic.in_frame
    logic.end_frame()
    assert not logic.in_frame
