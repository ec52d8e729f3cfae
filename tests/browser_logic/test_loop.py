"""browser.loop: frames in one at a time, closed when done; the loop stops, resumes and
restarts without a stuck frame. Pure asyncio (no browser): fake frames record their closing."""
from __future__ import annotations

import asyncio

from moodcam.browser.loop import BitmapFrames, FrameLoop
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
