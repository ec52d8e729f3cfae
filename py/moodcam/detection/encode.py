"""The inverse of decoding: synthetic raw model outputs for given faces.

Used by tests and the benchmark (both must run inside Pyodide without model
files): it writes, for chosen anchors, the regressor values that decode back to
given boxes and key points, so a frame's raw outputs look like a real model's
(a few neighbouring anchors firing per face, the rest strongly negative).
"""

from __future__ import annotations

import numpy as np

from .boxes import as_boxes
from .decode import BLAZEFACE_SHORT_RANGE_DECODE, DecodeOptions

__all__ = ["encode_raw_outputs", "anchors_near"]


def anchors_near(anchors: np.ndarray, boxes_norm, per_box: int = 4) -> np.ndarray:
    """For each normalised xyxy box (B, 4), the ``per_box`` anchors whose centres are nearest (B, per_box)."""
    b = as_boxes(boxes_norm)
    cx = (b[:, 0] + b[:, 2]) / 2
    cy = (b[:, 1] + b[:, 3]) / 2
    d = (anchors[None, :, 0] - cx[:, None]) ** 2 + (anchors[None, :, 1] - cy[:, None]) ** 2  # (B, N)
    return np.argsort(d, axis=1, kind="stable")[:, :per_box]


def encode_raw_outputs(anchors: np.ndarray, anchor_ids, boxes_norm, keypoints_norm, logits,
                       options: DecodeOptions = BLAZEFACE_SHORT_RANGE_DECODE,
                       background_logit: float = -20.0) -> tuple[np.ndarray, np.ndarray]:
    """Raw (regressors (N, num_coords), logits (N, 1)) that decode to the given detections.

    Args:
        anchors: (N, 4) cxcywh from generate_anchors().
        anchor_ids: (D,) anchor index for each detection.
        boxes_norm: (D, 4) xyxy normalised to the model input.
        keypoints_norm: (D, K, 2) normalised key points.
        logits: (D,) score logits for the detections.
        background_logit: logit written for every other anchor.
    Only ``reverse_output_order=True`` and linear box sizes (BlazeFace) are supported.
    """
    if not options.reverse_output_order or options.apply_exponential_on_box_size:
        raise ValueError("encode_raw_outputs supports BlazeFace-style options only")
    ids = np.asarray(anchor_ids, dtype=np.int64).reshape(-1)
    b = as_boxes(boxes_norm)
    kps = np.asarray(keypoints_norm, dtype=np.float64)
    kps = kps.reshape(b.shape[0], -1, 2) if kps.size else np.zeros((b.shape[0], 0, 2))
    a = anchors[ids].astype(np.float64)
    raw = np.zeros((anchors.shape[0], options.num_coords), dtype=np.float32)
    scores = np.full((anchors.shape[0], options.num_classes), background_logit, dtype=np.float32)
    cx = (b[:, 0] + b[:, 2]) / 2
    cy = (b[:, 1] + b[:, 3]) / 2
    o = options.box_coord_offset
    raw[ids, o] = (cx - a[:, 0]) / a[:, 2] * options.x_scale
    raw[ids, o + 1] = (cy - a[:, 1]) / a[:, 3] * options.y_scale
    raw[ids, o + 2] = (b[:, 2] - b[:, 0]) / a[:, 2] * options.w_scale
    raw[ids, o + 3] = (b[:, 3] - b[:, 1]) / a[:, 3] * options.h_scale
    for k in range(min(options.num_keypoints, kps.shape[1])):
        off = options.keypoint_coord_offset + k * options.num_values_per_keypoint
        raw[ids, off] = (kps[:, k, 0] - a[:, 0]) / a[:, 2] * options.x_scale
        raw[ids, off + 1] = (kps[:, k, 1] - a[:, 1]) / a[:, 3] * options.y_scale
    scores[ids, 0] = np.asarray(logits, dtype=np.float32).reshape(-1)
    return raw, scores
