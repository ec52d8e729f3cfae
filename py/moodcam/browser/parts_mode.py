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

from typing import Sequence

from ..landmarks.mesh import MeshResult
from .analyser import FaceAnalyser
from .mesh import MeshStage
from .runner import FrameJob, Stage
from .settings import Settings


class FacePartsAnalyser:
    """Stages: plan, grab, mesh (detector when due + FaceMesh + submit_faces), emotions, result."""

    def __init__(self, face: FaceAnalyser, mesh: MeshStage) -> None:
        self.face = face
        self.mesh = mesh
        self._stages = (Stage("plan", face.plan_frame, "logic_ms"), Stage("grab", self._grab),
                        Stage("mesh", self._mesh), Stage("emotions", face.emotions),
                        Stage("result", face.result, "logic_ms"))

    @property
    def stages(self) -> Sequence[Stage]:
        return self._stages

    @property
    def mesh_result(self) -> MeshResult | None:
        return self.mesh.result

    def reset(self, settings: Settings, start_ms: float) -> None:
        self.face.reset(settings, start_ms)
        self.mesh.reset()

    def reconfigure(self, settings: Settings) -> None:
        self.face.reconfigure(settings)

    def abort(self, job: FrameJob) -> None:
        self.face.abort(job)

    def _grab(self, job: FrameJob) -> None:
        if self.face.grab_mode == "work" and not job.plan.paused:
            job.work = self.face.grab_work_frame(job)

    async def _mesh(self, job: FrameJob) -> None:
        if not job.plan.paused:
            await self.mesh.frame(job.times, self.face.logic, job.plan, self.face.detect, job.frame.image, job.work)
        job.mesh = self.mesh.result       # a paused frame shows the last one
