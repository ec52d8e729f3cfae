"""The frame clock: Python decides when a frame is read, JS only calls back.

- requestVideoFrameCallback when the video offers it (one call per decoded
  camera frame, no wasted work on repeated frames), else requestAnimationFrame.
  `clock="raf"` forces the latter (used for photos and for the soak test).
- One proxy for the loop's whole life (not one per frame), destroyed on stop,
  so a long session creates no Pyodide proxies per frame.
- Never two inferences at once: a tick that arrives while the previous frame
  is still being processed is dropped and counted.
"""
from __future__ import annotations

import asyncio
import traceback
from dataclasses import dataclass
from typing import Awaitable, Callable

import js
from pyodide.ffi import create_proxy


@dataclass
class LoopStats:
    ticks: int = 0
    processed: int = 0
    dropped: int = 0


class FrameLoop:
    def __init__(self, process: Callable[[], Awaitable[None]], *, video=None, clock: str = "video",
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self._process = process
        self._video = video
        self._use_video_clock = (clock == "video" and video is not None
                                 and hasattr(video, "requestVideoFrameCallback"))
        self._on_error = on_error
        self._proxy = None
        self._handle = None
        self._busy = False
        self._task = None
        self.running = False
        self.stats = LoopStats()

    @property
    def clock_name(self) -> str:
        return "requestVideoFrameCallback" if self._use_video_clock else "requestAnimationFrame"

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        if self._proxy is None:
            self._proxy = create_proxy(self._tick)
        self._schedule()

    def stop(self) -> None:
        self.running = False
        if self._handle is not None:
            if self._use_video_clock:
                self._video.cancelVideoFrameCallback(self._handle)
            else:
                js.cancelAnimationFrame(self._handle)
            self._handle = None
        if self._proxy is not None:
            self._proxy.destroy()
            self._proxy = None

    async def idle(self) -> None:
        """Wait until the frame being processed (if any) is done."""
        if self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    def _schedule(self) -> None:
        if not self.running or self._proxy is None:
            return
        if self._use_video_clock:
            self._handle = self._video.requestVideoFrameCallback(self._proxy)
        else:
            self._handle = js.requestAnimationFrame(self._proxy)

    def _tick(self, *_args) -> None:
        self._handle = None
        self.stats.ticks += 1
        if self._busy:
            self.stats.dropped += 1
        else:
            self._busy = True
            self._task = asyncio.ensure_future(self._run())
        self._schedule()

    async def _run(self) -> None:
        try:
            await self._process()
            self.stats.processed += 1
        except Exception as error:  # noqa: BLE001 - shown on the page by on_error, the loop stops
            traceback.print_exc()
            self.stop()
            if self._on_error is not None:
                self._on_error(error)
        finally:
            self._busy = False
