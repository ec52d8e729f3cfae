"""The shapes every demuxer in moodcam.media shares (issue 28's video path).

A demuxer reads a file through `Read` (an async `read(offset, length) -> bytes`, shorter or empty
past the end: in the browser a `File.slice(...).arrayBuffer()`, in CPython a file), describes the
first video track as a `VideoTrack` (what `VideoDecoder.configure` needs) and yields its
`EncodedSample`s in decode order (what `VideoDecoder.decode` needs). A layout or codec it cannot
handle raises `UnsupportedVideo`, whose message names it, so the caller can fall back to the
<video> element. Pure stdlib: runs the same in CPython and Pyodide.
"""
from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

Read = Callable[[int, int], Awaitable[bytes]]


class UnsupportedVideo(ValueError):
    """The file's layout or codec cannot be demuxed here; the message names what ('a fragmented
    MP4', 'no video track', 'codec mp4v'), so the caller can fall back to the <video> path."""


@dataclass(frozen=True)
class VideoTrack:
    container: str              # "mp4" (MP4 and MOV) | "webm" (WebM and Matroska)
    codec: str                  # WebCodecs codec string (moodcam.media.codecs)
    description: bytes | None   # avcC / hvcC / av1C payload for VideoDecoder's config.description; None for VP8/VP9
    width: int                  # coded size in pixels
    height: int
    duration_s: float | None    # None when the container does not say
    rotation: int = 0           # degrees clockwise to turn the decoded picture for display (0, 90, 180, 270):
                                # a phone's portrait video is stored landscape with this in its track header


@dataclass(frozen=True)
class EncodedSample:
    time_s: float       # presentation time, first frame at ~0 (as <video>.currentTime reports that frame)
    duration_s: float   # 0.0 when unknown
    key: bool
    data: bytes


class Demuxed:
    """One opened file: its first video track and a fresh pass over its samples per `samples()` call.

    A file cut short is no error: `samples()` ends after the last complete sample and `stopped_s`
    is then the latest presentation time it yielded (0.0 when none); `stopped_s` is None while
    no pass has run out of data (the file is whole, or the pass has not reached its end).
    A pass may still raise UnsupportedVideo where a layout shows only in the clusters (laced WebM
    video blocks), before it yields anything for files that ffmpeg, browsers or phones write.
    """

    def __init__(self, track: VideoTrack) -> None:
        self.track = track
        self.stopped_s: float | None = None

    def samples(self) -> AsyncGenerator[EncodedSample, None]:
        """A new pass over the video track's samples, in decode order (an async generator: `aclose()` ends it early)."""
        raise NotImplementedError
