"""The camera, from the engine: asks the page (app/camera.js) and turns its answers into
a frame source or a Failure with a way forward. getUserMedia only exists on the page."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from . import failures
from .failures import Failure
from .loop import STREAM_PATIENCE_S, BitmapFrames, StreamFrames
from .messages import CloseCamera, OpenCamera, Post, RequestFrame

BITMAP_CLOCK = "requestVideoFrameCallback"


def stream_patience_s(params: Any) -> float:
    """?stream_wait_ms=N: how long a camera stream may keep its first frame (tests force the
    fallback with 0); anything unreadable keeps the default."""
    try:
        value = float(params.get("stream_wait_ms", "")) / 1000.0
    except (AttributeError, TypeError, ValueError):
        return STREAM_PATIENCE_S
    return value if 0.0 <= value <= 60.0 else STREAM_PATIENCE_S


class CameraSession:
    def __init__(self, post: Post, on_ended: Callable[[], None],
                 on_clock: Callable[[str], None] = lambda name: None,
                 patience_s: float = STREAM_PATIENCE_S) -> None:
        self._post = post
        self._on_ended = on_ended
        self._on_clock = on_clock
        self._patience_s = patience_s
        self.late_streams = 0            # camera sessions whose stream was late (diagnostics)
        self._opening: asyncio.Future | None = None
        self.source: StreamFrames | BitmapFrames | None = None
        self.mirrored = False
        self.clock_name = ""
        self.cameras = 0

    async def open(self, facing: str, clock: str) -> Failure | None:
        """Open the camera facing `facing`; None when frames can be read from `source`."""
        self.close()
        self._opening = asyncio.get_event_loop().create_future()
        self._post(OpenCamera(facing, clock))
        answer = await self._opening
        if answer.event == "failed":
            name, detail = str(answer.error.name), str(answer.error.message)
            if name in ("insecure-context", "no-camera-api"):
                return failures.camera_blocked(name)
            return failures.camera_error(name, detail)
        # A front ("user") camera is shown mirrored, as people expect of a selfie picture.
        self.mirrored = str(answer.facing or facing) == "user"
        self.clock_name = str(answer.clock)
        self.cameras = int(answer.cameras)
        if str(answer.transport) == "stream":
            self.source = StreamFrames(answer.frames, self._stream_was_late, self._patience_s)
        else:
            self.source = self._bitmaps()
        return None

    def _bitmaps(self) -> BitmapFrames:
        return BitmapFrames(lambda: self._post(RequestFrame()))

    def _stream_was_late(self) -> BitmapFrames:
        # The page's <video> plays the same track: it takes the frames from there instead.
        self.late_streams += 1
        self.clock_name = BITMAP_CLOCK
        self._on_clock(self.clock_name)
        return self._bitmaps()

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None
            self._post(CloseCamera())

    def on_message(self, message: Any) -> None:
        """A "camera" message from the page."""
        event = str(message.event)
        if event in ("opened", "failed"):
            opening, self._opening = self._opening, None
            if opening is not None and not opening.done():
                opening.set_result(message)
            elif event == "opened":
                self._post(CloseCamera())     # nobody waits for it any more
        elif event == "ended" and self.source is not None:
            self.source.close()
            self.source = None
            self._on_ended()

    def on_frame(self, message: Any) -> None:
        """A "frame" message: an ImageBitmap for BitmapFrames (else closed at once)."""
        if self.source is not None:
            self.source.deliver(message.bitmap, int(message.width), int(message.height))
        else:
            message.bitmap.close()
