"""The session: boots the engine's parts, runs the camera or a photo through the mode's
analyser and renderer, and shows every failure with a way forward.

Parts, one job each: ModelStore (models), CameraSession + FrameLoop (frames), a
FrameAnalyser (the mode: face, face parts, custom detector), its renderer, PhotoMode,
PerfMeter, Ui (the page), Tasks (errors routed), SettingsStore. browser.controls turns
the page's controls into calls on this object.

States (<html data-app-state>): loading -> running (camera loop) | ready (no loop: waiting
for the camera, or showing a photo's analysis) | paused (page hidden) | error (nothing can
work: a model failed its checksum...).
"""
from __future__ import annotations

import asyncio
import traceback
from typing import Any, Callable

import js

from ..manifest import Manifest
from ..mood.timeline import MoodTimeline
from . import failures
from .analyser import FaceAnalyser, FrameAnalyser
from .backend import BackendChoice, choose_backend, webgl_canvas
from .camera import CameraSession, stream_patience_s
from .custom_mode import model_options
from .failures import Failure
from .frames import FrameReader, chain_check
from .interop import ProxyBag
from .loop import Frame, FrameLoop
from .model_store import ModelError, ModelStore
from .modes import load_custom_mode, load_face_mode, start_models
from .perf import PerfMeter
from .present import FramePresenter
from .render_mood import BarsRenderer, TimelineRenderer
from .photo import PhotoMode
from .render import FaceRenderer, Overlay
from .render_custom import DetectionRenderer
from .render_parts import PartsRenderer
from .settings import FACES, STORAGE_KEY, Settings, SettingsStore
from .tasks import Tasks
from .teach_mode import TeachMode
from .ui import Ui


def now_ms() -> float:
    return float(js.performance.now())


class Session:
    def __init__(self, start: Any, post: Callable[[dict], None]) -> None:
        self.post = post
        self.site: dict = start.site.to_py()
        self.base, self.href = str(start.base), str(start.href)
        self.ui = Ui(post)
        self.tasks = Tasks(self._crashed)
        stored = start.stored.to_py() if start.stored else {}
        self.store = SettingsStore(stored.get(STORAGE_KEY), start.params.to_py() if start.params else {})
        self.models = ModelStore(self.base, self.site)
        self.perf = PerfMeter(bench=bool(start.bench))
        self.overlay = Overlay(start.canvases.overlay)
        self.photo = PhotoMode(start.canvases.still)
        self.camera = CameraSession(post, self._camera_ended, lambda name: self.ui.data("clock", name),
                                    stream_patience_s(start.params.to_py() if start.params else {}))
        self.reader = FrameReader()
        self.bag = ProxyBag()
        # backend, analyser and renderer are None until boot() has chosen a backend and loaded a mode;
        # the frame path and the controls assume they are set (`type: ignore[union-attr]` at each use).
        self.backend: BackendChoice | None = None
        self.face: FaceAnalyser | None = None          # the face mode (also under face parts)
        self.analyser: FrameAnalyser | None = None     # the mode analysing frames now
        self.renderer: FaceRenderer | DetectionRenderer | None = None
        self.teach: TeachMode | None = None             # teach mode + stored calibrations (face mode only)
        s = self.settings
        self.parts = PartsRenderer(self.overlay, self.ui, s.show_parts, s.show_mesh_points)
        self.canvases = start.canvases
        self.timeline = MoodTimeline(started_at_unix_ms=float(js.Date.now()))
        self.presenter = FramePresenter(self.ui, self.perf, self.parts, self.timeline,
                                        TimelineRenderer(start.canvases.timeline, self.ui, self.timeline))
        self.loop: FrameLoop | None = None
        self.source = ""
        self.state = "loading"
        self.hidden = bool(start.hidden)
        self.failure: Failure | None = None
        self.switching_backend = False
        self._chain_checked = False
        self.mesh_lock = asyncio.Lock()                 # face parts switch one at a time (browser.modes)
        self.on_context_lost: Callable[[Any], None] = lambda event: None    # browser.controls sets it

    @property
    def settings(self) -> Settings:
        return self.store.current

    def set_state(self, state: str) -> None:
        self.state = state
        self.ui.state(state)

    # == boot ================================================================================
    async def boot(self, show_settings: Callable[[], None], sync_mesh: Callable[[], Any]) -> None:
        self.perf.mark("python-start", now_ms())
        show_settings()
        s = self.settings
        # The camera opens while the models load: the slowest of the two decides, not their sum.
        opening = asyncio.ensure_future(self.camera.open(s.facing, s.clock))
        # ...and the models' files download and are checked while the backend starts.
        self.models.prefetch(*start_models(s))
        self.ui.progress(0.7, "Starting TensorFlow.js…")
        ok = await self.start_backend(s.backend)
        self.perf.mark("backend-ready", now_ms())
        try:
            ok = ok and await (self._boot_custom() if s.custom_model else self._boot_faces())
        except ModelError as error:
            ok = False
            self.fail(error.failure)
        self.perf.mark("models-ready", now_ms())
        if not ok:
            opening.cancel()
            self.camera.close()
            return
        if not s.custom_model:
            self.tasks.spawn(sync_mesh())
        self.ui.progress(0.98, "Opening the camera…")
        for name in ("start-stop", "switch-camera"):
            self.ui.prop(name, "disabled", False)
        await self._camera_opened(await opening)

    async def _boot_faces(self) -> bool:
        await self._model_select()
        self.face, self.renderer = await load_face_mode(self.models, self.reader, self.overlay, self.ui, self.settings)
        self.analyser = self.face
        self.ui.data("range", self.settings.range)
        self.presenter.bars = BarsRenderer(self.canvases.bars, self.ui, self.face.classify.labels,
                                           self.settings.show_bars)
        self.teach = TeachMode(self)
        await self.teach.boot()             # the remembered calibration is on before the first frame
        return True

    async def _boot_custom(self) -> bool:
        mode = await load_custom_mode(await self._model_select(), self.models, self.reader, self.overlay, self.ui,
                                      self.settings)
        if isinstance(mode, Failure):
            self.fail(mode)
            self.set_state("ready")
            return False
        self.analyser, self.renderer = mode
        return True

    async def _model_select(self) -> Manifest:
        manifest = await self.models.manifest()
        chosen = self.settings.model
        self.ui.options("model-select", model_options(manifest), chosen if chosen in manifest else FACES)
        return manifest

    async def start_backend(self, preferred: str) -> bool:
        try:
            self.backend = await choose_backend(preferred, self.base + self.site["tfjs"])
        except RuntimeError as error:
            self.fail(failures.backend_unavailable(str(error)))
            return False
        self.ui.data("backend", self.backend.name)
        self.ui.text("hud-backend", self.backend.name)
        reason = self.backend.fallback_reason
        self.ui.notice(failures.webgl_fallback_note(reason) if reason else "")
        canvas = webgl_canvas() if self.backend.name == "webgl" else None
        if canvas is not None and not getattr(canvas, "_moodcamWatched", False):
            canvas._moodcamWatched = True
            self.bag.listen(canvas, "webglcontextlost", lambda event: self.on_context_lost(event))
        return True

    # == failures ==============================================================================
    def fail(self, failure: Failure) -> None:
        self.failure = failure
        self.ui.show_failure(failure)
        if failure.fatal:
            self.state = "error"
        elif self.state != "running":
            self.set_state("ready")

    def clear_failure(self) -> None:
        self.failure = None
        self.ui.clear_failure()

    def _crashed(self, error: BaseException) -> None:
        self.fail(failures.crashed(f"{type(error).__name__}: {error}"))

    # == camera ================================================================================
    async def start_camera(self) -> None:
        if self.analyser is None:
            return
        self.stop_camera()
        s = self.settings
        await self._camera_opened(await self.camera.open(s.facing, s.clock))

    async def _camera_opened(self, failure: Failure | None) -> None:
        if failure is not None:
            self.fail(failure)
            self._start_label(False)
            return
        await self.photo.cancel()
        self.clear_failure()
        self.ui.hidden("video", False)
        self.ui.hidden("still", True)
        self.ui.toggle_class("video", "mirrored", self.camera.mirrored)
        self.source = "camera"
        self.ui.data("source", "camera")
        self.ui.data("clock", self.camera.clock_name)
        one = self.camera.cameras < 2
        self.ui.prop("switch-camera", "disabled", one)
        self.ui.prop("switch-camera", "title", "Only one camera was found" if one else "")
        self.analyser.reset(self.settings, now_ms())  # type: ignore[union-attr]
        # the camera opened (no failure), so its source is set
        self.loop = FrameLoop(self.camera.source, self._camera_frame, self.tasks)  # type: ignore[arg-type]
        self._start_label(True)
        if self.hidden:
            self.set_state("paused")
            return
        self.loop.start()
        self.set_state("running")

    def stop_camera(self) -> None:
        if self.loop is not None:
            self.loop.stop()
            self.loop = None
        self.camera.close()
        self._start_label(False)

    def _camera_ended(self) -> None:
        self.stop_camera()
        if self.renderer is not None:       # the camera can end while the models still load
            self.renderer.clear()
        self.set_state("ready")
        self.fail(failures.camera_ended())

    def _start_label(self, running: bool) -> None:
        self.ui.text("start-stop", "Stop camera" if running else "Start camera")
        self.ui.op("attr", "start-stop", "aria-pressed", "true" if running else "false")

    # == frames ================================================================================
    async def _camera_frame(self, frame: Frame) -> None:
        if frame.width == 0 or frame.height == 0:
            return
        now = now_ms()
        try:
            result = await self.analyser.analyse(frame.image, frame.width, frame.height, now)  # type: ignore[union-attr]
        except Exception as error:  # noqa: BLE001 - shown on the page; the loop stops
            traceback.print_exc()
            if self.loop is not None:
                self.loop.stop()
            self.set_state("ready")
            self.fail(failures.unexpected(f"{type(error).__name__}: {error}"))
            return
        self.after_frame(result, (frame.width, frame.height), now, self.camera.mirrored)
        if not self._chain_checked:
            self._chain_checked = True
            self.ui.text("hud-chain", chain_check(self.reader, frame.image, frame.width, frame.height,
                                                  self.backend.name if self.backend else "?"))

    def after_frame(self, result: Any, size: tuple[int, int], now: float, mirrored: bool,
                    force_hud: bool = False) -> None:
        self.presenter.show(result, self.renderer, self.analyser, size, now, mirrored=mirrored,
                            record=self.source == "camera", backend=self.backend.name if self.backend else "",
                            show_hud=self.settings.show_hud, force_hud=force_hud)
        if self.teach is not None and self.source == "camera":
            self.teach.after_frame(result, now)
