"""The engine's entry: app/engine.js calls `start(start_message, post)` once Python is ready.

It builds the Session and its Controls, boots them in the background and returns the
handler app/engine.js calls with every later message from the page (the table is in
browser.protocol). Runs the same in the worker and, as the fallback, on the page.
"""
from __future__ import annotations

from typing import Any, Callable

from .controls import Controls
from .failures import crashed
from .interop import js_object
from .session import Session, now_ms


def start(start_message: Any, post_js: Any) -> Callable[[Any], None]:
    def post(message: dict) -> None:
        post_js(js_object(message))

    session = Session(start_message, post)
    controls = Controls(session)
    session.on_context_lost = controls.context_lost
    session.perf.mark("engine-start", now_ms())

    async def boot() -> None:
        try:
            await session.boot(controls.show_settings, controls.sync_mesh)
        except Exception as error:  # noqa: BLE001 - anything unforeseen still ends visible
            import traceback

            traceback.print_exc()
            session.fail(crashed(f"{type(error).__name__}: {error}"))
        session.ui.flush()

    session.tasks.spawn(boot())
    tasks = session.tasks

    def on_message(message: Any) -> None:
        kind = str(message.type)
        if kind == "camera":
            session.camera.on_message(message)
        elif kind == "frame":
            session.camera.on_frame(message)
        elif kind == "control":
            controls.on_control(message)
        elif kind == "command":
            controls.on_command(message)
        elif kind == "photo":
            tasks.spawn(controls.photo(message.file, str(message.name)))
        elif kind == "visibility":
            tasks.spawn(controls.visibility(bool(message.hidden)))
        elif kind == "query":
            controls.query(message)
        elif kind == "teach" and session.teach is not None:
            session.teach.on_teach(message)
        elif kind == "calibration" and session.teach is not None:
            session.teach.on_calibration(message)
        session.ui.flush()

    return on_message
