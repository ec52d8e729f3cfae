"""Showing one analysed frame: the mode's renderer, then the figures (browser.runner's FrameView).

FramePresenter is the FrameView every frame source shares (camera, photo, video): it asks
the active mode's Renderer to draw the job's result, and after the PerfMeter has the
frame it publishes the figures (<html data-frames>, data-perf every 15 frames), refreshes
the HUD a few times a second and posts the frame's ui ops at once.

A Renderer knows its mode's result type, so nothing here branches on it:
- FaceModeRenderer (the face and face-parts modes): boxes, key points and the mood frame
  (browser.render.FaceRenderer), face parts (browser.render_parts), the probability bars,
  and on camera frames the mood timeline;
- browser.render_custom.DetectionRenderer (a custom detector): labelled boxes.
"""
from __future__ import annotations

from typing import Callable, Protocol

from ..mood.presentation import presentation_for
from ..mood.state import CANT_TELL
from ..mood.timeline import MoodTimeline
from ..pipeline import FrameResult
from .interop import ProxyBag, tf
from .perf import PerfMeter
from .render import FaceRenderer
from .render_mood import BarsRenderer, TimelineRenderer
from .render_parts import PartsRenderer
from .runner import FrameJob
from .ui import Ui


class Renderer(Protocol):
    """Draws one mode's results on the overlay and the page."""

    def show(self, job: FrameJob) -> None: ...

    def clear(self) -> None: ...

    def hud(self, job: FrameJob, perf: PerfMeter, backend: str, force: bool = False) -> None: ...


class FaceModeRenderer:
    """The face modes' Renderer: one FrameResult -> overlay, face parts, bars, timeline."""

    def __init__(self, faces: FaceRenderer, parts: PartsRenderer, bars: BarsRenderer, perf: PerfMeter,
                 timeline: MoodTimeline, timeline_view: TimelineRenderer) -> None:
        self.faces = faces
        self.parts = parts
        self.bars = bars
        self.perf = perf
        self.timeline = timeline
        self.timeline_view = timeline_view

    def show(self, job: FrameJob) -> None:
        result: FrameResult = job.result
        frame = job.frame
        self.faces.show(result, (frame.width, frame.height), frame.mirrored)
        self.parts.mirrored = frame.mirrored
        self.parts.show(job.mesh)
        self.perf.detector_fraction = job.mesh.detector_fraction if job.mesh is not None else 0.0
        self.bars.show(result.faces)
        if frame.source == "camera":       # a photo is one moment, not a session
            self.record(result, frame.wall_ms)

    def record(self, result: FrameResult, now: float) -> None:
        snap = result.mood
        # The guess is part of a "can't tell" segment, its percentage is not (it moves every frame).
        guess = f", maybe {snap.leading_label}" if snap.state == CANT_TELL and snap.leading_label else ""
        self.timeline.add(now, snap.state, snap.mood, len(result.faces), presentation_for(snap).name + guess)
        self.timeline_view.draw(now)

    def clear(self) -> None:
        self.faces.clear()

    def hud(self, job: FrameJob, perf: PerfMeter, backend: str, force: bool = False) -> None:
        self.faces.hud(job.frame.wall_ms, perf, backend, force=force)
        self.parts.hud(job.frame.wall_ms, job.times.mesh_ms, job.mesh, force=force)


class FramePresenter:
    def __init__(self, ui: Ui, perf: PerfMeter, renderer: Renderer, backend: Callable[[], str],
                 show_hud: Callable[[], bool]) -> None:
        self.ui = ui
        self.perf = perf
        self.renderer = renderer
        self.backend = backend
        self.show_hud = show_hud
        self.force_hud = False                         # the next report refreshes the HUD at once (a photo's last frame)
        self.tensors_between_frames = -1

    def draw(self, job: FrameJob) -> None:
        self.renderer.show(job)

    def report(self, job: FrameJob) -> None:
        force, self.force_hud = self.force_hud, False
        self.ui.data("frames", self.perf.frames)
        if self.perf.frames % 15 == 0:
            self.ui.data("perf", self.perf.summary(proxies=ProxyBag.live_total))
        if self.show_hud() or force:
            self.renderer.hud(job, self.perf, self.backend(), force=force)
        self.ui.flush()
        # Live tensors between frames (nothing of this frame is alive now): the soak's leak gauge.
        self.tensors_between_frames = int(tf.memory().numTensors)

