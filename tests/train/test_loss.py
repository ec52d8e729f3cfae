"""The multibox loss: near zero for perfect outputs, larger for wrong ones, both classification kinds."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.convert


@pytest.mark.parametrize("kind", ["focal", "hnm"])
def test_perfect_outputs_cost_little_and_wrong_ones_more(kind):
    import tensorflow as tf

    from moodcam_tools.train.loss import MultiboxLoss
    from moodcam_tools.train.model import DetectorConfig
    from moodcam_tools.train.targets import AnchorMatcher

    config = DetectorConfig(("a", "b"))
    matcher = AnchorMatcher(config.anchor_options, config.decode_options())
    loss = MultiboxLoss(matcher.regression_weights(), kind=kind)
    reg, cls = matcher.encode(np.array([[0.2, 0.2, 0.5, 0.6], [0.6, 0.5, 0.9, 0.8]]), np.array([0, 1]))
    empty_reg, empty_cls = matcher.encode(np.zeros((0, 4)), np.zeros(0, np.int64))
    reg_t = tf.constant(np.stack([reg, empty_reg]))
    cls_t = tf.constant(np.stack([cls, empty_cls]))
    perfect_logits = tf.constant(np.where(np.stack([cls, empty_cls])[..., :-1] > 0, 12.0, -12.0), tf.float32)
    total, loc, c = loss(reg_t, reg_t[..., :4], cls_t, perfect_logits)
    assert float(loc) == 0.0 and float(total) < 1e-3
    worse_reg = reg_t[..., :4] + 5.0
    wrong_logits = -perfect_logits
    total2, loc2, c2 = loss(reg_t, worse_reg, cls_t, wrong_logits)
    assert float(loc2) > 0.1 and float(c2) > 1.0 and np.isfinite(float(total2))


@pytest.mark.parametrize("coding", ["blazeface", "ssd"])
def test_giou_box_loss_is_zero_for_exact_boxes_and_grows_with_the_error(coding):
    import tensorflow as tf

    from moodcam_tools.train.loss import MultiboxLoss
    from moodcam_tools.train.model import DetectorConfig
    from moodcam_tools.train.targets import AnchorMatcher

    extra = {"box_coding": "ssd", "aspect_ratios": (0.5, 2.0)} if coding == "ssd" else {}
    config = DetectorConfig(("a",), **extra)
    matcher = AnchorMatcher(config.anchor_options, config.decode_options())
    loss = MultiboxLoss(matcher.regression_weights(), box_loss="giou", anchors=matcher.anchors,
                        decode=config.decode_options())
    reg, cls = matcher.encode(np.array([[0.2, 0.2, 0.5, 0.6]]), np.array([0]))
    reg_t, cls_t = tf.constant(reg[None]), tf.constant(cls[None])
    logits = tf.zeros((1, config.num_anchors, 1))
    _, loc0, _ = loss(reg_t, reg_t[..., :4], cls_t, logits)
    assert abs(float(loc0)) < 1e-5
    # a shift of the centre by a quarter of the box, then a box far away: GIoU goes below 0 there
    pos = reg[:, 4] > 0
    a, o = matcher.anchors[pos], config.decode_options()
    shift = np.zeros_like(reg[:, :4])
    shift[pos, 0] = 0.075 / a[:, 2] * o.x_scale
    _, loc1, _ = loss(reg_t, reg_t[..., :4] + shift[None], cls_t, logits)
    _, loc2, _ = loss(reg_t, reg_t[..., :4] + 20 * shift[None], cls_t, logits)
    assert 0.1 < float(loc1) < float(loc2) and float(loc2) > 2.0     # per box: 2 x (1 - GIoU) > 2 when apart
    with pytest.raises(ValueError, match="needs the anchors"):
        MultiboxLoss(matcher.regression_weights(), box_loss="giou")
