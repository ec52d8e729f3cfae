"""The engine's memory, as figures a person (the HUD) and the "diagnostics" query can read.

MemoryFigures, also shown in the HUD (render.py):
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
from dataclasses import dataclass
from typing import Any

from .interop import tf, wasm_heap_bytes


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
