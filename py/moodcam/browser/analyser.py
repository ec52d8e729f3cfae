"""One frame through the nets: TF.js does pixels, moodcam.pipeline.FrameLogic does the rest.

Per frame (see FrameLogic's protocol):
  1. grab: draw the video into the small work canvas, one tf.browser.fromPixels;
  2. if the plan says so, letterbox in TF.js -> BlazeFace -> 2 small outputs to numpy
     (896x16 + 896 floats, one read each) -> submit_detections;
  3. for each emotion request (a tracked face due for classification): cropAndResize
     + grey + normalise in TF.js -> mini-Xception -> 7 floats per face -> submit_emotion;
  4. end_frame -> FrameResult for the page.
All intermediate tensors are disposed by tf_scope; outputs are kept only until read.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from pyodide.ffi import to_js

from ..detection.pipeline import BLAZEFACE_SHORT_RANGE_SPEC, DetectorSpec
from ..pipeline import FrameLogic, FrameLogicConfig, FrameResult
from ..schedule import ScheduleConfig
from .frames import FrameReader
from .interop import js_float32, js_int32, tf, tf_scope, to_numpy_async
from .models import LoadedModel
from .settings import Settings


@dataclass
class FrameTimes:
    detector_ms: float = 0.0
    emotion_ms: float = 0.0
    total_ms: float = 0.0

    @property
    def python_ms(self) -> float:
        # Everything that is not waiting on a net: FrameLogic, drawing, interop.
        return max(0.0, self.total_ms - self.detector_ms - self.emotion_ms)


def _norm(spec: dict) -> tuple[float, float]:
    n = spec.get("input", {}).get("normalisation", {})
    return float(n.get("scale", 1 / 127.5)), float(n.get("offset", -1.0))


def _output_tensor(spec: dict, key: str) -> str:
    for out in spec.get("outputs", []):
        if out.get("key") == key:
            return str(out["tensor"])
    raise KeyError(f"the manifest names no output {key!r}")


def logic_config(settings: Settings, mirror: bool) -> FrameLogicConfig:
    """FrameLogic's knobs from the person's settings."""
    spec = BLAZEFACE_SHORT_RANGE_SPEC
    spec = DetectorSpec(spec.anchors, replace(spec.decode, min_score_thresh=settings.threshold),
                        replace(spec.nms, min_score=settings.threshold))
    return FrameLogicConfig(
        detector=spec,
        schedule=ScheduleConfig(detector_every_n_frames=settings.detect_every,
                                emotion_every_n_frames=settings.emotion_every),
        mirror_output=mirror,
        # The detector input is drawn with whole-pixel padding (tf.pad takes integers).
        round_letterbox=True,
    )


class Analyser:
    def __init__(self, detector: LoadedModel, emotion: LoadedModel, reader: FrameReader) -> None:
        self.detector = detector
        self.emotion = emotion
        self.reader = reader
        self.det_scale, self.det_offset = _norm(detector.spec)
        self.emo_scale, self.emo_offset = _norm(emotion.spec)
        self.det_outputs = to_js([_output_tensor(detector.spec, "regressors"),
                                  _output_tensor(detector.spec, "classificators")])
        size = emotion.spec.get("input", {}).get("size", [64, 64])
        self.emo_size = (int(size[1]), int(size[0]))
        self.emo_grey = "grey" in str(emotion.spec.get("input", {}).get("color", "grey"))
        self.logic: FrameLogic | None = None
        self.times = FrameTimes()

    def reset(self, settings: Settings, mirror: bool, start_ms: float) -> None:
        """A fresh FrameLogic (new camera, new photo, new settings)."""
        self.logic = FrameLogic(logic_config(settings, mirror), start_ms=start_ms)

    async def analyse(self, source, width: int, height: int, timestamp_ms: float) -> FrameResult:
        logic = self.logic
        t0 = time.perf_counter()
        times = FrameTimes()
        plan = logic.begin_frame(timestamp_ms, width, height)
        try:
            with tf_scope("frame"):
                frame = tf.keep(self.reader.grab(source, width, height))
            try:
                if plan.run_detector:
                    d0 = time.perf_counter()
                    boxes, scores = await self._detect(frame, plan.letterbox)
                    times.detector_ms = 1000 * (time.perf_counter() - d0)
                    logic.submit_detections(boxes, scores)
                requests = logic.emotion_requests()
                if requests:
                    e0 = time.perf_counter()
                    probs = await self._classify(frame, [r.box for r in requests])
                    times.emotion_ms = 1000 * (time.perf_counter() - e0)
                    for req, p in zip(requests, probs):
                        logic.submit_emotion(req.face_id, p)
            finally:
                frame.dispose()
            result = logic.end_frame()
        except BaseException:
            # Leave FrameLogic ready for the next frame even when this one failed.
            if logic._frame is not None:
                logic.end_frame()
            raise
        times.total_ms = 1000 * (time.perf_counter() - t0)
        self.times = times
        return result

    async def _detect(self, frame, letterbox) -> tuple[np.ndarray, np.ndarray]:
        with tf_scope("detect"):
            x = self.reader.detector_input(frame, letterbox, self.det_scale, self.det_offset)
            outs = self.detector.graph.execute(x, self.det_outputs)
            regressors, classificators = tf.keep(outs[0]), tf.keep(outs[1])
        try:
            boxes = await to_numpy_async(regressors)
            scores = await to_numpy_async(classificators)
        finally:
            regressors.dispose()
            classificators.dispose()
        return boxes, scores

    async def _classify(self, frame, boxes_yxyx) -> np.ndarray:
        with tf_scope("emotion"):
            n = len(boxes_yxyx)
            boxes = tf.tensor2d(js_float32(np.asarray(boxes_yxyx, dtype=np.float32)), to_js([n, 4]), "float32")
            index = tf.tensor1d(js_int32(np.zeros(n, dtype=np.int32)), "int32")
            x = self.reader.emotion_input(frame, boxes, index, self.emo_size, self.emo_scale, self.emo_offset,
                                          self.emo_grey)
            probs = tf.keep(self.emotion.graph.execute(x))
        try:
            return await to_numpy_async(probs)
        finally:
            probs.dispose()
