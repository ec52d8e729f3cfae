"""Letterbox: fit a source frame into a model input keeping its aspect ratio.

Mirrors the geometry of MediaPipe's ImageToTensorCalculator with
``keep_aspect_ratio: true`` (PadRoi in image_to_tensor_utils.cc): the frame is
scaled uniformly by ``scale = min(tw / sw, th / sh)`` and centred, with equal
padding on both sides of the short dimension. MediaPipe's later
DetectionProjectionCalculator undoes it; :meth:`Letterbox.to_source` does the
same here.

Coordinates are continuous pixels (edges, not indices): the source frame spans
[0, sw] x [0, sh], the model input [0, tw] x [0, th].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boxes import as_boxes

__all__ = ["Letterbox"]


def _as_points(points) -> np.ndarray:
    arr = np.asarray(points)
    if arr.shape[-1:] != (2,):
        raise ValueError(f"points must have shape (..., 2) as (x, y), got {arr.shape}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


@dataclass(frozen=True)
class Letterbox:
    """How a source frame of ``source_size`` sits inside a model input of ``target_size``.

    Attributes:
        source_size: (width, height) of the camera frame, pixels.
        target_size: (width, height) of the model input, pixels (128 x 128 for BlazeFace).
        scale: source pixel -> target pixel factor (same on both axes).
        padding: (left, top) offset of the scaled frame inside the target, target pixels.
            Right and bottom padding are equal to these (the frame is centred).
    """

    source_size: tuple[float, float]
    target_size: tuple[float, float]
    scale: float
    padding: tuple[float, float]

    @classmethod
    def fit(cls, source_width: float, source_height: float, target_width: float, target_height: float,
            *, round_padding: bool = False) -> "Letterbox":
        """The letterbox that fits a ``source_width`` x ``source_height`` frame into the target.

        ``round_padding=True`` rounds the scaled size and offsets to whole
        pixels, for a browser that draws the frame with integer canvas
        coordinates; MediaPipe itself keeps them fractional (the default).
        """
        if min(source_width, source_height, target_width, target_height) <= 0:
            raise ValueError(
                f"sizes must be positive, got source {source_width}x{source_height} and "
                f"target {target_width}x{target_height}; wait for the video's metadata before fitting"
            )
        scale = min(target_width / source_width, target_height / source_height)
        pad_x = (target_width - source_width * scale) / 2.0
        pad_y = (target_height - source_height * scale) / 2.0
        if round_padding:
            pad_x = float(round(pad_x))
            pad_y = float(round(pad_y))
            # Recompute the scale from the whole-pixel drawn size on the long axis.
            if target_width / source_width <= target_height / source_height:
                scale = (target_width - 2 * pad_x) / source_width
            else:
                scale = (target_height - 2 * pad_y) / source_height
        return cls((float(source_width), float(source_height)), (float(target_width), float(target_height)),
                   float(scale), (float(pad_x), float(pad_y)))

    @property
    def drawn_size(self) -> tuple[float, float]:
        """(width, height) of the frame as drawn inside the target, target pixels."""
        return (self.source_size[0] * self.scale, self.source_size[1] * self.scale)

    @property
    def normalized_padding(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) padding as fractions of the target, MediaPipe's LETTERBOX_PADDING."""
        px = self.padding[0] / self.target_size[0]
        py = self.padding[1] / self.target_size[1]
        return (px, py, px, py)

    # -- points (..., 2) ---------------------------------------------------
    def to_target(self, points) -> np.ndarray:
        """Source-frame pixels (..., 2) -> model-input pixels (..., 2)."""
        p = _as_points(points)
        return p * self.scale + np.asarray(self.padding, dtype=p.dtype)

    def to_source(self, points) -> np.ndarray:
        """Model-input pixels (..., 2) -> source-frame pixels (..., 2)."""
        p = _as_points(points)
        return (p - np.asarray(self.padding, dtype=p.dtype)) / self.scale

    def normalized_to_source(self, points) -> np.ndarray:
        """Model outputs normalised to the input ([0, 1], (..., 2)) -> source-frame pixels."""
        p = _as_points(points)
        # One multiply-add: (p * target - padding) / scale, folded.
        gain = np.array(self.target_size, dtype=np.float64) / self.scale
        offset = np.array(self.padding, dtype=np.float64) / self.scale
        return p * gain - offset

    # -- boxes (N, 4) xyxy ------------------------------------------------
    def boxes_to_target(self, boxes) -> np.ndarray:
        """Source-frame xyxy boxes (N, 4) -> model-input pixels (N, 4)."""
        b = as_boxes(boxes)
        return self.to_target(b.reshape(-1, 2, 2)).reshape(-1, 4)

    def boxes_to_source(self, boxes) -> np.ndarray:
        """Model-input pixel xyxy boxes (N, 4) -> source-frame pixels (N, 4)."""
        b = as_boxes(boxes)
        return self.to_source(b.reshape(-1, 2, 2)).reshape(-1, 4)

    def normalized_boxes_to_source(self, boxes) -> np.ndarray:
        """Normalised xyxy boxes (N, 4) in model-input space -> source-frame pixels (N, 4)."""
        b = as_boxes(boxes)
        return self.normalized_to_source(b.reshape(-1, 2, 2)).reshape(-1, 4)
