"""Raw SSD outputs -> scored boxes and key points, as MediaPipe's TensorsToDetectionsCalculator.

Mirrors mediapipe/calculators/tensor/tensors_to_detections_calculator.cc:
DecodeBoxes (anchor-relative centre/size and key point offsets divided by the
x/y/w/h scales), the score loop (clip the logit to +-score_clipping_thresh,
then sigmoid, then the best allowed class) and ConvertToDetections (drop scores
below min_score_thresh and boxes with negative or NaN size).

One deliberate difference, for speed and with identical results: scores are
computed for every anchor first and only the anchors that pass
``min_score_thresh`` are decoded (MediaPipe decodes all, then filters).

One deliberate addition, for safety: a detection is also dropped when its
score, box or key points are not finite (NaN or +-inf in the raw outputs), or
when a box corner or key point lies more than ``MAX_OUTSIDE`` input sizes
beyond the model input (a huge regressor value: after the letterbox is undone
it becomes an enormous or infinite box that would win "primary face" and put
NaN into the page's face data). MediaPipe keeps those; for finite outputs of a
working model, which stay within a fraction of the input around it, the
results are identical.

Output coordinates are normalised to the model input ([0, 1]); the letterbox is
undone later (see moodcam.detection.pipeline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .result import Detections

__all__ = ["DecodeOptions", "BLAZEFACE_SHORT_RANGE_DECODE", "BLAZEFACE_FULL_RANGE_DECODE", "MAX_OUTSIDE", "scores_from_logits", "decode"]

# How far beyond the model input (in input sizes, normalised coordinates) a decoded
# box corner or key point may lie before the detection counts as absurd and is
# dropped: [-1, 2] on each axis. A face cut by the frame edge extends a little past
# it; nothing a detector can see extends a whole input size past it.
MAX_OUTSIDE = 1.0
_LIMIT_CENTRE = np.float32(0.5)
_LIMIT_HALF = np.float32(0.5 + MAX_OUTSIDE)


@dataclass(frozen=True)
class DecodeOptions:
    """The fields of TensorsToDetectionsCalculatorOptions that change the numbers (same names)."""

    num_classes: int = 1
    num_boxes: int = 896
    num_coords: int = 16
    box_coord_offset: int = 0
    keypoint_coord_offset: int = 4
    num_keypoints: int = 6
    num_values_per_keypoint: int = 2
    sigmoid_score: bool = True
    score_clipping_thresh: float | None = 100.0
    # True: the model writes (x, y, w, h) and key points as (x, y); False: (y, x, h, w).
    reverse_output_order: bool = True
    x_scale: float = 128.0
    y_scale: float = 128.0
    w_scale: float = 128.0
    h_scale: float = 128.0
    apply_exponential_on_box_size: bool = False
    min_score_thresh: float | None = 0.5
    # Mirrors the proto's allow_classes / ignore_classes (at most one non-empty).
    allow_classes: tuple[int, ...] = ()
    ignore_classes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow_classes", tuple(self.allow_classes))
        object.__setattr__(self, "ignore_classes", tuple(self.ignore_classes))
        if self.allow_classes and self.ignore_classes:
            raise ValueError("set allow_classes or ignore_classes, not both")
        needed = self.keypoint_coord_offset + self.num_keypoints * self.num_values_per_keypoint
        if self.num_keypoints and needed > self.num_coords:
            raise ValueError(
                f"num_coords={self.num_coords} is too small for {self.num_keypoints} key points at "
                f"offset {self.keypoint_coord_offset} (needs {needed})"
            )
        if self.box_coord_offset + 4 > self.num_coords:
            raise ValueError(f"num_coords={self.num_coords} leaves no room for the box at {self.box_coord_offset}")


# face_detection_short_range.pbtxt / face_detection.pbtxt.
BLAZEFACE_SHORT_RANGE_DECODE = DecodeOptions()
# BlazeFace full range (face_detection_full_range.pbtxt: 2304 boxes, scales 192, min score 0.6;
# the rest is face_detection.pbtxt's TensorsToDetectionsCalculator, as for short range).
BLAZEFACE_FULL_RANGE_DECODE = DecodeOptions(num_boxes=2304, x_scale=192.0, y_scale=192.0, w_scale=192.0,
                                            h_scale=192.0, min_score_thresh=0.6)


def _check_raw(raw_boxes, raw_scores, anchors, options: DecodeOptions) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.asarray(raw_boxes, dtype=np.float32)
    scores = np.asarray(raw_scores, dtype=np.float32)
    # Accept the model's batch-of-one outputs [1, N, C] as well as [N, C].
    if boxes.ndim == 3 and boxes.shape[0] == 1:
        boxes = boxes[0]
    if scores.ndim == 3 and scores.shape[0] == 1:
        scores = scores[0]
    if scores.ndim == 1:
        scores = scores[:, None]
    n = options.num_boxes
    if boxes.shape != (n, options.num_coords):
        raise ValueError(
            f"raw box regressors must have shape ({n}, {options.num_coords}) or (1, {n}, {options.num_coords}), "
            f"got {np.shape(raw_boxes)}; check the model output order (regressors first, then scores)"
        )
    if scores.shape != (n, options.num_classes):
        raise ValueError(
            f"raw scores must have shape ({n}, {options.num_classes}) or (1, {n}, {options.num_classes}), "
            f"got {np.shape(raw_scores)}"
        )
    if anchors.shape != (n, 4):
        raise ValueError(
            f"anchors must have shape ({n}, 4) to match num_boxes, got {anchors.shape}; "
            "the anchor options do not belong to this model"
        )
    return boxes, scores


def scores_from_logits(raw_scores: np.ndarray, options: DecodeOptions) -> tuple[np.ndarray, np.ndarray]:
    """Per-anchor best score (N,) and class (N,) from logits (N, C), MediaPipe's score loop."""
    s = raw_scores
    if options.sigmoid_score:
        if options.score_clipping_thresh is not None:
            t = np.float32(options.score_clipping_thresh)
            s = np.minimum(np.maximum(s, -t), t)  # np.clip, without its wrapper overhead
        # exp(100) overflows float32 to inf and the sigmoid correctly becomes 0,
        # as in MediaPipe's C++; silence numpy's warning about it.
        with np.errstate(over="ignore"):
            s = np.float32(1.0) / (np.float32(1.0) + np.exp(-s))
    if options.allow_classes or options.ignore_classes:
        allowed = np.zeros(s.shape[1], dtype=bool)
        if options.allow_classes:
            allowed[list(options.allow_classes)] = True
        else:
            allowed[:] = True
            allowed[list(options.ignore_classes)] = False
        s = np.where(allowed[None, :], s, -np.inf)
    if s.shape[1] == 1:
        return s[:, 0], np.zeros(s.shape[0], dtype=np.int64)
    classes = np.argmax(s, axis=1)
    return s[np.arange(s.shape[0]), classes], classes


def _logit(p: float) -> float:
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p / (1.0 - p))


def decode(raw_boxes, raw_scores, anchors: np.ndarray, options: DecodeOptions = BLAZEFACE_SHORT_RANGE_DECODE
           ) -> Detections:
    """Decode raw model outputs into Detections normalised to the model input.

    Args:
        raw_boxes: regressors (N, num_coords) or (1, N, num_coords), float.
        raw_scores: logits (N, C) or (1, N, C) (or (N,) for one class).
        anchors: (N, 4) as (x_center, y_center, w, h), from generate_anchors().
        options: the model's decoding options.

    Returns:
        Detections with boxes (M, 4) xyxy and key points (M, K, 2) in [0, 1]
        model-input coordinates, scores (M,), labels (M,) when C > 1; M is the
        number of anchors whose score passed ``min_score_thresh``, in anchor order.
    """
    boxes, logits = _check_raw(raw_boxes, raw_scores, anchors, options)
    thresh = options.min_score_thresh
    if thresh is not None and options.sigmoid_score and not (options.allow_classes or options.ignore_classes):
        # Speed: the sigmoid is monotonic, so only anchors whose best logit is
        # near logit(thresh) or above can pass. Pre-select them in logit space
        # (with a margin for float32 rounding), then apply MediaPipe's exact
        # clip + sigmoid + >= test to those few. Same result, ~100x fewer exps.
        best = logits.max(axis=1) if logits.shape[1] > 1 else logits[:, 0]                 # (N,)
        pre = np.flatnonzero(best >= np.float32(_logit(thresh) - 1e-3))                     # (P,)
        scores, classes = scores_from_logits(logits[pre], options)                          # (P,), (P,)
        passed = scores >= np.float32(thresh)
        keep, scores, classes = pre[passed], scores[passed], classes[passed]                # (M,)
    else:
        scores, classes = scores_from_logits(logits, options)                               # (N,), (N,)
        if thresh is not None:
            keep = np.flatnonzero(scores >= np.float32(thresh))                             # (M,)
            scores, classes = scores[keep], classes[keep]
        else:
            keep = np.arange(scores.shape[0])
    raw = boxes[keep]                                                          # (M, num_coords)
    anc = anchors[keep]                                                        # (M, 4) cx, cy, w, h
    anc_wh = anc[:, 2:4]

    # Few, whole-array operations (not one per coordinate): with only a
    # handful of rows, per-call overhead dominates, above all in Pyodide.
    o = options.box_coord_offset
    b = raw[:, o:o + 4]
    if not options.reverse_output_order:
        b = b[:, [1, 0, 3, 2]]  # (y, x, h, w) -> (x, y, w, h)
    xy_scale = np.array([options.x_scale, options.y_scale], dtype=np.float32)
    wh_scale = np.array([options.w_scale, options.h_scale], dtype=np.float32)
    # Huge or non-finite regressors overflow or give inf - inf here: those rows are
    # dropped below, without numpy warnings on the way.
    with np.errstate(over="ignore", invalid="ignore"):
        centre = b[:, :2] / xy_scale * anc_wh + anc[:, :2]                         # (M, 2)
        if options.apply_exponential_on_box_size:
            size = np.exp(b[:, 2:4] / wh_scale) * anc_wh                           # (M, 2)
        else:
            size = b[:, 2:4] / wh_scale * anc_wh                                   # (M, 2)
        half = size / np.float32(2.0)
        out_boxes = np.concatenate([centre - half, centre + half], axis=1)         # (M, 4) xyxy

        k = options.num_keypoints
        if k:
            start = options.keypoint_coord_offset
            stop = start + k * options.num_values_per_keypoint
            kp_raw = raw[:, start:stop].reshape(-1, k, options.num_values_per_keypoint)[:, :, :2]  # (M, K, 2)
            if not options.reverse_output_order:
                kp_raw = kp_raw[:, :, ::-1]  # (y, x) -> (x, y)
            kps = kp_raw / xy_scale * anc_wh[:, None, :] + anc[:, None, :2]          # (M, K, 2)
        else:
            kps = np.zeros((keep.shape[0], 0, 2), dtype=np.float32)

        # ConvertToDetections drops boxes with negative or NaN width/height
        # (b/171391719): the model can predict them and downstream code assumes >= 0.
        valid = (out_boxes[:, 2:] - out_boxes[:, :2] >= 0).all(axis=1)  # NaN compares false
        # Not in MediaPipe (see the module docstring): non-finite or absurd values.
        # |v - 0.5| <= 0.5 + MAX_OUTSIDE is false for NaN and +-inf as well.
        valid &= (np.abs(out_boxes - _LIMIT_CENTRE) <= _LIMIT_HALF).all(axis=1)
        if k:
            valid &= (np.abs(kps - _LIMIT_CENTRE) <= _LIMIT_HALF).all(axis=(1, 2))
        valid &= np.isfinite(scores)
    labels = classes if options.num_classes > 1 else None
    det = Detections(out_boxes, scores, kps, labels)
    return det if bool(valid.all()) else det.filter(valid)
