"""Teach mode without a browser: which frames are kept or skipped (and counted), the ring, a whole
round through the panel (real fit, moodcam.calibration), and the calibration records' checks."""
from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from moodcam.browser.calibration_records import (BadName, CalibrationRecord, DeleteConfirm, clean_name, file_name,
                                                  new_id, read_calibration_file, record_caption, select_options)
from moodcam.browser.teach import (MIN_SAMPLES, MOVE_LIMIT, RECORD_MS, TeachError, TeachFace, TeachSession,
                                   box_speed, skip_reason, teach_faces)
from moodcam.browser.teach_panel import TeachPanel
from moodcam.browser.teach_view import TeachView
from moodcam.browser.ui import Ui
from moodcam.calibration import CalibrationFormatError, calibration_to_json
from moodcam.mood.labels import EMOTIONS

D = 16
BOX = np.array([100.0, 100.0, 300.0, 300.0])       # a 200 px face


def face(fid=1, box=BOX, features=True, readable=True, mood_index=0, rng=None):
    rng = rng or np.random.default_rng(0)
    f = None
    g = None
    if features:
        f = rng.normal(size=D).astype(np.float32)
        f[mood_index] += 6.0                          # separable: one strong feature per mood
        g = np.full(len(EMOTIONS), 1.0 / len(EMOTIONS))
    return TeachFace(fid, np.asarray(box, float), readable, f, g)


def test_teach_faces_come_from_a_real_frame_with_features_only_where_the_net_read():
    from moodcam.pipeline import FrameLogic

    logic = FrameLogic()
    boxes = np.zeros((1, 896, 16), np.float32)
    scores = np.full((1, 896, 1), -10.0, np.float32)
    boxes[0, 0, :4] = [0, 0, 60, 60]                  # one face at the first anchor (128 px input)
    scores[0, 0, 0] = 10.0
    probs = np.eye(len(EMOTIONS))[EMOTIONS.index("happy")]
    features = np.arange(D, dtype=np.float32)
    results = []
    for t in (0.0, 33.0):
        plan = logic.begin_frame(t, 640, 480)
        if plan.run_detector:
            logic.submit_detections(boxes, scores)
        for request in logic.emotion_requests():
            logic.submit_emotion(request.face_id, probs, features)
        results.append(logic.end_frame())
    first, second = (teach_faces(r) for r in results)
    assert len(first) == 1 and first[0].features is not None and first[0].generic is not None
    np.testing.assert_array_equal(first[0].features, features)
    np.testing.assert_array_equal(first[0].generic, probs)
    assert second[0].features is None                 # the net did not read it again (every 2nd frame)


def test_box_speed_is_in_face_widths_per_second():
    moved = BOX + np.array([20.0, 0.0, 20.0, 0.0])     # 0.1 widths
    assert box_speed(BOX, moved, 100.0) == pytest.approx(1.0)
    assert box_speed(BOX, BOX, 100.0) == 0.0
    grown = np.array([100.0, 100.0, 340.0, 340.0])    # width +40 px = 0.2 widths (centre +20 px)
    assert box_speed(BOX, grown, 1000.0) == pytest.approx(0.2)


@pytest.mark.parametrize("faces, previous, reason", [
    ([], None, "no_face"),
    ([face(readable=False)], None, "no_face"),                       # only a face too far to read
    ([face(1), face(2)], (1, BOX, 0.0), "several"),
    ([face(1), face(2, readable=False)], (1, BOX, 0.0), "several"),  # a second face, even far, is a doubt
    ([face(1)], None, "moving"),                                     # nothing to measure against yet
    ([face(2)], (1, BOX, 0.0), "moving"),                            # another face than the frame before
    ([face(1, box=BOX + 30)], (1, BOX, 0.0), "moving"),              # 0.21 widths in 100 ms
    ([face(1, features=False)], (1, BOX, 0.0), "not_read"),
    ([face(1, box=BOX + 1)], (1, BOX, 0.0), None),                   # 0.07 widths/s: steady
])
def test_skip_rules(faces, previous, reason):
    assert skip_reason(faces, previous, 100.0) == reason


def test_the_move_limit_is_a_speed_not_a_step():
    step = BOX + np.array([10.0, 0, 10.0, 0])                         # 0.05 widths
    assert box_speed(BOX, step, 50.0) > MOVE_LIMIT                    # in 50 ms: 1 width/s
    assert box_speed(BOX, step, 200.0) <= MOVE_LIMIT                  # in 200 ms: 0.25 width/s


def run_frames(session, faces_at, start_ms, count, step_ms=66.0):
    t = start_ms
    for _ in range(count):
        t += step_ms
        session.observe(faces_at(t), t)
    return t


def test_skipped_frames_are_counted_and_do_not_fill_the_ring():
    session = TeachSession(["happy", "neutral"], EMOTIONS)
    assert session.moods == ("neutral", "happy")                      # calm first
    t = run_frames(session, lambda t: [face()], 0, 3)                 # before Record: nothing counted
    session.record()
    t = run_frames(session, lambda t: [], t, 4)
    t = run_frames(session, lambda t: [face(1), face(2)], t, 2)
    take = session.current
    assert take.skipped == {"no_face": 4, "several": 2, "moving": 0, "not_read": 0}
    assert take.kept == 0 and take.progress == 0.0
    t = run_frames(session, lambda t: [face(1)], t, 1)                 # after two faces: no reference yet
    assert take.skipped["moving"] == 1
    t = run_frames(session, lambda t: [face(1)], t, 5)
    assert take.kept == 5 and 0 < take.progress < 1
    shakes = iter([40.0, 0.0, 40.0, 0.0])
    t = run_frames(session, lambda t: [face(1, box=BOX + next(shakes))], t, 4)   # shaking
    assert take.skipped["moving"] == 1 + 4 and take.kept == 5
    assert session.state == "recording"


def test_a_take_ends_after_record_ms_of_kept_frames_then_the_next_mood_waits():
    session = TeachSession(["neutral", "happy", "sad"], EMOTIONS)
    session.record()
    t = run_frames(session, lambda t: [face()], 0, 1)                 # reference frame (moving)
    n = 0
    while session.index == 0:
        t = run_frames(session, lambda t: [face()], t, 1)
        n += 1
        assert n < 200
    assert n * 66.0 >= RECORD_MS and session.takes[0].kept >= MIN_SAMPLES
    assert session.state == "ready" and session.current.mood == "happy"
    with pytest.raises(TeachError):
        session.samples()


def test_a_stall_does_not_fill_the_ring():
    session = TeachSession(["neutral", "happy"], EMOTIONS)
    session.record()
    session.observe([face()], 0.0)
    session.observe([face()], 5000.0)                                 # one frame after 5 s
    assert session.current.kept_ms <= 200.0


def test_moods_are_checked():
    with pytest.raises(TeachError, match="at least two"):
        TeachSession(["happy"], EMOTIONS)
    with pytest.raises(TeachError, match="unknown"):
        TeachSession(["happy", "bored"], EMOTIONS)


class Round:
    """A TeachPanel with a real fit and a kept list instead of IndexedDB."""

    def __init__(self, running=True):
        self.posted: list = []
        self.ui = Ui(self.posted.append)
        self.teaching: list[bool] = []
        self.kept: list = []
        self.panel = TeachPanel(TeachView(self.ui), labels=lambda: EMOTIONS, camera_running=lambda: running,
                                set_teaching=self.teaching.append, keep=self.keep)

    async def keep(self, name, fit):
        self.kept.append((name, fit))
        return None

    def ops(self):
        self.ui.flush()
        return [op for m in self.posted for op in m.ops]

    def texts(self, element_id):
        return [op[2] for op in self.ops() if op[0] == "text" and op[1] == element_id]


def teach_all(r: Round, moods=("neutral", "happy")):
    r.panel.start(list(moods))
    rng = np.random.default_rng(1)
    t = 0.0
    for k, mood in enumerate(r.panel.session.moods):
        r.panel.record()
        i = EMOTIONS.index(mood)
        while r.panel.session.index == k:
            t += 66.0
            r.panel.observe([face(mood_index=i, rng=rng)], t)
    return t


def test_a_whole_round_fits_shows_both_accuracies_and_keeps_it_by_name():
    r = Round()
    teach_all(r, ("neutral", "happy", "sad"))
    assert r.teaching == [True, False]                 # every face read on every frame while teaching
    fit = r.panel.fit
    assert fit is not None and fit.cv_accuracy == 1.0 and fit.head.labels == ("happy", "sad", "neutral")
    result = r.texts("teach-result")[-1]
    assert "100 %" in result and "generic net alone reads" in result
    hidden = {op[1]: op[2] for op in r.ops() if op[0] == "hidden"}
    assert hidden["teach-review"] is False and hidden["teach-step"] is True
    asyncio.run(r.panel.accept("   "))                # a name is needed
    assert not r.kept and "name" in r.texts("teach-status")[-1]
    asyncio.run(r.panel.accept("  Ada  "))
    assert [name for name, _ in r.kept] == ["Ada"] and r.panel.session is None
    assert "kept on this device" in r.texts("live")[-1]


def test_the_ring_and_counts_are_shown_while_recording():
    r = Round()
    r.panel.start(["neutral", "happy"])
    r.panel.record()
    for t in (0.0, 66.0, 132.0, 198.0):
        r.panel.observe([face()] if t != 66.0 else [], t)
    ops = r.ops()
    progress = [op[3] for op in ops if op[:3] == ["style", "teach-ring", "--progress"]]
    assert progress[-1] != "0.00"
    assert any(op[:3] == ["attr", "teach-ring", "aria-valuenow"] for op in ops)
    assert "no face 1" in r.texts("teach-counts")[-1]


def test_no_camera_no_teaching_and_discard_keeps_nothing():
    r = Round(running=False)
    r.panel.start(["neutral", "happy"])
    assert r.panel.session is None and "camera" in r.texts("teach-status")[-1]
    r = Round()
    teach_all(r)
    r.panel.discard()
    assert r.panel.fit is None and not r.kept


# -- records -----------------------------------------------------------------------------------------
SHA = "a" * 64


def fitted_body(name="Ada"):
    r = Round()
    teach_all(r)
    return json.dumps(calibration_to_json(name, r.panel.fit, SHA))


def test_names_ids_and_file_names():
    assert clean_name("  Ada \n Lovelace ") == "Ada Lovelace"
    with pytest.raises(BadName):
        clean_name(" \t")
    assert len(clean_name("x" * 100)) == 40
    assert new_id(1000.0, {"c1000"}) == "c1000-2"
    assert file_name("Ada / home") == "moodcam-calibration-Ada-home.json"
    assert file_name("../..") == "moodcam-calibration-calibration.json"
    assert select_options([]) == [["", "generic net"]]


def test_records_round_trip_and_foreign_rows_are_left_out():
    record = CalibrationRecord("c1", "Ada", 0.0, fitted_body())
    assert CalibrationRecord.from_row(record.to_row()) == record
    assert CalibrationRecord.from_row({"id": "x"}) is None and CalibrationRecord.from_row("text") is None
    assert "100 % cross-validated" in record_caption(record, True) and record_caption(record, True).endswith("(active)")


@pytest.mark.parametrize("text, problem", [
    ("{not json", "not JSON"),
    ("[1, 2]", "JSON object"),
    ('{"format": "something-else"}', "not a moodcam calibration"),
])
def test_a_damaged_or_foreign_file_is_refused_with_its_reason(text, problem):
    with pytest.raises(CalibrationFormatError, match=problem):
        read_calibration_file(text, model_sha256=SHA, feature_size=D, emotion_labels=EMOTIONS)


def test_a_file_for_another_model_is_refused_and_a_good_one_reads_back():
    body = fitted_body()
    with pytest.raises(CalibrationFormatError, match="another emotion model"):
        read_calibration_file(body, model_sha256="b" * 64, feature_size=D, emotion_labels=EMOTIONS)
    name, fit = read_calibration_file(body, model_sha256=SHA, feature_size=D, emotion_labels=EMOTIONS)
    assert name == "Ada" and fit.head.labels == ("happy", "neutral")
    truncated = body[: len(body) // 2]
    with pytest.raises(CalibrationFormatError, match="not JSON"):
        read_calibration_file(truncated, model_sha256=SHA, feature_size=D, emotion_labels=EMOTIONS)


def test_deleting_a_calibration_takes_a_second_press_on_the_same_record_in_time():
    confirm = DeleteConfirm(window_ms=6000)
    assert confirm.press("a", 1000) is False and confirm.asking == "a"     # the first press asks
    assert confirm.press("a", 6999) is True and confirm.asking is None     # the second, in time, deletes
    # Too late: the late press asks again instead of deleting.
    assert confirm.press("a", 10_000) is False
    assert confirm.press("a", 16_001) is False
    assert confirm.press("a", 16_500) is True
    # Another record's press asks about that one; the first is no longer pending.
    assert confirm.press("a", 20_000) is False
    assert confirm.press("b", 20_100) is False and confirm.asking == "b"
    assert confirm.press("a", 20_200) is False
    # Withdrawn (the list changed): the next press asks again.
    confirm.withdraw()
    assert confirm.press("a", 20_300) is False


def test_an_unanswered_delete_question_expires_once_and_only_its_own():
    confirm = DeleteConfirm(window_ms=6000)
    confirm.press("a", 1000)
    confirm.press("a", 2000)                          # answered: deleted
    assert confirm.expired(1000) is False
    confirm.press("a", 3000)
    confirm.press("b", 4000)                          # asked again, about b
    assert confirm.expired(3000) is False             # the old question's timer does nothing
    assert confirm.expired(4000) is True and confirm.asking is None
    assert confirm.expired(4000) is False             # only once
    with pytest.raises(ValueError, match="window_ms"):
        DeleteConfirm(window_ms=0)
