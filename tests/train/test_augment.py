"""Augmentation moves boxes with the pixels; the letterbox maps boxes as the app does."""
from __future__ import annotations

import numpy as np
import pytest

from moodcam.detection.boxes import iou_matrix
from moodcam_tools.train.augment import augment, boxes_to_model, build_augmenter, letterbox_image


def _scene(w=300, h=200):
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 1] = 200                                     # green background
    boxes = np.array([[40, 30, 120, 110], [180, 60, 260, 170]], np.float32)
    for x1, y1, x2, y2 in boxes.astype(int):
        image[y1:y2, x1:x2] = (230, 20, 20)                 # red objects
    return image, boxes


def _red_boxes(image):
    """Bounding boxes of the red blobs (left and right of the image's middle column of background)."""
    red = image[..., 0].astype(int) - image[..., 1].astype(int) > 40
    from scipy import ndimage
    labels, n = ndimage.label(red)
    out = []
    for sl in ndimage.find_objects(labels):
        ys, xs = sl
        if (ys.stop - ys.start) * (xs.stop - xs.start) > 30:
            out.append([xs.start, ys.start, xs.stop, ys.stop])
    return np.asarray(out, np.float32).reshape(-1, 4)


@pytest.mark.parametrize("strength", ["basic", "strong"])
def test_augmented_boxes_follow_the_objects(strength):
    image, boxes = _scene()
    aug = build_augmenter(seed=1, strength=strength)
    checked = 0
    for seed in range(40):
        out, b, ids = augment(aug, image, boxes, np.array([0, 1]), seed=seed)
        assert b.shape[0] == ids.shape[0] <= 2
        if np.array_equal(out[..., 0], out[..., 1]):
            continue                                        # strong: the odd grey image has no red to find
        found = _red_boxes(out)
        for box in b:
            # each remaining box sits on a red object (rotation makes it slightly loose)
            best = iou_matrix(box[None], found).max() if len(found) else 0.0
            assert best > 0.75, (seed, box, found)
            checked += 1
        assert np.all(b[:, [0, 2]] >= 0) and np.all(b[:, [0, 2]] <= out.shape[1])
        assert np.all(b[:, [1, 3]] >= 0) and np.all(b[:, [1, 3]] <= out.shape[0])
    assert checked >= 60


def test_same_seed_same_augmentation():
    image, boxes = _scene()
    aug = build_augmenter(seed=0)
    a = augment(aug, image, boxes, np.array([0, 1]), seed=7)
    b = augment(aug, image, boxes, np.array([0, 1]), seed=7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_letterbox_maps_boxes_with_the_pixels():
    image, boxes = _scene(320, 180)
    pixels, lb = letterbox_image(image, 128)
    assert pixels.shape == (128, 128, 3)
    assert lb.padding[0] == 0 and lb.padding[1] > 0                 # wide frame: bars top and bottom
    assert np.all(pixels[: int(lb.padding[1]) - 1] == 0)             # black padding, as the app
    norm = boxes_to_model(lb, boxes)
    found = _red_boxes(pixels.astype(np.uint8)) / 128.0
    iou = iou_matrix(norm, found)
    assert np.all(iou.max(axis=1) > 0.9), iou
    back = lb.normalized_boxes_to_source(norm)
    np.testing.assert_allclose(back, boxes, atol=1e-3)
