"""browser.messages: the typed page <-> engine messages, the ui ops, and the page and the engine agreeing on them.

The agreement tests read the string literals in app/*.js (what the page sends, what it handles,
what app/engine.js sends and handles) and compare them with the enums, both ways; the last test
renames things in a copy of the JS and checks that the comparison notices.
"""
from __future__ import annotations

import re
from dataclasses import fields
from enum import Enum
from pathlib import Path

import pytest

from moodcam.browser.failures import Action
from moodcam.browser.messages import (
    AppState, CalibrationCommand, CalibrationMessage, CameraCommand, CameraError, CameraEvent, CameraMessage,
    Canvases, CloseCamera, Command, CommandMessage, ControlMessage, DownloadMessage, EngineMessageType, FatalMessage,
    FrameMessage, GoCommand, Navigate, OpenCamera, PageMessageType, PhotoMessage, PickPhoto, Query, QueryMessage,
    Reload, ReplyMessage, RequestFrame, StartMessage, StoreMessage, TeachCommand, TeachMessage, Transport, UiMessage,
    UiOp, VisibilityMessage, check_op, parse_page_message)
from moodcam.browser.video_messages import (CloseVideo, OpenVideo, PreviewVideo, RequestVideoFrame, VideoCommand,
                                            VideoError, VideoEvent, VideoMessage)

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app"


def values(enum: type[Enum]) -> set[str]:
    return {str(member.value) for member in enum}


# == engine -> page: the builders give the dicts the page reads today ===========================
@pytest.mark.parametrize("message, expected", [
    (UiMessage([["text", "mood-label", "Happy"]]), {"type": "ui", "ops": [["text", "mood-label", "Happy"]]}),
    (OpenCamera("user", "video"), {"type": "camera", "cmd": "open", "facing": "user", "clock": "video"}),
    (CloseCamera(), {"type": "camera", "cmd": "close"}),
    (RequestFrame(), {"type": "camera", "cmd": "frame"}),
    (StoreMessage("moodcam.settings", '{"threshold": 0.5}'),
     {"type": "store", "key": "moodcam.settings", "value": '{"threshold": 0.5}'}),
    (Reload(), {"type": "go", "cmd": "reload"}),
    (Navigate("https://x.test/?model=hands"), {"type": "go", "cmd": "navigate", "href": "https://x.test/?model=hands"}),
    (PickPhoto(), {"type": "go", "cmd": "pick-photo"}),
    (DownloadMessage("moodcam-session-1.csv", "text/csv", "t,mood\n"),
     {"type": "download", "name": "moodcam-session-1.csv", "mime": "text/csv", "text": "t,mood\n"}),
    (ReplyMessage(7, "{}"), {"type": "reply", "id": 7, "json": "{}"}),
    (FatalMessage("wheel", "sha256 differs"), {"type": "fatal", "code": "wheel", "detail": "sha256 differs"}),
    (OpenVideo(2, "FILE"), {"type": "video", "cmd": "open", "id": 2, "file": "FILE"}),
    (RequestVideoFrame(2, 0.5, 640, 480), {"type": "video", "cmd": "frame", "id": 2, "time": 0.5, "width": 640,
                                           "height": 480}),
    (CloseVideo(), {"type": "video", "cmd": "close"}),
    (PreviewVideo("FILE", 5.3), {"type": "video", "cmd": "preview", "file": "FILE", "time": 5.3}),
])
def test_each_builder_gives_the_dict_the_page_reads(message, expected):
    built = message.to_dict()
    assert built == expected
    # Plain strings only: what reaches the JS conversion is what it always was, never an Enum member.
    assert all(type(value) is str for key, value in built.items() if key in ("type", "cmd"))


def test_every_engine_message_type_has_a_builder():
    builders = (UiMessage([]), OpenCamera("user", "video"), CloseCamera(), RequestFrame(), StoreMessage("k", "v"),
                Reload(), Navigate(""), PickPhoto(), DownloadMessage("", "", ""), ReplyMessage(0, ""),
                FatalMessage("", ""), OpenVideo(1, None), RequestVideoFrame(1, 0.0, 1, 1), CloseVideo(),
                PreviewVideo(None, 0.0))
    assert {b.to_dict()["type"] for b in builders} == values(EngineMessageType)
    assert {b.to_dict()["cmd"] for b in builders[-4:]} == values(VideoCommand)
    assert {b.to_dict()["cmd"] for b in builders[1:4]} == values(CameraCommand)
    assert {b.to_dict()["cmd"] for b in builders[5:8]} == values(GoCommand)


# == page -> engine: the parser ===================================================================
class Proxy:
    """A JsProxy's look: fields as attributes (an undefined one is an AttributeError), arrays with to_py."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


class JsArray(list):
    def to_py(self):
        return list(self)


BITMAP, FILE, STREAM = object(), object(), object()
CANVASES = {"overlay": object(), "still": object(), "bars": object(), "timeline": object()}

# What app/page.js, app/camera.js and app/boot.js send, and what it parses to.
SENT = [
    ({"type": "start", "site": {"wheel": "w.whl"}, "base": "https://x.test/", "href": "https://x.test/?bench=1",
      "params": {"bench": "1"}, "stored": {}, "engine": "worker", "hidden": False, "bench": True,
      "canvases": CANVASES},
     StartMessage({"wheel": "w.whl"}, "https://x.test/", "https://x.test/?bench=1", {"bench": "1"}, {}, "worker",
                  False, True, Canvases(**CANVASES))),
    ({"type": "camera", "event": "opened", "width": 640, "height": 480, "facing": "user", "transport": "stream",
      "frames": STREAM, "clock": "MediaStreamTrackProcessor", "cameras": 2},
     CameraMessage(CameraEvent.OPENED, 640, 480, "user", Transport.STREAM, STREAM, "MediaStreamTrackProcessor", 2)),
    ({"type": "camera", "event": "failed", "error": {"name": "NotAllowedError", "message": "denied"}},
     CameraMessage(CameraEvent.FAILED, error=CameraError("NotAllowedError", "denied"))),
    ({"type": "camera", "event": "ended"}, CameraMessage(CameraEvent.ENDED)),
    ({"type": "camera", "event": "frame-failed", "error": {"name": "InvalidStateError", "message": ""}},
     CameraMessage(CameraEvent.FRAME_FAILED, error=CameraError("InvalidStateError", ""))),
    ({"type": "frame", "bitmap": BITMAP, "width": 640, "height": 480}, FrameMessage(BITMAP, 640, 480)),
    ({"type": "control", "name": "threshold", "value": "0.6"}, ControlMessage("threshold", "0.6")),
    ({"type": "control", "name": "show_hud", "value": False}, ControlMessage("show_hud", False)),
    ({"type": "command", "name": "start-stop"}, CommandMessage(Command.START_STOP)),
    ({"type": "command", "name": "switch-camera"}, CommandMessage(Command.SWITCH_CAMERA)),
    ({"type": "command", "name": "save-session"}, CommandMessage(Command.SAVE_SESSION)),
    ({"type": "command", "name": "action", "action": "pick-photo"}, CommandMessage(Command.ACTION, Action.PICK_PHOTO)),
    ({"type": "photo", "file": FILE, "name": "me.jpg"}, PhotoMessage(FILE, "me.jpg")),
    ({"type": "visibility", "hidden": True}, VisibilityMessage(True)),
    ({"type": "query", "id": 3, "what": "bench"}, QueryMessage(3, Query.BENCH)),
    ({"type": "teach", "cmd": "start", "moods": ["happy", "sad"]}, TeachMessage(TeachCommand.START, ("happy", "sad"))),
    ({"type": "teach", "cmd": "record"}, TeachMessage(TeachCommand.RECORD)),
    ({"type": "teach", "cmd": "accept", "name": "Me"}, TeachMessage(TeachCommand.ACCEPT, name="Me")),
    ({"type": "calibration", "cmd": "use", "id": ""}, CalibrationMessage(CalibrationCommand.USE)),
    ({"type": "calibration", "cmd": "rename", "id": "c1", "name": "Me"},
     CalibrationMessage(CalibrationCommand.RENAME, "c1", "Me")),
    ({"type": "calibration", "cmd": "import", "id": "c1", "file": FILE, "name": "me.json"},
     CalibrationMessage(CalibrationCommand.IMPORT, "c1", "me.json", FILE)),
    ({"type": "command", "name": "video-cancel"}, CommandMessage(Command.VIDEO_CANCEL)),
    ({"type": "command", "name": "video-export-csv"}, CommandMessage(Command.VIDEO_EXPORT_CSV)),
    ({"type": "command", "name": "video-export-summary"}, CommandMessage(Command.VIDEO_EXPORT_SUMMARY)),
    ({"type": "command", "name": "video-export-json"}, CommandMessage(Command.VIDEO_EXPORT_JSON)),
    ({"type": "command", "name": "video-keep"}, CommandMessage(Command.VIDEO_KEEP)),
    ({"type": "command", "name": "video-switch"}, CommandMessage(Command.VIDEO_SWITCH)),
    ({"type": "video", "event": "face", "face": 2}, VideoMessage(VideoEvent.FACE, face=2)),
    ({"type": "video", "event": "seek", "time": 5.3}, VideoMessage(VideoEvent.SEEK, time=5.3)),
    ({"type": "video", "event": "chosen", "file": FILE, "name": "talk.mp4"},
     VideoMessage(VideoEvent.CHOSEN, file=FILE, name="talk.mp4")),
    ({"type": "video", "event": "loaded", "id": 1, "duration": 12.5, "width": 640, "height": 480},
     VideoMessage(VideoEvent.LOADED, id=1, duration=12.5, width=640, height=480)),
    ({"type": "video", "event": "frame", "id": 1, "image": BITMAP, "time": 0.1, "shown": 0.1, "width": 640,
      "height": 480}, VideoMessage(VideoEvent.FRAME, id=1, image=BITMAP, time=0.1, shown=0.1, width=640, height=480)),
    ({"type": "video", "event": "failed", "id": 1, "error": {"name": "decode", "message": ""}, "time": 3.0},
     VideoMessage(VideoEvent.FAILED, id=1, time=3.0, error=VideoError("decode", ""))),
]


def as_page_dict(message) -> dict:
    """The dict the page would send for a parsed message (nested dataclasses as dicts, tuples as lists)."""
    def plain(value):
        if isinstance(value, (CameraError, Canvases, VideoError)):
            return {f.name: getattr(value, f.name) for f in fields(value)}
        return list(value) if isinstance(value, tuple) else value
    return {"type": message.type, **{f.name: plain(getattr(message, f.name)) for f in fields(message)}}


@pytest.mark.parametrize("sent, parsed", SENT, ids=[f"{s['type']}-{s.get('event', s.get('cmd', s.get('name')))}"
                                                   for s, _ in SENT])
def test_each_page_message_parses_and_round_trips(sent, parsed):
    assert parse_page_message(sent) == parsed
    assert parse_page_message(Proxy(**sent)) == parsed           # the browser's JsProxy reads the same
    again = as_page_dict(parsed)
    assert parse_page_message(again) == parsed
    assert {k: v for k, v in again.items() if k in sent} == sent  # nothing the page sent is lost or changed


def test_every_page_message_type_and_sub_command_is_covered_above():
    sent = [s for s, _ in SENT]
    assert {s["type"] for s in sent} == values(PageMessageType)
    assert {s["event"] for s in sent if s["type"] == "camera"} == values(CameraEvent)
    assert {s["name"] for s in sent if s["type"] == "command"} == values(Command)
    assert {s["event"] for s in sent if s["type"] == "video"} == values(VideoEvent)


def test_js_values_are_converted_where_the_engine_converts_them():
    moods = JsArray(["happy"])
    assert parse_page_message(Proxy(type="teach", cmd="start", moods=moods)).moods == ("happy",)
    start = parse_page_message(Proxy(type="start", site=Proxy(to_py=lambda: {"wheel": "w"}), base="b", href="h",
                                     params=None, stored=None, canvases=Proxy(**CANVASES)))
    assert start.site == {"wheel": "w"} and start.params == {} and start.stored == {}     # null -> {} as before
    assert start.canvases.overlay is CANVASES["overlay"]                                 # canvases stay opaque


@pytest.mark.parametrize("sent, says", [
    ({"type": "hello"}, "unknown page message type 'hello'; known: start, camera, frame"),
    ({"type": "command", "name": "jump"}, "unknown command 'jump'; known: start-stop, switch-camera"),
    ({"type": "command", "name": "action", "action": ""}, "unknown action ''; known: reload, pick-photo"),
    ({"type": "camera", "event": "paused"}, "unknown camera event 'paused'; known: opened, failed, ended"),
    ({"type": "query", "id": 1, "what": "memory"}, "unknown query 'memory'; known: diagnostics, bench"),
    ({"type": "teach", "cmd": "pause"}, "unknown teach command 'pause'; known: start, record"),
    ({"type": "calibration", "cmd": "copy"}, "unknown calibration command 'copy'; known: use, rename"),
    ({"type": "frame", "width": 1, "height": 1}, "a 'frame' message from the page lacks 'bitmap'"),
    ({"name": "x"}, "a 'page' message from the page lacks 'type'"),
])
def test_unknown_messages_are_refused_with_what_is_known(sent, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_page_message(sent)


# == ui ops ========================================================================================
def test_ops_are_checked():
    assert check_op(["text", "mood-label", "Happy"]) == ["text", "mood-label", "Happy"]
    assert check_op([UiOp.HIDDEN, "hud", True]) == ["hidden", "hud", True]
    with pytest.raises(ValueError, match="unknown ui op"):
        check_op(["innerHTML", "x", "<b>"])
    with pytest.raises(ValueError, match="takes"):
        check_op(["text", "only-one"])


# == the page and the engine agree =================================================================
def app_sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(APP.glob("*.js"))} | {
        "index.html": (REPO / "index.html").read_text(), "style.css": (APP / "style.css").read_text(),
        "bench": "".join(path.read_text() for path in sorted((REPO / "bench").glob("*.py")))}


def literals(pattern: str, text: str) -> set[str]:
    return set(re.findall(pattern, text))


def handled_in_case(page: str, case: str) -> set[str]:
    """The `message.cmd === "..."` comparisons inside one `case "...":` of page.js's receive()."""
    block = page[page.index(f'case "{case}":'):]
    block = re.split(r'\n\s*(?:case "|default:)', block[1:], maxsplit=1)[0]
    return literals(r'message\.cmd === "([\w-]+)"', block)


def disagreements(src: dict[str, str]) -> list[str]:
    """Every name one side uses and the other does not know (empty when the page and the engine agree)."""
    page, engine, boot, camera, video = src["page.js"], src["engine.js"], src["boot.js"], src["camera.js"], src["video.js"]
    page_side = page + boot + camera + video
    ops_block = page[page.index("const OPS = {"):page.index("function apply(")]
    found = {
        # page -> engine: the types the page sends; app/engine.js takes "start", Python the rest
        "page sends": (literals(r'\btype: "([\w-]+)"', page_side), values(PageMessageType)),
        "app/engine.js handles": (literals(r'message\.type === "([\w-]+)"', engine), {PageMessageType.START.value}),
        "camera events": (literals(r'\bevent: "([\w-]+)"', camera), values(CameraEvent)),
        "video events": (literals(r'\bevent: "([\w-]+)"', video + page), values(VideoEvent)),
        "video commands": (literals(r'message\.cmd === "([\w-]+)"', video), values(VideoCommand)),
        "commands": (literals(r'type: "command", name: "([\w-]+)"', page), values(Command)),
        "teach commands": (literals(r'\bteach\("([\w-]+)"', page), values(TeachCommand)),
        "calibration commands": (literals(r'\bcalibration\("([\w-]+)"', page), values(CalibrationCommand)),
        "queries": (literals(r'\bquery\(["\']([\w-]+)["\']\)', page_side + src["bench"]), values(Query)),
        # engine -> page: Python's types plus what app/engine.js sends itself, and what the page handles
        "page handles": (literals(r'\bcase "([\w-]+)":', page) | literals(r'message\.type === "([\w-]+)"', boot),
                         values(EngineMessageType)),
        "app/engine.js sends": (literals(r'\btype: "([\w-]+)"', engine),
                                {EngineMessageType.UI.value, EngineMessageType.FATAL.value}),
        "camera commands": (handled_in_case(page, "camera"), values(CameraCommand)),
        "go commands": (handled_in_case(page, "go"), values(GoCommand)),
        "ui ops applied": (literals(r'(?m)^    (\w+): ', ops_block), values(UiOp)),
    }
    problems = [f"{what}: only in the JS {sorted(js - py)}, only in Python {sorted(py - js)}"
                for what, (js, py) in found.items() if js != py]
    # Named by the JS but only some of each: they must be known here.
    partial = {
        "ui ops app/engine.js sends": literals(r'\[\["(\w+)"', engine) - values(UiOp),
        "app states": (literals(r'appState [!=]==? "(\w+)"', boot)
                       | literals(r'data-app-state="(\w+)"', src["index.html"] + src["style.css"])) - values(AppState),
    }
    return problems + [f"{what}: unknown to Python {sorted(names)}" for what, names in partial.items() if names]


def test_the_page_and_the_engine_agree_on_every_message():
    assert disagreements(app_sources()) == []


@pytest.mark.parametrize("file, old, new, says", [
    ("page.js", 'type: "visibility"', 'type: "visible"',
     "page sends: only in the JS ['visible'], only in Python ['visibility']"),
    ("page.js", 'case "store":', 'case "keep":', "page handles: only in the JS ['keep'], only in Python ['store']"),
    ("page.js", 'message.cmd === "pick-photo"', 'message.cmd === "photo"', "go commands"),
    ("page.js", 'message.cmd === "frame"', 'message.cmd === "next"', "camera commands"),
    ("page.js", 'name: "save-session"', 'name: "save"', "commands"),
    ("page.js", 'teach("record")', 'teach("rec")', "teach commands"),
    ("page.js", 'calibration("export")', 'calibration("download")', "calibration commands"),
    ("page.js", '    legend: ', '    key: ', "ui ops applied"),
    ("camera.js", 'event: "ended"', 'event: "stopped"', "camera events"),
    ("video.js", 'event: "loaded"', 'event: "ready"', "video events"),
    ("video.js", 'message.cmd === "frame"', 'message.cmd === "seek"', "video commands"),
    ("page.js", 'case "video":', 'case "film":', "page handles"),
    ("boot.js", 'message.type === "fatal"', 'message.type === "died"', "page handles"),
    ("boot.js", 'type: "start"', 'type: "boot"', "page sends"),
    ("boot.js", 'appState === "error"', 'appState === "broken"', "app states: unknown to Python ['broken']"),
    ("engine.js", 'type: "fatal"', 'type: "crash"', "app/engine.js sends"),
    ("engine.js", 'message.type === "start"', 'message.type === "boot"', "app/engine.js handles"),
    ("engine.js", '[["progress"', '[["bar"', "ui ops app/engine.js sends: unknown to Python ['bar']"),
])
def test_a_renamed_message_is_noticed(file, old, new, says):
    src = app_sources()
    assert old in src[file], f"{file} no longer has {old!r}: update this test's renames"
    src[file] = src[file].replace(old, new)
    assert any(says in problem for problem in disagreements(src)), disagreements(src)


def test_the_engine_routes_every_teach_and_calibration_command():
    # Read from the browser layer's source until it dispatches on the typed messages: the
    # string or the enum member counts, in whichever module handles it.
    source = "".join(path.read_text() for path in sorted((REPO / "py/moodcam/browser").glob("*.py"))
                     if path.name not in ("messages.py", "protocol.py"))
    for kind, typed in ((PageMessageType.TEACH, TeachMessage), (PageMessageType.CALIBRATION, CalibrationMessage)):
        assert f'kind == "{kind}"' in source or typed.__name__ in source, kind
    for cmd in [*TeachCommand, *CalibrationCommand]:
        assert f'cmd == "{cmd}"' in source or f"{type(cmd).__name__}.{cmd.name}" in source, cmd
