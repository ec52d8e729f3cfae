"""The "query" message: figures for tests and bench/ (nothing is patched to read them).

- "bench": the PerfMeter's boot marks and, with ?bench=1, its per-frame ring buffer;
- "diagnostics": TF.js's tensors and bytes, the live tensors between frames (the soak's
  leak gauge), frames, proxies, Python objects, the loop's dropped frames, tasks, where
  the engine runs and the memory figures below (the page's `moodcam.stats()` adds the
  browser's own measure of the whole page, app/page.js).
Answers before boot has ended too (no frame yet: the per-frame figures are their zero).

The memory figures (MemoryFigures), also shown in the HUD (render.py):
- "numTensors" / "numBytes": TF.js tensors alive and their bytes (tf.memory()), on any backend;
- "pythonHeap": the Python heap's size: the bytes Pyodide's C allocator (dlmalloc, which every
  Python object, numpy array and the interpreter's own memory come from) holds from the wasm
  memory (malloc_footprint(), cheap: the HUD shows it). Pyodide's CPython is built without
  pymalloc, so sys.getallocatedblocks() is always 0 there and is not used;
- "pythonHeapUsed": of that, the bytes allocated now (mallinfo().uordblks): it comes back down
  when objects are freed, so it is the Python heap's leak gauge. It walks the whole heap
  (a few ms), so only queries read it;
- "wasmHeap": the size of Pyodide's WebAssembly memory, which holds that heap, the stack and the
  static data: it grows when they need room and never shrinks;
- "tfjsWasmHeap": the size of TF.js's wasm backend's WebAssembly memory (its tensors and
  scratch space), 0 while that backend has not started (the webgl backend keeps its tensors
  in GPU textures, counted in numBytes only).
"""
from __future__ import annotations

import functools
import gc
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .interop import ProxyBag, in_worker, tf, time_origin_ms, wasm_heap_bytes
from .messages import Query, QueryMessage, ReplyMessage

if TYPE_CHECKING:                      # the session holds the parts; this module only reads them
    from .session import Session


@dataclass(frozen=True)
class MemoryFigures:
    tensors: int
    tensor_bytes: int
    python_heap_bytes: int          # 0 where the allocator cannot be asked
    pyodide_wasm_bytes: int
    tfjs_wasm_bytes: int


MALLINFO_FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                   "keepcost")


@functools.cache
def _allocator() -> Any:
    """The process's own C library (Pyodide's main module, dlmalloc's entry points); None where
    ctypes cannot open it. ctypes is imported here, on the first figure, not at start-up."""
    try:
        import ctypes

        class MallInfo(ctypes.Structure):      # C's struct mallinfo: size_t fields, as dlmalloc declares it
            _fields_ = [(name, ctypes.c_size_t) for name in MALLINFO_FIELDS]

        libc = ctypes.CDLL(None)
        libc.malloc_footprint.restype = ctypes.c_size_t
        libc.mallinfo.restype = MallInfo
    except (ImportError, OSError, AttributeError):
        return None
    return libc


def python_heap_bytes() -> int:
    libc = _allocator()
    return int(libc.malloc_footprint()) if libc is not None else 0


def python_heap_used_bytes() -> int:
    libc = _allocator()
    return int(libc.mallinfo().uordblks) if libc is not None else 0


def tfjs_wasm_heap_bytes() -> int:
    """TF.js's wasm backend's memory size; 0 if that backend never started. Read from the engine's
    registry of started backends: tf.findBackend would start the backend to answer."""
    backend = getattr(tf.engine().registry, "wasm", None)
    module = getattr(backend, "wasm", None) if backend is not None else None
    heap = getattr(module, "HEAPU8", None) if module is not None else None
    return int(heap.buffer.byteLength) if heap is not None else 0


def memory_figures() -> MemoryFigures:
    mem = tf.memory()
    return MemoryFigures(tensors=int(mem.numTensors), tensor_bytes=int(mem.numBytes),
                         python_heap_bytes=python_heap_bytes(), pyodide_wasm_bytes=wasm_heap_bytes(),
                         tfjs_wasm_bytes=tfjs_wasm_heap_bytes())


def answer(session: "Session", query: QueryMessage) -> ReplyMessage:
    if query.what is Query.BENCH:
        return ReplyMessage(query.id, session.perf.bench_json(time_origin_ms()))
    return ReplyMessage(query.id, json.dumps(diagnostics(session)))


def diagnostics(session: "Session") -> dict:
    app = session.app
    flow = app.flow if app is not None else None
    memory = memory_figures()
    return {
        "numTensors": memory.tensors, "numBytes": memory.tensor_bytes,
        "tensorsBetweenFrames": flow.presenter.tensors_between_frames if flow is not None else -1,
        "frames": session.perf.frames, "proxies": ProxyBag.live_total, "gc_objects": len(gc.get_objects()),
        "perf": json.loads(session.perf.summary()),
        "dropped": flow.loop.stats.dropped if flow is not None and flow.loop is not None else 0,
        "tasks": session.tasks.running, "lateCameraStreams": session.camera.late_streams,
        "engine": "worker" if in_worker() else "page", "wasmHeap": memory.pyodide_wasm_bytes,
        "pythonHeap": memory.python_heap_bytes, "pythonHeapUsed": python_heap_used_bytes(),
        "tfjsWasmHeap": memory.tfjs_wasm_bytes}
