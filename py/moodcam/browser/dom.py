"""The page's DOM, seen from Python: element lookups and the state tests read.

DOM contract (stable; tests/e2e rely on it):
- <html data-app-state>: "loading" | "ready" | "running" | "paused" | "error"
- <html data-backend>: the active TF.js backend ("webgl" | "wasm" | "cpu")
- <html data-mood>: the calm mood label ("" before any, "none" when no face)
- <html data-frames>: frames processed so far; <html data-source>: "camera" | "photo"
- #mood-label, #prompt, #face-count, #face-list (one <li> per face when several)
- #overlay[data-faces]: JSON list of faces {box:[x0,y0,x1,y1] in source pixels, score, label, id}
- #overlay[data-parts]: face-parts mode (FaceMesh) JSON, moodcam.landmarks.bridge.overlay_data:
  {frame, frames, detector_runs, detector_fraction, ran_detector, mirrored, frame_width,
   faces: [{id, presence, source, tracked_frames, box, parts: [{name, label, color, fill_alpha,
   fill_rule, loops, lines}], key_points: [{name, x, y}]}]} in display pixels (mirrored like
   data-faces "box"); "" when the overlay is cleared
- <html data-mesh>: "on" while FaceMesh tracks the faces (face parts or mesh key points shown)
- #show-parts, #show-mesh-points: the two views' checkboxes; #parts-legend (hidden unless the
  face-parts view is on) > #parts-legend-list > li[data-part] (colour swatch + name)
- HUD: #hud-mesh (FaceMesh ms), #hud-detector-share (share of frames the detector ran)
- #error (hidden unless failing) with data-error-code, #error-message, #error-fix, #error-action
- #notice: non-fatal notes (e.g. the wasm fallback), #chain-result: the boot chain's result
- <html data-perf>: JSON of moving averages (ms): grab_ms (pixels -> tensors, frames that read any),
  detector_ms / emotion_ms (preprocessing + execute, frames they ran), transfer_ms (data() + numpy),
  logic_ms = python_ms (FrameLogic calls only), draw_ms, total_ms; plus frames, fps, dropped, proxies
  (browser.analyser.FrameTimes); the HUD shows fps, backend, detector, emotion, grab and Python ms
- <html data-mode>: "faces" | "custom" (?model=<name>: a custom detector, browser.custom documents
  #overlay[data-detections], #detecting, #detection-list, #model-select and the "model-unknown" error)
"""
from __future__ import annotations

import js

from .failures import Failure


def el(element_id: str):
    return js.document.getElementById(element_id)


def root():
    return js.document.documentElement


def set_data(name: str, value) -> None:
    setattr(root().dataset, name, str(value))


def set_state(state: str) -> None:
    set_data("appState", state)


def set_text(element_id: str, text: str) -> None:
    node = el(element_id)
    if node is not None and node.textContent != text:
        node.textContent = text


def progress(fraction: float, text: str) -> None:
    bar = el("load-progress")
    value = round(max(0.0, min(1.0, fraction)) * 100)
    bar.value = value
    bar.textContent = f"{value}%"
    set_text("load-stage", text)


def show_failure(failure: Failure, on_action=None) -> None:
    """Show a failure with its fix and, when given, a button that acts on it.

    `on_action` must be a long-lived proxy (owned by the caller's ProxyBag).
    """
    box = el("error")
    box.dataset.errorCode = failure.code
    set_text("error-message", failure.message)
    set_text("error-fix", failure.fix)
    action = el("error-action")
    if failure.action and on_action is not None:
        action.textContent = failure.action
        action.onclick = on_action
        action.hidden = False
    else:
        action.onclick = None
        action.hidden = True
    box.hidden = False
    if failure.fatal:
        set_state("error")


def clear_failure() -> None:
    box = el("error")
    box.hidden = True
    box.dataset.errorCode = ""
    action = el("error-action")
    action.onclick = None
    action.hidden = True


def show_notice(text: str) -> None:
    node = el("notice")
    set_text("notice", text)
    node.hidden = not text


def announce(text: str) -> None:
    """Say `text` once through the aria-live region (only call on a change)."""
    set_text("live", text)
