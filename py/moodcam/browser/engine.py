"""The engine's entry: app/engine.js calls `start(start_message, post)` once Python is ready.

It parses the start message, builds the Session (the composition root), boots it in the
background and returns the handler app/engine.js calls with every later message from the
page. Each message is parsed into its typed form (browser.messages, which names them all)
and routed: camera frames and answers to the camera, the rest to the booted app's parts.
Until boot has succeeded only what needs no app is carried out: settings are kept, the
error button works, figures answer, visibility is remembered. Runs the same in the worker
and, as the fallback, on the page.
"""
from __future__ import annotations

import traceback
from typing import Any, Callable

from .failures import Action, crashed
from .interop import js_object, now_ms
from .messages import (CalibrationMessage, CameraMessage, Command, CommandMessage, ControlMessage, EngineMessage,
                       FrameMessage, PhotoMessage, QueryMessage, StartMessage, TeachMessage, VideoMessage,
                       VisibilityMessage, parse_page_message)
from .queries import answer
from .session import Session
from .settings import coerce
from .video_messages import VideoEvent

VIDEO_COMMANDS = {Command.VIDEO_EXPORT_CSV: "csv", Command.VIDEO_EXPORT_SUMMARY: "summary",
                  Command.VIDEO_EXPORT_JSON: "json"}


def start(start_message: Any, post_js: Any) -> Callable[[Any], None]:
    def post(message: EngineMessage) -> None:
        post_js(js_object(message.to_dict()))

    start = parse_page_message(start_message)
    if not isinstance(start, StartMessage):
        raise ValueError(f"the engine's first message must be a start message, not {str(start.type)!r}")
    session = Session(start, post)
    session.perf.mark("engine-start", now_ms())

    async def boot() -> None:
        try:
            await session.boot()
        except Exception as error:  # noqa: BLE001 - anything unforeseen still ends visible
            traceback.print_exc()
            session.status.fail(crashed(f"{type(error).__name__}: {error}"))
        session.ui.flush()

    session.tasks.spawn(boot())

    def on_message(raw: Any) -> None:
        try:
            message = parse_page_message(raw)
        except ValueError as error:
            print(f"moodcam: a message the engine does not know was dropped: {error}")
            return
        route(session, message)
        session.ui.flush()

    return on_message


def route(session: Session, message: object) -> None:
    """One typed message from the page to whoever carries it out."""
    app, spawn = session.app, session.tasks.spawn
    if isinstance(message, CameraMessage):
        session.camera.on_message(message)
    elif isinstance(message, FrameMessage):
        session.camera.on_frame(message)
    elif isinstance(message, QueryMessage):
        session.post(answer(session, message))
    elif isinstance(message, VisibilityMessage):
        session.hidden = message.hidden
        if message.hidden:
            session.page_hidden()
        if app is not None:
            spawn(app.flow.visibility(message.hidden))
    elif isinstance(message, CommandMessage) and message.name is Command.ACTION and message.action is not None:
        session.actions.act(Action(message.action))
    elif isinstance(message, ControlMessage):
        if app is not None:
            app.controls.on_control(message.name, message.value)
        else:
            keep_setting(session, message)
    elif app is None:
        before_boot(session, message)
    elif isinstance(message, VideoMessage):
        if message.event is VideoEvent.CHOSEN:
            spawn(app.video.choose(message.file, message.name))
        elif message.event is VideoEvent.FACE:
            app.video.choose_face(message.face)
        elif message.event is VideoEvent.SEEK:
            app.video.seek(message.time)
        else:
            app.video.on_message(message)
    elif isinstance(message, CommandMessage) and message.name is Command.VIDEO_CANCEL:
        app.video.cancel()
    elif isinstance(message, CommandMessage) and message.name is Command.VIDEO_KEEP:
        app.video.keep()
    elif isinstance(message, CommandMessage) and message.name is Command.VIDEO_SWITCH:
        spawn(app.video.switch())
    elif isinstance(message, CommandMessage) and message.name in VIDEO_COMMANDS:
        app.video.export(VIDEO_COMMANDS[message.name])
    elif isinstance(message, CommandMessage):
        app.controls.on_command(message.name)
    elif isinstance(message, PhotoMessage):
        spawn(app.flow.analyse_photo(message.file, message.name))
    elif isinstance(message, (TeachMessage, CalibrationMessage)) and app.teach is None:
        session.ui.notice(TEACH_NEEDS_FACES)
    elif isinstance(message, TeachMessage) and app.teach is not None:
        app.teach.on_teach(message.cmd, list(message.moods), message.name)
    elif isinstance(message, CalibrationMessage) and app.teach is not None:
        app.teach.on_calibration(message.cmd, message.id, message.name, message.file)


TEACH_NEEDS_FACES = ("Teach mode reads faces, and a custom detector is running: choose “faces” under Detect "
                     "to teach it your face.")
STILL_LOADING = "Still loading the models: {what} once they are ready."


def before_boot(session: Session, message: object) -> None:
    """A message that needs the booted app arrived during start-up: nothing is dropped without a word.
    A photo is kept (the newest one) and analysed as soon as boot ends."""
    if isinstance(message, PhotoMessage):
        session.pending_photo = message
        session.ui.notice(STILL_LOADING.format(what="the photo will be analysed"))
    elif isinstance(message, (TeachMessage, CalibrationMessage)):
        session.ui.notice(STILL_LOADING.format(what="teach mode and calibrations open"))
    elif isinstance(message, VideoMessage):
        if message.event is VideoEvent.CHOSEN:
            session.ui.notice(STILL_LOADING.format(what="choose the video again"))
    elif isinstance(message, CommandMessage):
        session.ui.notice(STILL_LOADING.format(what="the camera buttons work"))

def keep_setting(session: Session, message: ControlMessage) -> None:
    """A control changed before boot ended: kept, applied by the mode once it loads."""
    try:
        value = coerce(message.name, message.value)
    except (TypeError, ValueError):
        return
    session.settings.update(**{message.name: value})

