"""The camera, from the engine: asks the page (app/camera.js) and turns its answers into
a frame source or a Failure with a way forward. getUserMedia only exists on the page."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from . import failures
from .failures import Failure
from .loop import BitmapFrames, StreamFrames


class CameraSession:
    def __init__(self, post: Callable[[dict], None], on_ended: Callable[[], None]) -> None:
        self._post = post
        self._on_ended = on_ended
        self._opening: asyncio.Future | None = None
        self.source: StreamFrames | BitmapFrames | None = None
        self.mirrored = False
        self.clock_name = ""
        self.cameras = 0

    async def open(self, facing: str, clock: str) -> Failure | None:
        """Open the camera facing `facing`; None when frames can be read from `source`."""
        self.close()
        self._opening = asyncio.get_event_loop().create_future()
        self._post({"type": "camera", "cmd": "open", "facing": facing, "clock": clock})
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
            self.source = StreamFrames(answer.frames)
        else:
            self.source = BitmapFrames(lambda: self._post({"type": "camera", "cmd": "frame"}))
        return None

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None
            self._post({"type": "camera", "cmd": "close"})

    def on_message(self, message: Any) -> None:
        """A "camera" message from the page."""
        event = str(message.event)
        if event in ("opened", "failed"):
            opening, self._opening = self._opening, None
            if opening is not None and not opening.done():
                opening.set_result(message)
            elif event == "opened":
                self._post({"type": "camera", "cmd": "close"})     # nobody waits for it any more
        elif event == "ended" and self.source is not None:
            self.source.close()
            self.source = None
            self._on_ended()

    def on_frame(self, message: Any) -> None:
        """A "frame" message: an ImageBitmap for BitmapFrames (else closed at once)."""
        if isinstance(self.source, BitmapFrames):
            self.source.deliver(message.bitmap, int(message.width), int(message.height))
        else:
            message.bitmap.close()
