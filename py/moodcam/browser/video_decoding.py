"""A video file decoded in the engine's own thread with WebCodecs: DecodedVideo.

Why: the first way (app/video.js) seeks a page <video> once per sampled frame, and every seek
re-decodes from the keyframe before it: 15-50 ms a seek for a 640x480 H.264 clip on this 2-core
machine, whatever the analysis costs, which held analysis near 2x real time. Here each frame is
decoded once, in order, by WebCodecs' VideoDecoder (on the browser's own decoder threads, while
Python analyses the frame before), and the file's bytes are read in slices: nothing of the video
is held beyond a few frames, however long it is.

1. moodcam.media demuxes the File (MP4/MOV, WebM) in Python:   VideoTrack + EncodedSamples, decode order
2. VideoDecoder decodes them (at most MAX_QUEUE ahead):          VideoFrames, presentation order, timestamp µs
3. moodcam.video_picking.FramePicker keeps, for each sample time, the frame a <video> would show then;
   every other frame is closed at once.
4. The caller draws each kept frame (drawImage takes a VideoFrame), turned by the track's display
   matrix (VideoDecoder gives the picture as stored; a <video> shows it turned), and it is closed.

`DecodedVideo.open` answers None, with `why`, where this way cannot be used (no WebCodecs, a layout
or codec the demuxer or the decoder does not take): VideoFlow then seeks the page's <video> as before.
"""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, AsyncGenerator, Iterator

from ..media import Demuxed, UnsupportedVideo, VideoTrack, open_video
from ..video_picking import FramePicker
from .interop import (ProxyBag, decoder_config, encoded_chunk, file_bytes, file_size, has_video_decoder,
                      video_decoder, video_decoder_supports)

# Chunks waiting in the decoder: enough to keep its threads busy (and to let a B-frame stream
# reorder) without holding more than a few frames' bytes.
MAX_QUEUE = 4


class DecodedVideo:
    """One File through the demuxer and VideoDecoder; frames() yields (VideoFrame, media time)."""

    def __init__(self, file: Any, demuxed: Demuxed, config: Any) -> None:
        self.file = file
        self.track: VideoTrack = demuxed.track
        self._demuxed = demuxed
        self._config = config
        self.stopped: tuple[float, str] | None = None      # (media time, why) where the file stopped early

    @property
    def duration_s(self) -> float:
        return float(self.track.duration_s or 0.0)

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown: a quarter-turned track (a phone's portrait video) swaps them."""
        track = self.track
        return (track.height, track.width) if track.rotation in (90, 270) else (track.width, track.height)

    @classmethod
    async def open(cls, file: Any) -> tuple["DecodedVideo | None", str]:
        """(DecodedVideo, "") or (None, why this way is not used for the file)."""
        if not has_video_decoder():
            return None, "this browser has no WebCodecs VideoDecoder"
        try:
            demuxed = await open_video(lambda offset, length: file_bytes(file, offset, length), file_size(file))
        except UnsupportedVideo as error:
            return None, str(error)
        track = demuxed.track
        if not track.duration_s:
            return None, "the file does not say how long it is"
        config = decoder_config(track.codec, track.description, track.width, track.height)
        if not await video_decoder_supports(config):
            return None, f"this browser's VideoDecoder does not take {track.codec}"
        return cls(file, demuxed, config), ""

    async def frames(self, sample_times: Iterator[float]) -> AsyncGenerator[tuple[Any, float], None]:
        """(VideoFrame, media time) for each sample time, in order; each frame is closed when the
        caller asks for the next one (draw it before that). Sets `stopped` where decoding ended early."""
        pump = _Pump(self._demuxed, self._config)
        picker = FramePicker(sample_times)
        held: Any = None
        last_time = 0.0
        try:
            while not picker.done:
                frame = await pump.next()
                if frame is None:
                    break
                at = picker.offer(frame.timestamp / 1e6)
                before, held = held, frame
                if before is not None:
                    if at is not None:
                        last_time = at
                        yield before, at
                    before.close()
            if held is not None:
                at = picker.finish()
                if at is not None and not pump.error:
                    last_time = at
                    yield held, at
                held.close()
                held = None
        finally:
            if held is not None:
                held.close()
            pump.close()
        if pump.error:
            self.stopped = (last_time, f"the file stops decoding at {last_time:.1f} s ({pump.error})")
        elif self._demuxed.stopped_s is not None:
            at_s = float(self._demuxed.stopped_s)
            self.stopped = (at_s, f"the file stops decoding at {at_s:.1f} s (truncated?)")


class _Pump:
    """The demuxer's samples into VideoDecoder, its frames out one at a time (next()), never more than
    MAX_QUEUE chunks ahead: the decoder works while Python analyses, and memory stays flat."""

    def __init__(self, demuxed: Demuxed, config: Any) -> None:
        self._samples = demuxed.samples().__aiter__()
        self._frames: deque = deque()
        self._wake: asyncio.Future | None = None
        self._input_done = False
        self._flushed = False
        self.error = ""
        self._bag = ProxyBag()
        self._decoder = video_decoder(self._bag, self._on_frame, self._on_error, self._on_dequeue)
        self._decoder.configure(config)

    async def next(self) -> Any | None:
        """The next frame in presentation order, or None at the end (or after an error: `error`)."""
        while True:
            if self._frames:
                return self._frames.popleft()
            if self.error or self._flushed:
                return None
            if not self._input_done and int(self._decoder.decodeQueueSize) < MAX_QUEUE:
                await self._feed_one()
                continue
            self._wake = asyncio.get_event_loop().create_future()
            await self._wake

    async def _feed_one(self) -> None:
        try:
            sample = await self._samples.__anext__()
        except StopAsyncIteration:
            self._input_done = True
            asyncio.ensure_future(self._flush())
            return
        self._decoder.decode(encoded_chunk(sample.key, round(sample.time_s * 1e6),
                                           round(sample.duration_s * 1e6), sample.data))

    async def _flush(self) -> None:
        try:
            await self._decoder.flush()
        except Exception as error:  # noqa: BLE001 - a decode error rejects flush; on_error says which
            self.error = self.error or _words(error)
        self._flushed = True
        self._poke()

    def _on_frame(self, frame: Any) -> None:
        self._frames.append(frame)
        self._poke()

    def _on_error(self, error: Any) -> None:
        self.error = _words(error)
        self._poke()

    def _on_dequeue(self, _event: Any) -> None:
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def close(self) -> None:
        """Frames not taken closed, the decoder closed, its callbacks released."""
        while self._frames:
            self._frames.popleft().close()
        if str(self._decoder.state) != "closed":
            self._decoder.close()
        self._bag.release()


def _words(error: Any) -> str:
    name = str(getattr(error, "name", "") or type(error).__name__)
    message = str(getattr(error, "message", "") or "")
    return f"{name}: {message}" if message else name
