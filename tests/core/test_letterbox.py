import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moodcam.detection.letterbox import Letterbox


def test_known_values_for_a_640x480_frame():
    lb = Letterbox.fit(640, 480, 128, 128)
    assert lb.scale == pytest.approx(0.2)
    assert lb.padding == pytest.approx((0.0, 16.0))
    assert lb.normalized_padding == pytest.approx((0.0, 0.125, 0.0, 0.125))
    np.testing.assert_allclose(lb.to_target([[0, 0], [640, 480]]), [[0, 16], [128, 112]])
    # The centre of the model input is the centre of the frame.
    np.testing.assert_allclose(lb.normalized_to_source([0.5, 0.5]), [320, 240])
    np.testing.assert_allclose(lb.normalized_boxes_to_source([[0, 0.125, 1, 0.875]]), [[0, 0, 640, 480]])


def test_portrait_frame_pads_horizontally():
    lb = Letterbox.fit(480, 640, 128, 128)
    assert lb.padding == pytest.approx((16.0, 0.0))


def test_round_padding_gives_whole_pixels():
    lb = Letterbox.fit(1280, 721, 128, 128, round_padding=True)
    assert lb.padding[1] == round(lb.padding[1])
    np.testing.assert_allclose(lb.to_target([1280, 0])[0], 128)


def test_bad_sizes():
    with pytest.raises(ValueError, match="metadata"):
        Letterbox.fit(0, 480, 128, 128)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        Letterbox.fit(640, 480, 128, 128).to_source(np.zeros((3, 3)))


sizes = st.integers(16, 4000)


@settings(max_examples=80, deadline=None)
@given(sw=sizes, sh=sizes, tw=st.sampled_from([128, 192, 256]), th=st.sampled_from([128, 256]),
       pts=st.lists(st.tuples(st.floats(-100, 5000), st.floats(-100, 5000)), min_size=1, max_size=10),
       round_padding=st.booleans())
def test_letterbox_round_trips(sw, sh, tw, th, pts, round_padding):
    lb = Letterbox.fit(sw, sh, tw, th, round_padding=round_padding)
    p = np.array(pts)
    np.testing.assert_allclose(lb.to_source(lb.to_target(p)), p, rtol=1e-9, atol=1e-6)
    boxes = np.concatenate([p, p + 10], axis=1)
    np.testing.assert_allclose(lb.boxes_to_source(lb.boxes_to_target(boxes)), boxes, rtol=1e-9, atol=1e-6)
    # The whole frame lands inside the target, touching two opposite sides.
    corners = lb.to_target(np.array([[0, 0], [sw, sh]]))
    assert corners.min() >= -1e-6 and corners[1, 0] <= tw + 1e-6 and corners[1, 1] <= th + 1e-6
    if not round_padding:
        assert np.isclose(corners[1, 0] - corners[0, 0], tw) or np.isclose(corners[1, 1] - corners[0, 1], th)
