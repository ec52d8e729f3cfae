"""Camera frames into the engine, one at a time, and the loop that analyses them.

Two transports (app/camera.js picks one and says which):
- StreamFrames: a MediaStreamTrackProcessor's ReadableStream of VideoFrames, transferred to
  the engine once; the processor keeps only the newest frame while one is analysed (if its
  first frame is late, BitmapFrames take over for that camera session: StreamFrames says why);
- BitmapFrames: the engine asks for a frame ("camera" cmd "frame"), the page answers with a
  transferred ImageBitmap on its next video frame (or animation frame with clock "raf").
Either way a frame is closed as soon as it is analysed (a VideoFrame left open stalls the
camera), and never two are analysed at once.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from .tasks import Tasks


@dataclass
class Frame:
    image: Any                   # VideoFrame or ImageBitmap: anything drawImage takes
    width: int
    height: int

    def close(self) -> None:
        self.image.close()


# How long the stream may keep its first frame before frames come as bitmaps instead. The page
# opened the camera early and waits for a decoded picture before it says "opened", so the first
# read normally returns at once: 1-23 ms in 17 throttled visits where the stream was not stuck.
STREAM_PATIENCE_S = 0.5


class StreamFrames:
    """Frames from a transferred MediaStreamTrackProcessor stream, with a way out.

    Chromium sometimes holds a transferred stream's first frame back for seconds when the page's
    main thread is slow: with it throttled 4x, 5 of 21 visits waited 3.7-8.1 s for it (the first
    read took 8.1 s in one), and every later read took milliseconds. If no frame comes within
    `patience_s`, the stream is cancelled (the track and the picture stay) and `fallback()`
    supplies frames from then on, for the rest of this camera session: BitmapFrames, which the
    page takes from its <video>."""

    def __init__(self, readable: Any, fallback: Callable[[], "BitmapFrames"] | None = None,
                 patience_s: float = STREAM_PATIENCE_S) -> None:
        self._reader = readable.getReader()
        self._make_fallback = fallback
        self._patience_s = patience_s
        self._flowing = False                    # a frame came from the stream
        self._closed = False
        self.fallback: BitmapFrames | None = None

    async def next(self) -> Frame | None:
        if self.fallback is not None:
            return await self.fallback.next()
        if self._flowing or self._make_fallback is None:
            return self._frame(await self._reader.read())
        read = asyncio.ensure_future(self._read())
        done, _ = await asyncio.wait({read}, timeout=self._patience_s)
        if read in done:
            self._flowing = True
            return self._frame(read.result())
        if self._closed:
            read.add_done_callback(_close_late_frame)
            return None
        # The stream is late: whatever it delivers later is closed unseen.
        read.add_done_callback(_close_late_frame)
        self._cancel()
        self.fallback = self._make_fallback()
        return await self.fallback.next()

    async def _read(self) -> Any:
        return await self._reader.read()

    @staticmethod
    def _frame(result: Any) -> Frame | None:
        if result.done:
            return None
        frame = result.value
        return Frame(frame, int(frame.displayWidth), int(frame.displayHeight))

    def deliver(self, bitmap: Any, width: int, height: int) -> None:
        """A bitmap the page sent: the fallback's, else not asked for (closed at once)."""
        if self.fallback is not None:
            self.fallback.deliver(bitmap, width, height)
        else:
            bitmap.close()

    def _cancel(self) -> None:
        try:
            self._reader.cancel()
        except Exception:  # noqa: BLE001 - already closed with its track
            pass

    def close(self) -> None:
        self._closed = True
        self._cancel()
        if self.fallback is not None:
            self.fallback.close()


def _close_late_frame(read: "asyncio.Future[Any]") -> None:
    if read.cancelled() or read.exception() is not None:
        return
    result = read.result()
    if not result.done:
        result.value.close()


class BitmapFrames:
    """Frames asked for one at a time; the next is asked for as soon as one arrives, so it is
    on its way (taken, converted, transferred) while this one is analysed."""

    def __init__(self, request: Callable[[], None]) -> None:
        self._request = request
        self._waiting: asyncio.Future | None = None
        self._ready: Frame | None = None       # arrived while nobody waited
        self._asked = False
        self._closed = False

    async def next(self) -> Frame | None:
        if self._closed:
            return None
        frame, self._ready = self._ready, None
        if frame is None:
            self._waiting = asyncio.get_event_loop().create_future()
            self._ask()
            frame = await self._waiting
        if frame is not None and not self._closed:
            self._ask()                              # the next one, while this one is analysed
        return frame

    def _ask(self) -> None:
        if not self._asked:
            self._asked = True
            self._request()

    def deliver(self, bitmap: Any, width: int, height: int) -> None:
        self._asked = False
        frame = Frame(bitmap, int(width), int(height))
        waiting, self._waiting = self._waiting, None
        if self._closed:
            frame.close()
        elif waiting is not None and not waiting.done():
            waiting.set_result(frame)
        else:
            if self._ready is not None:
                self._ready.close()
            self._ready = frame

    def close(self) -> None:
        self._closed = True
        if self._ready is not None:
            self._ready.close()
            self._ready = None
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.done():
            waiting.set_result(None)


@dataclass
class LoopStats:
    processed: int = 0
    dropped: int = 0         # frames read but not analysed (arrived after a stop)


class FrameLoop:
    def __init__(self, source: StreamFrames | BitmapFrames, process: Callable[[Frame], Awaitable[None]],
                 tasks: Tasks) -> None:
        self.source = source
        self._process = process
        self._tasks = tasks
        self._task: asyncio.Future | None = None
        self._between_frames = asyncio.Event()
        self._between_frames.set()
        self.running = False
        self.stats = LoopStats()
        self._generation = 0

    def start(self, fresh: bool = False) -> None:
        """Run (again). `fresh`: do not wait for the old run, which may be stuck on a frame that
        will never finish (a read from a lost WebGL context); if it ever wakes, it just ends."""
        self.running = True
        if fresh or self._task is None or self._task.done():
            self._generation += 1
            self._between_frames.set()
            self._task = self._tasks.spawn(self._run(self._generation))

    def stop(self) -> None:
        """No frame is analysed after this returns, but the one in flight (see idle)."""
        self.running = False

    async def idle(self) -> None:
        """Wait until the frame being analysed (if any) is done (not for the next frame to arrive:
        a hidden page may deliver none)."""
        await self._between_frames.wait()

    async def _run(self, generation: int) -> None:
        current = lambda: self.running and generation == self._generation  # noqa: E731
        try:
            while current():
                frame = await self.source.next()
                if frame is None:          # the camera stopped
                    break
                self._between_frames.clear()
                try:
                    if current():
                        await self._process(frame)
                        self.stats.processed += 1
                    else:
                        self.stats.dropped += 1
                finally:
                    frame.close()
                    if generation == self._generation:
                        self._between_frames.set()
        finally:
            if generation == self._generation:
                self.running = False
