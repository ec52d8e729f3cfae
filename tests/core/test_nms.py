import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moodcam.detection.boxes import iou_matrix
from moodcam.detection.nms import NmsOptions, hard_nms, non_max_suppression, weighted_nms
from moodcam.detection.result import Detections


def dets(boxes, scores, kps=None):
    boxes = np.asarray(boxes, np.float32)
    if kps is None:
        kps = np.zeros((len(boxes), 6, 2), np.float32)
    return Detections(boxes, np.asarray(scores, np.float32), kps)


def test_weighted_nms_blends_two_overlapping_boxes_by_score():
    kps = np.zeros((3, 6, 2), np.float32)
    kps[0, :, 0] = 1.0
    kps[1, :, 0] = 3.0
    d = dets([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]], [0.9, 0.6, 0.7], kps)
    out = weighted_nms(d, iou_threshold=0.3, min_score=0.5)
    assert len(out) == 2
    # Box 1 overlaps box 0 with IoU 80/120 > 0.3: weights 0.9 and 0.6.
    np.testing.assert_allclose(out.boxes[0], [(0 * 0.9 + 2 * 0.6) / 1.5, 0, (10 * 0.9 + 12 * 0.6) / 1.5, 10],
                               rtol=1e-6)
    np.testing.assert_allclose(out.keypoints[0, :, 0], (1 * 0.9 + 3 * 0.6) / 1.5, rtol=1e-6)
    np.testing.assert_allclose(out.scores, [0.9, 0.7])  # the best member's score, not a blend
    np.testing.assert_allclose(out.boxes[1], [50, 50, 60, 60])


def test_hard_nms_keeps_the_best_of_a_cluster():
    d = dets([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60], [0, 0, 10, 10.5]], [0.6, 0.9, 0.7, 0.4])
    out = hard_nms(d, 0.3, min_score=0.5)
    np.testing.assert_allclose(out.scores, [0.9, 0.7])
    np.testing.assert_allclose(out.boxes[0], [2, 0, 12, 10])


def test_threshold_is_strictly_greater_like_mediapipe():
    d = dets([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8])  # IoU exactly 1/3
    assert len(hard_nms(d, iou_threshold=1 / 3, min_score=0)) == 2
    assert len(hard_nms(d, iou_threshold=0.33, min_score=0)) == 1


def test_min_score_and_max_detections():
    d = dets([[0, 0, 1, 1], [5, 5, 6, 6], [9, 9, 10, 10]], [0.9, 0.4, 0.8])
    assert len(non_max_suppression(d, NmsOptions(min_score=0.5))) == 2
    assert len(non_max_suppression(d, NmsOptions(algorithm="hard", min_score=0.0, max_detections=1))) == 1
    with pytest.raises(ValueError, match="algorithm"):
        NmsOptions(algorithm="soft")


def test_empty_input():
    empty = Detections.empty()
    assert len(weighted_nms(empty)) == 0 and len(hard_nms(empty)) == 0


def test_zero_area_box_does_not_loop_forever():
    d = dets([[1, 1, 1, 1], [0, 0, 5, 5]], [0.9, 0.8])
    assert len(weighted_nms(d, 0.3, 0.0)) == 1  # MediaPipe stops after a box that removed nothing


box_st = st.tuples(st.floats(0, 90), st.floats(0, 90), st.floats(1, 40), st.floats(1, 40)).map(
    lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]])
det_st = st.lists(st.tuples(box_st, st.floats(0.0, 1.0)), min_size=0, max_size=25)


@settings(max_examples=80, deadline=None)
@given(det_st, st.floats(0.1, 0.9), st.sampled_from(["weighted", "hard"]))
def test_nms_properties(rows, thr, algorithm):
    d = dets([r[0] for r in rows], [r[1] for r in rows]) if rows else Detections.empty()
    out = non_max_suppression(d, NmsOptions(algorithm=algorithm, min_suppression_threshold=thr, min_score=0.5))
    assert len(out) <= len(d)
    assert np.all(np.diff(out.scores) <= 0), "scores must come out sorted, best first"
    assert np.all(out.scores >= 0.5)
    if algorithm == "hard" and len(out) > 1:
        iou = iou_matrix(out.boxes, out.boxes)
        np.fill_diagonal(iou, 0)
        assert iou.max() <= thr + 1e-6
