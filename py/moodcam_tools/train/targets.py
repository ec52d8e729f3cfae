"""SSD anchor matching and box encoding: the exact inverse of moodcam.detection.decode.

Anchors come from the app's own generator (``moodcam.detection.anchors``) with
the model's options. BlazeFace anchors have ``fixed_anchor_size`` (w = h = 1),
which says nothing about which anchor should answer for which box, so matching
uses the same generator with ``fixed_anchor_size=False`` (same centres, same
order, the real SSD scales): an anchor is positive when its IoU with a box is
>= ``pos_iou``, ignored between ``neg_iou`` and ``pos_iou``, negative below; every
box also takes its best anchor, so no box goes unmatched.

The regression target of a positive anchor is what decode() must read to give
the box back: with reverse_output_order (x, y, w, h),
    r0 = (cx - a.x) / a.w * x_scale      r2 = w / a.w * w_scale   (log(w / a.w) * w_scale if exponential)
    r1 = (cy - a.y) / a.h * y_scale      r3 = h / a.h * h_scale
"""
from __future__ import annotations

import dataclasses

import numpy as np

from moodcam.detection.anchors import SsdAnchorOptions, generate_anchors
from moodcam.detection.boxes import cxcywh_to_xyxy, iou_matrix
from moodcam.detection.decode import DecodeOptions

__all__ = ["AnchorMatcher", "encode_boxes"]

CENTER_VARIANCE = 0.1
SIZE_VARIANCE = 0.2


def encode_boxes(boxes_norm: np.ndarray, anchors: np.ndarray, options: DecodeOptions) -> np.ndarray:
    """Raw regressors (M, 4) for normalised xyxy boxes (M, 4) against anchors (M, 4) cxcywh."""
    b = np.asarray(boxes_norm, np.float64).reshape(-1, 4)
    a = np.asarray(anchors, np.float64).reshape(-1, 4)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    x = (cx - a[:, 0]) / a[:, 2] * options.x_scale
    y = (cy - a[:, 1]) / a[:, 3] * options.y_scale
    if options.apply_exponential_on_box_size:
        ww = np.log(np.maximum(w, 1e-9) / a[:, 2]) * options.w_scale
        hh = np.log(np.maximum(h, 1e-9) / a[:, 3]) * options.h_scale
    else:
        ww = w / a[:, 2] * options.w_scale
        hh = h / a[:, 3] * options.h_scale
    cols = (x, y, ww, hh) if options.reverse_output_order else (y, x, hh, ww)
    return np.stack(cols, axis=1).astype(np.float32)


@dataclasses.dataclass
class AnchorMatcher:
    """Builds per-anchor training targets for one model (anchor options + decode options)."""

    anchor_options: SsdAnchorOptions
    decode_options: DecodeOptions
    pos_iou: float = 0.5
    neg_iou: float = 0.4

    def __post_init__(self) -> None:
        self.anchors = generate_anchors(self.anchor_options)                     # (N, 4) cxcywh, decode's
        sized = dataclasses.replace(self.anchor_options, fixed_anchor_size=False)
        self.match_cxcywh = generate_anchors(sized)                              # (N, 4) real SSD sizes
        self.match_boxes = cxcywh_to_xyxy(self.match_cxcywh)                     # (N, 4) xyxy
        self.num_anchors = int(self.anchors.shape[0])
        self.num_classes = int(self.decode_options.num_classes)
        if self.decode_options.box_coord_offset != 0 or self.decode_options.num_coords != 4:
            raise ValueError("training targets support box-only models (num_coords 4, offset 0)")

    def regression_weights(self) -> np.ndarray:
        """(N, 4) factors that turn a raw-regressor error into SSD units (anchor sizes x variance)."""
        o = self.decode_options
        mw = self.match_cxcywh[:, 2] / self.anchors[:, 2]
        mh = self.match_cxcywh[:, 3] / self.anchors[:, 3]
        wx = 1.0 / (o.x_scale * mw * CENTER_VARIANCE)
        wy = 1.0 / (o.y_scale * mh * CENTER_VARIANCE)
        if o.apply_exponential_on_box_size:
            ww = np.full_like(wx, 1.0 / (o.w_scale * SIZE_VARIANCE))
            wh = np.full_like(wy, 1.0 / (o.h_scale * SIZE_VARIANCE))
        else:
            ww = 1.0 / (o.w_scale * mw * SIZE_VARIANCE)
            wh = 1.0 / (o.h_scale * mh * SIZE_VARIANCE)
        cols = (wx, wy, ww, wh) if o.reverse_output_order else (wy, wx, wh, ww)
        return np.stack(cols, axis=1).astype(np.float32)

    def match(self, boxes_norm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(assigned box index per anchor (N,) or -1, state (N,): 1 positive, 0 negative, -1 ignored)."""
        n = self.num_anchors
        b = np.asarray(boxes_norm, np.float64).reshape(-1, 4)
        if b.shape[0] == 0:
            return np.full(n, -1, np.int64), np.zeros(n, np.int64)
        iou = iou_matrix(self.match_boxes, b)                                   # (N, K)
        best_box = iou.argmax(axis=1)
        best_iou = iou[np.arange(n), best_box]
        state = np.where(best_iou >= self.pos_iou, 1, np.where(best_iou >= self.neg_iou, -1, 0))
        # Every box keeps its best anchor (ties: first in anchor order), largest IoU boxes last win.
        for k in np.argsort(iou.max(axis=0), kind="stable"):
            j = int(iou[:, k].argmax())
            best_box[j] = k
            state[j] = 1
        assigned = np.where(state == 1, best_box, -1)
        return assigned.astype(np.int64), state.astype(np.int64)

    def encode(self, boxes_norm: np.ndarray, class_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Targets for one image.

        Returns:
            reg (N, 5): raw regressor targets (4) and a positive flag.
            cls (N, C + 1): one-hot class for positives (zeros for negatives) and an ignore flag.
        """
        n, c = self.num_anchors, self.num_classes
        assigned, state = self.match(boxes_norm)
        reg = np.zeros((n, 5), np.float32)
        cls = np.zeros((n, c + 1), np.float32)
        pos = np.flatnonzero(state == 1)
        if pos.size:
            b = np.asarray(boxes_norm, np.float64).reshape(-1, 4)[assigned[pos]]
            reg[pos, :4] = encode_boxes(b, self.anchors[pos], self.decode_options)
            reg[pos, 4] = 1.0
            cls[pos, np.asarray(class_ids, np.int64)[assigned[pos]]] = 1.0
        cls[state == -1, c] = 1.0
        return reg, cls
