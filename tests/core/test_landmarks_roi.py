"""moodcam.landmarks.roi: MediaPipe's FaceMesh ROI steps, known values and round trips."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moodcam.landmarks.roi import (Rect, compute_rotation, detection_roi, detection_to_rect, landmarks_roi,
                                   landmarks_to_detection, normalize_radians, transform_rect)


def test_upright_face_gives_angle_zero_and_the_1_5x_square():
    # Box 40 wide, 60 tall; eyes level.
    roi = detection_roi([100, 100, 140, 160], [[110, 120], [130, 120]], (640, 480))
    assert (roi.center_x, roi.center_y, roi.rotation) == (120, 130, 0.0)
    assert roi.size == pytest.approx(90.0)           # long side 60 x 1.5
    assert roi.frame_size == (640, 480)
    np.testing.assert_allclose(roi.bounds(), [75, 85, 165, 175])


def test_rotated_eye_line_gives_its_angle():
    # Left eye (on the image's right) 30 deg below the right eye, y down -> +30 deg.
    dx, dy = math.cos(math.radians(30)), math.sin(math.radians(30))
    roi = detection_roi([0, 0, 100, 100], [[50, 50], [50 + 20 * dx, 50 + 20 * dy]], (200, 200))
    assert math.degrees(roi.rotation) == pytest.approx(30.0)
    roi = detection_roi([0, 0, 100, 100], [[50, 50], [50 + 20 * dx, 50 - 20 * dy]], (200, 200))
    assert math.degrees(roi.rotation) == pytest.approx(-30.0)
    # Upside down face: the rotation is +-180 deg, normalised into [-pi, pi).
    roi = detection_roi([0, 0, 100, 100], [[60, 50], [40, 50]], (200, 200))
    assert roi.rotation == pytest.approx(-math.pi)


def test_the_rotated_crop_levels_the_eyes():
    right, left = np.array([210.0, 140.0]), np.array([250.0, 170.0])
    roi = detection_roi([190, 110, 270, 210], [right, left], (640, 480))
    u = roi.to_crop(np.stack([right, left]))
    assert u[0, 1] == pytest.approx(u[1, 1])          # same row in the crop
    assert u[1, 0] > u[0, 0]                          # right eye on the crop's left, as upright


def test_compute_rotation_target_angle_and_normalisation():
    assert compute_rotation((0, 0), (10, 0)) == 0.0
    assert compute_rotation((0, 0), (10, 0), 90) == pytest.approx(math.pi / 2)
    for a in (-7.0, -math.pi, 0.0, 3.0, math.pi, 11.0):
        n = normalize_radians(a)
        assert -math.pi <= n < math.pi
        assert math.cos(n) == pytest.approx(math.cos(a)) and math.sin(n) == pytest.approx(math.sin(a))


def test_rect_transformation_squares_the_long_side_then_scales():
    r = transform_rect(Rect(50, 60, 40, 20, 0.3))
    assert (r.x_center, r.y_center, r.width, r.height, r.rotation) == (50, 60, 60, 60, 0.3)
    short = transform_rect(Rect(50, 60, 40, 20), square_long=False, square_short=True, scale_x=1, scale_y=1)
    assert (short.width, short.height) == (20, 20)
    # Shifts move along the rect's own axes: shift_y 0.5 of a rect turned by 90 deg moves it -x.
    s = transform_rect(Rect(50, 60, 40, 20, math.pi / 2), shift_y=0.5, scale_x=1, scale_y=1, square_long=False)
    assert (s.x_center, s.y_center) == pytest.approx((40, 60))
    with pytest.raises(ValueError, match="square"):
        Rect(0, 0, 10, 20).to_crop((100, 100))


def test_detection_to_rect_uses_the_box_not_the_key_points():
    r = detection_to_rect([10, 20, 30, 60], [[0, 0], [5, 5]])
    assert (r.x_center, r.y_center, r.width, r.height) == (20, 40, 20, 40)
    assert r.rotation == pytest.approx(math.pi / 4)
    assert detection_to_rect([10, 20, 30, 60], None, None).rotation == 0.0
    with pytest.raises(ValueError):
        detection_to_rect([10, 20, 30, 60], None)


def _mesh(cx=300.0, cy=200.0, scale=1.0, angle=0.0, n=468, seed=0):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-50, 50, size=(n, 3))
    pts[33, :2] = (-30, -10)        # right eye outer corner
    pts[263, :2] = (30, -10)        # left eye outer corner
    c, s = math.cos(angle), math.sin(angle)
    xy = pts[:, :2] * scale
    out = pts.copy()
    out[:, 0] = cx + c * xy[:, 0] - s * xy[:, 1]
    out[:, 1] = cy + s * xy[:, 0] + c * xy[:, 1]
    return out


def test_landmarks_roi_bounds_eye_corners_and_scale():
    lm = _mesh()
    box, kps = landmarks_to_detection(lm)
    np.testing.assert_allclose(box, [lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()])
    assert kps.shape == (468, 2)
    roi = landmarks_roi(lm, (640, 480))
    assert roi.rotation == 0.0
    assert roi.size == pytest.approx(1.5 * max(np.ptp(lm[:, 0]), np.ptp(lm[:, 1])))
    assert (roi.center_x, roi.center_y) == pytest.approx(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))


@settings(max_examples=40, deadline=None)
@given(st.floats(-3.0, 3.0))
def test_landmarks_roi_rotation_follows_the_eye_corners(angle):
    roi = landmarks_roi(_mesh(angle=angle), (640, 480))
    d = normalize_radians(roi.rotation - angle)
    assert abs(d) < 1e-9


@settings(max_examples=60, deadline=None)
@given(cx=st.floats(0, 640), cy=st.floats(0, 480), side=st.floats(10, 400), angle=st.floats(-3.1, 3.1),
       u=st.floats(0, 1), v=st.floats(0, 1))
def test_roi_transform_round_trip(cx, cy, side, angle, u, v):
    """The tf.image.transform numbers, crop coordinates and frame pixels agree both ways."""
    from moodcam.geometry.crop import CropRegion
    roi = CropRegion(cx, cy, side, angle, (640.0, 480.0))
    p = roi.to_frame(np.array([u, v]))
    np.testing.assert_allclose(roi.to_crop(p), [u, v], atol=1e-9)
    a0, a1, a2, b0, b1, b2, c0, c1 = roi.projective_transform(192)
    assert (c0, c1) == (0.0, 0.0)
    # Output pixel index (i, j) has its centre at crop coordinate ((i + 0.5)/192, (j + 0.5)/192);
    # it samples the frame pixel index whose centre is that point (index = continuous - 0.5).
    i, j = u * 191, v * 191
    centre = roi.to_frame(np.array([(i + 0.5) / 192, (j + 0.5) / 192]))
    np.testing.assert_allclose([a0 * i + a1 * j + a2, b0 * i + b1 * j + b2], centre - 0.5, atol=1e-7)


def test_roi_is_not_clamped_to_the_frame():
    roi = detection_roi([0, 0, 100, 100], [[30, 40], [70, 40]], (120, 120))
    assert roi.size == pytest.approx(150.0) and (roi.center_x, roi.center_y) == (50, 50)
