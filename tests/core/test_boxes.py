import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moodcam.detection import boxes as B


def test_iou_known_values():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 5, 5]], float)
    np.testing.assert_allclose(B.iou_matrix(a, b), [[50 / 150, 1.0, 0.0, 25 / 100]])


def test_iou_of_empty_boxes_is_zero_not_nan():
    a = np.array([[1, 1, 1, 1]], float)
    assert B.iou_matrix(a, a)[0, 0] == 0.0


def test_iou_shape_and_empty_inputs():
    assert B.iou_matrix(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 3)
    assert B.iou_matrix(np.zeros((2, 4)), []).shape == (2, 0)


def test_bad_shape_raises_with_fix():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        B.areas(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="reshape"):
        B.iou_matrix(np.zeros(4), np.zeros((1, 4)))


def test_areas_clip_inverted_boxes():
    np.testing.assert_allclose(B.areas([[0, 0, 2, 3], [5, 5, 4, 9]]), [6.0, 0.0])


def test_conversions():
    xyxy = np.array([[10.0, 20.0, 30.0, 60.0]])
    np.testing.assert_allclose(B.xyxy_to_cxcywh(xyxy), [[20, 40, 20, 40]])
    np.testing.assert_allclose(B.ymin_xmin_ymax_xmax_to_xyxy([[20, 10, 60, 30]]), xyxy)
    np.testing.assert_allclose(B.clip_boxes([[-5, 10, 50, 200]], 40, 100), [[0, 10, 40, 100]])
    np.testing.assert_allclose(B.scale_boxes([[0.5, 0.5, 1, 1]], 640, 480), [[320, 240, 640, 480]])


coords = st.floats(-1000, 1000, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coords, coords, st.floats(0, 500), st.floats(0, 500)), min_size=1, max_size=8))
def test_cxcywh_round_trip_and_iou_bounds(rows):
    c = np.array(rows, float)
    xyxy = B.cxcywh_to_xyxy(c)
    np.testing.assert_allclose(B.xyxy_to_cxcywh(xyxy), c, atol=1e-6)
    iou = B.iou_matrix(xyxy, xyxy)
    assert np.all((iou >= 0) & (iou <= 1 + 1e-12))
    np.testing.assert_allclose(iou, iou.T)
