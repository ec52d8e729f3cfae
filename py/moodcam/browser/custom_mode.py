"""Custom-detector mode: a detector trained with `build.py train-detector`, chosen in the page.

`?model=<name>` (or the "Detect" select, stored in the settings) picks any
models/manifest.json entry that is an object detector. Its files are verified
like every other model (browser.model_store); its raw outputs are decoded by
the same Python as BlazeFace's (moodcam.detection with the entry's
DetectorSpec). Emotion and mood are off in this mode; the page says what it
detects (browser.render_custom draws each box with its class and score).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..detection.letterbox import Letterbox
from ..detection.pipeline import FaceDetectorPostprocess
from ..manifest import Manifest
from . import failures
from .failures import Failure
from .nets import DetectorStep
from .runner import FrameJob, Stage
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
    """The FrameAnalyser of one custom detector: every frame detected, no tracking, no mood.

    Stages: detect (letterbox + the net + the read), decode (DetectorSpec -> labelled boxes)."""

    def __init__(self, detect: DetectorStep, settings: Settings) -> None:
        self.detect = detect
        self.entry = detect.model.entry
        self.labels = self.entry.labels or ("object",)
        self._letterbox: Letterbox | None = None
        self._frame_index = -1
        self.reconfigure(settings)
        self._stages = (Stage("detect", self._detect), Stage("decode", self._decode, "logic_ms"))

    @property
    def stages(self) -> Sequence[Stage]:
        return self._stages

    def abort(self, job: FrameJob) -> None:
        return            # nothing carried from frame to frame but the frame index

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

    async def _detect(self, job: FrameJob) -> None:
        f = job.frame
        self._frame_index += 1
        lb = self.letterbox(f.width, f.height)
        job.plan = lb, await self.detect(job.times, lb, f.image, f.width, f.height)

    def _decode(self, job: FrameJob) -> None:
        lb, (raw_boxes, raw_scores) = job.plan
        det = self.post(raw_boxes, raw_scores, lb)
        classes = det.labels if det.labels is not None else np.zeros(len(det), np.int64)
        found = tuple(Detection(self.labels[int(c)], float(s), xyxy(b))
                      for c, s, b in zip(classes, det.scores, det.boxes.astype(np.float64)))
        job.result = CustomResult(self._frame_index, float(job.frame.timestamp_ms), found)


def xyxy(row: np.ndarray) -> tuple[float, float, float, float]:
    """One row of an (N, 4) box array as four floats."""
    x0, y0, x1, y1 = (float(v) for v in row)
    return x0, y0, x1, y1
