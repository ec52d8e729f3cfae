import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moodcam.detection.anchors import BLAZEFACE_SHORT_RANGE, generate_anchors
from moodcam.detection.decode import BLAZEFACE_SHORT_RANGE_DECODE, DecodeOptions, decode
from moodcam.detection.encode import anchors_near, encode_raw_outputs

ANCHORS = generate_anchors(BLAZEFACE_SHORT_RANGE)


def _blank(n=896):
    return np.zeros((n, 16), np.float32), np.full((n, 1), -50.0, np.float32)


def test_hand_computed_decode_of_one_anchor():
    raw, logits = _blank()
    i = 600  # layer 1..3 block: cell (row 1, col 6) -> anchor (0.8125, 0.1875), size 1 x 1
    np.testing.assert_allclose(ANCHORS[i], [0.8125, 0.1875, 1, 1])
    # reverse_output_order: x, y, w, h then (x, y) per key point, all / 128.
    raw[i, :4] = [12.8, -6.4, 25.6, 38.4]           # dx 0.1, dy -0.05, w 0.2, h 0.3
    raw[i, 4:6] = [-12.8, 0.0]                      # right eye at anchor + (-0.1, 0)
    raw[i, 14:16] = [0.0, 64.0]                     # left ear at anchor + (0, 0.5)
    logits[i, 0] = 2.0
    det = decode(raw, logits, ANCHORS)
    assert len(det) == 1
    cx, cy = 0.8125 + 0.1, 0.1875 - 0.05
    np.testing.assert_allclose(det.boxes[0], [cx - 0.1, cy - 0.15, cx + 0.1, cy + 0.15], atol=1e-6)
    np.testing.assert_allclose(det.keypoints[0, 0], [0.7125, 0.1875], atol=1e-6)
    np.testing.assert_allclose(det.keypoints[0, 5], [0.8125, 0.6875], atol=1e-6)
    np.testing.assert_allclose(det.scores, [1 / (1 + np.exp(-2.0))], rtol=1e-6)
    assert det.labels is None


def test_score_threshold_and_clipping():
    raw, logits = _blank()
    raw[:, 2:4] = 10.0  # positive sizes everywhere
    logits[[3, 4, 5, 6], 0] = [0.0, -0.01, 1e4, -1e4]
    det = decode(raw, logits, ANCHORS)
    # 0.0 -> exactly 0.5 passes (>=); -0.01 fails; 1e4 is clipped to 100 -> sigmoid 1.
    np.testing.assert_allclose(det.scores, [0.5, 1.0])
    det_all = decode(raw, logits, ANCHORS, DecodeOptions(min_score_thresh=None))
    assert len(det_all) == 896
    assert det_all.scores[6] == 0.0 and np.isfinite(det_all.scores).all()


def test_negative_size_boxes_are_dropped_like_mediapipe():
    raw, logits = _blank()
    logits[[10, 11], 0] = 5.0
    raw[10, 2:4] = [-5.0, 5.0]
    raw[11, 2:4] = [5.0, 5.0]
    det = decode(raw, logits, ANCHORS)
    assert len(det) == 1
    np.testing.assert_allclose(det.boxes[0, 2] - det.boxes[0, 0], 5 / 128, rtol=1e-5)


def test_yxhw_order_and_exponential_sizes():
    opts = DecodeOptions(num_boxes=1, num_coords=6, keypoint_coord_offset=4, num_keypoints=1,
                         reverse_output_order=False, apply_exponential_on_box_size=True,
                         x_scale=10, y_scale=10, w_scale=5, h_scale=5)
    anchors = np.array([[0.5, 0.5, 0.2, 0.4]], np.float32)
    raw = np.array([[1.0, 2.0, 0.0, 5.0, 3.0, 4.0]], np.float32)  # y, x, h, w, kp y, kp x
    det = decode(raw, np.array([[9.0]]), anchors, opts)
    cx, cy = 2.0 / 10 * 0.2 + 0.5, 1.0 / 10 * 0.4 + 0.5
    w, h = np.exp(1.0) * 0.2, 1.0 * 0.4
    np.testing.assert_allclose(det.boxes[0], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], rtol=1e-6)
    np.testing.assert_allclose(det.keypoints[0, 0], [4 / 10 * 0.2 + 0.5, 3 / 10 * 0.4 + 0.5], rtol=1e-6)


def test_multi_class_picks_best_allowed_class():
    opts = DecodeOptions(num_classes=3, num_boxes=2, num_coords=4, num_keypoints=0, ignore_classes=(0,))
    anchors = np.array([[0.5, 0.5, 1, 1]] * 2, np.float32)
    raw = np.array([[0, 0, 12.8, 12.8]] * 2, np.float32)
    logits = np.array([[9.0, 1.0, 2.0], [9.0, -3.0, -4.0]], np.float32)
    det = decode(raw, logits, anchors, opts)
    assert det.labels.tolist() == [2]  # class 0 ignored; the second anchor scores too low
    np.testing.assert_allclose(det.scores, [1 / (1 + np.exp(-2.0))], rtol=1e-6)
    assert det.keypoints.shape == (1, 0, 2)


def test_batch_dimension_is_accepted_and_bad_shapes_explained():
    raw, logits = _blank()
    assert len(decode(raw[None], logits[None], ANCHORS)) == 0
    with pytest.raises(ValueError, match=r"\(896, 16\)"):
        decode(raw[:, :15], logits, ANCHORS)
    with pytest.raises(ValueError, match="raw scores"):
        decode(raw, logits[:10], ANCHORS)
    with pytest.raises(ValueError, match="anchors"):
        decode(raw, logits, ANCHORS[:100])


unit = st.floats(0.05, 0.95)


@settings(max_examples=60, deadline=None)
@given(cx=unit, cy=unit, w=st.floats(0.05, 0.6), h=st.floats(0.05, 0.6), logit=st.floats(0.1, 20),
       kp=st.lists(st.tuples(unit, unit), min_size=6, max_size=6))
def test_encode_then_decode_round_trips(cx, cy, w, h, logit, kp):
    box = np.array([[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]])
    kps = np.array([kp])
    ids = anchors_near(ANCHORS, box, 1)[0]
    raw, logits = encode_raw_outputs(ANCHORS, ids, box, kps, [logit])
    det = decode(raw, logits, ANCHORS, BLAZEFACE_SHORT_RANGE_DECODE)
    assert len(det) == 1
    np.testing.assert_allclose(det.boxes[0], box[0], atol=2e-5)
    np.testing.assert_allclose(det.keypoints[0], kps[0], atol=2e-5)
