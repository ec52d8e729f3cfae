import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moodcam.geometry.crop import CropRegion, crop_around_face, eye_roll_angle, mirror_boxes, mirror_points


def tf_crop_and_resize(image, box, size):
    """TF's crop_and_resize sampling (bilinear), written out: normalised y maps to y * (H - 1)."""
    h, w = image.shape
    y1, x1, y2, x2 = box
    ys = y1 * (h - 1) + np.arange(size) * (y2 - y1) * (h - 1) / (size - 1)
    xs = x1 * (w - 1) + np.arange(size) * (x2 - x1) * (w - 1) / (size - 1)
    return ys, xs


def test_square_crop_with_margin_known_values():
    crop = crop_around_face([100, 100, 140, 160], (640, 480), margin=0.25)
    assert (crop.center_x, crop.center_y, crop.size, crop.rotation) == (120, 130, 90, 0)
    np.testing.assert_allclose(crop.bounds(), [75, 85, 165, 175])
    np.testing.assert_allclose(crop.normalized_yxyx(), [85 / 480, 75 / 640, 175 / 480, 165 / 640])


def test_crop_and_resize_box_samples_output_pixel_centres():
    crop = crop_around_face([100, 100, 164, 164], (640, 480), margin=0.0)
    ys, xs = tf_crop_and_resize(np.zeros((480, 640)), crop.crop_and_resize_box(8), 8)
    # Output pixel u covers [100 + 8u, 100 + 8u + 8) -> centre index 100 + 8u + 4 - 0.5.
    np.testing.assert_allclose(xs, 100 + 8 * np.arange(8) + 3.5)
    np.testing.assert_allclose(ys, 100 + 8 * np.arange(8) + 3.5)
    # The affine matrix for tf.image.transform samples the same points.
    m = crop.affine_matrix(8)
    u = np.arange(8.0)
    np.testing.assert_allclose(m[0, 0] * u + m[0, 2], xs)
    np.testing.assert_allclose(m[1, 1] * u + m[1, 2], ys)
    assert crop.projective_transform(8)[6:] == (0.0, 0.0)


def test_clamping_shifts_then_shrinks():
    shifted = crop_around_face([0, 0, 40, 40], (640, 480), margin=0.5)
    np.testing.assert_allclose(shifted.bounds(), [0, 0, 80, 80])
    shrunk = crop_around_face([0, 0, 600, 400], (640, 480), margin=0.5)
    assert shrunk.size == pytest.approx(480)
    free = crop_around_face([0, 0, 40, 40], (640, 480), margin=0.5, clamp=False)
    np.testing.assert_allclose(free.bounds(), [-20, -20, 60, 60])


def test_eye_level_rotation():
    # Left eye (image right) lower than the right eye: head rolled clockwise on screen.
    kps = np.array([[100.0, 100.0], [140.0, 140.0]])
    assert eye_roll_angle(kps) == pytest.approx(math.pi / 4)
    crop = crop_around_face([90, 90, 150, 150], (640, 480), kps, rotate=True, clamp=False)
    eyes_in_crop = crop.to_crop(kps)
    assert eyes_in_crop[0, 1] == pytest.approx(eyes_in_crop[1, 1])  # level
    assert eyes_in_crop[0, 0] < eyes_in_crop[1, 0]                  # right eye still on the left
    with pytest.raises(ValueError, match="projective_transform"):
        crop.crop_and_resize_box(64)
    with pytest.raises(ValueError, match="key points"):
        crop_around_face([90, 90, 150, 150], (640, 480), rotate=True)


def test_mirror_helpers():
    np.testing.assert_allclose(mirror_points([[10, 5]], 100), [[90, 5]])
    np.testing.assert_allclose(mirror_boxes([[10, 5, 30, 9]], 100), [[70, 5, 90, 9]])
    crop = CropRegion(30, 40, 20, 0.3, (100, 80))
    p = np.array([[0.2, 0.7]])
    # The mirrored crop shows the mirror image: crop point (u, v) <-> (1 - u, v).
    np.testing.assert_allclose(crop.mirrored().to_frame(p), mirror_points(crop.to_frame([[0.8, 0.7]]), 100))


def test_bad_input():
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        crop_around_face([1, 2, 3], (640, 480))
    with pytest.raises(ValueError, match="empty"):
        crop_around_face([5, 5, 5, 5], (640, 480))


frame = st.tuples(st.integers(64, 1920), st.integers(64, 1080))


@settings(max_examples=80, deadline=None)
@given(frame=frame, x=st.floats(0, 1), y=st.floats(0, 1), w=st.floats(4, 400), h=st.floats(4, 400),
       angle=st.floats(-math.pi, math.pi), margin=st.floats(0, 1),
       pts=st.lists(st.tuples(st.floats(-1, 2), st.floats(-1, 2)), min_size=1, max_size=6))
def test_crop_transforms_round_trip_and_stay_in_frame(frame, x, y, w, h, angle, margin, pts):
    fw, fh = frame
    x0, y0 = x * fw, y * fh
    box = [x0, y0, x0 + w, y0 + h]
    kps = np.array([[x0, y0], [x0 + math.cos(angle) * 10, y0 + math.sin(angle) * 10]])
    crop = crop_around_face(box, frame, kps, margin=margin, rotate=True)
    p = np.array(pts)
    np.testing.assert_allclose(crop.to_crop(crop.to_frame(p)), p, atol=1e-9)
    # angles are equal modulo 2*pi (-pi and pi are the same rotation)
    np.testing.assert_allclose(math.remainder(crop.rotation - angle, 2 * math.pi), 0.0, atol=1e-9)
    b = crop.bounds()
    assert b[0] >= -1e-6 and b[1] >= -1e-6 and b[2] <= fw + 1e-6 and b[3] <= fh + 1e-6
    # Output pixel -> frame via the affine equals to_frame of that pixel's centre.
    m = crop.affine_matrix(16)
    uv = np.array([3.0, 11.0])
    expect = crop.to_frame((uv + 0.5) / 16) - 0.5
    np.testing.assert_allclose(m[:, :2] @ uv + m[:, 2], expect, atol=1e-6)
