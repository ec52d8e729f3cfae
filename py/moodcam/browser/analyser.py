"""The FrameAnalyser protocol, and the face mode: faces, their expression, the mood.

A FrameAnalyser turns one frame (any drawImage source and its size) into a result
for its renderer. Three modes implement it, none touching another's fields:
FaceAnalyser (here), FacePartsAnalyser (browser.parts_mode: FaceMesh tracks the
faces, this mode's emotion step and FrameLogic do the rest) and CustomAnalyser
(browser.custom_mode: a trained detector, labelled boxes, no mood).

One face-mode frame (FrameLogic's protocol, moodcam.pipeline):
  1. begin_frame -> plan; if plan.run_detector: DetectorStep on plan.tile (the whole frame
     unless the far range's tile sweep picked a tile) letterboxed -> submit_detections (the
     decoding is the manifest entry's DetectorSpec);
  2. for each emotion request (a tracked face due for classification):
     EmotionStep on its crop -> submit_emotion (probabilities and features, read in one
     download; with a calibration set, FrameLogic votes on the calibrated probabilities);
  3. end_frame -> FrameResult, every position in source pixels (the renderer
     mirrors a selfie picture when it draws).
A frame where no net runs reads no pixels. With Settings.grab == "work" the
whole frame is read once and both inputs are TF.js ops on it.
"""
from __future__ import annotations

import time
from typing import Any, Protocol

from ..calibration import CalibrationHead
from ..detection.pipeline import DetectorSpec
from ..detection.tiles import TileConfig
from ..pipeline import FrameLogic, FrameLogicConfig, FrameResult
from ..schedule import ScheduleConfig
from ..tracking.tracker import TrackerConfig
from .frames import FrameReader
from .interop import tf, tf_scope
from .nets import DetectorStep, EmotionStep
from .perf import Clock, FrameTimes
from .settings import Settings


class FrameAnalyser(Protocol):
    times: FrameTimes                      # the last frame's split

    def reset(self, settings: Settings, start_ms: float) -> None:
        """Start afresh (new camera, new photo)."""

    def reconfigure(self, settings: Settings) -> None:
        """New cadence / threshold; what was tracked is kept."""

    async def analyse(self, source: Any, width: int, height: int, timestamp_ms: float) -> Any:
        """One frame -> the result its renderer shows."""


MAX_FACES = 6        # faces tracked at once, each with its own vote


def logic_config(detector: DetectorSpec, settings: Settings) -> FrameLogicConfig:
    """FrameLogic's knobs from the manifest's detector spec and the person's settings."""
    return FrameLogicConfig(
        detector=detector,
        schedule=ScheduleConfig(detector_every_n_frames=settings.detect_every,
                                emotion_every_n_frames=settings.emotion_every),
        tracker=TrackerConfig(max_tracks=MAX_FACES),
        # The detector input is drawn with whole-pixel padding (tf.pad takes integers).
        round_letterbox=True,
        # Far range sweeps 2x2 tiles too (moodcam.detection.tiles): faces across a room, at no
        # extra runs (README "Near and far"). The parts mode's FaceMesh stage ignores the tiles.
        tiles=TileConfig() if settings.range == "far" else None,
    )


class FaceAnalyser:
    def __init__(self, detect: DetectorStep, classify: EmotionStep, reader: FrameReader) -> None:
        self.detect = detect
        self.classify = classify
        self.reader = reader
        self.logic = FrameLogic(self._config(Settings()))
        self.times = FrameTimes()
        self.grab_mode = "direct"
        self.calibration: CalibrationHead | None = None     # kept across reset() (new camera, photo)

    def _config(self, settings: Settings) -> FrameLogicConfig:
        entry = self.detect.model.entry
        return logic_config(entry.detector_spec(min_score=settings.threshold), settings)

    def reset(self, settings: Settings, start_ms: float) -> None:
        self.logic = FrameLogic(self._config(settings), start_ms=start_ms)
        self.logic.set_calibration(self.calibration)
        self.grab_mode = settings.grab

    def set_calibration(self, head: CalibrationHead | None) -> None:
        """A person's calibration head (None: the generic net) for every later frame.

        ValueError when the head does not fit this emotion net (its feature size, or a graph
        without the `features` output)."""
        if head is not None and head.feature_size != self.classify.feature_size:
            raise ValueError(f"the calibration expects {head.feature_size} features, the emotion net gives "
                             f"{self.classify.feature_size or 'none'}; teach it anew with this model")
        self.calibration = head
        self.logic.set_calibration(head)

    def reconfigure(self, settings: Settings) -> None:
        self.logic.reconfigure(self._config(settings))
        self.grab_mode = settings.grab

    def use_detector(self, detect: DetectorStep, settings: Settings) -> None:
        """Another face detector (near/far range): its spec decodes from the next frame on."""
        self.detect = detect
        self.reconfigure(settings)

    def grab_work_frame(self, source, width: int, height: int, times: FrameTimes):
        """The whole frame as a kept tensor (Settings.grab "work"); the caller disposes it."""
        with Clock(times)("grab_ms"), tf_scope("frame"):
            return tf.keep(self.reader.grab(source, width, height))

    async def emotions(self, times: FrameTimes, source, frame=None) -> None:
        """Step 2 for every face due: crops -> emotion net -> submit_emotion."""
        clock = Clock(times)
        with clock("logic_ms"):
            requests = self.logic.emotion_requests()
        if requests:
            probs, features = await self.classify(times, requests, source, frame)   # [n, 7], [n, D] | None
            with clock("logic_ms"):
                for i, request in enumerate(requests):
                    self.logic.submit_emotion(request.face_id, probs[i], None if features is None else features[i])

    async def analyse(self, source, width: int, height: int, timestamp_ms: float) -> FrameResult:
        logic = self.logic
        t0 = time.perf_counter()
        times = FrameTimes()
        clock = Clock(times)
        with clock("logic_ms"):
            plan = logic.begin_frame(timestamp_ms, width, height)
        frame = None
        try:
            due = plan.run_detector or bool(logic.emotion_requests())
            if self.grab_mode == "work" and due:
                frame = self.grab_work_frame(source, width, height, times)
            if plan.run_detector:
                boxes, scores = await self.detect(times, plan.detector_letterbox, source, width, height, frame,
                                                  plan.tile)
                with clock("logic_ms"):
                    logic.submit_detections(boxes, scores)
            await self.emotions(times, source, frame)
            with clock("logic_ms"):
                result = logic.end_frame()
        except BaseException:
            logic.abort_frame()      # leave FrameLogic ready for the next frame even when this one failed
            raise
        finally:
            if frame is not None:
                frame.dispose()
        times.total_ms = 1000 * (time.perf_counter() - t0)
        self.times = times
        return result
