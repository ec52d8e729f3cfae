"""Drawing the mood's detail: per-face probability bars and the two-minute mood timeline.

Both are canvases handed to the engine (OffscreenCanvases in the worker) and drawn
here from Python; every colour also has its word on the page (the bars carry the
class names and percentages, the timeline a legend with durations) and a text
summary for screen readers.

- Bars: for each face (at most MAX_FACES_WITH_BARS), seven rows, one per class in the
  emotion net's label order: name, a bar as long as the probability, the percentage.
  The probabilities are the face's latest smoothed vector (FaceView.probabilities).
- Timeline: moodcam.mood.timeline.MoodTimeline's strip of the last two minutes, one
  colour per mood and per state ("can't tell", "no face", ...), redrawn twice a second.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..mood.presentation import colour_of, name_of
from ..mood.timeline import MoodTimeline
from .ui import Ui

MAX_FACES_WITH_BARS = 3
ROW_PX, WIDTH_PX, NAME_PX = 22, 360, 92
PERCENT_PX = 54                 # the percentage column at the right
TIMELINE_PX = (720, 18)
TIMELINE_EVERY_MS = 500.0


class BarsRenderer:
    def __init__(self, canvas: Any, ui: Ui, labels: Sequence[str], show: bool = True) -> None:
        self.canvas = canvas
        self.ctx = canvas.getContext("2d")
        self.ui = ui
        self.labels = tuple(labels)
        self.show_bars = show
        self._size = (0, 0)
        self._drawn: tuple = ()

    def show(self, faces: Sequence[Any]) -> None:
        """Bars for the faces that have probabilities (the primary face first)."""
        with_probs = [(i, f) for i, f in enumerate(faces, start=1)
                      if getattr(f, "probabilities", None) is not None][:MAX_FACES_WITH_BARS]
        with_probs.sort(key=lambda item: not item[1].primary)
        key = tuple((i, tuple(round(float(p), 2) for p in f.probabilities)) for i, f in with_probs)
        if not self.show_bars or key == self._drawn:
            return
        self._drawn = key
        rows = len(self.labels) + 1
        height = max(1, len(with_probs) * rows * ROW_PX)
        if self._size != (WIDTH_PX, height):
            self.canvas.width, self.canvas.height = WIDTH_PX, height
            self._size = (WIDTH_PX, height)
        ctx = self.ctx
        ctx.clearRect(0, 0, WIDTH_PX, height)
        ctx.font = "15px system-ui, sans-serif"
        ctx.textBaseline = "middle"
        summary = []
        for block, (index, face) in enumerate(with_probs):
            y0 = block * rows * ROW_PX
            ctx.fillStyle = "#f2f2f2"
            ctx.fillText(f"Face {index}", 4, y0 + ROW_PX / 2)
            probs = [float(p) for p in face.probabilities]
            for r, (label, p) in enumerate(zip(self.labels, probs), start=1):
                y = y0 + r * ROW_PX
                ctx.fillStyle = "#b8bcc2"
                ctx.fillText(name_of(label), 4, y + ROW_PX / 2)
                ctx.fillStyle = "#2a2f36"
                ctx.fillRect(NAME_PX, y + 4, WIDTH_PX - NAME_PX - PERCENT_PX, ROW_PX - 8)
                ctx.fillStyle = colour_of(label)
                ctx.fillRect(NAME_PX, y + 4, max(1.0, (WIDTH_PX - NAME_PX - PERCENT_PX) * p), ROW_PX - 8)
                ctx.fillStyle = "#f2f2f2"
                ctx.fillText(f"{round(100 * p)} %", WIDTH_PX - PERCENT_PX + 6, y + ROW_PX / 2)
            top = sorted(zip(probs, self.labels), reverse=True)[:3]
            summary.append(f"Face {index}: " + ", ".join(f"{name_of(lab)} {round(100 * p)} %" for p, lab in top))
        self.ui.text("bars-text", "; ".join(summary))
        self.ui.hidden("bars", not with_probs)

    def toggle(self, on: bool) -> None:
        self.show_bars = on
        self._drawn = ()
        self.ui.hidden("bars", not on)


class TimelineRenderer:
    def __init__(self, canvas: Any, ui: Ui, timeline: MoodTimeline) -> None:
        self.canvas = canvas
        self.ctx = canvas.getContext("2d")
        self.ui = ui
        self.timeline = timeline
        self._at = -1e9
        self._legend: list = []
        canvas.width, canvas.height = TIMELINE_PX

    def draw(self, now_ms: float, force: bool = False) -> None:
        if not force and now_ms - self._at < TIMELINE_EVERY_MS:
            return
        self._at = now_ms
        w, h = TIMELINE_PX
        ctx = self.ctx
        ctx.clearRect(0, 0, w, h)
        window = self.timeline.window_ms
        start = now_ms - window
        totals: dict[str, float] = {}
        for s0, s1, key in self.timeline.strip(now_ms):
            x0 = (s0 - start) / window * w
            x1 = max(x0 + 1.0, (s1 - start) / window * w)
            ctx.fillStyle = colour_of(key)
            ctx.fillRect(x0, 0, x1 - x0, h)
            totals[key] = totals.get(key, 0.0) + (s1 - s0)
        legend = [{"name": k, "label": f"{name_of(k)} {_duration(ms)}", "color": colour_of(k)}
                  for k, ms in sorted(totals.items(), key=lambda kv: -kv[1])]
        if legend != self._legend:
            self._legend = legend
            self.ui.legend("timeline-legend", legend)


def _duration(ms: float) -> str:
    s = int(round(ms / 1000))
    return f"{s // 60}:{s % 60:02d}"
