"""Non-maximum suppression as MediaPipe's NonMaxSuppressionCalculator does it.

Mirrors mediapipe/calculators/util/non_max_suppression_calculator.cc:
  * "weighted" (MediaPipe's WEIGHTED, the face detector's choice): take the
    best remaining detection, gather every remaining detection whose IoU with
    it is > the threshold (itself included), output the score-weighted mean of
    their boxes and key points with the best detection's score, and drop them.
  * "hard" (DEFAULT): keep a detection unless its IoU with an already kept one
    is > the threshold.
Both walk the detections by decreasing score and stop at the first score below
``min_score``. Overlap is INTERSECTION_OVER_UNION. The IoU matrix is computed
once, vectorised; the remaining Python loop runs once per *output* detection.

Ties in score are broken by input order (a stable sort); MediaPipe's std::sort
leaves them unspecified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .boxes import iou_unchecked
from .result import Detections

__all__ = ["NMS_ALGORITHMS", "NmsOptions", "non_max_suppression", "weighted_nms", "hard_nms", "MEDIAPIPE_FACE_NMS"]


NMS_ALGORITHMS = ("weighted", "hard")


@dataclass(frozen=True)
class NmsOptions:
    """NonMaxSuppressionCalculatorOptions that matter here (MediaPipe face detection defaults)."""

    algorithm: Literal["weighted", "hard"] = "weighted"
    min_suppression_threshold: float = 0.3
    min_score: float = 0.5
    # None: no limit (MediaPipe's -1). MediaPipe's weighted mode ignores the
    # limit; here it caps both modes, so None keeps exact parity.
    max_detections: int | None = None

    def __post_init__(self) -> None:
        if self.algorithm not in NMS_ALGORITHMS:
            raise ValueError(f"algorithm must be 'weighted' or 'hard', got {self.algorithm!r}")
        if not 0.0 <= self.min_suppression_threshold <= 1.0:
            raise ValueError(f"min_suppression_threshold must be in [0, 1], got {self.min_suppression_threshold}")
        if self.max_detections is not None and self.max_detections < 1:
            raise ValueError(f"max_detections must be >= 1 or None, got {self.max_detections}")


MEDIAPIPE_FACE_NMS = NmsOptions()


def _sorted_candidates(det: Detections, min_score: float) -> np.ndarray:
    order = np.argsort(-det.scores, kind="stable")
    if min_score > 0:
        # MediaPipe breaks out of the sorted walk at the first low score.
        order = order[det.scores[order] >= np.float32(min_score)]
    return order


def hard_nms(det: Detections, iou_threshold: float = 0.3, min_score: float = 0.5,
             max_detections: int | None = None) -> Detections:
    """Greedy hard NMS; output sorted by decreasing score."""
    order = _sorted_candidates(det, min_score)                       # (M,)
    if order.size <= 1:
        return det.select(order)
    b = det.boxes[order]
    iou = iou_unchecked(b, b)                                        # (M, M)
    suppressed = np.zeros(order.size, dtype=bool)
    kept: list[int] = []
    limit = order.size if max_detections is None else max_detections
    for i in range(order.size):
        if suppressed[i]:
            continue
        kept.append(i)
        if len(kept) >= limit:
            break
        suppressed |= iou[i] > iou_threshold
    return det.select(order[np.asarray(kept, dtype=np.int64)])


def weighted_nms(det: Detections, iou_threshold: float = 0.3, min_score: float = 0.5,
                 max_detections: int | None = None) -> Detections:
    """MediaPipe's weighted ("blending") NMS; output sorted by decreasing score."""
    order = _sorted_candidates(det, min_score)                       # (M,)
    if order.size <= 1:
        return det.select(order)  # nothing to blend
    boxes = det.boxes[order]                                         # (M, 4)
    scores = det.scores[order]                                       # (M,)
    kps = det.keypoints[order]                                       # (M, K, 2)
    iou = iou_unchecked(boxes, boxes)                                # (M, M)
    remaining = np.ones(order.size, dtype=bool)
    out_boxes: list[np.ndarray] = []
    out_kps: list[np.ndarray] = []
    out_idx: list[int] = []
    limit = order.size if max_detections is None else max_detections
    while remaining.any() and len(out_idx) < limit:
        top = int(np.argmax(remaining))  # first remaining = highest score (sorted)
        cluster = remaining & (iou[top] > iou_threshold)
        if not cluster[top]:
            # A zero-area box has IoU 0 even with itself; MediaPipe then outputs
            # it alone and, since nothing was removed, stops. Do the same.
            out_boxes.append(boxes[top])
            out_kps.append(kps[top])
            out_idx.append(top)
            break
        w = scores[cluster]                                          # (C,)
        total = w.sum(dtype=np.float32)
        out_boxes.append((boxes[cluster] * w[:, None]).sum(axis=0) / total)
        out_kps.append((kps[cluster] * w[:, None, None]).sum(axis=0) / total)
        out_idx.append(top)
        remaining &= ~cluster
    idx = order[np.asarray(out_idx, dtype=np.int64)]
    return Detections(
        np.stack(out_boxes),
        det.scores[idx],
        np.stack(out_kps),
        None if det.labels is None else det.labels[idx],
    )


def non_max_suppression(det: Detections, options: NmsOptions = MEDIAPIPE_FACE_NMS) -> Detections:
    """Apply the NMS chosen by ``options`` to ``det``."""
    fn = weighted_nms if options.algorithm == "weighted" else hard_nms
    return fn(det, options.min_suppression_threshold, options.min_score, options.max_detections)
