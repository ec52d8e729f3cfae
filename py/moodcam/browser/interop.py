"""The one door between moodcam and JavaScript: Pyodide's interop, the browser's globals, TF.js memory.

The rule: no module of moodcam imports `js` or `pyodide` except this one. The rest of
the browser layer asks for what it needs through the small functions here (clocks,
canvases, Path2D, image decoding, fetch, IndexedDB's promise, JS arrays and objects), so
what moodcam touches of the browser is listed in one file, and each of those modules can
be read, typed and faked without Pyodide. tests/browser_logic/test_interop_boundary.py
holds the rule. Where a name is missing here, add a small typed function for it rather
than importing `js` elsewhere (past 500 lines, a second module beside this one, the way
Pyodide splits ffi/wrappers.py out).

Rules this module enforces so the loop does not leak:
- Python callables handed to JS for longer than one call are `create_proxy`
  proxies owned by a `ProxyBag` and destroyed when their owner stops.
- TF.js tensors made while reading a frame live inside `tf_scope()`, which
  disposes everything not explicitly kept (the Python spelling of tf.tidy:
  tf.tidy wants a synchronous JS callback, an engine scope does the same
  without a proxy per call).
- Tensor data comes to numpy once, as one buffer (`to_numpy`).
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Sequence

import js
import numpy as np
from pyodide.ffi import JsException, create_once_callable, create_proxy, to_js
from pyodide.http import FetchResponse, pyfetch

tf = js.tf

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.uint8}


# --- Clocks and where we run ---------------------------------------------------------------

def now_ms() -> float:
    """Milliseconds on the page's monotonic clock (performance.now)."""
    return float(js.performance.now())


def unix_ms() -> float:
    """Wall-clock milliseconds since 1970 (Date.now), for timestamps people read."""
    return float(js.Date.now())


def time_origin_ms() -> float:
    """performance.timeOrigin: the Unix time at which now_ms() was 0."""
    return float(js.performance.timeOrigin)


def in_worker() -> bool:
    """True inside the engine's Web Worker, which has no `document`."""
    return not hasattr(js, "document")


def keep_snapshot() -> bool:
    """Ask app/engine.js to make and keep the Pyodide snapshot for the next visit now (it does so once,
    and only when this start had none to restore). False where the engine offers no snapshot."""
    keep = getattr(getattr(js, "moodcam", None), "keepSnapshot", None)
    if keep is None:
        return False
    keep()
    return True


def wasm_heap_bytes() -> int:
    """Size of Pyodide's WebAssembly heap (HEAP8.length); 0 where app/ did not expose moodcam.pyodide."""
    pyodide_js = getattr(getattr(js, "moodcam", None), "pyodide", None)
    return int(pyodide_js._module.HEAP8.length) if pyodide_js is not None else 0


# --- TF.js tensors and JS values -----------------------------------------------------------

@contextlib.contextmanager
def tf_scope(name: str = "moodcam"):
    """Dispose every tensor created inside the block, except those passed to tf.keep()."""
    engine = tf.engine()
    engine.startScope(name)
    try:
        yield
    finally:
        engine.endScope()


def to_numpy(tensor) -> np.ndarray:
    """Read a tensor into numpy with one copy (dataSync -> bytes -> frombuffer)."""
    data = tensor.dataSync()
    dtype = _DTYPES.get(str(tensor.dtype), np.float32)
    array = np.frombuffer(data.to_bytes(), dtype=dtype)
    return array.reshape(tuple(tensor.shape.to_py()))


# Backends whose results are already on the CPU when execute() returns.
_CPU_BACKENDS = ("wasm", "cpu")


async def to_numpy_async(tensor) -> np.ndarray:
    """Like to_numpy but without blocking the page on a GPU read (webgl).

    On wasm/cpu the values are already computed, and awaiting `data()` would
    only hand control back to the event loop: that cost 3.7 ms a frame in
    bench/ (27 fps awaited vs 49 fps read synchronously), so read them at once.
    """
    if str(tf.getBackend()) in _CPU_BACKENDS:
        return to_numpy(tensor)
    data = await tensor.data()
    dtype = _DTYPES.get(str(tensor.dtype), np.float32)
    array = np.frombuffer(data.to_bytes(), dtype=dtype)
    return array.reshape(tuple(tensor.shape.to_py()))


def js_float32(values: np.ndarray):
    """A JS Float32Array holding a copy of `values` (for tf.tensor)."""
    flat = np.ascontiguousarray(values, dtype=np.float32).ravel()
    out = js.Float32Array.new(flat.size)
    out.assign(flat)
    return out


def js_int32(values: np.ndarray):
    flat = np.ascontiguousarray(values, dtype=np.int32).ravel()
    out = js.Int32Array.new(flat.size)
    out.assign(flat)
    return out


def js_bytes(data: bytes):
    """A JS ArrayBuffer with a copy of `data` (for TF.js weight data)."""
    out = js.Uint8Array.new(len(data))
    out.assign(data)
    return out.buffer


def js_object(value: dict):
    """A plain JS object (not a Map) from a dict, nested lists/dicts converted too."""
    return to_js(value, dict_converter=js.Object.fromEntries)


def js_array(values: Sequence[Any]) -> Any:
    """A JS Array from a list or tuple (nested ones converted too): shapes, sizes, output names for TF.js."""
    return to_js(values)


def json_parse(text: str) -> Any:
    """JSON.parse: a plain JS object tree from JSON text (one call, however deep the tree)."""
    return js.JSON.parse(text)


# --- Canvases, paths and images ------------------------------------------------------------

def blank_canvas(width: int = 1, height: int = 1) -> Any:
    """An OffscreenCanvas where it exists (always in the worker), else a DOM <canvas>; no context yet."""
    if hasattr(js, "OffscreenCanvas"):
        return js.OffscreenCanvas.new(width, height)
    canvas = js.document.createElement("canvas")
    canvas.width, canvas.height = width, height
    return canvas


def new_canvas(width: int = 1, height: int = 1, *, read_often: bool = False):
    """(canvas, 2d context): blank_canvas and its 2d context.

    ``read_often`` asks for willReadFrequently, which keeps the canvas on the CPU where
    getImageData is cheap.
    """
    canvas = blank_canvas(width, height)
    options = js_object({"willReadFrequently": True}) if read_often else js_object({})
    return canvas, canvas.getContext("2d", options)


def path2d(svg_path: str) -> Any:
    """A Path2D from an SVG path string (one JS call for a whole outline)."""
    return js.Path2D.new(svg_path)


async def image_bitmap(source: Any) -> Any | None:
    """createImageBitmap(source): an ImageBitmap, or None when the browser cannot decode it."""
    try:
        return await js.createImageBitmap(source)
    except JsException:
        return None


async def resized_bitmap(bitmap: Any, width: int, height: int) -> Any | None:
    """A new ImageBitmap of `bitmap` at width x height, scaled with the browser's best quality; None when
    the browser cannot (out of memory for a huge picture, a detached bitmap)."""
    try:
        return await js.createImageBitmap(bitmap, js_object({"resizeWidth": width, "resizeHeight": height,
                                                             "resizeQuality": "high"}))
    except JsException:
        return None


# --- Files and WebCodecs (a video decoded in this thread: browser.video_decoding) ------------

async def file_bytes(file: Any, offset: int, length: int) -> bytes:
    """`length` bytes of a File/Blob from `offset` (fewer at its end): one slice read, nothing else kept."""
    buffer = await file.slice(offset, offset + length).arrayBuffer()
    return bytes(buffer.to_py())


def file_size(file: Any) -> int:
    return int(file.size)


def has_video_decoder() -> bool:
    """WebCodecs' VideoDecoder and EncodedVideoChunk exist here (Chromium 94+, Firefox 130+, Safari 16.4+)."""
    return hasattr(js, "VideoDecoder") and hasattr(js, "EncodedVideoChunk")


def decoder_config(codec: str, description: bytes | None, width: int, height: int) -> Any:
    """A VideoDecoderConfig: the codec string, the sizes, and the avcC/hvcC/av1C bytes where the codec has them."""
    config = js.Object.new()
    config.codec = codec
    config.codedWidth, config.codedHeight = width, height
    if description:
        config.description = js_bytes(description)
    return config


async def video_decoder_supports(config: Any) -> bool:
    """VideoDecoder.isConfigSupported(config).supported; False where it throws (a malformed codec string)."""
    try:
        answer = await js.VideoDecoder.isConfigSupported(config)
    except JsException:
        return False
    return bool(answer.supported)


def video_decoder(bag: "ProxyBag", on_frame: Callable[[Any], None], on_error: Callable[[Any], None],
                  on_dequeue: Callable[[Any], None]) -> Any:
    """A new VideoDecoder whose callbacks are proxies owned by `bag` (released when its owner stops)."""
    init = js.Object.new()
    init.output = bag.wrap(on_frame)
    init.error = bag.wrap(on_error)
    decoder = js.VideoDecoder.new(init)
    bag.listen(decoder, "dequeue", on_dequeue)
    return decoder


def encoded_chunk(key: bool, timestamp_us: int, duration_us: int, data: bytes) -> Any:
    """An EncodedVideoChunk holding a copy of `data` (the decoder reads it when decode() is called)."""
    init = js.Object.new()
    init.type = "key" if key else "delta"
    init.timestamp = timestamp_us
    if duration_us > 0:
        init.duration = duration_us
    payload = js.Uint8Array.new(len(data))
    payload.assign(data)
    init.data = payload
    return js.EncodedVideoChunk.new(init)


# --- Network, storage, devices --------------------------------------------------------------

async def fetch(url: str, **options: Any) -> FetchResponse:
    """fetch(url, options) as Pyodide's pyfetch: the response's body reads as Python bytes."""
    return await pyfetch(url, **options)


def indexed_db() -> Any | None:
    """The IndexedDB factory (on the page and in workers), or None where this browser has none."""
    return getattr(js, "indexedDB", None)


def promise(executor: Callable[[Any, Any], None]) -> Any:
    """new Promise(executor), awaitable from Python; the executor is a once-callable, so no proxy outlives it."""
    return js.Promise.new(create_once_callable(executor))


def logical_cores() -> int:
    """navigator.hardwareConcurrency (2 where the browser does not say)."""
    return int(getattr(js.navigator, "hardwareConcurrency", 2) or 2)


class ProxyBag:
    """Owns the long-lived Python->JS callables of one component; `release()` frees them all.

    The count is exposed (`live`) so the soak test can report proxy growth.
    """

    created_total = 0
    live_total = 0

    def __init__(self) -> None:
        self._proxies: list = []

    def wrap(self, fn: Callable):
        proxy = create_proxy(fn)
        self._proxies.append(proxy)
        ProxyBag.created_total += 1
        ProxyBag.live_total += 1
        return proxy

    def listen(self, target, event: str, fn: Callable, **options) -> None:
        proxy = self.wrap(fn)
        if options:
            target.addEventListener(event, proxy, js.Object.fromEntries(
                [[k, v] for k, v in options.items()]))
        else:
            target.addEventListener(event, proxy)
        # Remember how to detach it: destroying a proxy JS still calls would raise on the next event.
        self._proxies[-1] = (proxy, target, event)

    def release(self) -> None:
        for item in self._proxies:
            if isinstance(item, tuple):
                proxy, target, event = item
                target.removeEventListener(event, proxy)
            else:
                proxy = item
            proxy.destroy()
            ProxyBag.live_total -= 1
        self._proxies.clear()

    @property
    def live(self) -> int:
        return len(self._proxies)
