"""moodcam.browser.perf: the figures bench/ reads from the app (`?bench=1`), without patching it.

CPython only (the module imports no js).
"""
from __future__ import annotations

import json

from moodcam.browser.perf import BENCH_FRAMES, FrameTimes, PerfMeter


def frame(total: float, detector: float = 0.0) -> FrameTimes:
    return FrameTimes(detector_ms=detector, total_ms=total, grab_ms=1.0, logic_ms=0.5, draw_ms=0.25)


def test_without_bench_mode_no_frames_are_kept_but_marks_are():
    meter = PerfMeter()
    meter.mark("python-start", 12.34)
    meter.add(frame(10.0), 100.0)
    out = json.loads(meter.bench_json(1000.0))
    assert out == {"time_origin_ms": 1000.0, "marks": {"python-start": 12.3}, "frames": []}


def test_bench_mode_keeps_every_frame_split_with_its_start_time():
    meter = PerfMeter(bench=True)
    meter.detector_fraction = 0.25
    meter.add(frame(10.0, detector=4.0), 100.0)
    meter.add(frame(20.0), 133.3)
    frames = json.loads(meter.bench_json(0.0))["frames"]
    assert [f["t"] for f in frames] == [100.0, 133.3]
    first = frames[0]
    assert set(FrameTimes.STAGES) <= set(first)
    assert first["total_ms"] == 10.0 and first["detector_ms"] == 4.0
    assert first["python_ms"] == first["logic_ms"] == 0.5
    assert first["other_ms"] == 10.0 - 4.0 - 1.0 - 0.5 - 0.25
    assert first["detector_fraction"] == 0.25


def test_the_ring_buffer_keeps_the_newest_frames():
    meter = PerfMeter(bench=True)
    for i in range(BENCH_FRAMES + 10):
        meter.add(frame(1.0), float(i))
    frames = json.loads(meter.bench_json(0.0))["frames"]
    assert len(frames) == BENCH_FRAMES
    assert frames[0]["t"] == 10.0 and frames[-1]["t"] == float(BENCH_FRAMES + 9)


def test_engine_marks_from_js_can_ride_along():
    meter = PerfMeter(bench=True)
    out = json.loads(meter.bench_json(5.0, [["moodcam:tfjs-loaded", 812.345], ("moodcam:pyodide-loaded", 2000)]))
    assert out["js_marks"] == {"moodcam:tfjs-loaded": 812.3, "moodcam:pyodide-loaded": 2000.0}
