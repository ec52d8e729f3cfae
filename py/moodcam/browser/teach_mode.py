"""Teach mode and the stored calibrations, wired into the session (face mode only).

Builds the TeachPanel (browser.teach_panel) and the CalibrationLibrary (browser.calibrations)
once the face mode has loaded, and connects them: the page's "teach" and "calibration"
messages, every camera frame while teaching (the tracked faces' features, read from the
frame's FaceViews), the analyser's active head, the HUD line, the setting that remembers
which calibration is on.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..calibration import CalibrationHead
from ..manifest import ModelEntry
from ..pipeline import FrameResult
from .calibration_store import CalibrationStore
from .calibrations import CalibrationLibrary
from .settings import STORAGE_KEY
from .teach import teach_faces
from .teach_panel import TeachPanel
from .teach_view import TeachView

if TYPE_CHECKING:
    from .session import Session


def model_identity(entry: ModelEntry) -> tuple[str, int, tuple[str, ...]]:
    """(the emotion net's id, its feature size (0: none), its labels): what a calibration is bound to."""
    return entry.model_sha256, entry.feature_size or 0, tuple(entry.labels)


class TeachMode:
    def __init__(self, session: "Session") -> None:
        self.s = session
        s = session
        self.library = CalibrationLibrary(s.ui, CalibrationStore(), model=self._model,
                                          active_id=lambda: s.settings.calibration,
                                          set_active_id=self._remember, apply=self._apply, post=s.post)
        self.panel = TeachPanel(TeachView(s.ui), labels=lambda: self._model()[2],
                                camera_running=lambda: s.loop is not None and s.source == "camera",
                                set_teaching=self._teaching, keep=self.library.add)
        self.panel.view.show_picker()

    def _model(self) -> tuple[str, int, tuple[str, ...]]:
        assert self.s.face is not None, "teach mode starts after the face mode loaded"
        return model_identity(self.s.face.classify.model.entry)

    def _remember(self, record_id: str) -> None:
        s = self.s
        if s.settings.calibration != record_id:
            s.store.update(calibration=record_id)
            s.post({"type": "store", "key": STORAGE_KEY, "value": s.store.to_json()})

    def _apply(self, head: CalibrationHead | None) -> None:
        if self.s.face is not None:
            self.s.face.set_calibration(head)

    def _teaching(self, on: bool) -> None:
        """Read every tracked face on every frame while teaching (one sample per steady frame)."""
        s = self.s
        if s.analyser is not None:
            s.analyser.reconfigure(replace(s.settings, emotion_every=1) if on else s.settings)

    async def boot(self) -> None:
        await self.library.load()

    # == messages and frames ======================================================================
    def on_teach(self, message: Any) -> None:
        cmd = str(message.cmd)
        panel = self.panel
        if cmd == "start":
            moods = message.moods.to_py() if hasattr(message.moods, "to_py") else list(message.moods or [])
            panel.start(moods)
        elif cmd == "record":
            panel.record()
        elif cmd == "cancel":
            panel.cancel()
        elif cmd == "discard":
            panel.discard()
        elif cmd == "accept":
            self.s.tasks.spawn(panel.accept(str(message.name)))

    def on_calibration(self, message: Any) -> None:
        cmd = str(message.cmd)
        lib, spawn = self.library, self.s.tasks.spawn
        record_id = str(getattr(message, "id", "") or "")
        if cmd == "use":
            spawn(lib.use(record_id))
        elif cmd == "rename":
            spawn(lib.rename(record_id, str(message.name)))
        elif cmd == "delete":
            spawn(lib.delete(record_id))
        elif cmd == "export":
            lib.export(record_id)
        elif cmd == "import":
            spawn(lib.import_file(message.file, str(message.name)))

    def after_frame(self, result: Any, now: float) -> None:
        if self.panel.open and isinstance(result, FrameResult):
            self.panel.observe(teach_faces(result), now)
