"""Detector post-processing: raw model outputs + letterbox -> Detections in frame pixels.

The same chain as MediaPipe's face detection graph
(mediapipe/modules/face_detection/face_detection.pbtxt), after inference:

  step  MediaPipe calculator (file)                                   tensor shapes
  1.    SsdAnchorsCalculator (calculators/tflite/ssd_anchors_calculator.cc)
                                                         anchors      (896, 4) cxcywh, cached
  2.    TensorsToDetectionsCalculator (calculators/tensor/tensors_to_detections_calculator.cc)
        2a. clip logits, sigmoid, best class             scores       (896, C) -> (896,)
        2b. drop scores < min_score_thresh               kept         (M,)
        2c. decode boxes and key points vs anchors       boxes (M, 4), key points (M, 6, 2), [0, 1]
  3.    NonMaxSuppressionCalculator (calculators/util/non_max_suppression_calculator.cc)
                                                         boxes (F, 4), key points (F, 6, 2), [0, 1]
  4.    DetectionProjectionCalculator / DetectionLetterboxRemovalCalculator
        (calculators/util/detection_projection_calculator.cc)
                                                         boxes (F, 4), key points (F, 6, 2), frame px

The default spec is BlazeFace short range (128 x 128 input, 896 anchors).
"""

from __future__ import annotations

from dataclasses import dataclass, field


from .anchors import BLAZEFACE_FULL_RANGE, BLAZEFACE_SHORT_RANGE, SsdAnchorOptions, generate_anchors
from .decode import BLAZEFACE_FULL_RANGE_DECODE, BLAZEFACE_SHORT_RANGE_DECODE, DecodeOptions, decode
from .letterbox import Letterbox
from .nms import MEDIAPIPE_FACE_NMS, NmsOptions, non_max_suppression
from .result import Detections

__all__ = ["DetectorSpec", "BLAZEFACE_SHORT_RANGE_SPEC", "BLAZEFACE_FULL_RANGE_SPEC", "FaceDetectorPostprocess"]


@dataclass(frozen=True)
class DetectorSpec:
    """Everything that turns one SSD model's raw outputs into detections."""

    anchors: SsdAnchorOptions = BLAZEFACE_SHORT_RANGE
    decode: DecodeOptions = BLAZEFACE_SHORT_RANGE_DECODE
    nms: NmsOptions = MEDIAPIPE_FACE_NMS

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the model input."""
        return (self.anchors.input_size_width, self.anchors.input_size_height)

    def __post_init__(self) -> None:
        n = generate_anchors(self.anchors).shape[0]
        if n != self.decode.num_boxes:
            raise ValueError(
                f"the anchor options give {n} anchors but decode.num_boxes is {self.decode.num_boxes}; "
                "they must describe the same model"
            )


BLAZEFACE_SHORT_RANGE_SPEC = DetectorSpec()
# MediaPipe's full-range graph: NMS as short range (weighted, IoU 0.3), scores from 0.6.
BLAZEFACE_FULL_RANGE_SPEC = DetectorSpec(BLAZEFACE_FULL_RANGE, BLAZEFACE_FULL_RANGE_DECODE,
                                         NmsOptions(min_score=0.6))


@dataclass
class FaceDetectorPostprocess:
    """Callable: ``(raw_boxes, raw_scores, letterbox) -> Detections`` in source-frame pixels.

    Tip: build one per model and reuse it; anchors are generated once (step 1).
    """

    spec: DetectorSpec = field(default_factory=lambda: BLAZEFACE_SHORT_RANGE_SPEC)

    def __post_init__(self) -> None:
        self.anchors = generate_anchors(self.spec.anchors)                         # 1. (896, 4)

    def to_model_space(self, raw_boxes, raw_scores) -> Detections:
        """Steps 2-3: detections after NMS, normalised to the model input ([0, 1])."""
        det = decode(raw_boxes, raw_scores, self.anchors, self.spec.decode)          # 2. (M, 4), (M, 6, 2)
        return non_max_suppression(det, self.spec.nms)                               # 3. (F, 4), (F, 6, 2)

    def __call__(self, raw_boxes, raw_scores, letterbox: Letterbox) -> Detections:
        if tuple(letterbox.target_size) != tuple(float(v) for v in self.spec.input_size):
            raise ValueError(
                f"letterbox target {letterbox.target_size} differs from the model input {self.spec.input_size}; "
                "build it with Letterbox.fit(frame_w, frame_h, *spec.input_size)"
            )
        det = self.to_model_space(raw_boxes, raw_scores)                             # 2-3.
        boxes = letterbox.normalized_boxes_to_source(det.boxes)                      # 4. (F, 4) frame px
        kps = letterbox.normalized_to_source(det.keypoints)                          # 4. (F, 6, 2) frame px
        return det.with_coordinates(boxes, kps)
