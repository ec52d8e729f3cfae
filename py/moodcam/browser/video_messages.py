"""The video file's messages (issue 28), page <-> engine; browser.messages names them with the rest.

The engine decides everything: which media times to ask for, at what pace, when to stop. The
page (app/video.js) only decodes: it opens the file in a hidden <video> from an object URL (the
file never leaves the device), seeks to each time it is asked for and answers with the decoded
frame as a transferred ImageBitmap, at the size asked for.

| direction     | fields                                                                  | meaning |
|---------------|-------------------------------------------------------------------------|---------|
| page -> engine | event: chosen {file, name}                                              | analyse this video file |
| page -> engine | event: loaded {id, duration (s), width, height}                         | the file opened (its metadata) |
| page -> engine | event: frame {id, image, time (s, its media time), shown (s, the decoded frame's own time; -1 unknown), width, height} | one decoded frame (an ImageBitmap) |
| page -> engine | event: failed {id, error {name, message}, time}                         | it cannot open, seek or decode (time: where) |
| page -> engine | event: face {face}                                                      | the report's face row chosen (its chart is shown) |
| page -> engine | event: seek {time}                                                      | a moment clicked in the report (s, media time) |
| engine -> page | cmd: open {id, file}                                                    | open this file (id numbers the analysis) |
| engine -> page | cmd: frame {id, time, width, height}                                     | the frame at media time `time`, at this size |
| engine -> page | cmd: close                                                              | let the file go |
| engine -> page | cmd: preview {file, time}                                               | show the report's preview (#video-preview) at `time`; file null: let it go |
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from .message_fields import field, member, required


class VideoEvent(StrEnum):
    CHOSEN = "chosen"
    LOADED = "loaded"
    FRAME = "frame"
    FAILED = "failed"
    FACE = "face"           # the report: a face's row chosen
    SEEK = "seek"           # the report: a moment clicked


class VideoCommand(StrEnum):
    OPEN = "open"
    FRAME = "frame"
    CLOSE = "close"
    PREVIEW = "preview"


VIDEO = "video"     # the message type, both ways (PageMessageType.VIDEO, EngineMessageType.VIDEO)


@dataclass(frozen=True)
class VideoError:
    name: str          # a MediaError's kind ("decode", "not-supported", ...) or a DOMException name
    message: str


@dataclass(frozen=True)
class VideoMessage:
    type: ClassVar[str] = VIDEO
    event: VideoEvent
    id: int = 0
    file: Any = None        # CHOSEN: a File
    name: str = ""          # CHOSEN: the file's name
    duration: float = 0.0   # LOADED: seconds
    width: int = 0          # LOADED: the video's size; FRAME: the image's
    height: int = 0
    image: Any = None       # FRAME: an ImageBitmap: whoever takes it closes it
    time: float = 0.0       # FRAME: the frame's media time (s); FAILED: where it failed
    shown: float = -1.0     # FRAME: the decoded frame's own timestamp (s), -1 where the page cannot say
    error: VideoError | None = None
    face: int = 0           # FACE: the face id chosen (SEEK uses `time`)


def parse_video(m: Any) -> VideoMessage:
    event = member(VideoEvent, required(m, "event", VIDEO), "video event")
    error = field(m, "error")
    if event is VideoEvent.CHOSEN:
        required(m, "file", VIDEO)
    if event is VideoEvent.FRAME:
        required(m, "image", VIDEO)
    if event is VideoEvent.FACE:
        required(m, "face", VIDEO)
    if event is VideoEvent.SEEK:
        required(m, "time", VIDEO)
    return VideoMessage(
        event, id=int(field(m, "id", 0)), file=field(m, "file"), name=str(field(m, "name", "")),
        duration=float(field(m, "duration", 0.0)), width=int(field(m, "width", 0)), height=int(field(m, "height", 0)),
        image=field(m, "image"), time=float(field(m, "time", 0.0)), shown=float(field(m, "shown", -1.0)),
        error=None if error is None else VideoError(str(field(error, "name", "")), str(field(error, "message", ""))),
        face=int(field(m, "face", 0)))


def _message(cmd: VideoCommand, **fields: Any) -> dict:
    return {"type": VIDEO, "cmd": cmd.value, **fields}


@dataclass(frozen=True)
class OpenVideo:
    id: int
    file: Any

    def to_dict(self) -> dict:
        return _message(VideoCommand.OPEN, id=self.id, file=self.file)


@dataclass(frozen=True)
class RequestVideoFrame:
    id: int
    time: float             # seconds
    width: int              # the size to scale the frame to (browser.photo.scaled_size)
    height: int

    def to_dict(self) -> dict:
        return _message(VideoCommand.FRAME, id=self.id, time=self.time, width=self.width, height=self.height)


@dataclass(frozen=True)
class CloseVideo:
    def to_dict(self) -> dict:
        return _message(VideoCommand.CLOSE)


@dataclass(frozen=True)
class PreviewVideo:
    file: Any               # the analysed File (None: let the preview's file go)
    time: float             # seconds: an analysed frame's media time

    def to_dict(self) -> dict:
        return _message(VideoCommand.PREVIEW, file=self.file, time=self.time)
