"""Custom-detector mode: a detector trained with `build.py train-detector`, chosen in the page.

`?model=<name>` (or the "Detect" select, stored in the settings) picks any
models/manifest.json entry with ``task: "object_detection"``. The model's files
are fetched and sha256-checked against the manifest like every other model
(browser.models); its raw outputs are decoded by the same Python as BlazeFace's
(moodcam.detection: SSD anchors, decoding and hard NMS, with the spec the
manifest entry describes, moodcam.detection.spec). Emotion and mood are off in
this mode; the page says what it detects, and draws each box with its class and
score.

DOM (besides the face mode's contract, browser.dom):
- <html data-mode>: "faces" | "custom"; <html data-model>: the custom model's name
- #overlay[data-detections]: JSON [{label, score, box:[x0,y0,x1,y1] as drawn (mirrored with
  the picture), source_box: the same in unmirrored source pixels}]
- #detecting: what the page detects; #detection-list: one <li> per object ("circle 97%")
- #model-select: "" (faces) + one option per custom detector
- a name the manifest does not know: #error with data-error-code "model-unknown", naming the
  model and listing the available ones (action: detect faces instead)
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import js
import numpy as np
from pyodide.ffi import to_js

from ..detection.letterbox import Letterbox
from ..detection.pipeline import FaceDetectorPostprocess
from ..detection.spec import EntryError, detector_names, entry_labels, is_detector_entry, spec_from_entry
from ..geometry.crop import mirror_boxes
from ..mood.presentation import OKABE_ITO
from . import dom, failures
from .analyser import FrameTimes, _Clock, _norm, _output_tensor
from .frames import FrameReader
from .interop import tf, tf_scope, to_numpy_async
from .models import LoadedModel, ModelError, fetch_verified, load_manifest, manifest_models
from .render import Renderer
from .settings import FACES, Settings

FACES_OPTION = "faces (BlazeFace)"
# Okabe-Ito colours for the classes, in label order (black is the under-stroke).
CLASS_COLOURS = ("orange", "sky_blue", "bluish_green", "yellow", "blue", "vermillion", "reddish_purple")


def available(models: dict) -> list[str]:
    return detector_names(models)


def unknown_model_failure(name: str, models: dict):
    return failures.unknown_model(name, [FACES_OPTION, *available(models)])


# == the page's model select ==============================================================
def fill_model_select(models: dict, chosen: str) -> None:
    """Options: faces + every custom detector of the manifest; the current choice selected."""
    select = dom.el("model-select")
    if select is None:
        return
    select.replaceChildren()
    for value, text in [(FACES, FACES_OPTION)] + [(n, n) for n in available(models)]:
        option = js.document.createElement("option")
        option.value = value
        option.textContent = text
        select.appendChild(option)
    select.value = chosen if chosen == FACES or chosen in models else FACES


def url_with_model(href: str, name: str) -> str:
    """The page's address with ?model=<name> set (faces: the parameter removed)."""
    url = js.URL.new(href)
    if name == FACES:
        url.searchParams.delete("model")
    else:
        url.searchParams.set("model", name)
    return str(url.href)


def go_to_model(name: str) -> None:
    """Reload the page in the chosen mode (models and the frame loop differ too much to swap live)."""
    js.location.assign(url_with_model(str(js.location.href), name))


def wire_model_select(app) -> None:
    def on_change(event) -> None:
        name = str(event.target.value)
        app._update_settings(model=name)
        go_to_model(name)
    select = dom.el("model-select")
    if select is not None:
        app.bag.listen(select, "change", on_change)


# == per frame ==============================================================================
@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]          # as drawn (mirrored with the picture)
    source_box: tuple[float, float, float, float]   # unmirrored source pixels

    def to_dict(self) -> dict:
        return {"label": self.label, "score": round(self.score, 3),
                "box": [round(v, 1) for v in self.box], "source_box": [round(v, 1) for v in self.source_box]}


@dataclass(frozen=True)
class CustomResult:
    frame_index: int
    timestamp_ms: float
    detections: tuple[Detection, ...]
    faces: tuple = ()                  # the face mode's FrameResult fields the app reads
    events: tuple = ()


class CustomAnalyser:
    """The Analyser interface (reset / reconfigure / analyse / times) for one custom detector."""

    def __init__(self, model: LoadedModel, reader: FrameReader, settings: Settings, mirror: bool = False) -> None:
        self.model = model
        self.entry = model.spec
        self.reader = reader
        self.labels = entry_labels(self.entry)
        self.scale, self.offset = _norm(self.entry)
        self.outputs = to_js([_output_tensor(self.entry, "regressors"), _output_tensor(self.entry, "classificators")])
        self.logic = None              # no FrameLogic: no tracking, votes or mood in this mode
        self.mesh = None
        self.mesh_on = False
        self.times = FrameTimes()
        self._letterbox: Letterbox | None = None
        self._frame_index = -1
        self.reconfigure(settings, mirror)

    def reset(self, settings: Settings, mirror: bool, start_ms: float = 0.0) -> None:
        self.reconfigure(settings, mirror)

    def reconfigure(self, settings: Settings, mirror: bool) -> None:
        self.mirror = mirror
        self.spec = spec_from_entry(self.entry, min_score=settings.threshold)
        self.post = FaceDetectorPostprocess(self.spec)

    def letterbox(self, width: int, height: int) -> Letterbox:
        lb = self._letterbox
        if lb is None or lb.source_size != (float(width), float(height)):
            tw, th = self.spec.input_size
            lb = self._letterbox = Letterbox.fit(width, height, tw, th, round_padding=True)
        return lb

    async def analyse(self, source, width: int, height: int, timestamp_ms: float) -> CustomResult:
        t0 = time.perf_counter()
        times = FrameTimes()
        clock = _Clock(times)
        self._frame_index += 1
        lb = self.letterbox(width, height)
        with tf_scope("custom"):
            with clock("grab_ms"):
                pixels = self.reader.letterboxed(source, width, height, lb)
            with clock("detector_ms"):
                x = self.reader.normalise(pixels, self.scale, self.offset)
                outs = self.model.graph.execute(x, self.outputs)
                regressors, classificators = tf.keep(outs[0]), tf.keep(outs[1])
        try:
            with clock("transfer_ms"):
                raw_boxes = await to_numpy_async(regressors)
                raw_scores = await to_numpy_async(classificators)
        finally:
            regressors.dispose()
            classificators.dispose()
        with clock("logic_ms"):
            det = self.post(raw_boxes, raw_scores, lb)
            boxes = det.boxes.astype(np.float64)
            shown = mirror_boxes(boxes, width) if self.mirror and len(boxes) else boxes
            labels = det.labels if det.labels is not None else np.zeros(len(det), np.int64)
            found = tuple(Detection(self.labels[int(c)], float(s), tuple(float(v) for v in b),
                                    tuple(float(v) for v in sb))
                          for c, s, b, sb in zip(labels, det.scores, shown, boxes))
        times.total_ms = 1000 * (time.perf_counter() - t0)
        self.times = times
        return CustomResult(self._frame_index, float(timestamp_ms), found)


@dataclass
class CustomRenderer(Renderer):
    """Draws labelled boxes; the mood parts of the page stay off."""

    labels: tuple[str, ...] = ()
    _det_key: str = ""
    _colours: dict = field(default_factory=dict)

    def colour(self, label: str) -> str:
        if label not in self._colours:
            i = self.labels.index(label) if label in self.labels else len(self._colours)
            self._colours[label] = OKABE_ITO[CLASS_COLOURS[i % len(CLASS_COLOURS)]]
        return self._colours[label]

    def show_mood(self, snap) -> None:     # no mood in this mode
        return

    def clear_overlay(self) -> None:
        super().clear_overlay()
        self.canvas.dataset.detections = "[]"
        self._det_key = ""

    def show(self, result: CustomResult, source_size: tuple[int, int]) -> None:
        w, h = source_size
        if self._overlay_size != (w, h):
            self.canvas.width, self.canvas.height = w, h
            self._overlay_size = (w, h)
        ctx = self._ctx
        ctx.clearRect(0, 0, w, h)
        line = max(2.0, w / 240)
        if self.show_boxes:
            ctx.font = f"bold {round(line * 7)}px system-ui, sans-serif"
            for d in result.detections:
                x0, y0, x1, y1 = d.box
                ctx.lineWidth = line
                ctx.strokeStyle = "#000000"
                ctx.strokeRect(x0, y0, x1 - x0, y1 - y0)
                ctx.lineWidth = line * 0.6
                ctx.strokeStyle = self.colour(d.label)
                ctx.strokeRect(x0, y0, x1 - x0, y1 - y0)
                text = caption(d)
                tag_h = line * 9
                ty = y0 - tag_h if y0 - tag_h >= 0 else y0      # inside the box when at the top edge
                ctx.fillStyle = "#000000"
                ctx.fillRect(x0, ty, ctx.measureText(text).width + line * 2, tag_h)
                ctx.fillStyle = "#FFFFFF"
                ctx.fillText(text, x0 + line, ty + tag_h - line * 2)
        self._list(result)

    def _list(self, result: CustomResult) -> None:
        text = json.dumps([d.to_dict() for d in result.detections])
        if text == self._det_key:
            return
        self._det_key = text
        self.canvas.dataset.detections = text
        self.canvas.dataset.faces = "[]"
        dom.set_text("detection-count", str(len(result.detections)))
        items = dom.el("detection-list")
        items.replaceChildren()
        for d in sorted(result.detections, key=lambda d: (d.box[0], d.box[1])):
            li = js.document.createElement("li")
            li.textContent = caption(d)
            items.appendChild(li)


def caption(d: Detection) -> str:
    return f"{d.label} {round(100 * d.score)}%"


# == boot =====================================================================================
async def boot_custom(app) -> bool:
    """App.boot for custom-detector mode (after the backend started). False when it cannot run."""
    name = app.settings.model
    dom.set_data("mode", "custom")
    dom.set_data("model", name)
    dom.progress(0.72, f"Loading the {name} model…")
    base = app.base + app.site.get("models", "models/")
    try:
        models = manifest_models(await load_manifest(base))
        app.manifest = models
        fill_model_select(models, name)
        entry = models.get(name)
        if entry is None or not is_detector_entry(entry):
            app.fail(unknown_model_failure(name, models) if entry is None
                     else failures.not_a_detector(name, str(entry.get("task", "?")), [FACES_OPTION, *available(models)]))
            dom.set_state("ready")
            return False
        try:
            spec_from_entry(entry)
        except EntryError as error:
            raise ModelError(failures.manifest_problem(f"{name} is not a decodable detector ({error})")) from None
        spec = dict(entry)
        spec["files"] = [f for f in spec["files"] if f.get("role") in ("graph", "weights")]
        app.models = {name: await fetch_verified(base, name, spec)}
        await app._build_graphs()
    except ModelError as error:
        app.fail(error.failure)
        return False
    labels = entry_labels(entry)
    app.analyser = CustomAnalyser(app.models[name], app.reader, app.settings)
    renderer = CustomRenderer(app.settings.show_boxes, app.settings.show_keypoints, labels=labels)
    renderer.mirrored = app.renderer.mirrored
    app.renderer = renderer
    show_mode(name, labels, entry)
    return True


def show_mode(name: str, labels, entry: dict) -> None:
    """Say on the page what it detects now (the mood parts are hidden by CSS in this mode)."""
    summary = str(entry.get("summary", "")).strip()
    dom.set_text("detecting-title", f"Detecting: {', '.join(labels)}")
    dom.set_text("detecting-note", f"Custom detector “{name}”" + (f" ({summary})" if summary else "")
                 + ". Mood reading is off in this mode; choose “faces” under Detect to turn it back on.")
    dom.el("detecting").hidden = False
