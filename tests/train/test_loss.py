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
