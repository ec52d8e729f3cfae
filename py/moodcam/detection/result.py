"""The detection result type shared by decoding, NMS, tracking and the UI.

Shape contract (checked in ``__post_init__``), for N detections with K key points:
    boxes      (N, 4)  float32, xyxy (see moodcam.detection.boxes)
    scores     (N,)    float32, in [0, 1] after the sigmoid
    keypoints  (N, K, 2) float32, (x, y); K = 6 for BlazeFace, 0 for a box-only detector
    labels     (N,) int64 class index, or None for a single-class detector
All four share one coordinate space, stated by whoever builds the value: the
decoder produces normalised model-input coordinates, the pipeline converts them
to source-frame pixels before anything else sees them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Detections", "KEYPOINT_NAMES", "KEYPOINT_INDEX"]

# BlazeFace's six key points, in the model's output order (MediaPipe's
# FaceKeyPoint enum). "Right"/"left" are the subject's: the right eye appears
# on the left of an unmirrored image.
KEYPOINT_NAMES: tuple[str, ...] = (
    "right_eye",
    "left_eye",
    "nose_tip",
    "mouth",
    "right_ear_tragion",
    "left_ear_tragion",
)
KEYPOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


@dataclass(frozen=True, eq=False)
class Detections:
    """N detections: boxes (N, 4) xyxy, scores (N,), keypoints (N, K, 2), optional labels (N,)."""

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32)
        scores = np.asarray(self.scores, dtype=np.float32)
        if boxes.ndim == 1 and boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        n = boxes.shape[0] if boxes.ndim == 2 else -1
        keypoints = np.asarray(self.keypoints, dtype=np.float32)
        if keypoints.size == 0 and keypoints.ndim < 3:
            keypoints = keypoints.reshape(max(n, 0), 0, 2)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"Detections.boxes must have shape (N, 4) xyxy, got {boxes.shape}")
        if scores.shape != (n,):
            raise ValueError(f"Detections.scores must have shape ({n},) to match boxes, got {scores.shape}")
        if keypoints.ndim != 3 or keypoints.shape[0] != n or keypoints.shape[2] != 2:
            raise ValueError(
                f"Detections.keypoints must have shape ({n}, K, 2), got {keypoints.shape}; "
                "pass np.zeros((N, 0, 2)) for a detector without key points"
            )
        labels = self.labels
        if labels is not None:
            labels = np.asarray(labels, dtype=np.int64)
            if labels.shape != (n,):
                raise ValueError(f"Detections.labels must have shape ({n},) or be None, got {labels.shape}")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "keypoints", keypoints)
        object.__setattr__(self, "labels", labels)

    @classmethod
    def empty(cls, num_keypoints: int = len(KEYPOINT_NAMES), *, with_labels: bool = False) -> "Detections":
        """No detections, with the right trailing shapes."""
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros((0,), np.float32),
            np.zeros((0, num_keypoints, 2), np.float32),
            np.zeros((0,), np.int64) if with_labels else None,
        )

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def num_keypoints(self) -> int:
        return int(self.keypoints.shape[1])

    def select(self, index) -> "Detections":
        """Detections picked by a boolean mask (N,) or an integer index array, in that order."""
        idx = np.asarray(index)
        if idx.dtype == bool and idx.shape != (len(self),):
            raise ValueError(f"boolean mask must have shape ({len(self)},), got {idx.shape}")
        return Detections(
            self.boxes[idx],
            self.scores[idx],
            self.keypoints[idx],
            None if self.labels is None else self.labels[idx],
        )

    def filter(self, mask) -> "Detections":
        """Detections where the boolean ``mask`` (N,) is true."""
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"filter needs a boolean mask, got dtype {mask.dtype}; use select() for indices")
        return self.select(mask)

    def with_coordinates(self, boxes, keypoints) -> "Detections":
        """Same scores and labels, new boxes (N, 4) and key points (N, K, 2)."""
        return Detections(boxes, self.scores, keypoints, self.labels)
