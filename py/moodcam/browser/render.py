"""Drawing the face mode: overlay (boxes, key points, labels), mood frame, face list, HUD
(timings every HUD_EVERY_MS, the engine's memory every MEMORY_EVERY_MS: queries.MemoryFigures).

The overlay canvas is an OffscreenCanvas handed to the engine (or the page's own
canvas on the fallback path); everything else reaches the page as ui ops, sent
only when they change (the mood frame's colour eases by CSS transition). The
core's positions are source pixels; a mirrored (selfie) picture is mirrored
here, when drawing, and nowhere else.
"""
from __future__ import annotations

import json

import numpy as np

from ..geometry.crop import mirror_boxes, mirror_points
from ..mood.presentation import OKABE_ITO, PRESENTATIONS, headline, presentation_for
from ..mood.state import CANT_TELL, OBSERVING
from ..pipeline import FrameResult
from .perf import PerfMeter
from .memory import MemoryFigures, memory_figures
from .captions import TOO_FAR, TOO_FAR_PROMPT, Rect, face_caption, place_tags, too_far_to_read
from .render_mood import name_of
from .ui import Ui

HUD_EVERY_MS = 250.0
MEMORY_EVERY_MS = 1000.0


def megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def memory_texts(m: MemoryFigures) -> list[tuple[str, str]]:
    """The HUD's memory rows: TF.js tensors and bytes; the Python heap; Pyodide's and TF.js's wasm
    memories. (The page adds the whole page's total: app/page.js.)"""
    return [("hud-tensors", f"{m.tensors} · {megabytes(m.tensor_bytes)}"),
            ("hud-python-heap", megabytes(m.python_heap_bytes) if m.python_heap_bytes else "–"),
            ("hud-python-wasm", megabytes(m.pyodide_wasm_bytes)),
            ("hud-tfjs-wasm", megabytes(m.tfjs_wasm_bytes) if m.tfjs_wasm_bytes else "not started")]


class Overlay:
    """The overlay canvas: sized to the source, cleared each frame, line width from its size."""

    def __init__(self, canvas) -> None:
        self.canvas = canvas
        self.ctx = canvas.getContext("2d")
        self.size = (0, 0)

    def begin(self, width: int, height: int) -> float:
        """Clear (resizing when the source size changed); returns the line width for this size."""
        if self.size != (width, height):
            self.canvas.width, self.canvas.height = width, height
            self.size = (width, height)
        self.ctx.clearRect(0, 0, width, height)
        return max(2.0, width / 240)

    def clear(self) -> None:
        self.ctx.clearRect(0, 0, *self.size)

    def box(self, xyxy, colour: str, line: float) -> None:
        x0, y0, x1, y1 = (float(v) for v in xyxy)
        ctx = self.ctx
        ctx.lineWidth = line
        ctx.strokeStyle = "#000000"                        # dark under-stroke: visible on any picture
        ctx.strokeRect(x0, y0, x1 - x0, y1 - y0)
        ctx.lineWidth = line * 0.6
        ctx.strokeStyle = colour
        ctx.strokeRect(x0, y0, x1 - x0, y1 - y0)

    def tag_size(self, text: str, line: float) -> tuple[float, float]:
        """(width, height) of a caption drawn at this line width."""
        self.ctx.font = f"bold {round(line * 7)}px system-ui, sans-serif"
        return float(self.ctx.measureText(text).width) + line * 2, line * 9

    def tag(self, text: str, x0: float, y0: float, line: float) -> None:
        """A caption above (x0, y0), or just inside when at the top edge (one box: nothing to avoid)."""
        w, h = self.tag_size(text, line)
        self.caption(text, (max(0.0, min(x0, self.size[0] - w)), y0 - h if y0 - h >= 0 else y0, w, h), line)

    def caption(self, text: str, rect: Rect, line: float) -> None:
        """A white-on-black caption in rect (x, y, width, height): see place_tags."""
        ctx = self.ctx
        x, y, w, h = rect
        ctx.font = f"bold {round(line * 7)}px system-ui, sans-serif"
        ctx.fillStyle = "#000000"
        ctx.fillRect(x, y, w, h)
        ctx.fillStyle = "#FFFFFF"
        ctx.fillText(text, x + line, y + h - line * 2)


def shown_boxes(boxes: np.ndarray, width: float, mirrored: bool) -> np.ndarray:
    """(N, 4) xyxy source boxes as drawn: mirrored about the frame's width for a selfie picture."""
    return mirror_boxes(boxes, width) if mirrored and len(boxes) else boxes


class FaceRenderer:
    def __init__(self, overlay: Overlay, ui: Ui, *, show_boxes: bool = True, show_keypoints: bool = True) -> None:
        self.overlay = overlay
        self.ui = ui
        self.show_boxes = show_boxes
        self.show_keypoints = show_keypoints
        self._mood_key: tuple = ()
        self._hud_at = -1e9
        self._memory_at = -1e9

    def show(self, result: FrameResult, size: tuple[int, int], mirrored: bool) -> None:
        faces = result.faces
        self.show_mood(result.mood, too_far_to_read(faces))
        line = self.overlay.begin(*size)
        source = np.array([f.box for f in faces], dtype=float).reshape(-1, 4)
        drawn = shown_boxes(source, size[0], mirrored)
        captions = [face_caption(face, i) for i, face in enumerate(faces, start=1)]
        tags: list[Rect] = []
        if self.show_boxes and len(faces) > 1:
            sizes = [self.overlay.tag_size(text, line) for text in captions]
            tags = place_tags(drawn, sizes, (float(size[0]), float(size[1])))
        self.ui.el_data("overlay", "captions", json.dumps([[round(v, 1) for v in r] for r in tags]))
        for face, box in zip(faces, drawn):
            colour = PRESENTATIONS[face.label].color if face.label in PRESENTATIONS else OKABE_ITO["sky_blue"]
            if self.show_boxes:
                self.overlay.box(box, colour, line)
            if self.show_keypoints:
                points = np.asarray(face.keypoints, dtype=float)
                self._points(mirror_points(points, size[0]) if mirrored else points, line)
        for caption, rect in zip(captions, tags):         # last: no box or point covers a caption
            self.overlay.caption(caption, rect, line)
        self._faces(faces, source, drawn)

    def _points(self, points: np.ndarray, line: float) -> None:
        ctx = self.overlay.ctx
        ctx.fillStyle = OKABE_ITO["yellow"]
        r = line * 1.2
        for x, y in points:
            ctx.beginPath()
            ctx.arc(float(x), float(y), r, 0, 6.2832)
            ctx.fill()

    def _faces(self, faces, source: np.ndarray, drawn: np.ndarray) -> None:
        rows = [{"id": f.id, "index": i, "box": [round(float(v), 1) for v in b],
                 "source_box": [round(float(v), 1) for v in sb], "score": round(float(f.score), 3),
                 "label": f.label, "top_label": f.top_label, "primary": f.primary,
                 "readable": f.readable}
                for i, (f, b, sb) in enumerate(zip(faces, drawn, source), start=1)]
        self.ui.el_data("overlay", "faces", json.dumps(rows))
        self.ui.text("face-count", str(len(rows)))
        self.ui.items("face-list", [face_caption(f, i) for i, f in enumerate(faces, start=1)] if len(faces) > 1 else [])

    def clear(self) -> None:
        self.overlay.clear()
        self.ui.el_data("overlay", "faces", "[]")
        self.ui.el_data("overlay", "parts", "")

    def show_mood(self, snap, too_far: bool = False) -> None:
        """Mood frame colour, label, prompt and announcement for a MoodSnapshot.

        While observing, the first votes give a provisional "leaning happy"; in "can't tell"
        the label carries the leading guess and its probability (moodcam.mood.presentation.headline).
        too_far: faces are there, none readable: no mood (FrameLogic gives none), and why."""
        p = presentation_for(snap)
        words = headline(snap)
        if snap.state == OBSERVING and snap.leading_label is not None:
            words = f"{p.name}, leaning {name_of(snap.leading_label).lower()}"
        if too_far:
            words = TOO_FAR
        self.ui.text("mood-label", f"{p.symbol} {words}")
        self.ui.data("leading", snap.leading_label or "")
        self.ui.data("tooFar", "1" if too_far else "")
        key = (snap.state, snap.mood, snap.leading_label if snap.state == CANT_TELL else None, too_far)
        if key == self._mood_key:
            return
        first = not self._mood_key
        self._mood_key = key
        self.ui.data("moodState", snap.state)
        self.ui.data("mood", snap.mood or "")
        self.ui.style("stage", "--mood-colour", p.color)
        self.ui.text("prompt", TOO_FAR_PROMPT if too_far else p.prompt)
        if not first:          # announce real changes once (not the first "Starting"), for screen readers
            self.ui.announce(f"Mood: {words}. {p.prompt}")

    def hud(self, now_ms: float, perf: PerfMeter, backend: str, force: bool = False) -> None:
        if not force and now_ms - self._hud_at < HUD_EVERY_MS:
            return
        self._hud_at = now_ms
        a = perf.averages
        ui = self.ui
        ui.text("hud-fps", f"{perf.fps:.1f}")
        ui.text("hud-backend", backend)
        ui.text("hud-detector", f"{a['detector_ms']:.1f}" if a["detector_ms"] else "–")
        ui.text("hud-emotion", f"{a['emotion_ms']:.1f}" if a["emotion_ms"] else "–")
        ui.text("hud-python", f"{a['logic_ms']:.1f}")          # FrameLogic only (perf.FrameTimes)
        ui.text("hud-grab", f"{a['grab_ms']:.1f}" if a["grab_ms"] else "–")
        if force or now_ms - self._memory_at >= MEMORY_EVERY_MS:
            self._memory_at = now_ms
            for element_id, text in memory_texts(memory_figures()):
                ui.text(element_id, text)
