"""Photo mode: a photo (chosen or dropped) analysed as a short burst of frames.

A photo is one moment: it is fed as PHOTO_FRAMES frames PHOTO_STEP_MS apart so voting
and the mood's dwell settle exactly as on a still camera picture. One analysis at a
time: a new photo cancels the one in progress (its frame is aborted cleanly by the
analyser) before it starts. Photos are scaled so their long side is at most
MAX_PHOTO_SIDE px (a 12 MP photo is not drawn or read at full size); the still
canvas shows the scaled photo, and the overlay is drawn over it.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from ..mood.state import MoodConfig
from . import failures
from .failures import Failure
from .interop import image_bitmap, resized_bitmap

PHOTO_STEP_MS = 100.0
# Enough frames to reach the state machine's bound: a photo always ends with an answer
# (a mood, or "can't tell" with its guess), never still "observing".
PHOTO_FRAMES = int(MoodConfig().answer_within_ms // PHOTO_STEP_MS) + 2
MAX_PHOTO_SIDE = 1920


def scaled_size(width: int, height: int, side: int = MAX_PHOTO_SIDE) -> tuple[int, int]:
    scale = min(1.0, side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


async def decode(file: Any, name: str) -> tuple[Any, int, int] | Failure:
    """(ImageBitmap at most MAX_PHOTO_SIDE px on its long side, width, height), or a Failure."""
    bitmap = await image_bitmap(file)
    if bitmap is None:
        return failures.photo_unreadable(name)
    w, h = int(bitmap.width), int(bitmap.height)
    sw, sh = scaled_size(w, h)
    if (sw, sh) != (w, h):
        scaled = await resized_bitmap(bitmap, sw, sh)
        bitmap.close()
        if scaled is None:
            return failures.photo_too_large(name, w, h)
        bitmap = scaled
    return bitmap, sw, sh


class PhotoMode:
    def __init__(self, still_canvas: Any) -> None:
        self.still = still_canvas
        self._current: asyncio.Future | None = None

    async def cancel(self) -> None:
        """Stop the analysis in progress, if any, and wait until it has let go."""
        current, self._current = self._current, None
        if current is not None and not current.done():
            current.cancel()
            await asyncio.wait([current])

    async def run(self, bitmap: Any, width: int, height: int,
                  analyse: Callable[[Any, int, int, float, bool], Awaitable[None]]) -> bool:
        """Show the photo, then analyse(still, w, h, t, last) for each frame of the burst.

        True when the burst ran to its end; False when a newer photo cancelled it."""
        await self.cancel()
        current = self._current = asyncio.ensure_future(self._burst(bitmap, width, height, analyse))
        try:
            await current
        except asyncio.CancelledError:
            if not current.cancelled():
                raise          # this task itself was cancelled, not the burst
            return False       # cancel(): a newer photo took over
        return True

    async def _burst(self, bitmap: Any, width: int, height: int, analyse) -> None:
        try:
            self.still.width, self.still.height = width, height
            self.still.getContext("2d").drawImage(bitmap, 0, 0)
        finally:
            bitmap.close()
        for i in range(PHOTO_FRAMES):
            await analyse(self.still, width, height, i * PHOTO_STEP_MS, i == PHOTO_FRAMES - 1)
            await asyncio.sleep(0)     # stay responsive between frames
