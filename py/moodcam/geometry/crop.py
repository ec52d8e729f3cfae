"""Crop geometry for the second-stage nets (emotion classifier, landmarks).

A crop is a square of side ``size`` centred on (center_x, center_y) in frame
pixels, rotated by ``rotation`` radians: the crop's x axis points along
(cos r, sin r) in the frame (y down), so a positive rotation turns the crop
clockwise on screen. Choosing r as the angle of the eye line makes the eyes
level inside the crop (MediaPipe's DetectionsToRectsCalculator does the same
with its rotation vector from the right eye to the left eye).

Coordinates:
  * frame: continuous pixels, the frame spans [0, W] x [0, H];
  * crop: normalised, the crop spans [0, 1] x [0, 1], (0, 0) its top-left.

TF.js hand-off:
  * unrotated crops: :meth:`CropRegion.crop_and_resize_box` gives the
    normalised [y1, x1, y2, x2] row for ``tf.image.cropAndResize``;
  * rotated crops: :meth:`CropRegion.projective_transform` gives the 8 numbers
    for ``tf.image.transform`` (output pixel -> input pixel), and
    :meth:`CropRegion.affine_matrix` the same map as a 2 x 3 matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..detection.boxes import as_boxes

__all__ = [
    "CropRegion",
    "crop_around_face",
    "eye_roll_angle",
    "mirror_points",
    "mirror_boxes",
]


def _points(points) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.shape[-1:] != (2,):
        raise ValueError(f"points must have shape (..., 2) as (x, y), got {arr.shape}")
    return arr


def mirror_points(points, frame_width: float) -> np.ndarray:
    """Flip (..., 2) points horizontally, as a front camera's mirrored preview shows them."""
    p = _points(points).copy()
    p[..., 0] = frame_width - p[..., 0]
    return p


def mirror_boxes(boxes, frame_width: float) -> np.ndarray:
    """Flip (N, 4) xyxy boxes horizontally; left and right edges swap so x1 <= x2 still holds."""
    b = as_boxes(boxes)
    out = b.copy()
    out[:, 0] = frame_width - b[:, 2]
    out[:, 2] = frame_width - b[:, 0]
    return out


def eye_roll_angle(keypoints, right_eye: int = 0, left_eye: int = 1) -> float:
    """Angle (radians) of the line from the right eye to the left eye; 0 when the eyes are level.

    ``keypoints`` is (K, 2) for one face (BlazeFace order: right eye first).
    """
    kp = _points(keypoints)
    if kp.ndim != 2 or kp.shape[0] <= max(right_eye, left_eye):
        raise ValueError(f"need (K, 2) key points with both eyes (K > {max(right_eye, left_eye)}), got {kp.shape}")
    dx = kp[left_eye, 0] - kp[right_eye, 0]
    dy = kp[left_eye, 1] - kp[right_eye, 1]
    return math.atan2(dy, dx)


@dataclass(frozen=True)
class CropRegion:
    """A square, possibly rotated, crop of a ``frame_size`` = (W, H) frame (see module doc)."""

    center_x: float
    center_y: float
    size: float
    rotation: float = 0.0
    frame_size: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if not self.size > 0:
            raise ValueError(f"crop size must be > 0, got {self.size}; is the face box empty?")

    # -- point transforms ---------------------------------------------------
    def _basis(self) -> tuple[float, float]:
        return math.cos(self.rotation), math.sin(self.rotation)

    def to_crop(self, points) -> np.ndarray:
        """Frame pixels (..., 2) -> normalised crop coordinates (..., 2)."""
        p = _points(points)
        c, s = self._basis()
        dx = p[..., 0] - self.center_x
        dy = p[..., 1] - self.center_y
        # Inverse rotation (R^T) then shift the origin to the crop's top-left.
        u = (c * dx + s * dy) / self.size + 0.5
        v = (-s * dx + c * dy) / self.size + 0.5
        return np.stack([u, v], axis=-1)

    def to_frame(self, points) -> np.ndarray:
        """Normalised crop coordinates (..., 2) -> frame pixels (..., 2); the inverse of to_crop."""
        p = _points(points)
        c, s = self._basis()
        du = (p[..., 0] - 0.5) * self.size
        dv = (p[..., 1] - 0.5) * self.size
        return np.stack([self.center_x + c * du - s * dv, self.center_y + s * du + c * dv], axis=-1)

    def corners(self) -> np.ndarray:
        """(4, 2) frame-pixel corners: top-left, top-right, bottom-right, bottom-left of the crop."""
        return self.to_frame(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]))

    def bounds(self) -> np.ndarray:
        """(4,) xyxy of the axis-aligned box enclosing the crop, frame pixels."""
        c = self.corners()
        return np.array([c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max()])

    def mirrored(self) -> "CropRegion":
        """The same crop in the horizontally flipped frame; its content is the mirror image."""
        w = self.frame_size[0]
        return replace(self, center_x=w - self.center_x, rotation=-self.rotation)

    # -- TF.js hand-off -----------------------------------------------------
    def _require_frame(self) -> tuple[float, float]:
        w, h = self.frame_size
        if w <= 1 or h <= 1:
            raise ValueError("this CropRegion has no frame_size; build it with crop_around_face(..., frame_size=(W, H))")
        return w, h

    def normalized_yxyx(self) -> tuple[float, float, float, float]:
        """Unrotated crop edges as (y1, x1, y2, x2) fractions of the frame (MediaPipe-style normalised rect)."""
        self._require_unrotated()
        w, h = self._require_frame()
        half = self.size / 2
        return ((self.center_y - half) / h, (self.center_x - half) / w,
                (self.center_y + half) / h, (self.center_x + half) / w)

    def crop_and_resize_box(self, out_width: int, out_height: int | None = None) -> tuple[float, float, float, float]:
        """The [y1, x1, y2, x2] box for ``tf.image.cropAndResize`` to an ``out_width`` x ``out_height`` crop.

        TF maps a normalised y to the pixel index y * (H - 1) and samples the
        crop's first and last rows exactly at y1 and y2. This box puts those
        samples on the centres of the output pixels of the continuous square,
        so the crop equals an exact area-aligned resample (no half-pixel shift).
        """
        self._require_unrotated()
        w, h = self._require_frame()
        out_height = out_width if out_height is None else out_height
        left = self.center_x - self.size / 2
        top = self.center_y - self.size / 2
        sx = self.size / out_width
        sy = self.size / out_height
        x1 = (left + 0.5 * sx - 0.5) / (w - 1)
        x2 = (left + self.size - 0.5 * sx - 0.5) / (w - 1)
        y1 = (top + 0.5 * sy - 0.5) / (h - 1)
        y2 = (top + self.size - 0.5 * sy - 0.5) / (h - 1)
        return (y1, x1, y2, x2)

    def affine_matrix(self, out_width: int, out_height: int | None = None) -> np.ndarray:
        """(2, 3) matrix mapping an output pixel index (u, v, 1) to the frame pixel index (x, y) it samples.

        Pixel indices have pixel centres at integers (TF's convention), so the
        map includes the half-pixel shifts. Works for any rotation.
        """
        out_height = out_width if out_height is None else out_height
        c, s = self._basis()
        sx = self.size / out_width
        sy = self.size / out_height
        half = self.size / 2
        # Output index u -> crop continuous (u + 0.5) * sx - half, rotate, shift, -0.5 for indices.
        ox = 0.5 * sx - half
        oy = 0.5 * sy - half
        return np.array([
            [c * sx, -s * sy, self.center_x - 0.5 + c * ox - s * oy],
            [s * sx, c * sy, self.center_y - 0.5 + s * ox + c * oy],
        ])

    def projective_transform(self, out_width: int, out_height: int | None = None) -> tuple[float, ...]:
        """The 8 numbers [a0, a1, a2, b0, b1, b2, 0, 0] for ``tf.image.transform`` (output -> input)."""
        m = self.affine_matrix(out_width, out_height)
        return (*(float(v) for v in m[0]), *(float(v) for v in m[1]), 0.0, 0.0)

    def _require_unrotated(self) -> None:
        if abs(self.rotation) > 1e-9:
            raise ValueError(
                "tf.image.cropAndResize cannot rotate; use projective_transform() / affine_matrix() for a "
                "rotated crop, or build it with rotate=False"
            )


def crop_around_face(box, frame_size: tuple[float, float], keypoints=None, *, margin: float = 0.25,
                     rotate: bool = False, clamp: bool = True) -> CropRegion:
    """Square crop around one face.

    Args:
        box: (4,) xyxy face box, frame pixels.
        frame_size: (W, H) of the frame.
        keypoints: (K, 2) key points of the face, needed when ``rotate`` is true.
        margin: extra room on every side, as a fraction of the box's long side
            (0.25 -> the square is 1.5 x the long side).
        rotate: turn the crop so the eyes are level (needs the two eye key points).
        clamp: keep the crop inside the frame: shift it in, and shrink it only
            when it cannot fit (the frame's short side bounds the crop's extent).
    """
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,):
        raise ValueError(f"box must be one xyxy box of shape (4,), got {np.shape(box)}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    w, h = float(frame_size[0]), float(frame_size[1])
    if w <= 0 or h <= 0:
        raise ValueError(f"frame_size must be positive (W, H), got {frame_size}")
    cx = (b[0] + b[2]) / 2
    cy = (b[1] + b[3]) / 2
    side = max(b[2] - b[0], b[3] - b[1]) * (1 + 2 * margin)
    angle = 0.0
    if rotate:
        if keypoints is None:
            raise ValueError("rotate=True needs the face's key points (the two eyes); pass keypoints= or rotate=False")
        angle = eye_roll_angle(keypoints)
    if clamp:
        # Half of the axis-aligned extent of the (rotated) square, per unit side.
        spread = (abs(math.cos(angle)) + abs(math.sin(angle))) / 2
        side = min(side, w / (2 * spread), h / (2 * spread))
        ext = side * spread
        cx = min(max(cx, ext), w - ext)
        cy = min(max(cy, ext), h - ext)
    if not side > 0:
        raise ValueError(f"face box {b.tolist()} is empty; cannot crop around it")
    return CropRegion(float(cx), float(cy), float(side), float(angle), (w, h))
