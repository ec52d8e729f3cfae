"""Face detection post-processing: anchors, decoding, NMS and letterbox, as MediaPipe does them."""

from .anchors import BLAZEFACE_FULL_RANGE, BLAZEFACE_SHORT_RANGE, SsdAnchorOptions, generate_anchors
from .decode import BLAZEFACE_FULL_RANGE_DECODE, BLAZEFACE_SHORT_RANGE_DECODE, DecodeOptions, decode
from .letterbox import Letterbox
from .nms import NmsOptions, hard_nms, non_max_suppression, weighted_nms
from .pipeline import BLAZEFACE_FULL_RANGE_SPEC, BLAZEFACE_SHORT_RANGE_SPEC, DetectorSpec, FaceDetectorPostprocess
from .result import KEYPOINT_NAMES, Detections

__all__ = [
    "BLAZEFACE_SHORT_RANGE", "BLAZEFACE_FULL_RANGE", "SsdAnchorOptions", "generate_anchors",
    "BLAZEFACE_SHORT_RANGE_DECODE", "BLAZEFACE_FULL_RANGE_DECODE", "DecodeOptions", "decode",
    "Letterbox", "NmsOptions", "hard_nms", "non_max_suppression", "weighted_nms",
    "BLAZEFACE_SHORT_RANGE_SPEC", "BLAZEFACE_FULL_RANGE_SPEC", "DetectorSpec", "FaceDetectorPostprocess",
    "KEYPOINT_NAMES", "Detections",
]
