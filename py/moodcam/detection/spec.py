"""A models/manifest.json detector entry -> the DetectorSpec that decodes its outputs.

The manifest describes every SSD detector the same way (moodcam_tools.convert
for the shipped BlazeFace, moodcam_tools.train.export for custom detectors):
``anchors`` holds SsdAnchorsCalculator options, ``decoding`` the
TensorsToDetectionsCalculator options plus ``nms``. Pure: used by the app (to
decode a custom detector chosen with ?model=<name>) and by the exporter (to
check that the entry it writes is decodable).
"""
from __future__ import annotations

import dataclasses
from dataclasses import replace

from .anchors import SsdAnchorOptions
from .decode import DecodeOptions
from .nms import NmsOptions
from .pipeline import DetectorSpec

__all__ = ["spec_from_entry", "entry_labels", "is_detector_entry", "detector_names", "EntryError"]

DETECTION_TASK = "object_detection"


class EntryError(ValueError):
    """The manifest entry does not describe a decodable detector (the message says what is wrong)."""


def _pick(cls, data: dict) -> dict:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names}


def spec_from_entry(entry: dict, *, min_score: float | None = None) -> DetectorSpec:
    """The DetectorSpec a manifest entry describes; ``min_score`` overrides its score threshold."""
    try:
        a, d = entry["anchors"], entry["decoding"]
        nms = d["nms"]
        anchors = SsdAnchorOptions(**_pick(SsdAnchorOptions, a))
        decode = DecodeOptions(**_pick(DecodeOptions, d))
        nms_options = NmsOptions(algorithm=nms["algorithm"], min_suppression_threshold=nms["min_suppression_threshold"],
                                 min_score=d["min_score_thresh"])
        if min_score is not None:
            decode = replace(decode, min_score_thresh=float(min_score))
            nms_options = replace(nms_options, min_score=float(min_score))
        spec = DetectorSpec(anchors, decode, nms_options)
    except KeyError as error:
        raise EntryError(f"the entry has no {error.args[0]!r} field") from None
    except (TypeError, ValueError) as error:
        raise EntryError(str(error)) from None
    labels = entry.get("labels")
    if labels is not None and len(labels) != spec.decode.num_classes:
        raise EntryError(f"{len(labels)} labels for {spec.decode.num_classes} classes")
    return spec


def entry_labels(entry: dict) -> tuple[str, ...]:
    """Class names in output order ("object" for a single unnamed class)."""
    labels = entry.get("labels")
    if labels:
        return tuple(str(v) for v in labels)
    n = int(entry.get("decoding", {}).get("num_classes", 1))
    return ("object",) if n == 1 else tuple(f"class {i}" for i in range(n))


def is_detector_entry(entry: dict) -> bool:
    """A custom detector the app can run: task object_detection with anchors and decoding."""
    return (isinstance(entry, dict) and entry.get("task") == DETECTION_TASK
            and isinstance(entry.get("anchors"), dict) and isinstance(entry.get("decoding"), dict))


def detector_names(models: dict) -> list[str]:
    """Names of the manifest's custom detectors ({name: entry}), sorted."""
    return sorted(name for name, entry in models.items() if is_detector_entry(entry))
