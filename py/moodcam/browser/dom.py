"""The page's DOM, seen from Python: element lookups and the state tests read.

DOM contract (stable; tests/e2e rely on it):
- <html data-app-state>: "loading" | "ready" | "running" | "paused" | "error"
- <html data-backend>: the active TF.js backend ("webgl" | "wasm" | "cpu")
- <html data-mood>: the calm mood label ("" before any, "none" when no face)
- <html data-frames>: frames processed so far; <html data-source>: "camera" | "photo"
- #mood-label, #prompt, #face-count, #face-list (one <li> per face when several)
- #overlay[data-faces]: JSON list of faces {box:[x0,y0,x1,y1] in source pixels, score, label, id}
- #error (hidden unless failing) with data-error-code, #error-message, #error-fix, #error-action
- #notice: non-fatal notes (e.g. the wasm fallback), #chain-result: the boot chain's result
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
