"""TF.js's backend: started at boot, switched by the setting, and recovered when WebGL loses its context.

BackendStarter picks and starts a backend (browser.backend.choose_backend), says on the page
which one runs (and why WebGL was not used), and watches WebGL's canvas for a lost context.
BackendSwitch moves the models to another backend: the loop stops (a read from a lost WebGL
context never resolves, so it waits at most 2 s), the models are rebuilt from their verified
bytes, and a running camera goes on from a fresh FrameLogic.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from . import failures
from .backend import BackendChoice, choose_backend, webgl_canvas
from .flow import FrameFlow
from .interop import ProxyBag, now_ms
from .messages import AppState
from .model_store import ModelError, ModelStore
from .settings import Settings
from .status import AppStatus
from .ui import Ui


class BackendStarter:
    def __init__(self, wasm_url: str, ui: Ui, status: AppStatus) -> None:
        self._wasm_url = wasm_url
        self._ui = ui
        self._status = status
        self._bag = ProxyBag()
        self.name = ""                                    # the backend running now ("" before the first start)
        self.on_context_lost: Callable[[Any], None] = lambda event: None    # BackendSwitch sets it

    async def start(self, preferred: str) -> BackendChoice | None:
        try:
            backend = await choose_backend(preferred, self._wasm_url)
        except RuntimeError as error:
            self._status.fail(failures.backend_unavailable(str(error)))
            return None
        self.name = backend.name
        self._ui.data("backend", backend.name)
        self._ui.text("hud-backend", backend.name)
        reason = backend.fallback_reason
        self._ui.notice(failures.webgl_fallback_note(reason) if reason else "")
        canvas = webgl_canvas() if backend.name == "webgl" else None
        if canvas is not None and not getattr(canvas, "_moodcamWatched", False):
            canvas._moodcamWatched = True
            self._bag.listen(canvas, "webglcontextlost", lambda event: self.on_context_lost(event))
        return backend


class BackendSwitch:
    def __init__(self, starter: BackendStarter, models: ModelStore, flow: FrameFlow, status: AppStatus, ui: Ui,
                 settings: Callable[[], Settings], spawn: Callable[[Any], object]) -> None:
        self._starter = starter
        self._models = models
        self._flow = flow
        self._status = status
        self._ui = ui
        self._settings = settings
        self._spawn = spawn
        self._switching = False
        starter.on_context_lost = self.context_lost

    async def switch(self, preferred: str, note: str = "") -> None:
        """Move the models to another backend (a setting change, or recovery from a lost context)."""
        if self._switching:
            return
        self._switching = True
        flow = self._flow
        loop = flow.loop
        running = loop is not None and loop.running
        try:
            if loop is not None:
                loop.stop()
                try:
                    # A read from a lost WebGL context never resolves: do not wait for it forever.
                    await asyncio.wait_for(loop.idle(), 2.0)
                except asyncio.TimeoutError:
                    pass
            self._models.dispose_all()
            if await self._starter.start(preferred) is None:
                return
            if note:
                self._ui.notice(note)      # said as soon as the backend switched, not after the rebuild
            try:
                await self._models.rebuild_all()
            except ModelError as error:
                self._status.fail(error.failure)
                return
            if loop is not None and running and loop is flow.loop:
                flow.mode.analyser.reset(self._settings(), now_ms())
                loop.start(fresh=True)
                self._status.set(AppState.RUNNING)
        finally:
            self._switching = False

    def context_lost(self, event: Any) -> None:
        # The GPU dropped our context (driver reset, too many tabs): the weights on it are gone.
        # Rebuild the models from the verified bytes we kept, on wasm, and carry on.
        event.preventDefault()
        self._ui.data("contextLost", "1")
        self._spawn(self.switch("wasm", failures.context_lost_note()))
