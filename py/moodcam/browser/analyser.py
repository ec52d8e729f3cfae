"""One frame through the nets: TF.js does pixels, moodcam.pipeline.FrameLogic does the rest.

Per frame (see FrameLogic's protocol):
  1. if the plan says so, read the detector input (frames.FrameReader: the letterboxed
     frame drawn at 128 px) -> BlazeFace -> 2 small outputs to numpy
     (896x16 + 896 floats, one read each) -> submit_detections;
  2. for each emotion request (a tracked face due for classification): read its crop
     at 64 px, grey + normalise in TF.js -> mini-Xception -> 7 floats per face -> submit_emotion;
  3. end_frame -> FrameResult for the page.
A frame where no net runs reads no pixels. With Settings.grab == "work" (and in
face-parts mode) the whole frame is read once instead and both inputs are TF.js
ops on it. All intermediate tensors are disposed by tf_scope; outputs are kept
only until read.

FrameTimes splits each frame: grab (pixels into tensors), detector and emotion
(preprocessing + execute), transfer (awaiting data() + copying to numpy), logic
(FrameLogic calls only), draw (the app's rendering); total is the whole frame.
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
    detector_ms: float = 0.0    # detector preprocessing + execute (no pixel read, no output read)
    emotion_ms: float = 0.0     # emotion preprocessing + execute
    total_ms: float = 0.0       # the whole frame, drawing included
    mesh_ms: float = 0.0        # FaceMesh (face-parts mode only)
    grab_ms: float = 0.0        # reading pixels into tensors (drawImage + getImageData + fromPixels)
    transfer_ms: float = 0.0    # JS -> Python: awaiting tensor.data() and copying into numpy
    logic_ms: float = 0.0       # pure FrameLogic calls: begin_frame, submit_*, emotion_requests, end_frame
    draw_ms: float = 0.0        # rendering the result (overlay, mood frame, face list)

    STAGES = ("grab_ms", "detector_ms", "emotion_ms", "mesh_ms", "transfer_ms", "logic_ms", "draw_ms")

    @property
    def python_ms(self) -> float:
        """What the HUD calls Python: the app logic itself (FrameLogic), not pixels, nets or interop."""
        return self.logic_ms

    @property
    def other_ms(self) -> float:
        """The rest of the frame: Python <-> JS calls, awaiting the event loop, bookkeeping."""
        return max(0.0, self.total_ms - sum(getattr(self, k) for k in self.STAGES))

    def as_dict(self) -> dict[str, float]:
        return {**{k: getattr(self, k) for k in self.STAGES}, "total_ms": self.total_ms,
                "python_ms": self.python_ms, "other_ms": self.other_ms}


class _Clock:
    """Adds elapsed milliseconds to one FrameTimes field: ``with clock("grab_ms"): ...``."""

    __slots__ = ("times", "key", "t0")

    def __init__(self, times: FrameTimes) -> None:
        self.times = times
        self.key = ""
        self.t0 = 0.0

    def __call__(self, key: str) -> "_Clock":
        self.key = key
        return self

    def __enter__(self) -> "_Clock":
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *_exc) -> None:
        setattr(self.times, self.key, getattr(self.times, self.key) + 1000 * (time.perf_counter() - self.t0))


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
        self._times = FrameTimes()  # the frame in progress (its stages add up here)
        self.grab_mode = "direct"   # Settings.grab
        self.mesh = None            # a browser.mesh.MeshStage once the FaceMesh model is loaded
        self.mesh_on = False        # face-parts mode: FaceMesh tracks the faces, the detector mostly rests

    def reset(self, settings: Settings, mirror: bool, start_ms: float) -> None:
        """A fresh FrameLogic (new camera, new photo)."""
        self.logic = FrameLogic(logic_config(settings, mirror), start_ms=start_ms)
        self.grab_mode = settings.grab
        if self.mesh is not None:
            self.mesh.reset()

    def reconfigure(self, settings: Settings, mirror: bool) -> None:
        """New cadence / threshold: FrameLogic keeps its tracks, votes and mood."""
        if self.logic is not None:
            self.logic.reconfigure(logic_config(settings, mirror))
        self.grab_mode = settings.grab

    async def analyse(self, source, width: int, height: int, timestamp_ms: float) -> FrameResult:
        logic = self.logic
        t0 = time.perf_counter()
        times = self._times = FrameTimes()
        clock = _Clock(times)
        with clock("logic_ms"):
            plan = logic.begin_frame(timestamp_ms, width, height)
        frame = None
        try:
            mesh = self.mesh_on and self.mesh is not None
            requests = ()
            if not plan.run_detector and not mesh:
                with clock("logic_ms"):
                    requests = logic.emotion_requests()
            # Read the whole frame only where a whole frame is used; nothing when no net runs.
            # (Face-parts mode draws each FaceMesh ROI from the source itself unless grab is "work".)
            work = self.grab_mode == "work" and (mesh or plan.run_detector or bool(requests))
            if work:
                with clock("grab_ms"), tf_scope("frame"):
                    frame = tf.keep(self.reader.grab(source, width, height))
            if mesh:
                if not plan.paused:
                    before = times.detector_ms + times.transfer_ms + times.grab_ms
                    m0 = time.perf_counter()
                    await self.mesh.frame(frame, logic, plan, self._detect, source)
                    times.mesh_ms = self.mesh.times.mesh_ms
                    # The mesh stage's FrameLogic calls (and its interop) are what it did besides
                    # the detector (timed by _detect) and FaceMesh itself.
                    rest = 1000 * (time.perf_counter() - m0) - times.mesh_ms \
                        - (times.detector_ms + times.transfer_ms + times.grab_ms - before)
                    times.logic_ms += max(0.0, rest)
            elif plan.run_detector:
                boxes, scores = await self._detect(frame, plan.letterbox, source, width, height)
                with clock("logic_ms"):
                    logic.submit_detections(boxes, scores)
            with clock("logic_ms"):
                requests = logic.emotion_requests()
            if requests:
                probs = await self._classify(frame, requests, source)
                with clock("logic_ms"):
                    for req, p in zip(requests, probs):
                        logic.submit_emotion(req.face_id, p)
            with clock("logic_ms"):
                result = logic.end_frame()
        except BaseException:
            # Leave FrameLogic ready for the next frame even when this one failed.
            logic.abort_frame()
            raise
        finally:
            if frame is not None:
                frame.dispose()
        times.total_ms = 1000 * (time.perf_counter() - t0)
        self.times = times
        return result

    async def _detect(self, frame, letterbox, source=None, width: int = 0,
                      height: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """BlazeFace on the work `frame`, or (frame None) on the letterbox drawn from `source`."""
        clock = _Clock(self._times)
        with tf_scope("detect"):
            if frame is None:
                with clock("grab_ms"):
                    pixels = self.reader.letterboxed(source, width, height, letterbox)
                with clock("detector_ms"):
                    x = self.reader.normalise(pixels, self.det_scale, self.det_offset)
            else:
                with clock("detector_ms"):
                    x = self.reader.detector_input(frame, letterbox, self.det_scale, self.det_offset)
            with clock("detector_ms"):
                outs = self.detector.graph.execute(x, self.det_outputs)
                regressors, classificators = tf.keep(outs[0]), tf.keep(outs[1])
        try:
            with clock("transfer_ms"):
                boxes = await to_numpy_async(regressors)
                scores = await to_numpy_async(classificators)
        finally:
            regressors.dispose()
            classificators.dispose()
        return boxes, scores

    async def _classify(self, frame, requests, source=None) -> np.ndarray:
        clock = _Clock(self._times)
        boxes_yxyx = [r.box for r in requests]
        with tf_scope("emotion"):
            n = len(boxes_yxyx)
            if frame is None:
                # Unrotated crops (logic_config never asks for rotation): drawn at the net's size.
                with clock("grab_ms"):
                    crops = self.reader.crops(source, [r.crop for r in requests], self.emo_size)
                with clock("emotion_ms"):
                    x = self.reader.emotion_from_crops(crops, self.emo_scale, self.emo_offset, self.emo_grey)
            else:
                with clock("transfer_ms"):
                    boxes = tf.tensor2d(js_float32(np.asarray(boxes_yxyx, dtype=np.float32)), to_js([n, 4]),
                                        "float32")
                    index = tf.tensor1d(js_int32(np.zeros(n, dtype=np.int32)), "int32")
                with clock("emotion_ms"):
                    x = self.reader.emotion_input(frame, boxes, index, self.emo_size, self.emo_scale,
                                                  self.emo_offset, self.emo_grey)
            with clock("emotion_ms"):
                probs = tf.keep(self.emotion.graph.execute(x))
        try:
            with clock("transfer_ms"):
                return await to_numpy_async(probs)
        finally:
            probs.dispose()
