"""The "query" message: figures for tests and bench/ (nothing is patched to read them).

- "bench": the PerfMeter's boot marks and, with ?bench=1, its per-frame ring buffer;
- "diagnostics": TF.js's tensors and bytes, the live tensors between frames (the soak's
  leak gauge), frames, proxies, Python objects, the loop's dropped frames, tasks, where
  the engine runs and the memory figures below (the page's `moodcam.stats()` adds the
  browser's own measure of the whole page, app/page.js).
Answers before boot has ended too (no frame yet: the per-frame figures are their zero).
The memory figures are browser.memory's (also shown in the HUD).
"""
from __future__ import annotations

import gc
import json
from typing import TYPE_CHECKING

from .interop import ProxyBag, in_worker, time_origin_ms
from .memory import memory_figures, python_heap_used_bytes
from .messages import Query, QueryMessage, ReplyMessage

if TYPE_CHECKING:                      # the session holds the parts; this module only reads them
    from .session import Session


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
