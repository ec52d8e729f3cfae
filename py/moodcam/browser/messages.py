"""Every message between the page (app/page.js, app/camera.js, app/boot.js) and the engine, typed.

The engine runs in a dedicated worker (app/worker.js), or on the page itself where the
browser lacks what the worker needs (app/boot.js says which in <html data-engine>); the
messages are the same either way. This module is the one place that names them: the enums
below hold every type, command and event, and tests/browser_logic/test_messages.py checks
them against the string literals in app/*.js, both ways.

Page -> engine
==============
| type         | fields                                                     | meaning |
|--------------|------------------------------------------------------------|---------|
| start        | site, base, href, params, stored, engine, hidden, bench, canvases {overlay, still, bars, timeline} | boot Python (first message; canvases are OffscreenCanvases in the worker) |
| camera       | event: opened {width, height, facing, transport, frames, clock, cameras} / failed {error {name, message}} / ended / frame-failed {error} | what the camera did |
| frame        | bitmap, width, height                                       | one camera frame (transport "bitmap") |
| control      | name (a Settings field), value                              | a control changed |
| command      | name: start-stop / switch-camera / save-session / video-cancel / video-export-csv / -summary / -json / video-keep / video-switch / action (+ action: an Action value) | a button |
| photo        | file, name                                                  | analyse this photo |
| visibility   | hidden                                                      | the page was hidden / shown |
| query        | id, what: diagnostics / bench                               | figures for tests and bench/ |
| teach        | cmd: start {moods} / record / cancel / accept {name} / discard | teach mode (browser.teach_panel) |
| calibration  | cmd: use {id} / rename {id, name} / delete {id} / export {id} / import {file, name} | stored calibrations (browser.calibrations); id "" = the generic net |
| video        | event: chosen {file, name} / loaded / frame / failed / face {face} / seek {time} (browser.video_messages) | a video file to analyse, its decoded frames, the report's clicks |

Engine -> page
==============
| type    | fields                                          | meaning |
|---------|-------------------------------------------------|---------|
| ui      | ops: [[op, ...args], ...]  (UI_OPS below)        | DOM patches, applied in order |
| camera  | cmd: open {facing, clock} / close / frame         | open or close the camera; send one frame |
| video   | cmd: open {id, file} / frame {id, time, width, height} / close / preview {file, time} | decode a video file's frames; the report's preview (browser.video_messages) |
| store   | key, value                                       | keep in localStorage |
| go      | cmd: reload / navigate {href} / pick-photo        | what only the page can do |
| download | name, mime, text                                | save a file made on this device (Save session) |
| reply   | id, json                                         | the answer to a query |
| fatal   | code, detail                                     | the engine could not boot (built by app/engine.js) |

Engine -> page: a frozen dataclass each, whose `to_dict()` is the plain dict the page reads
(plain `str` values, never an Enum member). Page -> engine: `parse_page_message` turns what the
page sent (a JsProxy in the browser, a dict in CPython tests) into a dataclass, or a ValueError
naming what is unknown and what is known. JS objects (files, bitmaps, canvases, the frame
stream) stay opaque (`Any`); plain data (site, params, stored, moods) is converted with
`.to_py()`, as the engine always did. Pure Python: no JS here, so all of it runs in CPython.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from .failures import Action
from .message_fields import field as _field, member as _member, plain_dict as _plain_dict
from .message_fields import required as _required, to_py as _to_py
from .video_messages import (VIDEO, CloseVideo, OpenVideo, PreviewVideo, RequestVideoFrame, VideoMessage,
                             parse_video)


# == the names ====================================================================================
class PageMessageType(StrEnum):
    START = "start"
    CAMERA = "camera"
    FRAME = "frame"
    CONTROL = "control"
    COMMAND = "command"
    PHOTO = "photo"
    VISIBILITY = "visibility"
    QUERY = "query"
    TEACH = "teach"
    CALIBRATION = "calibration"
    VIDEO = VIDEO


class EngineMessageType(StrEnum):
    UI = "ui"
    CAMERA = "camera"
    STORE = "store"
    GO = "go"
    DOWNLOAD = "download"
    REPLY = "reply"
    FATAL = "fatal"
    VIDEO = VIDEO


class Command(StrEnum):     # the page's buttons; ACTION carries a failures.Action
    START_STOP = "start-stop"
    SWITCH_CAMERA = "switch-camera"
    SAVE_SESSION = "save-session"
    VIDEO_CANCEL = "video-cancel"                  # the video's buttons (browser.video)
    VIDEO_EXPORT_CSV = "video-export-csv"
    VIDEO_EXPORT_SUMMARY = "video-export-summary"
    VIDEO_EXPORT_JSON = "video-export-json"
    VIDEO_KEEP = "video-keep"                      # the question when a second video is chosen: keep analysing
    VIDEO_SWITCH = "video-switch"                  # ... or analyse the new one
    ACTION = "action"


class CameraEvent(StrEnum):
    OPENED = "opened"
    FAILED = "failed"
    ENDED = "ended"
    FRAME_FAILED = "frame-failed"


class Transport(StrEnum):   # how an opened camera's frames reach the engine (app/camera.js decides)
    STREAM = "stream"      # a MediaStreamTrackProcessor's ReadableStream, in `frames`
    BITMAP = "bitmap"      # one "frame" message per "camera" cmd "frame"


class CameraCommand(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    FRAME = "frame"


class GoCommand(StrEnum):
    RELOAD = "reload"
    NAVIGATE = "navigate"
    PICK_PHOTO = "pick-photo"


class Query(StrEnum):
    DIAGNOSTICS = "diagnostics"
    BENCH = "bench"


class TeachCommand(StrEnum):
    START = "start"
    RECORD = "record"
    CANCEL = "cancel"
    ACCEPT = "accept"
    DISCARD = "discard"


class CalibrationCommand(StrEnum):
    USE = "use"
    RENAME = "rename"
    DELETE = "delete"
    EXPORT = "export"
    IMPORT = "import"


class AppState(StrEnum):    # <html data-app-state> (browser.session): loading -> running | ready | paused | error
    LOADING = "loading"
    RUNNING = "running"      # the camera loop runs
    READY = "ready"          # no loop: waiting for the camera, or showing a photo's analysis
    PAUSED = "paused"        # the page is hidden
    ERROR = "error"          # nothing can work (a model failed its checksum...)


class UiOp(StrEnum):
    TEXT = "text"
    DATA = "data"
    ELDATA = "eldata"
    HIDDEN = "hidden"
    PROP = "prop"
    ATTR = "attr"
    STYLE = "style"
    CLS = "cls"
    ITEMS = "items"
    OPTIONS = "options"
    LEGEND = "legend"
    PROGRESS = "progress"
    TABLE = "table"
    SVG = "svg"
    FOCUS = "focus"


# op -> its arguments (app/page.js applies them; ids are element ids).
UI_OPS: dict[UiOp, tuple[str, ...]] = {
    UiOp.TEXT: ("id", "text"),
    UiOp.DATA: ("key", "value"),                  # <html data-KEY>
    UiOp.ELDATA: ("id", "key", "value"),          # #id[data-KEY]
    UiOp.HIDDEN: ("id", "hidden"),
    UiOp.PROP: ("id", "name", "value"),           # value, checked, disabled, title, min, max, step
    UiOp.ATTR: ("id", "name", "value"),
    UiOp.STYLE: ("id", "property", "value"),      # style.setProperty (CSS custom properties)
    UiOp.CLS: ("id", "class", "on"),
    UiOp.ITEMS: ("id", "texts"),                  # a list's <li>s
    UiOp.OPTIONS: ("id", "options", "selected"),  # a <select>'s options: [[value, text], ...]
    UiOp.LEGEND: ("id", "entries"),               # face-parts legend: [{name, label, color}]
    UiOp.PROGRESS: ("fraction", "text"),          # the loading bar (also sent by app/engine.js)
    # A table's head and body: head [text, ...], rows [[cell, ...], ...]; a cell is a text or a
    # strip {"text": what a screen reader says, "spans": [[from, to (0..1), colour, label], ...]}.
    # a cell may also be {"image": a data URL, "alt"} or {"button": its words, "face": id, "pressed"} /
    # {"button", "seek": seconds}; a row may be {"cells": [...], "face": id, "chosen": bool} (tr[data-face]).
    # A strip's {"from", "to"} (seconds) become data-seek-from/-to: a click on it is a moment.
    UiOp.TABLE: ("id", "head", "rows"),
    UiOp.SVG: ("id", "markup"),                   # the element's content: one <svg> parsed from markup ("" empties it)
    UiOp.FOCUS: ("id",),                          # move the keyboard's focus to the element
}


def check_op(op: list) -> list:
    """`op` unchanged if it is a known op with the right number of arguments, else ValueError."""
    if not op or op[0] not in UI_OPS:
        raise ValueError(f"unknown ui op {op[:1]!r}; known: {', '.join(UI_OPS)}")
    if len(op) - 1 != len(UI_OPS[op[0]]):
        raise ValueError(f"ui op {op[0]!r} takes {UI_OPS[op[0]]}, got {len(op) - 1} arguments")
    return op


# == engine -> page: one dataclass and one builder (to_dict) per message ==========================
def _message(kind: EngineMessageType, **fields: Any) -> dict:
    return {"type": kind.value, **fields}


@dataclass(frozen=True)
class UiMessage:  # DOM patches, applied in order; each op was checked (check_op) when it was queued
    ops: list[list]

    def to_dict(self) -> dict:
        return _message(EngineMessageType.UI, ops=self.ops)


@dataclass(frozen=True)
class OpenCamera:
    facing: str          # "user" | "environment"
    clock: str           # what paces bitmap frames: "video" (requestVideoFrameCallback) | "raf"

    def to_dict(self) -> dict:
        return _message(EngineMessageType.CAMERA, cmd=CameraCommand.OPEN.value, facing=self.facing, clock=self.clock)


@dataclass(frozen=True)
class CloseCamera:
    def to_dict(self) -> dict:
        return _message(EngineMessageType.CAMERA, cmd=CameraCommand.CLOSE.value)


@dataclass(frozen=True)
class RequestFrame:
    """Ask the page for one ImageBitmap (the "bitmap" transport); it comes as a "frame" message."""

    def to_dict(self) -> dict:
        return _message(EngineMessageType.CAMERA, cmd=CameraCommand.FRAME.value)


@dataclass(frozen=True)
class StoreMessage:
    key: str             # browser.settings.STORAGE_KEY, the one thing kept today
    value: str           # JSON text

    def to_dict(self) -> dict:
        return _message(EngineMessageType.STORE, key=self.key, value=self.value)


@dataclass(frozen=True)
class Reload:
    def to_dict(self) -> dict:
        return _message(EngineMessageType.GO, cmd=GoCommand.RELOAD.value)


@dataclass(frozen=True)
class Navigate:
    href: str

    def to_dict(self) -> dict:
        return _message(EngineMessageType.GO, cmd=GoCommand.NAVIGATE.value, href=self.href)


@dataclass(frozen=True)
class PickPhoto:
    def to_dict(self) -> dict:
        return _message(EngineMessageType.GO, cmd=GoCommand.PICK_PHOTO.value)


@dataclass(frozen=True)
class DownloadMessage:  # a file made on this device, saved by the browser (nothing is uploaded)
    name: str
    mime: str
    text: str

    def to_dict(self) -> dict:
        return _message(EngineMessageType.DOWNLOAD, name=self.name, mime=self.mime, text=self.text)


@dataclass(frozen=True)
class ReplyMessage:
    id: int              # the query's id
    json: str            # the answer, as JSON text

    def to_dict(self) -> dict:
        return _message(EngineMessageType.REPLY, id=self.id, json=self.json)


@dataclass(frozen=True)
class FatalMessage:  # built by app/engine.js when the engine cannot boot (named here so the table is whole)
    code: str            # pyodide | tfjs | wheel | python
    detail: str

    def to_dict(self) -> dict:
        return _message(EngineMessageType.FATAL, code=self.code, detail=self.detail)


EngineMessage = (UiMessage | OpenCamera | CloseCamera | RequestFrame | StoreMessage | Reload | Navigate | PickPhoto
                 | DownloadMessage | ReplyMessage | FatalMessage | OpenVideo | RequestVideoFrame | CloseVideo
                 | PreviewVideo)
Post = Callable[[EngineMessage], None]


# == page -> engine: one dataclass per message, field names as the page sends them =================
@dataclass(frozen=True)
class Canvases:  # the engine's canvases: OffscreenCanvases in the worker, the page's <canvas> elements on the page
    overlay: Any
    still: Any
    bars: Any
    timeline: Any


@dataclass(frozen=True)
class StartMessage:
    type: ClassVar[PageMessageType] = PageMessageType.START
    site: dict            # site.json
    base: str             # the site's base URL
    href: str             # the page's address
    params: dict          # the URL's query parameters
    stored: dict          # localStorage's moodcam.* entries
    engine: str           # "worker" | "page"
    hidden: bool
    bench: bool           # ?bench=1
    canvases: Canvases


@dataclass(frozen=True)
class CameraError:
    name: str             # a DOMException name, or "insecure-context" / "no-camera-api"
    message: str


@dataclass(frozen=True)
class CameraMessage:  # what the camera did; the fields past `event` are those its event carries (see the table)
    type: ClassVar[PageMessageType] = PageMessageType.CAMERA
    event: CameraEvent
    width: int = 0
    height: int = 0
    facing: str = ""
    transport: Transport | None = None
    frames: Any = None    # the ReadableStream of VideoFrames (transport "stream")
    clock: str = ""       # the name of what paces the frames (for <html data-clock>)
    cameras: int = 0
    error: CameraError | None = None


@dataclass(frozen=True)
class FrameMessage:
    type: ClassVar[PageMessageType] = PageMessageType.FRAME
    bitmap: Any           # an ImageBitmap: whoever takes it closes it
    width: int
    height: int


@dataclass(frozen=True)
class ControlMessage:
    type: ClassVar[PageMessageType] = PageMessageType.CONTROL
    name: str             # a Settings field (browser.settings.coerce checks name and value)
    value: Any


@dataclass(frozen=True)
class CommandMessage:
    type: ClassVar[PageMessageType] = PageMessageType.COMMAND
    name: Command
    action: Action | None = None      # set for Command.ACTION only


@dataclass(frozen=True)
class PhotoMessage:
    type: ClassVar[PageMessageType] = PageMessageType.PHOTO
    file: Any             # a File (or Blob)
    name: str


@dataclass(frozen=True)
class VisibilityMessage:
    type: ClassVar[PageMessageType] = PageMessageType.VISIBILITY
    hidden: bool


@dataclass(frozen=True)
class QueryMessage:
    type: ClassVar[PageMessageType] = PageMessageType.QUERY
    id: int
    what: Query


@dataclass(frozen=True)
class TeachMessage:
    type: ClassVar[PageMessageType] = PageMessageType.TEACH
    cmd: TeachCommand
    moods: tuple[str, ...] = ()       # START: the moods to teach
    name: str = ""                    # ACCEPT: the calibration's name


@dataclass(frozen=True)
class CalibrationMessage:
    type: ClassVar[PageMessageType] = PageMessageType.CALIBRATION
    cmd: CalibrationCommand
    id: str = ""          # the selected calibration; "" = the generic net
    name: str = ""        # RENAME: the new name; IMPORT: the file's name
    file: Any = None      # IMPORT: a File


PageMessage = (StartMessage | CameraMessage | FrameMessage | ControlMessage | CommandMessage | PhotoMessage
               | VisibilityMessage | QueryMessage | TeachMessage | CalibrationMessage | VideoMessage)


# == the parser ===================================================================================
def _start(m: Any) -> StartMessage:
    found = _required(m, "canvases", "start")
    canvases = Canvases(*(_field(found, name) for name in ("overlay", "still", "bars", "timeline")))
    return StartMessage(site=dict(_to_py(_required(m, "site", "start"))), base=str(_required(m, "base", "start")),
                        href=str(_required(m, "href", "start")), params=_plain_dict(_field(m, "params")),
                        stored=_plain_dict(_field(m, "stored")), engine=str(_field(m, "engine", "")),
                        hidden=bool(_field(m, "hidden", False)), bench=bool(_field(m, "bench", False)),
                        canvases=canvases)


def _camera(m: Any) -> CameraMessage:
    event = _member(CameraEvent, _required(m, "event", "camera"), "camera event")
    transport, error = _field(m, "transport"), _field(m, "error")
    return CameraMessage(
        event, width=int(_field(m, "width", 0)), height=int(_field(m, "height", 0)),
        facing=str(_field(m, "facing", "")),
        transport=None if transport is None else _member(Transport, transport, "camera transport"),
        frames=_field(m, "frames"), clock=str(_field(m, "clock", "")), cameras=int(_field(m, "cameras", 0)),
        error=None if error is None else CameraError(str(_field(error, "name", "")), str(_field(error, "message", ""))))


def _frame(m: Any) -> FrameMessage:
    return FrameMessage(_required(m, "bitmap", "frame"), int(_required(m, "width", "frame")),
                        int(_required(m, "height", "frame")))


def _control(m: Any) -> ControlMessage:
    return ControlMessage(str(_required(m, "name", "control")), _field(m, "value"))


def _command(m: Any) -> CommandMessage:
    name = _member(Command, _required(m, "name", "command"), "command")
    if name is Command.ACTION:
        return CommandMessage(name, _member(Action, _required(m, "action", "command"), "action"))
    return CommandMessage(name)


def _photo(m: Any) -> PhotoMessage:
    return PhotoMessage(_required(m, "file", "photo"), str(_field(m, "name", "photo")))


def _visibility(m: Any) -> VisibilityMessage:
    return VisibilityMessage(bool(_required(m, "hidden", "visibility")))


def _query(m: Any) -> QueryMessage:
    return QueryMessage(int(_required(m, "id", "query")), _member(Query, _required(m, "what", "query"), "query"))


def _teach(m: Any) -> TeachMessage:
    cmd = _member(TeachCommand, _required(m, "cmd", "teach"), "teach command")
    moods = tuple(str(mood) for mood in _to_py(_field(m, "moods", [])))
    return TeachMessage(cmd, moods=moods, name=str(_field(m, "name", "")))


def _calibration(m: Any) -> CalibrationMessage:
    cmd = _member(CalibrationCommand, _required(m, "cmd", "calibration"), "calibration command")
    return CalibrationMessage(cmd, id=str(_field(m, "id", "")), name=str(_field(m, "name", "")),
                              file=_field(m, "file"))


_PARSERS: dict[PageMessageType, Callable[[Any], PageMessage]] = {
    PageMessageType.START: _start, PageMessageType.CAMERA: _camera, PageMessageType.FRAME: _frame,
    PageMessageType.CONTROL: _control, PageMessageType.COMMAND: _command, PageMessageType.PHOTO: _photo,
    PageMessageType.VISIBILITY: _visibility, PageMessageType.QUERY: _query, PageMessageType.TEACH: _teach,
    PageMessageType.CALIBRATION: _calibration, PageMessageType.VIDEO: parse_video,
}


def parse_page_message(message: Any) -> PageMessage:
    """The typed form of a message from the page (a JsProxy, or a dict in tests).

    Raises ValueError naming an unknown type, command, event or query and listing the known
    ones, or naming a field the message lacks."""
    kind = _member(PageMessageType, _required(message, "type", "page"), "page message type")
    return _PARSERS[kind](message)
