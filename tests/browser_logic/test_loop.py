"""browser.loop: frames in one at a time, closed when done; the loop stops, resumes and
restarts without a stuck frame. Pure asyncio (no browser): fake frames record their closing."""
from __future__ import annotations

import asyncio

from moodcam.browser.loop import BitmapFrames, FrameLoop, StreamFrames
from moodcam.browser.tasks import Tasks


class Bitmap:
    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_bitmaps_are_prefetched_and_every_one_is_closed():
    async def run():
        asked = []
        source = BitmapFrames(lambda: asked.append(1))
        task = asyncio.ensure_future(source.next())
        await asyncio.sleep(0)
        assert len(asked) == 1
        first = Bitmap(1)
        source.deliver(first, 4, 3)
        frame = await task
        assert frame.image is first and (frame.width, frame.height) == (4, 3)
        assert len(asked) == 2                      # the next one is on its way already
        early = Bitmap(2)
        source.deliver(early, 4, 3)                 # arrives while frame 1 is analysed
        assert (await source.next()).image is early
        late = Bitmap(3)
        source.close()
        source.deliver(late, 4, 3)                  # after close: closed at once
        assert late.closed and await source.next() is None
    asyncio.run(run())


def test_loop_analyses_one_frame_at_a_time_and_closes_each():
    async def run():
        errors = []
        tasks = Tasks(errors.append)
        bitmaps = [Bitmap(i) for i in range(5)]
        source = BitmapFrames(lambda: None)
        seen, busy = [], []

        async def process(frame):
            busy.append(1)
            assert len(busy) == 1                   # never two at once
            await asyncio.sleep(0.001)
            seen.append(frame.image.n)
            busy.pop()

        loop = FrameLoop(source, process, tasks)
        loop.start()
        for b in bitmaps:
            await asyncio.sleep(0.005)
            source.deliver(b, 2, 2)
        await asyncio.sleep(0.02)
        loop.stop()
        await loop.idle()
        assert seen and all(b.closed for b in bitmaps if b.n in seen) and not errors
    asyncio.run(run())


def test_a_fresh_start_does_not_wait_for_a_stuck_frame():
    async def run():
        tasks = Tasks(lambda e: None)
        source = BitmapFrames(lambda: None)
        stuck = asyncio.Event()
        done = []

        async def process(frame):
            if frame.image.n == 0:
                await stuck.wait()                  # a read from a lost WebGL context: never returns
            done.append(frame.image.n)

        loop = FrameLoop(source, process, tasks)
        loop.start()
        source.deliver(Bitmap(0), 1, 1)
        await asyncio.sleep(0.01)
        loop.stop()
        loop.start(fresh=True)                      # after a backend switch
        source.deliver(Bitmap(1), 1, 1)
        await asyncio.sleep(0.01)
        source.deliver(Bitmap(2), 1, 1)
        await asyncio.sleep(0.01)
        assert done[:1] == [1] or done[:1] == [2], done
        loop.stop()
        stuck.set()
        await asyncio.sleep(0.01)
    asyncio.run(run())


class Chunk:
    """A ReadableStream read result: {done, value}."""

    def __init__(self, value=None) -> None:
        self.done = value is None
        self.value = value


class VideoFrame(Bitmap):
    displayWidth = 8
    displayHeight = 6


class Reader:
    """A transferred MediaStreamTrackProcessor stream's reader: reads resolve when told."""

    def __init__(self) -> None:
        self.pending: list[asyncio.Future] = []
        self.cancelled = False

    def read(self) -> asyncio.Future:
        future = asyncio.get_event_loop().create_future()
        self.pending.append(future)
        return future

    def cancel(self) -> None:
        self.cancelled = True


class Readable:
    def __init__(self) -> None:
        self.reader = Reader()

    def getReader(self) -> Reader:
        return self.reader


def test_a_stream_that_delivers_at_once_is_kept():
    async def run():
        readable = Readable()
        fallbacks = []
        source = StreamFrames(readable, lambda: fallbacks.append(1), patience_s=0.05)
        task = asyncio.ensure_future(source.next())
        await asyncio.sleep(0.001)
        frame = VideoFrame(1)
        readable.reader.pending[0].set_result(Chunk(frame))
        got = await task
        assert got.image is frame and (got.width, got.height) == (8, 6)
        # Later reads wait as long as the stream takes: only the first frame has a deadline.
        task = asyncio.ensure_future(source.next())
        await asyncio.sleep(0.1)
        assert not task.done() and not fallbacks and not readable.reader.cancelled
        readable.reader.pending[1].set_result(Chunk(VideoFrame(2)))
        assert (await task).image.n == 2
    asyncio.run(run())


def test_a_late_first_frame_hands_over_to_bitmaps_for_the_session():
    async def run():
        readable = Readable()
        asked = []
        source = StreamFrames(readable, lambda: BitmapFrames(lambda: asked.append(1)), patience_s=0.02)
        task = asyncio.ensure_future(source.next())
        await asyncio.sleep(0.05)
        # The stream is given up (cancelled, not the track) and a bitmap is on its way.
        assert readable.reader.cancelled and source.fallback is not None and asked == [1]
        bitmap = Bitmap(7)
        source.deliver(bitmap, 4, 3)
        assert (await task).image is bitmap
        # The late stream frame, when it finally comes, is closed unseen.
        late = VideoFrame(8)
        readable.reader.pending[0].set_result(Chunk(late))
        await asyncio.sleep(0.001)
        assert late.closed
        # From now on frames are bitmaps; the stream is not read again.
        source.deliver(Bitmap(9), 4, 3)
        assert (await source.next()).image.n == 9 and len(readable.reader.pending) == 1
        source.close()
        assert await source.next() is None
    asyncio.run(run())


def test_a_bitmap_nobody_asked_for_is_closed():
    source = StreamFrames(Readable(), None)
    stray = Bitmap(1)
    source.deliver(stray, 2, 2)
    assert stray.closed
