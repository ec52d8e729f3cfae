"""The browser side of hostile calibrations (issue 30): an import of any file ends in a refusal (never
the "unexpected error" screen), stored rows the list cannot read are listed as unreadable, and a
frame's reading events become what the page says (browser.reading_notices)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from moodcam.browser.calibration_records import CalibrationRecord, read_calibration_file, record_caption
from moodcam.browser.reading_notices import NOTICE_HOLD_MS, SkippedReadingNotice, dropped_calibration, skipped_text
from moodcam.calibration import CalibrationFormatError, calibration_to_json, fit_calibration
from moodcam.calibration_head import CalibrationHead
from moodcam.mood.labels import EMOTIONS
from moodcam.mood.state import FaceFound
from moodcam.pipeline import FrameLogic
from moodcam.readings import CalibrationDropped, ReadingSkipped

SHA = "ab" * 32
D = 8
RNG = np.random.default_rng(3)
X = np.concatenate([RNG.normal(i, 0.3, (10, D)) for i in range(2)])
LABELS = ["happy"] * 10 + ["sad"] * 10
FIT = fit_calibration(X, LABELS, emotion_labels=EMOTIONS)
GOOD = calibration_to_json("me", FIT, SHA)


def read(text: str):
    return read_calibration_file(text, model_sha256=SHA, feature_size=D, emotion_labels=EMOTIONS)


def text_with(**changes) -> str:
    return json.dumps({**GOOD, **changes})


@pytest.mark.parametrize("text, problem", [
    ("[" * 200_000 + "]" * 200_000, "nests 200000 levels deep"),                # RecursionError before
    ('{"bias": ' + "[" * 200_000, "nests"),
    (text_with(bias=[10 ** 400, 0]), "too large"),                              # OverflowError before
    (text_with(weights=[[1e308, 1e308]] * D), "overflow"),                        # accepted (NaN moods) before
    (text_with(scale=[1e-320] * D), "overflow"),
    (text_with(bias=["1", "2"]), "not a list of numbers"),
    ("\ufeff" + text_with(), "not JSON"),
    ("", "not JSON"),
])
def test_every_hostile_file_is_a_refusal(text, problem):
    with pytest.raises(CalibrationFormatError, match=problem) as error:
        read(text)
    assert str(error.value).startswith("not a usable calibration file: ") and len(str(error.value)) < 400


def test_a_good_file_still_imports():
    name, fit = read(json.dumps(GOOD))
    assert name == "me" and fit.head.labels == ("happy", "sad")


@pytest.mark.parametrize("body", [
    "[" * 100_000,
    json.dumps({**GOOD, "cv_accuracy": 1e400}),          # round(inf): OverflowError before
    json.dumps({**GOOD, "cv_accuracy": 10 ** 400}),
    json.dumps({**GOOD, "labels": 3}),
])
def test_a_stored_row_the_list_cannot_read_is_listed_as_unreadable(body):
    caption = record_caption(CalibrationRecord("c1", "Ana", 0.0, body), active=False)
    assert caption.startswith("Ana: ") and ("unreadable" in caption or "%" not in caption)


# -- what a frame's events make the page say -------------------------------------------------------------
def skipped(t: float) -> ReadingSkipped:
    return ReadingSkipped(t, 1, "the emotion net's output held NaN or infinite values")


def test_a_skipped_reading_is_said_once_and_cleared_after_a_quiet_spell():
    notice = SkippedReadingNotice()
    assert notice.update([FaceFound(0.0)], 0.0) is None                    # nothing to say, nothing shown
    text = notice.update([skipped(10.0)], 10.0)
    assert text == skipped_text(skipped(10.0).reason) and "camera goes on" in text and "NaN" in text
    assert notice.update([skipped(40.0)], 40.0) is None                    # the same line: not said again
    assert notice.update([], 40.0 + NOTICE_HOLD_MS - 1) is None            # held
    assert notice.update([], 40.0 + NOTICE_HOLD_MS) == ""                  # cleared after the last skip
    assert notice.update([], 99_999.0) is None                             # only once
    assert notice.update([skipped(100_000.0)], 100_000.0) == text          # back when it happens again


def test_a_dropped_calibration_is_named_from_the_frame_events():
    assert dropped_calibration([FaceFound(0.0), skipped(0.0)]) is None
    assert dropped_calibration([CalibrationDropped(5.0, "why")]) == "why"


def test_the_events_come_from_a_real_frame():
    """FrameLogic with a head no file could carry: the frame's events name the failure for teach mode."""
    head = FIT.head
    bad = CalibrationHead(head.labels, head.method, head.mean, np.full(D, 1e-320), head.weights, head.bias)
    logic = FrameLogic()
    logic.set_calibration(bad)
    boxes = np.zeros((1, 896, 16), np.float32)
    scores = np.full((1, 896, 1), -10.0, np.float32)
    boxes[0, 0, :4] = [0, 0, 60, 60]
    scores[0, 0, 0] = 10.0
    logic.begin_frame(0.0, 640, 480)
    logic.submit_detections(boxes, scores)
    for request in logic.emotion_requests():
        logic.submit_emotion(request.face_id, np.eye(len(EMOTIONS))[3], X[0])
    result = logic.end_frame()
    reason = dropped_calibration(result.events)
    assert reason is not None and "NaN or infinite moods" in reason and logic.calibration is None
    nan = np.full(len(EMOTIONS), math.nan)
    notice, said = SkippedReadingNotice(), []
    for i in range(1, 12):                             # the net reads a face every few frames
        if logic.begin_frame(i * 33.0, 640, 480).run_detector:
            logic.submit_detections(boxes, scores)
        for request in logic.emotion_requests():
            logic.submit_emotion(request.face_id, nan, X[0])
        said.append(notice.update(logic.end_frame().events, i * 33.0))
    assert [s for s in said if s] == [skipped_text("the emotion net's output held NaN or infinite values")]
