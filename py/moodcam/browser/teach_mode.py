"""Teach mode and the stored calibrations, wired into the session (face mode only).

Builds the TeachPanel (browser.teach_panel) and the CalibrationLibrary (browser.calibrations)
once the face mode has loaded, and connects them: the page's "teach" and "calibration"
messages, every camera frame while teaching (the tracked faces' features, read from the
frame's FaceViews), the analyser's active head, the HUD line, the setting that remembers
which calibration is on. Each camera frame's events are read here too: a calibration FrameLogic
switched off (its output was not finite) is switched off in the library as well, which clears the
remembered choice, and the person is told why; a skipped reading (NaN from the net) is said in
#notice (browser.reading_notices).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from ..manifest import ModelEntry
from ..pipeline import FrameResult
from .analyser import FaceAnalyser
from .calibration_store import CalibrationStore
from .calibrations import CalibrationLibrary
from .messages import CalibrationCommand, Post, TeachCommand
from .reading_notices import SkippedReadingNotice, dropped_calibration
from .runner import FrameJob
from .settings import KeptSettings
from .tasks import Tasks
from .teach import teach_faces
from .teach_panel import TeachPanel
from .teach_view import TeachView
from .ui import Ui


def model_identity(entry: ModelEntry) -> tuple[str, int, tuple[str, ...]]:
    """(the emotion net's id, its feature size (0: none), its labels): what a calibration is bound to."""
    return entry.model_sha256, entry.feature_size or 0, tuple(entry.labels)


class TeachMode:
    """Needs only: the face analyser (its emotion net and calibration), the kept settings (which
    calibration is on), the page (ui, post), tasks, and whether the camera runs."""

    def __init__(self, face: FaceAnalyser, settings: KeptSettings, ui: Ui, post: Post,
                 tasks: Tasks, camera_running: Callable[[], bool]) -> None:
        self._face = face
        self._settings = settings
        self._tasks = tasks
        self._ui = ui
        self._skips = SkippedReadingNotice()
        self.library = CalibrationLibrary(ui, CalibrationStore(), model=self._model,
                                          active_id=lambda: settings.current.calibration,
                                          set_active_id=self._remember, apply=face.set_calibration, post=post)
        self.panel = TeachPanel(TeachView(ui), labels=lambda: self._model()[2], camera_running=camera_running,
                                set_teaching=self._teaching, keep=self.library.add)
        self.panel.view.show_picker()

    def _model(self) -> tuple[str, int, tuple[str, ...]]:
        return model_identity(self._face.classify.model.entry)

    def _remember(self, record_id: str) -> None:
        if self._settings.current.calibration != record_id:
            self._settings.update(calibration=record_id)

    def _teaching(self, on: bool) -> None:
        """Read every tracked face on every frame while teaching (one sample per steady frame)."""
        settings = self._settings.current
        self._face.reconfigure(replace(settings, emotion_every=1) if on else settings)

    async def boot(self) -> None:
        await self.library.load()

    # == messages and frames ======================================================================
    def on_teach(self, cmd: TeachCommand, moods: list[str], name: str) -> None:
        panel = self.panel
        if cmd is TeachCommand.START:
            panel.start(moods)
        elif cmd is TeachCommand.RECORD:
            panel.record()
        elif cmd is TeachCommand.CANCEL:
            panel.cancel()
        elif cmd is TeachCommand.DISCARD:
            panel.discard()
        elif cmd is TeachCommand.ACCEPT:
            self._tasks.spawn(panel.accept(name))

    def on_calibration(self, cmd: CalibrationCommand, record_id: str, name: str, file: Any) -> None:
        lib, spawn = self.library, self._tasks.spawn
        if cmd is CalibrationCommand.USE:
            spawn(lib.use(record_id))
        elif cmd is CalibrationCommand.RENAME:
            spawn(lib.rename(record_id, name))
        elif cmd is CalibrationCommand.DELETE:
            spawn(lib.delete(record_id))
        elif cmd is CalibrationCommand.EXPORT:
            lib.export(record_id)
        elif cmd is CalibrationCommand.IMPORT:
            spawn(lib.import_file(file, name))

    def after_frame(self, job: FrameJob) -> None:
        """A camera frame of a face mode: what its events say, and its faces while the panel is recording."""
        result = job.result
        if not isinstance(result, FrameResult):
            return
        note = self._skips.update(result.events, job.frame.wall_ms)
        if note is not None:
            self._ui.notice(note)
        reason = dropped_calibration(result.events)
        if reason is not None:
            # The same path as choosing "generic net": the analyser, the stored setting and the list follow.
            self._tasks.spawn(self.library.switch_off(reason))
        if self.panel.open:
            self.panel.observe(teach_faces(result), job.frame.wall_ms)
