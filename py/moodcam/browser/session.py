"""The session: the engine's composition root. It makes the parts that exist from the first
message, boots (backend, models, camera, all at once), and once boot has succeeded builds
the collaborators that need a loaded mode, each with the narrow parts it uses:

  from the start   Ui, Tasks, AppStatus, KeptSettings, ModelStore, PerfMeter, FrameRunner,
                   CameraSession, PhotoMode, the face views (parts legend, timeline)
  after boot       App: the Mode (its analyser and renderer), FrameFlow (camera and photo
                   frames through the runner), BackendSwitch, Controls, TeachMode (face mode),
                   VideoFlow (a video file's frames through the same runner)

Nothing is None after boot: messages that need the app wait for it (browser.engine routes
them), and a boot that fails leaves only what can still help (the error's Action).
States: browser.status.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..manifest import Manifest
from ..mood.state import MOOD
from ..mood.timeline import MoodTimeline
from .backend_switch import BackendStarter, BackendSwitch
from .camera import CameraSession, stream_patience_s
from .controls import Actions, Controls, show_settings
from .custom_mode import model_options
from .failures import Failure
from .flow import FrameFlow
from .frames import FrameReader
from .interop import keep_snapshot, now_ms, unix_ms
from .messages import PhotoMessage, Post, StartMessage
from .model_store import ModelError, ModelStore
from .modes import FaceMode, FaceViews, Mode, load_custom_mode, load_face_mode, start_models
from .perf import PerfMeter
from .photo import PhotoMode
from .present import FramePresenter
from .render import Overlay
from .render_mood import TimelineRenderer
from .render_parts import PartsRenderer
from .runner import FrameJob, FrameRunner
from .settings import FACES, STORAGE_KEY, KeptSettings, SettingsStore
from .snapshot_timing import SnapshotTiming
from .status import AppStatus
from .tasks import Tasks
from .teach_mode import TeachMode
from .ui import Ui
from .video import VideoFlow, decoding_from, sampling_from
from .video_view import VideoView


# The frame rate at which the device counts as keeping up (SnapshotTiming: a snapshot can be made).
KEEPING_UP_FPS = 15.0


@dataclass
class App:
    """What a booted session is: every part here is set."""
    mode: Mode
    flow: FrameFlow
    controls: Controls
    backend: BackendSwitch
    teach: TeachMode | None          # the face mode's; a custom detector has none
    video: VideoFlow                 # a video file's analysis (browser.video)


class Session:
    def __init__(self, start: StartMessage, post: Post) -> None:
        self.post = post
        self.start = start
        self.ui = Ui(post)
        self.status = AppStatus(self.ui)
        self.tasks = Tasks(self.status.crashed)
        self.settings = KeptSettings(SettingsStore(start.stored.get(STORAGE_KEY), start.params), post)
        self.actions = Actions(self.settings, post, start.href, None)
        self.models = ModelStore(start.base, start.site)
        self.perf = PerfMeter(bench=start.bench)
        self.runner = FrameRunner(self.perf)
        self.reader = FrameReader()
        self.overlay = Overlay(start.canvases.overlay)
        self.photo = PhotoMode(start.canvases.still)
        self.camera = CameraSession(post, self._camera_ended, lambda name: self.ui.data("clock", name),
                                    stream_patience_s(start.params))
        self.starter = BackendStarter(start.base + start.site["tfjs"], self.ui, self.status)
        s = self.settings.current
        self.timeline = MoodTimeline(started_at_unix_ms=unix_ms())
        self.views = FaceViews(self.overlay, self.ui, self.perf, self.timeline,
                               TimelineRenderer(start.canvases.timeline, self.ui, self.timeline),
                               PartsRenderer(self.overlay, self.ui, s.show_parts, s.show_mesh_points),
                               start.canvases.bars)
        self.hidden = start.hidden
        self.app: App | None = None            # set once boot has succeeded (browser.engine routes by it)
        self.pending_photo: PhotoMessage | None = None   # chosen during start-up: analysed once boot ends
        self.snapshot_timing = SnapshotTiming(now_ms())  # when the next visit's snapshot is made

    # == boot ================================================================================
    async def boot(self) -> App | None:
        """Backend, models and camera at once; the App, or None (the failure is on the page)."""
        self.perf.mark("python-start", now_ms())
        s = self.settings.current
        show_settings(self.ui, s)
        # The camera opens while the models load: the slowest of the two decides, not their sum.
        opening = asyncio.ensure_future(self.camera.open(s.facing, s.clock))
        # ...and the models' files download and are checked while the backend starts.
        self.models.prefetch(*start_models(s))
        self.ui.progress(0.7, "Starting TensorFlow.js…")
        backend = await self.starter.start(s.backend)
        self.perf.mark("backend-ready", now_ms())
        mode: Mode | Failure | None = None
        if backend is not None:
            try:
                mode = await (self._custom_mode() if s.custom_model else self._face_mode())
            except ModelError as error:
                mode = error.failure
        self.perf.mark("models-ready", now_ms())
        if isinstance(mode, Failure):
            self.status.fail(mode)
        if mode is None or isinstance(mode, Failure):
            opening.cancel()
            self.camera.close()
            return None
        app = await self._assemble(mode)
        if isinstance(mode, FaceMode):
            self.tasks.spawn(mode.sync_parts(self.settings.current, lambda: self.settings.current))
        self.ui.progress(0.98, "Opening the camera…")
        for name in ("start-stop", "switch-camera"):
            self.ui.prop(name, "disabled", False)
        await app.flow.camera_opened(await opening)
        photo, self.pending_photo = self.pending_photo, None
        if photo is not None:
            self.ui.notice("")
            self.tasks.spawn(app.flow.analyse_photo(photo.file, photo.name))
        return app

    async def _face_mode(self) -> FaceMode:
        await self._model_select()
        return await load_face_mode(self.models, self.reader, self.views, self.settings.current)

    async def _custom_mode(self) -> Mode | Failure:
        return await load_custom_mode(await self._model_select(), self.models, self.reader, self.overlay, self.ui,
                                      self.settings.current)

    async def _model_select(self) -> Manifest:
        manifest = await self.models.manifest()
        chosen = self.settings.current.model
        self.ui.options("model-select", model_options(manifest), chosen if chosen in manifest else FACES)
        return manifest

    async def _assemble(self, mode: Mode) -> App:
        """The collaborators of a booted session, each given only what it uses."""
        settings, ui, tasks = self.settings, self.ui, self.tasks
        presenter = FramePresenter(ui, self.perf, mode.renderer, lambda: self.starter.name,
                                   lambda: settings.current.show_hud)
        teach: TeachMode | None = None
        flow = FrameFlow(mode=mode, runner=self.runner, presenter=presenter, camera=self.camera, photo=self.photo,
                         reader=self.reader, status=self.status, ui=ui, tasks=tasks,
                         settings=lambda: settings.current, backend=lambda: self.starter.name, hidden=self.hidden,
                         on_camera_frame=lambda job: self._camera_frame_done(job))
        switch = BackendSwitch(self.starter, self.models, flow, self.status, ui, lambda: settings.current, tasks.spawn)
        controls = Controls(settings=settings, mode=mode, flow=flow, backend=switch, ui=ui, tasks=tasks,
                            post=self.post, href=self.start.href, timeline=self.timeline)
        if isinstance(mode, FaceMode):
            teach = TeachMode(mode.face, settings, ui, self.post, tasks, lambda: flow.camera_running)
            await teach.boot()             # the remembered calibration is on before the first frame
        self.actions = Actions(settings, self.post, self.start.href, lambda: tasks.spawn(flow.start_camera()))
        video = VideoFlow(flow=flow, post=self.post, ui=ui, status=self.status, view=VideoView(ui),
                          sampling=sampling_from(self.start.params), settings=lambda: settings.current,
                          models=lambda: model_versions(mode), backend=lambda: self.starter.name,
                          decoding=decoding_from(self.start.params))
        self.app = App(mode, flow, controls, switch, teach, video)
        return self.app

    # == what may happen before boot ends =======================================================
    def _camera_ended(self) -> None:
        if self.app is not None:
            self.app.flow.camera_ended()
        else:
            self.camera.close()

    def _camera_frame_done(self, job: FrameJob) -> None:
        app = self.app
        if app is None:
            return
        if app.teach is not None:
            app.teach.after_frame(job)
        mode = app.mode
        answered = job.result.mood.state if isinstance(mode, FaceMode) else MOOD   # a custom detector answers at once
        keeping_up = self.perf.fps >= KEEPING_UP_FPS and not (isinstance(mode, FaceMode) and mode.face.governor.adapted)
        if self.snapshot_timing.after_frame(job.frame.wall_ms, answered, keeping_up):
            keep_snapshot()

    def page_hidden(self) -> None:
        if self.snapshot_timing.page_hidden():
            keep_snapshot()


def model_versions(mode: Mode) -> dict:
    """The nets a video's report was made with: name -> the first 16 hex digits of its files' sha256."""
    face = getattr(mode, "face", None)
    steps = (face.detect, face.classify) if face is not None else ()
    return {step.model.name: step.model.entry.model_sha256[:16] for step in steps}
