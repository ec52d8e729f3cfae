"""FaceMesh on TF.js, tracked frame to frame like MediaPipe (the face-parts mode's stage).

One frame (browser.parts_mode calls it instead of the face mode's plain detector
step while the "face parts" or "mesh key points" view is on):

  1. the FaceMesh tracker (moodcam.landmarks.FaceMeshTracker) says whether the
     detector must run: only while no face is tracked (MediaPipe's rule), plus,
     while tracking fewer than ``max_faces``, a look for more faces every
     ``search_every`` frames (MediaPipe would run it on every frame then);
  2. BlazeFace (the shared browser.nets.DetectorStep) -> Detections in frame px ->
     ``submit_detections``;
  3. per tracked face, the 192 x 192 crop, then x/255 -> FaceMesh -> landmarks
     [1, 1404] + face-flag logit -> ``submit_landmarks``. The crop is either
     drawn straight from the video into a 192 px canvas with the ROI's
     transform (RoiReader; default, Settings.grab "direct": no whole-frame read,
     ~30 % cheaper per frame here) or ``tf.image.transform`` of the work frame
     with the request's 8 numbers scaled to work pixels (grab "work"); both
     bilinear, with MediaPipe's border replication (fillMode 'nearest');
  4. ``end_frame``; the faces go to FrameLogic through ``submit_faces`` (box =
     landmark bounds, key points in BlazeFace's order), so emotion and mood
     keep working while the detector is mostly off.

Tensors: everything is made inside tf_scope; only the two outputs per face are
kept until read, then disposed. No proxies are created per frame.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..landmarks.bridge import canvas_transform, mesh_detections, roi_inside
from ..landmarks.mesh import FaceMeshTracker, MeshConfig, MeshResult
from ..landmarks.parts import DEFAULT_LAYOUT, FacePartLayout
from .interop import js_array, js_float32, new_canvas, tf, tf_scope
from .model_store import LoadedModel
from .nets import DetectorStep, read_outputs
from .perf import FrameTimes

MESH = "face_landmark"
MAX_FACES = 2          # faces tracked at once in face-parts mode
SEARCH_EVERY = 15      # while tracking fewer than MAX_FACES: look for more faces every N frames


def layout_from_parts(parts) -> FacePartLayout:
    """The part layout from the manifest's face_landmark "parts" (the built-in copy if absent)."""
    return FacePartLayout.from_edges(parts) if parts else DEFAULT_LAYOUT


class RoiReader:
    """Draws one FaceMesh ROI straight from the video into a size x size canvas (no whole-frame read).

    Like tf.image.transform with fillMode 'nearest': where the square leaves the frame the
    edge pixels are replicated (1-pixel edge strips stretched outwards, drawn first).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.canvas, self.ctx = new_canvas(size, size, read_often=True)

    def read(self, source, width: int, height: int, transform):
        """int32 [1, size, size, 3] (inside a tf_scope)."""
        ctx, n = self.ctx, self.size
        ctx.setTransform(1, 0, 0, 1, 0, 0)
        ctx.fillStyle = "#000000"
        ctx.fillRect(0, 0, n, n)
        ctx.setTransform(*canvas_transform(transform, n))
        w, h = int(width), int(height)
        if not roi_inside(transform, n, w, h):
            big = 4 * max(w, h)
            ctx.imageSmoothingEnabled = False
            for sx, sy, sw, sh, dx, dy, dw, dh in (
                    (0, 0, 1, h, -big, 0, big, h), (w - 1, 0, 1, h, w, 0, big, h),
                    (0, 0, w, 1, 0, -big, w, big), (0, h - 1, w, 1, 0, h, w, big),
                    (0, 0, 1, 1, -big, -big, big, big), (w - 1, 0, 1, 1, w, -big, big, big),
                    (0, h - 1, 1, 1, -big, h, big, big), (w - 1, h - 1, 1, 1, w, h, big, big)):
                ctx.drawImage(source, sx, sy, sw, sh, dx, dy, dw, dh)
        ctx.imageSmoothingEnabled = True
        ctx.imageSmoothingQuality = "low"          # bilinear, like tf.image.transform
        ctx.drawImage(source, 0, 0, w, h, 0, 0, w, h)
        ctx.setTransform(1, 0, 0, 1, 0, 0)
        return tf.expandDims(tf.browser.fromPixels(ctx.getImageData(0, 0, n, n), 3), 0)


@dataclass
class MeshTimes:
    mesh_ms: float = 0.0         # FaceMesh crops + inference + reads, this frame
    detector_ms: float = 0.0     # BlazeFace, when the tracker asked for it
    faces: int = 0


class MeshStage:
    def __init__(self, model: LoadedModel, *, max_faces: int = MAX_FACES, search_every: int = SEARCH_EVERY,
                 min_presence: float = 0.5) -> None:
        entry = model.entry
        self.model = model
        self.scale, self.offset = entry.input.normalisation.scale, entry.input.normalisation.offset
        self.size = entry.input.width
        self.outputs = js_array([entry.output("landmarks"), entry.output("face_flag")])
        self.layout = layout_from_parts(entry.parts)
        self.config = MeshConfig(max_faces=max_faces, min_presence=min_presence, input_size=self.size)
        self.search_every = max(1, int(search_every))
        self.tracker = FaceMeshTracker(self.config)
        self.result: MeshResult | None = None
        self.times = MeshTimes()
        self._last_search: int | None = None
        self._fresh = False
        self._roi_reader: RoiReader | None = None

    def reset(self) -> None:
        """Forget the tracked faces and the counters (new camera, photo, settings, mode switched on).

        Safe while a frame is in flight: the fresh tracker is made when the next frame starts."""
        self._fresh = True
        self.result = None
        self.times = MeshTimes()

    def _detector_wanted(self, plan) -> bool:
        if not plan.run_detector:
            return False
        if plan.tracked == 0:
            return True                      # nothing tracked: MediaPipe's rule
        due = self._last_search is None or plan.frame_index - self._last_search >= self.search_every
        return due

    async def frame(self, times: FrameTimes, logic, plan, detect: DetectorStep, source, frame=None) -> MeshResult:
        """One frame in face-parts mode (see the module doc). `plan` is FrameLogic's plan;
        `detect` is the face mode's DetectorStep (it adds its own times to `times`).

        `frame`: the work frame tensor, or None to draw each ROI straight from `source` (the
        video frame / photo): no whole-frame read (Settings.grab "direct")."""
        if self._fresh:
            self.tracker = FaceMeshTracker(self.config)
            self._last_search = None
            self._fresh = False
        mesh_times = MeshTimes()
        w, h = plan.letterbox.source_size
        mplan = self.tracker.begin_frame(plan.timestamp_ms, w, h)
        try:
            if self._detector_wanted(mplan):
                d0 = time.perf_counter()
                boxes, scores = await detect(times, plan.letterbox, source, int(w), int(h), frame)
                mesh_times.detector_ms = 1000 * (time.perf_counter() - d0)
                self.tracker.submit_detections(logic.postprocess(boxes, scores, plan.letterbox))
                self._last_search = mplan.frame_index
            requests = self.tracker.requests()
            if requests:
                m0 = time.perf_counter()
                transforms = [r.transform for r in requests]
                if frame is None:
                    outs = await self._landmarks_direct(times, source, int(w), int(h), transforms)
                else:
                    outs = await self._landmarks(times, frame, transforms, float(frame.shape[1]) / float(w))
                for req, (landmarks, flag) in zip(requests, outs):
                    self.tracker.submit_landmarks(req.face_id, landmarks, flag)
                mesh_times.mesh_ms = 1000 * (time.perf_counter() - m0)
            result = self.tracker.end_frame()
        except BaseException:
            self.tracker.reset()             # leave it between frames, faces re-detected next frame
            raise
        mesh_times.faces = len(result.faces)
        times.mesh_ms += mesh_times.mesh_ms
        self.times = mesh_times
        self.result = result
        logic.submit_faces(mesh_detections(result.faces))
        return result

    async def _run(self, times: FrameTimes, crops) -> list[tuple[np.ndarray, np.ndarray]]:
        """FaceMesh on each normalised crop tensor from `crops` (made inside one tf_scope)."""
        kept: list = []
        with tf_scope("mesh"):
            for x in crops():
                outs = self.model.graph.execute(x, self.outputs)
                kept += [tf.keep(outs[0]), tf.keep(outs[1])]
        values = await read_outputs(kept, times)
        return [(values[i], values[i + 1]) for i in range(0, len(values), 2)]

    async def _landmarks_direct(self, times: FrameTimes, source, width: int, height: int, transforms) -> list:
        if self._roi_reader is None:
            self._roi_reader = RoiReader(self.size)
        reader = self._roi_reader

        def crops():
            for t in transforms:
                pixels = reader.read(source, width, height, t)
                yield tf.add(tf.mul(tf.cast(pixels, "float32"), self.scale), self.offset)
        return await self._run(times, crops)

    async def _landmarks(self, times: FrameTimes, frame, transforms, work_per_source: float) -> list:
        def crops():
            image = tf.expandDims(tf.cast(frame, "float32"), 0)
            size = js_array([self.size, self.size])
            for t in transforms:
                t = np.asarray(t, dtype=np.float64).copy()
                t[:6] *= work_per_source         # output px -> source px, then source -> work px
                matrix = tf.tensor2d(js_float32(t[None, :]), js_array([1, 8]), "float32")
                crop = tf.image.transform(image, matrix, "bilinear", "nearest", 0, size)
                yield tf.add(tf.mul(crop, self.scale), self.offset)
        return await self._run(times, crops)
