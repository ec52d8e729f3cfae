"""Multibox loss: box loss on positive anchors + classification with hard negative mining or focal loss.

Box loss: smooth L1 on the SSD-normalised regressors, or GIoU (1 - generalised IoU of the decoded
box with the true one, rewarding overlap directly, which is what AP75 measures), or both summed.
GIoU decodes the regressors in the graph exactly as moodcam.detection.decode does (anchors and
DecodeOptions given), with the log-size clipped so exp() cannot overflow early in training.

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

from moodcam.detection.decode import DecodeOptions

__all__ = ["MultiboxLoss", "LOSSES", "BOX_LOSSES"]

LOSSES = ("focal", "hnm")
BOX_LOSSES = ("smooth_l1", "giou", "smooth_l1+giou")
_MAX_LOG_SIZE = 4.0       # exp(4) = 55x the anchor: far beyond any box, finite gradients


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
    box_loss: str = "smooth_l1"      # one of BOX_LOSSES
    anchors: np.ndarray | None = None        # (N, 4) cxcywh, the decoder's (needed for GIoU)
    decode: DecodeOptions | None = None      # (needed for GIoU)
    giou_weight: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.kind!r}")
        if self.box_loss not in BOX_LOSSES:
            raise ValueError(f"box loss must be one of {BOX_LOSSES}, got {self.box_loss!r}")
        if "giou" in self.box_loss and (self.anchors is None or self.decode is None):
            raise ValueError("the GIoU box loss needs the anchors and decode options")
        if self.decode is not None and not self.decode.reverse_output_order:
            raise ValueError("the GIoU box loss reads regressors in (x, y, w, h) order (reverse_output_order)")
        import tensorflow as tf

        self._w = tf.constant(np.asarray(self.reg_weights, np.float32)[None])   # [1, N, 4]
        if self.anchors is not None:
            self._anchors = tf.constant(np.asarray(self.anchors, np.float32)[None])   # [1, N, 4]

    def _decode(self, r):
        """Raw regressors [B, N, 4] -> boxes [B, N, 4] xyxy (0..1 of the input), as decode() does."""
        import tensorflow as tf

        o, a = self.decode, self._anchors
        if o is None:   # __post_init__ makes sure GIoU, the one caller, has them
            raise ValueError("decoding the regressors needs the decode options")
        xy = r[..., :2] / [o.x_scale, o.y_scale] * a[..., 2:] + a[..., :2]             # [B, N, 2]
        t = r[..., 2:] / [o.w_scale, o.h_scale]                                        # [B, N, 2]
        wh = tf.exp(tf.minimum(t, _MAX_LOG_SIZE)) * a[..., 2:] if o.apply_exponential_on_box_size else t * a[..., 2:]
        return tf.concat([xy - wh / 2, xy + wh / 2], axis=-1)

    def _giou(self, reg_true, reg_pred):
        """1 - GIoU per anchor [B, N] of the decoded predicted and true boxes."""
        import tensorflow as tf

        p, g = self._decode(reg_pred), self._decode(reg_true)                           # [B, N, 4] xyxy
        p = tf.concat([p[..., :2], tf.maximum(p[..., 2:], p[..., :2])], axis=-1)         # no negative sizes
        area_p = tf.reduce_prod(p[..., 2:] - p[..., :2], -1)
        area_g = tf.reduce_prod(g[..., 2:] - g[..., :2], -1)
        inter = tf.reduce_prod(tf.maximum(tf.minimum(p[..., 2:], g[..., 2:]) - tf.maximum(p[..., :2], g[..., :2]),
                                          0.0), -1)
        union = area_p + area_g - inter
        iou = inter / tf.maximum(union, 1e-9)
        hull = tf.reduce_prod(tf.maximum(p[..., 2:], g[..., 2:]) - tf.minimum(p[..., :2], g[..., :2]), -1)
        return 1.0 - (iou - (hull - union) / tf.maximum(hull, 1e-9))

    def __call__(self, reg_true, reg_pred, cls_true, cls_pred):
        """Returns (total, localisation, classification) scalars."""
        import tensorflow as tf

        pos = reg_true[..., 4]                                                    # [B, N]
        n_pos = tf.maximum(tf.reduce_sum(pos), 1.0)
        per_box = tf.zeros_like(pos)                                              # [B, N]
        if "smooth_l1" in self.box_loss:
            diff = tf.abs((reg_pred - reg_true[..., :4]) * self._w)               # [B, N, 4]
            beta = self.smooth_l1_beta
            sl1 = tf.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)
            per_box += tf.reduce_sum(sl1, -1)
        if "giou" in self.box_loss:
            # Negatives carry zero targets: decode them anyway (finite), the mask drops them.
            per_box += self.giou_weight * self._giou(reg_true[..., :4], reg_pred)
        loc = tf.reduce_sum(per_box * pos) / n_pos

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
