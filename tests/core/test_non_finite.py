"""Non-finite and absurd model outputs never reach tracks, the primary face or the page's face data.

Decoding drops a detection whose score, box or key points are not finite or whose
box/key points lie more than ``MAX_OUTSIDE`` input sizes beyond the model input
(a huge regressor value); the tracker ignores non-finite detections it is handed
directly (e.g. faces from FaceMesh), and a One Euro filter that sees a non-finite
value starts afresh instead of carrying NaN for ever.
"""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moodcam.detection.anchors import BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.decode import MAX_OUTSIDE, DecodeOptions, decode
from moodcam.detection.encode import anchors_near, encode_raw_outputs
from moodcam.detection.result import Detections
from moodcam.pipeline import FrameLogic
from moodcam.tracking.one_euro import OneEuroConfig, OneEuroFilter
from moodcam.tracking.tracker import FaceTracker

ANCHORS = generate_anchors(BLAZEFACE_SHORT_RANGE)
BAD = (math.nan, math.inf, -math.inf, 1e30, -1e30, 3e38)


def _face_raw(box=(0.3, 0.3, 0.6, 0.6), logit=5.0):
    """Raw outputs with one face (on its nearest anchor) and background everywhere else."""
    box = np.array([box])
    kps = np.repeat(((box[:, :2] + box[:, 2:]) / 2)[:, None, :], 6, axis=1)
    ids = anchors_near(ANCHORS, box, 1)[0]
    raw, logits = encode_raw_outputs(ANCHORS, ids, box, kps, [logit])
    return raw.astype(np.float32), logits.astype(np.float32), int(ids[0])


def _second_anchor(raw, logits, first, value_at, value):
    """Copy the face to an anchor far away and put one bad value into its regressors."""
    other = (first + 448) % 896
    raw[other] = raw[first]
    raw[other, value_at] = value
    logits[other] = logits[first]
    return other


pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")   # no overflow warnings on the way


@pytest.mark.parametrize("column", [0, 2, 3, 4, 9, 15])      # centre x, w, h, key points
@pytest.mark.parametrize("value", BAD)
def test_decode_drops_non_finite_and_absurd_regressors(column, value):
    raw, logits, first = _face_raw()
    _second_anchor(raw, logits, first, column, value)
    det = decode(raw, logits, ANCHORS)
    assert len(det) == 1, (column, value, det.boxes, det.keypoints)
    assert np.isfinite(det.boxes).all() and np.isfinite(det.keypoints).all()
    np.testing.assert_allclose(det.boxes[0], [0.3, 0.3, 0.6, 0.6], atol=2e-5)


def test_decode_drops_non_finite_scores_without_a_threshold():
    raw, logits, first = _face_raw()
    logits[first + 1] = np.nan
    raw[first + 1, 2:4] = 10.0
    det = decode(raw, logits, ANCHORS, DecodeOptions(min_score_thresh=None))
    assert np.isfinite(det.scores).all()
    assert len(det) == 895


def test_decode_keeps_faces_partly_outside_the_input():
    # A face cut by the frame edge is real: only boxes beyond MAX_OUTSIDE input sizes are dropped.
    raw, logits, _ = _face_raw((-0.4, 0.6, 0.5, 1.5))
    det = decode(raw, logits, ANCHORS)
    assert len(det) == 1
    np.testing.assert_allclose(det.boxes[0], [-0.4, 0.6, 0.5, 1.5], atol=2e-5)
    assert MAX_OUTSIDE >= 1.0


finite_or_not = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                          st.sampled_from(BAD))


@settings(max_examples=80, deadline=None)
@given(values=st.lists(st.tuples(st.integers(0, 15), finite_or_not), min_size=1, max_size=6),
       logit=st.one_of(st.floats(0.1, 50), st.sampled_from([math.nan, math.inf])))
def test_decoded_values_are_always_finite_and_bounded(values, logit):
    raw, logits, first = _face_raw()
    other = _second_anchor(raw, logits, first, 0, raw[first, 0])
    logits[other] = logit
    for column, value in values:
        raw[other, column] = value
    det = decode(raw, logits, ANCHORS)
    assert 1 <= len(det) <= 2
    assert np.isfinite(det.scores).all()
    lo, hi = -MAX_OUTSIDE, 1.0 + MAX_OUTSIDE
    for arr in (det.boxes, det.keypoints):
        assert np.isfinite(arr).all() and (arr >= lo).all() and (arr <= hi).all()


def test_huge_regressor_does_not_win_primary_face():
    logic = FrameLogic()
    raw, logits, first = _face_raw()
    other = _second_anchor(raw, logits, first, 2, 3e38)       # an absurdly wide box far away
    raw[other, 3] = 3e38
    result = logic.process(0.0, 640, 480, raw, logits)
    assert len(result.faces) == 1
    (face,) = result.faces
    assert face.primary and np.isfinite(face.box).all()
    assert face.box[2] - face.box[0] < 640
    json.dumps(result.to_dict(), allow_nan=False)


def _face(box, kp_value=None):
    b = np.asarray([box], np.float32)
    kps = np.repeat(((b[:, :2] + b[:, 2:]) / 2)[:, None, :], 6, axis=1)
    if kp_value is not None:
        kps[0, 2, 0] = kp_value
    return Detections(b, np.array([0.9], np.float32), kps)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_key_point_does_not_poison_the_track(value):
    """Faces handed to the tracker directly (FaceMesh) are not decoded: the tracker must guard itself."""
    logic = FrameLogic()
    t = 0.0
    for step in range(6):
        logic.begin_frame(t, 640, 480)
        logic.submit_faces(_face([100 + step, 100, 200 + step, 200], value if step == 2 else None))
        result = logic.end_frame()
        t += 33.0
        faces = result.to_dict()["faces"]
        assert len(faces) == 1
        json.dumps(faces, allow_nan=False)       # raises on NaN / inf: the page's face data stays valid
    assert [f.id for f in result.faces] == [1]
    assert np.isfinite(result.faces[0].keypoints).all()


def test_tracker_ignores_non_finite_detections_and_keeps_the_good_ones():
    tr = FaceTracker()
    tr.update(_face([100, 100, 200, 200]), 0)
    both = Detections(np.array([[101, 100, 201, 200], [np.nan, 0, 50, 50]], np.float32),
                      np.array([0.9, 0.95], np.float32), np.zeros((2, 6, 2), np.float32))
    created, dropped = tr.update(both, 33)
    assert created == [] and dropped == []
    assert len(tr.tracks) == 1 and tr.tracks[0].hits == 2
    assert np.isfinite(tr.tracks[0].box).all() and np.isfinite(tr.tracks[0].keypoints).all()


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_one_euro_filter_starts_afresh_after_a_non_finite_value(value):
    f = OneEuroFilter(OneEuroConfig())
    f([1.0, 2.0], 0)
    f([1.5, 2.0], 33)
    f([value, 2.0], 66)
    assert f.value is None                      # reset: nothing of the bad value is kept
    out = f([3.0, 4.0], 99)
    np.testing.assert_array_equal(out, [3.0, 4.0])   # a fresh start takes the value as it is
    assert np.isfinite(f([3.1, 4.0], 132)).all()


def test_one_euro_filter_resets_when_its_state_overflows():
    f = OneEuroFilter(OneEuroConfig(beta=1.0))
    f([1e308], 0)
    out = f([-1e308], 1)                        # the speed overflows to -inf
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, [-1e308])
