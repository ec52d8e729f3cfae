"""Anchor matching and encoding are the exact inverse of the app's decoding (moodcam.detection)."""
from __future__ import annotations

import numpy as np
import pytest

from moodcam.detection.anchors import generate_anchors
from moodcam.detection.boxes import iou_matrix
from moodcam.detection.decode import decode
from moodcam.detection.encode import encode_raw_outputs
from moodcam.detection.nms import non_max_suppression
from moodcam_tools.train.model import DetectorConfig
from moodcam_tools.train.targets import AnchorMatcher, encode_boxes


def _random_boxes(rng, k):
    out = []
    while len(out) < k:
        w, h = rng.uniform(0.08, 0.6, 2)
        x, y = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
        b = np.array([x, y, x + w, y + h])
        if all(iou_matrix(b[None], o[None])[0, 0] == 0 for o in out):
            out.append(b)
    return np.stack(out)


SSD = {"box_coding": "ssd", "aspect_ratios": (0.5, 1.0, 2.5), "min_scale": 0.2, "max_scale": 0.8}


@pytest.mark.parametrize("size,classes,anchors", [(128, ("a",), {}), (128, ("a", "b", "c"), {}), (256, ("a", "b"), {}),
                                                  (256, ("a",), SSD), (128, ("a", "b"), SSD)])
def test_encode_then_app_decode_gives_the_boxes_back(size, classes, anchors):
    config = DetectorConfig(classes, input_size=size, **anchors)
    matcher = AnchorMatcher(config.anchor_options, config.decode_options())
    rng = np.random.default_rng(size + len(classes))
    for _ in range(20):
        boxes = _random_boxes(rng, int(rng.integers(1, 5)))
        ids = rng.integers(0, len(classes), len(boxes))
        reg, cls = matcher.encode(boxes, ids)
        assert reg.shape == (config.num_anchors, 5) and cls.shape == (config.num_anchors, len(classes) + 1)
        pos = reg[:, 4] > 0
        assigned, state = matcher.match(boxes)
        # every box has at least one positive anchor; positives are never ignored
        assert set(assigned[pos]) == set(range(len(boxes)))
        assert not np.any(cls[pos, -1])
        # raw outputs a perfect model would give: the regression targets and +/-10 logits
        logits = np.where(cls[:, :-1] > 0, 10.0, -10.0).astype(np.float32)
        det = decode(reg[:, :4][None], logits[None], matcher.anchors, config.decode_options())
        assert len(det) == pos.sum()
        np.testing.assert_allclose(det.boxes, boxes[assigned[pos]], atol=1e-5)
        if len(classes) > 1:
            np.testing.assert_array_equal(det.labels, ids[assigned[pos]])
        # the app's hard NMS leaves one detection per box
        final = non_max_suppression(det, config.nms_options())
        assert len(final) == len(boxes)
        order = np.argmax(iou_matrix(final.boxes, boxes), axis=1)
        assert sorted(order) == list(range(len(boxes)))
        np.testing.assert_allclose(final.boxes, boxes[order], atol=1e-5)


def test_agrees_with_the_cores_own_encoder():
    config = DetectorConfig(("face",))
    anchors = generate_anchors(config.anchor_options)
    boxes = np.array([[0.2, 0.3, 0.5, 0.7], [0.6, 0.1, 0.9, 0.35]])
    ids = np.array([17, 600])
    ours = encode_boxes(boxes, anchors[ids], config.decode_options())
    raw, _ = encode_raw_outputs(anchors, ids, boxes, np.zeros((2, 0, 2)), [5.0, 5.0], config.decode_options())
    np.testing.assert_allclose(ours, raw[ids], rtol=1e-6, atol=1e-4)


def test_matching_uses_real_anchor_sizes_and_ignores_the_middle_band():
    config = DetectorConfig(("a",))
    matcher = AnchorMatcher(config.anchor_options, config.decode_options())
    assert np.all(matcher.anchors[:, 2:] == 1.0)                 # BlazeFace: fixed anchor size
    np.testing.assert_array_equal(matcher.match_cxcywh[:, :2], matcher.anchors[:, :2])
    assert matcher.match_cxcywh[:, 2].min() == pytest.approx(0.1484375)
    assigned, state = matcher.match(np.array([[0.3, 0.3, 0.6, 0.6]]))
    assert (state == 1).sum() >= 1 and (state == -1).sum() >= 1
    assert np.all(assigned[state != 1] == -1)
    empty_assigned, empty_state = matcher.match(np.zeros((0, 4)))
    assert np.all(empty_state == 0) and np.all(empty_assigned == -1)


def test_ssd_coding_uses_the_fitted_anchor_sizes_and_unit_weights():
    config = DetectorConfig(("a",), input_size=256, **SSD)
    matcher = AnchorMatcher(config.anchor_options, config.decode_options())
    # 16x16 cells x (3 ratios + 1 interpolated), then 8x8 cells x 3 layers x 4
    assert matcher.num_anchors == 16 * 16 * 4 + 8 * 8 * 12 == config.num_anchors
    np.testing.assert_array_equal(matcher.anchors, matcher.match_cxcywh)       # decoded with real sizes
    ratios = matcher.anchors[:4, 2] / matcher.anchors[:4, 3]
    np.testing.assert_allclose(ratios, [0.5, 1.0, 2.5, 1.0], rtol=1e-5)
    np.testing.assert_allclose(matcher.regression_weights(), 1.0, rtol=1e-5)  # SSD variances are the scales


def test_regression_weights_are_finite_and_positive():
    for size in (128, 256):
        config = DetectorConfig(("a",), input_size=size)
        w = AnchorMatcher(config.anchor_options, config.decode_options()).regression_weights()
        assert w.shape == (896, 4) and np.all(np.isfinite(w)) and np.all(w > 0)
