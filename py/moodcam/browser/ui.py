"""The page's DOM, seen from the engine: batched patches posted to app/page.js.

Python never touches the DOM itself (in the worker there is none): each call here
adds an op (moodcam.browser.messages.UI_OPS) and the batch is posted once per task
turn, so a frame costs one message. Values already on the page are not sent again.

DOM contract (stable; tests/e2e rely on it):
- <html data-app-state>: "loading" | "ready" | "running" | "paused" | "error"
- <html data-engine>: "worker" | "page" (app/boot.js); <html data-backend>: "webgl" | "wasm" | "cpu"
- <html data-mood>: the calm mood label ("" before any, "none" when no face); data-mood-state
- <html data-frames>: frames processed so far; <html data-source>: "camera" | "photo"
- <html data-clock>: how frames arrive (MediaStreamTrackProcessor | requestVideoFrameCallback |
  requestAnimationFrame)
- #mood-label, #prompt, #face-count, #face-list (one <li> per face when several)
- #overlay[data-faces]: JSON list of faces {box: [x0,y0,x1,y1] as drawn (mirrored with a selfie
  picture), source_box: the same in source pixels, score, label, top_label, id, index, primary}
- #overlay[data-parts]: face-parts JSON (moodcam.landmarks.bridge.overlay_data), "" when cleared;
  <html data-mesh>: "on" while FaceMesh tracks the faces
- #parts-legend > #parts-legend-list > li[data-part]; HUD: #hud-* figures
- #error (hidden unless failing) with data-error-code, #error-message, #error-fix, #error-action
  (its data-action: a failures.Action value)
- #notice: non-fatal notes; <html data-perf>: JSON of moving averages (perf.PerfMeter)
- <html data-mode>: "faces" | "custom" (custom_mode documents its own parts)
- a video file (browser.video, browser.video_view): <html data-video-state>: "idle" | "analysing" |
  "done" | "cancelled" | "error"; <html data-video-progress>: 0 to 1 (three decimals);
  <html data-source> "video" while its frames are shown; #video-file: the file input (accept
  video/*); #video-panel with #video-name, #video-progress, #video-progress-text, #video-cancel;
  #video-confirm (role alertdialog, hidden unless asking): shown when another video is chosen
  during an analysis, with #video-confirm-text, #video-confirm-keep (has the focus; Escape too) and
  #video-confirm-switch; #video-report (hidden until an analysis ends): #video-summary,
  #video-faces (a table, one body row tr[data-face] per tracked face: a button "Face N" with
  aria-pressed for the chosen face, its thumbnail <img> (a PNG data URL), first seen, last seen,
  share of each mood, mood strip), #video-group, #video-legend; the strips (.strip) carry
  data-seek-from/-to (s): a click is a moment; #video-chart-section: #video-chart-title,
  #video-chart[data-face] (the chosen face) holding an <svg> with one path[data-label] per class
  and a .seek-area (data-seek-from/-to), #video-chart-legend, #video-chart-table (the same as a
  table; each time a button[data-seek-time]); #video-preview-figure (hidden until a moment is
  clicked): #video-preview (a <video> of the file; data-time: the analysed frame's media time,
  data-faces: JSON [{id, box: [x0,y0,x1,y1] analysed-frame px, label}]), #video-preview-boxes
  (an <svg>, one rect[data-face] per face), #video-preview-text; #video-export-csv,
  #video-export-summary, #video-export-json: each starts a download (the "download" message); a
  file that cannot be decoded: #error with data-error-code "video"
"""
from __future__ import annotations

import asyncio
from typing import Any

from .failures import Failure
from .messages import Post, UiMessage, check_op


# What a notice, an announcement or an error's line may hold: a person reads it, a screen reader says it
# (a 1 MB label list once became a 750 KB error). Names and details inside are cut before this too.
MAX_TEXT = 400


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Ui:
    def __init__(self, post: Post) -> None:
        self._post = post
        self._ops: list[list] = []
        self._shown: dict[tuple, Any] = {}
        self._flush_scheduled = False

    # -- batching ------------------------------------------------------------------------
    def op(self, *op: Any, key: tuple | None = None) -> None:
        """Queue one op; with `key`, skip it when the page already shows that value."""
        if key is not None:
            if self._shown.get(key, _MISSING) == op[-1]:
                return
            self._shown[key] = op[-1]
        self._ops.append(check_op(list(op)))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            try:
                asyncio.get_event_loop().call_soon(self.flush)
            except RuntimeError:   # no event loop (CPython tests): the caller flushes
                self._flush_scheduled = False

    def flush(self) -> None:
        self._flush_scheduled = False
        if self._ops:
            ops, self._ops = self._ops, []
            self._post(UiMessage(ops))

    # -- the ops, by what they mean ----------------------------------------------------------
    def text(self, element_id: str, text: str) -> None:
        self.op("text", element_id, str(text), key=("text", element_id))

    def data(self, name: str, value: Any) -> None:
        self.op("data", name, str(value), key=("data", name))

    def el_data(self, element_id: str, name: str, value: str) -> None:
        self.op("eldata", element_id, name, value, key=("eldata", element_id, name))

    def hidden(self, element_id: str, hidden: bool) -> None:
        self.op("hidden", element_id, bool(hidden), key=("hidden", element_id))

    def prop(self, element_id: str, name: str, value: Any) -> None:
        self.op("prop", element_id, name, value, key=("prop", element_id, name))

    def style(self, element_id: str, prop: str, value: str) -> None:
        self.op("style", element_id, prop, value, key=("style", element_id, prop))

    def toggle_class(self, element_id: str, name: str, on: bool) -> None:
        self.op("cls", element_id, name, bool(on), key=("cls", element_id, name))

    def items(self, element_id: str, texts: list[str]) -> None:
        self.op("items", element_id, list(texts), key=("items", element_id))

    def options(self, element_id: str, options: list[list[str]], selected: str) -> None:
        self.op("options", element_id, options, selected)

    def legend(self, element_id: str, entries: list[dict]) -> None:
        self.op("legend", element_id, entries)

    def focus(self, element_id: str) -> None:
        self.op("focus", element_id)

    def progress(self, fraction: float, text: str) -> None:
        self.op("progress", max(0.0, min(1.0, float(fraction))), text)

    def state(self, state: str) -> None:
        self.data("appState", state)

    def notice(self, text: str) -> None:
        self.text("notice", bounded(text))
        self.hidden("notice", not text)

    def announce(self, text: str) -> None:
        """Say `text` once through the aria-live region (only call on a change)."""
        self.text("live", bounded(text))

    def show_failure(self, failure: Failure) -> None:
        self.el_data("error", "errorCode", failure.code)
        self.text("error-message", bounded(failure.message))
        self.text("error-fix", bounded(failure.fix))
        if failure.action is not None:
            self.text("error-action", failure.action_label)
            self.el_data("error-action", "action", failure.action.value)
        self.hidden("error-action", failure.action is None)
        self.hidden("error", False)
        if failure.fatal:
            self.state("error")

    def clear_failure(self) -> None:
        self.hidden("error", True)
        self.el_data("error", "errorCode", "")
        self.hidden("error-action", True)


_MISSING = object()
