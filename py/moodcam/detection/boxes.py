"""Box utilities.

Contract (stated once, relied on everywhere in moodcam):
    A set of boxes is a float array of shape (N, 4), one row per box, in the
    order (x1, y1, x2, y2): left, top, right, bottom, with x growing to the
    right and y growing down (image convention). x2 >= x1 and y2 >= y1 for a
    valid box; a box with x2 == x1 or y2 == y1 has zero area. N may be 0.
    Coordinates are continuous (pixel edges, not pixel indices): a box
    covering a whole W x H frame is (0, 0, W, H). The unit (frame pixels or
    normalised [0, 1]) is whatever the caller passes in; these helpers never
    mix the two.

All functions are vectorised over N and return new arrays (inputs are not
modified).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_boxes",
    "areas",
    "iou_matrix",
    "iou_unchecked",
    "xyxy_to_cxcywh",
    "cxcywh_to_xyxy",
    "ymin_xmin_ymax_xmax_to_xyxy",
    "clip_boxes",
    "scale_boxes",
]


def as_boxes(boxes, *, name: str = "boxes") -> np.ndarray:
    """Return ``boxes`` as a float array of shape (N, 4) or raise a clear ValueError."""
    arr = np.asarray(boxes)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(
            f"{name} must have shape (N, 4) as (x1, y1, x2, y2) rows, got shape {arr.shape}; "
            "reshape a single box with np.reshape(box, (1, 4))"
        )
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def areas(boxes) -> np.ndarray:
    """Areas (N,) of (N, 4) xyxy boxes; inverted boxes count as zero area."""
    b = as_boxes(boxes)
    # np.maximum, not np.clip: same result, far less per-call overhead on tiny arrays.
    return np.maximum(b[:, 2] - b[:, 0], 0) * np.maximum(b[:, 3] - b[:, 1], 0)


def iou_matrix(a, b) -> np.ndarray:
    """Intersection over union between every box of ``a`` (N, 4) and ``b`` (M, 4) -> (N, M).

    A pair whose union is zero (two empty boxes) has IoU 0, as in MediaPipe's
    OverlapSimilarity, so empty boxes never suppress anything.
    """
    return iou_unchecked(as_boxes(a, name="a"), as_boxes(b, name="b"))


def iou_unchecked(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """iou_matrix for inputs already known to be float (N, 4) and (M, 4) (hot paths: NMS, tracking)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])         # (N, M, 2) intersection top-left
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])         # (N, M, 2) intersection bottom-right
    iwh = np.maximum(rb - lt, 0)
    inter = iwh[..., 0] * iwh[..., 1]                       # (N, M)
    a_wh = np.maximum(a[:, 2:] - a[:, :2], 0)
    b_wh = np.maximum(b[:, 2:] - b[:, :2], 0)
    union = (a_wh[:, 0] * a_wh[:, 1])[:, None] + (b_wh[:, 0] * b_wh[:, 1])[None, :] - inter
    # union == 0 implies inter == 0, so the tiny floor yields IoU 0 there.
    return inter / np.maximum(union, 1e-30)


def xyxy_to_cxcywh(boxes) -> np.ndarray:
    """(N, 4) xyxy -> (N, 4) as (centre x, centre y, width, height)."""
    b = as_boxes(boxes)
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    return np.stack([b[:, 0] + w / 2, b[:, 1] + h / 2, w, h], axis=1)


def cxcywh_to_xyxy(cxcywh) -> np.ndarray:
    """(N, 4) as (centre x, centre y, width, height) -> (N, 4) xyxy."""
    c = as_boxes(cxcywh, name="cxcywh")
    hw = c[:, 2] / 2
    hh = c[:, 3] / 2
    return np.stack([c[:, 0] - hw, c[:, 1] - hh, c[:, 0] + hw, c[:, 1] + hh], axis=1)


def ymin_xmin_ymax_xmax_to_xyxy(boxes) -> np.ndarray:
    """TensorFlow / MediaPipe order (ymin, xmin, ymax, xmax) -> xyxy."""
    b = as_boxes(boxes)
    return b[:, [1, 0, 3, 2]]


def clip_boxes(boxes, width: float, height: float) -> np.ndarray:
    """Clamp (N, 4) xyxy boxes to the frame [0, width] x [0, height]."""
    b = as_boxes(boxes).copy()
    np.clip(b[:, 0::2], 0, width, out=b[:, 0::2])
    np.clip(b[:, 1::2], 0, height, out=b[:, 1::2])
    return b


def scale_boxes(boxes, sx: float, sy: float) -> np.ndarray:
    """Multiply x coordinates by ``sx`` and y by ``sy`` (e.g. normalised -> pixels)."""
    b = as_boxes(boxes)
    return b * np.array([sx, sy, sx, sy], dtype=b.dtype)
