"""Frames into the active mode: the camera's FrameLoop and a photo's burst, both through one
FrameRunner (browser.runner) and one FramePresenter.

FrameFlow owns where frames come from now (`source`: "camera", "photo" or "video"), the loop, and
what follows from the page being hidden; it reaches the rest of the app only through the
narrow parts it is given (the mode, the status, the ui, the camera, the photo).
"""
from __future__ import annotations

import traceback
from typing import Callable

from . import failures
from .camera import CameraSession
from .failures import Failure
from .frames import FrameReader, chain_check
from .interop import now_ms
from .loop import Frame, FrameLoop
from .messages import AppState
from .modes import Mode
from .photo import PhotoMode, decode
from .present import FramePresenter
from .runner import FrameInput, FrameJob, FrameRunner
from .settings import Settings
from .status import AppStatus
from .tasks import Tasks
from .ui import Ui


class FrameFlow:
    def __init__(self, *, mode: Mode, runner: FrameRunner, presenter: FramePresenter, camera: CameraSession,
                 photo: PhotoMode, reader: FrameReader, status: AppStatus, ui: Ui, tasks: Tasks,
                 settings: Callable[[], Settings], backend: Callable[[], str], hidden: bool,
                 on_camera_frame: Callable[[FrameJob], None]) -> None:
        self.mode = mode
        self.runner = runner
        self.presenter = presenter
        self.camera = camera
        self.photo = photo
        self._reader = reader
        self._status = status
        self._ui = ui
        self._tasks = tasks
        self._settings = settings
        self._backend = backend
        self._on_camera_frame = on_camera_frame
        self.hidden = hidden
        self.loop: FrameLoop | None = None        # None while the camera is not running
        self.source = ""                          # "camera" | "photo" | "video": what the picture shows
        self._photo_ticket = 0                    # the newest photo chosen; an older one that decodes later gives way
        self._chain_checked = False

    @property
    def camera_running(self) -> bool:
        return self.loop is not None and self.source == "camera"

    # == camera ==================================================================================
    async def start_camera(self) -> None:
        self.stop_camera()
        s = self._settings()
        await self.camera_opened(await self.camera.open(s.facing, s.clock))

    async def camera_opened(self, failure: Failure | None) -> None:
        source = self.camera.source
        if failure is not None or source is None:
            self._status.fail(failure or failures.camera_ended())
            self._start_label(False)
            return
        await self.photo.cancel()
        self._status.clear_failure()
        ui = self._ui
        ui.hidden("video", False)
        ui.hidden("still", True)
        ui.toggle_class("video", "mirrored", self.camera.mirrored)
        self.source = "camera"
        ui.data("source", "camera")
        ui.data("clock", self.camera.clock_name)
        one = self.camera.cameras < 2
        ui.prop("switch-camera", "disabled", one)
        ui.prop("switch-camera", "title", "Only one camera was found" if one else "")
        self.mode.analyser.reset(self._settings(), now_ms())
        self.loop = FrameLoop(source, self._camera_frame, self._tasks)
        self._start_label(True)
        if self.hidden:
            self._status.set(AppState.PAUSED)
            return
        self.loop.start()
        self._status.set(AppState.RUNNING)

    def stop_camera(self) -> None:
        if self.loop is not None:
            self.loop.stop()
            self.loop = None
        self.camera.close()
        self._start_label(False)

    def camera_ended(self) -> None:
        self.stop_camera()
        self.mode.renderer.clear()
        self._status.set(AppState.READY)
        self._status.fail(failures.camera_ended())

    def stop_by_request(self) -> None:
        """The Stop camera button."""
        self.stop_camera()
        self.mode.renderer.clear()
        self._status.set(AppState.READY)

    def _start_label(self, running: bool) -> None:
        self._ui.text("start-stop", "Stop camera" if running else "Start camera")
        self._ui.op("attr", "start-stop", "aria-pressed", "true" if running else "false")

    async def _camera_frame(self, frame: Frame) -> None:
        if frame.width == 0 or frame.height == 0:
            return
        now = now_ms()
        job_input = FrameInput(frame.image, frame.width, frame.height, now, now, source="camera",
                               mirrored=self.camera.mirrored)
        try:
            job = await self.runner.run(self.mode.analyser, job_input, self.presenter)
        except Exception as error:  # noqa: BLE001 - shown on the page; the loop stops
            traceback.print_exc()
            if self.loop is not None:
                self.loop.stop()
            self._status.unexpected(error)
            return
        self.mode.frame_done(job)
        self._on_camera_frame(job)
        if not self._chain_checked:
            self._chain_checked = True
            self._ui.text("hud-chain", chain_check(self._reader, frame.image, frame.width, frame.height,
                                                   self._backend()))

    # == photo ===================================================================================
    async def analyse_photo(self, file: object, name: str) -> None:
        """Show and analyse a photo. The last photo chosen wins, whichever decodes first."""
        self._photo_ticket += 1
        ticket = self._photo_ticket
        decoded = await decode(file, name)
        if ticket != self._photo_ticket:          # a newer photo was chosen while this one decoded
            if not isinstance(decoded, Failure):
                decoded[0].close()
            return
        if isinstance(decoded, Failure):
            self._status.fail(decoded)
            return
        bitmap, w, h = decoded
        await self.show_still("photo")
        self._ui.data("analysis", "running")
        self.mode.analyser.reset(self._settings(), 0.0)
        if await self.photo.run(bitmap, w, h, self._photo_frame):
            self._ui.data("analysis", "done")

    async def show_still(self, source: str) -> None:
        """The picture switched to a still source, "photo" or "video" (its frames drawn into #still by
        the engine): the camera stopped, a photo's burst cancelled, the last failure and the drawing
        cleared, #still shown, <html data-source> set, the app ready."""
        await self.photo.cancel()
        self.stop_camera()
        self._status.clear_failure()
        self.mode.renderer.clear()
        ui = self._ui
        ui.hidden("still", False)
        ui.hidden("video", True)
        self.source = source
        ui.data("source", source)
        self._status.set(AppState.READY)

    async def _photo_frame(self, still: object, w: int, h: int, t: float, last: bool) -> None:
        self.presenter.force_hud = last
        await self.runner.run(self.mode.analyser, FrameInput(still, w, h, t, now_ms(), source="photo"), self.presenter)

    # == visibility ==============================================================================
    async def visibility(self, hidden: bool) -> None:
        self.hidden = hidden
        loop = self.loop
        if loop is None:
            return
        face = getattr(self.mode, "face", None)
        logic = face.logic if face is not None and self.source == "camera" else None
        if hidden and loop.running:
            loop.stop()                 # let the frame in flight finish: FrameLogic is then between frames
            await loop.idle()
            if logic is not None:
                logic.pause(now_ms())
            self.mode.pause(logic.state.snapshot if logic is not None else None)
            self._status.set(AppState.PAUSED)
        elif not hidden and not loop.running and self._status.state == AppState.PAUSED:
            if logic is not None:
                logic.resume(now_ms())
            self.runner.perf.reset_clock()
            loop.start()
            self._status.set(AppState.RUNNING)
