"""The FaceMesh region of interest, mirrored step by step from MediaPipe 0.10.21.

MediaPipe's FaceMesh front end (graph ``FaceLandmarkFrontCpu``,
mediapipe/modules/face_landmark/face_landmark_front_cpu.pbtxt) crops the face
for the 192 x 192 landmark model from one of two sources:

  from a detection  ``FaceDetectionFrontDetectionToRoi``
                    (mediapipe/modules/face_landmark/face_detection_front_detection_to_roi.pbtxt)
     1. DetectionsToRectsCalculator  (calculators/util/detections_to_rects_calculator.cc)
        rect = the detection box (centre, width, height); rotation from key
        point 0 (right eye) to key point 1 (left eye), target angle 0 deg
     2. RectTransformationCalculator (calculators/util/rect_transformation_calculator.cc)
        square_long: true, scale_x = scale_y = 1.5, no shift

  from last frame's landmarks  ``FaceLandmarkLandmarksToRoi``
                    (mediapipe/modules/face_landmark/face_landmark_landmarks_to_roi.pbtxt)
     1. LandmarksToDetectionCalculator (calculators/util/landmarks_to_detection_calculator.cc)
        box = axis-aligned bounds of all 468 landmarks, key points = the landmarks
     2. DetectionsToRectsCalculator, rotation from landmark 33 (outer corner
        of the right eye) to landmark 263 (outer corner of the left eye), target 0 deg
     3. RectTransformationCalculator, square_long, scale 1.5 (as above)

(The .pbtxt files are not in the wheel; the options above were read from the
graph configs compiled into mediapipe/python/_framework_bindings.so of
mediapipe==0.10.21: parse them with calculator_pb2.CalculatorGraphConfig.)

MediaPipe keeps rects normalised to the image (x / W, y / H) and passes the
image size along; every step here works in frame pixels instead, which is the
same arithmetic scaled by (W, H). The final square is a
:class:`moodcam.geometry.crop.CropRegion` (its rotation convention is
MediaPipe's: the crop's x axis points along (cos r, sin r), y down), so
``roi.projective_transform(192)`` gives the 8 numbers for
``tf.image.transform`` (output pixel -> frame pixel) and ``roi.to_frame``
maps model coordinates back. Unlike the emotion crop, the ROI is never
clamped to the frame: MediaPipe's ImageToTensorCalculator replicates the
border (use ``fillMode: 'nearest'`` in tf.image.transform).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..geometry.crop import CropRegion

__all__ = [
    "Rect",
    "normalize_radians",
    "compute_rotation",
    "detection_to_rect",
    "landmarks_to_detection",
    "transform_rect",
    "detection_roi",
    "landmarks_roi",
    "DETECTION_ROTATION_KEYPOINTS",
    "LANDMARK_ROTATION_KEYPOINTS",
    "ROI_SCALE",
]

# FaceDetectionFrontDetectionToRoi: BlazeFace key points 0 (right eye) -> 1 (left eye).
DETECTION_ROTATION_KEYPOINTS: tuple[int, int] = (0, 1)
# FaceLandmarkLandmarksToRoi: mesh landmarks 33 (right eye, outer corner) -> 263 (left eye, outer corner).
LANDMARK_ROTATION_KEYPOINTS: tuple[int, int] = (33, 263)
# RectTransformationCalculator options in both subgraphs.
ROI_SCALE: float = 1.5


@dataclass(frozen=True)
class Rect:
    """MediaPipe's (Normalized)Rect, in frame pixels: centre, width, height, rotation (radians)."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0

    def to_crop(self, frame_size: tuple[float, float]) -> CropRegion:
        """The square crop this rect describes (needs width == height, as after square_long)."""
        if not math.isclose(self.width, self.height, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(f"only a square rect is a CropRegion; got {self.width} x {self.height} "
                             "(apply transform_rect(..., square_long=True) first)")
        return CropRegion(float(self.x_center), float(self.y_center), float(self.width), float(self.rotation),
                          (float(frame_size[0]), float(frame_size[1])))


def normalize_radians(angle: float) -> float:
    """MediaPipe's NormalizeRadians: the same angle in [-pi, pi)."""
    return angle - 2 * math.pi * math.floor((angle - (-math.pi)) / (2 * math.pi))


def compute_rotation(start_xy, end_xy, target_angle_degrees: float = 0.0) -> float:
    """DetectionsToRectsCalculator::ComputeRotation, on frame-pixel key points.

    rotation = target - atan2(-(y1 - y0), x1 - x0), normalised; with target 0
    this is atan2(dy, dx): 0 for level eyes, positive when the left eye (on
    the image's right) is lower.
    """
    x0, y0 = float(start_xy[0]), float(start_xy[1])
    x1, y1 = float(end_xy[0]), float(end_xy[1])
    return normalize_radians(math.radians(target_angle_degrees) - math.atan2(-(y1 - y0), x1 - x0))


def detection_to_rect(box, keypoints=None, rotation_keypoints: tuple[int, int] | None = DETECTION_ROTATION_KEYPOINTS,
                      target_angle_degrees: float = 0.0) -> Rect:
    """DetectionsToRectsCalculator (conversion_mode DEFAULT: the bounding box).

    box: (4,) xyxy frame pixels; keypoints: (K, 2) frame pixels, needed when
    ``rotation_keypoints`` is not None.
    """
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,):
        raise ValueError(f"box must be one xyxy box of shape (4,), got {np.shape(box)}")
    w, h = b[2] - b[0], b[3] - b[1]
    rotation = 0.0
    if rotation_keypoints is not None:
        if keypoints is None:
            raise ValueError("rotation needs the detection's key points")
        kp = np.asarray(keypoints, dtype=np.float64)
        start, end = rotation_keypoints
        if kp.ndim != 2 or kp.shape[1] != 2 or kp.shape[0] <= max(start, end):
            raise ValueError(f"need (K, 2) key points with K > {max(start, end)}, got {kp.shape}")
        rotation = compute_rotation(kp[start], kp[end], target_angle_degrees)
    return Rect(float(b[0] + w / 2), float(b[1] + h / 2), float(w), float(h), rotation)


def landmarks_to_detection(landmarks) -> tuple[np.ndarray, np.ndarray]:
    """LandmarksToDetectionCalculator: (box xyxy of the landmarks' x, y bounds, key points (N, 2))."""
    p = np.asarray(landmarks, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2 or p.shape[0] == 0:
        raise ValueError(f"landmarks must have shape (N, 2) or (N, 3), got {p.shape}")
    xy = p[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return np.array([lo[0], lo[1], hi[0], hi[1]]), xy


def transform_rect(rect: Rect, *, scale_x: float = ROI_SCALE, scale_y: float = ROI_SCALE, shift_x: float = 0.0,
                   shift_y: float = 0.0, square_long: bool = True, square_short: bool = False) -> Rect:
    """RectTransformationCalculator::TransformNormalizedRect, in pixels.

    Shift along the rect's own (rotated) axes, then make it square on its long
    (or short) side, then scale. The rotation is kept (no rotation option).
    """
    width, height, rotation = rect.width, rect.height, rect.rotation
    if rotation == 0.0:
        cx = rect.x_center + width * shift_x
        cy = rect.y_center + height * shift_y
    else:
        c, s = math.cos(rotation), math.sin(rotation)
        cx = rect.x_center + width * shift_x * c - height * shift_y * s
        cy = rect.y_center + width * shift_x * s + height * shift_y * c
    if square_long:
        width = height = max(width, height)
    elif square_short:
        width = height = min(width, height)
    return Rect(cx, cy, width * scale_x, height * scale_y, rotation)


def detection_roi(box, keypoints, frame_size: tuple[float, float], *, scale: float = ROI_SCALE) -> CropRegion:
    """FaceDetectionFrontDetectionToRoi: a BlazeFace detection (frame pixels) -> the FaceMesh crop."""
    rect = detection_to_rect(box, keypoints, DETECTION_ROTATION_KEYPOINTS)
    return transform_rect(rect, scale_x=scale, scale_y=scale, square_long=True).to_crop(frame_size)


def landmarks_roi(landmarks, frame_size: tuple[float, float], *, scale: float = ROI_SCALE) -> CropRegion:
    """FaceLandmarkLandmarksToRoi: this frame's 468 landmarks (frame pixels) -> next frame's crop."""
    box, keypoints = landmarks_to_detection(landmarks)
    rect = detection_to_rect(box, keypoints, LANDMARK_ROTATION_KEYPOINTS)
    return transform_rect(rect, scale_x=scale, scale_y=scale, square_long=True).to_crop(frame_size)
