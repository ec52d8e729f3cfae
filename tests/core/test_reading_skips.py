"""A bad emotion reading never ends the camera loop (issue 30): FrameLogic skips that face's vote for
that frame and says so (ReadingSkipped); a calibration head whose output is not finite is switched
off (CalibrationDropped) and the generic net reads on. Pure; runs in CPython and Pyodide."""
import json
import math

import numpy as np
import pytest

from moodcam.calibration_head import CalibrationHead
from moodcam.mood.labels import EMOTIONS
from moodcam.mood.state import MOOD
from moodcam.pipeline import FrameLogic
from moodcam.readings import CalibrationDropped, ReadingSkipped, reading_problem

from .test_pipeline_api import FACE, H, W, one_hot, raw_for
from .test_pipeline_calibration import HEAD, SAD_FRAMES

NAN7 = np.full(len(EMOTIONS), math.nan)


def frame(logic, i, probabilities, features=None):
    """One frame at i x 33 ms with the face; every emotion request answered with (probabilities, features)."""
    plan = logic.begin_frame(i * 33.0, W, H)
    if plan.run_detector:
        logic.submit_detections(*raw_for([FACE]))
    for req in logic.emotion_requests():
        logic.submit_emotion(req.face_id, probabilities, features)
    return logic.end_frame()


def kinds(result):
    return [e.kind for e in result.events]


def test_a_nan_from_the_net_skips_that_vote_and_the_loop_goes_on():
    logic = FrameLogic()
    happy = [frame(logic, i, one_hot("happy", 0.9)) for i in range(40)]
    assert happy[-1].mood.state == MOOD and happy[-1].mood.mood == "happy"
    before = happy[-1].faces[0].probabilities
    bad = [frame(logic, i, NAN7) for i in range(40, 50)]               # raised ValueError before issue 30
    skipped = [e for r in bad for e in r.events if isinstance(e, ReadingSkipped)]
    assert skipped and all(e.reason == "the emotion net's output held NaN or infinite values" for e in skipped)
    assert skipped[0].face_id == bad[0].faces[0].id and skipped[0].kind == "reading_skipped"
    assert all(r.faces[0].probabilities == before for r in bad)         # the vote stands, unspoilt
    assert all(not r.emotion_face_ids and r.faces[0].features is None for r in bad)   # teach mode keeps none
    assert bad[-1].mood.mood == "happy"
    for r in bad:
        json.dumps(r.to_dict(), allow_nan=False)                         # the page's data stays valid JSON
    later = [frame(logic, i, one_hot("sad", 0.9)) for i in range(50, 120)]
    assert later[-1].mood.mood == "sad" and not any("reading_skipped" in kinds(r) for r in later)


@pytest.mark.parametrize("probabilities, features, reason", [
    (NAN7, None, "NaN or infinite"),
    (np.r_[math.inf, np.zeros(6)], None, "NaN or infinite"),
    (one_hot("happy", 0.9) * 3e38, None, "outside 0..1"),
    (-one_hot("happy", 0.9), None, "outside 0..1"),
    (one_hot("happy", 0.9), SAD_FRAMES[0] * math.nan, "features held NaN"),
    (one_hot("happy", 0.9), np.full(128, 1e300), "beyond its float32 range"),
])
def test_every_unusable_reading_is_skipped_with_its_reason(probabilities, features, reason):
    assert reason in reading_problem(probabilities, features)
    logic = FrameLogic()
    logic.set_calibration(HEAD)
    result = frame(logic, 0, probabilities, features)
    assert [e.reason for e in result.events if isinstance(e, ReadingSkipped)] == [reading_problem(probabilities,
                                                                                                 features)]
    assert logic.calibration is HEAD                      # the net's fault: the head stays on


def test_a_usable_reading_has_no_problem():
    assert reading_problem(one_hot("happy", 0.9), SAD_FRAMES[0]) is None
    assert reading_problem(np.full(7, 1 / 7) * (1 + 1e-6), None) is None       # float32 rounding


def bad_head():
    """A head no file can carry any more (calibration_head.unbounded_output refuses it): scales of 1e-320."""
    return CalibrationHead(HEAD.labels, HEAD.method, HEAD.mean, np.full(128, 1e-320), HEAD.weights, HEAD.bias)


def test_a_head_that_makes_nan_is_switched_off_and_the_generic_net_reads_on():
    logic = FrameLogic()
    logic.set_calibration(bad_head())
    results = [frame(logic, i, one_hot("happy", 0.9), SAD_FRAMES[i % 60]) for i in range(60)]
    dropped = [e for r in results for e in r.events if isinstance(e, CalibrationDropped)]
    assert len(dropped) == 1 and dropped[0].kind == "calibration_dropped"      # once: it is off afterwards
    assert "NaN or infinite moods" in dropped[0].reason
    assert logic.calibration is None and not results[-1].calibrated
    assert not results[0].calibrated                      # its one reading was voted uncalibrated
    assert results[-1].mood.state == MOOD and results[-1].mood.mood == "happy"    # the generic net's reading
    assert results[0].faces[0].probabilities == pytest.approx(tuple(one_hot("happy", 0.9)))   # voted generic
    assert dropped[0].to_dict() == {"timestamp_ms": 0.0, "reason": dropped[0].reason, "kind": "calibration_dropped"}


def test_a_net_output_of_zeros_does_not_blame_a_good_head():
    """The head replaces the net's output (weight 1): the net's share is not computed, so 0/0 cannot spoil it."""
    logic = FrameLogic()
    logic.set_calibration(HEAD)
    result = frame(logic, 0, np.zeros(len(EMOTIONS)), SAD_FRAMES[0])
    assert logic.calibration is HEAD and result.calibrated
    assert "calibration_dropped" not in kinds(result) and "reading_skipped" not in kinds(result)
    bars = dict(zip(result.labels, result.faces[0].probabilities))
    assert bars["sad"] > 0.5
