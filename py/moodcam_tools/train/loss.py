"""Multibox loss: smooth L1 on positive anchors + classification with hard negative mining or focal loss.

Shapes (B images, N anchors, C classes), as targets.AnchorMatcher.encode writes them:
    reg_true  [B, N, 5]    raw regressor targets and a positive flag
    reg_pred  [B, N, 4]    the model's raw regressors
    cls_true  [B, N, C+1]  one-hot classes (all zero for background) and an ignore flag
    cls_pred  [B, N, C]    the model's logits (sigmoid per class, as the app decodes)
Both terms are divided by the number of positive anchors in the batch (at least 1).
"""
from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["MultiboxLoss", "LOSSES"]

LOSSES = ("focal", "hnm")


@dataclasses.dataclass
class MultiboxLoss:
    reg_weights: np.ndarray          # (N, 4) from AnchorMatcher.regression_weights()
    kind: str = "focal"              # "focal" or "hnm" (BCE + hard negative mining, as SSD trains)
    neg_pos_ratio: float = 3.0       # hnm: negatives kept per positive
    min_negatives: int = 8           # hnm: per image, so pure-background images still teach
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    loc_weight: float = 1.0
    smooth_l1_beta: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.kind!r}")
        import tensorflow as tf

        self._w = tf.constant(np.asarray(self.reg_weights, np.float32)[None])   # [1, N, 4]

    def __call__(self, reg_true, reg_pred, cls_true, cls_pred):
        """Returns (total, localisation, classification) scalars."""
        import tensorflow as tf

        pos = reg_true[..., 4]                                                    # [B, N]
        n_pos = tf.maximum(tf.reduce_sum(pos), 1.0)
        diff = tf.abs((reg_pred - reg_true[..., :4]) * self._w)                   # [B, N, 4]
        beta = self.smooth_l1_beta
        sl1 = tf.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)
        loc = tf.reduce_sum(tf.reduce_sum(sl1, -1) * pos) / n_pos

        onehot = cls_true[..., :-1]                                               # [B, N, C]
        care = 1.0 - cls_true[..., -1]                                            # [B, N]
        bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=onehot, logits=cls_pred)   # [B, N, C]
        if self.kind == "focal":
            p = tf.sigmoid(cls_pred)
            p_t = onehot * p + (1 - onehot) * (1 - p)
            a_t = onehot * self.focal_alpha + (1 - onehot) * (1 - self.focal_alpha)
            per = a_t * tf.pow(1 - p_t, self.focal_gamma) * bce
            cls = tf.reduce_sum(tf.reduce_sum(per, -1) * care) / n_pos
        else:
            per_anchor = tf.reduce_sum(bce, -1)                                   # [B, N]
            neg = (1.0 - pos) * care
            n_pos_img = tf.reduce_sum(pos, -1, keepdims=True)                     # [B, 1]
            k = tf.maximum(n_pos_img * self.neg_pos_ratio, float(self.min_negatives))
            neg_loss = tf.where(neg > 0, per_anchor, tf.fill(tf.shape(per_anchor), -1.0))
            rank = tf.argsort(tf.argsort(neg_loss, axis=-1, direction="DESCENDING"), axis=-1)
            hard = tf.cast(tf.cast(rank, tf.float32) < k, tf.float32) * neg
            cls = tf.reduce_sum(per_anchor * (pos + hard)) / n_pos
        return cls + self.loc_weight * loc, loc, cls
