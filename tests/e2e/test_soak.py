"""Soak: thousands of frames without leaking tensors, JS heap, Python proxies or wasm memory.

Runs on wasm with the animation-frame clock (frames back to back, not paced by
the camera's 15 fps) so 2,000 frames take minutes, not hours. Reports figures
rather than timing assertions (the machine is shared); the leak checks are
exact: tf.memory().numTensors and the live proxy count must stay constant.
MOODCAM_SOAK_FRAMES changes the length (default 2000).
"""
from __future__ import annotations

import json
import os

import pytest

from .conftest import open_app

pytestmark = pytest.mark.e2e

FRAMES = int(os.environ.get("MOODCAM_SOAK_FRAMES", "2000"))
WARMUP = 60
HEAP_GROWTH_LIMIT_MB = 32.0

# gc() exists with --js-flags=--expose-gc (tests/support/browser.py), on the page and in the worker.
HEAP_JS = "() => { if (typeof gc === 'function') gc(); return performance.memory ? performance.memory.usedJSHeapSize : 0; }"


def sample(app) -> dict:
    """The engine's figures plus the JS heap of the page and of the engine (the worker's own heap)."""
    heap = app.page.evaluate(HEAP_JS)
    if app.data().get("engine") == "worker":
        heap += app.engine_eval(HEAP_JS) or 0
    d = app.diagnostics()
    return {"frames": d["frames"], "tensors": d["tensorsBetweenFrames"], "proxies": d["proxies"],
            "gc_objects": d["gc_objects"], "heap": heap, "wasm": d["wasmHeap"], "dropped": d["dropped"],
            "perf": d["perf"]}


def test_soak_no_leaks(server, cameras):
    with open_app(server, camera=cameras("astronaut"), query="?backend=wasm&clock=raf&cadence=2",
                  deadline_s=900) as app:
        assert app.wait_state("running", "error")["appState"] == "running", app.error()
        assert app.data()["clock"] == "requestAnimationFrame"
        app.wait_frames(WARMUP, timeout=120)
        start = sample(app)
        samples = [start]
        step = max(100, FRAMES // 8)
        target = start["frames"]
        while target < start["frames"] + FRAMES:
            target = min(target + step, start["frames"] + FRAMES)
            app.wait_frames(target, timeout=600)
            samples.append(sample(app))
        end = samples[-1]
        frames = end["frames"] - start["frames"]
        heap_mb = (end["heap"] - start["heap"]) / 2**20
        wasm_mb = (end["wasm"] - start["wasm"]) / 2**20
        report = {
            "frames": frames,
            "tensors": [s["tensors"] for s in samples],
            "proxies": [s["proxies"] for s in samples],
            "js_heap_mb": [round(s["heap"] / 2**20, 1) for s in samples],
            "js_heap_growth_mb": round(heap_mb, 2),
            "wasm_memory_mb": [round(s["wasm"] / 2**20, 1) for s in samples],
            "wasm_growth_mb": round(wasm_mb, 2),
            "python_gc_objects": [s["gc_objects"] for s in samples],
            "dropped_frames": end["dropped"],
            "perf_ms": {k: round(v, 1) for k, v in end["perf"].items() if isinstance(v, (int, float))},
            "cadence": end["perf"].get("cadence"),
        }
        print("\nsoak:", json.dumps(report))
        assert app.data()["mood"] == "happy" and app.error()["hidden"]
        assert len({s["tensors"] for s in samples}) == 1, f"tensors leak: {report['tensors']}"
        assert len({s["proxies"] for s in samples}) == 1, f"proxies leak: {report['proxies']}"
        assert heap_mb < HEAP_GROWTH_LIMIT_MB, report
        # Python objects: bounded (a leak per frame would add thousands over the soak).
        assert end["gc_objects"] - start["gc_objects"] < frames, report
        app.assert_network_clean()
