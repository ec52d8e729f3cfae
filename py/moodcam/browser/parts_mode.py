"""The face-parts mode: FaceMesh tracks the faces, the face mode's steps do the rest.

While the "face parts" or "mesh key points" view is on, FacePartsAnalyser takes
the face mode's place (browser.session switches between them and keeps the
FrameLogic, so the mood goes on): per frame, browser.mesh.MeshStage decides
whether the detector runs (rarely: only while no face is tracked, plus a look
for more faces every SEARCH_EVERY frames), runs FaceMesh on each tracked face
and hands the faces to FrameLogic (submit_faces); then the face mode's
EmotionStep reads each face due and FrameLogic votes as always.
"""
from __future__ import annotations

import time

from ..landmarks.mesh import MeshResult
from ..pipeline import FrameResult
from .analyser import FaceAnalyser
from .mesh import MeshStage
from .perf import Clock, FrameTimes
from .settings import Settings


class FacePartsAnalyser:
    def __init__(self, face: FaceAnalyser, mesh: MeshStage) -> None:
        self.face = face
        self.mesh = mesh
        self.times = FrameTimes()

    @property
    def mesh_result(self) -> MeshResult | None:
        return self.mesh.result

    def reset(self, settings: Settings, start_ms: float) -> None:
        self.face.reset(settings, start_ms)
        self.mesh.reset()

    def reconfigure(self, settings: Settings) -> None:
        self.face.reconfigure(settings)

    async def analyse(self, source, width: int, height: int, timestamp_ms: float) -> FrameResult:
        logic = self.face.logic
        t0 = time.perf_counter()
        times = FrameTimes()
        clock = Clock(times)
        with clock("logic_ms"):
            plan = logic.begin_frame(timestamp_ms, width, height)
        frame = None
        try:
            if self.face.grab_mode == "work" and not plan.paused:
                frame = self.face.grab_work_frame(source, width, height, times)
            if not plan.paused:
                m0 = time.perf_counter()
                before = sum(getattr(times, k) for k in FrameTimes.STAGES)
                await self.mesh.frame(times, logic, plan, self.face.detect, source, frame)
                # What the mesh stage did besides its timed steps: FrameLogic calls and interop.
                spent = 1000 * (time.perf_counter() - m0)
                times.logic_ms += max(0.0, spent - (sum(getattr(times, k) for k in FrameTimes.STAGES) - before))
            await self.face.emotions(times, source, frame)
            with clock("logic_ms"):
                result = logic.end_frame()
        except BaseException:
            logic.abort_frame()
            raise
        finally:
            if frame is not None:
                frame.dispose()
        times.total_ms = 1000 * (time.perf_counter() - t0)
        self.times = times
        return result
