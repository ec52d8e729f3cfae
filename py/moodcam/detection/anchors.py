"""SSD anchors, generated exactly as MediaPipe's SsdAnchorsCalculator does.

Mirrors mediapipe/calculators/tflite/ssd_anchors_calculator.cc (GenerateAnchors
and CalculateScale) and its options proto ssd_anchors_calculator.proto. The
field names below are the proto's, so a MediaPipe graph's options can be copied
over verbatim.

Anchors are returned as a float32 array of shape (N, 4) with columns
(x_center, y_center, w, h), all normalised to the model input ([0, 1]).
Generation runs once per distinct options value (``functools.lru_cache`` keyed
on the frozen dataclass) and the cached array is read-only.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SsdAnchorOptions",
    "generate_anchors",
    "BLAZEFACE_SHORT_RANGE",
    "BLAZEFACE_FULL_RANGE",
    "BLAZEFACE_BACK_256",
]


@dataclass(frozen=True)
class SsdAnchorOptions:
    """The fields of MediaPipe's SsdAnchorsCalculatorOptions (same names, same defaults).

    Sequences are tuples so the options are hashable and can key the cache.
    """

    input_size_width: int
    input_size_height: int
    min_scale: float
    max_scale: float
    num_layers: int
    strides: tuple[int, ...] = ()
    feature_map_width: tuple[int, ...] = ()
    feature_map_height: tuple[int, ...] = ()
    aspect_ratios: tuple[float, ...] = (1.0,)
    anchor_offset_x: float = 0.5
    anchor_offset_y: float = 0.5
    reduce_boxes_in_lowest_layer: bool = False
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = False
    # Multiscale (RetinaNet-style) generation exists in the proto but no model
    # moodcam ships uses it; asking for it raises rather than guessing.
    multiscale_anchor_generation: bool = False
    # Explicit anchors as (x_center, y_center, w, h) rows; when given they are
    # returned as is, like the proto's fixed_anchors.
    fixed_anchors: tuple[tuple[float, float, float, float], ...] = ()

    def __post_init__(self) -> None:
        # Accept lists from callers but store tuples (hashable, immutable).
        for name in ("strides", "feature_map_width", "feature_map_height", "aspect_ratios"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "fixed_anchors", tuple(tuple(a) for a in self.fixed_anchors))
        if self.fixed_anchors:
            return
        if self.multiscale_anchor_generation:
            raise ValueError(
                "multiscale_anchor_generation is not supported; use strides/feature maps "
                "(SSD generation) or pass fixed_anchors"
            )
        if self.num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {self.num_layers}")
        # MediaPipe needs strides even when feature map sizes are given (it
        # groups layers by stride; without strides its loop never advances).
        if len(self.strides) != self.num_layers:
            raise ValueError(
                f"strides needs one entry per layer (num_layers={self.num_layers}), got {len(self.strides)}"
            )
        if self.feature_map_height and (
            len(self.feature_map_height) != self.num_layers or len(self.feature_map_width) != self.num_layers
        ):
            raise ValueError(
                "feature_map_width and feature_map_height need one entry per layer "
                f"(num_layers={self.num_layers}), got {len(self.feature_map_width)} and "
                f"{len(self.feature_map_height)}"
            )
        if self.input_size_width <= 0 or self.input_size_height <= 0:
            raise ValueError(
                f"input size must be positive, got {self.input_size_width}x{self.input_size_height}"
            )


def _calculate_scale(min_scale: float, max_scale: float, stride_index: int, num_strides: int) -> float:
    # CalculateScale in ssd_anchors_calculator.cc.
    if num_strides == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * 1.0 * stride_index / (num_strides - 1.0)


@functools.lru_cache(maxsize=16)
def generate_anchors(options: SsdAnchorOptions) -> np.ndarray:
    """Anchors (N, 4) float32 as (x_center, y_center, w, h), cached per options value.

    The returned array is shared between callers and marked read-only.
    """
    if options.fixed_anchors:
        out = np.asarray(options.fixed_anchors, dtype=np.float32).reshape(-1, 4)
        out.setflags(write=False)
        return out

    n_strides = len(options.strides)
    blocks: list[np.ndarray] = []
    layer_id = 0
    while layer_id < options.num_layers:
        aspect_ratios: list[float] = []
        scales: list[float] = []
        # Consecutive layers with the same stride share one feature map: their
        # anchors are merged per cell, in layer order (as MediaPipe does).
        last_same = layer_id
        while last_same < n_strides and options.strides[last_same] == options.strides[layer_id]:
            scale = _calculate_scale(options.min_scale, options.max_scale, last_same, n_strides)
            if last_same == 0 and options.reduce_boxes_in_lowest_layer:
                aspect_ratios += [1.0, 2.0, 0.5]
                scales += [0.1, scale, scale]
            else:
                for ratio in options.aspect_ratios:
                    aspect_ratios.append(ratio)
                    scales.append(scale)
                if options.interpolated_scale_aspect_ratio > 0.0:
                    scale_next = (
                        1.0
                        if last_same == n_strides - 1
                        else _calculate_scale(options.min_scale, options.max_scale, last_same + 1, n_strides)
                    )
                    scales.append(math.sqrt(scale * scale_next))
                    aspect_ratios.append(options.interpolated_scale_aspect_ratio)
            last_same += 1
        sqrt_ratios = np.sqrt(np.asarray(aspect_ratios, dtype=np.float64))
        anchor_w = np.asarray(scales) * sqrt_ratios
        anchor_h = np.asarray(scales) / sqrt_ratios

        if options.feature_map_height:
            fm_h = options.feature_map_height[layer_id]
            fm_w = options.feature_map_width[layer_id]
        else:
            stride = options.strides[layer_id]
            fm_h = math.ceil(options.input_size_height / stride)
            fm_w = math.ceil(options.input_size_width / stride)

        n_per_cell = len(aspect_ratios)
        # Row-major over (y, x, anchor), the order the model's outputs use.
        ys, xs = np.meshgrid(np.arange(fm_h), np.arange(fm_w), indexing="ij")
        xc = (xs.reshape(-1) + options.anchor_offset_x) / fm_w
        yc = (ys.reshape(-1) + options.anchor_offset_y) / fm_h
        block = np.empty((fm_h * fm_w, n_per_cell, 4), dtype=np.float64)
        block[:, :, 0] = xc[:, None]
        block[:, :, 1] = yc[:, None]
        if options.fixed_anchor_size:
            block[:, :, 2] = 1.0
            block[:, :, 3] = 1.0
        else:
            block[:, :, 2] = anchor_w[None, :]
            block[:, :, 3] = anchor_h[None, :]
        blocks.append(block.reshape(-1, 4))
        layer_id = last_same

    out = np.concatenate(blocks, axis=0).astype(np.float32)
    out.setflags(write=False)
    return out


# BlazeFace short range (front camera), mediapipe/modules/face_detection/
# face_detection_short_range.pbtxt: 16x16x2 + 8x8x6 = 896 anchors.
BLAZEFACE_SHORT_RANGE = SsdAnchorOptions(
    input_size_width=128,
    input_size_height=128,
    min_scale=0.1484375,
    max_scale=0.75,
    num_layers=4,
    strides=(8, 16, 16, 16),
    aspect_ratios=(1.0,),
    anchor_offset_x=0.5,
    anchor_offset_y=0.5,
    interpolated_scale_aspect_ratio=1.0,
    fixed_anchor_size=True,
)

# BlazeFace full range (192 px input, one stride-4 layer, no interpolated
# anchor): 48x48 = 2304 anchors (face_detection_full_range.pbtxt).
BLAZEFACE_FULL_RANGE = SsdAnchorOptions(
    input_size_width=192,
    input_size_height=192,
    min_scale=0.1484375,
    max_scale=0.75,
    num_layers=1,
    strides=(4,),
    aspect_ratios=(1.0,),
    interpolated_scale_aspect_ratio=0.0,
    fixed_anchor_size=True,
)

# A 256 px custom detector with doubled strides (the older "back camera"
# BlazeFace layout): 16x16x2 + 8x8x6 = 896 anchors again.
BLAZEFACE_BACK_256 = SsdAnchorOptions(
    input_size_width=256,
    input_size_height=256,
    min_scale=0.15625,
    max_scale=0.75,
    num_layers=4,
    strides=(16, 32, 32, 32),
    aspect_ratios=(1.0,),
    interpolated_scale_aspect_ratio=1.0,
    fixed_anchor_size=True,
)
