"""Where a frame's time goes, and the figures the page and bench/ read.

FrameTimes splits one frame: grab (pixels into tensors), detector and emotion
(preprocessing + execute), mesh (FaceMesh), transfer (tensor reads into numpy),
logic (FrameLogic calls only), draw (rendering); total is the whole frame.

PerfMeter keeps moving averages for the HUD and <html data-perf>, and with
``?bench=1`` a ring buffer of the last BENCH_FRAMES frames' FrameTimes plus the
boot marks, which bench/ reads through the "query" message (nothing is patched).
"""
from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

BENCH_FRAMES = 4096
EMA = 0.1          # weight of the newest frame in the moving averages


@dataclass
class FrameTimes:
    detector_ms: float = 0.0    # detector preprocessing + execute (no pixel read, no output read)
    emotion_ms: float = 0.0     # emotion preprocessing + execute
    total_ms: float = 0.0       # the whole frame, drawing included
    mesh_ms: float = 0.0        # FaceMesh (face-parts mode only)
    grab_ms: float = 0.0        # reading pixels into tensors (drawImage + getImageData + fromPixels)
    transfer_ms: float = 0.0    # tensor reads (dataSync / data()) and copying into numpy
    logic_ms: float = 0.0       # pure FrameLogic calls: begin_frame, submit_*, emotion_requests, end_frame
    draw_ms: float = 0.0        # rendering the result (overlay, mood frame, face list)
    # Each stage of the mode by name (browser.runner): what the fields above split by kind of work.
    by_stage: dict[str, float] = field(default_factory=dict)

    STAGES = ("grab_ms", "detector_ms", "emotion_ms", "mesh_ms", "transfer_ms", "logic_ms", "draw_ms")

    @property
    def python_ms(self) -> float:
        """What the HUD calls Python: the app logic itself (FrameLogic), not pixels, nets or interop."""
        return self.logic_ms

    @property
    def other_ms(self) -> float:
        """The rest of the frame: Python <-> JS calls, awaiting the event loop, bookkeeping."""
        return max(0.0, self.total_ms - sum(getattr(self, k) for k in self.STAGES))

    def as_dict(self) -> dict[str, float]:
        return {**{k: getattr(self, k) for k in self.STAGES}, "total_ms": self.total_ms,
                "python_ms": self.python_ms, "other_ms": self.other_ms}

    AVERAGED = STAGES + ("total_ms",)


class Clock:
    """Adds elapsed milliseconds to one FrameTimes field: ``with clock("grab_ms"): ...``."""

    __slots__ = ("times", "key", "t0")

    def __init__(self, times: FrameTimes) -> None:
        self.times = times
        self.key = ""
        self.t0 = 0.0

    def __call__(self, key: str) -> "Clock":
        self.key = key
        return self

    def __enter__(self) -> "Clock":
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        setattr(self.times, self.key, getattr(self.times, self.key) + 1000 * (time.perf_counter() - self.t0))


# Stages that only happen on some frames: averaged over the frames where they ran.
_SOMETIMES = ("detector_ms", "emotion_ms", "mesh_ms", "grab_ms", "transfer_ms")


class PerfMeter:
    def __init__(self, bench: bool = False) -> None:
        self.frames = 0
        self.fps = 0.0
        self.averages: dict[str, float] = {name: 0.0 for name in FrameTimes.AVERAGED}
        self.detector_fraction = 0.0
        self.cadence: dict[str, object] = {}            # the nets' cadence now (moodcam.cadence), when a face mode runs
        self.bench: deque[dict] | None = deque(maxlen=BENCH_FRAMES) if bench else None
        self.marks: dict[str, float] = {}
        self._last_ms: float | None = None

    def add(self, times: FrameTimes, now_ms: float) -> None:
        self.frames += 1
        if self._last_ms is not None and now_ms > self._last_ms:
            inst = 1000.0 / (now_ms - self._last_ms)
            self.fps = inst if self.fps == 0 else (1 - EMA) * self.fps + EMA * inst
        self._last_ms = now_ms
        for key, avg in self.averages.items():
            value = getattr(times, key)
            if key in _SOMETIMES and not value:
                continue
            self.averages[key] = value if not avg else (1 - EMA) * avg + EMA * value
        if self.bench is not None:
            # t: the frame's start (engine clock); detector_fraction: face-parts mode's running share of
            # frames on which the detector ran (0 outside it), as on the HUD.
            self.bench.append({"t": round(now_ms, 2), **{k: round(v, 3) for k, v in times.as_dict().items()},
                               "detector_fraction": round(self.detector_fraction, 4),
                               "stages": {k: round(v, 3) for k, v in times.by_stage.items()},
                               **self.cadence})

    def reset_clock(self) -> None:
        """After a pause: the gap is not a slow frame."""
        self._last_ms = None

    def mark(self, name: str, now_ms: float) -> None:
        """A boot phase reached (engine clock, ms since its time origin)."""
        self.marks[name] = round(now_ms, 1)

    def summary(self, **extra: object) -> str:
        """<html data-perf>: the averages (ms) plus frames and fps."""
        out: dict[str, object] = {k: round(v, 2) for k, v in self.averages.items()}
        out.update(python_ms=out["logic_ms"], frames=self.frames, fps=round(self.fps, 2),
                   detector_fraction=round(self.detector_fraction, 3), cadence=self.cadence, **extra)
        return json.dumps(out)

    def bench_json(self, time_origin_ms: float, js_marks: Iterable[Sequence[Any]] | None = None) -> str:
        """The "bench" query's reply: time_origin_ms (the engine's performance.timeOrigin), marks
        (this meter's boot phases, engine ms), js_marks (optional: performance.mark entries of the
        engine's scope, as [name, startTime] pairs, e.g. app/engine.js's "moodcam:tfjs-loaded"),
        frames (the ring buffer, oldest first; empty unless ?bench=1)."""
        out: dict[str, object] = {"time_origin_ms": time_origin_ms, "marks": self.marks}
        if js_marks is not None:
            out["js_marks"] = {str(name): round(float(t), 1) for name, t in js_marks}
        out["frames"] = list(self.bench or ())
        return json.dumps(out)
