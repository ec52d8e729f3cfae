"""Custom-detector mode: a detector trained with `build.py train-detector`, chosen in the page.

`?model=<name>` (or the "Detect" select, stored in the settings) picks any
models/manifest.json entry that is an object detector. Its files are verified
like every other model (browser.model_store); its raw outputs are decoded by
the same Python as BlazeFace's (moodcam.detection with the entry's
DetectorSpec). Emotion and mood are off in this mode; the page says what it
detects (browser.render_custom draws each box with its class and score).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..detection.letterbox import Letterbox
from ..detection.pipeline import FaceDetectorPostprocess
from ..manifest import Manifest
from . import failures
from .failures import Failure
from .nets import DetectorStep
from .perf import Clock, FrameTimes
from .settings import FACES, Settings

FACES_OPTION = "faces (BlazeFace)"


def model_options(manifest: Manifest) -> list[list[str]]:
    """The Detect select: faces, then every custom detector of the manifest."""
    return [[FACES, FACES_OPTION]] + [[n, n] for n in manifest.detector_names()]


def unavailable(name: str, manifest: Manifest) -> Failure | None:
    """Why `name` cannot run in this mode (unknown, or not a detector), or None."""
    names = [FACES_OPTION, *manifest.detector_names()]
    entry = manifest.get(name)
    if entry is None:
        return failures.unknown_model(name, names)
    if not entry.is_detector:
        return failures.not_a_detector(name, entry.task, names)
    return None


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]          # source pixels (xyxy)


@dataclass(frozen=True)
class CustomResult:
    frame_index: int
    timestamp_ms: float
    detections: tuple[Detection, ...]


class CustomAnalyser:
    """The FrameAnalyser of one custom detector: every frame detected, no tracking, no mood."""

    def __init__(self, detect: DetectorStep, settings: Settings) -> None:
        self.detect = detect
        self.entry = detect.model.entry
        self.labels = self.entry.labels or ("object",)
        self.times = FrameTimes()
        self._letterbox: Letterbox | None = None
        self._frame_index = -1
        self.reconfigure(settings)

    def reset(self, settings: Settings, start_ms: float) -> None:
        self.reconfigure(settings)

    def reconfigure(self, settings: Settings) -> None:
        self.spec = self.entry.detector_spec(min_score=settings.threshold)
        self.post = FaceDetectorPostprocess(self.spec)

    def letterbox(self, width: int, height: int) -> Letterbox:
        lb = self._letterbox
        if lb is None or lb.source_size != (float(width), float(height)):
            tw, th = self.spec.input_size
            lb = self._letterbox = Letterbox.fit(width, height, tw, th, round_padding=True)
        return lb

    async def analyse(self, source, width: int, height: int, timestamp_ms: float) -> CustomResult:
        t0 = time.perf_counter()
        times = FrameTimes()
        self._frame_index += 1
        lb = self.letterbox(width, height)
        raw_boxes, raw_scores = await self.detect(times, lb, source, width, height)
        with Clock(times)("logic_ms"):
            det = self.post(raw_boxes, raw_scores, lb)
            classes = det.labels if det.labels is not None else np.zeros(len(det), np.int64)
            # b is a row of the (N, 4) box array: four floats
            found = tuple(Detection(self.labels[int(c)], float(s), tuple(float(v) for v in b))  # type: ignore[arg-type]
                          for c, s, b in zip(classes, det.scores, det.boxes.astype(np.float64)))
        times.total_ms = 1000 * (time.perf_counter() - t0)
        self.times = times
        return CustomResult(self._frame_index, float(timestamp_ms), found)
