"""Reading a frame at the size the models need, and preprocessing in TF.js.

Cost model (NOTES.md: peers lose 28-42 ms converting the full 640x480 frame):
- one drawImage of the video into a small "work" canvas (long side WORK_SIDE
  px; the browser scales on its own fast path), one getImageData, one
  tf.browser.fromPixels of that ImageData: the only pixel copy per frame;
- the detector input (letterbox to 128x128: resizeBilinear + pad + normalise)
  and the emotion crops (cropAndResize + grey + normalise) are TF.js ops on
  that one tensor, on the active backend; numpy never sees pixels.

WORK_SIDE = 640 keeps a face that fills a quarter of a 640 px frame at
~80 px in the work frame, above the emotion net's 64 px input.
"""
from __future__ import annotations

from dataclasses import dataclass

import js
from pyodide.ffi import to_js

from ..detection.letterbox import Letterbox
from .interop import tf

WORK_SIDE = 640


@dataclass(frozen=True)
class FrameGeometry:
    """Where the work frame sits relative to the source (video or photo)."""

    source_size: tuple[int, int]   # (width, height) of the video / photo
    work_size: tuple[int, int]     # (width, height) of the work canvas

    @property
    def work_to_source(self) -> float:
        return self.source_size[0] / self.work_size[0]


def work_size_for(width: int, height: int, side: int = WORK_SIDE) -> tuple[int, int]:
    """The work canvas size: the source scaled so its long side is at most `side`."""
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class FrameReader:
    """Owns the work canvas; turns a video or image element into a frame tensor."""

    def __init__(self, detector_size: tuple[int, int] = (128, 128)) -> None:
        self.detector_size = detector_size
        self.canvas = js.document.createElement("canvas")
        # willReadFrequently keeps the canvas on the CPU, where getImageData is cheap.
        self.ctx = self.canvas.getContext("2d", to_js({"willReadFrequently": True},
                                                       dict_converter=js.Object.fromEntries))
        self.geometry: FrameGeometry | None = None

    def geometry_for(self, width: int, height: int) -> FrameGeometry:
        g = self.geometry
        if g is None or g.source_size != (width, height):
            ww, wh = work_size_for(width, height)
            self.canvas.width, self.canvas.height = ww, wh
            self.geometry = g = FrameGeometry((width, height), (ww, wh))
        return g

    def grab(self, source, width: int, height: int):
        """The work frame as an int32 tensor [h, w, 3] (inside a tf_scope)."""
        g = self.geometry_for(width, height)
        ww, wh = g.work_size
        self.ctx.drawImage(source, 0, 0, ww, wh)
        pixels = self.ctx.getImageData(0, 0, ww, wh)
        return tf.browser.fromPixels(pixels, 3)

    def detector_input(self, frame, letterbox: Letterbox, scale: float = 1 / 127.5, offset: float = -1.0):
        """Letterbox the work frame into the detector input [1, th, tw, 3], normalised.

        `letterbox` maps the source frame to the detector input (FrameLogic's plan); the
        work frame is a uniform scaling of the source, so the same drawn size and
        whole-pixel padding apply.
        """
        tw, th = (int(v) for v in letterbox.target_size)
        px, py = int(round(letterbox.padding[0])), int(round(letterbox.padding[1]))
        dw, dh = tw - 2 * px, th - 2 * py
        batch = tf.expandDims(frame, 0)
        resized = tf.image.resizeBilinear(batch, to_js([dh, dw]), False, False)
        # Pad with 0 (black) before normalising, as MediaPipe's letterbox does.
        padded = tf.pad(resized, to_js([[0, 0], [py, py], [px, px], [0, 0]]), 0)
        return tf.add(tf.mul(padded, scale), offset)

    def emotion_input(self, frame, boxes, box_index, size: tuple[int, int] = (64, 64),
                      scale: float = 1 / 127.5, offset: float = -1.0, grey: bool = True):
        """Crops of the work frame for the emotion net: [n, h, w, 1] grey, normalised.

        boxes: a [n, 4] tensor of [y1, x1, y2, x2] fractions of the frame (FrameLogic's
        EmotionRequest.box; fractions are the same in the work frame as in the source).
        Parts outside the frame are filled with 0, like a zero-padded crop.
        """
        batch = tf.expandDims(tf.cast(frame, "float32"), 0)
        crops = tf.image.cropAndResize(batch, boxes, box_index, to_js([size[1], size[0]]), "bilinear", 0)
        if grey:
            # 0.2989 R + 0.5870 G + 0.1140 B: OpenCV's weights, which FER-2013 training used.
            # (tf.image.rgbToGrayscale uses Einsum, which the wasm backend lacks: mul + sum.)
            weights = tf.tensor1d(to_js([0.299, 0.587, 0.114]), "float32")
            crops = tf.sum(tf.mul(crops, weights), -1, True)
        return tf.add(tf.mul(crops, scale), offset)


def channel_means(frame) -> list[float]:
    """The boot chain's check that TF.js runs on a real frame: mean R, G, B (inside a tf_scope)."""
    means = tf.mean(tf.cast(frame, "float32"), to_js([0, 1]))
    return [float(v) for v in means.dataSync().to_py()]
