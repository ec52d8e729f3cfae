"""The messages between the page (app/page.js, app/camera.js) and the engine (Python + TF.js).

The engine runs in a dedicated worker (app/worker.js), or on the page itself where the
browser lacks what the worker needs (app/boot.js says which in <html data-engine>); the
messages are the same either way. Pure Python: no JS here, so the table is testable.

Page -> engine
==============
| type         | fields                                                     | meaning |
|--------------|------------------------------------------------------------|---------|
| start        | site, base, href, params, stored, engine, hidden, bench, canvases {overlay, still, bars, timeline} | boot Python (first message; canvases are OffscreenCanvases in the worker) |
| camera       | event: opened {width, height, facing, transport, frames, clock, cameras} / failed {error {name, message}} / ended / frame-failed | what the camera did |
| frame        | bitmap, width, height                                       | one camera frame (transport "bitmap") |
| control      | name (a Settings field), value                              | a control changed |
| command      | name: start-stop / switch-camera / save-session / action (+ action: an Action value) | a button |
| photo        | file, name                                                  | analyse this photo |
| visibility   | hidden                                                      | the page was hidden / shown |
| query        | id, what: diagnostics / bench                               | figures for tests and bench/ |
| teach        | cmd: start {moods} / record / cancel / accept {name} / discard | teach mode (browser.teach_panel) |
| calibration  | cmd: use {id} / rename {id, name} / delete {id} / export {id} / import {file, name} | stored calibrations (browser.calibrations); id "" = the generic net |

Engine -> page
==============
| type    | fields                                          | meaning |
|---------|-------------------------------------------------|---------|
| ui      | ops: [[op, ...args], ...]  (UI_OPS below)        | DOM patches, applied in order |
| camera  | cmd: open {facing, clock} / close / frame         | open or close the camera; send one frame |
| store   | key, value                                       | keep in localStorage |
| go      | cmd: reload / navigate {href} / pick-photo        | what only the page can do |
| download | name, mime, text                                | save a file made on this device (Save session) |
| reply   | id, json                                         | the answer to a query |
| fatal   | code, detail                                     | the engine could not boot (app/engine.js) |
"""
from __future__ import annotations

# op name -> its arguments (app/page.js applies them; ids are element ids).
UI_OPS = {
    "text": ("id", "text"),
    "data": ("key", "value"),                  # <html data-KEY>
    "eldata": ("id", "key", "value"),          # #id[data-KEY]
    "hidden": ("id", "hidden"),
    "prop": ("id", "name", "value"),           # value, checked, disabled, title, min, max, step
    "attr": ("id", "name", "value"),
    "style": ("id", "property", "value"),      # style.setProperty (CSS custom properties)
    "cls": ("id", "class", "on"),
    "items": ("id", "texts"),                  # a list's <li>s
    "options": ("id", "options", "selected"),  # a <select>'s options: [[value, text], ...]
    "legend": ("id", "entries"),               # face-parts legend: [{name, label, color}]
    "progress": ("fraction", "text"),          # the loading bar
}

PAGE_TO_ENGINE = ("start", "camera", "frame", "control", "command", "photo", "visibility", "query", "teach",
                  "calibration")
ENGINE_TO_PAGE = ("ui", "camera", "store", "go", "download", "reply", "fatal")
CAMERA_EVENTS = ("opened", "failed", "ended", "frame-failed")
COMMANDS = ("start-stop", "switch-camera", "save-session", "action")
QUERIES = ("diagnostics", "bench")
TEACH_COMMANDS = ("start", "record", "cancel", "accept", "discard")
CALIBRATION_COMMANDS = ("use", "rename", "delete", "export", "import")


def check_op(op: list) -> list:
    """`op` unchanged if it is a known op with the right number of arguments, else ValueError."""
    if not op or op[0] not in UI_OPS:
        raise ValueError(f"unknown ui op {op[:1]!r}; known: {', '.join(UI_OPS)}")
    if len(op) - 1 != len(UI_OPS[op[0]]):
        raise ValueError(f"ui op {op[0]!r} takes {UI_OPS[op[0]]}, got {len(op) - 1} arguments")
    return op
