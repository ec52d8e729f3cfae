"""A calibration head in the per-frame path: FrameLogic.set_calibration, features per face (issue 15)."""
import numpy as np
import pytest

from moodcam.calibration import fit_calibration
from moodcam.mood.labels import EMOTIONS
from moodcam.mood.state import MOOD
from moodcam.pipeline import FrameLogic

from .test_calibration import separable
from .test_pipeline_api import FACE, H, W, one_hot, raw_for

X, LABELS = separable()                                       # 60 frames each of happy, sad, surprise, neutral
SAD_FRAMES = X[60:120]
HEAD = fit_calibration(X, LABELS, emotion_labels=EMOTIONS).head


def run(logic, frames, probabilities, features):
    """frames x 33 ms, one face; the emotion net reads (probabilities, features[i % len])."""
    results = []
    for i in range(frames):
        plan = logic.begin_frame(i * 33.0, W, H)
        if plan.run_detector:
            logic.submit_detections(*raw_for([FACE]))
        for req in logic.emotion_requests():
            logic.submit_emotion(req.face_id, probabilities, features[i % len(features)])
        results.append(logic.end_frame())
    return results


def test_without_calibration_the_generic_net_decides_and_features_are_carried():
    results = run(FrameLogic(), 60, one_hot("happy", 0.7), SAD_FRAMES)
    assert results[-1].mood.state == MOOD and results[-1].mood.mood == "happy"
    assert not results[-1].calibrated
    read = [r for r in results if r.emotion_face_ids]
    face = read[-1].faces[0]
    assert face.features is not None and face.features.shape == (128,)
    assert np.allclose(face.net_probabilities, one_hot("happy", 0.7))
    unread = [r for r in results if r.faces and not r.emotion_face_ids]
    assert unread and unread[-1].faces[0].features is None        # only frames the net read carry features
    assert "features" not in face.to_dict()


def test_with_calibration_the_head_decides_among_taught_moods():
    # The net says happy (0.7) on frames whose features the head learnt as sad: the head replaces it.
    logic = FrameLogic()
    logic.set_calibration(HEAD)
    results = run(logic, 60, one_hot("happy", 0.7), SAD_FRAMES)
    assert results[-1].calibrated and logic.calibration is HEAD
    assert results[-1].mood.state == MOOD and results[-1].mood.mood == "sad"
    bars = dict(zip(results[-1].labels, results[-1].faces[0].probabilities))
    assert bars["sad"] > 0.7 and bars["angry"] == pytest.approx(0.0, abs=1e-6)      # untaught: 0
    read = [r for r in results if r.emotion_face_ids][-1]
    assert np.allclose(read.faces[0].net_probabilities, one_hot("happy", 0.7))       # generic still exposed


def test_switching_the_calibration_off_brings_the_generic_net_back():
    logic = FrameLogic()
    logic.set_calibration(HEAD)
    assert run(logic, 60, one_hot("happy", 0.7), SAD_FRAMES)[-1].mood.mood == "sad"
    logic.set_calibration(None)
    later = []
    for i in range(60, 160):
        plan = logic.begin_frame(i * 33.0, W, H)
        if plan.run_detector:
            logic.submit_detections(*raw_for([FACE]))
        for req in logic.emotion_requests():
            logic.submit_emotion(req.face_id, one_hot("happy", 0.7), SAD_FRAMES[i % 60])
        later.append(logic.end_frame())
    assert not later[-1].calibrated and later[-1].mood.mood == "happy"


def test_without_features_a_calibration_leaves_the_output_as_it_is():
    logic = FrameLogic()
    logic.set_calibration(HEAD)
    results = logic.process(0.0, W, H, *raw_for([FACE]), classify=lambda req: one_hot("happy", 0.7))
    assert results.faces[0].probabilities == pytest.approx(tuple(one_hot("happy", 0.7)))


def test_a_head_for_other_labels_is_refused():
    from moodcam.pipeline import FrameLogicConfig
    logic = FrameLogic(FrameLogicConfig(emotion_labels=("yes", "no")))
    with pytest.raises(ValueError, match="not among the emotion labels"):
        logic.set_calibration(HEAD)
