"""The manifest's two detector blocks, ``anchors`` and ``decoding``, written from the core's typed
options (one source of truth).

``anchors`` holds the fields of :class:`moodcam.detection.anchors.SsdAnchorOptions`, ``decoding``
those of :class:`moodcam.detection.decode.DecodeOptions` plus ``nms`` (from
:class:`moodcam.detection.nms.NmsOptions`); both keep the dataclasses' field names, so
:func:`moodcam.detection.spec.spec_from_entry` and :mod:`moodcam.manifest` read them straight back
into the same options. Descriptive keys ride along (``calculator``, ``num_anchors``, ``layout``;
``box_format``, ``keypoints``, ``formula``). Used by ``convert.specs`` (the shipped BlazeFace
models) and ``train.export`` (custom detectors). Pure: no TensorFlow.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import Any

from moodcam.detection.anchors import SsdAnchorOptions, generate_anchors
from moodcam.detection.decode import DecodeOptions
from moodcam.detection.nms import NmsOptions

__all__ = ["anchors_block", "decoding_block", "box_formula"]

# Never written: no detector moodcam packages uses explicit anchors or multiscale generation,
# nor narrows the classes it decodes.
_ANCHOR_FIELDS_NOT_WRITTEN = frozenset({"fixed_anchors", "multiscale_anchor_generation"})
_DECODE_FIELDS_NOT_WRITTEN = frozenset({"allow_classes", "ignore_classes"})


def _fields(options: Any, not_written: Collection[str]) -> dict[str, Any]:
    """The dataclass's fields as JSON values (tuples as lists), in field order, less ``not_written``."""
    return {f.name: (list(value) if isinstance(value := getattr(options, f.name), tuple) else value)
            for f in dataclasses.fields(options) if f.name not in not_written}


def anchors_block(options: SsdAnchorOptions, *, layout: str, leave_out: Collection[str] = ()) -> dict[str, Any]:
    """``anchors``: the SsdAnchorsCalculator options, the anchor count they generate and ``layout``
    (how the anchors lie on the feature maps, in words). ``leave_out``: fields an entry has never
    carried (they then read back as their defaults)."""
    return {**_fields(options, _ANCHOR_FIELDS_NOT_WRITTEN | set(leave_out)),
            "calculator": "SsdAnchorsCalculator",
            "num_anchors": int(generate_anchors(options).shape[0]),
            "layout": layout}


def decoding_block(decode: DecodeOptions, nms: NmsOptions, *, keypoints: Sequence[str], formula: str,
                   leave_out: Collection[str] = (), class_agnostic: bool | None = None) -> dict[str, Any]:
    """``decoding``: the TensorsToDetectionsCalculator options, the key point names, ``formula`` (the
    decoding in words) and ``nms``. The NMS score threshold is not repeated: it is
    ``min_score_thresh``. ``class_agnostic``, when given, is written into ``nms`` (custom detectors
    suppress across labels)."""
    nms_block: dict[str, Any] = {"algorithm": nms.algorithm, "min_suppression_threshold": nms.min_suppression_threshold,
                                 "overlap_type": "intersection_over_union"}
    if class_agnostic is not None:
        nms_block["class_agnostic"] = class_agnostic
    return {**_fields(decode, _DECODE_FIELDS_NOT_WRITTEN | set(leave_out)),
            "box_format": "xywh",
            "keypoints": list(keypoints),
            "nms": nms_block,
            "formula": formula}


def box_formula(d: DecodeOptions) -> str:
    """How a box comes out of the regressors ``r`` and its anchor, as decode() computes it."""
    size = "exp(r[{i}]/{k:g})*anchor.{a}" if d.apply_exponential_on_box_size else "r[{i}]/{k:g}*anchor.{a}"
    return (f"x = r[0]/{d.x_scale:g}*anchor.w + anchor.x; y = r[1]/{d.y_scale:g}*anchor.h + anchor.y; "
            f"w = {size.format(i=2, k=d.w_scale, a='w')}; h = {size.format(i=3, k=d.h_scale, a='h')} "
            "(all 0..1 of the input)")
