"""Showing one analysed frame: the mode's renderer, face parts, mood detail, figures.

FramePresenter is what the session calls after each frame (camera or photo): the mode's
renderer draws the overlay and the mood frame; in the face modes the probability bars
and (camera only) the mood timeline follow; then the stage times go to the PerfMeter,
the HUD is refreshed a few times a second and the frame's ui ops are posted at once.
"""
from __future__ import annotations

import time
from typing import Any

from ..mood.presentation import presentation_for
from ..mood.state import CANT_TELL
from ..mood.timeline import MoodTimeline
from ..pipeline import FrameResult
from .interop import ProxyBag, tf
from .perf import PerfMeter
from .render_mood import BarsRenderer, TimelineRenderer
from .render_parts import PartsRenderer
from .ui import Ui


class FramePresenter:
    def __init__(self, ui: Ui, perf: PerfMeter, parts: PartsRenderer, timeline: MoodTimeline,
                 timeline_view: TimelineRenderer) -> None:
        self.ui = ui
        self.perf = perf
        self.parts = parts
        self.timeline = timeline
        self.timeline_view = timeline_view
        self.bars: BarsRenderer | None = None          # the face modes' (set when one loads)
        self.tensors_between_frames = -1

    def show(self, result: Any, renderer: Any, analyser: Any, size: tuple[int, int], now: float, *,
             mirrored: bool, record: bool, backend: str, show_hud: bool, force_hud: bool = False) -> None:
        r0 = time.perf_counter()
        renderer.show(result, size, mirrored)
        mesh = getattr(analyser, "mesh_result", None)
        self.parts.mirrored = mirrored
        self.parts.show(mesh)
        if isinstance(result, FrameResult):
            if self.bars is not None:
                self.bars.show(result.faces)
            if record:            # camera frames only: a photo is one moment, not a session
                snap = result.mood
                # The guess is part of a "can't tell" segment, its percentage is not (it moves every frame).
                guess = f", maybe {snap.leading_label}" if snap.state == CANT_TELL and snap.leading_label else ""
                self.timeline.add(now, snap.state, snap.mood, len(result.faces), presentation_for(snap).name + guess)
                self.timeline_view.draw(now)
        times = analyser.times
        times.draw_ms = 1000 * (time.perf_counter() - r0)
        times.total_ms += times.draw_ms
        self.perf.detector_fraction = mesh.detector_fraction if mesh is not None else 0.0
        self.perf.add(times, now)
        self.ui.data("frames", self.perf.frames)
        if self.perf.frames % 15 == 0:
            self.ui.data("perf", self.perf.summary(proxies=ProxyBag.live_total))
        if show_hud or force_hud:
            renderer.hud(now, self.perf, backend, force=force_hud)
            self.parts.hud(now, times.mesh_ms, mesh, force=force_hud)
        self.ui.flush()
        # Live tensors between frames (nothing of this frame is alive now): the soak's leak gauge.
        self.tensors_between_frames = int(tf.memory().numTensors)
