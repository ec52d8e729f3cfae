"""Showing a FrameResult: overlay (boxes, key points, labels), mood frame, text, HUD.

DOM writes are kept to what changed: the mood frame colour, prompt and label
only change on a state/mood change (the CSS transition does the easing), the
HUD is refreshed a few times a second, the overlay every processed frame.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import js
import numpy as np

from ..geometry.crop import mirror_boxes
from ..mood.presentation import OKABE_ITO, PRESENTATIONS, presentation_for
from ..pipeline import FrameResult
from . import dom

HUD_EVERY_MS = 250.0


def face_caption(face, index: int) -> str:
    """'Face 1: Happy 93%' / 'Face 2: reading…' for the per-face labels."""
    if face.label is not None:
        name = PRESENTATIONS[face.label].name if face.label in PRESENTATIONS else face.label
        return f"Face {index}: {name} {round(100 * face.probability)}%"
    if face.top_label is not None:
        name = PRESENTATIONS[face.top_label].name if face.top_label in PRESENTATIONS else face.top_label
        return f"Face {index}: maybe {name.lower()}"
    return f"Face {index}: reading…"


@dataclass
class Renderer:
    show_boxes: bool = True
    show_keypoints: bool = True
    mirrored: bool = False
    _shown_key: tuple = ()
    _faces_key: str = ""
    _hud_at: float = -1e9
    _fps: float = 0.0
    _last_t: float | None = None
    _overlay_size: tuple[int, int] = (0, 0)
    _ctx: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.canvas = dom.el("overlay")
        self._ctx = self.canvas.getContext("2d")

    # -- per frame ---------------------------------------------------------------------
    def show(self, result: FrameResult, source_size: tuple[int, int]) -> None:
        self.show_mood(result.mood)
        self._overlay(result, source_size)
        self._faces(result, source_size)

    def clear_overlay(self) -> None:
        w, h = self._overlay_size
        self._ctx.clearRect(0, 0, w, h)
        self.canvas.dataset.faces = "[]"
        self.canvas.dataset.parts = ""      # face parts (browser.render_parts) are gone too
        self._faces_key = ""

    def show_mood(self, snap) -> None:
        """Mood frame colour, label, prompt and announcement for a MoodSnapshot."""
        key = (snap.state, snap.mood)
        if key == self._shown_key:
            return
        first = not self._shown_key
        self._shown_key = key
        p = presentation_for(snap)
        dom.set_data("moodState", snap.state)
        dom.set_data("mood", snap.mood or "")
        dom.el("stage").style.setProperty("--mood-colour", p.color)
        dom.set_text("mood-label", f"{p.symbol} {p.name}")
        dom.set_text("prompt", p.prompt)
        # Announce real changes once (not the first "Starting"), for screen readers.
        if not first:
            dom.announce(f"Mood: {p.name}. {p.prompt}")

    def _overlay(self, result: FrameResult, source_size: tuple[int, int]) -> None:
        w, h = source_size
        if self._overlay_size != (w, h):
            self.canvas.width, self.canvas.height = w, h
            self._overlay_size = (w, h)
        ctx = self._ctx
        ctx.clearRect(0, 0, w, h)
        if not result.faces or not (self.show_boxes or self.show_keypoints):
            return
        line = max(2.0, w / 240)
        several = len(result.faces) > 1
        for i, face in enumerate(result.faces, start=1):
            colour = PRESENTATIONS[face.label].color if face.label in PRESENTATIONS else OKABE_ITO["sky_blue"]
            x0, y0, x1, y1 = (float(v) for v in face.box)
            if self.show_boxes:
                ctx.lineWidth = line
                ctx.strokeStyle = "#000000"
                ctx.strokeRect(x0, y0, x1 - x0, y1 - y0)          # dark under-stroke: visible on any picture
                ctx.lineWidth = line * 0.6
                ctx.strokeStyle = colour
                ctx.strokeRect(x0, y0, x1 - x0, y1 - y0)
            if self.show_keypoints:
                ctx.fillStyle = OKABE_ITO["yellow"]
                r = line * 1.2
                for x, y in np.asarray(face.keypoints, dtype=float):
                    ctx.beginPath()
                    ctx.arc(float(x), float(y), r, 0, 6.2832)
                    ctx.fill()
            if several and self.show_boxes:
                ctx.font = f"bold {round(line * 7)}px system-ui, sans-serif"
                text = face_caption(face, i)
                ctx.fillStyle = "#000000"
                ctx.fillRect(x0, max(0.0, y0 - line * 9), ctx.measureText(text).width + line * 2, line * 9)
                ctx.fillStyle = "#FFFFFF"
                ctx.fillText(text, x0 + line, max(line * 7, y0 - line * 2))

    def _faces(self, result: FrameResult, source_size: tuple[int, int]) -> None:
        faces = []
        for i, f in enumerate(result.faces, start=1):
            box = np.asarray(f.box, dtype=float)
            source_box = mirror_boxes(box[None, :], source_size[0])[0] if self.mirrored else box
            faces.append({"id": f.id, "index": i, "box": [round(float(v), 1) for v in box],
                          "source_box": [round(float(v), 1) for v in source_box],
                          "score": round(float(f.score), 3), "label": f.label, "top_label": f.top_label,
                          "primary": f.primary})
        text = json.dumps(faces)
        if text == self._faces_key:
            return
        self._faces_key = text
        self.canvas.dataset.faces = text
        dom.set_text("face-count", str(len(faces)))
        items = dom.el("face-list")
        captions = [face_caption(f, i) for i, f in enumerate(result.faces, start=1)] if len(faces) > 1 else []
        if [str(li.textContent) for li in items.children] != captions:
            items.replaceChildren()
            for c in captions:
                li = js.document.createElement("li")
                li.textContent = c
                items.appendChild(li)

    # -- HUD ---------------------------------------------------------------------------
    def hud(self, now_ms: float, times, backend: str, force: bool = False) -> None:
        if self._last_t is not None and now_ms > self._last_t:
            inst = 1000.0 / (now_ms - self._last_t)
            self._fps = inst if self._fps == 0 else 0.9 * self._fps + 0.1 * inst
        self._last_t = now_ms
        if not force and now_ms - self._hud_at < HUD_EVERY_MS:
            return
        self._hud_at = now_ms
        dom.set_text("hud-fps", f"{self._fps:.1f}")
        dom.set_text("hud-backend", backend)
        dom.set_text("hud-detector", f"{times.detector_ms:.1f}" if times.detector_ms else "–")
        dom.set_text("hud-emotion", f"{times.emotion_ms:.1f}" if times.emotion_ms else "–")
        dom.set_text("hud-python", f"{times.python_ms:.1f}")   # FrameLogic only (analyser.FrameTimes)
        grab = getattr(times, "grab_ms", 0.0)
        dom.set_text("hud-grab", f"{grab:.1f}" if grab else "–")
