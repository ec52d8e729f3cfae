"""The two net steps every mode shares: pixels -> TF.js -> numpy, with nothing left behind.

DetectorStep (any SSD detector of the manifest: BlazeFace or a custom one) and
EmotionStep each do: read pixels (browser.frames), normalise as the manifest
entry says, execute, keep only the outputs, read them into numpy, dispose. All
intermediate tensors live inside tf_scope. Times go to the FrameTimes passed in.

Shapes (BlazeFace short range shown; the entry decides):
  source (video frame / photo)  -> letterbox drawn at 128x128   int32  [1, 128, 128, 3]
  normalised                                                    float32[1, 128, 128, 3]
  execute -> regressors [1, 896, 16], classificators [1, 896, 1] -> numpy
  emotion: n crops at 64x64 -> grey, normalised float32[n, 64, 64, 1] -> probabilities [n, 7]
           and features [n, 128] (the manifest's `features` output), concatenated on the device to
           [n, 7 + 128] so both come back in one read
"""
from __future__ import annotations

import numpy as np

from ..detection.letterbox import Letterbox
from ..detection.tiles import Tile
from .frames import FrameReader
from .interop import js_array, js_float32, js_int32, tf, tf_scope, to_numpy_async
from .model_store import LoadedModel
from .perf import Clock, FrameTimes


async def read_outputs(outputs: list, times: FrameTimes) -> list[np.ndarray]:
    """Read kept output tensors into numpy, then dispose them (whatever happens)."""
    try:
        with Clock(times)("transfer_ms"):
            return [await to_numpy_async(t) for t in outputs]
    finally:
        for t in outputs:
            t.dispose()


class DetectorStep:
    def __init__(self, model: LoadedModel, reader: FrameReader) -> None:
        entry = model.entry
        self.model = model
        self.reader = reader
        self.scale, self.offset = entry.input.normalisation.scale, entry.input.normalisation.offset
        self._outputs = js_array([entry.output("regressors"), entry.output("classificators")])

    async def __call__(self, times: FrameTimes, letterbox: Letterbox, source=None, width: int = 0,
                       height: int = 0, frame=None, tile: Tile | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(raw_boxes, raw_scores) for `letterbox`: drawn from `source`, or cut from the work `frame`.

        `tile`: the part of the frame to look at (the letterbox is then the tile's); None: all of it."""
        clock = Clock(times)
        with tf_scope("detect"):
            if frame is None:
                with clock("grab_ms"):
                    pixels = self.reader.letterboxed(source, width, height, letterbox, tile)
                with clock("detector_ms"):
                    x = self.reader.normalise(pixels, self.scale, self.offset)
            else:
                with clock("detector_ms"):
                    x = self.reader.detector_input(frame, letterbox, self.scale, self.offset, tile)
            with clock("detector_ms"):
                outs = self.model.graph.execute(x, self._outputs)
                kept = [tf.keep(outs[0]), tf.keep(outs[1])]
        boxes, scores = await read_outputs(kept, times)
        return boxes, scores


class EmotionStep:
    def __init__(self, model: LoadedModel, reader: FrameReader) -> None:
        spec = model.entry.input
        self.model = model
        self.reader = reader
        self.labels = model.entry.labels
        self.scale, self.offset = spec.normalisation.scale, spec.normalisation.offset
        self.size = (spec.width, spec.height)
        self.grey = spec.grey
        entry = model.entry
        self.feature_size = entry.feature_size          # None: a graph without `features` (probabilities only)
        keys = ["probabilities"] + (["features"] if self.feature_size else [])
        self._outputs = js_array([entry.output(k) for k in keys])

    async def __call__(self, times: FrameTimes, requests, source=None,
                       frame=None) -> tuple[np.ndarray, np.ndarray | None]:
        """(probabilities [n, classes], features [n, D] or None) for FrameLogic's EmotionRequests."""
        clock = Clock(times)
        n = len(requests)
        with tf_scope("emotion"):
            if frame is None:
                # Unrotated crops (FrameLogic never asks for rotation here): drawn at the net's size.
                with clock("grab_ms"):
                    crops = self.reader.crops(source, [r.crop for r in requests], self.size)
                with clock("emotion_ms"):
                    x = self.reader.emotion_from_crops(crops, self.scale, self.offset, self.grey)
            else:
                with clock("transfer_ms"):
                    boxes = tf.tensor2d(js_float32(np.asarray([r.box for r in requests], dtype=np.float32)),
                                        js_array([n, 4]), "float32")
                    index = tf.tensor1d(js_int32(np.zeros(n, dtype=np.int32)), "int32")
                with clock("emotion_ms"):
                    x = self.reader.emotion_input(frame, boxes, index, self.size, self.scale, self.offset, self.grey)
            with clock("emotion_ms"):
                outs = self.model.graph.execute(x, self._outputs)
                # One [n, classes + D] tensor: a single download (one GPU sync on webgl) for both.
                joined = tf.concat(outs, 1) if self.feature_size else outs[0]
                kept = [tf.keep(joined)]
        (both,) = await read_outputs(kept, times)
        classes = both.shape[1] - (self.feature_size or 0)
        if not self.feature_size:
            return both, None
        return both[:, :classes], both[:, classes:]           # [n, classes], [n, D]
