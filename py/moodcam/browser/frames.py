"""Reading a frame at the size the models need, and preprocessing in TF.js.

Two ways to read pixels (Settings.grab):

- "direct" (default): the canvas draws exactly what a net needs and nothing
  else. The detector input is the letterboxed frame drawn straight into a
  128x128 canvas (black padding = the cleared canvas); the emotion crops are
  the crop squares drawn into 64x64 cells of one canvas (parts outside the
  frame stay 0, like a zero-padded cropAndResize). One small getImageData +
  fromPixels each; a frame where no net runs reads no pixels at all. On a
  CPU canvas (wasm without WebGL) this is ~1 ms against ~15 ms for the full
  512x512 frame (measured on wasm, 2 CPU cores).
- "work": one drawImage of the whole video into a "work" canvas (long side
  WORK_SIDE px), one getImageData, one fromPixels; the letterbox
  (resizeBilinear + pad) and the crops (cropAndResize) are TF.js ops on that
  tensor. Used by the face-parts mode (FaceMesh warps the work frame) and for
  rotated crops.

Either way normalisation and grey conversion are TF.js ops; numpy never sees pixels.
A source is anything drawImage takes: a VideoFrame or ImageBitmap in the worker, a
<video> on the page. The canvases are OffscreenCanvases wherever they exist.
WORK_SIDE = 640 keeps a face that fills a quarter of a 640 px frame at
~80 px in the work frame, above the emotion net's 64 px input.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..detection.letterbox import Letterbox
from ..detection.tiles import Tile
from .interop import js_array, new_canvas, tf

WORK_SIDE = 640
# How "direct" draws the detector input: the canvas's own smoothed downscale to 2x the input
# size, then a TF.js bilinear 2:1 step. Measured on wasm (astronaut IoU vs MediaPipe's box;
# BlazeFace's best score on the no-face coffee photo, WebGL canvas / CPU canvas):
#   smoothed 2x: IoU 0.983, coffee 0.46 / 0.31      nearest 2x: IoU 0.996, coffee 0.54 / 0.43
#   smoothed 1x: IoU 0.931, coffee 0.50 / 0.36      work frame (old path): IoU 0.996, coffee 0.49 / 0.41
# Nearest-neighbour copies the old path's point sampling but turns coffee into a 0.54 "face"
# on a WebGL canvas; the smoothed 2x draw keeps well clear of the 0.5 threshold.
DETECTOR_DRAW: dict[str, Any] = {"smoothing": True, "quality": "low", "oversample": 2}


@dataclass(frozen=True)
class FrameGeometry:
    """Where the work frame sits relative to the source (video or photo)."""

    source_size: tuple[int, int]   # (width, height) of the video / photo
    work_size: tuple[int, int]     # (width, height) of the work canvas



def work_size_for(width: int, height: int, side: int = WORK_SIDE) -> tuple[int, int]:
    """The work canvas size: the source scaled so its long side is at most `side`."""
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class FrameReader:
    """Owns the work canvas; turns a video or image element into a frame tensor."""

    def __init__(self, detector_size: tuple[int, int] = (128, 128)) -> None:
        self.detector_size = detector_size
        self.canvas, self.ctx = new_canvas(read_often=True)
        self.geometry: FrameGeometry | None = None
        self._det_canvas = None      # "direct" mode: the detector input canvas
        self._det_ctx = None
        self._crop_canvas = None     # "direct" mode: emotion crops, one cell per face, stacked vertically
        self._crop_ctx = None

    def _canvas(self, which: str, width: int, height: int):
        canvas = getattr(self, f"_{which}_canvas")
        if canvas is None:
            canvas, ctx = new_canvas(width, height, read_often=True)
            setattr(self, f"_{which}_canvas", canvas)
            setattr(self, f"_{which}_ctx", ctx)
        ctx = getattr(self, f"_{which}_ctx")
        if int(canvas.width) != width or int(canvas.height) != height:
            canvas.width, canvas.height = width, height
        else:
            ctx.clearRect(0, 0, width, height)
        return ctx

    def letterboxed(self, source, width: int, height: int, letterbox: Letterbox, tile: Tile | None = None):
        """"direct": the detector input drawn by the canvas, int32 [1, th, tw, 3] (inside a tf_scope).

        Whole-pixel padding (FrameLogic's round_letterbox): the frame (or `tile` of it, whose
        letterbox this is) is drawn at (px, py) with size (tw - 2 px, th - 2 py); the rest stays black.
        """
        sx, sy, sw, sh = (0.0, 0.0, width, height) if tile is None else (tile.x, tile.y, tile.width, tile.height)
        tw, th = (int(v) for v in letterbox.target_size)
        px, py = int(round(letterbox.padding[0])), int(round(letterbox.padding[1]))
        k = DETECTOR_DRAW["oversample"]
        ctx = self._canvas("det", tw * k, th * k)
        ctx.imageSmoothingEnabled = DETECTOR_DRAW["smoothing"]
        ctx.imageSmoothingQuality = DETECTOR_DRAW["quality"]
        ctx.drawImage(source, sx, sy, sw, sh, px * k, py * k, (tw - 2 * px) * k, (th - 2 * py) * k)
        pixels = tf.expandDims(tf.browser.fromPixels(ctx.getImageData(0, 0, tw * k, th * k), 3), 0)
        if k != 1:
            pixels = tf.image.resizeBilinear(pixels, js_array([th, tw]), False, False)
        return pixels

    def crops(self, source, regions, size: tuple[int, int] = (64, 64)):
        """"direct": unrotated crop squares (CropRegion) drawn at `size`, int32 [n, h, w, 3] (inside a tf_scope)."""
        w, h = size
        n = len(regions)
        ctx = self._canvas("crop", w, h * n)
        for i, r in enumerate(regions):
            half = r.size / 2
            ctx.drawImage(source, float(r.center_x - half), float(r.center_y - half), float(r.size), float(r.size),
                          0, i * h, w, h)
        pixels = tf.browser.fromPixels(ctx.getImageData(0, 0, w, h * n), 3)
        return tf.reshape(pixels, js_array([n, h, w, 3]))

    def normalise(self, pixels, scale: float, offset: float):
        return tf.add(tf.mul(tf.cast(pixels, "float32"), scale), offset)

    def emotion_from_crops(self, crops, scale: float = 1 / 127.5, offset: float = -1.0, grey: bool = True):
        """[n, h, w, 3] crop pixels -> the emotion net input ([n, h, w, 1] grey when `grey`), normalised."""
        x = tf.cast(crops, "float32")
        if grey:
            weights = tf.tensor1d(js_array([0.299, 0.587, 0.114]), "float32")
            x = tf.sum(tf.mul(x, weights), -1, True)
        return tf.add(tf.mul(x, scale), offset)

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

    def detector_input(self, frame, letterbox: Letterbox, scale: float = 1 / 127.5, offset: float = -1.0,
                       tile: Tile | None = None):
        """Letterbox the work frame (or `tile` of it) into the detector input [1, th, tw, 3], normalised.

        `letterbox` maps the source frame (or the tile) to the detector input (FrameLogic's
        plan); the work frame is a uniform scaling of the source, so the same drawn size and
        whole-pixel padding apply.
        """
        tw, th = (int(v) for v in letterbox.target_size)
        px, py = int(round(letterbox.padding[0])), int(round(letterbox.padding[1]))
        dw, dh = tw - 2 * px, th - 2 * py
        if tile is not None:
            # The tile in work-frame pixels: [h, w, 3] -> [th', tw', 3] (whole pixels, inside the frame).
            g = self.geometry
            fh, fw = int(frame.shape[0]), int(frame.shape[1])
            k = fw / g.source_size[0] if g is not None else 1.0
            x0, y0 = min(fw - 1, int(round(tile.x * k))), min(fh - 1, int(round(tile.y * k)))
            w = max(1, min(fw - x0, int(round(tile.width * k))))
            h = max(1, min(fh - y0, int(round(tile.height * k))))
            frame = tf.slice(frame, js_array([y0, x0, 0]), js_array([h, w, 3]))
        batch = tf.expandDims(frame, 0)
        resized = tf.image.resizeBilinear(batch, js_array([dh, dw]), False, False)
        # Pad with 0 (black) before normalising, as MediaPipe's letterbox does.
        padded = tf.pad(resized, js_array([[0, 0], [py, py], [px, px], [0, 0]]), 0)
        return tf.add(tf.mul(padded, scale), offset)

    def emotion_input(self, frame, boxes, box_index, size: tuple[int, int] = (64, 64),
                      scale: float = 1 / 127.5, offset: float = -1.0, grey: bool = True):
        """Crops of the work frame for the emotion net: [n, h, w, 1] grey, normalised.

        boxes: a [n, 4] tensor of [y1, x1, y2, x2] fractions of the frame (FrameLogic's
        EmotionRequest.box; fractions are the same in the work frame as in the source).
        Parts outside the frame are filled with 0, like a zero-padded crop.
        """
        batch = tf.expandDims(tf.cast(frame, "float32"), 0)
        crops = tf.image.cropAndResize(batch, boxes, box_index, js_array([size[1], size[0]]), "bilinear", 0)
        if grey:
            # 0.2989 R + 0.5870 G + 0.1140 B: OpenCV's weights, which FER-2013 training used.
            # (tf.image.rgbToGrayscale uses Einsum, which the wasm backend lacks: mul + sum.)
            weights = tf.tensor1d(js_array([0.299, 0.587, 0.114]), "float32")
            crops = tf.sum(tf.mul(crops, weights), -1, True)
        return tf.add(tf.mul(crops, scale), offset)


def channel_means(frame) -> list[float]:
    """The boot chain's check that TF.js runs on a real frame: mean R, G, B (inside a tf_scope)."""
    means = tf.mean(tf.cast(frame, "float32"), js_array([0, 1]))
    return [float(v) for v in means.dataSync().to_py()]


def chain_check(reader: FrameReader, source, width: int, height: int, backend: str) -> str:
    """The boot chain on a real frame: Python -> TF.js -> numbers back (shown in the HUD)."""
    from .interop import tf_scope

    with tf_scope("chain"):
        means = channel_means(reader.grab(source, width, height))
    return f"{backend} read {width}x{height}: mean RGB " + ", ".join(f"{m:.0f}" for m in means)
